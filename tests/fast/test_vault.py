"""The secret key file, made by whichever of several processes starting at once gets
there first: every process ends up with the same key, and none reads a key file
half made."""

from __future__ import annotations

import threading
from pathlib import Path

from cryptography.fernet import Fernet

from xtract_service.vault import Vault


def test_processes_starting_at_once_share_one_key(tmp_path: Path) -> None:
    key_file = tmp_path / "home" / "secret.key"
    vaults = [Vault(key_file) for _ in range(8)]
    start = threading.Barrier(len(vaults))

    def ensure(v: Vault) -> None:
        start.wait()
        v.ensure_key()

    threads = [threading.Thread(target=ensure, args=(v,)) for v in vaults]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sealed = vaults[0].seal("token")
    assert all(v.open(sealed) == "token" for v in vaults)
    assert (key_file.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in key_file.parent.iterdir()] == ["secret.key"]  # no leftovers


def test_a_key_file_being_written_is_waited_for(tmp_path: Path) -> None:
    """The moment an older service's process leaves behind: the key file made, its key
    not written yet."""
    key_file = tmp_path / "secret.key"
    key_file.touch(mode=0o600)
    key = Fernet.generate_key()
    writer = threading.Timer(0.3, key_file.write_bytes, args=(key,))
    writer.start()
    try:
        vault = Vault(key_file)
        vault.ensure_key()
    finally:
        writer.join()
    assert Fernet(key).decrypt(vault.seal("token").encode()) == b"token"  # the one written
