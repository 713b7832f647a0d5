"""What each kind of file holds, by the format's reference reader, at test time.

Each :class:`Kind` names the files it covers, the extractor whose fields it checks, a
``truth`` function (the reference reader: Python's own ``csv``, ``ast``, ``json``,
``gzip``, ``html.parser``, ElementTree, PIL, markdown-it (CommonMark), ``hashlib``)
giving ``{fact: value}``, and a ``said`` function reading the same facts off Xtract's
document. ``truth`` returns ``None`` for a file its reader cannot establish facts for
(not valid in the format at all); such files are skipped, not counted. No value is
typed in here: every expected value comes from the reader.
"""

from __future__ import annotations

import ast
import csv
import gzip
import hashlib
import html.parser
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from tests.truth import corpus
from tests.truth import research as r

Facts = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    name: str
    extractor: str
    files: Callable[[], list[Path]]
    truth: Callable[[Path], Facts | None]
    said: Callable[[dict[str, Any]], Facts]
    # the facts a document declares partial (a list that may miss some): each item it
    # lists must be in the truth, but it need not list them all
    partial: Callable[[dict[str, Any]], set[str]] = lambda doc: set()


def _md(doc: dict[str, Any], extractor: str) -> dict[str, Any]:
    return doc["metadata"].get(extractor) or {}


# -- every file: what filetype says of its bytes ------------------------------------------
def file_truth(path: Path) -> Facts:
    return {"size": path.stat().st_size, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def file_said(doc: dict[str, Any]) -> Facts:
    ft = _md(doc, "filetype")
    return {"size": ft.get("size"), "sha256": ft.get("sha256")}


# -- tables: Python's csv with the format's own delimiter -------------------------------
_DELIMITER = {".csv": ",", ".tsv": "\t", ".tab": "\t"}


def table_truth(path: Path) -> Facts | None:
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    records = list(csv.reader(lines, delimiter=_DELIMITER[path.suffix.lower()]))
    if len(records) < 2 or max(len(r) for r in records) < 2:
        return None  # not a table in its own format: nothing to check
    return {
        "delimiter": _DELIMITER[path.suffix.lower()],
        "records": len(records),  # rows plus the header, if there is one
        "columns": max(len(r) for r in records),
    }


def table_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "tabular")
    rows = md.get("rows")
    return {
        "delimiter": md.get("delimiter"),
        "records": None if rows is None else rows + int(bool(md.get("header"))),
        "columns": md.get("columns"),
    }


# -- Python: the ast module ----------------------------------------------------------------
def python_truth(path: Path) -> Facts | None:
    source = path.read_bytes()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    imports = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imports.add("." * node.level + (node.module or ""))
    top = tree.body
    return {
        "functions": [n.name for n in top if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)],
        "classes": [n.name for n in top if isinstance(n, ast.ClassDef)],
        "imports": sorted(imports),
        "lines": len(source.decode("utf-8", "replace").splitlines()),
    }


def python_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "python")
    return {
        "functions": [f["name"] for f in md.get("functions", [])] if "functions" in md else None,
        "classes": [c["name"] for c in md.get("classes", [])] if "classes" in md else None,
        "imports": md.get("imports"),
        "lines": md.get("lines"),
    }


# -- images: PIL ---------------------------------------------------------------------------
def image_truth(path: Path) -> Facts | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return {"format": im.format, "width": im.width, "height": im.height, "mode": im.mode}
    except Exception:  # not an image PIL reads: nothing to check
        return None


def image_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "images")
    return {k: md.get(k) for k in ("format", "width", "height", "mode")}


# -- JSON: the json module -----------------------------------------------------------------
_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}


def json_truth(path: Path) -> Facts | None:
    try:
        value = json.loads(path.read_bytes())
    except ValueError:
        return None
    kind = _JSON_TYPES.get(type(value), "number")
    facts: Facts = {"root_type": kind}
    if isinstance(value, dict):
        facts["top_level_keys"] = list(value)[:100]
    return facts


def json_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "jsonxml")
    return {"root_type": md.get("root_type"), "top_level_keys": md.get("top_level_keys")}


# -- XML: ElementTree ----------------------------------------------------------------------
def xml_truth(path: Path) -> Facts | None:
    try:
        root = ElementTree.parse(path).getroot()
    except Exception:  # not well-formed, or refused (entities): nothing to check
        return None
    return {"root": root.tag, "elements": sum(1 for _ in root.iter())}


