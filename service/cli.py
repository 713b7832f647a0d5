"""The ``xtract`` command line: run the service and its workers, and drive crawls.

Exit codes: 0 success, 1 the run failed (or the service refused), 2 usage error.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import typer

from xtract_sdk import XtractClient, XtractEndpoint, XtractError
from xtract_sdk.progress import human_bytes

app = typer.Typer(
    help="Xtract: crawl research data where it lives and read its metadata.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
token_app = typer.Typer(help="Show, rotate or issue service tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"xtract: {message}", err=True)
    raise typer.Exit(code)


def _print(data: Any, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(data, indent=2) if as_json else text)


@contextlib.contextmanager
def _sdk_errors() -> Iterator[None]:
    try:
        yield
    except XtractError as exc:
        _fail(exc.message)


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@contextlib.contextmanager
def _service_lock(home: Path) -> Iterator[None]:
    """One service per ``XTRACT_HOME``: a second would fight over the embedded Redis."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(home / "service.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _fail(
                f"another xtract service is already using {home}; set XTRACT_HOME to run a second"
            )
        yield


@app.command()
def serve(
    host: str = typer.Option(None, help="Address to bind (default 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default 8765)."),
    workers: int = typer.Option(None, help="Crawl worker processes to supervise."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Run the API service, its Redis (unless XTRACT_REDIS_URL is set) and crawl workers."""
    import uvicorn

    from xtract_service.app import create_app
    from xtract_service.settings import Settings

    _logging(verbose)
    overrides = {
        k: v
        for k, v in {"host": host, "port": port, "crawl_workers": workers}.items()
        if v is not None
    }
    settings = Settings(**overrides)
    with _service_lock(settings.home):
        typer.echo(
            f"xtract: serving on http://{settings.host}:{settings.port} (docs at /docs)", err=True
        )
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            timeout_graceful_shutdown=5,  # open event streams never end on their own
        )


@app.command()
def worker(
    role: str = typer.Option("crawl", help="crawl, orchestrator (extraction) or offload."),
    parent_pid: int = typer.Option(None, hidden=True),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Run one crawl worker or orchestrator against XTRACT_REDIS_URL (more hosts, cores)."""
    from xtract_service.processes import ROLES, run_worker

    if role not in ROLES:
        _fail(f"unknown role {role!r}; use one of {', '.join(ROLES)}", 2)
    from xtract_service.settings import Settings

    _logging(verbose)
    settings = Settings()
    if not settings.redis_url:
        sock = settings.redis_dir / "redis.sock"
        if not sock.exists():
            _fail("set XTRACT_REDIS_URL to the service's Redis (no local service found)", 2)
        settings.redis_url = f"unix://{sock}"
    run_worker(settings, parent_pid=parent_pid, role=role)


def _endpoint(path: str, grouper: str, skip: list[str]) -> XtractEndpoint:
    if path.startswith("globus://"):
        rest = path[len("globus://") :]
        ep, _, p = rest.partition("/")
        return XtractEndpoint("globus", globus_ep_id=ep, dirs=["/" + p], grouper=grouper, skip=skip)
    return XtractEndpoint("local", dirs=[os.path.abspath(path)], grouper=grouper, skip=skip)


@app.command()
def crawl(
    path: str = typer.Argument(..., help="A local folder, or globus://ENDPOINT_ID/path."),
    grouper: str = typer.Option("file_is_group", help="file_is_group, directory or extension."),
    skip: list[str] = typer.Option([], help="Glob of names to skip (repeatable)."),
    wait: bool = typer.Option(False, help="Wait for the crawl to finish, showing progress."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Start a crawl; prints its id (or its final status with --wait)."""
    xtr = XtractClient()
    with _sdk_errors():
        if wait:
            status = next(
                iter(
                    xtr.crawl_and_wait(
                        _endpoint(path, grouper, skip), progress=not as_json
                    ).values()
                )
            )
            _print(status, as_json, _status_text(status))
            if status["status"] != "complete":
                raise typer.Exit(1)
        else:
            cid = xtr.crawl(_endpoint(path, grouper, skip))[0]
            _print({"crawl_id": cid}, as_json, cid)


def _status_text(s: dict[str, Any]) -> str:
    d = s["data"]
    lines = [
        f"crawl {s['crawl_id']}: {s['status']} ({s['message']})",
        f"  {d['files_crawled']:,} files, {human_bytes(d['bytes_crawled'])}, "
        f"{d['groups_crawled']:,} groups in {d['families_crawled']:,} families, "
        f"{d['dirs_crawled']:,} dirs, {d['errors']:,} errors, {d['elapsed_seconds']}s",
    ]
    lines += [f"  ! {e['path']}: {e['error']}" for e in d["error_samples"][:5]]
    return "\n".join(lines)


@app.command()
def status(
    crawl_id: str = typer.Argument(None, help="A crawl id (none: list your crawls)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show a crawl's status and counters, and its extraction's if there is one."""
    if crawl_id is None:
        list_crawls(as_json)
        return
    xtr = XtractClient()
    with _sdk_errors():
        s = xtr.get_crawl_status(crawl_id)
        try:
            x = xtr.get_xtract_status(crawl_id)
        except XtractError:
            x = None
    text = _status_text(s) + ("\n" + _xtract_text(x) if x else "")
    _print({**s, "xtract": x}, as_json, text)


def _xtract_text(x: dict[str, Any]) -> str:
    c = x["xtract_counters"]
    return (
        f"extraction: {x['xtract_status']} ({x['message']}) on {x['executor']}: "
        f"{c['fx']['success']:,} families extracted, {c['fx']['failed']:,} failed, "
        f"{c['fx']['pending']:,} pending, {c['flagged_unknown']:,} files unknown; "
        f"documents in {x['local_mdata_path']}"
    )


@app.command("xtract")
def xtract_command(
    crawl_id: str,
    executor: str = typer.Option("local", help="local, parsl or globus-compute."),
    extractor: list[str] = typer.Option(None, "--extractor", "-e", help="Only these."),
    wait: bool = typer.Option(False, help="Wait, showing progress."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Extract a crawl's families (it may still be crawling)."""
    xtr = XtractClient()
    options: dict[str, Any] = {"executor": executor}
    if extractor:
        options["extractors"] = list(extractor)
    with _sdk_errors():
        if wait:
            (x,) = xtr.xtract_and_wait([crawl_id], progress=not as_json, **options)
        else:
            xtr.xtract([crawl_id], **options)
            x = xtr.get_xtract_status(crawl_id)
    _print(x, as_json, _xtract_text(x))
    if x["xtract_status"] == "FAILED":
        raise typer.Exit(1)


@app.command()
def retry(
    crawl_id: str,
    errors: bool = typer.Option(False, "--errors", help="Also families an extractor failed on."),
    wait: bool = typer.Option(True, help="Wait for the re-run."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Extract again only the families that failed."""
    xtr = XtractClient()
    with _sdk_errors():
        r = xtr.retry(crawl_id, errors=errors)
        x = xtr._wait_xtract([crawl_id], None, not as_json) if wait and r["retried"] else None
    text = f"{r['retried']:,} families sent again" + ("\n" + _xtract_text(x[0]) if x else "")
    _print({**r, "xtract": x[0] if x else None}, as_json, text)
    if x and x[0]["xtract_status"] == "FAILED":
        raise typer.Exit(1)


@app.command()
def clear(
    crawl_id: str,
    extractor: str = typer.Option(None, help="Forget only this extractor's results."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Forget extraction results so they run again (all, or one extractor's)."""
    with _sdk_errors():
        r = XtractClient().clear(crawl_id, extractor)
    hint = "run `xtract retry` to extract them again" if extractor else "run `xtract xtract` again"
    _print(r, as_json, f"{r['cleared']:,} families cleared; {hint}")


@app.command()
def offload(
    crawl_id: str,
    dest_path: str = typer.Option("", help="Folder for the new YYYY-MM-DD-hh:mm:ss folder."),
    dest_ep: str = typer.Option(None, help="A Globus endpoint id (default: this machine)."),
    fmt: str = typer.Option(
        "family_json", "--format", help="family_json, jsonl, parquet, globus_search."
    ),
    gzip: bool = typer.Option(False, help="Compress jsonl parts."),
    timeout: int = typer.Option(600, help="Seconds a Globus transfer may take."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Export the crawl's metadata; prints the new folder."""
    params = {"gzip": True} if gzip and fmt == "jsonl" else {}
    with _sdk_errors():
        path = XtractClient().offload_metadata(
            dest_ep, dest_path, timeout, crawl_ids=[crawl_id], format=fmt, format_params=params
        )
    _print({"crawl_id": crawl_id, "path": path}, as_json, path)


@app.command()
def watch(
    crawl_id: str,
    until: str = typer.Option(None, help="Stop after this event (e.g. xtract.completed)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Print a crawl's events as they happen (Ctrl-C to stop)."""
    from xtract_sdk import Callback, EventType

    xtr = XtractClient()
    mon = xtr.monitor(crawl_id, [Callback(EventType.ANY, lambda e: None)])
    events = mon.queue()
    with _sdk_errors(), mon:
        while True:
            try:
                event = events.get(timeout=1.0)
            except Exception:
                if not mon.running:
                    _fail(str(mon.error or "the event stream ended"))
                continue
            if as_json:
                typer.echo(
                    json.dumps(
                        {"id": event.id, "type": event.type, "at": event.at, "data": event.data},
                        default=str,
                    )
                )
            else:
                brief = {k: v for k, v in event.data.items() if k != "document"}
                typer.echo(f"{event.id}  {event.type:<18} {json.dumps(brief, default=str)}")
            if until and event.type == until:
                return


@app.command("ls")
def list_crawls(as_json: bool = typer.Option(False, "--json")) -> None:
    """List your crawls, newest first."""
    with _sdk_errors():
        crawls = XtractClient().list_crawls()
    text = "\n".join(
        f"{c['crawl_id']}  {c['status']:<10} {c['files_crawled']:>10,} files  {' '.join(c['dirs'])}"
        for c in crawls
    )
    _print(crawls, as_json, text or "no crawls")


@app.command()
def flush(
    crawl_id: str,
    first_n_files: int = typer.Option(100, "--first-n-files", "-n"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Print file records not flushed before (each file is flushed once)."""
    with _sdk_errors():
        out = XtractClient().flush_crawl_metadata(crawl_id, first_n_files=first_n_files)
    _print(out, as_json, "\n".join(f"{f['size']:>12} {f['path']}" for f in out["file_ls"]))


@app.command()
def cancel(crawl_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Stop a crawl."""
    with _sdk_errors():
        s = XtractClient().cancel_crawl(crawl_id)
    _print(s, as_json, _status_text(s))


@app.command("extract-file")
def extract_file_command(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, resolve_path=True),
    extractor: list[str] = typer.Option(
        None, "--extractor", "-e", help="Run only these extractors (repeatable)."
    ),
    time_limit: float = typer.Option(60.0, help="Seconds each extractor may take."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show what every applicable extractor finds in one file, before a big run."""
    from xtract_extractors import IsolatedRunner, UnknownExtractor, extract_file, get

    only = list(extractor) if extractor else None
    try:
        for name in only or []:
            get(name)
    except UnknownExtractor as exc:
        _fail(str(exc), 2)
    with IsolatedRunner(time_limit=time_limit) as runner:
        doc = extract_file(str(path), runner, only=only, add=only or ())
    if as_json:
        typer.echo(json.dumps(doc, indent=2, default=str))
    else:
        typer.echo(_extraction_text(doc))
    if doc["errors"] and not doc["metadata"].keys() - {"filetype"}:
        raise typer.Exit(1)


def _extraction_text(doc: dict[str, Any]) -> str:
    lines = [f"{doc['path']}: {doc['mimetype'] or 'type unknown'}"]
    if doc["unknown"]:
        lines.append("  no extractor understands this file (flagged unknown)")
    for name, md in doc["metadata"].items():
        lines.append(f"  [{name}]")
        for key, value in md.items():
            text = json.dumps(value, default=str)
            lines.append(f"    {key}: {text if len(text) <= 100 else text[:97] + '...'}")
    lines += [f"  ! {e['extractor']}: {e['error']}: {e['message']}" for e in doc["errors"]]
    return "\n".join(lines)


@app.command("extractors")
def list_extractors(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the extractors this installation has, with their parameters."""
    from xtract_extractors import PLUGIN_ERRORS, all_extractors

    found = [e.describe() for e in all_extractors()]
    if as_json:
        typer.echo(json.dumps({"extractors": found, "plugin_errors": PLUGIN_ERRORS}, indent=2))
        return
    for e in found:
        params = ", ".join(f"{p['name']}={p['default']!r}" for p in e["params"])
        typer.echo(f"{e['name']:<10} {e['version']:<5} {e['description']}")
        if params:
            typer.echo(f"{'':<16} params: {params}")
    for name, why in PLUGIN_ERRORS.items():
        typer.echo(f"xtract: plug-in {name!r} was skipped: {why}", err=True)


@token_app.command("show")
def token_show() -> None:
    """Print the local token (created by the service on first start)."""
    from xtract_service.settings import Settings

    f = Settings().token_file
    if not f.exists():
        _fail(f"no token at {f}: start the service once with `xtract serve`")
    typer.echo(f.read_text().strip())


@token_app.command("rotate")
def token_rotate() -> None:
    """Replace the local token; the old one stops working at once."""
    from xtract_service.auth import ensure_token_file
    from xtract_service.settings import Settings

    f = Settings().token_file
    f.unlink(missing_ok=True)
    typer.echo(ensure_token_file(f))


@token_app.command("issue")
def token_issue(owner: str) -> None:
    """Issue a token for another owner (stored as a hash in the service's Redis)."""
    from xtract_service.auth import LocalTokens
    from xtract_service.settings import Settings
    from xtract_service.state import connect

    settings = Settings()
    url = settings.redis_url or f"unix://{settings.redis_dir / 'redis.sock'}"
    try:
        typer.echo(LocalTokens(settings.token_file, connect(url)).issue(owner))
    except ValueError as exc:
        _fail(str(exc), 2)
    except Exception as exc:
        _fail(f"cannot reach the service's Redis at {url}: {exc}")


def _free_port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])


def _summary(xtr: XtractClient, cid: str) -> str:
    kinds: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    while True:
        out = xtr.flush_crawl_metadata(cid, first_n_files=10_000)
        for f in out["file_ls"]:
            ext = f["extension"] or "(none)"
            kinds[ext] += 1
            sizes[ext] += f["size"]
        if out["queue_empty"] or not out["num_files"]:
            break
    rows = [
        f"  {ext:<12} {n:>9,} files {human_bytes(sizes[ext]):>10}"
        for ext, n in kinds.most_common(15)
    ]
    return "\n".join(["by extension:", *rows]) if rows else "no files"


@app.command()
def run(
    directory: Path = typer.Argument(..., exists=True, file_okay=False, resolve_path=True),
    grouper: str = typer.Option("file_is_group"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Start a private service, crawl DIRECTORY, print what it found, and stop."""
    import uvicorn

    from xtract_service.app import create_app
    from xtract_service.settings import Settings

    settings = Settings()
    settings.port = _free_port(settings.port)
    base = f"http://127.0.0.1:{settings.port}"
    with _service_lock(settings.home):
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings), host="127.0.0.1", port=settings.port, log_level="warning"
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 60
            while not server.started:
                if time.monotonic() > deadline or not thread.is_alive():
                    _fail("the service did not start; run `xtract serve -v` to see why")
                time.sleep(0.05)
            xtr = XtractClient(base_url=base)
            with _sdk_errors():
                s = next(
                    iter(
                        xtr.crawl_and_wait(
                            _endpoint(str(directory), grouper, []), progress=not as_json
                        ).values()
                    )
                )
                summary = _summary(xtr, s["crawl_id"])
            _print(s, as_json, _status_text(s) + "\n" + summary)
        finally:
            server.should_exit = True
            thread.join(30)
    if s["status"] != "complete":
        raise typer.Exit(1)


def main() -> None:
    """Console entry point; click's usage errors exit 2."""
    app()


if __name__ == "__main__":
    sys.exit(main())
