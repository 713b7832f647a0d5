"""The design page's "Where things live" table is held against the tree: every path it
names exists, and every module and room of the service and the extractors is named
(itself or its folder), so a new module cannot go unlisted and a moved one cannot leave
a stale row."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [ROOT / "service" / "xtract_service", ROOT / "extractors" / "xtract_extractors"]


def where_things_live() -> list[str]:
    """The paths of the table's module column."""
    text = (ROOT / "docs" / "design.md").read_text()
    section = text.split("## Where things live", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| ")]
    return [p for row in rows[2:] for p in re.findall(r"`([^`]+)`", row[2])]


def test_every_path_the_table_names_exists() -> None:
    paths = where_things_live()
    assert len(paths) > 30
    missing = [p for p in paths if not list(ROOT.glob(p.rstrip("/")))]
    assert missing == []


def test_every_module_and_room_is_in_the_table() -> None:
    named = {ROOT / p.rstrip("/") for p in where_things_live() if "*" not in p}
    unlisted = []
    for package in PACKAGES:
        for path in package.rglob("*.py"):
            rel = path.relative_to(package)
            if rel.name == "__init__.py" or rel.name.startswith("_"):
                continue
            # a module is listed by itself, by its folder, or by any folder above it
            if not ({path, *path.parents} - {package, ROOT, *ROOT.parents} & named):
                unlisted.append(str(path.relative_to(ROOT)))
    assert unlisted == []