def xml_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "jsonxml") or _md(doc, "svg")
    return {"root": md.get("root"), "elements": md.get("elements")}


# -- SVG: ElementTree, the size as the file writes it ----------------------------------------
def svg_truth(path: Path) -> Facts | None:
    import re

    try:
        root = ElementTree.parse(path).getroot()
    except Exception:
        return None
    facts: Facts = {"root": root.tag, "elements": sum(1 for _ in root.iter())}
    for name in ("width", "height"):
        given = re.fullmatch(r"\s*([-+0-9.eE]+)\s*([a-z%]*)\s*", root.get(name) or "")
        if given:
            facts[name] = float(given.group(1))
            facts[f"{name}_unit"] = given.group(2) or "px"
    return facts


def svg_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "svg")
    keys = ("root", "elements", "width", "width_unit", "height", "height_unit")
    return {k: md.get(k) for k in keys}


# -- gzip: the gzip module -----------------------------------------------------------------
def gzip_truth(path: Path) -> Facts | None:
    try:
        inner = gzip.decompress(path.read_bytes())
    except (OSError, EOFError):
        return None
    return {"inner_size": len(inner)}


def gzip_said(doc: dict[str, Any]) -> Facts:
    return {"inner_size": _md(doc, "compressed").get("inner_size")}


# -- archives: zipfile and tarfile ---------------------------------------------------------
def archive_truth(path: Path) -> Facts | None:
    import tarfile
    import zipfile

    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            files = [i for i in infos if not i.is_dir()]
            return {
                "format": "zip",
                "every member typed": True,
                "member_count": len(infos),
                "total_size": sum(i.file_size for i in files) if len(infos) <= 1000 else None,
            }
    try:
        with tarfile.open(path) as t:
            members = t.getmembers()
    except (tarfile.TarError, OSError):
        return None
    return {
        "format": "tar",
        "every member typed": True,
        "member_count": len(members),
        "total_size": sum(m.size for m in members if m.isfile()) if len(members) <= 1000 else None,
    }


def archive_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "archive")
    typed = all(m.get("mimetype") not in (None, "?") for m in md.get("members", []) if not m["dir"])
    return {
        "format": md.get("format"),
        "member_count": md.get("member_count"),
        "total_size": md.get("total_size") if md.get("member_count", 0) <= 1000 else None,
        "every member typed": typed,
    }


# -- manual pages: man-db's lexgrog (what apropos and whatis index) --------------------------
def manpage_truth(path: Path) -> Facts | None:
    import subprocess

    if gzip.decompress(path.read_bytes())[:4] == b".so ":
        return None  # a page that includes another: lexgrog follows it, Xtract names it
    out = subprocess.run(["lexgrog", str(path)], capture_output=True, text=True).stdout
    found = [re.match(r'^.*?: "(.*?) - (.*)"\s*$', line) for line in out.splitlines()]
    if not found or not all(found):
        return None  # lexgrog finds no NAME line ("parse failed"): nothing to compare
    return {
        "names": [m.group(1).strip() for m in found if m],
        "description": " ".join(found[0].group(2).split()) if found[0] else None,
    }


def manpage_said(doc: dict[str, Any]) -> Facts:
    inner = _md(doc, "compressed").get("inner_metadata", {}).get("manpage")
    md = inner if inner is not None else _md(doc, "manpage")
    return {"names": md.get("names"), "description": md.get("description")}


# -- gettext catalogs: GNU gettext's msgunfmt -----------------------------------------------
def gettext_truth(path: Path) -> Facts | None:
    import subprocess

    done = subprocess.run(["msgunfmt", str(path)], capture_output=True, text=True, errors="replace")
    if done.returncode:
        return None
    entries = re.findall(r'^msgid "(.*)"$', done.stdout, re.M)
    facts: Facts = {"messages": len(entries) - (1 if entries and entries[0] == "" else 0)}
    if entries and entries[0] == "":  # msgunfmt prints a header: its Language
        header = re.search(r'^"Language: ([^\\"]*)', done.stdout, re.M)
        facts["language"] = (header.group(1).strip() or None) if header else None
    return facts


def gettext_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "gettext")
    return {"messages": md.get("messages"), "language": md.get("language")}


