"""Metadata searches are bounded by bytes, not only by documents: one request reads
about ``XTRACT_SEARCH_SCAN_BYTES`` of documents and answers with ``next`` (so eight
maximal searches cannot take the API to gigabytes), paging through still finds every
file once, and an owner runs at most ``XTRACT_SEARCHES_PER_OWNER`` searches at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
import requests

from tests.support import Service, make_tree, roots_env
from xtract_sdk import XtractEndpoint
from xtract_service import keys
from xtract_service.errors import TooMany
from xtract_service.quotas import flush_slot, search_slot
from xtract_service.settings import Settings

BUDGET = 64 * 1024


def test_a_search_reads_a_bounded_number_of_bytes_and_pages_cover_every_file_once(
    data_root: Path, tmp_path: Path, tree_dir: Path
) -> None:
    tree = make_tree(tree_dir / "data", 400)
    env = {**roots_env(data_root), "XTRACT_SEARCH_SCAN_BYTES": str(BUDGET)}
    with Service(tmp_path / "home", env=env) as svc:
        xtr = svc.client()
        xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir / "data")]), progress=False)
        cid = xtr.crawl_ids[-1]
        (done,) = xtr.xtract_and_wait(cid, progress=False, extractors=[], timeout=300)
        assert done["xtract_status"] == "COMPLETED"
        total_bytes = sum(len(str(d)) for d in xtr.metadata(cid))
        assert total_bytes > 4 * BUDGET  # enough documents for the budget to matter
        # while the index is being written, a search reads the documents (the index is
        # searched without this budget): hold the index's lock as a writer would, so the
        # search cannot go to the index however soon the indexer caught up
        r = redis.Redis.from_url(svc.redis_url)
        r.set(keys.metadata_index_lock(cid), "test", px=120_000)
        url = f"{svc.url}/v1/crawls/{cid}/metadata/search"
        auth = {"Authorization": f"Bearer {svc.token}"}
        seen: list[str] = []
        pages, after = 0, None
        while True:
            params = {"limit": 500, **({"after": after} if after else {})}
            page = requests.get(url, params=params, headers=auth, timeout=30).json()
            pages += 1
            assert page["source"] == "documents"
            seen += [f["path"] for f in page["files"]]
            after = page["next"]
            if after is None:
                break
        assert pages > 2  # the byte budget, not the 500-file limit, cut the pages
        assert sorted(seen) == sorted(tree)


def test_an_owner_runs_a_bounded_number_of_searches_at_once(r: redis.Redis, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", searches_per_owner=2)
    with search_slot(r, "alice", settings), search_slot(r, "alice", settings):
        third = search_slot(r, "alice", settings)
        with pytest.raises(TooMany, match="metadata searches running"):
            third.__enter__()
        with search_slot(r, "bob", settings):  # another owner is not held up
            pass
    with search_slot(r, "alice", settings):  # given back when they answered
        pass


def test_an_owner_runs_a_bounded_number_of_flushes_and_a_crawl_id_cannot_take_them(
    r: redis.Redis, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home", flushes_per_owner=2)
    with flush_slot(r, "alice", settings, True), flush_slot(r, "alice", settings, True):
        with pytest.raises(TooMany, match="flushes running"):
            flush_slot(r, "alice", settings, True).__enter__()
        # whoever holds only crawl ids of alice's cannot hold up alice's own flushes
        own = [flush_slot(r, "alice", settings, False) for _ in range(3)]
        with own[0], own[1], pytest.raises(TooMany, match="flushes running"):
            own[2].__enter__()
