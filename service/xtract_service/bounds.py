"""Bounded request fields: every string, list and mapping a caller sends has a size
limit, and text must be valid Unicode (a lone surrogate such as ``"\\ud800"`` cannot be
stored or written anywhere, so it is refused at the door with a 400 naming the field).

>>> from pydantic import TypeAdapter
>>> TypeAdapter(Name).validate_python("tabular")
'tabular'
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints

MAX_PATH = 4096  # bytes Linux takes in a path
MAX_NAME = 255
MAX_TEXT = 2048
MAX_PATTERN = 256  # a skip glob or a filter regex
MAX_ITEMS = 100
MAX_JSON_VALUE = 10_000  # characters of a filter's value, as JSON


def unicode_text(value: str) -> str:
    """``value`` if it can be encoded as UTF-8 (no lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (it holds a lone surrogate)") from None
    return value


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not hold a NUL character")
    return value


Text = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(unicode_text)]
Name = Annotated[
    str,
    StringConstraints(max_length=MAX_NAME),
    AfterValidator(unicode_text),
    AfterValidator(no_nul),
]
PathText = Annotated[
    str,
    StringConstraints(max_length=MAX_PATH),
    AfterValidator(unicode_text),
    AfterValidator(no_nul),
]
Pattern = Annotated[
    str,
    StringConstraints(max_length=MAX_PATTERN),
    AfterValidator(unicode_text),
    AfterValidator(no_nul),
]
Url = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(unicode_text)]
Tokens = Annotated[dict[Name, Text], Field(max_length=16)]
Params = Annotated[dict[Name, Any], Field(max_length=MAX_ITEMS)]