# -- fonts: fontconfig's fc-query ----------------------------------------------------------
def font_truth(path: Path) -> Facts | None:
    import subprocess

    fmt = "%{family[0]}\\t%{style[0]}\\t%{fontformat}\\n"
    done = subprocess.run(
        ["fc-query", "-i", "0", "-f", fmt, str(path)], capture_output=True, text=True
    )
    fields = done.stdout.split("\n")[0].split("\t")
    if done.returncode or len(fields) != 3:
        return None
    return {"family": fields[0], "style": fields[1], "format": fields[2]}


def font_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "font")
    return {"family": md.get("family"), "style": md.get("style"), "format": md.get("format")}


# -- certificates: openssl x509 -------------------------------------------------------------
def certificate_truth(path: Path) -> Facts | None:
    import subprocess

    done = subprocess.run(
        [
            "openssl",
            "x509",
            "-in",
            str(path),
            "-noout",
            "-serial",
            "-subject",
            "-nameopt",
            "RFC2253,-esc_msb,utf8",  # RFC 2253, non-ASCII as UTF-8 (not \\C4\\9F)
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        return None
    found = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return {"serial": found.get("serial"), "subject": found.get("subject")}


def certificate_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "certificate")
    return {"serial": md.get("serial"), "subject": md.get("subject")}


# -- configuration: tomllib, PyYAML's safe_load, configparser --------------------------------
def config_truth(path: Path) -> Facts | None:
    import configparser
    import tomllib

    import yaml

    text = path.read_bytes().decode("utf-8", "replace")
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            doc: Any = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            doc = yaml.safe_load(text)
        else:
            parser = configparser.RawConfigParser(strict=False, interpolation=None)
            parser.read_string(text)
            return {"sections": parser.sections()[:200]}
    except Exception:  # not valid in its own syntax: nothing to check
        return None
    return {"top_level_keys": [str(k) for k in doc][:200] if isinstance(doc, dict) else None}


def config_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "config")
    return {"sections": md.get("sections"), "top_level_keys": md.get("top_level_keys")}


# -- HDF5: h5py ----------------------------------------------------------------------------
def hdf5_truth(path: Path) -> Facts | None:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            found: list[str] = []
            f.visititems(
                lambda name, obj: (
                    found.append("/" + name) if isinstance(obj, h5py.Dataset) else None
                )
            )
            return {"datasets": sorted(found)}
    except Exception:
        return None


def hdf5_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "hdf5")
    return {"datasets": sorted(d["name"] for d in md["datasets"]) if "datasets" in md else None}


# -- NumPy arrays: numpy.load, memory-mapped, never a pickle ---------------------------------
def numpy_truth(path: Path) -> Facts | None:
    import numpy

    try:
        loaded = numpy.load(path, mmap_mode="r", allow_pickle=False)
        arrays: dict[str | None, Any]
        if isinstance(loaded, numpy.lib.npyio.NpzFile):
            with loaded:
                arrays = {name: loaded[name] for name in loaded.files}
        else:
            arrays = {None: loaded}
    except Exception:  # an object array (pickled data), or not an array file
        return None
    return {
        "arrays": sorted(
            [
                [str(n) if n is not None else None, list(a.shape), str(a.dtype)]
                for n, a in arrays.items()
            ],
            key=str,
        )
    }


def numpy_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "numpy")
    arrays = md.get("arrays")
    if arrays is None:
        return {"arrays": None}
    return {"arrays": sorted([[a["name"], a["shape"], a["dtype"]] for a in arrays], key=str)}


# -- PDF: pypdf -----------------------------------------------------------------------------
def pdf_truth(path: Path) -> Facts | None:
    import pypdf

    try:
        return {"pages": len(pypdf.PdfReader(path).pages)}
    except Exception:
        return None


def pdf_said(doc: dict[str, Any]) -> Facts:
    return {"pages": _md(doc, "pdf").get("pages")}


# -- NetCDF: netCDF4 ------------------------------------------------------------------------
def netcdf_truth(path: Path) -> Facts | None:
    import netCDF4

    try:
        with netCDF4.Dataset(path) as ds:
            return {"dimensions": sorted(ds.dimensions), "variables": sorted(ds.variables)}
    except Exception:
        return None


def netcdf_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "netcdf")
    dims, variables = md.get("dimensions"), md.get("variables")
    return {
        "dimensions": sorted(dims) if isinstance(dims, dict | list) else None,
        "variables": sorted(variables) if isinstance(variables, dict | list) else None,
    }


