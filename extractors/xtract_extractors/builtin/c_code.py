"""``c_code``: includes, functions, prototypes, structs and comments of C sources and
headers, from a tree-sitter parse (which tolerates code that does not compile).

Prototypes are the function declarators outside any function body, parameter list,
struct or macro definition, in every branch of ``#if`` (the file holds them all, whichever
the compiler takes); a function pointer variable (``int (*f)(void)``) is not one. A parse
with syntax errors (most often a macro the parser cannot expand, such as glibc's
``__THROW`` or ncurses' ``NCURSES_EXPORT(int)``) still lists what it recognised, and
``prototypes_complete`` is then false: the list may miss some, and says so. On 883 headers
of ``/usr/include`` the lists equal what ``gcc -aux-info`` declares wherever the parse was
clean (616 files) and never list a name gcc does not (the truth test checks this)."""

from __future__ import annotations

import re
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


# Attribute macros between a parameter list's ``)`` and the ``;`` that ends the
# declaration (glibc's ``__THROW __wur __nonnull ((1))``, GLib's ``G_GNUC_CONST``),
# which the parser, not knowing they are macros, reads as errors, are blanked to spaces
# before parsing (newlines kept, so every line number stays). Only words spelled as
# such macros are (a leading ``_``, or no lower-case letter): ``DECLARE(x)`` followed
# by ``typedef struct s t;`` keeps its typedef. Each word ends at a word boundary, so a
# long word cannot be split into several and the pattern stays linear.
_TRAILING_MACROS = re.compile(
    rb"(?<=\))(?:\s{0,200}(?:_\w{0,63}|[A-Z][A-Z0-9_]{0,63})\b"
    rb"(?:\s{0,200}\(\([^;{}()]{0,200}\)\))?){1,8}(?=\s{0,200};)"
)


def _blank(match: re.Match[bytes]) -> bytes:
    return re.sub(rb"[^\n]", b" ", match.group())


def _declared_function(node: Any) -> tuple[str, int] | None:
    """The function a declarator declares and its line: ``f`` of ``int f(void)`` and of
    ``void (*f(int))(int)`` (a function returning a function pointer), none of
    ``int (*f)(void)`` (a variable)."""
    while node is not None:
        inner = _inner(node)
        if node.type == "function_declarator" and inner is not None and inner.type == "identifier":
            return str(inner.text.decode("utf-8", "replace")), node.start_point[0] + 1
        node = inner
    return None


def _inner(node: Any) -> Any:
    """The declarator a declarator wraps (a parenthesized one has no field for it)."""
    if node.type == "parenthesized_declarator":
        return node.named_children[0] if node.named_children else None
    return node.child_by_field_name("declarator")


_DECLARATORS = frozenset(
    ("pointer_declarator", "parenthesized_declarator", "attributed_declarator")
)


def _in_declaration(node: Any) -> bool:
    """Whether a function declarator is the declarator of a declaration with a type (not a
    macro call such as ``__REDIRECT (f, (int), g)`` that an error left looking like one)."""
    parent = node.parent
    while parent is not None and parent.type in _DECLARATORS:
        parent = parent.parent
    return (
        parent is not None
        and parent.type == "declaration"
        and not parent.has_error
        and parent.child_by_field_name("type") is not None
    )


def _macro_call(node: Any) -> bool:
    """Whether a function declarator is a macro call wrapped around a name, as bzip2's
    ``int BZ_API(BZ2_bzRead) (int *bzerror, ...)``: the parser takes it for a function
    returning a function, which C has not."""
    inner = node.child_by_field_name("declarator")
    return inner is not None and inner.type == "function_declarator"


# what a function declarator inside is not a prototype
_NOT_PROTOTYPES = frozenset(
    (
        "function_definition",
        "compound_statement",
        "field_declaration_list",
        "enumerator_list",
        "parameter_list",
        "preproc_def",
        "preproc_function_def",
    )
)


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
    """Includes, function definitions, prototypes, structs and comment counts of C code."""
    tree_sitter = need("tree_sitter", "code")
    grammar = need("tree_sitter_c", "code")
    with open(path, "rb") as f:
        src = f.read(max_bytes + 1)
    if len(src) > max_bytes:
        raise ValueError(f"larger than max_bytes={max_bytes}; not parsed")
    parser = tree_sitter.Parser(tree_sitter.Language(grammar.language()))
    tree = parser.parse(_TRAILING_MACROS.sub(_blank, src))
    includes, functions, prototypes, structs = [], [], [], []
    comments = guessed = 0
    macros: set[str] = set()
    stack = [(tree.root_node, False)]
    while stack:
        node, inside = stack.pop()  # inside: in a body, a parameter list or a definition
        t = node.type
        if t == "function_declarator" and not inside and _in_declaration(node):
            declared = _declared_function(node)
            if _macro_call(node):  # NAME(x) (int a) is no C declarator: a macro's
                guessed += 1
            elif declared is not None:
                prototypes.append({"name": declared[0], "line": declared[1]})
        elif t == "function_definition":
            name = _name(node.child_by_field_name("declarator"))
            functions.append({"name": name, "line": node.start_point[0] + 1})
        elif t == "preproc_include":
            target = node.child_by_field_name("path")
            if target is not None:
                includes.append(target.text.decode("utf-8", "replace").strip('<>"'))
        elif t == "struct_specifier" and node.child_by_field_name("body") is not None:
            n = node.child_by_field_name("name")
            structs.append(n.text.decode("utf-8", "replace") if n is not None else None)
        elif t == "comment":
            comments += 1
        elif t == "preproc_function_def":
            macro = node.child_by_field_name("name")
            if macro is not None:
                macros.add(macro.text.decode("utf-8", "replace"))
        inside = inside or t in _NOT_PROTOTYPES or t == "function_declarator"
        stack.extend((child, inside) for child in reversed(node.children))
    # a call of a macro the file defines (nettle's ``struct x HMAC_CTX(struct y);``)
    # parses as a prototype; what it declares only the preprocessor knows
    called = [p for p in prototypes if p["name"] in macros]
    if called:
        guessed += len(called)
        prototypes = [p for p in prototypes if p["name"] not in macros]
    lines = src.decode("utf-8", "replace").splitlines()
    out: dict[str, Any] = {
        "lines": len(lines),
        "includes": includes,
        "functions": functions,
        "prototypes": sorted(prototypes, key=lambda p: p["line"]),
        "prototypes_complete": not tree.root_node.has_error and not guessed,
        "structs": structs,
        "comments": comments,
    }
    if tree.root_node.has_error:
        out["warnings"] = ["the parser found syntax errors; lists may be incomplete"]
    return out
