"""``pdf``: pages, document information and encryption of a PDF, with pypdf."""

from __future__ import annotations

from typing import Any

from ..registry import extractor
from ._common import jsonable, need, step


@extractor(
    "pdf",
    kinds=["document"],
    extensions=["pdf"],
    mimetypes=["application/pdf"],
    version="1.0",
    family="pdf",
)
def pdf(path: str) -> dict[str, Any]:
    """Page count, document info (title, author, dates, ...) and the encryption flag."""
    pypdf = need("pypdf", "pdf")
    reader = pypdf.PdfReader(path, strict=False)
    out: dict[str, Any] = {"encrypted": reader.is_encrypted, "pdf_header": reader.pdf_header}
    if reader.is_encrypted and not reader.decrypt(""):
        out["warnings"] = ["encrypted with a password; only the encryption flag is known"]
        return out
    out["pages"] = len(reader.pages)
    info = step(out, "info", lambda: reader.metadata or {})  # a broken info dictionary
    out["info"] = {str(k).lstrip("/"): jsonable(v) for k, v in (info or {}).items()}
    if reader.pages:
        size = step(out, "page_size", _page_size, reader)
        if size is not None:
            out["page_size"] = size
    return out


def _page_size(reader: Any) -> list[float]:
    box = reader.pages[0].mediabox
    return [float(box.width), float(box.height)]
