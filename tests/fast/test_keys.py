"""One key table: ``service/keys.py``, ``docs/design.md`` and the Lua scripts' headers
agree, every Lua script uses exactly the keys and arguments its header declares and no
status word literal, and no other module spells a Redis key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xtract_sdk.status import CrawlStatus, OffloadStatus, XtractStatus
from xtract_service import keys, scripts

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| `(xtract:[^`]+)` \| ([^|]+) \| ([^|]+) \|$", re.M)


def design_table() -> dict[str, str]:
    text = (ROOT / "docs" / "design.md").read_text()
    return {m[1]: m[2].strip() for m in ROW.finditer(text)}


def test_the_design_page_lists_every_key_of_keys_py_and_no_other() -> None:
    documented = design_table()
    owned = {k.pattern: k.type for k in keys.TABLE}
    assert documented == owned


def test_every_key_function_is_in_the_table() -> None:
    functions = [
        name
        for name, value in vars(keys).items()
        if callable(value)
        and getattr(value, "__module__", "") == keys.__name__
        and not name.startswith("_")
        and name not in ("crawl_id_of", "KeyDoc", "of_crawl", "of_offload", "tagged")
    ]
    patterns = {k.pattern for k in keys.TABLE}
    for name in functions:
        fn = getattr(keys, name)
        args = ["id"] * fn.__code__.co_argcount
        made = fn(*args)
        shape = re.sub(r"\{[a-z]+\}", "{}", made)
        # {name}: a hash tag around the argument; <name>: the argument, untagged
        shapes = {re.sub(r"<[a-z]+>", "id", re.sub(r"\{[a-z]+\}", "{}", p)) for p in patterns}
        assert shape in shapes, name


@pytest.mark.parametrize("name", scripts.names())
def test_each_lua_script_uses_exactly_what_its_header_declares(name: str) -> None:
    header = scripts.header(name)
    body = "\n".join(
        line for line in scripts.source(name).splitlines() if not line.startswith("--")
    )
    used_keys = {int(i) for i in re.findall(r"KEYS\[(\d+)\]", body)}
    assert used_keys == set(header.keys), (name, used_keys, header.keys)
    patterns = {k.pattern for k in keys.TABLE}
    for pattern in header.keys.values():
        assert f"xtract:{pattern}" in patterns, (name, pattern)
    declared = header.argv
    # literal indices only: ARGV[b + 1] style reads walk a declared range
    for index in {int(i) for i in re.findall(r"ARGV\[(\d+)\]", body)}:
        covered = any(
            d == str(index) or (d.endswith("..") and index >= int(d[:-2])) for d in declared
        )
        assert covered, (name, index)


@pytest.mark.parametrize("name", scripts.names())
def test_no_lua_script_spells_a_status_word(name: str) -> None:
    words = {s.value for enum in (CrawlStatus, XtractStatus, OffloadStatus) for s in enum}
    literals = set(re.findall(r"'([^']*)'", scripts.source(name)))
    assert not literals & words, (name, literals & words)


def test_no_module_outside_keys_py_spells_a_redis_key() -> None:
    offenders = []
    package = ROOT / "service" / "xtract_service"
    for path in package.rglob("*.py"):
        if path == package / "keys.py":
            continue
        text = path.read_text()
        if re.search(r"""["']xtract:[^\s"']|\bPREFIX\b""", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_crawl_record_has_one_owner() -> None:
    """Only ``crawl_record.py`` reads and writes a crawl hash's fields; the crawl store
    names the key only to hand it to its Lua scripts and to read a status in the same
    round trip as its errors."""
    package = ROOT / "service" / "xtract_service"
    users = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "keys.crawl(" in path.read_text() and path.name != "keys.py"
    )
    assert users == ["crawl/store.py", "crawl_record.py"]
    store = (package / "crawl" / "store.py").read_text()
    assert not re.search(r"\.h(get|mget|set|setnx|incrby)\(keys\.crawl\(", store)
