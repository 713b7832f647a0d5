"""Reading, filtering and transforming metadata before it is written.

The unit is the *item*: one file's metadata, flattened from its family's document::

    {"crawl_id", "family_id", "path", "size", "extension", "mtime", "mimetype",
     "unknown", "metadata": {extractor: {...}}, "errors": [...]}

Filters keep or drop items by a field (a dotted path such as ``extension`` or
``metadata.tabular.rows``)::

    {"field": "extension", "op": "eq", "value": "csv", "action": "keep"}

with ``op`` one of ``eq``, ``ne``, ``in``, ``regex``, ``exists``, ``gt``, ``lt``. An item
passes when every ``keep`` filter matches and no ``drop`` filter does. Transforms then
drop fields, rename them, and cap the size of any field's JSON.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from xtract_sdk.records import items_of
from xtract_service.bounds import MAX_ITEMS, MAX_JSON_VALUE, MAX_PATTERN, Name, Pattern

__all__ = ["ITEM_FIELDS", "Filter", "Transform", "items_of", "lookup"]

ITEM_FIELDS = (
    "crawl_id",
    "family_id",
    "path",
    "size",
    "extension",
    "mtime",
    "mimetype",
    "unknown",
    "metadata",
    "errors",
)
_MISSING = object()


class Filter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: Pattern
    op: Literal["eq", "ne", "in", "regex", "exists", "gt", "lt"] = "eq"
    value: Any = None
    action: Literal["keep", "drop"] = "keep"

    @field_validator("field")
    @classmethod
    def _known_field(cls, value: str) -> str:
        if value.split(".", 1)[0] not in ITEM_FIELDS:
            raise ValueError(f"unknown field {value!r}; fields are {', '.join(ITEM_FIELDS)}")
        return value

    _pattern: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _usable(self) -> Filter:
        if len(json.dumps(self.value, default=str)) > MAX_JSON_VALUE:
            raise ValueError(f"value is larger than {MAX_JSON_VALUE} characters of JSON")
        if self.op == "regex":
            self._pattern = linear_regex(self.value)
        if self.op == "in" and not isinstance(self.value, list):
            raise ValueError("op 'in' needs a list value")
        return self

    def matches(self, item: dict[str, Any]) -> bool:
        got = lookup(item, self.field)
        if self.op == "exists":
            return got is not _MISSING
        if got is _MISSING:
            return False
        if self.op == "eq":
            return bool(got == self.value)
        if self.op == "ne":
            return bool(got != self.value)
        if self.op == "in":
            return got in self.value
        if self._pattern is not None:
            return self._pattern.search(str(got)) is not None
        try:
            return bool(got > self.value) if self.op == "gt" else bool(got < self.value)
        except TypeError:
            return False


class Transform(BaseModel):
    model_config = ConfigDict(extra="forbid")

    drop: list[Pattern] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="dotted fields to remove"
    )
    rename: dict[Name, Name] = Field(
        default_factory=dict, max_length=MAX_ITEMS, description="top-level old -> new"
    )
    max_field_bytes: int | None = Field(
        None, ge=16, le=100 << 20, description="cap on any field's JSON"
    )

    @field_validator("rename")
    @classmethod
    def _known(cls, value: dict[str, str]) -> dict[str, str]:
        for old in value:
            if old not in ITEM_FIELDS:
                raise ValueError(f"cannot rename unknown field {old!r}")
        return value

    def apply(self, item: dict[str, Any]) -> dict[str, Any]:
        for path in self.drop:
            _drop(item, path)
        for old, new in self.rename.items():
            if old in item:
                item[new] = item.pop(old)
        if self.max_field_bytes:
            for k, v in list(item.items()):
                item[k] = _cap(v, self.max_field_bytes)
        return item


def linear_regex(value: Any) -> Any:
    """``value`` compiled by RE2, whose matching takes time linear in the text: a
    pattern like ``(a+)+$`` cannot stall the offload worker. Patterns RE2 cannot run
    (back-references, look-arounds) are refused."""
    import re2

    if not isinstance(value, str) or len(value) > MAX_PATTERN:
        raise ValueError(f"a regex is a string of at most {MAX_PATTERN} characters")
    try:
        return re2.compile(value)
    except re2.error as exc:
        raise ValueError(f"regex {value!r} cannot be used: {exc}") from None


def lookup(item: dict[str, Any], path: str) -> Any:
    cur: Any = item
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return _MISSING
        cur = cur[part]
    return cur


def _drop(item: dict[str, Any], path: str) -> None:
    *parents, last = path.split(".")
    cur: Any = item
    for part in parents:
        cur = cur.get(part) if isinstance(cur, dict) else None
    if isinstance(cur, dict):
        cur.pop(last, None)


def _cap(value: Any, limit: int) -> Any:
    text = json.dumps(value, default=str)
    if len(text) <= limit:
        return value
    if isinstance(value, dict):  # cap inside, so the structure stays usable
        return {k: _cap(v, limit) for k, v in value.items()}
    return {"truncated": True, "bytes": len(text), "head": text[: max(limit - 60, 8)]}
