"""Client commands: drive crawls, extractions and offloads on a running service through
the SDK (``crawl``, ``status``, ``xtract``, ``retry``, ``clear``, ``offload``, ``watch``,
``ls``, ``flush``, ``cancel``)."""

from __future__ import annotations

import json
import os
from typing import Any

import typer

from xtract_sdk import CrawlStatus, XtractClient, XtractEndpoint, XtractError, XtractStatus
from xtract_service.cli.app import app, fail, sdk_errors, show
from xtract_service.cli.render import status_text, xtract_text


def client(as_json: bool = False) -> XtractClient:
    """The SDK client for ``--url`` / ``$XTRACT_URL``; a failed Globus login is one
    readable line."""
    with sdk_errors(as_json):
        return XtractClient()
    raise AssertionError("unreachable")  # sdk_errors exits


def endpoint_of(path: str, grouper: str, skip: list[str], follow: bool = False) -> XtractEndpoint:
    if path.startswith("globus://"):
        rest = path[len("globus://") :]
        ep, _, p = rest.partition("/")
        return XtractEndpoint(
            "globus", globus_ep_id=ep, dirs=["/" + p], grouper=grouper, skip=skip,
            follow_symlinks=follow,
        )  # fmt: skip
    return XtractEndpoint(
        "local", dirs=[os.path.abspath(path)], grouper=grouper, skip=skip, follow_symlinks=follow
    )


