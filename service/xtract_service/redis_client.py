"""The process's connection to Redis, and typed readers of its replies.

Every client is made by :func:`connect` with ``decode_responses=True``: replies are
``str``. redis-py still types them as ``bytes | str | None``, so the readers below narrow
them once, here, instead of at every call site.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

POOL_SIZE = 64  # connections per process
POOL_WAIT = 30.0  # seconds a caller waits for a free connection
Fields = dict[str, str]
# what redis-py accepts as a hash mapping or stream fields (its key type is a union,
# and Mapping is invariant in its key, so a plain dict[str, str] does not fit)
Mapping = dict[Any, Any]


class Entry(NamedTuple):
    """One stream entry: the stream it came from, its id and its fields."""

    stream: str
    id: str
    fields: Fields


SENTINEL = "redis+sentinel://"
# how long a call goes on trying through a Sentinel failover (the old master gone, the
# Sentinels electing a replica): about 20 s, backing off up to a second a try
FAILOVER_RETRY = Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=40)
FAILOVER_ERRORS = [redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError]


CLUSTER = "redis+cluster://"


def _hosts(listed: str, default_port: int) -> list[tuple[str, int]]:
    found = []
    for h in listed.split(","):
        host, _, port = h.rpartition(":")
        found.append((host or "127.0.0.1", int(port or default_port)))
    return found


def sentinels_of(url: str) -> tuple[list[tuple[str, int]], str]:
    """``([(host, port), ...], master name)`` of a ``redis+sentinel://`` URL."""
    hosts, _, master = url[len(SENTINEL) :].partition("/")
    found = _hosts(hosts, 26379)
    if not found or not master:
        raise ValueError(f"{url!r}: say redis+sentinel://host:port,.../MASTER")
    return found, master


def cluster_nodes_of(url: str) -> list[tuple[str, int]]:
    """``[(host, port), ...]``, some nodes of a Redis Cluster, of a ``redis+cluster://``
    URL (the client learns the rest from them)."""
    hosts = url[len(CLUSTER) :].partition("/")[0]
    if not hosts:
        raise ValueError(f"{url!r}: say redis+cluster://host:port,host:port,...")
    return _hosts(hosts, 6379)


def is_cluster(r: Any) -> bool:
    """Whether ``r`` is a Redis Cluster client (sync or asyncio)."""
    from redis.asyncio.cluster import RedisCluster as AsyncCluster
    from redis.cluster import RedisCluster

    return isinstance(r, RedisCluster | AsyncCluster)


def by_slot(names: Iterable[str]) -> list[list[str]]:
    """``names`` grouped by hash slot, in the order each slot first appears: a command
    over several keys goes once per group on a Redis Cluster."""
    from redis.crc import key_slot

    groups: dict[int, list[str]] = {}
    for name in names:
        groups.setdefault(key_slot(name.encode()), []).append(name)
    return list(groups.values())


def node_client(r: Any, key: str) -> redis.Redis:
    """A plain client of the node holding ``key`` (``r`` itself off a cluster): for
    what must run on one connection of that node (``WAIT`` after a write)."""
    if not is_cluster(r):
        return r  # type: ignore[no-any-return]
    node = r.get_node_from_key(key)
    return r.get_redis_connection(node)  # type: ignore[no-any-return]


def connect(url: str, name: str | None = None) -> redis.Redis:
    """A client for ``url`` (``redis://``, ``rediss://``, ``unix://``,
    ``redis+sentinel://`` for the master Sentinels name, followed through a failover, or
    ``redis+cluster://`` for a Redis Cluster, followed through a primary's failover)
    that decodes replies to ``str`` and retries briefly across a Redis restart. ``name``
    shows in ``CLIENT LIST`` (workers name themselves ``xtract-<role>-<pid>``)."""
    options: dict[str, Any] = {
        "health_check_interval": 30,
        "retry_on_timeout": True,
        "decode_responses": True,
    }
    if name:
        options["client_name"] = name
    if url.startswith(CLUSTER):
        from redis.cluster import ClusterNode, RedisCluster

        cluster: Any = RedisCluster(
            startup_nodes=[ClusterNode(h, p) for h, p in cluster_nodes_of(url)],  # type: ignore[no-untyped-call]
            socket_timeout=30.0,
            socket_keepalive=True,
            retry=FAILOVER_RETRY,
            max_connections=POOL_SIZE,
            **options,
        )
        return cluster  # type: ignore[no-any-return]
    if url.startswith(SENTINEL):
        from redis.sentinel import Sentinel

        hosts, master = sentinels_of(url)
        sentinel = Sentinel(hosts, socket_timeout=2.0, decode_responses=True)
        client: redis.Redis = sentinel.master_for(
            master,
            socket_timeout=30.0,
            socket_keepalive=True,
            retry=FAILOVER_RETRY,
            retry_on_error=FAILOVER_ERRORS,
            **options,
        )
        return client
    if not url.startswith("unix://"):
        options["socket_keepalive"] = True
    # a burst of requests waits for a free connection instead of failing
    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=POOL_SIZE, timeout=POOL_WAIT, **options
    )
    return redis.Redis(connection_pool=pool)


