"""The dashboard tells the truth about the crawl it shows (issue 25, item 1), each
defect a user met checked in a real headless Chromium: a crawl started from the form
while another is open shows nothing of the other (even when the other's answers arrive
late); a finished crawl's live events start now, its history one click away, with file
paths; numbers never wrap, measured on the rendered boxes at a narrow width; counters
are updated in place (no rows removed and re-added on progress); error samples name
their files; the page has an icon."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import expect

from tests.corpus import write_good
from tests.support import Service, make_tree
from tests.ui.conftest import ARTIFACTS

TIMEOUT = 60_000  # ms


def _api(service: Service, method: str, path: str, body: Any = None) -> Any:
    r = requests.request(method, f"{service.url}{path}", json=body, timeout=30,
                         headers={"Authorization": f"Bearer {service.token}"})  # fmt: skip
    assert r.ok, r.text
    return r.json()


def _extracted_crawl(service: Service, root: Path) -> str:
    """A crawl of ``root``, extracted and exported, through the API."""
    xtr = service.client()
    from xtract_sdk import XtractEndpoint

    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(root)]), progress=False)
    xtr.xtract_and_wait(cid, progress=False, timeout=120)
    dest = root.parent / f"{root.name}-out"
    dest.mkdir(exist_ok=True)
    os.chmod(dest, 0o755)
    xtr.offload_metadata(dest_path=str(dest), crawl_ids=[cid], format="jsonl")
    return str(cid)


# answers about one crawl's extraction and exports held back 1.5 s, as a slow link would
SLOW = """
(slow) => {
  const real = window.fetch;
  window.fetch = async (url, opts) => {
    const answer = await real(url, opts);
    const u = String(url);
    if (u.includes(slow) && (u.endsWith("/xtract") || u.endsWith("/offload"))) {
      await new Promise((ok) => setTimeout(ok, 1500));
    }
    return answer;
  };
}
"""


def test_a_crawl_started_while_another_is_open_shows_nothing_of_the_other(
    service: Service, page: Any, tree_dir: Path
) -> None:
    write_good(tree_dir / "first")
    (tree_dir / "first" / "broken.json").write_text('{"open": ')
    first = _extracted_crawl(service, tree_dir / "first")
    make_tree(tree_dir / "second", 30, fanout=2, depth=1)
    for p in [tree_dir, *tree_dir.rglob("*")]:
        if p.is_dir():
            os.chmod(p, 0o755)

    page.goto(f"{service.url}/ui#token={service.token}")
    page.wait_for_selector(f"#runs tbody tr[data-crawl='{first}']")
    page.evaluate(SLOW, first)
    page.click(f"#runs tbody tr[data-crawl='{first}']")
    # watch every change of the page: any moment the second crawl's view shows the
    # first's extraction or exports is a leak, however short
    page.evaluate(
        """(first) => {
      window.leaks = [];
      new MutationObserver(() => {
        if (document.querySelector('#run-id').textContent === first) return;
        const x = document.querySelector('#xtract-status').textContent;
        const rows = document.querySelectorAll('#exports tbody tr, #error-kinds tbody tr').length;
        if (x || rows) window.leaks.push([x, rows]);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    }""",
        first,
    )
    page.fill("#crawl-dir", str(tree_dir / "second"))
    page.click("#crawl-form button")  # while the first crawl's answers are on their way
    expect(page.locator("#run-id")).not_to_have_text(first, timeout=TIMEOUT)
    page.wait_for_selector("#run-status.complete", timeout=TIMEOUT)
    page.wait_for_timeout(2500)  # the first crawl's late answers have all come in
    second = page.inner_text("#run-id")
    assert second != first
    assert page.evaluate("window.leaks") == []
    assert page.locator("#exports tbody tr").count() == 0
    assert page.locator("#error-kinds tbody tr").count() == 0
    assert page.is_visible("#xtract-start")  # the new crawl can be extracted
    assert "not started" in page.inner_text("#xtract-counters")
    assert page.is_hidden("#notice"), page.inner_text("#notice")
    # its runs row says where, how far the crawl and its extraction are
    runs = page.inner_text(f"#runs tbody tr[data-crawl='{second}']")
    assert str(tree_dir / "second") in runs and "not extracted" in runs
    assert "COMPLETED 100%" in page.inner_text(f"#runs tbody tr[data-crawl='{first}']")
    page.screenshot(path=str(ARTIFACTS / "dashboard-6-switched.png"), full_page=True)


def test_a_finished_crawls_events_start_now_and_its_history_names_files(
    service: Service, page: Any, tree_dir: Path
) -> None:
    make_tree(tree_dir / "done", 6, fanout=1, depth=1)
    cid = _extracted_crawl(service, tree_dir / "done")
    page.goto(f"{service.url}/ui#token={service.token}")
    page.click(f"#runs tbody tr[data-crawl='{cid}']")
    page.wait_for_selector("#xtract-status.COMPLETED", timeout=TIMEOUT)
    page.wait_for_timeout(1500)
    assert page.locator("#events li").count() == 0  # nothing has happened since
    page.click("#events-history")
    page.locator("#events", has_text="xtract.completed").wait_for(timeout=TIMEOUT)
    extracted = [t for t in page.locator("#events li").all_inner_texts() if "family.extracted" in t]
    assert len(extracted) == 6
    assert all(str(tree_dir / "done") in t for t in extracted), extracted
    # errors: samples name their files (write one that fails, extract it)
    assert page.is_hidden("#events-history")


# every run of digits in the element's text, as the rendered line boxes it occupies
LINES_OF_NUMBERS = """
(sel) => {
  const out = [];
  for (const node of document.querySelectorAll(sel)) {
    const text = node.firstChild;
    if (!text || text.nodeType !== Node.TEXT_NODE) continue;
    for (const m of text.data.matchAll(/[0-9][0-9,.]*/g)) {
      const r = document.createRange();
      r.setStart(text, m.index);
      r.setEnd(text, m.index + m[0].length);
      const tops = new Set([...r.getClientRects()].map((b) => Math.round(b.top)));
      out.push([m[0], tops.size]);
    }
  }
  return out;
}
"""


def test_numbers_never_wrap_and_counters_do_not_flicker(
    service: Service, page: Any, tree_dir: Path
) -> None:
    make_tree(tree_dir / "many", 3000, fanout=6, depth=3)
    (tree_dir / "many" / "broken.json").write_text('{"open": ')
    for p in [tree_dir, *tree_dir.rglob("*")]:
        if p.is_dir():
            os.chmod(p, 0o755)
    page.set_viewport_size({"width": 560, "height": 900})
    page.goto(f"{service.url}/ui#token={service.token}")
    page.wait_for_selector("#crawl-form")
    page.evaluate(
        """() => {
      window.removed = 0;
      new MutationObserver((ms) => { for (const m of ms) window.removed += m.removedNodes.length; })
        .observe(document.querySelector('#crawl-counters'), { childList: true });
    }"""
    )
    page.fill("#crawl-dir", str(tree_dir / "many"))
    page.click("#crawl-form button")
    page.wait_for_selector("#run-status.complete", timeout=TIMEOUT)
    assert page.evaluate("window.removed") == 0  # values changed in place, rows kept
    page.click("#xtract-start")
    page.wait_for_selector("#xtract-status.COMPLETED", timeout=TIMEOUT)
    page.wait_for_selector("#error-samples li", timeout=TIMEOUT)
    page.screenshot(path=str(ARTIFACTS / "dashboard-7-narrow.png"), full_page=True)
    measured = page.evaluate(
        LINES_OF_NUMBERS,
        "#crawl-counters dd, #xtract-counters dd, td.num, #per-extractor td, #error-kinds td",
    )
    assert measured and any(n == "3,001" for n, _ in measured), measured
    broken = [(n, lines) for n, lines in measured if lines != 1]
    assert not broken, broken
    samples = page.locator("#error-samples li").all_inner_texts()
    for line in samples:  # a file, and the kind of error it got with its message
        path, _, why = line.partition(" — ")
        # any file of the tree with an error of a top kind (broken.json, a .h5 of text, ...)
        assert Path(path).is_relative_to(tree_dir / "many") and Path(path).is_file(), line
        assert why.split(":")[0] in page.inner_text("#error-kinds"), line
    icon = requests.get(f"{service.url}/favicon.ico", timeout=10)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg")
    assert page.locator("link[rel=icon]").count() == 1
