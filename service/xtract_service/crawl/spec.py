"""What a crawl is asked to do: the endpoint spec, validated before anything starts."""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from xtract_extractors.safepath import within
from xtract_service.bounds import MAX_ITEMS, Name, PathText, Pattern
from xtract_service.crawl.groupers import GROUPERS
from xtract_service.errors import BadRequest

if TYPE_CHECKING:
    from xtract_service.access import Access

RepoType = Literal["local", "globus"]


class SpecError(BadRequest):
    """A crawl spec that cannot run; the message says what to fix."""

    code = "bad_spec"


class CrawlSpec(BaseModel):
    """One endpoint to crawl.

    ``dirs`` are absolute paths on the endpoint. ``skip`` holds glob patterns matched
    against each entry's name (``.git``, ``*.tmp``); a skipped directory is not entered.
    ``since`` names an earlier, complete crawl of the same roots: this crawl then says
    which files were added, changed, removed or unchanged since, and its extraction
    reads only the added and changed ones (:mod:`xtract_service.crawl.changes`).
    """

    model_config = ConfigDict(extra="forbid")

    repo_type: RepoType = "local"
    dirs: list[PathText] = Field(min_length=1, max_length=1000)
    grouper: Name = "file_is_group"
    globus_ep_id: Name | None = None
    funcx_ep_id: Name | None = None
    local_mdata_path: PathText | None = None
    skip: list[Pattern] = Field(default_factory=list, max_length=MAX_ITEMS)
    follow_symlinks: bool = False
    since: Name | None = None
    # where the collection's "/" is on the Compute endpoint's host (a globus crawl with a
    # funcx_ep_id is listed there, next to the data)
    collection_root: PathText = "/"

    @field_validator("repo_type", mode="before")
    @classmethod
    def _known_repo(cls, value: object) -> object:
        if isinstance(value, str) and value.lower() not in ("local", "globus"):
            raise ValueError(f"unknown repo_type {value!r}; use 'local' or 'globus'")
        return value.lower() if isinstance(value, str) else value

    @field_validator("grouper")
    @classmethod
    def _known_grouper(cls, value: str) -> str:
        if value not in GROUPERS:
            raise ValueError(f"unknown grouper {value!r}; use one of {sorted(GROUPERS)}")
        return value

    @field_validator("globus_ep_id", "funcx_ep_id", "since")
    @classmethod
    def _uuid(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            if info.field_name == "since":
                raise ValueError(
                    f"since={value!r} is not a crawl id (crawl ids are UUIDs)"
                ) from None
            raise ValueError(f"{value!r} is not an endpoint UUID") from None

    @field_validator("dirs")
    @classmethod
    def _absolute(cls, dirs: list[str]) -> list[str]:
        for d in dirs:
            if not isinstance(d, str) or not d.startswith("/"):
                raise ValueError(f"dir {d!r} must be an absolute path (starting with '/')")
            if "\x00" in d:
                raise ValueError("dir contains a NUL byte")
        return dirs

    @model_validator(mode="after")
    def _globus_needs_endpoint(self) -> CrawlSpec:
        if self.repo_type == "globus" and not self.globus_ep_id:
            raise ValueError("repo_type 'globus' needs globus_ep_id")
        return self

    def check_local(self, access: Access) -> None:
        """Make every local dir canonical and check it exists inside the owner's roots."""
        canonical = []
        for d in self.dirs:
            try:
                real, _ = access.check(d, "dir")
            except BadRequest as exc:
                raise SpecError(exc.message) from None
            if not os.path.exists(real):
                raise SpecError(f"dir {d!r} does not exist")
            if not os.path.isdir(real):
                raise SpecError(f"dir {d!r} is not a directory")
            canonical.append(real)
        # one dir nested in another would be crawled twice
        self.dirs = [
            d
            for d in dict.fromkeys(canonical)
            if not any(d != o and within(d, o) for o in canonical)
        ]