def connect_async(url: str) -> Any:
    """An asyncio client for ``url`` (for serving events on the event loop), decoding
    replies like :func:`connect`."""
    import redis.asyncio

    if url.startswith(CLUSTER):
        from redis.asyncio.cluster import ClusterNode as AsyncNode
        from redis.asyncio.cluster import RedisCluster as AsyncCluster

        return AsyncCluster(
            startup_nodes=[AsyncNode(h, p) for h, p in cluster_nodes_of(url)],
            decode_responses=True,
            health_check_interval=30,
            max_connections=POOL_SIZE,
        )
    if url.startswith(SENTINEL):
        from redis.asyncio.retry import Retry as AsyncRetry
        from redis.asyncio.sentinel import Sentinel

        hosts, master = sentinels_of(url)
        sentinel = Sentinel(hosts, socket_timeout=2.0, decode_responses=True)
        return sentinel.master_for(
            master,
            decode_responses=True,
            health_check_interval=30,
            retry=AsyncRetry(ExponentialBackoff(cap=1.0, base=0.05), retries=40),
            retry_on_error=FAILOVER_ERRORS,
        )
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url,
        max_connections=POOL_SIZE,
        timeout=POOL_WAIT,
        decode_responses=True,
        health_check_interval=30,
    )
    # from_pool: the client owns the pool, so aclose() closes its connections too
    # (given as connection_pool=, they stayed open and warned when collected)
    return redis.asyncio.Redis.from_pool(pool)


class NotReplicated(redis.ConnectionError):
    """Writes could not be confirmed on a replica in time: what depends on them outside
    Redis waits (the work is taken up again, as after a lost connection)."""


def replicated(r: redis.Redis, fence: str, timeout_ms: int = 5000) -> None:
    """Return once every write made so far has reached a replica, where the master has
    any (with none, as the embedded default, at once); NotReplicated if none confirms
    within ``timeout_ms``. Replication is asynchronous: a side effect outside Redis (a
    webhook, a Search ingest, a transfer) made on a write a failover then loses would
    report what never happened. The fence is a write of this connection after all of
    them, and ``WAIT`` counts the replicas that have it, so it covers writes any
    connection made before to the fence's node: on a Redis Cluster, put the fence in
    the slot of the writes it covers (:func:`keys.crawl_fence`)."""
    node = node_client(r, fence)  # on a cluster: the primary whose slot the fence is in
    info = node.info("replication")
    if info.get("role") != "master" or not int(info.get("connected_slaves") or 0):
        return
    pipe = node.pipeline(transaction=False)  # one connection: the fence, then WAIT for it
    pipe.incr(fence)
    pipe.wait(1, timeout_ms)
    _, acked = pipe.execute()
    if int(acked) < 1:
        raise NotReplicated(f"no replica confirmed the writes within {timeout_ms} ms")


def text(value: Any) -> str:
    """A reply as ``str`` (``""`` for a missing value)."""
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


def maybe_text(value: Any) -> str | None:
    """A reply as ``str``, keeping ``None`` for a missing value."""
    return None if value is None else text(value)


def number(value: Any, default: int = 0) -> int:
    """A counter's reply as ``int`` (``default`` when it is missing)."""
    return default if value is None or value == "" else int(value)


def hash_of(r: Any, key: str) -> Fields:
    """``HGETALL`` as a ``dict[str, str]`` (empty when the key does not exist)."""
    raw: dict[Any, Any] = r.hgetall(key)
    return {text(k): text(v) for k, v in raw.items()}


def members(r: Any, key: str) -> set[str]:
    """``SMEMBERS`` as a set of ``str``."""
    raw: Iterable[Any] = r.smembers(key)
    return {text(m) for m in raw}


def entries_of(reply: Any) -> list[Entry]:
    """The entries of an ``XREAD``/``XREADGROUP`` reply, in order."""
    out: list[Entry] = []
    for stream, items in reply or []:
        out += [Entry(text(stream), text(eid), _fields(f)) for eid, f in items]
    return out


def claimed(stream: str, reply: Any) -> list[Entry]:
    """The live entries of an ``XAUTOCLAIM`` reply (deleted ones come back empty)."""
    return [e for e in ranged(stream, reply[1]) if e.fields]


def ranged(stream: str, raw: Any) -> list[Entry]:
    """An ``XRANGE`` reply (from a client of either kind) as entries."""
    return [Entry(stream, text(eid), _fields(f)) for eid, f in raw or []]


def xrange(r: Any, stream: str, low: str, high: str = "+", count: int | None = None) -> list[Entry]:
    """``XRANGE`` as entries."""
    return ranged(stream, r.xrange(stream, min=low, max=high, count=count))


def _fields(raw: Any) -> Fields:
    return {text(k): text(v) for k, v in (raw or {}).items()}