# -- HTML: html.parser ---------------------------------------------------------------------
class _Title(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inside, self.done = False, False
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.inside = tag == "title" and not self.done

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self.inside:
            self.inside, self.done = False, True

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.parts.append(data)


def html_truth(path: Path) -> Facts | None:
    parser = _Title()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    title = " ".join("".join(parser.parts).split()) or None
    return {"title": title}


def html_said(doc: dict[str, Any]) -> Facts:
    return {"title": _md(doc, "html").get("title")}


# -- Markdown: markdown-it (CommonMark) ----------------------------------------------------
def markdown_truth(path: Path) -> Facts | None:
    from markdown_it import MarkdownIt

    text = path.read_text(encoding="utf-8", errors="replace")
    if text.startswith("---\n"):  # YAML front matter, as Jekyll and GitHub take it
        end = text.find("\n---", 4)
        if end > 0:
            text = text[text.index("\n", end + 1) + 1 :] if "\n" in text[end + 1 :] else ""
    tokens = MarkdownIt("commonmark").parse(text)
    headings = []
    for i, t in enumerate(tokens):
        if t.type == "heading_open":
            headings.append([int(t.tag[1]), tokens[i + 1].content.strip()])
    inline = [c for t in tokens if t.type == "inline" for c in t.children or []]
    return {
        "headings": headings[:100],
        "code_blocks": sum(1 for t in tokens if t.type in ("fence", "code_block")),
        # the full parser, emphasis and link normalising included (the extractor's is trimmed)
        "links": sum(1 for c in inline if c.type == "link_open"),
        "images": sum(1 for c in inline if c.type == "image"),
    }


def markdown_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "markdown")
    keys = ("headings", "code_blocks", "links", "images")
    return {k: md.get(k) for k in keys}


# -- words: LC_ALL=C.UTF-8 wc -w, over the whole file, for text in UTF-8 ---------------------
def words_truth(path: Path) -> Facts | None:
    import subprocess

    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None  # words of text in another encoding: wc cannot say
    out = subprocess.run(
        ["wc", "-w", str(path)], env={"LC_ALL": "C.UTF-8"}, capture_output=True, text=True
    ).stdout.split()
    return {"word_count": int(out[0])}


def words_said(doc: dict[str, Any]) -> Facts:
    return {"word_count": _md(doc, "keyword").get("word_count")}


# -- C prototypes: the compiler (gcc's -aux-info lists each prototype it declared) -------
_GCC: dict[str, tuple[set[tuple[int, str]], set[int]] | None] = {}


def _gcc_view(path: Path) -> tuple[set[tuple[int, str]], set[int]] | None:
    """The prototypes gcc declares from ``path`` itself (line, name as compiled) and the
    lines of ``path`` the preprocessor kept (not in an ``#if`` branch it skipped)."""
    key = os.fspath(path)
    if key not in _GCC:
        _GCC[key] = None
        with tempfile.TemporaryDirectory() as tmp:
            aux = Path(tmp) / "aux.txt"
            compiled = subprocess.run(
                ["gcc", "-fsyntax-only", "-aux-info", str(aux), "-x", "c", key],
                capture_output=True,
            )
            if compiled.returncode == 0:  # a header gcc cannot compile alone: no truth
                real = os.path.realpath(key)
                declared = set()
                for line in aux.read_text(errors="replace").splitlines():
                    m = re.match(r"/\* (.*):(\d+):(\w\w) \*/ .*?(\w+) \((?!\*)", line)
                    if m and m[3][1] == "C" and os.path.realpath(m[1]) == real:
                        declared.add((int(m[2]), m[4]))
                _GCC[key] = (declared, _kept_lines(key))
    return _GCC[key]


def _kept_lines(path: str) -> set[int]:
    """The non-blank lines of ``path`` in ``gcc -E``'s output, by its line markers."""
    out = subprocess.run(["gcc", "-E", "-x", "c", path], capture_output=True, text=True)
    kept, here, line = set(), False, 0
    real = os.path.realpath(path)
    for text in out.stdout.splitlines():
        marker = re.match(r'# (\d+) "(.*)"', text)
        if marker:
            line, here = int(marker[1]), os.path.realpath(marker[2]) == real
            continue
        if here and text.strip():
            kept.add(line)
        line += 1
    return kept


