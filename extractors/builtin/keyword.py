"""``keyword``: the words that matter in a text, with YAKE (statistical, ships its own
stop-word lists, downloads nothing), its language (langdetect), and its word count.
Reads plain text, and the text of PDF (pypdf) and DOCX (python-docx) files."""

from __future__ import annotations

import re
from typing import Any

from ..registry import extractor, param
from ._common import decode_text, need

_WORD = re.compile(r"\w+", re.UNICODE)
_SPACED = re.compile(rb"\S+")
_YAKE_LANGS = {
    "ar",
    "bg",
    "br",
    "cz",
    "da",
    "de",
    "el",
    "en",
    "es",
    "et",
    "fa",
    "fi",
    "fr",
    "hi",
    "hr",
    "hu",
    "hy",
    "id",
    "it",
    "ja",
    "lt",
    "lv",
    "nl",
    "no",
    "pl",
    "pt",
    "ro",
    "ru",
    "sk",
    "sl",
    "sv",
    "tr",
    "uk",
    "zh",
}


def _text_of(path: str, max_chars: int) -> tuple[str, int, list[str], str]:
    """(text for keywords, total words, warnings, source format)."""
    lower = path.lower()
    if lower.endswith(".pdf") or _starts_with(path, b"%PDF"):
        pypdf = need("pypdf", "keyword")
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise PermissionError("the PDF is encrypted; no text to read")
        parts, size = [], 0
        for page in reader.pages:
            t = page.extract_text() or ""
            parts.append(t)
            size += len(t)
            if size >= max_chars:
                break
        text = "\n".join(parts)
        return text[:max_chars], len(_WORD.findall(text)), [], "pdf"
    if lower.endswith(".docx"):
        docx = need("docx", "keyword")
        text = "\n".join(p.text for p in docx.Document(path).paragraphs)
        return text[:max_chars], len(_WORD.findall(text)), [], "docx"
    words = 0
    with open(path, "rb") as f:
        head = f.read(max_chars)
        if b"\x00" in head[:8192]:
            raise ValueError("binary data (NUL bytes), not text")
        text, warnings = decode_text(head)
        words = len(_WORD.findall(text))
        if len(head) == max_chars:
            words = len(_SPACED.findall(head))  # beyond the sample, words are what spaces split
            previous = head
            for chunk in iter(lambda: f.read(1 << 20), b""):
                words += len(_SPACED.findall(chunk))
                if not previous[-1:].isspace() and not chunk[:1].isspace():
                    words -= 1  # one word cut in two by the chunk boundary
                previous = chunk
    return text, words, warnings, "text"


def _starts_with(path: str, magic: bytes) -> bool:
    with open(path, "rb") as f:
        return f.read(len(magic)) == magic


# characters langdetect reads: on 120 Debian text files the first 3,000 gave the same
# language as the first 20,000 for every file, in 4.9 ms against 11.2 ms (bench/
# bench_keywords.py); 5,000 keeps a margin
LANGUAGE_SAMPLE = 5_000


def _language(text: str) -> str | None:
    try:
        from langdetect import DetectorFactory, detect
    except ImportError:
        return None
    DetectorFactory.seed = 0  # the same text gives the same answer every time
    try:
        return str(detect(text[:LANGUAGE_SAMPLE]))
    except Exception:  # langdetect raises when it finds no letters
        return None


@extractor(
    "keyword",
    kinds=["text"],
    extensions=["txt", "md", "rst", "log", "tex", "readme", "docx", "rtf"],
    mimetypes=[
        "text/plain",
        "text/markdown",
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ],
    version="1.0",
    family="keyword",
)
@param("top", int, default=20, low=1, high=200, desc="keywords returned")
@param("ngram", int, default=2, low=1, high=5, desc="longest keyword, in words")
@param("max_chars", int, default=100_000, high=10_000_000, desc="characters read for keywords")
def keyword(path: str, top: int = 20, ngram: int = 2, max_chars: int = 100_000) -> dict[str, Any]:
    """Top keywords with scores (lower is more relevant), language and word count."""
    text, words, warnings, source = _text_of(path, max_chars)
    out: dict[str, Any] = {"source": source, "word_count": words, **keywords_of(text, top, ngram)}
    if not text.strip():
        warnings.append("no text found")
    if warnings:
        out["warnings"] = warnings
    return out


def keywords_of(text: str, top: int = 20, ngram: int = 2) -> dict[str, Any]:
    """``{language, characters_read, keywords: [[keyword, score]]}`` of some text (the
    extractors that pull text out of markup use it too)."""
    language = _language(text)
    out: dict[str, Any] = {"language": language, "characters_read": len(text), "keywords": []}
    if text.strip():
        yake = need("yake", "keyword")
        lan = language if language in _YAKE_LANGS else "en"
        found = yake.KeywordExtractor(lan=lan, n=ngram, top=top).extract_keywords(text)
        out["keywords"] = [[k, round(float(s), 6)] for k, s in found]
    return out
