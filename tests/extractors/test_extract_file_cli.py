"""``xtract extract-file``: what a user sees before a big run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def xtract(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xtract_service.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_extract_file_prints_every_applicable_extractor(good: dict[str, Path]) -> None:
    out = xtract("extract-file", str(good["paper.pdf"]))
    assert out.returncode == 0, out.stderr
    assert "application/pdf" in out.stdout
    assert "[pdf]" in out.stdout and "[keyword]" in out.stdout and "[filetype]" in out.stdout
    assert "pages: 2" in out.stdout


def test_extract_file_json_and_a_chosen_extractor(good: dict[str, Path]) -> None:
    out = xtract("extract-file", str(good["table.csv"]), "--extractor", "keyword", "--json")
    doc = json.loads(out.stdout)
    assert doc["extractors"] == ["keyword"]
    assert set(doc["metadata"]) == {"filetype", "keyword"}


def test_extract_file_reports_errors_and_unknown_files(
    hostile: dict[str, Path], tmp_path: Path
) -> None:
    bad = xtract("extract-file", str(hostile["laughs.xml"]))
    assert bad.returncode == 1
    assert "! jsonxml: xml_entities_forbidden" in bad.stdout
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x00\x13\x37\x99" * 500)
    unknown = xtract("extract-file", str(blob))
    assert unknown.returncode == 0
    assert "flagged unknown" in unknown.stdout


def test_extract_file_usage_errors_exit_2(tmp_path: Path) -> None:
    assert xtract("extract-file", str(tmp_path / "missing.csv")).returncode == 2
    wrong = xtract("extract-file", __file__, "--extractor", "nope")
    assert wrong.returncode == 2 and "unknown extractor 'nope'" in wrong.stderr
