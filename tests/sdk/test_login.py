"""The scopes the SDK's Globus login asks for: the published SDK's defaults, the
service's scope and the caller's extras, each under its resource server."""

from __future__ import annotations

from xtract_sdk.login import PETREL, resource_server_of, scope_requirements

XTRACT = "https://auth.globus.org/scopes/0b7f4c8e-1111-4a5e-9c2b-3d4e5f6a7b8c/all"
RS = "0b7f4c8e-1111-4a5e-9c2b-3d4e5f6a7b8c"


def test_the_defaults_and_the_service_scope_are_asked_for_by_resource_server() -> None:
    req = scope_requirements(XTRACT, RS)
    assert req == {
        "auth.globus.org": ["openid"],
        "search.api.globus.org": ["urn:globus:auth:scope:search.api.globus.org:ingest"],
        "transfer.api.globus.org": ["urn:globus:auth:scope:transfer.api.globus.org:all"],
        "funcx_service": [
            "https://auth.globus.org/scopes/facd7ccc-c5f4-42aa-916b-a0e270e2c2a9/all"
        ],
        RS: [XTRACT],
    }


def test_extra_scopes_take_the_published_short_names_and_are_not_repeated() -> None:
    req = scope_requirements(XTRACT, RS, ["petrel", "transfer", "email", XTRACT])
    assert req["56ceac29-e98a-440a-a594-b41e7a084b62"] == [PETREL]
    assert req["transfer.api.globus.org"] == ["urn:globus:auth:scope:transfer.api.globus.org:all"]
    assert req["auth.globus.org"] == ["openid", "email"]
    assert req[RS] == [XTRACT]


def test_resource_servers_follow_globus_naming() -> None:
    assert resource_server_of("urn:globus:auth:scope:groups.api.globus.org:all") == (
        "groups.api.globus.org"
    )
    assert resource_server_of("https://auth.globus.org/scopes/abc-def/https") == "abc-def"
    assert resource_server_of("profile") == "auth.globus.org"
