"""Each built-in extractor on real files written with the format's own library: the
metadata states the values that were written."""

from __future__ import annotations

import hashlib
from pathlib import Path

from xtract_extractors import IsolatedRunner, extract_file, get


def run(name: str, path: Path) -> dict:
    return get(name).run([str(path)])


def test_tabular_reads_delimiter_header_rows_and_column_stats(good: dict[str, Path]) -> None:
    md = run("tabular", good["table.csv"])
    assert (md["delimiter"], md["header"], md["rows"], md["columns"]) == (",", True, 100, 4)
    station, temp, count, flag = md["column_profiles"]
    assert station["name"] == "station" and station["type"] == "text"
    assert station["top_values"][0] == ["st0", 34]
    assert temp["type"] == "number" and temp["min"] == -5.0 and temp["max"] == 44.5
    assert count["type"] == "integer" and count["mean"] == 49.5
    assert flag["type"] == "boolean" and flag["distinct"] == 2


def test_tabular_finds_a_preamble_and_tabs(good: dict[str, Path]) -> None:
    md = run("tabular", good["preamble.tsv"])
    assert md["delimiter"] == "\t" and md["comment"] == "#" and md["preamble_lines"] == 0
    assert md["comments"][0] == "# instrument: spectrometer X"
    assert md["header"] is True and md["rows"] == 50
    assert [c["name"] for c in md["column_profiles"]] == ["wavelength", "intensity"]


def test_tabular_samples_a_big_file_but_counts_every_row(tmp_path: Path) -> None:
    p = tmp_path / "big.csv"
    with open(p, "w") as f:
        f.write("a,b\n")
        f.writelines(f"{i},{i * 2}\n" for i in range(200_000))
    md = get("tabular").run([str(p)], {"sample_bytes": 4096, "max_rows": 100})
    assert md["rows"] == 200_000
    assert md["rows_profiled"] == 100 and md["sampled"] is True


def test_keyword_reads_text_docx_and_pdf(good: dict[str, Path]) -> None:
    txt = run("keyword", good["notes.txt"])
    assert txt["language"] == "en" and txt["word_count"] == 35
    words = [k for k, _ in txt["keywords"]]
    assert any("glacier" in w.lower() for w in words[:3])
    docx = run("keyword", good["report.docx"])
    assert docx["source"] == "docx" and docx["word_count"] == 37
    pdf = run("keyword", good["paper.pdf"])
    assert pdf["source"] == "pdf"
    assert "Glacier melting" in [k for k, _ in pdf["keywords"]]


def test_images_reads_size_mode_exif_gps_and_mean_colour(good: dict[str, Path]) -> None:
    jpg = run("images", good["photo.jpg"])
    assert (jpg["format"], jpg["width"], jpg["height"], jpg["mode"]) == ("JPEG", 64, 48, "RGB")
    assert jpg["exif"]["camera_make"] == "TestCam" and jpg["exif"]["camera_model"] == "Model 7"
    assert jpg["exif"]["datetime"] == "2024:05:06 07:08:09"
    assert jpg["exif"]["gps"] == {"latitude": 41.875, "longitude": -87.63}
    assert [round(c) for c in jpg["mean_colour"]] == [10, 200, 30]
    png = run("images", good["plot.png"])
    assert (png["width"], png["height"], png["mode"]) == (120, 80, "RGBA")
    assert png["mean_colour"] == [0.0, 0.0, 255.0]


def test_jsonxml_reads_structure_of_json_and_xml(good: dict[str, Path]) -> None:
    js = run("jsonxml", good["data.json"])
    assert js["top_level_keys"] == ["experiment", "runs", "meta"]
    assert js["depth"] == 3
    assert js["fields"]["runs[].energy"] == {"number": 4}
    assert js["numeric_stats"]["runs[].energy"] == {
        "count": 4,
        "min": 1.5,
        "max": 6.0,
        "mean": 3.75,
    }
    xml = run("jsonxml", good["config.xml"])
    assert xml["root"] == "catalog" and xml["depth"] == 3
    assert xml["tags"]["item"] == 7 and xml["attributes"] == {"id": 7}
    assert xml["namespaces"] == ["http://example.org/d"]


def test_hdf5_reads_groups_datasets_compression_and_attributes(good: dict[str, Path]) -> None:
    md = run("hdf5", good["grid.h5"])
    assert md["attributes"] == {"instrument": "beamline 7"}
    assert md["groups"] == [{"name": "/scan", "attributes": {"energy_kev": 12.5}}]
    image = next(d for d in md["datasets"] if d["name"] == "/scan/image")
    assert image["shape"] == [16, 32] and image["dtype"] == "float32"
    assert image["compression"] == "gzip" and image["chunks"] == [8, 8]
    assert image["attributes"] == {"units": "counts"}
    assert {d["name"] for d in md["datasets"]} == {"/scan/image", "/times"}


