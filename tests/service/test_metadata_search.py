"""Finding files in a crawl's metadata (``GET /v1/crawls/{id}/metadata/search`` and the
SDK's ``search_metadata``): by path, type, extractor, field and error kind, page by page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support import Service
from xtract_sdk import BadRequestError, XtractEndpoint


@pytest.fixture(scope="module")
def extracted(service: Service, corpus: Path) -> str:
    xtr = service.client()
    ((cid, _),) = xtr.crawl_and_wait(
        XtractEndpoint("local", dirs=[str(corpus)]), progress=False
    ).items()
    (x,) = xtr.xtract_and_wait(cid, progress=False, timeout=180)
    assert x["xtract_status"] == "COMPLETED"
    return cid


def test_files_are_found_by_each_filter_and_all_of_them_together(
    service: Service, extracted: str
) -> None:
    xtr = service.client()
    every = xtr.search_metadata(extracted)
    assert len(every) == len({f["path"] for f in every}) > 20
    csvs = xtr.search_metadata(extracted, type="text/csv")
    assert csvs and all(f["mimetype"] == "text/csv" for f in csvs)
    by_field = xtr.search_metadata(extracted, extractor="tabular", field="name=temperature")
    assert [f["path"].rsplit("/", 1)[-1] for f in by_field] == ["table.csv"]
    assert by_field[0]["metadata"]["tabular"]["rows"] == 100
    by_path = xtr.search_metadata(extracted, path="GOOD/TABLE")  # any case
    assert {f["path"] for f in by_path} >= {by_field[0]["path"]}
    kinds = xtr.get_xtract_status(extracted)["errors_by_kind"]
    assert kinds  # the hostile files left error records
    kind, n = max(kinds.items(), key=lambda kv: kv[1])
    with_errors = xtr.search_metadata(extracted, error=kind)
    records = sum(1 for f in with_errors for e in f["errors"] if kind in e["error"])
    assert records >= n and all(f["errors"] for f in with_errors)
    assert xtr.search_metadata(extracted, path="no-such-file") == []


def test_pages_of_one_cover_the_same_files_once(service: Service, extracted: str) -> None:
    url = f"{service.url}/v1/crawls/{extracted}/metadata/search"
    headers = {"Authorization": f"Bearer {service.token}"}
    seen: list[str] = []
    after = None
    while True:
        params: dict[str, Any] = {"type": "text", "limit": 1, **({"after": after} if after else {})}
        got = requests.get(url, params=params, headers=headers, timeout=10).json()
        seen += [f["path"] for f in got["files"]]
        after = got["next"]
        if after is None:
            break
    whole = [f["path"] for f in service.client().search_metadata(extracted, type="text")]
    assert seen == whole and len(seen) == len(set(seen))
    bad = requests.get(url, params={"after": "nonsense"}, headers=headers, timeout=10)
    assert bad.status_code == 400 and "cursor" in bad.json()["error"]["message"]
    with pytest.raises(BadRequestError):
        service.client().get_metadata(extracted, after="nonsense")
