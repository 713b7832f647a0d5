"""Service commands: ``serve`` (the API, its Redis and workers), ``worker`` (one more
worker anywhere that reaches the Redis), ``run`` (a private service for one crawl), and
``token`` (show, rotate, issue)."""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from xtract_sdk import CrawlStatus, XtractClient
from xtract_service.cli.app import app, fail, sdk_errors, setup_logging, show, token_app
from xtract_service.cli.client_commands import endpoint_of
from xtract_service.cli.render import extraction_summary, status_text, summary, xtract_text


@contextlib.contextmanager
def service_lock(home: Path) -> Iterator[None]:
    """One service per ``XTRACT_HOME``: a second would fight over the embedded Redis."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(home / "service.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fail(f"another xtract service is already using {home}; set XTRACT_HOME to run a second")
        yield


@app.command()
def serve(
    host: str = typer.Option(None, help="Address to bind (default 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default 8765)."),
    workers: int = typer.Option(None, help="Crawl worker processes to supervise."),
    api_workers: int = typer.Option(
        None,
        "--api-workers",
        min=1,
        max=64,
        help="API processes serving the one socket (default: one per core, at most 4; "
        "XTRACT_API_WORKERS).",
    ),
    insecure_http: bool = typer.Option(
        False, "--insecure-http", help="Serve plain HTTP on a non-loopback address anyway."
    ),
    verbose: bool = typer.Option(
        False,
        "--verbose",
        "-v",
        help="Show every process's log here, libraries' included (else only Xtract's "
        "warnings, one line each; everything is in ~/.xtract/logs/ROLE.log).",
    ),
) -> None:
    """Run the API service, its Redis (unless XTRACT_REDIS_URL is set) and crawl workers.

    On an address other than loopback the service needs TLS (XTRACT_TLS_CERT and
    XTRACT_TLS_KEY), or ``--insecure-http`` to say plain HTTP is meant: tokens would
    otherwise cross the network in clear."""
    from xtract_service.processes import API, Supervisor, listen, service_roles
    from xtract_service.redis_server import EmbeddedRedis
    from xtract_service.settings import Settings

    setup_logging(verbose)
    if verbose:  # the roles it starts show their logs here too (xtract_service.logs)
        os.environ["XTRACT_VERBOSE"] = "1"
    overrides: dict[str, Any] = {
        k: v
        for k, v in {
            "host": host,
            "port": port,
            "crawl_workers": workers,
            "api_workers": api_workers,
        }.items()
        if v is not None
    }
    settings = Settings(**overrides)
    problem = settings.auth_problem()
    if problem:
        fail(f"cannot start: {problem}", 2)
    tls = settings.tls_cert is not None and settings.tls_key is not None
    if not tls and not insecure_http and not is_loopback(settings.host):
        fail(
            f"{settings.host} is not a loopback address: set XTRACT_TLS_CERT and "
            "XTRACT_TLS_KEY, or pass --insecure-http to serve plain HTTP there",
            2,
        )
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    with service_lock(settings.home):
        try:
            sock = listen(settings.host, settings.port)
        except OSError as e:
            fail(f"cannot listen on {settings.host}:{settings.port}: {e.strerror}", 1)
        embedded = None if settings.redis_url else EmbeddedRedis(settings.redis_dir).start()
        url = settings.redis_url or embedded.url  # type: ignore[union-attr]
        apis = [API] * settings.api_processes()
        supervisor = Supervisor([*apis, *service_roles(settings)], url, embedded, sock)
        try:
            supervisor.start()
            scheme = "https" if tls else "http"
            typer.echo(
                f"xtract: serving on {scheme}://{settings.host}:{settings.port} (docs at /docs)",
                err=True,
            )
            while not stopping.wait(1.0):
                pass
        finally:
            supervisor.stop()
            sock.close()
            if embedded is not None:
                embedded.stop()


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is only reachable from here."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@app.command()
def worker(
    role: str = typer.Option(
        "crawl", help="crawl, orchestrator (extraction), offload, webhooks or retention."
    ),
    parent_pid: int = typer.Option(None, hidden=True),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Run one worker of a role against XTRACT_REDIS_URL (more hosts, cores)."""
    from xtract_service.processes import ROLES, run_worker

    if role not in ROLES:
        fail(f"unknown role {role!r}; use one of {', '.join(ROLES)}", 2)
    from xtract_service.settings import Settings

    setup_logging(verbose)
    settings = Settings()
    if not settings.redis_url:
        if not settings.redis_socket.exists():
            fail("set XTRACT_REDIS_URL to the service's Redis (no local service found)", 2)
        settings.redis_url = settings.local_redis_url
    run_worker(settings, parent_pid=parent_pid, role=role)


@token_app.command("show")
def token_show() -> None:
    """Print the local token (created by the service on first start)."""
    from xtract_service.settings import Settings

    f = Settings().token_file
    if not f.exists():
        fail(f"no token at {f}: start the service once with `xtract serve`")
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
def token_issue(
    owner: str,
    root: list[str] = typer.Option(
        [], "--root", help="A folder this owner may reach (repeatable; default: their home)."
    ),
) -> None:
    """Issue a token for another owner (stored as a hash in the service's Redis)."""
    from xtract_service.auth import LocalTokens
    from xtract_service.redis_client import connect
    from xtract_service.settings import Settings

    settings = Settings()
    url = settings.local_redis_url
    try:
        typer.echo(LocalTokens(settings.token_file, connect(url)).issue(owner, list(root)))
    except ValueError as exc:
        fail(str(exc), 2)
    except Exception as exc:
        fail(f"cannot reach the service's Redis at {url}: {exc}")


def free_port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])


@app.command()
def run(
    directory: Path = typer.Argument(..., exists=True, file_okay=False, resolve_path=True),
    grouper: str = typer.Option("file_is_group"),
    extract: bool = typer.Option(False, "--extract", help="Also read the files' metadata."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Start a private service, crawl DIRECTORY, print what it found (with --extract,
    also read its files' metadata), and stop."""
    import uvicorn

    from xtract_service.app import create_app
    from xtract_service.settings import Settings

    settings = Settings()
    settings.port = free_port(settings.port)
    base = f"http://127.0.0.1:{settings.port}"
    with service_lock(settings.home):
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
                    fail("the service did not start; run `xtract serve -v` to see why")
                time.sleep(0.05)
            xtr = XtractClient(base_url=base)
            with sdk_errors():
                s = next(
                    iter(
                        xtr.crawl_and_wait(
                            endpoint_of(str(directory), grouper, []), progress=not as_json
                        ).values()
                    )
                )
                by_extension = summary(xtr, s["crawl_id"])
                x = None
                if extract and s["status"] == CrawlStatus.COMPLETE:
                    (x,) = xtr.xtract_and_wait(s["crawl_id"], progress=not as_json)
                    read = extraction_summary(xtr, s["crawl_id"])
            text = status_text(s) + "\n" + by_extension
            if x is not None:
                text += "\n" + xtract_text(x) + "\n" + read
            show({**s, "xtract": x} if extract else s, as_json, text)
        finally:
            server.should_exit = True
            thread.join(30)
    if s["status"] != CrawlStatus.COMPLETE or (x is not None and x["xtract_status"] == "FAILED"):
        raise typer.Exit(1)
