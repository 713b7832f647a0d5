"""A loopback emulator of Globus Groups: ``GET /v2/groups/my_groups``, answering the
groups the bearer's identity is an active member of (the documented shape: a list of
``{id, name, group_type, my_memberships: [{identity_id, role, status}]}``). Tokens are
checked with the Auth emulator: live and issued for ``groups.api.globus.org``.

Point ``globus_sdk.GroupsClient`` at it with ``GLOBUS_SDK_SERVICE_URL_GROUPS``.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from tests.emulators._server import JsonServer, Reply
from tests.emulators.auth import AuthEmulator


class GroupsEmulator(JsonServer):
    def __init__(self, auth: AuthEmulator) -> None:
        super().__init__()
        self.auth = auth
        self.groups: dict[str, dict[str, Any]] = {}  # id -> {name, members: set of subs}
        self.calls = 0
        self._lock = threading.Lock()

    def group(self, name: str, *members: str, gid: str | None = None) -> str:
        """A new group of the identities ``members`` (usernames); returns its id
        (``gid`` when given)."""
        gid = gid or str(uuid.uuid4())
        subs = {self.auth.identity(m)["sub"] for m in members}
        with self._lock:
            self.groups[gid] = {"name": name, "members": subs}
        return gid

    def route(self, method: str, path: str, query: str, body: Any, headers: Any) -> Reply:
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        info = self.auth._valid(token)
        if info is None or "groups.api.globus.org" not in info["aud"]:
            return 401, {"code": "AUTHENTICATION_ERROR", "detail": "invalid token"}, {}
        if method != "GET" or path.strip("/") != "v2/groups/my_groups":
            return 404, {"code": "NOT_FOUND", "detail": path}, {}
        with self._lock:
            self.calls += 1
            mine = [
                {
                    "id": gid,
                    "name": g["name"],
                    "group_type": "regular",
                    "my_memberships": [
                        {"identity_id": info["sub"], "role": "member", "status": "active"}
                    ],
                }
                for gid, g in self.groups.items()
                if info["sub"] in g["members"]
            ]
        return 200, mine, {}
