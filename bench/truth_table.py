"""The truth test's table for ``docs/``: per kind, the files and facts checked against
the format's reference reader, and the facts wrong (from ``test-artifacts/truth/``,
which ``tests/truth/test_truth.py`` writes).

Run: ``make truth`` (the test with 100 files per kind, then this).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "test-artifacts" / "truth"


def main() -> None:
    reports = [json.loads(p.read_text()) for p in sorted(FOLDER.glob("*.json"))]
    print("| kind | extractor | files | of them partial | facts | wrong |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in reports:
        print(
            f"| {r['kind']} | `{r['extractor']}` | {r['files']} | {r.get('partial', 0)} "
            f"| {r['facts']} | {r['wrong']} |"
        )
    files = sum(r["files"] for r in reports)
    facts = sum(r["facts"] for r in reports)
    wrong = sum(r["wrong"] for r in reports)
    partial = sum(r.get("partial", 0) for r in reports)
    print(f"| all ({len(reports)} kinds) | | {files} | {partial} | {facts} | {wrong} |")
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
