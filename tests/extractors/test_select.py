"""Choosing extractors from the name and the detected type; the bytes win."""

from __future__ import annotations

from xtract_extractors import plan, readers_for


def test_a_misleading_extension_goes_to_the_reader_of_the_bytes() -> None:
    assert readers_for("photo.csv", "image/png") == ["images"]
    assert readers_for("data.txt", "application/json") == ["jsonxml"]


def test_binary_or_empty_files_are_not_sent_to_text_readers() -> None:
    assert readers_for("table.csv", "application/octet-stream") == []
    assert readers_for("table.csv", "inode/x-empty") == []


def test_plain_text_uses_the_name() -> None:
    assert readers_for("table.csv", "text/plain") == ["tabular"]
    assert readers_for("script.py", "text/plain") == ["python"]
    assert readers_for("README", "text/plain") == ["keyword"]


def test_netcdf4_is_read_as_netcdf_and_as_hdf5() -> None:
    assert readers_for("climate.nc", "application/x-hdf5") == ["netcdf", "hdf5"]
    assert readers_for("grid.h5", "application/x-hdf5") == ["hdf5"]


def test_pdf_goes_to_pdf_and_keyword() -> None:
    assert readers_for("paper.pdf", "application/pdf") == ["pdf", "keyword"]


def test_callers_restrict_and_add() -> None:
    assert plan("paper.pdf", "application/pdf", only=["pdf"]) == ["pdf"]
    assert plan("table.csv", "text/csv", add=["keyword"]) == ["tabular", "keyword"]
    assert plan("x.dat", "text/plain", suggested="tabular") == ["tabular"]
    # the grouper's suggestion is dropped when the bytes disagree
    assert plan("x.csv", "image/png", suggested="tabular") == ["images"]
