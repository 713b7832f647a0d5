"""The truth test's research formats (issue 23): each fact Xtract states is checked
against the format's reference reader, read another way than the extractor reads it
(openpyxl's full mode where the extractor streams read-only, odfpy's DOM where it
streams ``content.xml``, python-docx and python-pptx where it reads the XML parts,
tifffile's decoded pixels, pydicom with the pixels, nibabel's data array, astropy's
data, pyarrow's whole table, pyreadstat's values, scipy's ``loadmat``, the standard
library's ``wave``, Biopython-free counting by ``grep``-like rules written here)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

from tests.truth import corpus
from xtract_extractors.builtin.office import MAX_LISTED

Facts = dict[str, Any]


def _md(doc: dict[str, Any], extractor: str) -> dict[str, Any]:
    return doc["metadata"].get(extractor) or {}


def _used_range(cells: list[tuple[int, int]]) -> tuple[int, int] | None:
    """(rows, columns) spanned by the non-empty cells (0-based row, column pairs)."""
    if not cells:
        return None
    rows = [r for r, _ in cells]
    cols = [c for _, c in cells]
    return max(rows) - min(rows) + 1, max(cols) - min(cols) + 1


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v == "")


# -- spreadsheets --------------------------------------------------------------------
def xlsx_truth(path: Path) -> Facts | None:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=False, data_only=True)
    except Exception:
        return None
    spans = {}
    for ws in wb.worksheets:
        cells = [
            (c.row - 1, c.column - 1) for row in ws.iter_rows() for c in row if not _blank(c.value)
        ]
        spans[ws.title] = _used_range(cells)
    return {"sheet_names": wb.sheetnames, "used": spans}


def xls_truth(path: Path) -> Facts | None:
    import xlrd

    try:
        book = xlrd.open_workbook(path)  # all at once, where the extractor loads on demand
    except Exception:
        return None
    spans = {}
    for sh in book.sheets():
        cells = [
            (r, c)
            for r in range(sh.nrows)
            for c in range(sh.ncols)
            if sh.cell_type(r, c) not in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK)
            and not (sh.cell_type(r, c) == xlrd.XL_CELL_TEXT and sh.cell_value(r, c) == "")
        ]
        spans[sh.name] = _used_range(cells)
    return {"sheet_names": book.sheet_names(), "used": spans}


def ods_truth(path: Path) -> Facts | None:
    from odf import opendocument, table, text

    try:
        doc = opendocument.load(str(path))
    except Exception:
        return None
    spans = {}
    names = []
    for t in doc.body.getElementsByType(table.Table):
        name = t.getAttribute("name")
        names.append(name)
        cells: list[tuple[int, int]] = []
        r = 0
        for row in t.getElementsByType(table.TableRow):
            rep = int(row.getAttribute("numberrowsrepeated") or 1)
            c = 0
            found: list[int] = []
            for cell in row.childNodes:
                if not hasattr(cell, "getElementsByType") or cell.qname[1] not in (
                    "table-cell",
                    "covered-table-cell",
                ):
                    continue
                span = int(cell.getAttribute("numbercolumnsrepeated") or 1)
                kind = cell.getAttribute("valuetype")
                shown = "".join(str(p) for p in cell.getElementsByType(text.P))
                if kind and (kind != "string" or shown):
                    found.extend(c + k for k in range(span))
                c += span
            if found:
                cells.extend((r + k, col) for k in range(rep) for col in found)
            r += rep
        spans[name] = _used_range(cells)
    return {"sheet_names": names, "used": spans}


def spreadsheet_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "spreadsheet")
    if "sheets" not in md:
        return {}
    used = {
        s["name"]: (s["rows"] + (1 if s["header"] else 0), s["columns"]) if s["range"] else None
        for s in md["sheets"]
    }
    return {"sheet_names": md["sheet_names"], "used": used}


# -- office documents ----------------------------------------------------------------
def _words(text: str) -> int:
    from xtract_extractors.builtin._text import words_in

    return words_in(text)


def _has_core_properties(path: Path) -> bool:
    """Whether the package holds its properties (python-docx and python-pptx make up
    a title where it does not)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        return "docProps/core.xml" in z.namelist()


