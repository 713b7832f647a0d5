"""The metadata index: each crawl's documents as Parquet parts, appended as documents are
recorded, so a question about the metadata reads a few column files instead of every
document one by one.

Where: ``{home}/index/{crawl_id}/``, parts ``part-00001.parquet``, ... and a
``manifest.json`` naming them with the results-stream cursor they reach. Each part has
the Parquet export's schema (``xtract_sdk.tables``: typed file columns, a struct per
extractor with its declared fields, ``errors``, ``metadata_json``) plus ``extracted_at``,
so a family retried later supersedes its earlier rows: readers keep, per family, the
rows of its newest document (:data:`CURRENT_ROWS`).

Why Parquet parts and not a DuckDB file: parts are written whole or not at all (a
temporary file renamed), read by any tool without a lock, served as they are to the SDK
(which runs the caller's SQL in the caller's own DuckDB: nothing a caller sends runs in
the service), and the same bytes an export copies; a DuckDB file would need one
writer's lock for readers and writers alike.

Who writes: the ``indexer`` role (one process). Recording a batch of documents marks
the crawl pending (``keys.INDEX_PENDING``); the indexer takes a pending crawl (its
lock held), reads the documents after the manifest's cursor, writes them as the next
part, then writes the manifest. A writer killed between the part and the manifest
leaves a part the manifest does not name: the next write reuses that name and replaces
it, so nothing is doubled; nothing is lost either, since the cursor only moves with
the manifest. Small parts are merged once there are :data:`MERGE_AFTER` of them.
The documents stay the record: ``rebuild`` deletes a crawl's index and writes it anew.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Iterator
from typing import Any

import redis

from xtract_extractors.kinds import declared_fields
from xtract_extractors.safepath import Roots, opened, read_in, write_file
from xtract_sdk.records import items_of
from xtract_sdk.status import XtractStatus
from xtract_sdk.tables import FIELDS, parquet_table
from xtract_service import keys
from xtract_service.access import own_folder
from xtract_service.errors import Conflict, NotFound
from xtract_service.extraction.browse import field_text
from xtract_service.extraction.results import ExtractionResults
from xtract_service.settings import Settings
from xtract_service.streams import Cursor, Loop

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
ROWS_PER_PART = 100_000  # file rows read into one part at most
MERGE_AFTER = 16  # parts before the small ones are merged into one
SMALL_PART = 20_000  # rows: a part below this is merged
LOCK_SECONDS = 120
# the rows of each family's newest document, as a view over the parts (DuckDB SQL);
# ``{parts}`` is a list literal of the part paths
CURRENT_ROWS = (
    "SELECT * EXCLUDE (extracted_at, _newest, field_text, position) FROM ("
    "SELECT *, max(extracted_at) OVER (PARTITION BY family_id) AS _newest "
    "FROM read_parquet({parts}, union_by_name = true)) "
    "WHERE extracted_at IS NOT DISTINCT FROM _newest"
)


def index_folder(settings: Settings, crawl_id: str) -> tuple[str, str]:
    """``(folder, root)`` of a crawl's index in the service's home."""
    return own_folder(settings, "index", crawl_id)


def export_fields() -> dict[str, dict[str, str]]:
    """The typed fields of the index and the Parquet export: the built-in table and
    what every installed extractor declares."""
    return {**FIELDS, **declared_fields()}


def read_manifest(settings: Settings, crawl_id: str) -> dict[str, Any]:
    """The crawl's manifest (``{cursor, parts: [{name, rows, bytes}], rows}``); an
    empty one where nothing is indexed yet."""
    folder, root = index_folder(settings, crawl_id)
    try:
        with opened(Roots([root]).open_dir(folder)) as fd:
            manifest: dict[str, Any] = json.loads(read_in(fd, MANIFEST))
            return manifest
    except FileNotFoundError:
        return {"cursor": str(Cursor()), "parts": [], "rows": 0}


def position(cursor: Cursor, file: int) -> str:
    """A file's place in the results stream, as text that sorts in stream order: the
    order the document scan (``browse.search``) reads files in."""
    ms, _, seq = cursor.entry.partition("-")
    return f"{int(ms):015d}-{int(seq or 0):09d}-{cursor.taken:09d}-{file:06d}"


def _rows(
    docs: list[dict[str, Any]],
    crawl_id: str,
    fields: dict[str, Any],
    cursors: list[Cursor] | None = None,
) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    items = []
    versions = []
    places = []
    readers = []
    texts = []
    for n, doc in enumerate(docs):
        cursor = cursors[n] if cursors else Cursor("0-0", n + 1)
        for i, item in enumerate(items_of({**doc, "crawl_id": doc.get("crawl_id", crawl_id)})):
            items.append(item)
            versions.append(doc.get("extracted_at"))
            places.append(position(cursor, i))
            readers.append(sorted(k for k in item["metadata"] if k != "filetype"))
            texts.append(field_text(item["metadata"]))
    table = parquet_table(items, fields)
    # the index's own columns: the newest document wins; which extractors read the
    # file; its fields as text for a field search
    table = table.append_column("extracted_at", pa.array(versions, pa.float64()))
    table = table.append_column("position", pa.array(places, pa.string()))
    table = table.append_column("extractors", pa.array(readers, pa.list_(pa.string())))
    table = table.append_column("field_text", pa.array(texts, pa.string()))
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")  # type: ignore[no-untyped-call]
    return buf.getvalue()


class Index:
    """One crawl's index: appending, merging, rebuilding (the caller holds the lock)."""

    def __init__(self, r: redis.Redis, settings: Settings, crawl_id: str) -> None:
        self.r = r
        self.settings = settings
        self.crawl_id = crawl_id
        self.results = ExtractionResults(r)
        self.folder, self.root = index_folder(settings, crawl_id)

    def _open(self) -> int:
        return Roots([self.root]).open_dir(self.folder, create=True)

    def append(self, limit: int = ROWS_PER_PART) -> int:
        """Index the documents recorded after the manifest's cursor (up to about
        ``limit`` file rows); returns the rows written (0: nothing new)."""
        manifest = read_manifest(self.settings, self.crawl_id)
        cursor = Cursor.parse(manifest["cursor"])
        docs: list[dict[str, Any]] = []
        cursors: list[Cursor] = []
        rows = 0
        for after, doc in self.results.read(self.crawl_id, cursor, scan=64):
            docs.append(dict(doc))
            cursors.append(after)
            rows += len(doc.get("files", []))
            cursor = after
            if rows >= limit:
                break
        if not docs:
            return 0
        data = _rows(docs, self.crawl_id, export_fields(), cursors)
        # numbered by the manifest, which moves on only once it names the part: a
        # killed writer's part gets the same name next time, and is replaced
        number = int(manifest.get("next_part", len(manifest["parts"]) + 1))
        name = f"part-{number:05d}.parquet"
        with opened(self._open()) as fd:
            write_file(fd, name, data)  # whole or not at all; an orphan of this name is replaced
            manifest["parts"].append({"name": name, "rows": rows, "bytes": len(data)})
            manifest["next_part"] = number + 1
            manifest["cursor"] = str(cursor)
            manifest["rows"] = sum(p["rows"] for p in manifest["parts"])
            manifest["updated_at"] = time.time()
            write_file(fd, MANIFEST, json.dumps(manifest).encode())
        if len(manifest["parts"]) >= MERGE_AFTER:
            self.merge()
        return rows

    def merge(self) -> None:
        """Merge the small parts into one (written before the manifest names it)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        manifest = read_manifest(self.settings, self.crawl_id)
        small = [p for p in manifest["parts"] if p["rows"] < SMALL_PART]
        if len(small) < 2:
            return
        with opened(self._open()) as fd:
            tables = [
                pq.read_table(pa.BufferReader(read_in(fd, part["name"])))  # type: ignore[no-untyped-call]
                for part in small
            ]
            merged = pa.concat_tables(tables, promote_options="default")
            buf = io.BytesIO()
            pq.write_table(merged, buf, compression="zstd")  # type: ignore[no-untyped-call]
            kept = [p for p in manifest["parts"] if p["rows"] >= SMALL_PART]
            name = f"merged-{int(time.time() * 1000):x}.parquet"
            write_file(fd, name, buf.getvalue())
            rows = sum(p["rows"] for p in small)
            manifest["parts"] = [{"name": name, "rows": rows, "bytes": buf.tell()}, *kept]
            write_file(fd, MANIFEST, json.dumps(manifest).encode())
            for part in small:  # no longer named: a reader that listed them has its copy
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(part["name"], dir_fd=fd)

    def rebuild(self) -> None:
        """Forget the index; the next :meth:`append` calls write it anew."""
        shutil.rmtree(self.folder, ignore_errors=True)  # our own folder; never follows links


_PART = re.compile(r"^(part|merged)-[0-9a-f]{1,16}\.parquet$")


def summary(r: redis.Redis, settings: Settings, crawl_id: str) -> dict[str, Any]:
    """``{parts, rows, pending, current_rows_sql}`` of a crawl's index (``pending``:
    documents wait to be indexed)."""
    manifest = read_manifest(settings, crawl_id)
    pending = bool(r.sismember(keys.INDEX_PENDING, crawl_id)) or bool(
        r.exists(keys.metadata_index_lock(crawl_id))
    )
    return {
        "crawl_id": crawl_id,
        "parts": manifest["parts"],
        "rows": manifest.get("rows", 0),
        "pending": pending,
        "current_rows_sql": CURRENT_ROWS,
    }


def part_bytes(settings: Settings, crawl_id: str, part: str) -> bytes:
    """The bytes of one part the manifest names; NotFound otherwise (or merged away)."""
    names = {p["name"] for p in read_manifest(settings, crawl_id)["parts"]}
    if not _PART.match(part) or part not in names:
        raise NotFound(f"crawl {crawl_id} has no index part {part[:100]!r}", "no_such_part")
    folder, root = index_folder(settings, crawl_id)
    try:
        with opened(Roots([root]).open_dir(folder)) as fd:
            return read_in(fd, part)
    except FileNotFoundError:  # merged away since the manifest was read: ask again
        raise NotFound(
            f"index part {part} was merged; list the parts again", "no_such_part"
        ) from None


def rebuild(r: redis.Redis, settings: Settings, crawl_id: str, who: str) -> None:
    """Forget the crawl's index and have the indexer write it anew; Conflict while the
    indexer holds it."""
    for _ in range(50):  # the indexer holds the lock for one append at a time
        with index_lock(r, crawl_id, f"rebuild-{who}") as taken:
            if taken:
                Index(r, settings, crawl_id).rebuild()
                mark_pending(r, crawl_id)
                return
        time.sleep(0.1)
    raise Conflict("the index is being written now; try again in a moment", "busy")


def mark_pending(r: redis.Redis, crawl_id: str) -> None:
    """Tell the indexer that the crawl has documents to index."""
    r.sadd(keys.INDEX_PENDING, crawl_id)


@contextlib.contextmanager
def index_lock(r: redis.Redis, crawl_id: str, owner: str) -> Iterator[bool]:
    """Hold the crawl's index lock (yields whether it was taken)."""
    key = keys.metadata_index_lock(crawl_id)
    taken = bool(r.set(key, owner, nx=True, ex=LOCK_SECONDS))
    try:
        yield taken
    finally:
        if taken and r.get(key) in (owner, owner.encode()):
            r.delete(key)


