"""Names of every Redis key a crawl uses, in one place."""

from __future__ import annotations

PREFIX = "xtract"
ACTIVE = f"{PREFIX}:crawls:active"  # set of crawl ids with directories still to list
DIR_GROUP = "crawlers"  # consumer group on the frontier stream


def crawl(crawl_id: str) -> str:
    """Hash: spec, owner, status, counters, timestamps."""
    return f"{PREFIX}:crawl:{crawl_id}"


def dirs(crawl_id: str) -> str:
    """Stream: the frontier, batches of directories still to list (FIFO: breadth-first)."""
    return f"{PREFIX}:crawl:{crawl_id}:dirs"


def families(crawl_id: str) -> str:
    """Stream: batches of families found, read by flush and by extraction."""
    return f"{PREFIX}:crawl:{crawl_id}:families"


def errors(crawl_id: str) -> str:
    """List: the most recent listing errors, newest first, capped."""
    return f"{PREFIX}:crawl:{crawl_id}:errors"


def seen(crawl_id: str) -> str:
    """Set: directories already put on the frontier, so none is listed twice."""
    return f"{PREFIX}:crawl:{crawl_id}:seen"


def secrets(crawl_id: str) -> str:
    """Hash: credentials a crawl needs (a Transfer token); never returned by the API."""
    return f"{PREFIX}:crawl:{crawl_id}:secrets"


def flush_cursor(crawl_id: str) -> str:
    """String: how far flushing has read the families stream (``entry_id taken``)."""
    return f"{PREFIX}:crawl:{crawl_id}:flush"


def workers(crawl_id: str) -> str:
    """Hash: directories listed per worker, to see who served a crawl."""
    return f"{PREFIX}:crawl:{crawl_id}:workers"


def owner_crawls(owner: str) -> str:
    """Sorted set: an owner's crawl ids, scored by creation time."""
    return f"{PREFIX}:owner:{owner}:crawls"


# -- extraction ---------------------------------------------------------------------
XTRACT_ACTIVE = f"{PREFIX}:xtracts:active"  # set of crawl ids with an extraction running
XTRACT_GROUP = "xtract"  # consumer group on the families stream


def xtract(crawl_id: str) -> str:
    """Hash: an extraction's status word, options and counters."""
    return f"{PREFIX}:crawl:{crawl_id}:xtract"


def family_state(crawl_id: str) -> str:
    """Hash: family id -> JSON state (success or failed, tries, seconds, extractors)."""
    return f"{PREFIX}:crawl:{crawl_id}:fstate"


def results(crawl_id: str) -> str:
    """Stream: metadata documents, one entry per batch of families."""
    return f"{PREFIX}:crawl:{crawl_id}:results"


def xtract_secrets(crawl_id: str) -> str:
    """Hash: tokens an extraction needs (Globus Compute); never returned by the API."""
    return f"{PREFIX}:crawl:{crawl_id}:xtract:secrets"


def containers(owner: str, endpoint_id: str) -> str:
    """Hash: container family -> image, registered by an owner for a Compute endpoint."""
    return f"{PREFIX}:owner:{owner}:endpoint:{endpoint_id}:containers"


# -- offload --------------------------------------------------------------------------
OFFLOAD_JOBS = f"{PREFIX}:offloads:jobs"  # stream of offload ids to run
OFFLOAD_GROUP = "offloaders"
WEBHOOK_OUTBOX = f"{PREFIX}:webhooks:outbox"  # stream of events to deliver
WEBHOOK_GROUP = "notifiers"


def offload(offload_id: str) -> str:
    """Hash: an offload's spec, status, committed position and results."""
    return f"{PREFIX}:offload:{offload_id}"


def offload_parts(offload_id: str) -> str:
    """List: the parts an offload has durably written, in order."""
    return f"{PREFIX}:offload:{offload_id}:parts"


def offload_secrets(offload_id: str) -> str:
    return f"{PREFIX}:offload:{offload_id}:secrets"


def crawl_offloads(crawl_id: str) -> str:
    """Sorted set: a crawl's offloads by creation time."""
    return f"{PREFIX}:crawl:{crawl_id}:offloads"


def webhooks(crawl_id: str) -> str:
    """Set: URLs told about a crawl's STARTED, COMPLETED and FAILED events."""
    return f"{PREFIX}:crawl:{crawl_id}:webhooks"


def webhook_failures(crawl_id: str) -> str:
    """List: deliveries that failed after every retry (newest first, capped)."""
    return f"{PREFIX}:crawl:{crawl_id}:webhook_failures"


def events(crawl_id: str) -> str:
    """Stream (capped): the crawl's typed events, for SSE and SDK monitors."""
    return f"{PREFIX}:crawl:{crawl_id}:events"


def progress_gate(crawl_id: str) -> str:
    """String with a TTL: rate-limits crawl.progress events."""
    return f"{PREFIX}:crawl:{crawl_id}:progress-gate"
