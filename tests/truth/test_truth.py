"""Every fact true: each extractor's fields on real files nobody here wrote, against
what the format's reference reader says at test time (:mod:`tests.truth.reference`).

Per kind: the files checked, the facts checked and the facts wrong, written to
``test-artifacts/truth/<kind>.json`` (``make truth`` sums them up for ``docs/``); the
test fails on any wrong fact, naming the file, the fact, the truth and what was said.
CI checks ``XTRACT_TRUTH_PER_KIND`` (12) files of each kind; ``make truth`` 100.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.truth.reference import KINDS, Kind, file_said, file_truth
from xtract_extractors import IsolatedRunner, extract_file

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "truth"


@pytest.fixture(scope="module")
def documents() -> Iterator[dict[str, dict[str, Any]]]:
    """Xtract's document of each file, extracted once per module."""
    with IsolatedRunner(time_limit=60) as runner:
        cache: dict[str, dict[str, Any]] = {}

        def get(path: Path) -> dict[str, Any]:
            key = str(path)
            if key not in cache:
                cache[key] = extract_file(key, runner)
            return cache[key]

        yield get  # type: ignore[misc]


def check(kind: Kind, get: Any) -> dict[str, Any]:
    files = kind.files()
    assert files, f"no {kind.name} files on this machine to check"
    report: dict[str, Any] = {"kind": kind.name, "extractor": kind.extractor}
    checked = facts = partial_files = 0
    wrong: list[dict[str, Any]] = []
    for path in files:
        truth = kind.truth(path)
        if truth is None:
            continue
        doc = get(path)
        truth_of_file = file_truth(path)
        said_of_file = file_said(doc)
        said = kind.said(doc)
        failed = [e for e in doc["errors"] if e["extractor"] == kind.extractor]
        partial = kind.partial(doc)
        partial_files += bool(partial)
        checked += 1
        for fact, value in [*truth.items(), *truth_of_file.items()]:
            facts += 1
            got = said.get(fact) if fact in truth else said_of_file.get(fact)
            if fact in partial and isinstance(got, list) and isinstance(value, list):
                got = [item for item in got if item not in value] or value  # extras only
            if got != value:
                wrong.append(
                    {
                        "file": str(path),
                        "fact": fact,
                        "truth": value,
                        "said": got,
                        **({"error": failed[0]} if failed else {}),
                    }
                )
    report.update(
        files=checked, partial=partial_files, facts=facts, wrong=len(wrong), wrong_facts=wrong[:50]
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{kind.name.replace('/', '-').replace(' ', '-')}.json").write_text(
        json.dumps(report, indent=1, default=str)
    )
    return report


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 200 else shown[:200] + "..."


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_every_fact_matches_the_reference_reader(kind: Kind, documents: Any) -> None:
    report = check(kind, documents)
    assert report["files"] > 0, f"no {kind.name} file the reference reader could read"
    shown = "\n".join(
        f"  {w['file']}: {w['fact']} is {_short(w['truth'])}, Xtract said {_short(w['said'])}"
        + (f" ({w['error']['error']}: {w['error']['message'][:120]})" if "error" in w else "")
        for w in report["wrong_facts"][:15]
    )
    assert report["wrong"] == 0, (
        f"{kind.name}: {report['wrong']} of {report['facts']} facts wrong in "
        f"{report['files']} files:\n{shown}"
    )