def _as_compiled(path: str, names: list[str]) -> list[str]:
    """Each name as the compiler sees it after the header's macros (ICU's ``uset_add`` is
    ``uset_add_72``)."""
    if not names:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.c"
        probe.write_text(f'#include "{path}"\n' + "".join(f"@@ {n}\n" for n in names))
        out = subprocess.run(["gcc", "-E", "-P", str(probe)], capture_output=True, text=True)
    expanded = [ln[3:].strip() for ln in out.stdout.splitlines() if ln.startswith("@@ ")]
    return expanded if len(expanded) == len(names) else names


def c_truth(path: Path) -> Facts | None:
    view = _gcc_view(path)
    return None if view is None else {"prototypes": sorted(view[0])}


def c_said(doc: dict[str, Any]) -> Facts:
    md = _md(doc, "c_code")
    view = _gcc_view(Path(doc["path"]))
    if "prototypes" not in md or view is None:
        return {"prototypes": None}
    # what Xtract lists in a branch the compiler skipped is in the file but not compiled
    listed = [p for p in md["prototypes"] if p["line"] in view[1]]
    names = _as_compiled(doc["path"], [p["name"] for p in listed])
    return {"prototypes": sorted((p["line"], n) for p, n in zip(listed, names, strict=True))}


def c_partial(doc: dict[str, Any]) -> set[str]:
    return set() if _md(doc, "c_code").get("prototypes_complete", True) else {"prototypes"}


