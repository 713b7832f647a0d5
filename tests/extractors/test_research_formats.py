"""The research formats' extractors on files the tests write: what each must say, what
it must never copy, and the clear error a file that only looks like one gets."""

from __future__ import annotations

import datetime as dt
import json
import re
import wave
import zipfile
from pathlib import Path
from typing import Any

import pytest

from xtract_extractors.builtin.imaging import dicom
from xtract_extractors.builtin.office import office
from xtract_extractors.builtin.records import audio, notebook, sequences
from xtract_extractors.builtin.science import columnar, statistics_file
from xtract_extractors.builtin.spreadsheets import spreadsheet


def test_a_workbook_is_read_by_its_cells_not_its_stored_dimension(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "runs"
    ws.append(["sample", "temp", "when", "ok"])
    for i in range(30):
        ws.append([f"s{i % 4}", 20.5 + i, dt.datetime(2024, 1, 1 + i % 28), i % 2 == 0])
    wb.create_sheet("empty")
    path = tmp_path / "runs.xlsx"
    wb.save(path)
    # a writer that leaves the stored dimension at A1 (readxl's own samples do)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b'<dimension ref="A1:D31"/>', b'<dimension ref="A1"/>')
    del parts["docProps/core.xml"]  # and states no properties (openpyxl makes up dates)
    with zipfile.ZipFile(path, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)

    out = spreadsheet(str(path), max_rows=10)
    runs, empty = out["sheets"]
    assert (runs["range"], runs["rows"], runs["columns"], runs["header"]) == ("A1:D31", 30, 4, True)
    assert runs["rows_profiled"] == 10 and runs["sampled"] is True
    types = {c["name"]: c["type"] for c in runs["column_profiles"]}
    assert types == {"sample": "text", "temp": "number", "when": "datetime", "ok": "boolean"}
    temp = runs["column_profiles"][1]
    assert (temp["min"], temp["max"]) == (20.5, 29.5)
    assert empty["rows"] == 0 and empty["range"] is None
    assert out["properties"] == {}


def test_an_ods_with_a_million_repeated_blank_rows_is_read_in_bounds(tmp_path: Path) -> None:
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    cell = (
        '<table:table-cell office:value-type="float" office:value="{0}">'
        "<text:p>{0}</text:p></table:table-cell>"
    )
    rows = "".join(f"<table:table-row>{cell.format(i)}</table:table-row>" for i in range(3))
    blank = (
        '<table:table-row table:number-rows-repeated="1048573">'
        '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    )
    content = (
        f"<office:document-content {ns}><office:body><office:spreadsheet>"
        f'<table:table table:name="T">{rows}{blank}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    path = tmp_path / "t.ods"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
    (sheet,) = spreadsheet(str(path))["sheets"]
    assert (sheet["range"], sheet["rows"], sheet["columns"]) == ("A1:A3", 3, 1)
    assert sheet["column_profiles"][0]["type"] == "integer"


def test_a_zip_named_like_a_workbook_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    with pytest.raises(Exception, match=r"(?i)workbook|content_types|no item|archive"):
        spreadsheet(str(path))
    with pytest.raises(ValueError, match="not a DOCX, PPTX, ODT or ODP"):
        office(str(path))


def test_a_document_lists_headings_tables_and_counts_words(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.core_properties.title = "Lab notes"
    d.add_heading("Methods", level=1)
    d.add_paragraph("We measured the thing twice.")
    d.add_heading("Samples", level=2)
    table = d.add_table(rows=2, cols=3)
    table.cell(0, 0).text = "one two"
    path = tmp_path / "notes.docx"
    d.save(str(path))
    out = office(str(path))
    assert out["properties"]["title"] == "Lab notes"
    assert [(h["level"], h["text"]) for h in out["headings"]] == [(1, "Methods"), (2, "Samples")]
    assert out["tables"] == [{"rows": 2, "columns": 3}]
    assert out["word_count"] == 1 + 5 + 1 + 2


def test_dicom_names_identifying_fields_and_never_copies_them(tmp_path: Path) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID("1.2.840.10008.5.1.4.1.1.2")
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.PatientName = "Doe^Jane"
    ds.PatientBirthDate = "19800101"
    ds.Modality = "CT"
    ds.StudyInstanceUID = generate_uid()
    ds.Rows, ds.Columns = 4, 5
    path = tmp_path / "scan.dcm"
    ds.save_as(str(path), enforce_file_format=True)
    out = dicom(str(path))
    assert out["Modality"] == "CT" and (out["Rows"], out["Columns"]) == (4, 5)
    assert out["identifying_fields"] == ["PatientName", "PatientBirthDate"]
    text = json.dumps(out)
    assert "Doe" not in text and "19800101" not in text


def test_fastq_quality_encoding_and_a_cut_record(tmp_path: Path) -> None:
    good = tmp_path / "reads.fastq"
    good.write_text("@r1\nACGT\n+\n!!II\n@r2\nACG\n+\nIII\n")
    out = sequences(str(good))
    assert (out["records"], out["total_length"], out["quality_encoding"]) == (2, 7, "phred+33")
    cut = tmp_path / "cut.fastq"
    cut.write_text("@r1\nACGT\n+\n")
    with pytest.raises(ValueError, match="cut short"):
        sequences(str(cut))


def test_a_notebook_is_described_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
        "cells": [
            {"cell_type": "markdown", "source": ["# Title"]},
            {
                "cell_type": "code",
                "execution_count": 1,
                "outputs": [{"output_type": "stream"}],
                "source": [
                    "import numpy as np\n",
                    "from pandas import read_csv\n",
                    f"open({str(marker)!r}, 'w')\n",
                    "%matplotlib inline\n",
                ],
            },
        ],
    }
    path = tmp_path / "a.ipynb"
    path.write_text(json.dumps(nb))
    out = notebook(str(path))
    assert out["cells_by_type"] == {"markdown": 1, "code": 1}
    assert out["imports"] == ["numpy", "pandas"] and out["outputs_by_type"] == {"stream": 1}
    assert not marker.exists()


def test_wave_duration_is_frames_over_rate(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 2 * 4000)
    out = audio(str(path))
    assert (out["duration_seconds"], out["channels"], out["sample_rate"]) == (0.5, 2, 8000)


def test_spss_value_labels_and_parquet_key_values(tmp_path: Path) -> None:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pyreadstat

    frame = pd.DataFrame({"sex": [1.0, 2.0, 1.0], "age": [30.0, 41.0, 25.0]})
    sav = tmp_path / "survey.sav"
    pyreadstat.write_sav(
        frame,
        str(sav),
        column_labels=["Sex of respondent", "Age"],
        variable_value_labels={"sex": {1.0: "female", 2.0: "male"}},
    )
    out = statistics_file(str(sav))
    sex = out["variables"][0]
    assert (out["format"], out["rows"], sex["label"]) == ("SPSS", 3, "Sex of respondent")
    assert sex["value_labels"] == {"1.0": "female", "2.0": "male"}

    table = pa.table({"x": [1, 2, 3]}).replace_schema_metadata({"instrument": "APS-8ID"})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=2)
    out = columnar(str(tmp_path / "t.parquet"))
    assert (out["rows"], out["row_groups"]) == (3, 2)
    assert out["key_value_metadata"] == {"instrument": "APS-8ID"}
    (tmp_path / "x.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ValueError, match="neither Parquet"):
        columnar(str(tmp_path / "x.parquet"))


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_a_zarr_store_is_described_as_zarr_reads_it(tmp_path: Path, zarr_format: Any) -> None:
    import zarr

    from xtract_extractors.builtin.chunked import zarr_store

    store = tmp_path / "run.zarr"
    g = zarr.open_group(str(store), mode="w", zarr_format=zarr_format)
    g.attrs["instrument"] = "APS-8ID"
    a = g.create_array("frames", shape=(6, 4, 4), chunks=(2, 4, 4), dtype="u2")
    a[:] = 7
    g.create_group("calib").create_array("dark", shape=(4, 4), chunks=(4, 4), dtype="f8")
    said = {
        str(p.parent.relative_to(store)): out
        for p in store.rglob("*")
        if p.is_file() and (out := zarr_store(str(p)))["role"] == "array"
    }
    reread = zarr.open_group(str(store), mode="r")  # the reference reader
    arrays: dict[str, Any] = {name: reread[name] for name in ("frames", "calib/dark")}
    truth = {name: (list(a.shape), list(a.chunks)) for name, a in arrays.items()}
    assert {k: (v["shape"], v["chunks"]) for k, v in said.items()} == truth
    root = store / (".zattrs" if zarr_format == 2 else "zarr.json")
    assert zarr_store(str(root))["attributes"] == {"instrument": "APS-8ID"}
    chunk = next(p for p in (store / "frames").rglob("*") if p.is_file() and p.name[0].isdigit())
    assert zarr_store(str(chunk)) == {"role": "chunk", "key": chunk.name}


@pytest.mark.parametrize("suffix", ["mp4", "mov"])
def test_a_video_is_read_from_its_boxes_as_ffmpeg_reads_it(tmp_path: Path, suffix: str) -> None:
    import subprocess

    import imageio_ffmpeg

    from tests.truth.research import ffmpeg_truth

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    path = tmp_path / f"clip.{suffix}"
    subprocess.run(
        [ffmpeg, "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         "testsrc=duration=2:size=160x120:rate=10", "-f", "lavfi", "-i",
         "sine=frequency=440:duration=2", "-c:v", "mpeg4", "-c:a", "aac", "-ac", "2",
         "-ar", "22050", str(path)],
        check=True,
    )  # fmt: skip
    out = audio(str(path))
    probe = subprocess.run(
        [ffmpeg, "-hide_banner", "-i", str(path)], capture_output=True, text=True
    )
    size = re.search(r"Video: .*?, (\d+)x(\d+)", probe.stderr)
    assert size is not None
    assert (out["width"], out["height"]) == (int(size.group(1)), int(size.group(2)))
    truth = ffmpeg_truth(path)
    assert truth is not None
    assert (out["sample_rate"], out["channels"]) == (truth["sample_rate"], truth["channels"])
    assert round(out["duration_seconds"], 2) == truth["duration"]
    assert [t["type"] for t in out["tracks"]] == ["video", "audio"]

    cut = tmp_path / f"cut.{suffix}"
    cut.write_bytes(path.read_bytes()[:600])  # the movie header cut off
    with pytest.raises(Exception, match=r"(?i)not an audio format|chunk|header|sync|mp4"):
        audio(str(cut))


def test_an_ome_tiff_gives_its_channels_and_pixel_sizes(tmp_path: Path) -> None:
    import numpy as np
    import tifffile

    from xtract_extractors.builtin.imaging import tiff

    path = tmp_path / "cells.ome.tif"
    tifffile.imwrite(
        path,
        np.zeros((2, 16, 24), dtype="uint16"),
        ome=True,
        metadata={
            "axes": "CYX",
            "PhysicalSizeX": 0.25,
            "PhysicalSizeY": 0.5,
            "Channel": {"Name": ["DAPI", "GFP"]},
        },
    )
    out = tiff(str(path))
    with tifffile.TiffFile(path) as tif:  # the reference: tifffile's own OME-XML reading
        ome = tifffile.xml2dict(tif.ome_metadata or "")["OME"]["Image"]["Pixels"]
    (image,) = out["ome_metadata"]["images"]
    assert out["ome"] is True and out["series"][0]["shape"] == [2, 16, 24]
    assert float(image["pixels"]["PhysicalSizeX"]) == ome["PhysicalSizeX"]
    assert float(image["pixels"]["PhysicalSizeY"]) == ome["PhysicalSizeY"]
    assert [c["Name"] for c in image["channels"]] == [c["Name"] for c in ome["Channel"]]


def test_hostile_office_packages_get_clear_errors(tmp_path: Path) -> None:
    """Entities in a document part, and a part that inflates past the bound: each a
    clear error, nothing expanded, nothing read whole."""
    from xtract_extractors.builtin import office as office_module

    laughs = tmp_path / "laughs.docx"
    with zipfile.ZipFile(laughs, "w") as z:
        z.writestr(
            "word/document.xml",
            '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><d>&b;</d>',
        )
    with pytest.raises(Exception, match=r"(?i)entit|dtd"):
        office(str(laughs))

    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"<d>" + b" " * (office_module.MAX_DOC_XML + 1) + b"</d>")
    assert bomb.stat().st_size < 1 << 20  # small on disk, large inflated
    with pytest.raises(ValueError, match="inflates to"):
        office(str(bomb))


def test_a_store_file_is_read_by_its_store_reader_alone_unless_only_excludes_it() -> None:
    from xtract_extractors.select import plan

    chunk = "/data/scan.zarr/frames/0.0"
    assert plan(chunk, "application/gzip", suggested="zarr") == ["zarr"]
    assert plan(chunk, "application/gzip", suggested="zarr", only=["tabular"]) == []
    assert plan(chunk, "application/gzip", suggested="zarr", only=[], add=["x"]) == ["x"]
    # no store: a gzip file is read as one
    assert plan("/data/a.gz", "application/gzip") == ["compressed"]


def test_an_n5_array_is_described_in_c_order(tmp_path: Path) -> None:
    """N5 lists the fastest-varying dimension first (the N5 specification); the
    extractor gives shapes as Zarr and NumPy do, slowest first."""
    from xtract_extractors.builtin.chunked import zarr_store

    root = tmp_path / "volume.n5"
    (root / "raw" / "0").mkdir(parents=True)
    (root / "attributes.json").write_text(json.dumps({"n5": "2.5.1", "resolution": [4, 4, 40]}))
    (root / "raw" / "attributes.json").write_text(
        json.dumps(
            {
                "dimensions": [640, 480, 12],
                "blockSize": [64, 64, 1],
                "dataType": "uint8",
                "compression": {"type": "gzip", "level": 5},
            }
        )
    )
    (root / "raw" / "0" / "0").write_bytes(b"\0" * 16)
    array = zarr_store(str(root / "raw" / "attributes.json"))
    assert (array["role"], array["shape"], array["chunks"]) == (
        "array",
        [12, 480, 640],
        [1, 64, 64],
    )
    assert array["compressor"] == {"type": "gzip", "level": 5}
    group = zarr_store(str(root / "attributes.json"))
    assert group == {
        "role": "group",
        "format": "N5",
        "attributes": {"n5": "2.5.1", "resolution": [4, 4, 40]},
    }
    assert zarr_store(str(root / "raw" / "0" / "0")) == {"role": "chunk", "key": "0"}


def test_a_camera_image_gives_its_xmp(tmp_path: Path) -> None:
    from PIL import Image

    from xtract_extractors.builtin.images import images

    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        b'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="MicroscopeCam 2.1" '
        b'xmp:Rating="4"/></rdf:RDF></x:xmpmeta>'
    )
    Image.new("RGB", (8, 8)).save(tmp_path / "cell.jpg", xmp=xmp)
    Image.new("RGB", (8, 8)).save(tmp_path / "plain.png")
    out = images(str(tmp_path / "cell.jpg"))
    assert out["xmp"] == {"CreatorTool": "MicroscopeCam 2.1", "Rating": "4"}
    plain = images(str(tmp_path / "plain.png"))
    assert "xmp" not in plain and "step_errors" not in plain