# seconds between appends to the index of a crawl whose extraction runs: an append has
# a fixed cost (about 8 ms: the typed schema, the Parquet footer, the manifest, fsyncs),
# so appending each recorded batch as it came cost 100-700 us a row on fast extractions
# (measured: the index at 16% of a 100,000-file extraction's time); every 2 s it is
# about 30 us a row. Searches read the documents not yet indexed, so none waits for it.
APPEND_EVERY = 2.0


class Indexer(Loop):
    """The ``indexer`` role: appends pending crawls' new documents to their indexes,
    every :data:`APPEND_EVERY` seconds while a crawl's extraction runs, at once when it
    has ended (or for a rebuild)."""

    def __init__(self, r: redis.Redis, settings: Settings) -> None:
        super().__init__(r, f"indexer-{os.getpid()}")
        self.settings = settings
        self._appended: dict[str, float] = {}  # crawl id -> when this process last appended

    def _due(self, crawl_id: str) -> bool:
        if time.monotonic() - self._appended.get(crawl_id, -APPEND_EVERY) >= APPEND_EVERY:
            return True
        word = self.r.hget(keys.xtract(crawl_id), "status")
        running = (
            word is not None
            and (word.decode() if isinstance(word, bytes) else str(word))
            not in XtractStatus.terminal()
        )
        return not running

    def step(self) -> bool:
        busy = False
        pending = [
            raw.decode() if isinstance(raw, bytes) else str(raw)
            for raw in self.r.smembers(keys.INDEX_PENDING)
        ]
        now = time.monotonic()  # older entries are due anyway: forgotten
        self._appended = {c: t for c, t in self._appended.items() if now - t < APPEND_EVERY}
        for crawl_id in pending:
            if not self._due(crawl_id):
                continue
            self._appended[crawl_id] = time.monotonic()
            with index_lock(self.r, crawl_id, self.name) as taken:
                if not taken:
                    continue
                # taken off before reading: a batch recorded while this one is
                # written marks the crawl again
                self.r.srem(keys.INDEX_PENDING, crawl_id)
                try:
                    written = Index(self.r, self.settings, crawl_id).append()
                except Exception:
                    log.exception("indexing crawl %s failed; it stays pending", crawl_id)
                    mark_pending(self.r, crawl_id)
                    continue
                if written >= ROWS_PER_PART:
                    mark_pending(self.r, crawl_id)  # more to read
                busy = busy or written > 0
        return busy

    def pause(self) -> None:
        self.stop.wait(0.5)


