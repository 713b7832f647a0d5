"""No token rests in clear: a Globus crawl's Transfer token is stored encrypted while the
crawl runs and deleted when it ends; neither Redis, nor its append-only file, nor the
service's logs hold it at any point."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.emulators.transfer import TransferEmulator
from tests.support import Service, make_tree, roots_env
from xtract_sdk import XtractEndpoint
from xtract_service import keys

ENDPOINT = str(uuid.uuid4())
TOKEN = "transfer-token-" + uuid.uuid4().hex  # unique, so any copy of it is found


def everything_in(r: redis.Redis) -> bytes:
    """Every key and every value Redis holds, as bytes."""
    out = []
    for key in r.scan_iter(count=1000):
        out.append(key)
        kind = r.type(key)
        if kind == b"hash":
            for k, v in r.hgetall(key).items():
                out += [k, v]
        elif kind == b"string":
            out.append(r.get(key) or b"")
        elif kind == b"list":
            out += r.lrange(key, 0, -1)
        elif kind == b"set":
            out += list(r.smembers(key))
        elif kind == b"zset":
            out += r.zrange(key, 0, -1)
        elif kind == b"stream":
            entries: Any = r.xrange(key)
            for _, fields in entries:
                for k, v in fields.items():
                    out += [k, v]
    return b"\n".join(out)


def test_a_globus_token_is_never_in_clear_and_is_gone_when_the_crawl_ends(
    data_root: Path, tmp_path: Path
) -> None:
    root = data_root / "secret-endpoint"
    make_tree(root, 60, fanout=3, depth=2)
    log = tmp_path / "service.log"
    with TransferEmulator(root, ENDPOINT, TOKEN) as emu:
        emu.latency = 0.05  # slow enough to look while the crawl runs
        env = {
            **roots_env(data_root),
            "GLOBUS_SDK_SERVICE_URL_TRANSFER": emu.url,
            "XTRACT_GLOBUS_PAGE_SIZE": "5",
        }
        svc = Service(tmp_path / "home", env=env)
        with open(log, "wb") as out:
            svc.proc = subprocess.Popen(
                [*Service.command(), "-v"], env=svc.full_env(), stdout=out, stderr=out
            )
            svc.wait_healthy()
            try:
                r = redis.Redis.from_url(svc.redis_url)
                xtr = svc.client(tokens={"Transfer": TOKEN})
                (cid,) = xtr.crawl(XtractEndpoint("globus", globus_ep_id=ENDPOINT, dirs=["/"]))
                seen_secret = False
                while xtr.get_crawl_status(cid)["status"] not in ("complete", "failed"):
                    held = r.hgetall(keys.secrets(cid))
                    seen_secret = seen_secret or bool(held)
                    assert TOKEN.encode() not in everything_in(r)
                    time.sleep(0.05)
                assert seen_secret, "the crawl never needed its token"
                assert xtr.get_crawl_status(cid)["status"] == "complete"
                assert not r.exists(keys.secrets(cid))
                assert TOKEN.encode() not in everything_in(r)
                r.execute_command("BGREWRITEAOF")
                time.sleep(1)
            finally:
                svc.stop()
    aof = b"".join(p.read_bytes() for p in (svc.home / "redis").glob("appendonly*"))
    assert aof, "no append-only file to check"
    assert TOKEN.encode() not in aof
    assert TOKEN.encode() not in log.read_bytes()
    assert (svc.home / "secret.key").stat().st_mode & 0o777 == 0o600


def test_the_key_file_is_needed_to_read_a_secret(tmp_path: Path) -> None:
    from xtract_service.vault import Vault, VaultError

    sealed = Vault(tmp_path / "a.key").seal("secret-value")
    assert "secret-value" not in sealed
    with pytest.raises(VaultError):
        Vault(tmp_path / "b.key").open(sealed)
    assert Vault(tmp_path / "a.key").open(sealed) == "secret-value"
