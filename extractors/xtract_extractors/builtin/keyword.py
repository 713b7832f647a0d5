"""``keyword``: the words that matter in a text, with YAKE (statistical, ships its own
stop-word lists, downloads nothing), its language (py3langid), and its word count.
Reads plain text, and the text of PDF (pypdf) and DOCX (python-docx) files.

YAKE runs as ``yake-rust``, the Rust port of the reference implementation: on 120 of
Debian's text files it is 6x cheaper per file than the ``yake`` package, and 99% of
its top 10 keywords are in ``yake``'s top 40 (81% in its top 10: the two order the
keywords near the cut-off differently); ``bench/bench_keywords.py`` measures both.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..registry import extractor, param
from ._common import decode_text, need, step
from ._text import count_stream, words_in

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


def _text_of(path: str, max_chars: int) -> tuple[str, int, list[str], dict[str, Any]]:
    """(text for keywords, total words, warnings, what the source is: ``{source}`` and,
    for plain text, its ``encoding`` and ``lines``)."""
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
        # the words of every page, the keywords' text from the first max_chars
        words = sum(words_in(t) for t in parts)
        for page in reader.pages[len(parts) :]:
            words += words_in(page.extract_text() or "")
        text = "\n".join(parts)
        return text[:max_chars], words, [], {"source": "pdf"}
    if lower.endswith(".docx"):
        docx = need("docx", "keyword")
        text = "\n".join(p.text for p in docx.Document(path).paragraphs)
        return text[:max_chars], words_in(text), [], {"source": "docx"}
    with open(path, "rb") as f:
        head = f.read(max_chars)
        if b"\x00" in head[:8192]:
            raise ValueError("binary data (NUL bytes), not text")
        text, warnings = decode_text(head)
        encoding = "utf-8"
        if warnings:  # not UTF-8: read it as what it looks like, if anything
            encoding = _encoding_guess(head)
            if encoding != "unknown":
                text = head.decode(encoding, errors="replace")
                warnings = [f"not valid UTF-8; read as {encoding} (a guess from its bytes)"]
        words, lines = count_stream(f, head, encoding if encoding != "unknown" else "latin-1")
    return text, words, warnings, {"source": "text", "encoding": encoding, "lines": lines}


def _encoding_guess(head: bytes) -> str:
    """The encoding of text that is not UTF-8, as charset-normalizer guesses it from
    the sample (``unknown`` where it cannot, or is not installed)."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:
        return "unknown"
    best = from_bytes(head[:65536]).best()
    return str(best.encoding) if best is not None else "unknown"


def _starts_with(path: str, magic: bytes) -> bool:
    with open(path, "rb") as f:
        return f.read(len(magic)) == magic


# characters the language is told from: on 120 Debian text files the first 3,000 gave
# the same language as the first 20,000 for every file; 5,000 keeps a margin
LANGUAGE_SAMPLE = 5_000


def _language(text: str) -> str | None:
    """The text's language (ISO 639-1), by py3langid (langid.py's model on NumPy:
    1.2 ms a file where langdetect took 6 to 9, the same answer on 119 of 120 Debian
    text files); None for text with no letters."""
    sample = text[:LANGUAGE_SAMPLE]
    if not any(c.isalpha() for c in sample):
        return None
    try:
        import py3langid  # loads its model once, on the first call
    except ImportError:
        return None
    found = py3langid.classify(sample)[0]
    return None if found == "zxx" else str(found)


# characters of a text its keywords come from (see ``keyword``'s docstring)
KEYWORD_CHARS = 20_000


@extractor(
    "keyword",
    reads_name="extension",  # a .pdf name says how to read the text
    kinds=["text"],
    extensions=["txt", "md", "rst", "log", "tex", "readme", "docx", "rtf"],
    mimetypes=[
        "text/plain",
        "text/markdown",
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ],
    version="1.2",
    family="keyword",
)
@param("top", int, default=20, low=1, high=200, desc="keywords returned")
@param("ngram", int, default=2, low=1, high=5, desc="longest keyword, in words")
@param(
    "max_chars", int, default=KEYWORD_CHARS, high=10_000_000, desc="characters read for keywords"
)
def keyword(
    path: str, top: int = 20, ngram: int = 2, max_chars: int = KEYWORD_CHARS
) -> dict[str, Any]:
    """Top keywords with scores (lower is more relevant), language and word count (of
    the whole text). Keywords come from the first ``max_chars`` characters: on Debian's
    text files 20,000 keep 99% of the top 10 within the full text's top 40, at a third
    less cost than 100,000 (``bench/bench_keywords.py``)."""
    text, words, warnings, source = _text_of(path, max_chars)
    out: dict[str, Any] = {**source, "word_count": words, **keywords_of(text, top, ngram)}
    if not text.strip():
        warnings.append("no text found")
    if warnings:
        out["warnings"] = warnings
    return out


def keywords_of(text: str, top: int = 20, ngram: int = 2) -> dict[str, Any]:
    """``{language, characters_read, keywords: [[keyword, score]]}`` of some text (the
    extractors that pull text out of markup use it too)."""
    out: dict[str, Any] = {"characters_read": len(text), "keywords": []}
    language = step(out, "language", _language, text)
    out["language"] = language
    if text.strip():
        lan = _LANG_ALIASES.get(language or "", language)
        found = step(out, "keywords", _best, text, lan if lan in _YAKE_LANGS else "en", ngram, top)
        out["keywords"] = found or []
    return out


def _best(text: str, language: str, ngram: int, top: int) -> list[list[Any]]:
    found = _yake(language, ngram).get_n_best(text, n=top)
    return [[k, round(float(s), 6)] for k, s in found]


_LANG_ALIASES = {"cs": "cz"}  # the ISO code for Czech, and YAKE's


@lru_cache(maxsize=16)
def _yake(language: str, ngram: int) -> Any:
    """A YAKE extractor per language and n-gram size (its stop words load once)."""
    return need("yake_rust", "keyword").Yake(language=language, ngrams=ngram)
