"""Test helpers: a real service process, generated file trees, flushing everything."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from xtract_sdk import XtractClient

EXTENSIONS = ["csv", "txt", "png", "json", "py", "h5", "nc", "", "c", "pdf"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    """``xtract serve`` in its own process, on a free port, with its own home."""

    home: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    terminal: Path | None = None  # where `xtract serve`'s own output goes (None: ours)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return (self.home / "token").read_text().strip()

    @property
    def redis_url(self) -> str:
        return self.env.get("XTRACT_REDIS_URL") or f"unix://{self.home / 'redis' / 'redis.sock'}"

    def full_env(self) -> dict[str, str]:
        # Parsl starts its worker pool from the virtual environment's bin
        path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
        return {
            **os.environ,
            "PATH": path,
            "XTRACT_HOME": str(self.home),
            "XTRACT_PORT": str(self.port),
            "XTRACT_CLAIM_IDLE_SECONDS": "2",
            **self.env,
        }

    @staticmethod
    def command() -> list[str]:
        return [sys.executable, "-m", "xtract_service.cli", "serve"]

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def worker(self, role: str = "crawl", *prefix: str, **env: str) -> subprocess.Popen[bytes]:
        """One more worker of ``role`` against this service's Redis, started as a user
        would on another host (``xtract worker --role``); ``prefix`` runs it under
        another command (setpriv, say)."""
        full = {**self.full_env(), "XTRACT_REDIS_URL": self.redis_url, **env}
        cmd = [*prefix, sys.executable, "-m", "xtract_service.cli", "worker", "--role", role]
        return subprocess.Popen(cmd, env=full, stdin=subprocess.DEVNULL)

    def start(self, timeout: float = 60) -> Service:
        out = open(self.terminal, "ab") if self.terminal else None  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                self.command(), env=self.full_env(), stdin=subprocess.DEVNULL,
                stdout=out, stderr=out,
            )  # fmt: skip
        finally:
            if out is not None:
                out.close()  # the child has its own copy
        return self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float = 60) -> Service:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"xtract serve exited with {self.proc.returncode}")
            if self.healthy():
                return self
            time.sleep(0.1)
        raise RuntimeError("xtract serve did not become healthy")

    def healthy(self) -> bool:
        """Whether the service answers /health, its Redis reachable."""
        try:
            answer = requests.get(self.url + "/health", timeout=2)
            return answer.status_code == 200 and answer.json().get("redis") == "ok"
        except (requests.RequestException, ValueError):
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def worker_pids(self, role: str = "crawl") -> list[str]:
        """The processes of ``role`` this service supervises (``api``: the API's)."""
        assert self.proc is not None
        pattern = "xtract_service.app " if role == "api" else f"xtract_service.processes {role} "
        found = subprocess.run(
            ["pgrep", "-P", str(self.proc.pid), "-f", pattern],
            capture_output=True,
            text=True,
            check=False,
        )
        return found.stdout.split()

    def client(self, **kw: Any) -> XtractClient:
        return XtractClient(base_url=self.url, token=kw.pop("token", self.token), **kw)


def make_tree(root: Path, n_files: int, fanout: int = 4, depth: int = 3) -> dict[str, int]:
    """A nested tree of ``n_files`` files spread over ``fanout**1 + ... + fanout**depth``
    folders (and the root), with mixed extensions; returns ``{path: size}``."""
    dirs = [root]
    frontier = [root]
    for _ in range(depth):
        nxt = []
        for d in frontier:
            for i in range(fanout):
                sub = d / f"d{i}"
                sub.mkdir(parents=True, exist_ok=True)
                nxt.append(sub)
        dirs += nxt
        frontier = nxt
    root.mkdir(parents=True, exist_ok=True)
    files = {}
    for i in range(n_files):
        ext = EXTENSIONS[i % len(EXTENSIONS)]
        name = f"f{i}.{ext}" if ext else f"f{i}"
        p = dirs[(i * 7) % len(dirs)] / name
        data = b"x" * (i % 97)
        p.write_bytes(data)
        files[str(p)] = len(data)
    return files


def flush_all(client: XtractClient, crawl_id: str, page: int = 500) -> list[dict[str, Any]]:
    """Every file record a finished crawl holds, flushing page by page."""
    out: list[dict[str, Any]] = []
    while True:
        r = client.flush_crawl_metadata(crawl_id, first_n_files=page)
        out += r["file_ls"]
        if r["queue_empty"]:
            return out
        assert r["num_files"] > 0, "flush returned nothing but says the queue is not empty"


def roots_env(*roots: Path) -> dict[str, str]:
    return {"XTRACT_ALLOWED_ROOTS": json.dumps([str(r) for r in roots])}


def all_documents(client: XtractClient, crawl_id: str, page: int = 100) -> list[dict[str, Any]]:
    """Every metadata document of a crawl, paging through ``/metadata``."""
    docs: list[dict[str, Any]] = []
    after = None
    while True:
        got = client.get_metadata(crawl_id, after=after, limit=page)
        docs += got["documents"]
        if got["count"] < page:
            return docs
        after = got["next"]


def by_path(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What extraction found per file: ``{path: {metadata, errors, unknown}}``."""
    out: dict[str, dict[str, Any]] = {}
    for doc in docs:
        for path, md in doc["metadata"].items():
            out.setdefault(path, {"metadata": {}, "errors": [], "unknown": False})
            out[path]["metadata"].update(md)
        for err in doc["errors"]:
            key = err["path"] or "*"
            out.setdefault(key, {"metadata": {}, "errors": [], "unknown": False})
            out[key]["errors"].append({k: err[k] for k in ("extractor", "error", "message")})
        for path in doc["unknown"]:
            out[path]["unknown"] = True
    return out


def issue(service: Service, owner: str, *roots: Path) -> str:
    """A token for another owner, issued by the service's own CLI (reaching ``roots``)."""
    args = [sys.executable, "-m", "xtract_service.cli", "token", "issue", owner]
    for r in roots:
        args += ["--root", str(r)]
    out = subprocess.run(args, env=service.full_env(), capture_output=True, text=True, check=True)
    return out.stdout.strip()


def read_events(service: Service, crawl_id: str, until: str) -> list[dict[str, Any]]:
    """The crawl's events from its SSE stream (``{type, at, crawl_id, data}``), from the
    first, up to and with the first of type ``until``."""
    out: list[dict[str, Any]] = []
    with requests.get(
        f"{service.url}/v1/crawls/{crawl_id}/events",
        headers={"Authorization": f"Bearer {service.token}"},
        stream=True,
        timeout=30,
    ) as resp:
        for line in resp.iter_lines():
            if line.startswith(b"data:"):
                out.append(json.loads(line[5:]))
                if out[-1]["type"] == until:
                    return out
    raise AssertionError(f"the event stream ended before {until}")


def make_plugin(root: Path, name: str, body: str, group: str = "xtract.extractors") -> Path:
    """A throw-away package ``name`` (its module's source ``body``) that names its
    module under the entry-point ``group``; returns its folder."""
    pkg = root / name
    (pkg / name).mkdir(parents=True)
    (pkg / name / "__init__.py").write_text(textwrap.dedent(body))
    (pkg / "pyproject.toml").write_text(
        textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "{name}"
        version = "0.1"
        [project.entry-points."{group}"]
        {name} = "{name}"
    """)
    )
    return pkg


def install_into(target: Path, *packages: Path) -> Path:
    """Install the packages into the folder ``target`` (offline: no dependencies, no
    build isolation), for a PYTHONPATH; returns ``target``."""
    for pkg in packages:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
             "--no-build-isolation", "--target", str(target), str(pkg)],
            check=True, capture_output=True,
        )  # fmt: skip
    return target
