"""Every Redis key and consumer group the service uses, owned and documented here.

No other module spells a key: they call these functions. :data:`TABLE` lists each key
with its type and what it holds; ``docs/design.md`` shows the same table, and
``tests/fast/test_keys.py`` keeps the two (and the Lua scripts' headers) in step.

The braces are Redis Cluster hash tags, not placeholders: every key of a crawl carries
``{<crawl id>}``, of an offload ``{<offload id>}``, of an owner ``{<owner>}``, so each
one's keys share a hash slot and its scripts and transactions stay on one node; the
service-wide sets and streams each sit in a slot of their own (``{auth}`` keeps the two
token hashes together) and are never written by a per-crawl script (see
:mod:`xtract_service.cluster`).

>>> crawl("0c6a...")
'xtract:crawl:{0c6a...}'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

PREFIX = "xtract"


@dataclass(frozen=True)
class KeyDoc:
    """One row of the key table: the key's pattern, its Redis type, what it holds."""

    pattern: str
    type: str
    holds: str


TABLE: list[KeyDoc] = []
F = TypeVar("F", bound=Callable[..., str])


def _doc(pattern: str, kind: str, holds: str) -> None:
    TABLE.append(KeyDoc(f"{PREFIX}:{pattern}", kind, holds))


def _key(pattern: str, kind: str) -> Callable[[F], F]:
    """Record a key function in :data:`TABLE` (its docstring is the "holds" column)."""

    def register(fn: F) -> F:
        _doc(pattern, kind, " ".join((fn.__doc__ or "").split()))
        return fn

    return register


# -- consumer groups ------------------------------------------------------------------
DIR_GROUP = "crawlers"  # crawl workers, on each crawl's frontier
XTRACT_GROUP = "xtract"  # orchestrators, on each crawl's families stream
OFFLOAD_GROUP = "offloaders"  # offload workers, on the offload jobs stream
WEBHOOK_GROUP = "notifiers"  # webhook notifiers, on the outbox


# -- service-wide -----------------------------------------------------------------------
ACTIVE = f"{PREFIX}:crawls:active"
_doc(
    "crawls:wake",
    "stream",
    "one entry per crawl created (the last 100 kept): idle crawl workers block on it",
)
CRAWL_WAKE = f"{PREFIX}:crawls:wake"
_doc("crawls:active", "set", "crawls with directories still to list")
XTRACT_ACTIVE = f"{PREFIX}:xtracts:active"
_doc("xtracts:active", "set", "crawls with an extraction running")
INDEX_PENDING = f"{PREFIX}:index:pending"
_doc("index:pending", "set", "crawls with documents the metadata index has not taken yet")
OFFLOAD_JOBS = f"{PREFIX}:offloads:jobs"
_doc("offloads:jobs", "stream, group `offloaders`", "offload ids to run, one entry per partition")
WEBHOOK_OUTBOX = f"{PREFIX}:webhooks:outbox"
_doc("webhooks:outbox", "stream, group `notifiers`", "lifecycle events to POST to webhooks")
SCHEMA = f"{PREFIX}:schema"
_doc("schema", "string", "the key layout's version (2: hash tags); see `upgrade.py`")
ISSUED_TOKENS = f"{PREFIX}:{{auth}}:tokens"
_doc("{auth}:tokens", "hash", "sha256 of an issued token -> its owner")
OWNER_ROOTS = f"{PREFIX}:{{auth}}:roots"
_doc("{auth}:roots", "hash", "owner -> the folders their token was issued to reach (JSON)")


# -- a crawl ----------------------------------------------------------------------------
@_key("crawl:{id}", "hash")
def crawl(crawl_id: str) -> str:
    """spec, owner, status, counters, timestamps"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}"


@_key("crawl:{id}:dirs", "stream, group `crawlers`")
def dirs(crawl_id: str) -> str:
    """the frontier: batches of directories still to list (FIFO, so breadth-first)"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:dirs"


@_key("crawl:{id}:seen", "set")
def seen(crawl_id: str) -> str:
    """directories ever put on the frontier (loops, redelivery)"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:seen"


@_key("crawl:{id}:index", "hash")
def index(crawl_id: str) -> str:
    """listed folder -> its files (name, size, mtime, inode, family id) and sub-folders
    (JSON, zlib, base64), what a later crawl with `since=` compares with"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:index"