@app.command()
def crawl(
    path: str = typer.Argument(..., help="A local folder, or globus://ENDPOINT_ID/path."),
    grouper: str = typer.Option("file_is_group", help="file_is_group, directory or extension."),
    skip: list[str] = typer.Option([], help="Glob of names to skip (repeatable)."),
    wait: bool = typer.Option(False, help="Wait for the crawl to finish, showing progress."),
    since: str = typer.Option(
        None,
        help="An earlier crawl of the same folders: say what changed since, and "
        "extract only added and changed files.",
    ),
    follow_symlinks: bool = typer.Option(
        False,
        "--follow-symlinks",
        help="Follow symbolic links to folders and files (each real folder is read once; "
        "links that leave the allowed roots are still refused).",
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Start a crawl; prints its id (or its final status with --wait)."""
    xtr = client(as_json)
    where = endpoint_of(path, grouper, skip, follow_symlinks)
    with sdk_errors(as_json):
        if wait:
            status = next(
                iter(xtr.crawl_and_wait(where, progress=not as_json, since=since).values())
            )
            show(status, as_json, status_text(status))
            if status["status"] != CrawlStatus.COMPLETE:
                raise typer.Exit(1)
        else:
            cid = xtr.crawl(where, since=since)[0]
            show({"crawl_id": cid}, as_json, cid)


@app.command()
def changes(
    crawl_id: str,
    kind: str = typer.Option("added", help="added, changed or removed."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List the paths a crawl started with --since found added, changed or removed."""
    if kind not in ("added", "changed", "removed"):
        fail(f"unknown kind {kind!r}; use added, changed or removed", 2, as_json, "bad_kind")
    with sdk_errors(as_json):
        paths = client(as_json).get_changes(crawl_id, kind)
    show({"crawl_id": crawl_id, "kind": kind, "paths": paths}, as_json, "\n".join(paths))


@app.command()
def status(
    crawl_id: str = typer.Argument(None, help="A crawl id (none: list your crawls)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show a crawl's status and counters, and its extraction's if there is one."""
    if crawl_id is None:
        list_crawls(as_json)
        return
    xtr = client(as_json)
    with sdk_errors(as_json):
        s = xtr.get_crawl_status(crawl_id)
        try:
            x = xtr.get_xtract_status(crawl_id)
        except XtractError:
            x = None
    text = status_text(s) + ("\n" + xtract_text(x) if x else "")
    show({**s, "xtract": x}, as_json, text)


@app.command("xtract")
def xtract_command(
    crawl_id: str,
    executor: str = typer.Option("local", help="local, parsl or globus-compute."),
    extractor: list[str] = typer.Option(None, "--extractor", "-e", help="Only these."),
    wait: bool = typer.Option(False, help="Wait, showing progress."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Extract a crawl's families (it may still be crawling)."""
    xtr = client(as_json)
    options: dict[str, Any] = {"executor": executor}
    if extractor:
        options["extractors"] = list(extractor)
    with sdk_errors(as_json):
        if wait:
            (x,) = xtr.xtract_and_wait([crawl_id], progress=not as_json, **options)
        else:
            xtr.xtract([crawl_id], **options)
            x = xtr.get_xtract_status(crawl_id)
    show(x, as_json, xtract_text(x))
    if x["xtract_status"] == XtractStatus.FAILED:
        raise typer.Exit(1)


@app.command()
def retry(
    crawl_id: str,
    errors: bool = typer.Option(False, "--errors", help="Also families an extractor failed on."),
    wait: bool = typer.Option(True, help="Wait for the re-run."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Extract again only the families that failed."""
    xtr = client(as_json)
    with sdk_errors(as_json):
        r = xtr.retry(crawl_id, errors=errors)
        x = xtr.wait_for_xtract([crawl_id], progress=not as_json) if wait and r["retried"] else None
    text = f"{r['retried']:,} families sent again" + ("\n" + xtract_text(x[0]) if x else "")
    show({**r, "xtract": x[0] if x else None}, as_json, text)
    if x and x[0]["xtract_status"] == XtractStatus.FAILED:
        raise typer.Exit(1)


@app.command()
def clear(
    crawl_id: str,
    extractor: str = typer.Option(None, help="Forget only this extractor's results."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Forget extraction results so they run again (all, or one extractor's)."""
    with sdk_errors(as_json):
        r = client(as_json).clear(crawl_id, extractor)
    hint = "run `xtract retry` to extract them again" if extractor else "run `xtract xtract` again"
    show(r, as_json, f"{r['cleared']:,} families cleared; {hint}")


def format_params(pairs: list[str], as_json: bool) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as a driver's parameters: a value that reads as JSON (a
    number, true/false, a list) is taken as such, any other as text."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key:
            fail(f"--param {pair!r}: say KEY=VALUE", 2, as_json, "bad_param")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


@app.command()
def offload(
    crawl_id: str,
    dest_path: str = typer.Option("", help="Folder for the new YYYY-MM-DD-hh.mm.ss folder."),
    dest_ep: str = typer.Option(None, help="A Globus endpoint id (default: this machine)."),
    fmt: str = typer.Option(
        "family_json",
        "--format",
        help="The export driver: family_json, jsonl, parquet, globus_search, datacite, "
        "croissant, rocrate, schemaorg, postgres, or a plug-in's (`xtract formats` lists "
        "the service's drivers with their typed parameters).",
    ),
    param: list[str] = typer.Option(
        [],
        "--param",
        "-p",
        help="A driver parameter as KEY=VALUE, repeatable: e.g. -p max_items=50000, "
        "-p dsn='host=/run/postgresql dbname=meta', -p creator='Doe, Jane'. The service "
        "checks each against the driver's declared type.",
    ),
    to: str = typer.Option(
        None,
        "--to",
        help="A plug-in destination driver (`xtract formats` lists them); the built-in "
        "ones are a local folder (--dest-path) and a Globus endpoint (--dest-ep).",
    ),
    to_param: list[str] = typer.Option(
        [], "--to-param", help="A destination parameter as KEY=VALUE, repeatable."
    ),
    partitions: int = typer.Option(
        None,
        min=1,
        help="Split the writing into this many shares, taken up side by side by the "
        "service's offload workers (default: one per worker).",
    ),
    gzip: bool = typer.Option(False, help="Compress jsonl parts (as -p gzip=true)."),
    timeout: int = typer.Option(600, help="Seconds a Globus transfer may take."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Export the crawl's metadata; prints the folder holding its parts (the new
    export folder's sub-folder of the crawl), so `'FOLDER/*.parquet'` reads them."""
    params = format_params(param, as_json)
    if gzip and fmt == "jsonl":
        params["gzip"] = True
    with sdk_errors(as_json):
        folder = client(as_json).offload_metadata(
            dest_ep,
            dest_path,
            timeout,
            crawl_ids=[crawl_id],
            format=fmt,
            format_params=params,
            partitions=partitions,
            move=to,
            move_params=format_params(to_param, as_json),
        )
    if to:  # a plug-in destination: where it says it sent them
        show({"crawl_id": crawl_id, "destination": folder}, as_json, folder)
        return
    parts = os.path.join(folder, crawl_id)
    show({"crawl_id": crawl_id, "path": parts, "export": folder}, as_json, parts)


@app.command()
def watch(
    crawl_id: str,
    until: str = typer.Option(None, help="Stop after this event (e.g. xtract.completed)."),
    follow: bool = typer.Option(
        False, "--follow", "-f", help="Keep watching after the run is over (Ctrl-C to stop)."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Print a crawl's events as they happen, with the files they are about; ends when
    the crawl (and its extraction, if one runs) is over, unless --follow."""
    from xtract_sdk import Callback, EventType

    xtr = client(as_json)
    mon = xtr.monitor(crawl_id, [Callback(EventType.ANY, lambda e: None)])
    events = mon.queue()
    with sdk_errors(as_json), mon:
        while True:
            try:
                event = events.get(timeout=1.0)
            except Exception:
                if not mon.running:
                    fail(str(mon.error or "the event stream ended"), 1, as_json)
                if not follow and run_is_over(xtr, crawl_id):
                    return
                continue
            if as_json:
                typer.echo(
                    json.dumps(
                        {"id": event.id, "type": event.type, "at": event.at, "data": event.data},
                        default=str,
                    )
                )
            else:
                typer.echo(event_line(event))
            if until and event.type == until:
                return


def run_is_over(xtr: XtractClient, crawl_id: str) -> bool:
    """The crawl has ended and so has its extraction, if it has one (events have
    gone quiet for a second when this is asked)."""
    if xtr.get_crawl_status(crawl_id)["status"] not in CrawlStatus.terminal():
        return False
    try:
        xstatus = xtr.get_xtract_status(crawl_id)["xtract_status"]
    except XtractError:
        return True  # no extraction
    return bool(xstatus in XtractStatus.terminal())


def event_line(event: Any) -> str:
    """One event as a line: its local time, type, the files it is about (not family
    ids), and its other fields."""
    import datetime as dt

    data = dict(event.data)
    doc = data.pop("document", None)
    paths = [f["path"] for f in doc.get("files", [])] if isinstance(doc, dict) else []
    if paths:
        data.pop("family_id", None)
    brief = json.dumps(data, default=str) if data else ""
    where = ""
    if paths:
        where = paths[0] + (f" (+{len(paths) - 1} more)" if len(paths) > 1 else "") + "  "
    at = dt.datetime.fromtimestamp(float(event.at)).strftime("%H:%M:%S.%f")[:-3]
    return f"{at}  {event.type:<18} {where}{brief}".rstrip()


@app.command()
def query(
    crawl_id: str,
    sql: str = typer.Argument(
        "SELECT mimetype, count(*) AS files FROM files GROUP BY 1 ORDER BY 2 DESC",
        help="SQL over the table `files` (one typed row per file; columns as in a Parquet "
        "export: path, size, mtime, mimetype, one struct per extractor, errors, ...).",
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run SQL (DuckDB) over a crawl's metadata."""
    with sdk_errors(as_json):
        con = client(as_json).to_duckdb(crawl_id)
    try:
        result = con.execute(sql)
    except Exception as exc:  # duckdb's own errors: the user's SQL
        fail(f"query failed: {str(exc).splitlines()[0]}", 2, as_json, "bad_query")
    names = [d[0] for d in result.description]
    rows = result.fetchall()
    if as_json:
        typer.echo(json.dumps([dict(zip(names, r, strict=True)) for r in rows], default=str))
        return
    typer.echo("\t".join(names))
    for r in rows:
        typer.echo("\t".join("" if v is None else str(v) for v in r))


@app.command("formats")
def formats_command(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the export formats (drivers) the service has, with their parameters."""
    with sdk_errors(as_json):
        xtr = client(as_json)
        found, destinations = xtr.list_formats(), xtr.list_destinations()
    lines = ["formats (--format, -p KEY=VALUE):"]
    for section in (found, destinations):
        for f in section:
            lines.append(f"  {f['name']:<14} {f['description']}")
            params = ", ".join(f"{p['name']}={p['default']!r}" for p in f["params"])
            if params:
                lines.append(f"  {'':<14} params: {params}")
        if section is found:
            lines.append("destinations (--to, --to-param KEY=VALUE):")
    show({"formats": found, "destinations": destinations}, as_json, "\n".join(lines))


@app.command("index")
def index_command(
    crawl_id: str,
    action: str = typer.Argument("status", help="status, or rebuild (from the documents)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show a crawl's metadata index (parts, rows, pending), or rebuild it."""
    if action not in ("status", "rebuild"):
        fail(f"unknown action {action!r}; use status or rebuild", 2, as_json, "bad_action")
    with sdk_errors(as_json):
        xtr = client(as_json)
        if action == "rebuild":
            xtr.rebuild_index(crawl_id)
        found = xtr.index_status(crawl_id)
    found.pop("current_rows_sql", None)
    state = "documents waiting to be indexed" if found["pending"] else "up to date"
    show(found, as_json, f"{found['rows']:,} rows in {len(found['parts'])} parts; {state}")


@app.command("ls")
def list_crawls(as_json: bool = typer.Option(False, "--json")) -> None:
    """List your crawls, newest first."""
    with sdk_errors(as_json):
        crawls = client(as_json).list_crawls()

    def extraction(c: dict[str, Any]) -> str:
        word = c.get("xtract_status")
        if not word:
            return "not extracted"
        total = c.get("families_crawled") or 0
        return f"{word} {c.get('families_extracted', 0):,}/{total:,} families"

    text = "\n".join(
        f"{c['crawl_id']}  {c['status']:<10} {c['files_crawled']:>10,} files  "
        f"{extraction(c):<32} {' '.join(c['dirs'])}"
        for c in crawls
    )
    show(crawls, as_json, text or "no crawls")


@app.command()
def flush(
    crawl_id: str,
    first_n_files: int = typer.Option(100, "--first-n-files", "-n"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Print file records not flushed before (each file is flushed once)."""
    with sdk_errors(as_json):
        out = client(as_json).flush_crawl_metadata(crawl_id, first_n_files=first_n_files)
    show(out, as_json, "\n".join(f"{f['size']:>12} {f['path']}" for f in out["file_ls"]))


@app.command()
def cancel(crawl_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Stop a crawl."""
    with sdk_errors(as_json):
        s = client(as_json).cancel_crawl(crawl_id)
    show(s, as_json, status_text(s))


@app.command()
def share(
    crawl_id: str,
    identity: list[str] = typer.Option([], help="A Globus identity id (repeatable)."),
    group: list[str] = typer.Option([], help="A Globus group id (repeatable)."),
    remove: bool = typer.Option(False, "--remove", help="Stop sharing with them."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Let Globus identities or groups read a crawl (status, metadata, events)."""
    with sdk_errors(as_json):
        got = client(as_json).share_crawl(crawl_id, identity, group, remove=remove)
    readers = [f"identity {i}" for i in got["identities"]] + [f"group {g}" for g in got["groups"]]
    show(got, as_json, "shared with: " + (", ".join(readers) or "nobody"))


@app.command()
def login(
    force: bool = typer.Option(
        False, "--force", help="Run the login flow even if tokens would do."
    ),
    scope: list[str] = typer.Option([], help="An extra Globus scope to ask for (repeatable)."),
) -> None:
    """Log in with Globus to a service that uses Globus Auth (prints a URL, reads the
    code); tokens are kept in ~/.xtract/storage.db (0600) and refreshed. With
    XTRACT_CLIENT_ID and XTRACT_CLIENT_SECRET set, a service account logs in instead."""
    with sdk_errors():
        xtr = XtractClient(auth_scopes=scope, force_login=force, login=True)
        me = xtr.whoami()
    typer.echo(f"logged in as {me.get('name') or me['owner']}")


@app.command()
def logout() -> None:
    """Revoke your Globus tokens and delete them from this machine."""
    from xtract_sdk.login import GlobusLogin

    with sdk_errors():
        stored = GlobusLogin.stored()
        if not stored.stored_tokens():
            typer.echo("not logged in")
            return
        stored.logout()
    typer.echo("logged out: tokens revoked and deleted")
