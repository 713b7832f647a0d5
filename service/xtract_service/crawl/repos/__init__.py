"""Repos: where files live and how to list one directory of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from xtract_service.crawl.spec import CrawlSpec
    from xtract_service.globus.ratelimit import RateLimiter
    from xtract_service.settings import Settings


_MASK64, _MASK63 = (1 << 64) - 1, (1 << 63) - 1


def change_stamp(inode: int, ctime_ns: int) -> int:
    """One number that changes when a file is replaced (another inode) or changed in
    any way (its ctime, which the kernel sets on every write, chmod or rename, and no
    user can set back): what an edit that keeps the size and mtime still changes.
    ``_fastlist.c`` computes the same; never 0 (0 means "not known").

    >>> change_stamp(7, 1_700_000_000_000_000_000) == change_stamp(7, 1_700_000_000_000_000_001)
    False
    """
    return ((((inode * 1_000_003) & _MASK64) ^ ctime_ns) & _MASK63) or 1


@dataclass
class Listing:
    """What listing one directory found.

    ``files`` holds one ``[name, size, mtime]`` per regular file (a 4th item, the raw
    name in base64, for a name that is not UTF-8). ``subdirs`` pairs a de-duplication
    key (the real path when symlinks are followed) with the path to list next.
    ``errors`` holds ``{path, error}`` records for what could not be read. ``stamps``
    holds one change stamp per entry of ``files`` where the repo has them (local
    folders: :func:`change_stamp` of the inode and the ctime), and is empty where it
    does not (Globus).
    """

    files: list[list[Any]] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)
    subdirs: list[tuple[str, str]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    links_skipped: int = 0
    unreadable: int = 0  # folders that could not be listed at all

    def refuse(self, path: str, error: str) -> Listing:
        """Record that the folder ``path`` could not be listed; returns this listing."""
        self.errors.append({"path": path, "error": error})
        self.unreadable += 1
        return self


class Repo(Protocol):
    """Lists one directory. Implementations never raise for an unreadable directory:
    they return a Listing whose ``errors`` say why."""

    def list_dir(self, path: str) -> Listing: ...

    def close(self) -> None: ...


def list_tree(repo: Repo, paths: list[str]) -> list[tuple[str, Listing]]:
    """Listings of these folders, and of any sub-folders the repo listed on the way (a
    Compute walker goes on down the tree in the same task): ``(folder, listing)`` pairs,
    the asked-for folders among them. Repos without a walker list the folders one by one."""
    walker = getattr(repo, "list_tree", None)
    if walker is not None:
        pairs: list[tuple[str, Listing]] = walker(paths)
        return pairs
    return [(p, repo.list_dir(p)) for p in paths]


@dataclass
class Fallback:
    """How a Compute repo tells that it fell back to Transfer (``tell(reason)``) and
    learns that another worker did (``fallen()``: the reason, or None)."""

    tell: Callable[[str], None]
    fallen: Callable[[], str | None]


def make_repo(
    spec: CrawlSpec,
    secrets: dict[str, str],
    settings: Settings,
    limiter: RateLimiter | None = None,
    fallback: Fallback | None = None,
) -> Repo:
    """The repo that lists ``spec``'s directories: a Globus one within ``limiter``,
    through a Compute endpoint when the spec names one (Transfer when that fails).
    (Globus imports wait until here: this package goes to Compute endpoints with the
    walker.)"""
    from xtract_service.globus import tokens

    if spec.repo_type == "globus" and spec.funcx_ep_id:
        from xtract_service.crawl.repos.compute import ComputeRepo
        from xtract_service.globus.compute import ComputeTasks

        transfer = spec.model_copy(update={"funcx_ep_id": None})
        token = tokens.kept(secrets, tokens.COMPUTE)
        return ComputeRepo(
            ComputeTasks(spec.funcx_ep_id, token, settings, limiter),
            lambda: make_repo(transfer, secrets, settings, limiter),
            crawl_roots=spec.dirs,
            collection_root=spec.collection_root,
            skip=spec.skip,
            follow_symlinks=spec.follow_symlinks,
            page_entries=settings.compute_page_entries,
            timeout=settings.compute_list_timeout,
            told=fallback,
        )
    if spec.repo_type == "globus":
        from xtract_service.crawl.repos.globus import GlobusRepo

        token = tokens.kept(secrets, tokens.TRANSFER)
        return GlobusRepo(spec.globus_ep_id or "", token, settings, skip=spec.skip, limiter=limiter)
    from xtract_service.crawl.repos.local import LocalRepo

    return LocalRepo(spec.dirs, skip=spec.skip, follow_symlinks=spec.follow_symlinks)
