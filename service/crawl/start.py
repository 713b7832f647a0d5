"""Starting a crawl: the request (one endpoint spec, the Globus tokens it lists with,
and webhooks), checked against this service before anything is recorded."""

from __future__ import annotations

import redis
from pydantic import Field

from xtract_sdk.status import EventType
from xtract_service.access import Access
from xtract_service.bounds import Tokens, Url
from xtract_service.crawl.spec import CrawlSpec
from xtract_service.crawl.store import CrawlStore
from xtract_service.events import publish
from xtract_service.webhooks import add_webhooks, check_urls

MAX_WEBHOOKS = 20


class CrawlRequest(CrawlSpec):
    """One endpoint spec, plus the Globus tokens a ``globus`` crawl lists with."""

    tokens: Tokens = Field(default_factory=dict, description="e.g. {'Transfer': '...'}")
    webhooks: list[Url] = Field(
        default_factory=list,
        max_length=MAX_WEBHOOKS,
        description="URLs told of STARTED/COMPLETED/FAILED",
    )

    def spec(self) -> CrawlSpec:
        return CrawlSpec.model_validate(self.model_dump(exclude={"tokens", "webhooks"}))


def start_crawl(
    spec: CrawlSpec,
    tokens: dict[str, str],
    access: Access,
    store: CrawlStore,
    webhooks: list[str] | None = None,
) -> str:
    """Check a spec against what the owner may reach and start it; returns its id."""
    check_urls(webhooks or [])
    secrets = {}
    if spec.repo_type == "local":
        spec.check_local(access)
    else:
        transfer = tokens.get("Transfer") or tokens.get("transfer")
        if transfer:
            secrets["transfer_token"] = transfer
    crawl_id = store.create(spec, access.owner, secrets)
    r: redis.Redis = store.r
    if webhooks:
        add_webhooks(r, crawl_id, webhooks)
    publish(r, crawl_id, EventType.CRAWL_STARTED, dirs=spec.dirs, repo_type=spec.repo_type)
    return crawl_id
