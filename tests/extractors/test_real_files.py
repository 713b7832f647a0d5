"""Extractors on files nobody here wrote: data shipped with Debian and with the
installed packages. Each check is a true value read off the file by other means."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy
import pytest

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


SITE = Path(numpy.__file__).parent.parent  # the installed packages' own data files


def some(pattern: str, root: Path = Path("/usr/share/doc"), n: int = 5) -> list[Path]:
    """Up to ``n`` files matching ``pattern`` under ``root`` (Debian's docs by default),
    else among the installed packages' files; never none."""
    for where in (root, SITE):
        found = sorted(p for p in where.glob(pattern) if p.is_file() and p.stat().st_size > 0)
        if found:
            return found[:n]
    raise AssertionError(f"no {pattern} under {root} or {SITE} to test on")


def extract(path: Path) -> dict:
    from xtract_extractors.extract import extract_file

    with IsolatedRunner(time_limit=60) as r:
        return extract_file(str(path), r)


def test_html_titles_are_read_entities_and_all() -> None:
    import html as stdlib_html
    import re

    for path in some("**/*.html"):
        raw = path.read_text(errors="replace")
        m = re.search(r"<title[^>]*>(.*?)</title>", raw, re.S | re.I)
        doc = extract(path)
        assert doc["errors"] == [], (path, doc["errors"])
        md = doc["metadata"]["html"]
        if m:
            assert md["title"] == " ".join(stdlib_html.unescape(m.group(1)).split())[:500]
        assert md["links"] == len(re.findall(r"<a\s[^>]*href", raw, re.I))


def test_a_gz_file_says_what_is_inside() -> None:
    import gzip

    for path in some("**/*.gz"):
        inner = gzip.decompress(path.read_bytes())
        if len(inner) > 16 << 20:
            continue
        doc = extract(path)
        md = doc["metadata"]["compressed"]
        assert md["inner_name"] == path.name[:-3]
        assert md["inner_size"] == len(inner)
        if inner[:1] not in b"\x1f\x89" and b"\x00" not in inner[:8192]:  # text inside
            assert md["inner_mimetype"].startswith("text/"), (path, md)
            assert md["inner_metadata"], (path, md)


def test_a_zip_lists_its_members() -> None:
    import sys
    import zipfile

    bundled = Path(sys.base_prefix) / "lib" / "python3.11" / "ensurepip" / "_bundled"
    for path in some("*.whl", bundled):
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            sizes = sum(i.file_size for i in z.infolist())
        md = extract(path)["metadata"]["archive"]
        assert md["member_count"] == len(names)
        assert [m["name"] for m in md["members"]] == names[: md["listed"]]
        assert md["total_size"] == sizes or md["listed"] < len(names)
        assert md["types"].get("text/x-python", 0) > 0


def test_markdown_is_text_whatever_libmagic_guesses() -> None:
    for path in some("**/*.md", n=20):
        doc = extract(path)
        assert doc["mimetype"] == "text/markdown", (path, doc["metadata"]["filetype"])
        assert {"keyword", "markdown"} <= set(doc["metadata"]), (path, doc["errors"])
        assert doc["errors"] == [] and not doc["unknown"]


def test_svg_is_read_as_xml_and_as_an_image_not_by_pillow() -> None:
    import xml.etree.ElementTree as ET

    for path in some("**/*.svg", Path("/usr/share")):
        doc = extract(path)
        assert "images" not in doc["metadata"], path
        assert doc["errors"] == [], (path, doc["errors"])
        md = doc["metadata"]["svg"]
        root = ET.parse(path).getroot()
        assert md["elements"] == sum(1 for _ in root.iter())
        view_box = root.get("viewBox")
        if view_box:
            assert md["view_box"] == [float(v) for v in view_box.replace(",", " ").split()]


def test_xhtml_with_named_entities_and_a_png_named_csv(tmp_path: Path) -> None:
    """Two cases the real corpus showed: XHTML's ``&nbsp;`` broke the XML parser it was
    given to, and a name must not override what the bytes plainly are."""
    page = tmp_path / "page.xhtml"
    page.write_text(
        '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml" lang="de">'
        "<head><title>Caf&eacute;&nbsp;Daten</title></head>"
        '<body><p>Messwerte&nbsp;vom <a href="a.html">Montag</a></p></body></html>'
    )
    doc = extract(page)
    assert doc["errors"] == [] and doc["metadata"]["html"][
        "title"
    ] == "Caf\u00e9\u00a0Daten".replace("\u00a0", " ")
    assert doc["metadata"]["html"]["declared_language"] == "de"
    assert doc["metadata"]["html"]["links"] == 1
    png = next(iter(some("**/*.png", Path("/usr/share"))))
    fake = tmp_path / "table.csv"
    fake.write_bytes(png.read_bytes())
    doc = extract(fake)
    assert doc["mimetype"] == "image/png" and "images" in doc["metadata"]
    assert doc["metadata"]["filetype"]["detected_by"] in ("libmagic", "puremagic")
    assert "whatever the name says" in doc["metadata"]["filetype"]["reason"]


def test_the_learned_tier_answers_as_stock_magika_on_one_quiet_thread() -> None:
    """Xtract's Magika runs one inference thread that does not spin (the extraction
    processes are the parallelism); its answers are stock Magika's, on files nobody
    here wrote."""
    from magika import Magika

    from xtract_extractors.builtin.filetype import _magika

    ours, stock = _magika(), Magika()
    options = ours._onnx_session.get_session_options()
    assert options.intra_op_num_threads == options.inter_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    files = sorted(p for p in Path("/usr/share/doc").rglob("*") if p.is_file())[::97][:40]
    assert len(files) >= 20
    for f in files:
        a, b = ours.identify_path(f), stock.identify_path(f)
        # (threads may sum in another order: the scores agree to float rounding)
        assert a.output.label == b.output.label and a.score == pytest.approx(b.score), f
