"""Globus crawl speed: Xtract against a serial crawler, through the real
``globus_sdk.TransferClient`` and the loopback Transfer emulator answering each listing
after ``--latency`` (default 50 ms), taking turns over several runs.

- serial: what a user would write, a breadth-first loop of ``operation_ls`` calls,
  one at a time, pages followed;
- Xtract at Globus's documented rate (``globus_requests_per_second`` 20, the default):
  as fast as the limit allows, and never refused;
- Xtract with the limit raised (``--raised``, default 1000 requests/s), the emulator
  enforcing none: how far listings in flight on every worker go.

- Xtract listing next to the data (a Globus Compute endpoint, the Compute emulator
  holding each task ``--task-latency``, default 1 s): the walker lists many folders per
  task, and makes no Transfer call.

With ``--enforce`` the emulator also refuses (429) beyond 20 requests/s per token and
Xtract is set to ask for 40: the table then shows how many requests were refused and
that the crawl slowed down and lost nothing.

Run: ``python bench/bench_globus_crawl.py --dirs 300``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import globus_sdk
from common import alternate, report, save

from tests.emulators.compute import ComputeEmulator
from tests.emulators.transfer import TransferEmulator
from tests.support import Service, make_tree
from xtract_sdk import XtractEndpoint

TOKEN = "bench-transfer-token"


def serial(emu: TransferEmulator, endpoint: str, top: str) -> int:
    os.environ["GLOBUS_SDK_SERVICE_URL_TRANSFER"] = emu.url
    tc = globus_sdk.TransferClient(authorizer=globus_sdk.AccessTokenAuthorizer(TOKEN))
    frontier, files = [top], 0
    while frontier:
        nxt = []
        for d in frontier:
            offset = 0
            while True:
                page = tc.operation_ls(endpoint, path=d, limit=1000, offset=offset)
                for item in page["DATA"]:
                    if item["type"] == "dir":
                        nxt.append(f"{d.rstrip('/')}/{item['name']}")
                    elif item["type"] == "file":
                        files += 1
                offset += len(page["DATA"])
                if not page.get("has_next_page"):
                    break
        frontier = nxt
    return files


class XtractGlobus:
    def __init__(
        self,
        emu: TransferEmulator,
        home: Path,
        endpoint: str,
        rate: float,
        compute: ComputeEmulator | None = None,
    ) -> None:
        env = {
            "GLOBUS_SDK_SERVICE_URL_TRANSFER": emu.url,
            "XTRACT_GLOBUS_REQUESTS_PER_SECOND": str(rate),
            "XTRACT_ALLOWED_ROOTS": json.dumps([str(home)]),
        }
        if compute is not None:
            env["GLOBUS_SDK_SERVICE_URL_COMPUTE"] = compute.url
            env["XTRACT_COMPUTE_POLL_SECONDS"] = "0.1"
        self.svc = Service(home, env=env).start()
        self.client = self.svc.client(tokens={"Transfer": TOKEN, "Compute": TOKEN})
        self.endpoint = endpoint
        self.compute = compute
        self.root = emu.roots[endpoint]

    def __call__(self) -> int:
        xep = XtractEndpoint("globus", globus_ep_id=self.endpoint, dirs=["/tree"])
        if self.compute is not None:
            xep.funcx_ep_id = self.compute.endpoint_id
            xep.collection_root = str(self.root)
        ((_, status),) = self.client.crawl_and_wait(xep, progress=False).items()
        assert status["status"] == "complete", status
        return int(status["data"]["files_crawled"])

    def stop(self) -> None:
        self.svc.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dirs", type=int, default=300, help="about this many folders")
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--raised", type=float, default=1000.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--enforce", action="store_true")
    ap.add_argument("--task-latency", type=float, default=1.0, help="a Compute task's wait")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="xtract-bench-g-"))
    endpoint = str(uuid.uuid4())
    fanout = max(2, round((args.dirs) ** (1 / 3)))
    try:
        make_tree(work / "ep" / "tree", args.dirs * 10, fanout=fanout, depth=3)
        n_dirs = sum(1 for p in (work / "ep" / "tree").rglob("*") if p.is_dir()) + 1
        print(f"{n_dirs} folders, {args.dirs * 10:,} files, {args.latency * 1000:.0f} ms a listing")
        results: dict[str, Any] = {"dirs": n_dirs, "latency": args.latency}
        with (
            TransferEmulator(work / "ep", endpoint, TOKEN, latency=args.latency) as emu,
            ComputeEmulator(str(uuid.uuid4()), TOKEN) as compute,
        ):
            compute.latency = args.task_latency
            at_limit = XtractGlobus(emu, work / "home-20", endpoint, 20)
            raised = XtractGlobus(emu, work / "home-raised", endpoint, args.raised)
            nearby = XtractGlobus(emu, work / "home-compute", endpoint, 20, compute)
            try:
                before = emu.requests
                rows = alternate(
                    {
                        "serial operation_ls loop": lambda: serial(emu, endpoint, "/tree"),
                        "xtract, 20 requests/s (Globus's limit)": at_limit,
                        f"xtract, limit raised to {args.raised:.0f}/s": raised,
                        f"xtract on a Compute endpoint, {args.task_latency:g} s a task": nearby,
                    },
                    args.runs,
                )
                tasks = len(compute.submissions)
                print(
                    f"Compute tasks: {tasks / args.runs:.0f} a crawl; Transfer calls in all "
                    f"runs: {emu.requests - before}"
                )
                results["compute_tasks_per_crawl"] = tasks / args.runs
            finally:
                at_limit.stop()
                raised.stop()
                nearby.stop()
            results["table"] = report(
                "Globus crawl", list(rows.values()), "serial operation_ls loop"
            )
            if args.enforce:
                emu.rate_limit = 20
                eager = XtractGlobus(emu, work / "home-40", endpoint, 40)
                try:
                    before, asked = emu.rate_limited_sent, emu.requests
                    row = alternate({"xtract asking 40/s, Globus allowing 20/s": eager}, 1)
                    refused = emu.rate_limited_sent - before
                    total = emu.requests - asked
                finally:
                    eager.stop()
                report("with 429s", list(row.values()), next(iter(row)))
                print(f"refused (429): {refused} of {total} requests")
                results["enforced"] = {"refused": refused, "requests": total}
        print("saved", save("globus-crawl", results))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
