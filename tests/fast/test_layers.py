"""The house rules that keep the code readable: no import cycles between the service's
modules (imports at module level), route modules that only parse, call the domain and
shape the answer (no Redis keys, no other route module)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "xtract_service": ROOT / "service" / "xtract_service",
    "xtract_sdk": ROOT / "xtract_sdk",
}


def modules() -> dict[str, Path]:
    found = {}
    for name, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("").parts
            if rel[-1] == "__init__":
                rel = rel[:-1]
            found[".".join((name, *rel))] = path
    return found


def module_imports(path: Path, known: set[str]) -> set[str]:
    """Project modules imported at module level (not inside functions or TYPE_CHECKING)."""
    out: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If):  # if TYPE_CHECKING: ...
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        out |= {n for n in names if n in known}
    return out


def test_the_service_and_sdk_have_no_import_cycles() -> None:
    found = modules()
    graph = {m: module_imports(p, set(found)) - {m} for m, p in found.items()}
    # a package's __init__ importing its own submodules is how packages work
    for m in graph:
        graph[m] = {d for d in graph[m] if not d.startswith(m + ".")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append([*trail[trail.index(dep) :], dep] if dep in trail else [node, dep])
            elif dep not in state:
                visit(dep, [*trail, dep])
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_route_modules_hold_no_domain_logic() -> None:
    routes = PACKAGES["xtract_service"] / "api" / "routes"
    for path in routes.glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert not any(m.startswith("xtract_service.api.routes") for m in imported), path
        assert "xtract_service.keys" not in imported, path
        assert "xtract_service.redis_client" not in imported, path
        source = path.read_text()
        assert "keys." not in source and ".hget(" not in source and ".xadd(" not in source, path
