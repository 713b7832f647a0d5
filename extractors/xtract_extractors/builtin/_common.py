"""Small helpers the built-in extractors share."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

from ..errors import error_kind

T = TypeVar("T")


class MissingLibrary(ImportError):
    """An extractor's format library is not installed on this worker."""


def need(module: str, extra: str) -> ModuleType:
    """Import ``module`` or say which extra brings it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingLibrary(
            f"{module} is not installed: pip install 'xtract[{extra}]' ({exc})"
        ) from exc


def jsonable(value: Any, max_items: int = 50, max_chars: int = 500) -> Any:
    """Attribute values from HDF5/NetCDF/EXIF made JSON-safe and bounded (``None``
    stays ``null``)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value if len(value) <= max_chars else value[:max_chars] + "..."
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return jsonable(value.tolist(), max_items, max_chars)
    if isinstance(value, list | tuple):
        items = [jsonable(v, max_items, max_chars) for v in list(value)[:max_items]]
        return [*items, "..."] if len(value) > max_items else items
    if isinstance(value, dict):
        return {
            str(k): jsonable(v, max_items, max_chars) for k, v in list(value.items())[:max_items]
        }
    return jsonable(str(value), max_items, max_chars)


def decode_text(data: bytes) -> tuple[str, list[str]]:
    """Text from bytes: UTF-8 if it is, else Latin-1 with a warning."""
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of a sample is not an encoding problem
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8"), []
        return data.decode("latin-1"), [f"not valid UTF-8 (byte {exc.start}); read as Latin-1"]


def read_text(path: str, max_bytes: int) -> tuple[str, list[str], bool]:
    """A text file's first ``max_bytes`` as text (see :func:`decode_text`), its
    warnings, and whether there was more."""
    with open(path, "rb") as f:
        raw = f.read(max_bytes + 1)
    text, warnings = decode_text(raw[:max_bytes])
    return text, warnings, len(raw) > max_bytes


def step(out: dict[str, Any], name: str, fn: Callable[..., T], *args: Any) -> T | None:
    """Run one step of an extractor. A step that fails records ``{step, error,
    message}`` (a readable kind, see :mod:`xtract_extractors.errors`) in
    ``out["step_errors"]`` and gives None; the facts of the other steps stay."""
    try:
        return fn(*args)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a parser's BaseException (vermin's) ends this step only
        failed = {"step": name, "error": error_kind(exc), "message": str(exc)[:500]}
        out.setdefault("step_errors", []).append(failed)
        return None
