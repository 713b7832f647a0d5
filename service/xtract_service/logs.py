"""Where the service's processes log. Each role supervised by ``xtract serve`` (and the
API) writes everything, libraries' records included (Parsl, Globus, uvicorn), with
tracebacks, to ``{home}/logs/{role}.log`` (rotated at 20 MB, three kept). The terminal
``xtract serve`` runs in gets only Xtract's own warnings and errors, one line each,
pointing at the file when there is a traceback; ``xtract serve -v`` (``XTRACT_VERBOSE=1``
in the roles' environment) shows everything there too.

Several processes of one role (``XTRACT_ORCHESTRATORS=2``) share its file; a rotation
while another writes may lose that process's lines until it opens the new file.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

OURS = ("xtract_service", "xtract_extractors", "xtract_sdk", "__main__")
FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
MAX_BYTES = 20 << 20


class _OneLine(logging.Formatter):
    """A record as one line; a traceback is left to the log file, which it names."""

    def __init__(self, where: Path) -> None:
        super().__init__()
        self.where = where

    def format(self, record: logging.LogRecord) -> str:
        line = f"xtract {record.levelname.lower()}: {record.getMessage()}"
        if record.exc_info:
            line += f" (traceback in {self.where})"
        return line.replace("\n", " ")


def _ours(record: logging.LogRecord) -> bool:
    return record.name.split(".", 1)[0] in OURS


def configure(home: Path, role: str, verbose: bool | None = None) -> Path:
    """Send this process's logging to ``home/logs/{role}.log`` and, briefly, to the
    terminal; returns the file's path."""
    if verbose is None:
        verbose = os.environ.get("XTRACT_VERBOSE") == "1"
    folder = home / "logs"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{role}.log"
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.setLevel(logging.INFO)
    to_file = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=3)
    to_file.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(to_file)
    console = logging.StreamHandler(sys.stderr)
    if verbose:
        console.setFormatter(logging.Formatter(FORMAT))
        console.setLevel(logging.INFO)
    else:
        console.setLevel(logging.WARNING)
        console.addFilter(_ours)
        console.setFormatter(_OneLine(path))
    root.addHandler(console)
    logging.captureWarnings(True)  # warnings.warn from libraries: to the file
    return path
