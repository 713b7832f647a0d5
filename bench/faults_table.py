"""The fault campaign's table for ``docs/RELIABILITY.md``, from the trials
``tests/faults/test_kills.py`` logged (``XTRACT_FAULT_LOG``, one JSON line each).

Run: ``make faults`` (which runs the campaign first), or
``python bench/faults_table.py bench/results/faults.jsonl``.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

# the column that says how long until work resumed, per role
RESUMED = {
    "crawl": "seconds_to_take_over",  # what the dead worker held, committed by another
    "orchestrator": "seconds_to_resume",  # the next family recorded
    "offload": "seconds_kill_to_done",  # the whole export written
    "api": "seconds_to_answer",  # the API answering again
    "redis-server": "seconds_to_resume",  # answering, and listing committed again
}


def table(trials: list[dict[str, Any]]) -> str:
    by_role: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in trials:
        by_role[t["role"]].append(t)
    lines = [
        "| role killed | kills | lost | duplicated | work resumed after (max) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for role, rows in by_role.items():
        expected = [r.get("files", 0) for r in rows]
        found = [r.get("found", r.get("documents", r.get("items", 0))) for r in rows]
        unique = [r.get("unique", 0) for r in rows]
        lost = sum(max(0, e - u) for e, u in zip(expected, unique, strict=True))
        dup = sum(f - u for f, u in zip(found, unique, strict=True))
        key = RESUMED.get(role)
        resumed = [r[key] for r in rows if key and key in r]
        after = f"{max(resumed):.1f} s" if resumed else "not measured"
        lines.append(f"| {role} | {len(rows)} | {lost} | {dup} | {after} |")
    lines.append(f"\n{len(trials)} kills in all.")
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/faults.jsonl")
    print(table([json.loads(line) for line in path.read_text().splitlines() if line]))