@_key("crawl:{id}:levels", "hash")
def levels(crawl_id: str) -> str:
    """per depth below the roots, `<depth>:listed`, `:subdirs`, `:files`, `:bytes` and
    `:squares` (files per folder, squared): the frontier's shape, for the forecast"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:levels"


@_key("crawl:{id}:changes", "stream")
def changes(crawl_id: str) -> str:
    """a `since=` crawl's added, changed and removed paths, one entry per listing"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:changes"


@_key("crawl:{id}:families", "stream, group `xtract`")
def families(crawl_id: str) -> str:
    """blocks of families, ~1000 files per entry; `retry` entries re-send failed ones"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:families"


@_key("crawl:{id}:errors", "list")
def errors(crawl_id: str) -> str:
    """the newest listing errors `{path, error}`, capped"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:errors"


@_key("crawl:{id}:flush", "string")
def flush_cursor(crawl_id: str) -> str:
    """the flush cursor over the families stream"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:flush"


@_key("crawl:{id}:flush:capability", "string")
def capability_flush_cursor(crawl_id: str) -> str:
    """the flush cursor of calls that hold only the crawl id (published clients)"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:flush:capability"


@_key("crawl:{id}:flush:leases", "hash")
def flush_leases(crawl_id: str) -> str:
    """the owner's flush leases: consumer:NAME -> its lease (id, ranges, until), returned:ID
    -> ranges to hand out again"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:flush:leases"


@_key("crawl:{id}:flush:acked", "hash")
def flush_acked(crawl_id: str) -> str:
    """the owner's acknowledged leases, kept until their time is up for a late release:
    lease id -> the lease (id, ranges, until)"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:flush:acked"


@_key("crawl:{id}:flush:acked:until", "zset")
def flush_acked_until(crawl_id: str) -> str:
    """the same leases' ids, scored by when their time is up (lapsed ones found without
    reading the rest)"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:flush:acked:until"


@_key("crawl:{id}:flush:capability:leases", "hash")
def capability_flush_leases(crawl_id: str) -> str:
    """the same, for calls that hold only the crawl id"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:flush:capability:leases"


@_key("crawl:{id}:flush:capability:acked", "hash")
def capability_flush_acked(crawl_id: str) -> str:
    """the acknowledged leases of calls that hold only the crawl id"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:flush:capability:acked"


@_key("crawl:{id}:flush:capability:acked:until", "zset")
def capability_flush_acked_until(crawl_id: str) -> str:
    """their ids, scored by when their time is up"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:flush:capability:acked:until"


@_key("crawl:{id}:workers", "hash")
def workers(crawl_id: str) -> str:
    """directories listed per worker"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:workers"


@_key("crawl:{id}:secrets", "hash")
def secrets(crawl_id: str) -> str:
    """the Transfer token of a Globus crawl; never returned by the API"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:secrets"


@_key("crawl:{id}:handover", "hash with a TTL")
def handover(crawl_id: str) -> str:
    """a published client's Transfer token, sealed, kept for the crawl's staged extraction"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:handover"


@_key("crawl:{id}:shares", "set")
def shares(crawl_id: str) -> str:
    """who may read the crawl besides its owner: `identity:<id>`, `group:<id>`"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:shares"


@_key("crawl:{id}:events", "stream (capped)")
def events(crawl_id: str) -> str:
    """the crawl's typed events, for SSE and SDK monitors"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:events"


@_key("crawl:{id}:progress-gate", "string with a TTL")
def progress_gate(crawl_id: str) -> str:
    """rate-limits `crawl.progress` events to one a second"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:progress-gate"


@_key("crawl:{id}:xtract:progress-gate", "string with a TTL")
def xtract_progress_gate(crawl_id: str) -> str:
    """rate-limits `xtract.progress` events to one a second"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:xtract:progress-gate"


@_key("owner:{owner}:globus_rate", "hash")
def globus_rate(owner: str) -> str:
    """an owner's shared token bucket for Globus requests: `tokens`, `at`, `rate`,
    `paused_until`, `ceiling` (every crawl worker takes from it; a 429 pauses them all)"""
    return f"{PREFIX}:owner:{{{owner}}}:globus_rate"


@_key("owner:{owner}:crawls", "sorted set")
def owner_crawls(owner: str) -> str:
    """an owner's crawls by creation time"""
    return f"{PREFIX}:owner:{{{owner}}}:crawls"


