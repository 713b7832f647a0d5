"""Error kinds a person can read: what an error record's ``error`` says.

An extractor's exception becomes an error record ``{extractor, error, message}``; the
``error`` is a kind from this vocabulary, never a Python class name (``EntitiesForbidden``
and ``AssertionError`` told users nothing). An exception can name its own kind (a
``kind`` attribute, as :class:`ExtractorError` subclasses do); the rest are mapped by
class, the first match in :data:`KINDS` by the exception's class hierarchy, else
``extractor_failed``. The message keeps the particulars.
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib

# the kinds of failure the service itself records (time limit, memory, a dead process)
SERVICE_KINDS = {
    "timeout": "the extractor gave no answer within its time limit",
    "memory_limit": "the extractor ran out of its memory limit",
    "crashed": "the extractor process died",
    "unsafe_path": "the file is not a regular file inside the crawl (a link, a FIFO, gone)",
    "bad_result": "the extractor's answer could not be sent back",
}


class ExtractorError(Exception):
    """An extractor's own refusal, with the kind it belongs to."""

    kind = "extractor_failed"


class NotATable(ExtractorError, ValueError):
    """The text is not delimited records; the message says what it is instead."""

    kind = "not_a_table"


# (class name, kind): by name, so no parser library need be importable here
_BY_NAME = [
    ("EntitiesForbidden", "xml_entities_forbidden"),
    ("DTDForbidden", "xml_dtd_forbidden"),
    ("ExternalReferenceForbidden", "xml_external_reference_forbidden"),
    ("ParseError", "invalid_xml"),
    ("ExpatError", "invalid_xml"),
    ("JSONDecodeError", "invalid_json"),
    ("PdfReadError", "invalid_pdf"),
    ("PdfStreamError", "invalid_pdf"),
    ("FileNotDecryptedError", "encrypted_pdf"),
    ("UnidentifiedImageError", "unreadable_image"),
    ("DecompressionBombError", "image_too_large"),
    ("BadGzipFile", "corrupt_compressed_data"),
    ("LZMAError", "corrupt_compressed_data"),
    ("BadZipFile", "corrupt_archive"),
    ("ReadError", "corrupt_archive"),  # tarfile
    ("UnicodeDecodeError", "undecodable_text"),
    ("SyntaxError", "syntax_error"),
    ("TOMLDecodeError", "invalid_toml"),
    ("YAMLError", "invalid_yaml"),
    ("MissingSectionHeaderError", "invalid_config"),
    ("ParsingError", "invalid_config"),
    ("InvalidVersionException", "python_versions_conflict"),  # vermin: code for 2 and 3
    ("RecursionError", "too_deeply_nested"),
    ("MemoryError", "memory_limit"),
    ("TimeoutError", "timeout"),
    ("FileNotFoundError", "file_missing"),
    ("PermissionError", "permission_denied"),
    ("IsADirectoryError", "not_a_file"),
    ("OSError", "unreadable_content"),  # a parser's "cannot read this": truncated, not the format
    ("ValueError", "invalid_content"),
]
KINDS = dict(_BY_NAME)
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def error_kind(exc: BaseException) -> str:
    """The readable kind of ``exc`` (see the module doc)."""
    own = getattr(exc, "kind", None)
    if isinstance(own, str) and _KIND.match(own):
        return own
    if isinstance(exc, zlib.error):
        return "corrupt_compressed_data"
    if isinstance(exc, zipfile.BadZipFile):
        return "corrupt_archive"
    if isinstance(exc, json.JSONDecodeError):
        return "invalid_json"
    for cls in type(exc).__mro__:
        if cls.__name__ in KINDS:
            return KINDS[cls.__name__]
    return "extractor_failed"
