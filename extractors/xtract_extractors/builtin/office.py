"""``office``: word-processor documents and slide decks (DOCX, PPTX, ODT, ODP), read
from their own XML parts with defusedxml, never run: document properties (title,
authors, dates), word count (the shared rule of ``_text``), headings with their
levels, tables with their sizes, slides with their titles, the embedded media, and the
text's first ``max_chars`` characters for keyword extraction.

What counts: a DOCX's body (its paragraphs and the paragraphs inside its tables; not
headers, footers, comments or footnotes); a PPTX's slides (every text frame's
paragraphs, tables' cells too; not notes); an ODT's ``office:text`` and an ODP's
pages. A heading is a paragraph whose style is named ``Heading N`` or ``Title`` (DOCX,
by the style's name, not its localised id), or a ``text:h`` (ODT)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from typing import Any

from ..registry import extractor, param
from ._packages import MAX_PART, odf_properties, ooxml_properties
from ._text import words_in

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
MAX_DOC_XML = 64 << 20  # a document part inflating past this is not read (a DOM of it
# takes several times its size, within the extractor process's memory limit)
MAX_LISTED = 500  # headings, tables, slides and media listed


def _xml(z: zipfile.ZipFile, name: str, limit: int = MAX_DOC_XML) -> Any:
    from defusedxml import ElementTree as SafeET

    info = z.getinfo(name)
    if info.file_size > limit:
        raise ValueError(f"{name} inflates to {info.file_size} bytes (limit {limit})")
    return SafeET.fromstring(z.read(info))


def _media(z: zipfile.ZipFile, folders: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {"name": i.filename, "bytes": i.file_size}
        for i in z.infolist()
        if i.filename.startswith(folders) and not i.is_dir()
    ][:MAX_LISTED]


# -- DOCX ----------------------------------------------------------------------------


def _docx_styles(z: zipfile.ZipFile) -> dict[str, str]:
    """Style id -> style name (``Heading1`` -> ``heading 1``; ids are localised)."""
    if "word/styles.xml" not in z.namelist():
        return {}
    out = {}
    for style in _xml(z, "word/styles.xml", MAX_PART).iter(_W + "style"):
        name = style.find(_W + "name")
        if name is not None:
            out[style.get(_W + "styleId", "")] = name.get(_W + "val", "")
    return out


def _heading_level(style_name: str) -> int | None:
    name = style_name.strip().lower()
    if name == "title":
        return 0
    m = re.fullmatch(r"heading\s*(\d)", name)
    return int(m.group(1)) if m else None


def _docx_paragraph_text(p: Any) -> str:
    parts = []
    for el in p.iter():
        if el.tag == _W + "t" and el.text:
            parts.append(el.text)
        elif el.tag == _W + "tab":
            parts.append("\t")
        elif el.tag in (_W + "br", _W + "cr"):
            parts.append("\n")
    return "".join(parts)


def _docx(z: zipfile.ZipFile) -> dict[str, Any]:
    styles = _docx_styles(z)
    body = _xml(z, "word/document.xml").find(_W + "body")
    paragraphs: list[str] = []
    headings: list[dict[str, Any]] = []
    headings_total = 0
    tables: list[dict[str, Any]] = []
    for el in body.iter() if body is not None else ():
        if el.tag == _W + "p":
            text = _docx_paragraph_text(el)
            paragraphs.append(text)
            style = el.find(f"{_W}pPr/{_W}pStyle")
            level = (
                _heading_level(styles.get(style.get(_W + "val", ""), ""))
                if style is not None
                else None
            )
            if level is not None and text.strip():
                headings_total += 1
                if len(headings) < MAX_LISTED:
                    headings.append({"level": level, "text": text.strip()[:300]})
        elif el.tag == _W + "tbl" and len(tables) < MAX_LISTED:
            rows = el.findall(_W + "tr")
            tables.append(
                {
                    "rows": len(rows),
                    "columns": max((len(r.findall(_W + "tc")) for r in rows), default=0),
                }
            )
    return {
        "format": "docx",
        "properties": ooxml_properties(z),
        "paragraphs": len(paragraphs),
        "headings": headings,
        "headings_total": headings_total,
        "tables": tables,
        "media": _media(z, ("word/media/",)),
        "_text": "\n".join(paragraphs),
    }


# -- PPTX ----------------------------------------------------------------------------


def _slide_order(z: zipfile.ZipFile) -> list[str]:
    """The slides' part names in presentation order (``presentation.xml``'s list, its
    relationship ids resolved), hidden ones included."""
    rels = _xml(z, "ppt/_rels/presentation.xml.rels", MAX_PART)
    target = {
        r.get("Id"): r.get("Target", "") for r in rels if r.get("Type", "").endswith("/slide")
    }
    order = []
    r_id = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    for sld in _xml(z, "ppt/presentation.xml", MAX_PART).iter(_P + "sldId"):
        t = target.get(sld.get(r_id))
        if t:
            order.append("ppt/" + t.lstrip("/").removeprefix("ppt/"))
    return order


def _drawn_text(paragraph: Any) -> str:
    """A DrawingML paragraph's text (its runs' ``a:t``)."""
    return "".join(t.text or "" for t in paragraph.iter(_A + "t"))


def _pptx(z: zipfile.ZipFile) -> dict[str, Any]:
    texts: list[str] = []
    slides: list[dict[str, Any]] = []
    tables = 0
    order = _slide_order(z)
    for number, name in enumerate(order, 1):
        root = _xml(z, name)
        title = None
        paragraphs = []
        for sp in root.iter(_P + "sp"):
            ph = sp.find(f"{_P}nvSpPr/{_P}nvPr/{_P}ph")
            shape_text = [_drawn_text(p) for p in sp.iter(_A + "p")]
            if ph is not None and ph.get("type") in ("title", "ctrTitle") and title is None:
                title = "\n".join(shape_text).strip()[:300] or None
            paragraphs.extend(shape_text)
        for frame in root.iter(_P + "graphicFrame"):
            for tbl in frame.iter(_A + "tbl"):
                tables += 1
                paragraphs.extend(_drawn_text(p) for p in tbl.iter(_A + "p"))
        texts.extend(paragraphs)
        if len(slides) < MAX_LISTED:
            slides.append(
                {
                    "number": number,
                    "title": title,
                    "words": words_in("\n".join(paragraphs)),
                    "hidden": root.get("show") == "0",
                }
            )
    return {
        "format": "pptx",
        "properties": ooxml_properties(z),
        "slide_count": len(order),
        "slides": slides,
        "tables": tables,
        "media": _media(z, ("ppt/media/",)),
        "_text": "\n".join(texts),
    }


# -- ODT / ODP -----------------------------------------------------------------------


def _odf_text(el: Any) -> str:
    """An ODF paragraph's text: its spans, ``text:s`` spaces, tabs and line breaks."""
    parts = [el.text or ""]
    for child in el:
        if child.tag == _TEXT + "s":
            parts.append(" " * int(child.get(_TEXT + "c", "1")))
        elif child.tag == _TEXT + "tab":
            parts.append("\t")
        elif child.tag == _TEXT + "line-break":
            parts.append("\n")
        elif child.tag not in (_TEXT + "note", _OFFICE + "annotation"):
            parts.append(_odf_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _odf_paragraphs(root: Any) -> Iterator[Any]:
    """Every ``text:p``/``text:h`` in document order, not those inside another one
    (a note's paragraphs are inside its citation's paragraph)."""
    for el in root:
        if el.tag in (_TEXT + "p", _TEXT + "h"):
            yield el
        else:
            yield from _odf_paragraphs(el)


def _odf(z: zipfile.ZipFile, fmt: str) -> dict[str, Any]:
    content = _xml(z, "content.xml")
    body = content.find(f"{_OFFICE}body")
    doc = body[0] if body is not None and len(body) else content
    paragraphs: list[str] = []
    headings: list[dict[str, Any]] = []
    headings_total = 0
    for p in _odf_paragraphs(doc):
        text = _odf_text(p)
        paragraphs.append(text)
        if p.tag == _TEXT + "h" and text.strip():
            headings_total += 1
            if len(headings) < MAX_LISTED:
                level = int(p.get(_TEXT + "outline-level", "1") or 1)
                headings.append({"level": level, "text": text.strip()[:300]})
    tables = [
        {
            "name": t.get(_TABLE + "name"),
            "rows": sum(
                int(r.get(_TABLE + "number-rows-repeated", "1"))
                for r in t.iter(_TABLE + "table-row")
            ),
            "columns": sum(
                int(c.get(_TABLE + "number-columns-repeated", "1"))
                for c in t.iter(_TABLE + "table-column")
            ),
        }
        for t in doc.iter(_TABLE + "table")
    ][:MAX_LISTED]
    out: dict[str, Any] = {
        "format": fmt,
        "properties": odf_properties(z.read("meta.xml")) if "meta.xml" in z.namelist() else {},
        "paragraphs": len(paragraphs),
        "headings": headings,
        "headings_total": headings_total,
        "tables": tables,
        "media": _media(z, ("Pictures/", "Media/")),
        "_text": "\n".join(paragraphs),
    }
    if fmt == "odp":
        pages = doc.findall(_DRAW + "page")
        out["slide_count"] = len(pages)
        out["slides"] = [
            {"number": i, "title": p.get(_DRAW + "name")}
            for i, p in enumerate(pages[:MAX_LISTED], 1)
        ]
    return out


def _format(z: zipfile.ZipFile) -> str:
    names = set(z.namelist())
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "content.xml" in names and "mimetype" in names:
        mime = z.read("mimetype")[:100].decode("ascii", "replace")
        for fmt in ("text", "presentation"):
            if mime.startswith(f"application/vnd.oasis.opendocument.{fmt}"):
                return "odt" if fmt == "text" else "odp"
    raise ValueError("not a DOCX, PPTX, ODT or ODP package")


@extractor(
    "office",
    kinds=["document"],
    extensions=["docx", "docm", "pptx", "pptm", "odt", "odp"],
    mimetypes=[
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.presentation",
    ],
    version="1.0",
    fields={
        "format": "string",
        "word_count": "int64",
        "paragraphs": "int64",
        "headings_total": "int64",
        "slide_count": "int64",
        "characters": "int64",
    },
    family="documents",
)
@param("max_chars", int, default=20_000, high=10_000_000, desc="characters of text kept")
def office(path: str, max_chars: int = 20_000) -> dict[str, Any]:
    """Properties, word count, headings, tables, slides and media of a DOCX, PPTX, ODT
    or ODP document, and the start of its text."""
    with zipfile.ZipFile(path) as z:
        fmt = _format(z)
        out = _docx(z) if fmt == "docx" else _pptx(z) if fmt == "pptx" else _odf(z, fmt)
    text = out.pop("_text")
    out["word_count"] = words_in(text)
    out["characters"] = len(text)
    out["text"] = text[:max_chars]
    out["text_truncated"] = len(text) > max_chars
    return out
