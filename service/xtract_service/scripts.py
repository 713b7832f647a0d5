"""The service's Lua scripts (``service/lua/*.lua``), loaded once per client.

Each script's header names its ``KEYS`` (by their pattern in :mod:`xtract_service.keys`)
and its ``ARGV``; :func:`header` reads it back so a test can hold the scripts, the key
table and ``docs/design.md`` in agreement. Status words reach a script as arguments,
never as literals in it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from redis.commands.core import Script

LUA_DIR = Path(__file__).with_name("lua")
_HEADER = re.compile(r"^-- (KEYS|ARGV)\[([0-9.]+)\]\s+(\S+)", re.M)


class Header(NamedTuple):
    """What a script's header declares: key patterns and argument names by position."""

    keys: dict[int, str]
    argv: list[str]


def names() -> list[str]:
    """Every script's name (its file name without ``.lua``)."""
    return sorted(p.stem for p in LUA_DIR.glob("*.lua"))


@cache
def source(name: str) -> str:
    return (LUA_DIR / f"{name}.lua").read_text()


def header(name: str) -> Header:
    keys: dict[int, str] = {}
    argv: list[str] = []
    for kind, index, first in _HEADER.findall(source(name)):
        if kind == "KEYS":
            keys[int(index)] = first
        else:
            argv.append(index)
    return Header(keys, argv)


def load(r: Any, name: str) -> Script:
    """The script ``name`` registered with client ``r`` (sent by hash, loaded once)."""
    script: Script = r.register_script(source(name))
    return script
