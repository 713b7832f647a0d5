"""A generated corpus of hostile files: each valid format cut short at several lengths,
garbage under every extension, empty files, bombs, odd names, and things that are not
regular files at all (FIFOs, links to devices, loops, dangling links). Returns what a
crawl should find: the regular files, by path."""

from __future__ import annotations

import io
import os
import zlib
from pathlib import Path

from tests.corpus import write_good, write_hostile

EXTENSIONS = [
    "csv",
    "tsv",
    "txt",
    "json",
    "xml",
    "png",
    "jpg",
    "h5",
    "nc",
    "py",
    "c",
    "pdf",
    "docx",
]


def png_bomb(path: Path) -> None:
    """A tiny PNG that claims 50,000 x 50,000 pixels (a decompression bomb)."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1024)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def write_hostile_corpus(root: Path) -> dict[str, int]:
    """At least sixty hostile entries under ``root``; returns the regular files a crawl
    must report (path -> size)."""
    good = root / "good"
    write_good(good)
    write_hostile(root / "classic")
    cut = root / "truncated"
    cut.mkdir(parents=True)
    for src in sorted(good.iterdir()):
        data = src.read_bytes()
        for frac in (0.1, 0.5, 0.9):
            (cut / f"{src.stem}-{int(frac * 100)}{src.suffix}").write_bytes(
                data[: max(1, int(len(data) * frac))]
            )
    junk = root / "junk"
    junk.mkdir()
    for ext in EXTENSIONS:
        (junk / f"random.{ext}").write_bytes(os.urandom(4096))
        (junk / f"empty.{ext}").write_bytes(b"")
        (junk / f"nul.{ext}").write_bytes(b"\x00" * 10_000)
    bombs = root / "bombs"
    bombs.mkdir()
    png_bomb(bombs / "bomb.png")
    (bombs / "nested.json").write_bytes(b'{"a":' * 50_000 + b"1" + b"}" * 50_000)
    (bombs / "wide.csv").write_bytes(b",".join(b"c%d" % i for i in range(100_000)) + b"\n")
    (bombs / "long-line.txt").write_bytes(b"word " * 400_000)
    buf = io.BytesIO()
    buf.write(b"%PDF-1.4\n" + b"0" * 100_000)
    (bombs / "fake.pdf").write_bytes(buf.getvalue())
    names = root / "names"
    names.mkdir()
    for name in [
        "-leading-dash.txt",
        "space in name.csv",
        "new\nline.txt",
        "tab\there.json",
        "\u202eevil.txt",
        "n" * 250 + ".py",
        "quote'\"s.xml",
        "semi;colon.c",
    ]:
        (names / name).write_text("a,b\n1,2\n")
    with open(os.fsencode(str(names)) + b"/latin-\xe9.csv", "wb") as f:
        f.write(b"a,b\n")
    odd = root / "odd"
    odd.mkdir()
    os.mkfifo(odd / "pipe.csv")
    (odd / "zero.txt").symlink_to("/dev/zero")
    (odd / "random.bin").symlink_to("/dev/urandom")
    (odd / "dangling.json").symlink_to(odd / "nowhere.json")
    (odd / "loop").symlink_to(odd)
    (odd / "passwd.txt").symlink_to("/etc/passwd")
    found: dict[str, int] = {}
    for dirpath, _, entries in os.walk(os.fsencode(str(root))):
        for raw in entries:
            full = os.path.join(dirpath, raw)
            if os.path.isfile(full) and not os.path.islink(full):
                found[os.fsdecode(full)] = os.path.getsize(full)
    return found