# -- an extraction ----------------------------------------------------------------------
@_key("crawl:{id}:xtract", "hash")
def xtract(crawl_id: str) -> str:
    """the extraction's status word, options, owner and counters"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:xtract"


@_key("crawl:{id}:xtract:secrets", "hash")
def xtract_secrets(crawl_id: str) -> str:
    """tokens an extraction needs (Globus Compute); never returned by the API"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:xtract:secrets"


@_key("crawl:{id}:xtract:rates", "hash")
def xtract_rates(crawl_id: str) -> str:
    """per extractor, `<name>:files` and `<name>:seconds` recorded: measured rates, for
    the extraction's forecast"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:xtract:rates"


@_key("crawl:{id}:xtract:errors", "hash")
def xtract_error_kinds(crawl_id: str) -> str:
    """error kind (`timeout`, `TypeError`, `staging`, ...) -> files with such an error
    record in the current documents"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:xtract:errors"


@_key("crawl:{id}:xtract:taken", "set")
def xtract_taken(crawl_id: str) -> str:
    """families stream entries already counted, so a redelivered entry counts once"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:xtract:taken"


@_key("crawl:{id}:fstate", "hash")
def family_state(crawl_id: str) -> str:
    """family id -> JSON state (success or failed, tries, seconds, extractors, version)"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:fstate"


@_key("crawl:{id}:results", "stream")
def results(crawl_id: str) -> str:
    """metadata documents, one entry per recorded batch of families"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:results"


@_key("crawl:{id}:docat", "hash")
def document_at(crawl_id: str) -> str:
    """family id -> the results entry holding its current document (carrying forward)"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:docat"


@_key("crawl:{id}:mdindex:lock", "string with a TTL")
def metadata_index_lock(crawl_id: str) -> str:
    """the metadata indexer that appends to the crawl's index now (its name)"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:mdindex:lock"


@_key("owner:{owner}:content", "hash")
def content(owner: str) -> str:
    """`<content id> <extractor>@<version>` -> `{path, result}`: an extractor's answer for
    that content and the path it read it as (JSON),
    so identical content is read once per owner, across crawls and endpoints"""
    return f"{PREFIX}:owner:{{{owner}}}:content"


@_key("owner:{owner}:usage", "hash")
def owner_usage(owner: str) -> str:
    """what an owner keeps: `metadata_bytes` of recorded documents"""
    return f"{PREFIX}:owner:{{{owner}}}:usage"


@_key("owner:{owner}:searches", "string")
def owner_searches(owner: str) -> str:
    """metadata searches the owner has running (expires: a dead API gives them back)"""
    return f"{PREFIX}:owner:{{{owner}}}:searches"


@_key("owner:{owner}:flushes", "string")
def owner_flushes(owner: str) -> str:
    """flushes the owner has running on their crawls"""
    return f"{PREFIX}:owner:{{{owner}}}:flushes"


@_key("owner:{owner}:flushes:capability", "string")
def owner_capability_flushes(owner: str) -> str:
    """flushes of the owner's crawls by calls that hold only a crawl id (counted apart,
    so those cannot hold up the owner's own)"""
    return f"{PREFIX}:owner:{{{owner}}}:flushes:capability"


OWNER_CRAWLS_PATTERN = f"{PREFIX}:owner:*:crawls"  # SCAN pattern over owner_crawls


@_key("owner:{owner}:endpoint:<endpoint>:containers", "hash")
def containers(owner: str, endpoint_id: str) -> str:
    """container family -> image, registered by an owner for a Compute endpoint"""
    return f"{PREFIX}:owner:{{{owner}}}:endpoint:{endpoint_id}:containers"


# -- offload and webhooks ---------------------------------------------------------------
@_key("offload:{oid}", "hash")
def offload(offload_id: str) -> str:
    """an offload's spec, status, committed position and results"""
    return f"{PREFIX}:offload:{{{offload_id}}}"


