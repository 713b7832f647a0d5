"""The house rules that keep the code readable: no import cycles between the service's
modules (imports at module level), route modules that only parse, call the domain and
shape the answer (no Redis keys, no other route module)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
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


# Which room may import which (lazy imports inside functions count too). "base" is the
# service-wide modules at the package root; the rooms above it go up floor by floor.
BASE = {
    "access", "actives", "bounds", "crawl_record", "errors", "event_hub", "events", "forecast",
    "logs", "keys", "quotas", "redis_client", "redis_server", "retention", "scripts", "settings",
    "streams", "upgrade", "vault", "webhooks",
}  # fmt: skip
MAY_IMPORT = {
    "base": {"base"},
    "globus": {"base"},
    "auth": {"base", "globus"},
    "crawl": {"base", "globus"},
    "extraction": {"base", "globus", "crawl"},
    "offload": {"base", "globus", "crawl", "extraction"},
    "sharing": {"base", "auth", "crawl"},
    "api": {"base", "globus", "auth", "crawl", "extraction", "offload", "sharing"},
    "roles": {"base", "globus", "crawl", "extraction", "offload", "roles"},
    "app": {"base", "auth", "crawl", "extraction", "offload", "roles", "api"},
    "cli": {"base", "auth", "roles", "app"},
}
ROLES = {"processes", "roles"}


def room_of(module: str) -> str:
    """The room a module of xtract_service lives in (its first name below the package)."""
    parts = module.split(".")
    first = parts[1] if len(parts) > 1 else ""
    if first in BASE or first == "":
        return "base"
    if first in ROLES:
        return "roles"
    return first


def test_every_room_imports_only_the_floors_below_it() -> None:
    found = modules()
    assert {room_of(m) for m in found if m.startswith("xtract_service.")} <= set(MAY_IMPORT)
    wrong = []
    for module, path in found.items():
        if not module.startswith("xtract_service."):
            continue
        here = room_of(module)
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.startswith("xtract_service."):
                    there = room_of(name)
                    if there != here and there not in MAY_IMPORT[here]:
                        wrong.append(f"{module} ({here}) imports {name} ({there})")
    assert wrong == []


def test_no_module_outside_the_globus_room_builds_a_globus_client() -> None:
    import globus_sdk

    # service clients (apps, such as ClientApp, manage a login, and live in the SDK)
    globus = {n for n in dir(globus_sdk) if "Client" in n and not n.endswith("App")}
    globus |= {"ComputeSerializer"}
    assert {"TransferClient", "SearchClient", "ComputeClientV3", "GroupsClient"} <= globus
    builders = []
    for module, path in modules().items():
        if module.startswith("xtract_service.globus"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in globus:
                    builders.append(f"{module}: {name}")
    assert builders == []


def test_the_compute_walker_imports_no_service_dependency(tmp_path: Path) -> None:
    """walk_folders runs on a Compute endpoint: importing and running it loads nothing
    but the standard library, the local lister and the extractors package (which every
    container has)."""
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("x")
    probe = (
        "import json, sys\n"
        "from xtract_service.crawl.repos.walker import walk_folders\n"
        f"answer = walk_folders({str(tmp_path)!r}, ['/'], [['/', 0]])\n"
        "print(json.dumps([answer['listed'][1]['files'][0][0], sorted(sys.modules)]))\n"
    )
    # the checkout's packages, found by path as pytest finds them (installed or not)
    where = [str(ROOT / "service"), str(ROOT / "extractors"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(where)}
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    ).stdout
    name, loaded = json.loads(out)
    assert name == "f"
    service = {m for m in loaded if m.startswith("xtract_service")}
    assert service <= {
        "xtract_service",
        "xtract_service.crawl",
        "xtract_service.crawl.repos",
        "xtract_service.crawl.repos.walker",
        "xtract_service.crawl.repos.local",
        "xtract_service.crawl._fastlist",
    }, service
    tops = {m.split(".")[0] for m in loaded if not m.startswith("_")}  # not site hooks
    third_party = tops - set(sys.stdlib_module_names)
    assert third_party <= {"xtract_service", "xtract_extractors"}, third_party