def docx_truth(path: Path) -> Facts | None:
    import docx
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    try:
        d = docx.Document(str(path))
        has_properties = _has_core_properties(path)
    except Exception:
        return None
    body = d.element.body
    paragraphs = [Paragraph(p, d) for p in body.iter(qn("w:p"))]
    headings = []
    for p in paragraphs:
        name = (p.style.name if p.style is not None else "").lower()
        if (name == "title" or name.startswith("heading ")) and p.text.strip():
            headings.append(p.text.strip()[:300])
    headings_total = len(headings)
    headings = headings[:MAX_LISTED]
    return {
        "word_count": _words("\n".join(p.text for p in paragraphs)),
        "paragraphs": len(paragraphs),
        "headings": headings,
        "headings_total": headings_total,
        "tables": len(list(body.iter(qn("w:tbl")))),
        **(
            {"title": d.core_properties.title or None, "creator": d.core_properties.author or None}
            if has_properties
            else {}
        ),
    }


def pptx_truth(path: Path) -> Facts | None:
    import pptx

    try:
        prs = pptx.Presentation(str(path))
        has_properties = _has_core_properties(path)
    except Exception:
        return None
    titles = []
    for slide in prs.slides:
        title = slide.shapes.title
        titles.append(title.text_frame.text.strip() or None if title is not None else None)
    return {
        "slide_count": len(prs.slides),
        "titles": titles,
        **(
            {
                "title": prs.core_properties.title or None,
                "creator": prs.core_properties.author or None,
            }
            if has_properties
            else {}
        ),
    }


def odf_text_truth(path: Path) -> Facts | None:
    from odf import draw, opendocument, teletype, text

    try:
        doc = opendocument.load(str(path))
    except Exception:
        return None
    if doc.mimetype.endswith(".presentation"):
        return {"slide_count": len(doc.presentation.getElementsByType(draw.Page))}
    headings = [
        teletype.extractText(h).strip()[:300]
        for h in doc.body.getElementsByType(text.H)
        if teletype.extractText(h).strip()
    ]
    return {"headings": headings[:MAX_LISTED], "headings_total": len(headings)}


def office_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "office")
    if "format" not in md:
        return {}
    props = md.get("properties", {})
    out: Facts = {
        "title": props.get("title"),
        "creator": props.get("creator"),
        "word_count": md.get("word_count"),
        "paragraphs": md.get("paragraphs"),
        "headings": [h["text"] for h in md.get("headings", [])],
        "headings_total": md.get("headings_total"),
        "tables": md["tables"] if isinstance(md.get("tables"), int) else len(md.get("tables", [])),
    }
    if md["format"] in ("pptx", "odp"):
        out["slide_count"] = md.get("slide_count")
        out["titles"] = [s.get("title") for s in md.get("slides", [])]
    return out


# -- TIFF ----------------------------------------------------------------------------
def tiff_truth(path: Path) -> Facts | None:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            pixels = tif.asarray()  # decoded, where the extractor reads the tags only
            pages = len(tif.pages)
    except Exception:
        return None
    return {"shape": list(pixels.shape), "dtype": str(pixels.dtype), "pages": pages}


def tiff_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "tiff")
    if not md.get("series"):
        return {}
    first = md["series"][0]
    return {"shape": first["shape"], "dtype": first["dtype"], "pages": md["pages"]}


# -- DICOM and NIfTI -----------------------------------------------------------------
def dicom_truth(path: Path) -> Facts | None:
    import pydicom

    try:
        ds = pydicom.dcmread(path)  # with the pixels
    except Exception:
        return None
    return {
        "Modality": ds.get("Modality") or None,
        "Rows": ds.get("Rows"),
        "Columns": ds.get("Columns"),
        "StudyInstanceUID": str(ds.StudyInstanceUID) if "StudyInstanceUID" in ds else None,
        "patient_name_present": bool(ds.get("PatientName")),
    }