@_key("offload:{oid}:parts", "list")
def offload_parts(offload_id: str) -> str:
    """the parts an offload has durably written, in order"""
    return f"{PREFIX}:offload:{{{offload_id}}}:parts"


@_key("offload:{oid}:done", "set")
def offload_done(offload_id: str) -> str:
    """the partitions of an offload that have written all their parts"""
    return f"{PREFIX}:offload:{{{offload_id}}}:done"


@_key("offload:{oid}:secrets", "hash")
def offload_secrets(offload_id: str) -> str:
    """the Transfer or Search token an offload moves with; never returned by the API"""
    return f"{PREFIX}:offload:{{{offload_id}}}:secrets"


@_key("crawl:{id}:offloads", "sorted set")
def crawl_offloads(crawl_id: str) -> str:
    """a crawl's offloads by creation time"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:offloads"


@_key("crawl:{id}:fence", "string")
def crawl_fence(crawl_id: str) -> str:
    """written before WAIT, in the crawl's slot: side effects follow replicated writes"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:fence"


@_key("offload:{oid}:fence", "string")
def offload_fence(offload_id: str) -> str:
    """the same, in the offload's slot"""
    return f"{PREFIX}:offload:{{{offload_id}}}:fence"


@_key("crawl:{id}:webhooks", "set")
def webhooks(crawl_id: str) -> str:
    """URLs told about the crawl's STARTED, COMPLETED and FAILED events"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:webhooks"


@_key("crawl:{id}:webhook_secrets", "hash")
def webhook_secrets(crawl_id: str) -> str:
    """URL -> its signing secret, sealed"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:webhook_secrets"


@_key("crawl:{id}:webhook_failures", "list")
def webhook_failures(crawl_id: str) -> str:
    """deliveries that failed after every retry (newest first, capped)"""
    return f"{PREFIX}:crawl:{{{crawl_id}}}:webhook_failures"


def of_crawl(crawl_id: str) -> list[str]:
    """Every key that belongs to one crawl (its offloads' keys aside: see
    :func:`of_offload`), so a crawl can be forgotten whole."""
    return [
        fn(crawl_id)
        for fn in (
            crawl,
            handover,
            shares,
            dirs,
            seen,
            index,
            levels,
            changes,
            families,
            errors,
            flush_cursor,
            capability_flush_cursor,
            flush_leases,
            flush_acked,
            flush_acked_until,
            capability_flush_leases,
            capability_flush_acked,
            capability_flush_acked_until,
            workers,
            secrets,
            events,
            progress_gate,
            xtract_progress_gate,
            xtract,
            xtract_secrets,
            xtract_rates,
            xtract_error_kinds,
            xtract_taken,
            family_state,
            results,
            document_at,
            metadata_index_lock,
            crawl_offloads,
            webhooks,
            webhook_secrets,
            webhook_failures,
            crawl_fence,
        )
    ]


def of_offload(offload_id: str) -> list[str]:
    """Every key that belongs to one offload."""
    return [
        offload(offload_id),
        offload_parts(offload_id),
        offload_done(offload_id),
        offload_secrets(offload_id),
        offload_fence(offload_id),
    ]


# the first layout's keys that have another name now (``upgrade.py``), and its fence
UNTAGGED_PATTERNS = tuple(f"{PREFIX}:{kind}:*" for kind in ("crawl", "owner", "offload", "auth"))
UNTAGGED_FENCE = f"{PREFIX}:replication:fence"


def tagged(name: str) -> str | None:
    """The name a key of the first layout (no hash tags) has now, or None for a key
    that is not of that layout."""
    parts = name.split(":", 3)
    kinds = ("crawl", "owner", "offload")
    if len(parts) >= 3 and parts[0] == PREFIX and parts[1] in kinds and parts[2][:1] != "{":
        return ":".join([*parts[:2], "{" + parts[2] + "}", *parts[3:]])
    if name in (f"{PREFIX}:auth:tokens", f"{PREFIX}:auth:roots"):
        return f"{PREFIX}:{{auth}}:{name.rsplit(':', 1)[1]}"
    return None


def crawl_id_of(stream: str) -> str:
    """The crawl id inside a per-crawl key (``xtract:crawl:{id}:...``)."""
    return stream.split(":")[2].strip("{}")
