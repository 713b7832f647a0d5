"""Extractors on files nobody here wrote: data shipped with Debian and with the
installed packages. Each check is a true value read off the file by other means."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy

from xtract_extractors import IsolatedRunner

DISTRO_INFO = Path("/usr/share/distro-info")
NUMPY_DATA = Path(numpy.__file__).parent / "_core" / "tests" / "data"


def run(name: str, path: Path) -> dict:
    with IsolatedRunner(time_limit=60) as r:
        md = r.run(name, [str(path)])
    assert "error" not in md, md
    return md


def test_the_distro_info_csvs_keep_their_headers_and_dates() -> None:
    for name in ("ubuntu.csv", "debian.csv"):
        path = DISTRO_INFO / name
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        md = run("tabular", path)
        assert md["header"] is True and md["preamble_lines"] == 0, name
        assert [c["name"] for c in md["column_profiles"]] == rows[0]
        assert md["rows"] == len(rows) - 1
        created = next(c for c in md["column_profiles"] if c["name"] == "created")
        assert created["type"] == "date"
        assert created["min"] == min(r[3] for r in rows[1:])
        assert md["date_format"] == "%Y-%m-%d"


def test_numpy_csv_comment_lines_are_not_rows() -> None:
    path = NUMPY_DATA / "umath-validation-set-cos.csv"
    lines = path.read_text().splitlines()
    records = [ln for ln in lines[1:] if ln.strip() and not ln.startswith("#")]
    assert len(records) < len(lines) - 1  # the file has comment lines to skip
    md = run("tabular", path)
    assert md["comment"] == "#" and md["header"] is True
    assert md["rows"] == len(records)
    assert [c["name"] for c in md["column_profiles"]] == lines[0].split(",")