def dicom_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "dicom")
    if "format" not in md:
        return {}
    return {
        "Modality": md.get("Modality"),
        "Rows": md.get("Rows"),
        "Columns": md.get("Columns"),
        "StudyInstanceUID": md.get("StudyInstanceUID"),
        "patient_name_present": "PatientName" in md.get("identifying_fields", []),
    }


def nifti_truth(path: Path) -> Facts | None:
    import nibabel

    try:
        img: Any = nibabel.load(path)
        data = img.get_fdata(caching="unchanged")  # the voxels, where the extractor reads none
        zooms = img.header.get_zooms()
    except Exception:  # not NIfTI (a CIFTI-2 file is named .nii too) or unreadable
        return None
    return {
        "shape": list(data.shape),
        "voxel_sizes": [float(z) for z in zooms],
    }


def nifti_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "nifti")
    return {"shape": md.get("shape"), "voxel_sizes": md.get("voxel_sizes")} if md else {}


# -- FITS ----------------------------------------------------------------------------
def fits_truth(path: Path) -> Facts | None:
    from astropy.io import fits

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fits.open(path, memmap=False) as hdul:
                shapes = []
                for hdu in hdul:
                    data = hdu.data  # read, where the extractor reads headers only
                    shape = list(data.shape) if data is not None else []
                    if data is not None and hasattr(data, "columns"):
                        shape = [len(data)]  # a table's rows (random groups': the groups)
                    if type(hdu).__name__ == "_NonstandardHDU":
                        shape = []  # SIMPLE = F: astropy gives the bytes after the header
                    shapes.append(shape)
                return {"names": [h.name for h in hdul], "shapes": shapes}
    except Exception:
        return None


def _groups(hdu: dict[str, Any]) -> list[int]:
    """Random groups' data as astropy gives it: one row per group, none where an axis
    of the group's array is 0 or it has none."""
    return [hdu["groups"]] if hdu["groups"] and hdu["shape"] and all(hdu["shape"]) else []


def fits_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "fits")
    if "hdus" not in md:
        return {}
    shapes = [
        [h["rows"]] if "rows" in h else _groups(h) if "groups" in h else h["shape"]
        for h in md["hdus"]
    ]
    return {"names": [h["name"] for h in md["hdus"]], "shapes": shapes}


# -- Parquet, Arrow, ORC -------------------------------------------------------------
def columnar_truth(path: Path) -> Facts | None:
    import pyarrow.feather
    import pyarrow.orc
    import pyarrow.parquet

    readers: dict[str, Any] = {
        ".parquet": pyarrow.parquet.read_table,
        ".feather": pyarrow.feather.read_table,
        ".arrow": pyarrow.feather.read_table,
        ".orc": pyarrow.orc.read_table,
    }
    try:
        table = readers[path.suffix.lower()](str(path))  # every value, not the footer
    except Exception:
        return None
    return {"rows": table.num_rows, "names": table.schema.names}


def columnar_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "columnar")
    if "schema" not in md:
        return {}
    return {"rows": md["rows"], "names": [f["name"] for f in md["schema"]]}


# -- SPSS, Stata, SAS ----------------------------------------------------------------
def stats_truth(path: Path) -> Facts | None:
    import pyreadstat

    read: Any = {
        ".sav": pyreadstat.read_sav,
        ".dta": pyreadstat.read_dta,
        ".sas7bdat": pyreadstat.read_sas7bdat,
        ".xpt": pyreadstat.read_xport,
    }.get(path.suffix.lower())
    if read is None or path.read_bytes()[:2] == b"SR":  # an IDL save file
        return None
    try:
        frame, _ = read(str(path))  # the values too
    except Exception:
        return None
    return {"rows": len(frame), "names": list(frame.columns)}


def stats_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "statistics")
    if "variables" not in md:
        return {}
    return {"rows": md["rows"], "names": [v["name"] for v in md["variables"]]}


