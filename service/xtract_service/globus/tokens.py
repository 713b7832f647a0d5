"""The names Globus tokens go by: what callers call them (the published SDKs' names
and their aliases), the scope each is issued for, and the name a run keeps each under
in its sealed secrets. Spelled here once.

>>> pick({"funcx": "abc"}, COMPUTE)
'abc'
"""

from __future__ import annotations

from collections.abc import Mapping

from globus_sdk.scopes import ComputeScopes, GroupsScopes, SearchScopes, TransferScopes

TRANSFER = "Transfer"
SEARCH = "Search"
COMPUTE = "Compute"
GROUPS = "Groups"
HTTPS = "HTTPS"  # a collection's HTTPS server (staging downloads)
FUNCX = "FuncX"  # the published SDKs' name for the Compute token

# what callers may name each token, in the order they are tried
ALIASES: dict[str, tuple[str, ...]] = {
    TRANSFER: (TRANSFER, "transfer"),
    SEARCH: (SEARCH, "search"),
    COMPUTE: (COMPUTE, FUNCX, "funcx"),
    GROUPS: (GROUPS,),
    HTTPS: (HTTPS,),
}

# the names a crawl or run keeps a token under in its (sealed) secrets
KEPT = {TRANSFER: "transfer_token", COMPUTE: "compute_token", HTTPS: "https_token"}

# our name and scope for each resource server's dependent token
SCOPES: dict[str, tuple[str, str]] = {
    TransferScopes.resource_server: (TRANSFER, str(TransferScopes.all)),
    SearchScopes.resource_server: (SEARCH, str(SearchScopes.ingest)),  # ingests, deletes
    ComputeScopes.resource_server: (COMPUTE, str(ComputeScopes.all)),
    GroupsScopes.resource_server: (GROUPS, str(GroupsScopes.view_my_groups_and_memberships)),
}
TRANSFER_SERVER = TransferScopes.resource_server
COMPUTE_SERVER = ComputeScopes.resource_server


def pick(tokens: Mapping[str, str], name: str) -> str | None:
    """The caller's token for ``name`` (any of its aliases), or None."""
    return next((tokens[k] for k in ALIASES[name] if tokens.get(k)), None)


def kept(secrets: Mapping[str, str], name: str) -> str | None:
    """The token a crawl or run kept for ``name``, or None."""
    return secrets.get(KEPT[name]) or None


def https_scope(collection_id: str) -> str:
    """The scope a token needs to download from a collection over HTTPS."""
    return f"https://auth.globus.org/scopes/{collection_id}/https"
