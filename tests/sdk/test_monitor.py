"""Watching runs: live events over SSE, SDK callbacks, reconnection, error policies."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import requests

from tests.corpus import write_good
from tests.support import Service, make_tree
from xtract_sdk import Callback, Event, EventType, MonitorOptions, XtractEndpoint


def test_a_monitor_gets_every_family_extracted_once_across_a_dropped_connection(
    service: Service, tree_dir: Path
) -> None:
    tree = make_tree(tree_dir, 600)
    xtr = service.client()
    (cid,) = xtr.crawl(XtractEndpoint("local", dirs=[str(tree_dir)]))
    got: list[str] = []
    decoded: list[dict] = []

    def on_extracted(e: Event) -> None:
        got.append(e.data["family_id"])
        decoded.append(e.data["document"])

    with xtr.monitor(cid, [Callback(EventType.FAMILY_EXTRACTED, on_extracted)]) as mon:
        xtr.xtract(cid, extractors=[], batch_files=10)
        deadline = time.monotonic() + 120
        while len(got) < 100:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        mon.drop_connection()  # kill the SSE connection midway
        while len(got) < len(tree):
            assert time.monotonic() < deadline, (len(got), len(tree))
            time.sleep(0.05)
        time.sleep(0.5)  # nothing more may arrive
    assert mon.reconnects >= 1
    assert len(got) == len(set(got)) == len(tree)
    assert all("filetype" in next(iter(d["metadata"].values())) for d in decoded)


def test_events_resume_after_last_event_id(service: Service, tree_dir: Path) -> None:
    make_tree(tree_dir, 30)
    xtr = service.client()
    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False)
    url = f"{service.url}/v1/crawls/{cid}/events"
    auth = {"Authorization": f"Bearer {service.token}"}

    def read(headers: dict, n: int) -> list[tuple[str | None, str]]:
        out: list[tuple[str | None, str]] = []
        with requests.get(url, headers={**auth, **headers}, stream=True, timeout=10) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            ident = None
            for raw in r.iter_lines(decode_unicode=True):
                line = str(raw)
                if line.startswith("id: "):
                    ident = line[4:]
                elif line.startswith("event: "):
                    out.append((ident, line[7:]))
                    if len(out) == n:
                        return out
        return out

    first = read({}, 2)
    assert first[0][1] == "crawl.started"
    rest = read({"Last-Event-ID": first[0][0]}, 1)
    assert rest[0] == first[1]
    bad = requests.get(url, headers={**auth, "Last-Event-ID": "yesterday"}, timeout=10)
    assert bad.status_code == 400


def test_watching_an_unknown_or_foreign_crawl_is_404(service: Service) -> None:
    r = requests.get(
        f"{service.url}/v1/crawls/00000000-0000-0000-0000-000000000000/events",
        headers={"Authorization": f"Bearer {service.token}"},
        timeout=10,
    )
    assert r.status_code == 404
    errors: list[BaseException] = []
    mon = (
        service.client()
        .monitor(
            "00000000-0000-0000-0000-000000000000",
            [Callback(EventType.ANY, lambda e: None, lambda exc, e: errors.append(exc))],
        )
        .start()
    )
    mon.join(10)
    assert not mon.running and errors and "no crawl" in str(errors[0])


@pytest.mark.parametrize("policy", ["skip", "abort"])
def test_a_callback_that_raises_follows_the_policy(
    service: Service, tree_dir: Path, policy: str
) -> None:
    make_tree(tree_dir, 20)
    xtr = service.client()
    seen: list[str] = []
    errors: list[str] = []

    def explode(e: Event) -> None:
        raise RuntimeError(f"boom on {e.type}")

    callbacks = [
        Callback(EventType.ANY, explode, lambda exc, e: errors.append(str(exc))),
        Callback(EventType.ANY, lambda e: seen.append(e.type)),
    ]
    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False)
    mon = xtr.monitor(cid, callbacks, MonitorOptions(on_callback_error=policy)).start()
    deadline = time.monotonic() + 10
    while "crawl.completed" not in seen and mon.running and time.monotonic() < deadline:
        time.sleep(0.05)
    mon.stop()
    if policy == "skip":
        assert "crawl.completed" in seen and len(errors) == len(seen)
    else:
        assert seen == [] and errors == ["boom on crawl.started"]
        assert isinstance(mon.error, RuntimeError)


def test_the_queue_adapter_serves_a_single_threaded_program(
    service: Service, tree_dir: Path
) -> None:
    make_tree(tree_dir, 15)
    xtr = service.client()
    (cid,) = xtr.crawl(XtractEndpoint("local", dirs=[str(tree_dir)]))
    mon = xtr.monitor(cid)
    q = mon.queue()
    with mon:
        kinds = []
        while "crawl.completed" not in kinds:
            kinds.append(q.get(timeout=30).type)
    assert kinds[0] == "crawl.started" and "family.found" in kinds


def test_a_monitor_reconnects_when_the_service_comes_back(data_root: Path, tmp_path: Path) -> None:
    from tests.support import roots_env

    root = data_root / "monitor-restart"
    shutil.rmtree(root, ignore_errors=True)
    write_good(root)
    svc = Service(tmp_path / "home", env=roots_env(data_root)).start()
    port = svc.port
    xtr = svc.client()
    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(root)]), progress=False)
    events: list[str] = []
    opts = MonitorOptions(reconnect_backoff=0.2, give_up_after=60)
    mon = xtr.monitor(cid, [Callback(EventType.ANY, lambda e: events.append(e.type))], opts)
    mon.start()
    time.sleep(1)
    svc.stop()
    again = Service(tmp_path / "home", env=roots_env(data_root), port=port).start()
    try:
        again.client().xtract(cid, extractors=[])
        deadline = time.monotonic() + 60
        while "xtract.completed" not in events:
            assert time.monotonic() < deadline, events
            time.sleep(0.1)
        assert events.count("crawl.started") == 1  # resumed, not replayed
    finally:
        mon.stop()
        again.stop()


@pytest.mark.parametrize("types", [[], ["family.extracted"]], ids=["all types", "filtered"])
def test_leaving_the_block_first_hears_every_event_the_work_made(
    service: Service, tree_dir: Path, types: list[str]
) -> None:
    """The README's pattern: start work inside the block, wait for it, leave. The work
    can finish before the monitor has even connected; leaving still delivers every
    event up to that moment (with a ``types`` filter too: passed-over events move the
    position on)."""
    make_tree(tree_dir, 40)
    xtr = service.client()
    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False)
    (run,) = xtr.xtract_and_wait([cid], progress=False)  # done before the monitor starts
    got: list[str] = []
    options = MonitorOptions(types=types)
    cb = Callback(EventType.FAMILY_EXTRACTED, lambda e: got.append(e.data["family_id"]))
    with xtr.monitor(cid, [cb], options) as mon:
        pass  # nothing waited for in the block: the work is already done
    assert not mon.running
    fx = run["xtract_counters"]["fx"]
    assert len(got) == len(set(got)) == fx["success"] + fx["failed"] > 0
    newest = xtr.http.answer("GET", f"/v1/crawls/{cid}/events/newest")["id"]
    assert mon.delivered_id == newest