# -- MATLAB --------------------------------------------------------------------------
def matlab_truth(path: Path) -> Facts | None:
    import scipy.io

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = scipy.io.loadmat(str(path))  # the values, not whosmat's headers
    except Exception:
        return None
    return {
        "variables": sorted(
            [k, None if v.dtype.kind == "U" else list(v.shape)]  # char: see matlab_said
            for k, v in loaded.items()
            if not k.startswith("__")
        )
    }


def matlab_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "matlab")
    if not md.get("variables"):
        return {"variables": [] if md.get("variables") == [] else None}
    # a char array's shape is of its strings in both readers, but loadmat gives an empty
    # one shape (0,) and whosmat (1,): char arrays are compared by name only
    return {
        "variables": sorted(
            [v["name"], None if v["class"] == "char" else v["shape"]] for v in md["variables"]
        )
    }


# -- audio ---------------------------------------------------------------------------
def wav_truth(path: Path) -> Facts | None:
    import scipy.io.wavfile

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rate, data = scipy.io.wavfile.read(str(path), mmap=True)  # the samples' array
    except Exception:
        return None
    return {
        "sample_rate": rate,
        "channels": 1 if data.ndim == 1 else data.shape[1],
        "duration": round(data.shape[0] / rate, 6),
    }


def audio_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "media")
    if "format" not in md:
        return {}
    duration = md.get("duration_seconds")
    return {
        "sample_rate": md.get("sample_rate"),
        "channels": md.get("channels"),
        "duration": round(duration, 6) if duration is not None else None,
    }


# -- sequences -----------------------------------------------------------------------
def _text_lines(path: Path) -> list[str]:
    import gzip

    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", "replace").splitlines()


def fasta_truth(path: Path) -> Facts | None:
    """Records and their total length, split on ``>`` as the FASTA definition says."""
    chunks = "\n".join(_text_lines(path)).split("\n>")
    if not chunks or not chunks[0].startswith(">"):
        return None
    lengths = [
        sum(len(ln.strip()) for ln in c.splitlines()[1:] if not ln.startswith(";")) for c in chunks
    ]
    return {"records": len(chunks), "total_length": sum(lengths)}


def fastq_truth(path: Path) -> Facts | None:
    """Four lines a record (the FASTQ definition, no wrapped lines): records and the
    total of the sequence lines' lengths."""
    lines = [ln for ln in _text_lines(path) if ln.strip()]
    if not lines or not lines[0].startswith("@") or len(lines) % 4:
        return None
    return {"records": len(lines) // 4, "total_length": sum(len(ln) for ln in lines[1::4])}


def vcf_truth(path: Path) -> Facts | None:
    lines = _text_lines(path)
    if not lines or not lines[0].startswith("##fileformat=VCF"):
        return None
    header = next((ln for ln in lines if ln.startswith("#CHROM")), "")
    return {
        "records": sum(1 for ln in lines if ln.strip() and not ln.startswith("#")),
        "samples": max(0, len(header.split("\t")) - 9),
    }


def sam_truth(path: Path) -> Facts | None:
    lines = _text_lines(path)
    return {
        "records": sum(1 for ln in lines if ln.strip() and not ln.startswith("@")),
        "references": sum(1 for ln in lines if ln.startswith("@SQ\t")),
    }


def sequences_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "sequences")
    if "format" not in md:
        return {}
    out: Facts = {"records": md["records"]}
    if md["format"] in ("FASTA", "FASTQ"):
        out["total_length"] = md["total_length"]
    elif md["format"] == "VCF":
        out["samples"] = md["samples"]
    elif md["format"] == "SAM":
        out["references"] = md["reference_count"]
    return out


def samples(*suffixes: str, where: str = "") -> list[Path]:
    """Files of these suffixes anywhere the corpus looks (the sample packages too)."""
    return corpus.files_of(*suffixes, where=where)


# -- materials -----------------------------------------------------------------------
_NUMBER = r"([-+]?\d+(?:\.\d*)?)(?:\(\d+\))?"


