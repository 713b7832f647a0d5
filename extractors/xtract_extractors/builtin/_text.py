"""Counts of text, defined once, over the whole text (streamed, never cut short).

- **words**: maximal runs of characters that are not white space, the text read as
  UTF-8 (or in the encoding it was found to be in): what ``LC_ALL=C.UTF-8 wc -w``
  counts (``tests/truth`` checks it against ``wc`` on real files). White space is
  Unicode's (``str.isspace``); control characters that are not white space to ``wc``
  (NEL, U+001C-U+001F, a lone ESC) neither make a word nor end one, and bytes that are
  not UTF-8 are dropped, as ``wc`` drops them.
- **lines**: newline characters, plus one for a last line with none.

Every extractor that reports ``word_count`` or ``lines`` of a text uses these.
"""

from __future__ import annotations

import codecs
import re
from typing import BinaryIO

_CHUNK = 1 << 20
# control characters that are not white space to ``wc`` (C0 but tab to carriage return,
# the information separators U+001C-U+001F that Python calls space, DEL, C1 with NEL)
# neither make a word nor end one: ``wc`` counts only printable characters into words
_NOT_SPACE: dict[int, str | None] = {
    c: None for c in (*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F, *range(0x80, 0xA0))
}
_NOT_SPACE[0xFFFD] = " "  # an undecodable byte is neither a word nor part of one
# whether a text has any of those: most has none, and ``str.translate`` with a dict
# looks up every character (it was a third of ``compressed``'s time on Debian's docs)
_SPECIAL = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_NOT_SPACE)) + "]")


def _printable(text: str) -> str:
    """The text with the characters ``wc`` does not count taken out (see the module doc)."""
    return text.translate(_NOT_SPACE) if _SPECIAL.search(text) else text


def _words(text: str) -> list[str]:
    return _printable(text).split()


def words_in(text: str) -> int:
    """The words of a string (see the module doc)."""
    return len(_words(text))


def count_stream(f: BinaryIO, head: bytes = b"", encoding: str = "utf-8") -> tuple[int, int]:
    """``(words, lines)`` of ``head`` followed by the rest of ``f``, read in chunks
    (text in another encoding than UTF-8 is decoded with it first)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    words = lines = 0
    joined = False  # the last chunk ended inside a word
    last = b""
    chunk = head
    while True:
        if chunk:
            text = _printable(decoder.decode(chunk))
            split = text.split()
            words += len(split)
            if joined and split and text and not text[0].isspace():
                words -= 1  # one word cut in two by the chunk boundary
            if text:  # a chunk of nothing but uncounted characters leaves a word open
                joined = not text[-1].isspace()
            lines += chunk.count(b"\n")
            last = chunk
        chunk = f.read(_CHUNK)
        if not chunk:
            break
    if last and not last.endswith(b"\n"):
        lines += 1
    return words, lines


def count_file(path: str) -> tuple[int, int]:
    """``(words, lines)`` of a whole file."""
    with open(path, "rb") as f:
        return count_stream(f)
