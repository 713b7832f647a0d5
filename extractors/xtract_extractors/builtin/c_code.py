"""``c_code``: includes, functions, structs and comments of C sources and headers, from
a tree-sitter parse (which tolerates code that does not compile)."""

from __future__ import annotations

from typing import Any

from ..registry import extractor, param
from ._common import need


def _name(node: Any) -> str | None:
    """The identifier a function declarator declares."""
    while node is not None:
        if node.type in ("identifier", "field_identifier"):
            return str(node.text.decode("utf-8", "replace"))
        node = node.child_by_field_name("declarator")
    return None


@extractor(
    "c_code",
    kinds=["code"],
    extensions=["c", "h", "cc", "cpp", "hpp"],
    mimetypes=["text/x-c", "text/x-c++"],
    version="1.0",
    family="code",
)
@param("max_bytes", int, default=8 << 20, high=64 << 20, desc="largest source file parsed")
def c_code(path: str, max_bytes: int = 8 << 20) -> dict[str, Any]:
    """Includes, function definitions, structs and comment counts of C code."""
    tree_sitter = need("tree_sitter", "code")
    grammar = need("tree_sitter_c", "code")
    with open(path, "rb") as f:
        src = f.read(max_bytes + 1)
    if len(src) > max_bytes:
        raise ValueError(f"larger than max_bytes={max_bytes}; not parsed")
    parser = tree_sitter.Parser(tree_sitter.Language(grammar.language()))
    tree = parser.parse(src)
    includes, functions, structs = [], [], []
    comments = 0
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        t = node.type
        if t == "preproc_include":
            target = node.child_by_field_name("path")
            if target is not None:
                includes.append(target.text.decode("utf-8", "replace").strip('<>"'))
        elif t == "function_definition":
            name = _name(node.child_by_field_name("declarator"))
            functions.append({"name": name, "line": node.start_point[0] + 1})
        elif t == "struct_specifier" and node.child_by_field_name("body") is not None:
            n = node.child_by_field_name("name")
            structs.append(n.text.decode("utf-8", "replace") if n is not None else None)
        elif t == "comment":
            comments += 1
        stack.extend(reversed(node.children))
    lines = src.decode("utf-8", "replace").splitlines()
    out: dict[str, Any] = {
        "lines": len(lines),
        "includes": includes,
        "functions": functions,
        "structs": structs,
        "comments": comments,
    }
    if tree.root_node.has_error:
        out["warnings"] = ["the parser found syntax errors; lists may be incomplete"]
    return out
