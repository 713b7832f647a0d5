"""``jsonxml``: structure of JSON and XML documents: depth, top-level keys, field types
and simple numeric stats. XML goes through defusedxml, which refuses entity expansion
("billion laughs") and external entities."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from ..registry import extractor, param
from ._common import need

_TYPE = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


class _Walk:
    """One bounded pass over a parsed JSON value."""

    def __init__(self, max_fields: int) -> None:
        self.max_fields = max_fields
        self.fields: dict[str, Counter[str]] = {}
        self.numbers: dict[str, list[float]] = {}
        self.depth = 0

    def visit(self, value: Any, path: str, depth: int) -> None:
        stack = [(value, path, depth)]
        while stack:  # iterative: no recursion limit for deep documents
            v, p, d = stack.pop()
            self.depth = max(self.depth, d)
            if p and (p in self.fields or len(self.fields) < self.max_fields):
                self.fields.setdefault(p, Counter())[_TYPE.get(type(v), "other")] += 1
                if isinstance(v, int | float) and not isinstance(v, bool):
                    self.numbers.setdefault(p, []).append(float(v))
            if isinstance(v, dict):
                stack.extend((x, f"{p}.{k}" if p else str(k), d + 1) for k, x in v.items())
            elif isinstance(v, list):
                stack.extend((x, f"{p}[]", d + 1) for x in v)


def _scan_depth(raw: bytes) -> int:
    """Nesting depth of JSON text without parsing it."""
    depth = best = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            best = max(best, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return best


def _json(path: str, max_bytes: int, max_fields: int) -> dict[str, Any]:
    with open(path, "rb") as f:
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ValueError(f"larger than max_bytes={max_bytes}; not parsed")
    try:
        doc = json.loads(raw)
    except RecursionError:
        return {
            "format": "json",
            "depth": _scan_depth(raw),
            "warnings": ["nested too deeply to parse; only the depth was measured"],
        }
    walk = _Walk(max_fields)
    walk.visit(doc, "", 0)
    out: dict[str, Any] = {"format": "json", "depth": walk.depth, "root_type": _TYPE[type(doc)]}
    if isinstance(doc, dict):
        out["top_level_keys"] = list(doc)[:100]
    elif isinstance(doc, list):
        out["length"] = len(doc)
    out["fields"] = {p: dict(c) for p, c in walk.fields.items()}
    out["numeric_stats"] = {
        p: {"count": len(v), "min": min(v), "max": max(v), "mean": sum(v) / len(v)}
        for p, v in walk.numbers.items()
    }
    if len(walk.fields) >= max_fields:
        out["warnings"] = [f"more than {max_fields} fields; the rest are not listed"]
    return out


def _xml(path: str, max_fields: int) -> dict[str, Any]:
    et = need("defusedxml.ElementTree", "jsonxml")
    tags: Counter[str] = Counter()
    attributes: Counter[str] = Counter()
    namespaces: set[str] = set()
    depth = best = 0
    root = None
    for event, elem in et.iterparse(path, events=("start", "end", "start-ns")):
        if event == "start-ns":
            namespaces.add(elem[1])
        elif event == "start":
            depth += 1
            best = max(best, depth)
            root = elem.tag if root is None else root
            if elem.tag in tags or len(tags) < max_fields:
                tags[elem.tag] += 1
            attributes.update(elem.attrib.keys())
        else:
            depth -= 1
            elem.clear()  # keep memory flat on big documents
    return {
        "format": "xml",
        "root": root,
        "depth": best,
        "elements": sum(tags.values()),
        "tags": dict(tags.most_common(50)),
        "attributes": dict(attributes.most_common(50)),
        "namespaces": sorted(namespaces),
    }


@extractor(
    "jsonxml",
    kinds=["structured"],
    extensions=["json", "geojson", "jsonld", "xml", "ipynb"],
    mimetypes=["application/json", "application/xml", "text/xml", "application/geo+json"],
    version="1.0",
    family="jsonxml",
)
@param("max_bytes", int, default=256 << 20, high=1 << 30, desc="largest JSON document parsed")
@param("max_fields", int, default=500, high=100_000, desc="distinct field paths or tags described")
def jsonxml(path: str, max_bytes: int = 256 << 20, max_fields: int = 500) -> dict[str, Any]:
    """Depth, keys, field types and numeric stats of a JSON or XML document."""
    with open(path, "rb") as f:
        head = f.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return _xml(path, max_fields)
    return _json(path, max_bytes, max_fields)


_CONFIG_KINDS = {
    "toml": "toml",
    "yaml": "yaml",
    "yml": "yaml",
    "ini": "ini",
    "cfg": "ini",
    "desktop": "ini",  # not .conf: a name many syntaxes share
}


@extractor(
    "config",
    reads_name="extension",  # the extension says which syntax to read
    kinds=["structured"],
    extensions=sorted(_CONFIG_KINDS),
    mimetypes=["application/toml", "application/yaml", "text/x-ini"],
    version="1.0",
    family="jsonxml",
)
@param("max_bytes", int, default=16 << 20, high=256 << 20, desc="largest file parsed")
def config(path: str, max_bytes: int = 16 << 20) -> dict[str, Any]:
    """A configuration file (TOML, YAML, INI and its kin: ``.cfg``, ``.desktop``): its
    syntax, top-level keys (INI: sections) and how many keys it sets in all."""
    import configparser
    import os

    kind = _CONFIG_KINDS.get(os.path.splitext(path)[1].lower().lstrip("."), "ini")
    with open(path, "rb") as f:
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ValueError(f"larger than max_bytes={max_bytes}; not parsed")
    text = raw.decode("utf-8", errors="replace")
    if kind == "toml":
        import tomllib

        doc: Any = tomllib.loads(text)
    elif kind == "yaml":
        yaml = need("yaml", "jsonxml")
        doc = yaml.safe_load(text)  # plain data only: no tags that build objects
    else:
        parser = configparser.RawConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            parser.read_string(text)
        except configparser.MissingSectionHeaderError:  # plain key = value lines
            parser.read_string("[top]\n" + text)
            keys = [k for k, _ in parser.items("top")]
            return {"format": "key=value", "top_level_keys": keys[:200], "keys": len(keys)}
        sections = parser.sections()
        return {
            "format": kind,
            "sections": sections[:200],
            "section_count": len(sections),
            "keys": sum(len(parser.items(s)) for s in sections),
        }
    return {
        "format": kind,
        "root_type": type(doc).__name__,
        "top_level_keys": [str(k) for k in doc][:200] if isinstance(doc, dict) else None,
        "keys": _count_keys(doc),
    }


def _count_keys(doc: Any, depth: int = 0) -> int:
    """Keys of every mapping in the document (nesting bounded)."""
    if depth > 64:
        return 0
    if isinstance(doc, dict):
        return len(doc) + sum(_count_keys(v, depth + 1) for v in doc.values())
    if isinstance(doc, list):
        return sum(_count_keys(v, depth + 1) for v in doc)
    return 0
