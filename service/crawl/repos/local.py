"""The local (POSIX) repo: ``os.scandir``, symlinks not followed unless asked,
never leaving the crawl's roots, skip patterns matched against entry names."""

from __future__ import annotations

import base64
import fnmatch
import os
import re
import stat as st

from xtract_service.crawl.repos import Listing
from xtract_service.paths import within


def _skip_matcher(patterns: list[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def _display(path: str) -> tuple[str, str | None]:
    """A name that is not valid UTF-8 gets a readable form and its raw bytes (base64)."""
    try:
        path.encode("utf-8")
        return path, None
    except UnicodeEncodeError:
        raw = os.fsencode(path)
        return raw.decode("utf-8", "backslashreplace"), base64.b64encode(raw).decode()


class LocalRepo:
    def __init__(
        self, roots: list[str], skip: list[str] | None = None, follow_symlinks: bool = False
    ) -> None:
        self.roots = [r.rstrip("/") or "/" for r in roots]
        self.skip = _skip_matcher(skip or [])
        self.follow = follow_symlinks

    def _inside_roots(self, real: str) -> bool:
        return any(within(real, r) for r in self.roots)

    def list_dir(self, path: str) -> Listing:
        out = Listing()
        try:
            it = os.scandir(path)
        except OSError as exc:
            out.errors.append({"path": _display(path)[0], "error": _describe(exc)})
            return out
        skip, follow = self.skip, self.follow
        files = out.files
        with it:
            while True:
                try:
                    entry = next(it)
                except StopIteration:
                    break
                except OSError as exc:  # the directory went away mid-listing
                    out.errors.append({"path": _display(path)[0], "error": _describe(exc)})
                    break
                name = entry.name
                if skip is not None and skip.match(name):
                    continue
                try:
                    s = entry.stat(follow_symlinks=follow)
                except OSError as exc:  # deleted mid-crawl, or a dangling link
                    out.errors.append({"path": _display(entry.path)[0], "error": _describe(exc)})
                    continue
                mode = s.st_mode
                if st.S_ISDIR(mode):
                    self._add_subdir(entry, out)
                elif st.S_ISREG(mode):
                    if name.isascii():
                        files.append([name, s.st_size, s.st_mtime])
                    else:
                        self._add_unusual_name(path, name, s, out)
                elif not follow and entry.is_symlink():
                    out.links_skipped += 1
                # sockets, fifos, devices, and links we do not follow are not data files
        return out

    @staticmethod
    def _add_unusual_name(directory: str, name: str, s: os.stat_result, out: Listing) -> None:
        shown, raw = _display(name)
        if raw is None:
            out.files.append([name, s.st_size, s.st_mtime])
        else:
            out.files.append([shown, s.st_size, s.st_mtime, raw])
            out.errors.append(
                {
                    "path": f"{_display(directory)[0]}/{shown}",
                    "error": "file name is not valid UTF-8",
                }
            )

    def _add_subdir(self, entry: os.DirEntry[str], out: Listing) -> None:
        path = entry.path
        if self.follow and entry.is_symlink():
            real = os.path.realpath(path)
            if not self._inside_roots(real):
                out.errors.append(
                    {
                        "path": _display(path)[0],
                        "error": f"symlink leads outside the crawl to {real}",
                    }
                )
                return
            out.subdirs.append((real, path))
        elif self.follow:
            out.subdirs.append((os.path.realpath(path), path))
        else:
            out.subdirs.append((path, path))

    def close(self) -> None:
        pass


def _describe(exc: OSError) -> str:
    return f"{type(exc).__name__}: {exc.strerror or exc}"
