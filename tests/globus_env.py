"""A service in Globus mode for tests: the Auth emulator, the Transfer emulator that
trusts its tokens, ``xtract serve`` with ``XTRACT_AUTH=globus``, and logins through the
real SDK (a "browser" that follows the authorize URL stands in for the person)."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from globus_sdk.login_flows import CommandLineLoginFlowManager

from tests.emulators.auth import AuthEmulator
from tests.emulators.compute import ComputeEmulator
from tests.emulators.groups import GroupsEmulator
from tests.emulators.transfer import TransferEmulator
from tests.support import Service, roots_env
from xtract_sdk import XtractClient

SERVICE_CLIENT = str(uuid.uuid4())
SERVICE_SECRET = "service-secret-" + uuid.uuid4().hex
NATIVE_CLIENT = str(uuid.uuid4())
ROBOT_CLIENT = str(uuid.uuid4())  # a service account's confidential client (CI, cron)
ROBOT_SECRET = "robot-secret-" + uuid.uuid4().hex
XTRACT_SCOPE = f"https://auth.globus.org/scopes/{SERVICE_CLIENT}/all"
ENDPOINT = str(uuid.uuid4())
LOCAL_COLLECTION = str(uuid.uuid4())  # this host's own collection (staging by Transfer)
FS_ENDPOINT = str(uuid.uuid4())  # a collection whose "/" is this machine's "/"
FUNCX_ENDPOINT = str(uuid.uuid4())  # a Compute endpoint beside FS_ENDPOINT


class BrowserLogin(CommandLineLoginFlowManager):
    """globus-sdk's command-line flow, with the person replaced by a browser that is
    logged in to the Auth emulator: it opens the printed URL and reads the code off
    the page it is sent to."""

    def print_authorize_url(self, authorize_url: str) -> None:
        self.url = authorize_url

    def prompt_for_code(self) -> str:
        page = requests.get(self.url, timeout=10)  # follows the redirect to auth-code
        page.raise_for_status()
        return str(page.json()["code"])


def code_for(authorize_url: str) -> str:
    """What a person reads off the page after logging in at ``authorize_url``."""
    page = requests.get(authorize_url, timeout=10)
    page.raise_for_status()
    return str(page.json()["code"])


@dataclass
class GlobusWorld:
    auth: AuthEmulator
    transfer: TransferEmulator
    service: Service
    root: Path  # the Globus endpoint's files
    tmp: Path
    collection_root: Path  # where this host's collection keeps what is transferred in
    compute: ComputeEmulator
    groups: GroupsEmulator

    @property
    def log(self) -> bytes:
        """What the service (``-v``) and its workers wrote."""
        return (self.tmp / "service.log").read_bytes()

    def login(self, user: str, **kw: Any) -> XtractClient:
        """``user`` logs in through the SDK (the login flow, then stored tokens)."""
        self.auth.browser_user = user
        return XtractClient(
            base_url=self.service.url,
            token_file=self.tmp / f"{user}-tokens.db",
            login_flow_manager=BrowserLogin(_native_client(), request_refresh_tokens=True),
            **kw,
        )

    def token(self, user: str, *scopes: str, client: str = NATIVE_CLIENT) -> str:
        """An access token for ``user``, minted directly (for tokens of every kind)."""
        minted = self.auth.mint(user, list(scopes or [XTRACT_SCOPE]), client)
        return next(iter(minted.values()))


def _native_client() -> Any:
    import globus_sdk

    return globus_sdk.NativeAppAuthClient(client_id=NATIVE_CLIENT)


@contextmanager
def globus_world(data_root: Path, tmp: Path, **env: str) -> Iterator[GlobusWorld]:
    """Everything up, the SDK in this process pointed at the emulators."""
    root = data_root / f"globus-{uuid.uuid4().hex[:8]}"
    root.mkdir()
    collection_root = tmp / "collection"
    collection_root.mkdir()
    secret_file = tmp / "client-secret"
    secret_file.write_text(SERVICE_SECRET + "\n")
    saved = {k: os.environ.get(k) for k in ("GLOBUS_SDK_SERVICE_URL_AUTH", "XTRACT_SDK_CLIENT_ID")}
    clients = {SERVICE_CLIENT: SERVICE_SECRET, NATIVE_CLIENT: None, ROBOT_CLIENT: ROBOT_SECRET}
    with AuthEmulator(clients) as auth:
        ok = auth.accepts("transfer.api.globus.org")
        with TransferEmulator(root, ENDPOINT, "-", token_ok=ok) as transfer:
            transfer.roots[LOCAL_COLLECTION] = collection_root
            transfer.roots[FS_ENDPOINT] = Path("/")
            transfer.https_token_ok = auth.accepts_https()
            compute = ComputeEmulator(FUNCX_ENDPOINT, "-", token_ok=auth.accepts("funcx_service"))
            compute.__enter__()
            groups = GroupsEmulator(auth).__enter__()
            os.environ["GLOBUS_SDK_SERVICE_URL_AUTH"] = auth.url
            os.environ["XTRACT_SDK_CLIENT_ID"] = NATIVE_CLIENT
            full_env = {
                **roots_env(data_root),
                "XTRACT_AUTH": "globus",
                "XTRACT_GLOBUS_CLIENT_ID": SERVICE_CLIENT,
                "XTRACT_GLOBUS_CLIENT_SECRET_FILE": str(secret_file),
                "XTRACT_GLOBUS_NATIVE_CLIENT_ID": NATIVE_CLIENT,
                "XTRACT_GLOBUS_INTROSPECT_CACHE_SECONDS": "1",
                # the emulated identities' domain; the published SDK's tokens' app
                "XTRACT_GLOBUS_ADMIT": '["domain:example.org", "domain:clients.auth.globus.org"]',
                "XTRACT_GLOBUS_SERVICE_CLIENTS": f'["{NATIVE_CLIENT}", "{ROBOT_CLIENT}"]',
                "GLOBUS_SDK_SERVICE_URL_AUTH": auth.url,
                "GLOBUS_SDK_SERVICE_URL_TRANSFER": transfer.url,
                "GLOBUS_SDK_SERVICE_URL_COMPUTE": compute.url,
                "GLOBUS_SDK_SERVICE_URL_GROUPS": groups.url,
                "XTRACT_COMPUTE_POLL_SECONDS": "0.2",
                "XTRACT_GLOBUS_COLLECTION_ID": LOCAL_COLLECTION,
                "XTRACT_GLOBUS_COLLECTION_ROOT": str(collection_root),
                "XTRACT_TRANSFER_POLL_SECONDS": "0.2",
                **env,
            }
            svc = Service(tmp / "home", env=full_env)
            log = open(tmp / "service.log", "wb")  # noqa: SIM115 (closed below)
            svc.proc = subprocess.Popen(
                [*Service.command(), "-v"],
                env=svc.full_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
            svc.wait_healthy()
            try:
                yield GlobusWorld(auth, transfer, svc, root, tmp, collection_root, compute, groups)
            finally:
                svc.stop()
                compute.__exit__(None, None, None)
                groups.__exit__(None, None, None)
                log.close()
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
