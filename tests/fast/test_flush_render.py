"""Flushes hand out file records rendered straight to JSON (``_records``, in C): every
value must parse to what the documented family shape (``families.expand``) says, for
awkward names, numbers and slices, and what the renderer declines must still come out
right (rendered from the records by orjson)."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from xtract_service.crawl import families
from xtract_service.crawl.families import PER_FILE, block_files, expand, rendered_files

NAMES = [
    "plain.txt",
    "UPPER.CSV",
    "archive.tar.GZ",
    ".hidden",
    "trailing.",
    "no_extension",
    'quote".json',
    "back\\slash.h5",
    "tab\there.nc",
    "line\nbreak.md",
    "".join(chr(c) for c in range(1, 32)) + ".ctl",
    "del\x7f.bin",
    "café.ÉXT",  # an extension Unicode lowers: declined, rendered by orjson
    "naïve.dat",
    "日本語.テキスト",
    "emoji😀.png",
    "a.b.c.d.e.f.g",
    "x." + "e" * 300,  # an extension longer than the C side keeps: declined
]
NUMBERS: list[tuple[Any, Any]] = [
    (0, 0.0),
    (1, 1765123456.1234567),
    (2**63 - 1, -1.5),
    (2**40, 1e15),
    (5, 1e16),  # repr writes an exponent: declined
    (6, 1e-05),
    (7, 1765123456),  # an int mtime
    (8, float("nan")),  # not finite: declined
]


def _reference(payload: bytes) -> list[dict[str, Any]]:
    """The records from the documented family shape, as a flush's caller decodes them."""
    out = []
    for block in orjson.loads(payload):
        for family in expand(block):
            out += [{**rec, "family_id": family["family_id"]} for rec in family["files"]]
    return orjson.loads(orjson.dumps(out))  # NaN arrives as null, as orjson writes it


def _payload() -> bytes:
    files = [[name, size, mtime] for name, (size, mtime) in zip(NAMES, NUMBERS * 3, strict=False)]
    raw = base64.b64encode(b"not-utf8-\xff.txt").decode()
    # a name that is not UTF-8, as the local repo lists it
    odd = [["not-utf8-\\xff.txt", 9, 1.0, raw]]
    blocks = [
        {"dir": "/data/run", "id": "b0", "base": 0, "files": files[:9], "families": PER_FILE},
        {"dir": "/data/run/", "id": "b0", "base": 9, "files": files[9:], "families": PER_FILE},
        {"dir": "/d", "id": "b1", "base": 0, "files": odd + files[:2], "families": PER_FILE},
        {
            "dir": "/data/grouped",
            "id": "b2",
            "base": 0,
            "files": files[:4],
            "families": [[[[2, 0], "tabular"]], [[[1], None], [[3], "images"]]],
        },
        {"dir": '/d\x02"q"\\', "id": "b3", "base": 4, "files": files[:2], "families": PER_FILE},
    ]
    return orjson.dumps(blocks)


def test_the_record_renderer_is_built() -> None:
    # setup.py builds it beside the lister; without a C compiler flushes render records
    # with orjson, correct but slower: this says the install got it
    assert families.RENDERER is not None


@pytest.mark.parametrize("compiled", [True, False], ids=["C", "orjson"])
def test_rendered_records_are_the_documented_ones(
    compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not compiled:
        monkeypatch.setattr(families, "RENDERER", None)
    payload = _payload()
    want = _reference(payload)
    assert len(want) == sum(len(b["files"]) for b in orjson.loads(payload))
    for lo, hi in [(0, len(want)), (0, 1), (3, 11), (8, 10), (9, 30), (17, len(want) + 5)]:
        text, count = rendered_files(payload, lo, hi)
        got = orjson.loads(b"[" + text + b"]")
        assert count == len(got) == len(want[lo:hi])
        assert got == want[lo:hi], (lo, hi)
    assert rendered_files(payload, 5, 5) == (b"", 0)


def test_the_compiled_renderer_writes_what_orjson_writes() -> None:
    # byte for byte on the names and numbers it takes: escapes, key order, floats
    if families.RENDERER is None:
        pytest.fail("the record renderer is not built")
    taken = [n for n in NAMES if n.rpartition(".")[2].isascii() and len(n) < 100]
    files = [[n, 1, 1765123456.25] for n in taken]
    for folder in ["/data", '/odd "dir"\\with\ttab\x01\x1f/ünï']:  # escaped by the C side
        block = {"dir": folder, "id": "b", "base": 3, "files": files, "families": PER_FILE}
        got = families.RENDERER.render(folder + "/", orjson.dumps(files), "b", 3)
        assert got == orjson.dumps(block_files(block))[1:-1]
    for declined in [[["x", 1, 1.0, "eA=="]], [["x.É", 1, 1.0]], {"x": 1}, [["x", "1", 1]]]:
        assert families.RENDERER.render("/d/", orjson.dumps(declined), "b", 0) is None
    assert families.RENDERER.render("/d/", b"[]", "b", 0) == b""
