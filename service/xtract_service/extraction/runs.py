"""Extraction runs in Redis: starting one, its status word and counters, when it is
finished, and steering it afterwards (retry what failed, clear results)."""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from xtract_sdk.status import CrawlStatus, EventType, FamilyState, XtractStatus
from xtract_service import crawl_record, keys, scripts
from xtract_service.crawl.store import CrawlNotFound, CrawlStore
from xtract_service.errors import Conflict
from xtract_service.events import publish
from xtract_service.extraction.results import (
    ExtractionResults,
    error_kinds,
    has_errors,
    kinds_of,
    rates_of,
    timings,
)
from xtract_service.forecast import extraction_forecast
from xtract_service.redis_client import Mapping, hash_of, number, text
from xtract_service.streams import create_group
from xtract_service.vault import Vault, opened_secrets, sealed

_COUNTERS = (
    "orch_enter",
    "pulled",
    "scheduled",
    "success",
    "failed",
    "errors",
    "unknown",
    "files",
    "carried",
)
_ORDER = [s.value for s in XtractStatus]


def _reopen(pipe: Any, crawl_id: str) -> None:
    """Queue on ``pipe`` what makes a finished run go again: IN_SCHEDULING, no finish
    time. The caller then puts it on the orchestrators' active set (service-wide: not
    in a transaction of the crawl's slot; :mod:`xtract_service.actives` repairs a crash
    between the two)."""
    pipe.hset(
        keys.xtract(crawl_id),
        mapping={"status": XtractStatus.IN_SCHEDULING.value, "message": "OK"},
    )
    pipe.hdel(keys.xtract(crawl_id), "finished_at")


class ExtractionExists(Conflict):
    """The crawl already has an extraction (or it is still running)."""

    code = "already_extracting"


