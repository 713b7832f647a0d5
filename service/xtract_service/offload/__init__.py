"""Offload: extracted metadata delivered where people search and analyse it.

A pipeline of swappable stages: read (the results stream, from a committed position)
-> filter -> transform -> format (a writer) -> write (parts, fsynced, with a checksum
manifest) -> move (a local copy, a Globus transfer, or a Globus Search ingest)."""


class OffloadFailed(RuntimeError):
    """An offload cannot finish; the message says why. The source is kept."""
