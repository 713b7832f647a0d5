"""Skip patterns are the caller's, and they run in a crawl worker every owner shares:
they are compiled by RE2 (time linear in the name, whatever the pattern) and match
exactly what ``fnmatch`` (the reference reader of globs) says, name for name."""

from __future__ import annotations

import fnmatch
import random

import pytest

from xtract_service.crawl.repos.local import glob_regex, skip_matcher

PATTERNS = [
    "*.tmp", ".git", "a?c", "[abc]*", "[!abc]*", "[a-z]x", "*[]]*", "[!]]", "[^x]",
    "x[", "*\\*", "a b", "a-b+c(d)", "é*", "*" * 30 + "b", "*a" * 20 + "*b",
    "[[]x", "{a,b}", "$^.|", "*.tar.gz",
]  # fmt: skip
ALPHABET = "abcx.-+()[]!^ *\\$|{},é\n"


def names(seed: int, n: int = 400) -> list[str]:
    rng = random.Random(seed)
    out = ["a" * 200, "a" * 199 + "b", "", ".git", "x.tmp", "abc", "a b", "é.txt"]
    out += ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12))) for _ in range(n)]
    return out


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_skip_glob_matches_what_fnmatch_says(pattern: str) -> None:
    match = skip_matcher([pattern])
    assert match is not None
    for name in names(len(pattern)):
        assert bool(match(name)) == fnmatch.fnmatchcase(name, pattern), (pattern, name)


def test_skip_globs_are_compiled_by_re2() -> None:
    match = skip_matcher(["*a" * 20 + "*b", "[!x]*"])
    assert match is not None and type(match.compiled).__module__.startswith("re2")
    import re2

    for p in PATTERNS:
        re2.compile(glob_regex(p))  # each is RE2 syntax (no look-around, no back-reference)