class ExtractionRuns:
    def __init__(self, r: redis.Redis, vault: Vault | None = None) -> None:
        self.r = r
        self.vault = vault
        self.crawls = CrawlStore(r, vault=vault)
        self.results = ExtractionResults(r)
        self._advance = scripts.load(r, "xtract_advance")

    # -- starting -------------------------------------------------------------------------
    def start(
        self, crawl_id: str, owner: str, options: dict[str, Any], secrets: dict[str, str]
    ) -> dict[str, Any]:
        """Begin extracting a crawl's families (those found so far and those to come)."""
        self.crawls.get(crawl_id, owner)
        if not self.r.hsetnx(keys.xtract(crawl_id), "status", XtractStatus.INIT.value):
            state = text(self.r.hget(keys.xtract(crawl_id), "status"))
            raise ExtractionExists(
                f"crawl {crawl_id} already has an extraction ({state}); "
                "`xtract retry` re-runs the families that failed"
            )
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(
            keys.xtract(crawl_id),
            mapping={
                "options": json.dumps(options),
                "owner": owner,
                "started_at": time.time(),
                "message": "OK",
                **dict.fromkeys(_COUNTERS, 0),
            },
        )
        if secrets:
            sealed_secrets = sealed(self.vault, secrets)
            pipe.hset(keys.xtract_secrets(crawl_id), mapping=Mapping(sealed_secrets))
        pipe.execute()
        create_group(self.r, keys.families(crawl_id), keys.XTRACT_GROUP)
        self.r.sadd(keys.XTRACT_ACTIVE, crawl_id)
        publish(self.r, crawl_id, EventType.XTRACT_STARTED, executor=options.get("executor"))
        return self.status(crawl_id, owner)

    def options(self, crawl_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        """A run's options and secrets (for the orchestrator)."""
        raw = self.r.hget(keys.xtract(crawl_id), "options")
        if raw is None:
            raise CrawlNotFound(crawl_id)
        stored = hash_of(self.r, keys.xtract_secrets(crawl_id))
        return json.loads(raw), opened_secrets(self.vault, stored)

    def containers(self, crawl_id: str, endpoint_id: str | None) -> dict[str, str]:
        """The images the run's owner registered for ``endpoint_id`` (none: ``{}``)."""
        if not endpoint_id:
            return {}
        owner = text(self.r.hget(keys.xtract(crawl_id), "owner"))
        return hash_of(self.r, keys.containers(owner, endpoint_id))

    def active(self) -> list[str]:
        """The runs the orchestrators serve, first started first: an owner's runs are
        taken first-come-first-served (``fair_order`` shares the room between owners)."""
        return [cid for cid, _, _ in self._active_runs()]

    def _active_runs(self) -> list[tuple[str, str, float]]:
        """``(crawl id, owner, started_at)`` of each active run, first started first."""
        ids = sorted(text(m) for m in self.r.smembers(keys.XTRACT_ACTIVE))
        pipe = self.r.pipeline(transaction=False)
        for cid in ids:
            pipe.hmget(keys.xtract(cid), ["owner", "started_at"])
        found = [
            (cid, text(owner), float(started or 0))
            for cid, (owner, started) in zip(ids, pipe.execute(), strict=True)
        ]
        return sorted(found, key=lambda run: (run[2], run[0]))

    def queue(self, crawl_id: str, owner: str, word: str) -> dict[str, Any] | None:
        """Where a run that has not begun stands: ``{"place", "waiting_for"}``, the
        same owner's earlier runs still going (they are served first), or None for a
        run that has begun or waits for nobody."""
        if word != XtractStatus.INIT:
            return None
        ahead = []
        for cid, run_owner, _ in self._active_runs():
            if cid == crawl_id:
                break
            if run_owner == owner:
                ahead.append(cid)
        return {"place": len(ahead) + 1, "waiting_for": ahead} if ahead else None

    def annotate(self, crawls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A listing of crawls, each with its extraction's state (``xtract_status``,
        ``None`` for none) and the families recorded (``families_extracted``): one round
        trip for them all."""
        pipe = self.r.pipeline(transaction=False)
        for c in crawls:
            pipe.hmget(keys.xtract(c["crawl_id"]), ["status", "success", "failed"])
        out = []
        for c, (word, ok, bad) in zip(crawls, pipe.execute(), strict=True):
            out.append(
                {
                    **c,
                    "xtract_status": text(word) if word is not None else None,
                    "families_extracted": number(ok) + number(bad),
                }
            )
        return out

    # -- status -------------------------------------------------------------------------
    def status(self, crawl_id: str, owner: str | None) -> dict[str, Any]:
        """The published shape ``{xtract_status, xtract_counters}``, and more.
        ``fx.pending`` is derived, not counted: the families the crawl found that have
        no recorded result yet, so it is exact after any kill or retry (and 0 once the
        run is COMPLETED)."""
        crawl = self.crawls.get(crawl_id, owner)
        pipe = self.r.pipeline(transaction=False)  # the run, its rates, its errors: one trip
        pipe.hgetall(keys.xtract(crawl_id))
        pipe.hgetall(keys.xtract_rates(crawl_id))
        pipe.hgetall(keys.xtract_error_kinds(crawl_id))
        raw, raw_rates, raw_kinds = pipe.execute()
        h = {text(k): text(v) for k, v in raw.items()}
        if not h:
            raise CrawlNotFound(f"crawl {crawl_id} has no extraction; start one with xtract()")
        c = {k: number(h.get(k)) for k in _COUNTERS}
        done = c["success"] + c["failed"]
        options = json.loads(h.get("options", "{}"))
        pending = max(crawl.counts["families"] - done, 0)
        started = float(h["started_at"]) if h.get("started_at") else None
        ended = float(h["finished_at"]) if h.get("finished_at") else time.time()
        forecast = extraction_forecast(
            pending,
            done - c["carried"],
            ended - started if started else 0.0,
            rates_of(raw_rates),
            h["status"] in XtractStatus.terminal(),
        )
        queue = self.queue(crawl_id, h.get("owner", ""), h["status"])
        return {
            "crawl_id": crawl_id,
            # QUEUED: not begun, behind the same owner's earlier runs (``queue`` says)
            "xtract_status": XtractStatus.QUEUED.value if queue else h["status"],
            "queue": queue,
            "message": h.get("message", "OK"),
            "xtract_counters": {
                "cumu_orch_enter": c["orch_enter"],
                "cumu_pulled": c["pulled"],
                "cumu_scheduled": c["scheduled"],
                "cumu_to_schedule": max(c["pulled"] - c["scheduled"], 0),
                "flagged_unknown": c["unknown"],
                "fx": {
                    "success": c["success"],
                    "failed": c["failed"],
                    # of the successes, families where at least one extractor failed
                    "errors": c["errors"],
                    "pending": pending,
                },
            },
            "files_extracted": c["files"],
            # families whose documents came from the crawl's ``since`` crawl, unread
            "families_carried": c["carried"],
            "executor": options.get("executor"),
            "local_mdata_path": options.get("local_mdata_path"),
            "forecast": forecast,
            "errors_by_kind": kinds_of(raw_kinds),
            "started_at": started,
            "finished_at": float(h["finished_at"]) if h.get("finished_at") else None,
        }

    def status_word(self, crawl_id: str) -> str:
        """The run's status word (``""`` when the crawl has no extraction)."""
        return text(self.r.hget(keys.xtract(crawl_id), "status"))

    def exists(self, crawl_id: str) -> bool:
        return bool(self.r.exists(keys.xtract(crawl_id)))

    def first_take(self, crawl_id: str, entry_id: str) -> bool:
        """Whether this families stream entry is taken for the first time."""
        return bool(self.r.sadd(keys.xtract_taken(crawl_id), entry_id))

    def count(self, crawl_id: str, **deltas: int) -> None:
        pipe = self.r.pipeline(transaction=False)
        for name, delta in deltas.items():
            if delta:
                pipe.hincrby(keys.xtract(crawl_id), name, delta)
        pipe.execute()

    def advance(self, crawl_id: str, word: XtractStatus) -> bool:
        """Move the status forward to ``word``; never back."""
        return bool(self._advance(keys=[keys.xtract(crawl_id)], args=[word.value, *_ORDER]))

    def fail(self, crawl_id: str, message: str) -> None:
        """End a run that cannot start."""
        self.r.hset(keys.xtract(crawl_id), mapping={"message": message})
        self.advance(crawl_id, XtractStatus.FAILED)
        self.r.srem(keys.XTRACT_ACTIVE, crawl_id)
        self.r.delete(keys.xtract_secrets(crawl_id))

    def finish_if_done(self, crawl_id: str) -> bool:
        """Mark the extraction COMPLETED (or FAILED, if every family failed) once the
        crawl has ended and every family it found has been recorded."""
        if self.crawls.status_word(crawl_id) not in CrawlStatus.terminal():
            return False
        stream = keys.families(crawl_id)
        groups = {text(g["name"]): g for g in self.r.xinfo_groups(stream)}
        group = groups.get(keys.XTRACT_GROUP)
        if group is None or group["pending"]:
            return False
        last = self.r.xinfo_stream(stream)["last-generated-id"] if self.r.exists(stream) else "0-0"
        if text(group["last-delivered-id"]) != text(last):
            return False
        ok, bad = self.r.hmget(keys.xtract(crawl_id), ["success", "failed"])
        success, failed = number(ok), number(bad)
        if success + failed < crawl_record.families_found(self.r, crawl_id):
            return False  # a family found is not recorded yet: pending is never left over
        word = XtractStatus.FAILED if failed and not success else XtractStatus.COMPLETED
        if self.advance(crawl_id, word):
            message = "OK" if not failed else f"{failed} families failed; see their documents"
            self.r.hset(
                keys.xtract(crawl_id), mapping={"finished_at": time.time(), "message": message}
            )
            self.r.srem(keys.XTRACT_ACTIVE, crawl_id)
            self.r.delete(keys.xtract_secrets(crawl_id))  # the run that needed them ended
            event = (
                EventType.XTRACT_FAILED
                if word == XtractStatus.FAILED
                else EventType.XTRACT_COMPLETED
            )
            publish(self.r, crawl_id, event, success=success, failed=failed)
        return True

    # -- steering -----------------------------------------------------------------------
    def _finished(self, crawl_id: str, owner: str) -> None:
        if self.status(crawl_id, owner)["xtract_status"] not in XtractStatus.terminal():
            raise ExtractionExists(
                f"the extraction of {crawl_id} is still running", code="still_running"
            )

    def retry(self, crawl_id: str, owner: str, errors: bool = False) -> dict[str, Any]:
        """Extract again the families that failed (with ``errors``, also those where
        any extractor failed); families that succeeded are left alone."""
        self._finished(crawl_id, owner)
        wanted = {
            fid: state
            for fid, state in self.results.states(crawl_id)
            if state["state"] == FamilyState.FAILED
            or (
                errors
                and any(e["state"] == FamilyState.FAILED for e in state["extractors"].values())
            )
        }
        latest = self.results.latest(crawl_id, set(wanted))
        families = {
            fid: {"family_id": fid, "files": doc["files"], "groups": doc["groups"]}
            for fid, doc in latest.items()
        }
        if families:
            # every counter the recorded states added is taken back, so re-recording
            # them counts each family once again
            was_failed = sum(1 for f in families if wanted[f]["state"] == FamilyState.FAILED)
            had_errors = sum(1 for f in families if has_errors(wanted[f]))
            files = sum(len(f["files"]) for f in families.values())
            unknown = sum(len(latest[f].get("unknown", [])) for f in families)
            carried = sum(1 for f in families if latest[f].get("carried_from"))
            kinds: dict[str, int] = {}
            read: dict[str, list[float]] = {}  # extractor -> [files read, seconds]
            for f in families:
                for kind, n in error_kinds(latest[f]):
                    kinds[kind] = kinds.get(kind, 0) + n
                for name, n, seconds in timings(latest[f]):
                    got = read.setdefault(name, [0, 0.0])
                    got[0] += n
                    got[1] += seconds
            pipe = self.r.pipeline(transaction=True)
            pipe.hdel(keys.family_state(crawl_id), *families)
            pipe.hincrby(keys.xtract(crawl_id), "failed", -was_failed)
            pipe.hincrby(keys.xtract(crawl_id), "success", -(len(families) - was_failed))
            pipe.hincrby(keys.xtract(crawl_id), "errors", -had_errors)
            pipe.hincrby(keys.xtract(crawl_id), "unknown", -unknown)
            pipe.hincrby(keys.xtract(crawl_id), "files", -files)
            pipe.hincrby(keys.xtract(crawl_id), "carried", -carried)
            for kind, n in kinds.items():
                pipe.hincrby(keys.xtract_error_kinds(crawl_id), kind, -n)
            for name, (n, seconds) in read.items():  # per extractor, as recorded
                pipe.hincrby(keys.xtract_rates(crawl_id), f"{name}:files", -int(n))
                pipe.hincrbyfloat(keys.xtract_rates(crawl_id), f"{name}:seconds", -seconds)
            pipe.xadd(
                keys.families(crawl_id), {"retry": json.dumps(list(families.values())), "n": 0}
            )
            _reopen(pipe, crawl_id)
            pipe.execute()
            self.r.sadd(keys.XTRACT_ACTIVE, crawl_id)
            publish(self.r, crawl_id, EventType.XTRACT_STARTED, retry=len(families))
            # the run is going again: families it never reached come along anyway
            return {"crawl_id": crawl_id, "retried": len(families), "resumed": 0}
        resumed = self._resume_unfinished(crawl_id, owner)
        return {"crawl_id": crawl_id, "retried": resumed, "resumed": resumed}

    def _resume_unfinished(self, crawl_id: str, owner: str) -> int:
        """A run that FAILED before recording every family (its executor could not
        start, say) runs again for the families it never reached; returns how many."""
        status = self.status(crawl_id, owner)
        pending = int(status["xtract_counters"]["fx"]["pending"])
        if pending == 0 or status["xtract_status"] != XtractStatus.FAILED:
            return 0
        pipe = self.r.pipeline(transaction=True)
        _reopen(pipe, crawl_id)
        pipe.execute()
        self.r.sadd(keys.XTRACT_ACTIVE, crawl_id)
        publish(self.r, crawl_id, EventType.XTRACT_STARTED, resumed=pending)
        return pending

    def clear(self, crawl_id: str, owner: str, extractor: str | None = None) -> dict[str, Any]:
        """Forget results so they are extracted again: all of them (a new ``xtract`` may
        then start), or one extractor's (``retry`` then runs those families again)."""
        self._finished(crawl_id, owner)
        if extractor is None:
            n = self.r.hlen(keys.family_state(crawl_id))
            self.r.delete(
                keys.xtract(crawl_id),
                keys.xtract_taken(crawl_id),
                keys.family_state(crawl_id),
                keys.results(crawl_id),
                keys.document_at(crawl_id),
                keys.xtract_rates(crawl_id),
                keys.xtract_error_kinds(crawl_id),
                keys.xtract_secrets(crawl_id),
            )
            self.r.xgroup_destroy(keys.families(crawl_id), keys.XTRACT_GROUP)
            return {"crawl_id": crawl_id, "cleared": n}
        cleared = errors = 0
        for fid, state in self.results.states(crawl_id):
            if extractor in state["extractors"] and state["state"] == FamilyState.SUCCESS:
                errors += has_errors(state)
                state["state"] = FamilyState.FAILED
                state["error"] = f"cleared {extractor}"
                self.r.hset(keys.family_state(crawl_id), fid, json.dumps(state))
                cleared += 1
        self.count(crawl_id, success=-cleared, failed=cleared, errors=-errors)
        return {"crawl_id": crawl_id, "cleared": cleared}
