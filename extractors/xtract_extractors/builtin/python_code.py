"""``python``: what a Python source file holds, from its syntax tree: imports,
functions, classes, docstrings, line and comment counts, and the oldest Python that
runs it (vermin)."""

from __future__ import annotations

import ast
import io
import tokenize
from typing import Any

from ..registry import extractor, param
from ._common import decode_text, step


def _doc(node: Any) -> str | None:
    doc = ast.get_docstring(node)
    return doc.strip().split("\n")[0][:200] if doc else None


def _comments(text: str) -> int:
    try:
        return sum(
            1
            for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type == tokenize.COMMENT
        )
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return sum(1 for ln in text.splitlines() if ln.lstrip().startswith("#"))


def _min_version(text: str) -> str | None:
    try:
        import vermin
    except ImportError:
        return None
    versions = vermin.detect(text, vermin.Config())  # may raise (see step())
    v3 = versions[1] if len(versions) > 1 else None
    if v3 is None:
        return None  # vermin found something no Python 3 runs
    return ".".join(str(x) for x in v3) if tuple(v3) != (0, 0) else "3.0"


@extractor(
    "python",
    kinds=["code"],
    extensions=["py", "pyw", "pyi"],
    mimetypes=["text/x-python", "text/x-script.python"],
    version="1.1",
    family="code",
)
@param("max_bytes", int, default=8 << 20, high=64 << 20, desc="largest source file parsed")
def python_code(path: str, max_bytes: int = 8 << 20) -> dict[str, Any]:
    """Imports, functions, classes, docstrings, lines, comments, minimum Python."""
    with open(path, "rb") as f:
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ValueError(f"larger than max_bytes={max_bytes}; not parsed")
    text, warnings = decode_text(raw)
    lines = text.splitlines()
    out: dict[str, Any] = {
        "lines": len(lines),
        "blank_lines": sum(1 for ln in lines if not ln.strip()),
        "comment_lines": _comments(text),
    }
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        out["warnings"] = [*warnings, f"not valid Python: {exc}"]
        return out
    imports: list[str] = []
    functions, classes = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            imports.append("." * node.level + (node.module or ""))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.append(
                {
                    "name": node.name,
                    "line": node.lineno,
                    "args": [a.arg for a in node.args.args],
                    "doc": _doc(node),
                }
            )
        elif isinstance(node, ast.ClassDef):
            methods = [
                n.name for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
            classes.append(
                {"name": node.name, "line": node.lineno, "methods": methods, "doc": _doc(node)}
            )
    out.update(
        module_doc=_doc(tree),
        imports=sorted(set(imports)),
        functions=functions,
        classes=classes,
        min_python=step(out, "min_python", _min_version, text),
    )
    if warnings:
        out["warnings"] = warnings
    return out