# -- searching the index ----------------------------------------------------------------
_LIST = "list_transform(errors, lambda e: coalesce(e.error, ''))"


def _part_paths(settings: Settings, crawl_id: str, manifest: dict[str, Any]) -> list[str]:
    folder, _ = index_folder(settings, crawl_id)
    return [os.path.join(folder, p["name"]) for p in manifest["parts"]]


def _filters(q: Any) -> tuple[str, list[Any]]:
    """SQL conditions and their parameters for a search (``browse.Query``); every value
    a parameter, the field search an escaped RE2 pattern (linear time)."""
    where: list[str] = []
    params: list[Any] = []
    if q.path:
        where.append("contains(lower(path), ?)")
        params.append(q.path.lower())
    if q.type:
        where.append("contains(lower(coalesce(mimetype, '')), ?)")
        params.append(q.type.lower())
    if q.extractor:
        where.append("contains(lower(array_to_string(extractors, chr(10))), ?)")
        params.append(q.extractor.lower())
    if q.error:
        where.append(f"contains(lower(array_to_string({_LIST}, chr(10))), ?)")
        params.append(q.error.lower())
    if q.field:
        name, has_value, value = q.field.partition("=")
        pattern = "(?m)^" + re.escape(name.strip().lower()) + "="
        if has_value:
            pattern += "[^\\n]*" + re.escape(value.strip().lower())
        where.append("regexp_matches(field_text, ?)")
        params.append(pattern)
    return (" AND ".join(where) or "true"), params


