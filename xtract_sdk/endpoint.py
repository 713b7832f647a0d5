"""``XtractEndpoint``: where data lives and how to group it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class XtractEndpoint:
    """An endpoint to crawl: a local folder tree or a Globus endpoint.

    >>> xep = XtractEndpoint("local", dirs=["/data/run1"], grouper="directory")
    >>> xep.to_spec()["repo_type"]
    'local'
    """

    repo_type: str
    globus_ep_id: str | None = None
    funcx_ep_id: str | None = None
    dirs: list[str] = field(default_factory=list)
    grouper: str = "file_is_group"
    local_mdata_path: str | None = None
    skip: list[str] = field(default_factory=list)
    follow_symlinks: bool = False
    # a Globus endpoint with a funcx_ep_id is listed on that Compute endpoint: where the
    # collection's "/" is on its host (None: "/")
    collection_root: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.dirs, str):
            self.dirs = [self.dirs]

    def to_spec(self) -> dict[str, Any]:
        """The body of ``POST /v1/crawls`` for this endpoint."""
        spec: dict[str, Any] = {
            "repo_type": self.repo_type,
            "dirs": list(self.dirs),
            "grouper": self.grouper,
            "skip": list(self.skip),
            "follow_symlinks": self.follow_symlinks,
        }
        for name in ("globus_ep_id", "funcx_ep_id", "local_mdata_path", "collection_root"):
            value = getattr(self, name)
            if value is not None:
                spec[name] = value
        return spec