def test_netcdf_reads_netcdf4_and_the_classic_format(good: dict[str, Path]) -> None:
    for name, fmt in (("climate.nc", "NETCDF4"), ("classic.nc", "NETCDF3_CLASSIC")):
        md = run("netcdf", good[name])
        assert md["format"] == fmt
        assert md["attributes"] == {"title": "test climate"}
        assert md["dimensions"]["time"] == {"size": 2, "unlimited": True}
        assert md["dimensions"]["lat"] == {"size": 4, "unlimited": False}
        assert set(md["variables"]) == {"temperature", "lat"}
        temp = md["variables"]["temperature"]
        assert temp["dimensions"] == ["time", "lat", "lon"] and temp["shape"] == [2, 4, 5]
        assert temp["attributes"] == {"units": "K"}
    assert run("netcdf", good["climate.nc"])["variables"]["temperature"]["compression"]["zlib"]


def test_python_reads_imports_functions_classes_and_min_version(good: dict[str, Path]) -> None:
    md = run("python", good["script.py"])
    assert md["imports"] == ["collections", "os"]
    assert md["module_doc"] == "Analysis helpers."
    assert md["functions"] == [{"name": "mean", "line": 6, "args": ["xs"], "doc": "Average of xs."}]
    assert md["classes"] == [{"name": "Run", "line": 11, "methods": ["go"], "doc": "One run."}]
    assert md["comment_lines"] == 1 and md["lines"] == 16
    assert md["min_python"] == "3.8"  # the walrus operator


def test_c_code_reads_includes_functions_structs_comments(good: dict[str, Path]) -> None:
    md = run("c_code", good["prog.c"])
    assert md["includes"] == ["stdio.h", "local.h"]
    assert [f["name"] for f in md["functions"]] == ["main", "area"]
    assert md["structs"] == ["point"] and md["comments"] == 2


def test_c_code_lists_prototypes_and_says_when_a_macro_hides_some(tmp_path: Path) -> None:
    header = tmp_path / "api.h"
    header.write_text(
        "#define WRAP(n) n\n"
        "extern int open_thing(const char *name, int flags);\n"
        "void (*handler(int sig, void (*fn)(int)))(int);\n"  # returns a function pointer
        "int (*callback)(void);\n"  # a variable, not a prototype
        "struct s { int (*m)(int); };\n"
        "static int twice(int x) { int inner(int); return 2 * x; }\n"
        "#if 0\nlong never_compiled(void);\n#endif\n"
    )
    md = run("c_code", header)
    assert md["prototypes"] == [
        {"name": "open_thing", "line": 2},
        {"name": "handler", "line": 3},
        {"name": "never_compiled", "line": 8},
    ]
    assert md["prototypes_complete"] is True
    assert [f["name"] for f in md["functions"]] == ["twice"]
    header.write_text(
        "#define WRAP(n) n\nint WRAP(hidden) (int a);\nstruct t WRAP(struct u);\nint shown(void);\n"
    )
    md = run("c_code", header)
    assert md["prototypes"] == [{"name": "shown", "line": 4}]
    assert md["prototypes_complete"] is False


def test_pdf_reads_pages_info_and_encryption(good: dict[str, Path]) -> None:
    md = run("pdf", good["paper.pdf"])
    assert md["pages"] == 2 and md["encrypted"] is False
    assert md["info"]["Title"] == "Glacier report" and md["info"]["Author"] == "Xtract Tests"
    assert md["page_size"] == [612.0, 792.0]


def test_filetype_detects_types_and_hashes_content(good: dict[str, Path]) -> None:
    md = run("filetype", good["photo.jpg"])
    assert md["mimetype"] == "image/jpeg"
    assert md["sha256"] == hashlib.sha256(good["photo.jpg"].read_bytes()).hexdigest()
    assert md["extractors"] == ["images"] and md["unknown"] is False
    pure = get("filetype").run([str(good["plot.png"])], {"use_libmagic": False})
    assert pure["mimetype"] == "image/png" and pure["detected_by"] == "puremagic"


def test_every_good_file_reaches_its_extractor(
    good: dict[str, Path], runner: IsolatedRunner
) -> None:
    expected = {
        "table.csv": "tabular",
        "preamble.tsv": "tabular",
        "notes.txt": "keyword",
        "report.docx": "keyword",
        "paper.pdf": "pdf",
        "photo.jpg": "images",
        "plot.png": "images",
        "data.json": "jsonxml",
        "config.xml": "jsonxml",
        "grid.h5": "hdf5",
        "climate.nc": "netcdf",
        "classic.nc": "netcdf",
        "script.py": "python",
        "prog.c": "c_code",
    }
    for name, extractor in expected.items():
        doc = extract_file(str(good[name]), runner)
        assert extractor in doc["metadata"], (name, doc["errors"])
        assert doc["errors"] == [], name
        assert not doc["unknown"]


