"""Starting a crawl: the request (one endpoint spec, the Globus tokens it lists with,
and webhooks), checked against this service before anything is recorded."""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import redis
from pydantic import Field

from xtract_sdk.status import EventType
from xtract_service.access import Access
from xtract_service.bounds import Tokens, Url
from xtract_service.crawl.changes import check_since
from xtract_service.crawl.spec import CrawlSpec
from xtract_service.crawl.store import CrawlStore
from xtract_service.events import queue_event
from xtract_service.globus import tokens as names
from xtract_service.quotas import check_crawl_quota
from xtract_service.settings import Settings
from xtract_service.webhooks import check_urls, queue_webhooks

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


class Started(NamedTuple):
    crawl_id: str
    webhook_secrets: dict[str, str]  # each new webhook's signing secret, shown once


def start_crawl(
    spec: CrawlSpec,
    tokens: dict[str, str],
    access: Access,
    store: CrawlStore,
    settings: Settings,
    webhooks: list[str] | None = None,
) -> Started:
    """Check a spec against what the owner may reach and start it."""
    check_urls(webhooks or [], settings.webhook_allow)
    secrets = {}
    if spec.repo_type == "local":
        spec.check_local(access)
    else:
        transfer = names.pick(tokens, names.TRANSFER)
        if transfer:
            secrets[names.KEPT[names.TRANSFER]] = transfer
        compute = names.pick(tokens, names.COMPUTE)
        if spec.funcx_ep_id and compute:  # the crawl is listed on the Compute endpoint
            secrets[names.KEPT[names.COMPUTE]] = compute
    if spec.since:
        check_since(store.r, spec, access.owner)
    # the quota is checked as the crawl is created, where concurrent starts cannot race it
    admit = partial(check_crawl_quota, store.r, access.owner, settings)
    signing: dict[str, str] = {}

    def also(pipe: redis.client.Pipeline, crawl_id: str, after: redis.client.Pipeline) -> None:
        # in the creating transaction: no event of the crawl can come before these (the
        # webhooks' outbox, service-wide, is written right after it, on ``after``)
        if webhooks:
            signing.update(queue_webhooks(pipe, settings.vault(), crawl_id, webhooks))
        event, notify = EventType.CRAWL_STARTED, bool(webhooks)
        queue_event(
            pipe, crawl_id, event, notify, outbox=after, dirs=spec.dirs, repo_type=spec.repo_type
        )

    crawl_id = store.create(spec, access.owner, secrets, admit, also)
    return Started(crawl_id, signing)
