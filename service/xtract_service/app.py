"""The FastAPI application and its lifetime: Redis (embedded unless configured),
the local token, and the supervised crawl workers."""

from __future__ import annotations

import argparse
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from redis import Redis

from xtract_service import __version__
from xtract_service.api import errors, openapi
from xtract_service.api.compat import FoldSlashes
from xtract_service.api.limits import BodyLimit
from xtract_service.api.routes import (
    crawls,
    endpoints,
    events,
    extraction,
    health,
    index,
    legacy,
    me,
    offload,
    ui,
)
from xtract_service.api.status_bytes import StatusBytes
from xtract_service.auth import Authenticator, LocalTokens
from xtract_service.crawl.store import CrawlStore
from xtract_service.event_hub import EventHub
from xtract_service.extraction.runs import ExtractionRuns
from xtract_service.offload.store import OffloadStore
from xtract_service.processes import Supervisor, exit_with, service_roles
from xtract_service.redis_client import connect, connect_async
from xtract_service.redis_server import EmbeddedRedis
from xtract_service.settings import Settings, get_settings

log = logging.getLogger(__name__)


def make_authenticator(settings: Settings, r: Redis) -> Authenticator:
    """The local token file and issued tokens, or (``XTRACT_AUTH=globus``) Globus Auth.
    The local token file is written either way: the CLI on this host uses it."""
    local = LocalTokens(settings.token_file, r)
    if settings.auth != "globus":
        return local
    from xtract_service.auth.globus import GlobusAuth

    return GlobusAuth(settings, local)


def create_app(settings: Settings | None = None, *, supervise: bool = True) -> FastAPI:
    """The service. Starting it writes the local token on first start and, with
    ``supervise`` (a service in one process: ``xtract run``, embedders), starts Redis
    (if no ``XTRACT_REDIS_URL``) and the worker processes. ``xtract serve`` runs it in
    an API process of its supervisor instead (``supervise=False``: Redis and workers
    are the supervisor's)."""
    settings = settings or get_settings()
    problem = settings.auth_problem()
    if problem:
        raise ValueError(problem)
    if not supervise and not settings.redis_url:
        raise ValueError("an API process without a supervisor needs XTRACT_REDIS_URL")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        embedded = None
        url = settings.redis_url
        if not url:  # supervise is set (checked above)
            embedded = EmbeddedRedis(settings.redis_dir).start()
            url = embedded.url
        supervisor: Supervisor | None = None
        r = connect(url)
        try:
            app.state.settings = settings
            app.state.redis = r
            vault = settings.vault()
            vault.ensure_key()
            app.state.crawls = CrawlStore(
                r,
                dirs_per_entry=settings.dirs_per_entry,
                error_cap=settings.error_samples,
                vault=vault,
            )
            app.state.auth = make_authenticator(settings, r)
            app.state.runs = ExtractionRuns(r, vault)
            app.state.offloads = OffloadStore(r, vault)
            app.state.events = EventHub(connect_async(url))
            app.state.statuses = StatusBytes(app.state.events.ar)
            if supervise:
                supervisor = Supervisor(service_roles(settings), url, embedded)
                supervisor.start()
            log.info("xtract service ready; redis at %s", url)
            yield
        finally:  # also when start-up fails half-way: leave nothing running
            if supervisor is not None:
                supervisor.stop()
            hub = getattr(app.state, "events", None)
            if hub is not None:
                await hub.close()
                await hub.ar.aclose()
            r.close()
            if embedded is not None:
                embedded.stop()

    # the API docs (/docs, /redoc) from files in the package, not from a CDN
    app = FastAPIOffline(
        title="Xtract",
        version=__version__,
        description="Crawl research data where it lives, group it into families, "
        "and read its metadata.",
        lifespan=lifespan,
    )
    errors.install(app)
    openapi.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(FoldSlashes)
    app.include_router(health.router)
    app.include_router(me.router)
    app.include_router(crawls.router)
    app.include_router(extraction.router)
    app.include_router(index.router)
    app.include_router(endpoints.router)
    app.include_router(offload.router)
    app.include_router(events.router)
    app.include_router(legacy.router)
    app.include_router(ui.router)
    app.include_router(ui.words)
    return app


def _die_with_parent() -> None:
    """Be killed the moment the supervisor dies (Linux ``PR_SET_PDEATHSIG``)."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the parent watch still stops it
        pass


def run_api(settings: Settings, parent_pid: int | None, fd: int) -> None:
    """Serve the API on the listening socket ``fd`` (held by the supervisor, see
    :mod:`xtract_service.processes`) until SIGTERM/SIGINT or until the supervisor is
    gone."""
    import uvicorn

    tls = settings.tls_cert is not None and settings.tls_key is not None
    config = uvicorn.Config(
        create_app(settings, supervise=False),
        log_level="warning",
        timeout_graceful_shutdown=5,  # open event streams never end on their own
        ssl_certfile=str(settings.tls_cert) if tls else None,
        ssl_keyfile=str(settings.tls_key) if tls else None,
    )
    server = uvicorn.Server(config)

    def stop() -> None:
        server.should_exit = True

    _die_with_parent()  # the socket must not outlive the supervisor (a new one binds it)
    exit_with(parent_pid, stop)
    server.run(sockets=[socket.socket(fileno=fd)])


def main(argv: list[str] | None = None) -> None:
    """``python -m xtract_service.app --fd N --parent-pid PID``: how the supervisor
    starts the API process."""
    parser = argparse.ArgumentParser(prog="python -m xtract_service.app")
    parser.add_argument("--fd", type=int, required=True, help="the listening socket")
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args(argv)
    from xtract_service.logs import configure

    settings = Settings()
    configure(settings.home, "api")
    run_api(settings, args.parent_pid, args.fd)


if __name__ == "__main__":
    main()
