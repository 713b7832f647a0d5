"""The truth corpus: real files nobody here wrote, found on this machine at test time
(Debian's ``/usr/share`` and ``/usr/include``, the standard library, the installed
packages' own files), picked per kind, the same picks on every run of one machine."""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Iterator
from pathlib import Path

# where real files are looked for, in this order
ROOTS = [
    Path("/usr/share"),
    Path("/usr/include"),
    Path(sysconfig.get_paths()["stdlib"]),
    Path("/usr/lib/python3/dist-packages"),
    Path(sysconfig.get_paths()["purelib"]),
    Path.home() / ".m2",  # Maven's jars, where a Java tool chain left them
    # research formats this machine's folders lack: Debian packages' example data and
    # sdists' test files, unpacked (never installed) by `make samples` (tests/samples.sh)
    Path(__file__).resolve().parents[2] / ".cache" / "samples",
]
MAX_BYTES = 16 << 20  # a truth check reads the whole file with the reference reader
PER_KIND = int(os.environ.get("XTRACT_TRUTH_PER_KIND", "12"))  # `make truth`: 100


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_symlink():
                continue
            try:
                if 0 < path.stat().st_size <= MAX_BYTES:
                    yield path
            except OSError:
                continue


_INDEX: dict[str, list[Path]] | None = None


def _index() -> dict[str, list[Path]]:
    """Every regular file under the roots, by its lower-case suffix (``.gz`` of
    ``x.1.gz`` under ``gz``)."""
    global _INDEX
    if _INDEX is None:
        found: dict[str, list[Path]] = {}
        for root in ROOTS:
            if root.is_dir():
                for path in _walk(root):
                    found.setdefault(path.suffix.lower().lstrip("."), []).append(path)
        _INDEX = found
    return _INDEX


def files_of(
    *suffixes: str, n: int | None = None, where: str = "", distinct: int = 0
) -> list[Path]:
    """Up to ``n`` files with one of ``suffixes`` (and ``where`` in their path), spread
    evenly over all there are, so one package's files do not fill the sample; with
    ``distinct``, one file per first ``distinct`` characters of the name (a thousand
    ``gcloud_*`` pages count once)."""
    found = sorted(p for s in suffixes for p in _index().get(s, []) if where in str(p))
    if distinct:
        firsts: dict[str, Path] = {}
        for p in found:
            firsts.setdefault(p.name[:distinct], p)
        found = sorted(firsts.values())
    n = PER_KIND if n is None else n
    if len(found) <= n:
        return found
    step = len(found) / n
    return [found[int(i * step)] for i in range(n)]


def python_files(n: int | None = None) -> list[Path]:
    """Python sources this interpreter can parse (the stdlib's test data holds broken
    ones on purpose)."""
    n = PER_KIND if n is None else n
    out = []
    for path in files_of("py", n=n * 3):
        if "test" in path.parts or "tests" in path.parts or "bad" in path.name:
            continue
        out.append(path)
    return out[:n]
