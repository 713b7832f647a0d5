"""Words counted in chunks agree with ``LC_ALL=C.UTF-8 wc -w`` on the whole file where
a chunk boundary falls beside characters ``wc`` does not count (control characters
neither make a word nor end one)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from xtract_extractors.builtin._text import count_stream

# each case: the chunks as count_stream receives them (the head, then each read)
CASES = {
    "a control character, then space, after a boundary": [b"x foo", b"\x01 bar baz\n"],
    "a chunk of control characters alone inside a word": [b"x foo", b"\x01\x02", b"bar baz\n"],
    "controls inside and around words": [b"a\x02b \x03 \x1cc\x7fd e\n" * 500, b"\x1f f\n"],
}


class Chunks:
    """A reader that hands out the given chunks, then end of file."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = iter(chunks)

    def read(self, size: int = -1) -> bytes:
        return next(self.chunks, b"")


def wc_words(path: Path) -> int:
    out = subprocess.run(
        ["wc", "-w", str(path)], env={"LC_ALL": "C.UTF-8"}, capture_output=True, text=True
    )
    return int(out.stdout.split()[0])


@pytest.mark.parametrize("name", sorted(CASES))
def test_chunked_words_match_wc(tmp_path: Path, name: str) -> None:
    head, *rest = CASES[name]
    path = tmp_path / "t.txt"
    path.write_bytes(b"".join(CASES[name]))
    words, _ = count_stream(Chunks(rest), head)  # type: ignore[arg-type]
    assert words == wc_words(path)