KINDS = [
    Kind(
        "csv/tsv/tab",
        "tabular",
        lambda: corpus.files_of("csv", "tsv", "tab"),
        table_truth,
        table_said,
    ),
    Kind("python", "python", corpus.python_files, python_truth, python_said),
    Kind("png", "images", lambda: corpus.files_of("png"), image_truth, image_said),
    Kind("gif", "images", lambda: corpus.files_of("gif"), image_truth, image_said),
    Kind("jpeg", "images", lambda: corpus.files_of("jpg", "jpeg"), image_truth, image_said),
    Kind("json", "jsonxml", lambda: corpus.files_of("json"), json_truth, json_said),
    Kind("xml", "jsonxml", lambda: corpus.files_of("xml"), xml_truth, xml_said),
    Kind("svg", "svg", lambda: corpus.files_of("svg"), svg_truth, svg_said),
    Kind("gzip", "compressed", lambda: corpus.files_of("gz"), gzip_truth, gzip_said),
    Kind(
        "zip/jar/wheel/tar",
        "archive",
        lambda: corpus.files_of("zip", "jar", "whl", "tar"),
        archive_truth,
        archive_said,
    ),
    Kind(
        "manual pages",
        "manpage",
        lambda: corpus.files_of("gz", where="/man/", distinct=7),
        manpage_truth,
        manpage_said,
    ),
    Kind("gettext", "gettext", lambda: corpus.files_of("mo"), gettext_truth, gettext_said),
    Kind("python stubs", "python", lambda: corpus.files_of("pyi"), python_truth, python_said),
    Kind("fonts", "font", lambda: corpus.files_of("ttf", "otf"), font_truth, font_said),
    Kind(
        "certificates",
        "certificate",
        # not the stdlib's test data: it holds certificates broken on purpose
        lambda: [p for p in corpus.files_of("crt", "pem", n=300) if "test" not in p.parts][
            : corpus.PER_KIND
        ],
        certificate_truth,
        certificate_said,
    ),
    Kind("toml", "config", lambda: corpus.files_of("toml"), config_truth, config_said),
    Kind("yaml", "config", lambda: corpus.files_of("yaml", "yml"), config_truth, config_said),
    Kind(
        "ini (.ini, .cfg, .desktop)",
        "config",
        lambda: corpus.files_of("ini", "cfg", "desktop"),
        config_truth,
        config_said,
    ),
    Kind("hdf5", "hdf5", lambda: corpus.files_of("h5", "hdf5"), hdf5_truth, hdf5_said),
    Kind("numpy", "numpy", lambda: corpus.files_of("npy", "npz"), numpy_truth, numpy_said),
    Kind("pdf", "pdf", lambda: corpus.files_of("pdf"), pdf_truth, pdf_said),
    Kind("netcdf", "netcdf", lambda: corpus.files_of("nc"), netcdf_truth, netcdf_said),
    Kind("xpm", "images", lambda: corpus.files_of("xpm"), image_truth, image_said),
    Kind("html", "html", lambda: corpus.files_of("html"), html_truth, html_said),
    Kind("markdown", "markdown", lambda: corpus.files_of("md"), markdown_truth, markdown_said),
    Kind("text words", "keyword", lambda: corpus.files_of("txt"), words_truth, words_said),
    Kind(
        "C headers",
        "c_code",
        lambda: corpus.files_of("h", where="/usr/include/"),
        c_truth,
        c_said,
        c_partial,
    ),
    # the research formats (issue 23): Debian's R packages' example data and sdists'
    # test files unpacked by `make samples`, and the readers' own packages' files
    Kind(
        "xlsx", "spreadsheet", lambda: r.samples("xlsx", "xlsm"), r.xlsx_truth, r.spreadsheet_said
    ),
    Kind("xls", "spreadsheet", lambda: r.samples("xls"), r.xls_truth, r.spreadsheet_said),
    Kind("ods", "spreadsheet", lambda: r.samples("ods"), r.ods_truth, r.spreadsheet_said),
    Kind("docx", "office", lambda: r.samples("docx"), r.docx_truth, r.office_said),
    Kind("pptx", "office", lambda: r.samples("pptx"), r.pptx_truth, r.office_said),
    Kind("odt/odp", "office", lambda: r.samples("odt", "odp"), r.odf_text_truth, r.office_said),
    Kind("tiff", "tiff", lambda: r.samples("tif", "tiff"), r.tiff_truth, r.tiff_said),
    Kind("dicom", "dicom", lambda: r.samples("dcm"), r.dicom_truth, r.dicom_said),
    Kind(
        "nifti",
        "nifti",
        lambda: r.samples("nii") + r.samples("gz", where=".nii.gz"),
        r.nifti_truth,
        r.nifti_said,
    ),
    Kind("fits", "fits", lambda: r.samples("fits", "fit", "fts"), r.fits_truth, r.fits_said),
    Kind(
        "parquet/feather/orc",
        "columnar",
        lambda: r.samples("parquet", "feather", "arrow", "orc"),
        r.columnar_truth,
        r.columnar_said,
    ),
    Kind(
        "spss/stata/sas",
        "statistics",
        lambda: r.samples("sav", "dta", "sas7bdat", "xpt"),
        r.stats_truth,
        r.stats_said,
    ),
    Kind("matlab", "matlab", lambda: r.samples("mat"), r.matlab_truth, r.matlab_said),
    Kind("wav", "media", lambda: r.samples("wav"), r.wav_truth, r.audio_said),
    Kind("fasta", "sequences", lambda: r.samples("fa", "fasta"), r.fasta_truth, r.sequences_said),
    Kind(
        "fastq",
        "sequences",
        lambda: r.samples("fastq", "fq") + r.samples("gz", where="fastq"),
        r.fastq_truth,
        r.sequences_said,
    ),
    Kind("vcf", "sequences", lambda: r.samples("vcf"), r.vcf_truth, r.sequences_said),
    Kind("sam", "sequences", lambda: r.samples("sam"), r.sam_truth, r.sequences_said),
    Kind(
        "ogg/mp3 audio",
        "media",
        lambda: r.samples("oga", "ogg", "mp3"),
        r.ffmpeg_truth,
        r.media_said,
    ),
    Kind("mp4 video", "media", lambda: r.samples("mp4", "mov"), r.ffmpeg_truth, r.media_said),
    Kind(
        "zarr arrays",
        "zarr",
        r.zarr_arrays,
        r.zarr_truth,
        r.zarr_said,
    ),
    Kind("cif", "materials", lambda: r.samples("cif"), r.cif_truth, r.materials_said),
    Kind(
        "vasp",
        "materials",
        lambda: r.samples("xml", where="vasprun") + r.samples("", where="/OUTCAR"),
        r.vasp_truth,
        r.materials_said,
    ),
    Kind("xyz", "materials", lambda: r.samples("xyz"), r.xyz_truth, r.materials_said),
]


def all_files() -> list[Path]:
    """Every file of every kind (each is also checked for its size and checksum)."""
    seen: dict[str, Path] = {}
    for kind in KINDS:
        for path in kind.files():
            seen.setdefault(os.fspath(path), path)
    return list(seen.values())