def test_tabular_semicolons_without_a_header(tmp_path: Path) -> None:
    p = tmp_path / "plain.csv"
    p.write_text("".join(f"{i};{i * 0.5};x{i % 2}\n" for i in range(30)))
    md = run("tabular", p)
    assert md["delimiter"] == ";" and md["header"] is False and md["rows"] == 30
    assert [c["type"] for c in md["column_profiles"]] == ["integer", "number", "text"]
    assert md["column_profiles"][0]["name"] == "column_1"


def test_tabular_text_table_with_a_header(tmp_path: Path) -> None:
    p = tmp_path / "names.psv"
    p.write_text("first|last\n" + "".join(f"ann{i}|lee{i}\n" for i in range(10)))
    md = run("tabular", p)
    assert md["delimiter"] == "|" and md["header"] is True and md["rows"] == 10


def test_every_archive_member_has_a_type_past_the_reading_budget(tmp_path: Path) -> None:
    """Members past ``typed_members`` were ``?``; now their names type them, and each
    member says whether its bytes or its name did."""
    import zipfile

    p = tmp_path / "many.whl"
    with zipfile.ZipFile(p, "w") as z:
        for i in range(300):
            z.writestr(f"pkg/m{i}.py", f"x = {i}\n")
        z.writestr("pkg/Thing.class", b"\xca\xfe\xba\xbe" + bytes(40))
    md = get("archive").run([str(p)], {"typed_members": 200})
    files = [m for m in md["members"] if not m["dir"]]
    assert len(files) == 301 and all(m["mimetype"] != "?" for m in files)
    assert sum(m["type_from"] == "bytes" for m in files) == md["typed_by_bytes"] == 200
    assert {m["mimetype"] for m in files[200:300]} == {"text/x-python"}
    assert files[-1]["mimetype"] == "application/x-java-applet"


def test_a_tar_inside_zstd_is_listed_through_the_compressed_reader(tmp_path: Path) -> None:
    import io
    import tarfile

    import zstandard

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        for i in range(3):
            data = f"member {i}\n".encode()
            info = tarfile.TarInfo(f"d/m{i}.txt")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    p = tmp_path / "bundle.tar.zst"
    p.write_bytes(zstandard.ZstdCompressor().compress(raw.getvalue()))
    md = get("compressed").run([str(p)], {})
    assert md["method"] == "zstd" and md["inner_mimetype"] == "application/x-tar"
    listed = md["inner_metadata"]["archive"]
    assert listed["member_count"] == 3
    assert {m["mimetype"] for m in listed["members"]} == {"text/plain"}


def test_the_first_member_of_each_type_is_read_in_a_folder_of_our_own(tmp_path: Path) -> None:
    """A wheel's first Python module and first CSV are read by their extractors; a
    member named to climb out of the archive is read as its base name only."""
    import zipfile

    p = tmp_path / "pkg.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("pkg/a.py", "import os\n\n\ndef first():\n    return 1\n")
        z.writestr("pkg/b.py", "def second():\n    return 2\n")
        z.writestr("../../escape.csv", "x,y\n1,2\n3,4\n")
    md = get("archive").run([str(p)], {})
    inner = md["member_metadata"]
    assert set(inner) == {"pkg/a.py", "../../escape.csv"}  # one member per type
    assert [f["name"] for f in inner["pkg/a.py"]["python"]["functions"]] == ["first"]
    assert inner["../../escape.csv"]["tabular"]["rows"] == 2
    assert not (tmp_path.parent / "escape.csv").exists()


def test_text_that_libmagic_takes_for_a_plotter_language_keeps_its_name(tmp_path: Path) -> None:
    """libmagic calls any text starting ``PA`` HP-GL (moto's ``utils.py``: ``PAGINATION_
    MODEL = {``); a text format's extension refines that guess, as it refines others."""
    from xtract_extractors.builtin.filetype import detect

    path = tmp_path / "utils.py"
    path.write_text('PAGINATION_MODEL = {\n    "list_things": {"limit_default": 10},\n}\n')
    found = detect(path.read_bytes(), name=str(path))
    assert found["magic_mimetype"].lower() == "application/vnd.hp-hpgl"
    assert found["mimetype"] == "text/x-python" and found["detected_by"] == "extension"