def search_index(
    settings: Settings,
    state: dict[str, Any],
    q: Any,
    offset: int,
    limit: int,
) -> dict[str, Any] | None:
    """The files matching ``q`` (``browse.Query``) from ``offset``, in the order the
    documents were recorded (as the document scan lists them), with
    exact counts: ``{files: [(path, family_id)], matched, searched, next, complete}``
    (``complete``: every recorded document is indexed), over the index ``state``
    (:func:`summary`). None without an index."""
    import duckdb

    if not state["parts"]:
        return None
    listed = ", ".join(
        "'" + p.replace("'", "''") + "'" for p in _part_paths(settings, state["crawl_id"], state)
    )
    current = (
        "SELECT * FROM (SELECT path, family_id, mimetype, extractors, errors, field_text, "
        "position, extracted_at, max(extracted_at) OVER (PARTITION BY family_id) AS _newest "
        f"FROM read_parquet([{listed}], union_by_name = true)) "
        "WHERE extracted_at IS NOT DISTINCT FROM _newest"
    )
    where, params = _filters(q)
    con = duckdb.connect()
    try:
        con.execute(f"CREATE TEMP TABLE cur AS {current}")
        counted = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {where}) FROM cur", params
        ).fetchone()
        assert counted is not None  # an aggregate answers one row
        searched, matched = counted
        rows = con.execute(
            f"SELECT path, family_id FROM cur WHERE {where} ORDER BY position LIMIT ? OFFSET ?",
            [*params, limit + 1, offset],
        ).fetchall()
    finally:
        con.close()
    more = len(rows) > limit
    return {
        "files": rows[:limit],
        "matched": int(matched),
        "searched": int(searched),
        "next": f"i:{offset + limit}" if more else None,
        "complete": not state["pending"],
    }
