"""The dashboard in a real headless Chromium: it takes the service's token, starts a
crawl of a folder, shows it progress to completion from the live event stream, runs an
extraction, finds a file's metadata by path, type, extractor and field, and shows
errors by kind and the export history. Screenshots of each stage are kept."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from tests.corpus import write_good
from tests.support import Service, make_tree
from tests.ui.conftest import ARTIFACTS

TIMEOUT = 60_000  # ms
# the search note once a search has answered: exact counts from the index, or what a
# scan of the documents found before anything was indexed
FOUND = re.compile(r"^([\d,]+ of [\d,]+ files match; [\d,]+ shown.*|[\d,]+ files?.*)$")


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def test_the_dashboard_watches_a_crawl_and_finds_a_files_metadata(
    service: Service, page: Any, tree_dir: Path
) -> None:
    make_tree(tree_dir / "tree", 400, fanout=3, depth=3)
    write_good(tree_dir / "kinds")
    (tree_dir / "kinds" / "broken.json").write_text('{"not": "closed"')
    for p in [tree_dir, *tree_dir.rglob("*")]:
        if p.is_dir():
            os.chmod(p, 0o755)

    page.goto(f"{service.url}/ui#token={service.token}")
    page.wait_for_selector("#crawl-form")
    assert "token" not in page.url  # the fragment is dropped from the address bar
    page.fill("#crawl-dir", str(tree_dir))
    page.click("#crawl-form button")
    page.wait_for_selector("#run-status.complete", timeout=TIMEOUT)
    counters = page.inner_text("#crawl-counters")
    files = sum(1 for p in tree_dir.rglob("*") if p.is_file())
    assert f"{files:,}" in counters
    log = page.inner_text("#events")
    assert "crawl.started" in log and "crawl.completed" in log
    shot(page, "1-crawled")

    # a finished crawl opened afresh: its event stream replays from the first event, and
    # the early progress events must not paint over the final counts (seen once under
    # load: the status said complete and the counts said 0)
    cid = page.inner_text("#run-id")
    page.reload()
    page.click(f"#runs tbody tr[data-crawl='{cid}']")
    page.click("#events-history")  # a crawl opened afresh shows events from now on
    page.locator("#events", has_text="crawl.completed").wait_for(timeout=TIMEOUT)
    page.wait_for_selector("#run-status.complete", timeout=TIMEOUT)
    assert f"{files:,}" in page.inner_text("#crawl-counters")

    page.click("#xtract-start")
    page.wait_for_selector("#xtract-status.COMPLETED", timeout=TIMEOUT)
    page.wait_for_selector("#per-extractor tbody tr:nth-child(3)", timeout=TIMEOUT)
    # what each extractor read (identical content read before, in this shared service's
    # earlier tests, is reused, not read: filetype alone reads every file)
    per = page.inner_text("#per-extractor")
    assert f"filetype\t{files:,}" in per, per
    assert "xtract.completed" in page.inner_text("#events")
    kinds = page.inner_text("#error-kinds")
    assert "invalid_json" in kinds
    shot(page, "2-extracted")

    # find one CSV by its path, then by type, extractor and a field of its metadata
    page.fill("#q-path", "kinds/table.csv")
    page.click("#search-form button")
    page.locator("#search-note", has_text=FOUND).wait_for(timeout=TIMEOUT)
    rows = page.locator("#results tbody tr")
    assert rows.count() >= 1
    assert rows.count() == 1 and "kinds/table.csv" in rows.first.inner_text()
    note = page.inner_text("#search-note")
    assert re.match(r"^1 of [\d,]+ files match; 1 shown", note) or note == "1 file", note
    rows.first.click()
    doc = json.loads(page.inner_text("#document"))
    assert doc["path"] == str(tree_dir / "kinds" / "table.csv")
    assert "tabular" in doc["metadata"] and doc["metadata"]["filetype"]["mimetype"] == "text/csv"
    shot(page, "3-metadata")

    page.fill("#q-path", "")
    page.fill("#q-type", "text/csv")
    page.fill("#q-extractor", "tabular")
    page.fill("#q-field", "name=temperature")
    page.click("#search-form button")
    page.locator("#search-note", has_text=FOUND).wait_for(timeout=TIMEOUT)
    found = page.locator("#results tbody tr")
    texts = [found.nth(i).inner_text() for i in range(found.count())]
    assert any("kinds/table.csv" in t for t in texts), texts
    assert all(".csv" in t and "tabular" in t for t in texts), texts

    # the export history shows an offload made through the API
    dest = tree_dir.parent / f"{tree_dir.name}-export"
    dest.mkdir(exist_ok=True)
    os.chmod(dest, 0o755)
    cid = page.inner_text("#run-id")
    r = requests.post(
        f"{service.url}/v1/crawls/{cid}/offload",
        headers={"Authorization": f"Bearer {service.token}"},
        json={"dest_path": str(dest), "format": "jsonl"},
        timeout=10,
    )
    assert r.status_code == 202, r.text
    page.locator("#exports tbody", has_text="COMPLETED").wait_for(timeout=TIMEOUT)
    assert "jsonl" in page.inner_text("#exports")
    shot(page, "4-exported")


def test_the_dashboard_asks_for_a_token_and_refuses_a_wrong_one(
    service: Service, page: Any
) -> None:
    page.goto(f"{service.url}/ui/")
    page.wait_for_selector("#token-form:not([hidden])")
    page.fill("#token", "not-the-token")
    page.click("#token-form button")
    page.locator("#token-error", has_text="token").wait_for(timeout=TIMEOUT)
    assert page.is_visible("#token-form")
    page.fill("#token", service.token)
    page.click("#token-form button")
    page.wait_for_selector("#token-form", state="hidden", timeout=TIMEOUT)
    assert page.inner_text("#who")
    shot(page, "0-token")


def test_the_dashboard_files_are_the_packages_own_and_locked_down(service: Service) -> None:
    page = requests.get(f"{service.url}/ui/", timeout=10)
    assert page.status_code == 200 and "<title>Xtract</title>" in page.text
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    for name in ("app.js", "app.css"):
        r = requests.get(f"{service.url}/ui/assets/{name}", timeout=10)
        assert r.status_code == 200 and len(r.content) > 1000
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from elsewhere
    bad = requests.get(f"{service.url}/ui/assets/..%2f..%2fsettings.py", timeout=10)
    assert bad.status_code == 404


def test_the_dashboard_takes_its_words_from_the_service_and_shows_what_failed(
    service: Service, page: Any, tree_dir: Path
) -> None:
    from xtract_sdk.status import CrawlStatus

    make_tree(tree_dir / "few", 20)
    page.goto(f"{service.url}/ui#token={service.token}")
    page.wait_for_selector("#crawl-grouper option", state="attached")
    options = page.eval_on_selector_all("#crawl-grouper option", "os => os.map(o => o.value)")
    words = requests.get(
        f"{service.url}/v1/vocabulary",
        headers={"Authorization": f"Bearer {service.token}"},
        timeout=10,
    ).json()
    assert options == words["groupers"]  # plug-ins included, the default first
    page.fill("#crawl-dir", str(tree_dir / "few"))
    page.click("#crawl-form button")
    page.wait_for_selector(f"#run-status.ok.{CrawlStatus.COMPLETE.value}", timeout=TIMEOUT)
    assert page.is_hidden("#notice")
    # the crawl is forgotten behind the page's back: its next reads fail, visibly
    cid = page.inner_text("#run-id")
    gone = requests.delete(
        f"{service.url}/v1/crawls/{cid}",
        params={"forget": "true"},
        headers={"Authorization": f"Bearer {service.token}"},
        timeout=10,
    )
    assert gone.ok, gone.text
    page.wait_for_selector("#notice:not([hidden])", timeout=TIMEOUT)
    assert cid in page.inner_text("#notice")
    shot(page, "5-failure-shown")


REGISTRIES = """
import json
from xtract_extractors import all_extractors
from xtract_service.crawl.groupers import GROUPERS
from xtract_service.extraction.executors import EXECUTORS
from xtract_service.offload.formats import describe_formats
print(json.dumps({
    "groupers": list(GROUPERS),
    "executors": sorted(EXECUTORS),
    "extractors": sorted(e.name for e in all_extractors()),
    "formats": sorted(f["name"] for f in describe_formats()),
}))
"""


def test_the_vocabulary_is_the_services_own_words(service: Service) -> None:
    """What /v1/vocabulary says against the enums, and against the registries as a
    fresh process of this installation has them (plug-ins included; this test process
    has registered test extractors of its own)."""
    from xtract_sdk.status import CrawlStatus, EventType, XtractStatus

    url = f"{service.url}/v1/vocabulary"
    assert requests.get(url, timeout=10).status_code == 401
    words = requests.get(url, headers={"Authorization": f"Bearer {service.token}"}, timeout=10)
    got = words.json()
    assert got["crawl_status"]["all"] == [s.value for s in CrawlStatus]
    assert set(got["crawl_status"]["terminal"]) == {s.value for s in CrawlStatus.terminal()}
    assert set(got["xtract_status"]["terminal"]) == {s.value for s in XtractStatus.terminal()}
    assert set(got["events"]["all"]) == {e.value for e in EventType} - {EventType.ANY.value}
    assert set(got["events"]["final"]) == {e.value for e in EventType.final()}
    fresh = subprocess.run(
        [sys.executable, "-c", REGISTRIES], capture_output=True, text=True, check=True
    )
    registries = json.loads(fresh.stdout)
    assert registries["extractors"] and registries["groupers"]
    assert {k: got[k] for k in registries} == registries
