"""The ``xtract`` command line. Commands live by audience: :mod:`.service_commands`
(run the service and its workers), :mod:`.client_commands` (drive crawls through the
SDK), :mod:`.extractor_commands` (try extractors on files); :mod:`.render` shows
results as text.

Exit codes: 0 success, 1 the run failed (or the service refused), 2 usage error.
"""

from __future__ import annotations

from xtract_service.cli import client_commands, extractor_commands, service_commands
from xtract_service.cli.app import app

__all__ = ["app", "client_commands", "extractor_commands", "main", "service_commands"]


def main() -> None:
    """Console entry point; click's usage errors exit 2."""
    app()
