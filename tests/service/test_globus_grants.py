"""Local folders granted per Globus group, domain or identity (``XTRACT_GLOBUS_ROOTS``,
issue 21 item 4): an admitted identity reaches the union of what is granted to it,
and no longer every folder of ``XTRACT_ALLOWED_ROOTS``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.globus_env import GlobusWorld, globus_world
from tests.support import make_tree
from xtract_sdk import XtractEndpoint, XtractError

TEAM = str(uuid.uuid4())


@pytest.fixture(scope="module")
def granted(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GlobusWorld]:
    grants = {
        f"group:{TEAM}": [str(data_root / "team")],
        "domain:example.org": [str(data_root / "shared")],
    }
    for name in ("team", "shared", "other"):
        make_tree(data_root / name, 4, fanout=2, depth=1)
    tmp = tmp_path_factory.mktemp("globus-grants")
    with globus_world(data_root, tmp, XTRACT_GLOBUS_ROOTS=json.dumps(grants)) as w:
        yield w


def crawls(client, folder: Path) -> bool:  # type: ignore[no-untyped-def]
    try:
        client.crawl_and_wait(XtractEndpoint("local", dirs=[str(folder)]), progress=False)
    except XtractError:
        return False
    return True


def test_identities_reach_what_their_groups_and_domain_are_granted(
    granted: GlobusWorld, data_root: Path
) -> None:
    granted.groups.group("team", "mo", gid=TEAM)
    member, outsider = granted.login("mo"), granted.login("ned")
    assert crawls(member, data_root / "team") and crawls(member, data_root / "shared")
    assert crawls(outsider, data_root / "shared")
    assert not crawls(outsider, data_root / "team")
    # XTRACT_ALLOWED_ROOTS (data_root) no longer reaches Globus identities
    assert not crawls(member, data_root / "other")
