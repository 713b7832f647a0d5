"""Document properties of the zip-packaged office formats, read from their own XML
parts with defusedxml (no entities, no DTD fetches): Office Open XML's
``docProps/core.xml`` (XLSX, DOCX, PPTX) and OpenDocument's ``meta.xml`` (ODS, ODT,
ODP). Only what the file states: a library that fills a missing date with the time
of reading (openpyxl does) is not asked."""

from __future__ import annotations

import zipfile
from typing import Any

_DC = "{http://purl.org/dc/elements/1.1/}"
_DCTERMS = "{http://purl.org/dc/terms/}"
_CP = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"
_ODF_META = "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}"
MAX_PART = 4 << 20  # a properties part larger than this is not read

_OOXML = {
    _DC + "title": "title",
    _DC + "subject": "subject",
    _DC + "creator": "creator",
    _DC + "description": "description",
    _DC + "language": "language",
    _CP + "keywords": "keywords",
    _CP + "lastModifiedBy": "last_modified_by",
    _CP + "category": "category",
    _CP + "revision": "revision",
    _DCTERMS + "created": "created",
    _DCTERMS + "modified": "modified",
}

_ODF = {
    _DC + "title": "title",
    _DC + "subject": "subject",
    _DC + "description": "description",
    _DC + "creator": "last_modified_by",
    _DC + "date": "modified",
    _DC + "language": "language",
    _ODF_META + "initial-creator": "creator",
    _ODF_META + "creation-date": "created",
    _ODF_META + "generator": "generator",
    _ODF_META + "keyword": "keywords",
}


def _part(z: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = z.getinfo(name)
    except KeyError:
        return None
    return z.read(info) if info.file_size <= MAX_PART else None


def _collect(xml: bytes, keys: dict[str, str]) -> dict[str, Any]:
    from defusedxml import ElementTree as SafeET

    out: dict[str, Any] = {}
    for el in SafeET.fromstring(xml).iter():
        key = keys.get(el.tag)
        if key and el.text and el.text.strip():
            text = el.text.strip()
            out[key] = f"{out[key]}, {text}" if key in out else text
        elif el.tag == _ODF_META + "document-statistic":
            out["statistics"] = {k.split("}")[-1]: int(v) for k, v in el.attrib.items()}
    return out


def ooxml_properties(z: zipfile.ZipFile) -> dict[str, Any]:
    """An Office Open XML package's core properties, as the file states them."""
    xml = _part(z, "docProps/core.xml")
    return _collect(xml, _OOXML) if xml else {}


def odf_properties(xml: bytes) -> dict[str, Any]:
    """An OpenDocument ``meta.xml``'s properties (title, creator, dates, statistics)."""
    return _collect(xml, _ODF)