def cif_truth(path: Path) -> Facts | None:
    """The cell as the CIF states it (``_cell_length_a`` ..., uncertainties dropped)."""
    import re

    text = path.read_text(errors="replace")
    lengths = [re.search(rf"^_cell_length_{a}\s+{_NUMBER}", text, re.M) for a in "abc"]
    if not all(lengths):
        return None
    return {"cell_lengths": [round(float(m.group(1)), 4) for m in lengths if m]}


def vasp_truth(path: Path) -> Facts | None:
    """The number of ions as VASP writes it: ``<atoms>`` in vasprun.xml, ``NIONS`` in
    an OUTCAR."""
    import re

    text = path.read_text(errors="replace")
    m = re.search(r"<atoms>\s*(\d+)\s*</atoms>", text) or re.search(r"NIONS\s*=\s*(\d+)", text)
    if not m or ("General timing and accounting" not in text and "OUTCAR" in path.name):
        return None  # an OUTCAR cut short holds no final structure
    return {"atoms": int(m.group(1))}


def xyz_truth(path: Path) -> Facts | None:
    """An XYZ file's first line: its atom count."""
    first = path.read_text(errors="replace").split("\n", 1)[0].strip()
    return {"atoms": int(first)} if first.isdigit() else None


def materials_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "materials")
    if "formula" not in md:
        return {}
    lengths = md.get("cell_lengths")
    return {
        "atoms": md["atoms"],
        "cell_lengths": [round(x, 4) for x in lengths] if lengths else None,
    }


# -- audio and video: ffmpeg (imageio-ffmpeg's static build) --------------------------
def ffmpeg_truth(path: Path) -> Facts | None:
    """Duration, sample rate and channels as ``ffmpeg -i`` reports them (its duration
    is printed rounded to the centisecond)."""
    import re
    import subprocess

    import imageio_ffmpeg

    probe = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    ).stderr
    duration = re.search(r"Duration: (\d+):(\d+):(\d+\.\d+)", probe)
    audio = re.search(r"Audio: .*?, (\d+) Hz, (mono|stereo|(\d+) channels)", probe)
    video = re.search(r"Video: [^\n]*?, (\d+)x(\d+)", probe)
    if not duration or not (audio or video):
        return None
    h, m, sec = duration.groups()
    out: Facts = {"duration": round(int(h) * 3600 + int(m) * 60 + float(sec), 2)}
    if audio:
        out["sample_rate"] = int(audio.group(1))
        out["channels"] = {"mono": 1, "stereo": 2}.get(audio.group(2)) or int(audio.group(3))
    if video:
        out["width"], out["height"] = int(video.group(1)), int(video.group(2))
    return out


def media_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "media")
    if "format" not in md:
        return {}
    duration = md.get("duration_seconds")
    return {
        # as ffmpeg prints it: rounded half up to the centisecond
        "duration": math.floor((duration + 0.005) * 100) / 100 if duration is not None else None,
        "sample_rate": md.get("sample_rate"),
        "channels": md.get("channels"),
        "width": md.get("width"),
        "height": md.get("height"),
    }


# -- Zarr: zarr-python reading the array (its sdist's compatibility fixtures) ---------
def zarr_arrays() -> list[Path]:
    """The ``.zarray`` files of the fixtures (a dot file has no suffix to index by)."""
    found = [p for p in corpus.files_of("", n=1 << 30, where="/fixture/") if p.name == ".zarray"]
    n = corpus.PER_KIND
    step = max(1, len(found) // n) if found else 1
    return found[::step][:n]


def zarr_truth(path: Path) -> Facts | None:
    import zarr

    try:
        array: Any = zarr.open_array(str(path.parent), mode="r", zarr_format=2)
        return {"shape": list(array.shape), "chunks": list(array.chunks)}
    except Exception:  # a codec this zarr does not know
        return None


def zarr_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "zarr")
    return {"shape": md.get("shape"), "chunks": md.get("chunks")} if md else {}
