"""Hostile files: each gives an error record or partial metadata with a warning, inside
the time limit, and never a dead runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import write_long_line_csv
from xtract_extractors import IsolatedRunner, extract_file, is_error_record

# file -> (extractor forced on it, what must come back: "error:<kind>", "warning", or
# "step:<kind>": the facts of the steps that worked, and the failed step's kind)
CASES = {
    "empty.csv": ("tabular", "warning"),
    "empty.json": ("jsonxml", "error:invalid_json"),
    "garbage.csv": ("tabular", "error:not_a_table"),
    "truncated.png": ("images", "step:unreadable_content"),  # its header still read
    "truncated.h5": ("hdf5", "error:unreadable_content"),
    "not_hdf5.h5": ("hdf5", "error:unreadable_content"),
    "not_netcdf.nc": ("netcdf", "error:unreadable_content"),
    "deep.json": ("jsonxml", "warning"),
    "laughs.xml": ("jsonxml", "error:xml_entities_forbidden"),
    "external.xml": ("jsonxml", "error:xml_entities_forbidden"),
    "latin1.txt": ("keyword", "warning"),
    "broken.py": ("python", "warning"),
    "encrypted.pdf": ("pdf", "warning"),
    "looping.pdf": ("pdf", "error:invalid_pdf"),
    "wrong_magic.pdf": ("pdf", "error:invalid_pdf"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_gives_an_error_record_or_a_warning(
    hostile: dict[str, Path], runner: IsolatedRunner, name: str
) -> None:
    extractor, expect = CASES[name]
    result = runner.run(extractor, [str(hostile[name])])
    if expect == "warning":
        assert not is_error_record(result), result
        assert result["warnings"], result
    elif expect.startswith("step:"):
        assert not is_error_record(result), result
        assert result["step_errors"][0]["error"] == expect.split(":", 1)[1], result
    else:
        assert is_error_record(result), result
        assert result["extractor"] == extractor
        assert result["error"] == expect.split(":", 1)[1], result
        assert result["message"]


def test_every_hostile_file_is_accounted_for_by_the_pipeline(
    hostile: dict[str, Path], runner: IsolatedRunner
) -> None:
    for name, path in hostile.items():
        doc = extract_file(str(path), runner)
        assert "filetype" in doc["metadata"], name  # detection itself never fails
        for rec in doc["errors"]:
            assert is_error_record(rec) and rec["error"] != "timeout", (name, rec)
        assert doc["metadata"].keys() - {"filetype"} or doc["errors"] or doc["unknown"], name


def test_binary_garbage_named_csv_never_reaches_the_csv_reader(
    hostile: dict[str, Path], runner: IsolatedRunner
) -> None:
    doc = extract_file(str(hostile["garbage.csv"]), runner)
    assert "tabular" not in doc["extractors"]


def test_empty_file_is_flagged_unknown_with_a_warning(
    hostile: dict[str, Path], runner: IsolatedRunner
) -> None:
    doc = extract_file(str(hostile["empty.csv"]), runner)
    assert doc["unknown"] and doc["metadata"]["filetype"]["warnings"] == ["the file is empty"]


def test_a_100_mb_line_is_profiled_from_a_bounded_sample(tmp_path: Path) -> None:
    p = tmp_path / "long.csv"
    write_long_line_csv(p, megabytes=100)
    # 450 MB of address space (the libraries take about 270): reading the 100 MB line
    # whole and decoding it would not fit
    with IsolatedRunner(time_limit=60, memory_limit=450 << 20) as r:
        md = r.run("tabular", [str(p)])
    assert not is_error_record(md), md
    assert md["rows"] == 1 - md["header"]
    assert any("longer than" in w for w in md["warnings"])


def test_a_failing_step_keeps_the_other_steps_facts(tmp_path: Path, runner: IsolatedRunner) -> None:
    """Code written for Python 2 and 3 at once makes vermin raise a BaseException; the
    minimum version is then a step error, and the rest of the Python metadata stays
    (it used to be "the extractor process died", and nothing)."""
    p = tmp_path / "compat.py"
    p.write_text(
        "try:\n    from urlparse import urljoin\nexcept ImportError:\n"
        "    from urllib.parse import urljoin\n\n\ndef join(a, b):\n    return urljoin(a, b)\n"
    )
    md = runner.run("python", [str(p)])
    assert not is_error_record(md), md
    assert [f["name"] for f in md["functions"]] == ["join"]
    assert md["imports"] == ["urllib.parse", "urlparse"]
    (failed,) = md["step_errors"]
    assert failed["step"] == "min_python" and failed["error"] == "python_versions_conflict"
