"""The local (POSIX) repo: a folder opened beneath the crawl's roots
(:mod:`xtract_extractors.safepath`, so a folder swapped for a link mid-crawl is refused,
not listed), symlinks not followed unless asked and never out of the roots, skip patterns
matched against entry names.

Two listers give the same answers: the compiled one (``_fastlist``: readdir and
fstatat in C without the GIL, so a process lists several folders at once on several
cores) and ``os.scandir``, used where the extension was not built and when symbolic
links are followed. ``FAST_LISTER`` says which one a process has.
"""

from __future__ import annotations

import base64
import os
import re
import stat as st
from typing import Any

from xtract_extractors.safepath import Roots, opened
from xtract_service.crawl.repos import Listing, change_stamp

try:
    from xtract_service.crawl import _fastlist  # type: ignore[attr-defined]

    FAST_LISTER = True
except ImportError:  # built without a C compiler: the scandir lister does it all
    FAST_LISTER = False


def glob_regex(pattern: str) -> str:
    """A glob (``*``, ``?``, ``[...]``, ``[!...]``, as ``fnmatch`` reads them) as a
    regular expression that RE2 takes: no look-arounds, no back-references."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            j = i + (i < n and pattern[i] == "!")
            j += j < n and pattern[j] == "]"
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:  # no closing bracket: a literal [
                out.append("\\[")
                continue
            body = pattern[i:j].replace("\\", "\\\\")
            i = j + 1
            if body.startswith("!"):
                body = "^" + body[1:]
            elif body.startswith("^"):
                body = "\\" + body
            out.append(f"[{body}]")
        else:
            out.append(re.escape(c))
    return "(?s:" + "".join(out) + ")"


class SkipGlobs:
    """Whether a name matches one of the skip globs (a whole-name match). Compiled by
    RE2 (linear time in the name, whatever the patterns: a caller's patterns run in a
    shared worker); Python's ``re`` only where RE2 is not installed (a Compute endpoint
    running the walker). A name that is not valid UTF-8 is matched as it is shown."""

    def __init__(self, patterns: list[str]) -> None:
        joined = "|".join(glob_regex(p) for p in patterns)
        try:
            import re2

            self.compiled: Any = re2.compile(joined)
        except ImportError:
            self.compiled = re.compile(joined)

    def __call__(self, name: str) -> bool:
        try:
            return self.compiled.fullmatch(name) is not None
        except UnicodeEncodeError:  # RE2 takes UTF-8 only: raw bytes are shown as U+FFFD
            shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            return self.compiled.fullmatch(shown) is not None


def skip_matcher(patterns: list[str]) -> SkipGlobs | None:
    """The matcher of these skip globs (None when there are none)."""
    return SkipGlobs(patterns) if patterns else None


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
        self,
        roots: list[str],
        skip: list[str] | None = None,
        follow_symlinks: bool = False,
        *,
        fast: bool = FAST_LISTER,
    ) -> None:
        self.roots = Roots(roots, follow_symlinks)
        self.skip = skip_matcher(skip or [])
        self.follow = follow_symlinks
        self.fast = fast and FAST_LISTER and not follow_symlinks

    def list_dir(self, path: str) -> Listing:
        out = Listing()
        try:
            fd = self.roots.open_dir(path)
        except OSError as exc:
            return out.refuse(_display(path)[0], _describe(exc))
        with opened(fd):
            self._list(path, fd, out)
        return out

    def _list(self, path: str, fd: int, out: Listing) -> None:
        if self.fast:
            self._list_fast(path, fd, out)
            return
        try:
            it = os.scandir(fd)
        except OSError as exc:
            out.refuse(_display(path)[0], _describe(exc))
            return
        skip, follow = self.skip, self.follow
        files, stamps = out.files, out.stamps
        prefix = path.rstrip("/") + "/"
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
                if skip is not None and skip(name):
                    continue
                full = prefix + name
                try:
                    s = entry.stat(follow_symlinks=follow)
                except OSError as exc:  # deleted mid-crawl, or a dangling link
                    out.errors.append({"path": _display(full)[0], "error": _describe(exc)})
                    continue
                mode = s.st_mode
                if follow and entry.is_symlink() and not self._link_inside(full, out):
                    continue
                if st.S_ISDIR(mode):
                    self._add_subdir(full, entry, out)
                elif st.S_ISREG(mode):
                    if name.isascii():
                        files.append([name, s.st_size, s.st_mtime])
                        stamps.append(change_stamp(s.st_ino, s.st_ctime_ns))
                    else:
                        stamp = change_stamp(s.st_ino, s.st_ctime_ns)
                        self._add_unusual_name(path, name, s.st_size, s.st_mtime, stamp, out)
                elif not follow and entry.is_symlink():
                    out.links_skipped += 1
                # sockets, fifos, devices, and links we do not follow are not data files

    def _list_fast(self, path: str, fd: int, out: Listing) -> None:
        files, subdirs, odd, errors, links, error, stamps = _fastlist.list_dir(fd)
        prefix = path.rstrip("/") + "/"
        if self.skip is not None:
            keep = self.skip
            kept = [i for i, f in enumerate(files) if not keep(f[0])]
            files, stamps = [files[i] for i in kept], [stamps[i] for i in kept]
            subdirs, links = [d for d in subdirs if not keep(d)], [n for n in links if not keep(n)]
            odd = [o for o in odd if not keep(os.fsdecode(o[0]))]
            errors = [e for e in errors if not keep(os.fsdecode(e[0]))]
        out.files += files
        out.stamps += stamps
        out.subdirs += [(prefix + d, prefix + d) for d in subdirs]
        out.links_skipped += len(links)
        for raw, size, mtime, stamp in odd:
            self._add_unusual_name(path, os.fsdecode(raw), size, mtime, stamp, out)
        for raw, errno in errors:
            failed = prefix + os.fsdecode(raw)
            out.errors.append({"path": _display(failed)[0], "error": _describe_errno(errno)})
        if error:  # the directory went away mid-listing
            out.errors.append({"path": _display(path)[0], "error": _describe_errno(error)})

    @staticmethod
    def _add_unusual_name(
        directory: str, name: str, size: int, mtime: float, stamp: int, out: Listing
    ) -> None:
        out.stamps.append(stamp)
        shown, raw = _display(name)
        if raw is None:
            out.files.append([name, size, mtime])
        else:
            out.files.append([shown, size, mtime, raw])
            out.errors.append(
                {
                    "path": f"{_display(directory)[0]}/{shown}",
                    "error": "file name is not valid UTF-8",
                }
            )

    def _link_inside(self, path: str, out: Listing) -> bool:
        """Whether a link (followed) stays inside the crawl; if not, an error says so.
        Opening checks again, hop by hop: this only keeps the listing honest."""
        real = os.path.realpath(path)
        if self.roots.contains(real):
            return True
        out.errors.append({"path": _display(path)[0], "error": "symlink leads outside the crawl"})
        return False

    def _add_subdir(self, path: str, entry: os.DirEntry[str], out: Listing) -> None:
        if self.follow:
            out.subdirs.append((os.path.realpath(path), path))
        else:
            out.subdirs.append((path, path))

    def close(self) -> None:
        pass


def _describe(exc: OSError) -> str:
    return f"{type(exc).__name__}: {exc.strerror or exc}"


def _describe_errno(errno: int) -> str:
    """What :func:`_describe` says of the OSError ``errno`` would raise."""
    return _describe(OSError(errno, os.strerror(errno)))
