"""The words Xtract uses for where things stand, shared by the SDK, the service and the
service's Lua scripts (which receive them as arguments, never as literals).

Each enum is a ``str``: ``CrawlStatus.COMPLETE == "complete"``, so statuses read from
JSON compare equal to these members and print as the published words.

>>> CrawlStatus("complete") in CrawlStatus.terminal()
True
>>> str(XtractStatus.COMPLETED)
'COMPLETED'
"""

from __future__ import annotations

import enum


class CrawlStatus(enum.StrEnum):
    """A crawl: ``initializing`` -> ``crawling`` -> ``complete`` | ``failed`` |
    ``cancelled`` (the published Xtract service's words)."""

    INITIALIZING = "initializing"
    CRAWLING = "crawling"
    COMPLETE = "complete"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @classmethod
    def terminal(cls) -> frozenset[CrawlStatus]:
        """The words a crawl ends with."""
        return frozenset({cls.COMPLETE, cls.FAILED, cls.CANCELLED})


class XtractStatus(enum.StrEnum):
    """An extraction, in the order it advances (a status never moves back)."""

    INIT = "INIT"
    QUEUED = "QUEUED"  # said, never stored: INIT behind the owner's earlier runs
    IN_SCHEDULING = "IN_SCHEDULING"
    SCHEDULED = "SCHEDULED"
    EXTRACTING = "EXTRACTING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

    @classmethod
    def terminal(cls) -> frozenset[XtractStatus]:
        return frozenset({cls.COMPLETED, cls.FAILED})


class OffloadStatus(enum.StrEnum):
    """An offload job: ``QUEUED`` -> ``WRITING`` -> ``MOVING`` -> ``COMPLETED`` |
    ``FAILED``."""

    QUEUED = "QUEUED"
    WRITING = "WRITING"
    MOVING = "MOVING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

    @classmethod
    def terminal(cls) -> frozenset[OffloadStatus]:
        return frozenset({cls.COMPLETED, cls.FAILED})


class FamilyState(enum.StrEnum):
    """How one family's extraction ended."""

    SUCCESS = "success"
    FAILED = "failed"


class EventType(enum.StrEnum):
    """The events a crawl emits (``ANY`` matches all)."""

    ANY = "*"
    CRAWL_STARTED = "crawl.started"
    CRAWL_PROGRESS = "crawl.progress"
    FAMILY_FOUND = "family.found"
    CRAWL_COMPLETED = "crawl.completed"
    CRAWL_FAILED = "crawl.failed"
    CRAWL_CANCELLED = "crawl.cancelled"
    CRAWL_FALLBACK = "crawl.fallback"  # a Compute-listed crawl went on with Transfer
    XTRACT_STARTED = "xtract.started"
    XTRACT_PROGRESS = "xtract.progress"  # counters and forecast, at most once a second
    FAMILY_EXTRACTED = "family.extracted"
    FAMILY_FAILED = "family.failed"
    XTRACT_COMPLETED = "xtract.completed"
    XTRACT_FAILED = "xtract.failed"
    OFFLOAD_STARTED = "offload.started"
    OFFLOAD_COMPLETED = "offload.completed"
    OFFLOAD_FAILED = "offload.failed"

    @classmethod
    def final(cls) -> frozenset[EventType]:
        """Events after which a crawl's or an extraction's status is worth fetching."""
        return frozenset(
            {
                cls.CRAWL_COMPLETED,
                cls.CRAWL_FAILED,
                cls.CRAWL_CANCELLED,
                cls.XTRACT_COMPLETED,
                cls.XTRACT_FAILED,
            }
        )

    @property
    def lifecycle(self) -> bool:
        """Whether this is a STARTED/COMPLETED/FAILED event (the ones webhooks get)."""
        return self.value.rsplit(".", 1)[-1] in ("started", "completed", "failed")
