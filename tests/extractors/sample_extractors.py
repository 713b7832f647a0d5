"""Misbehaving extractors for the isolation tests (importable by a fresh process)."""

from __future__ import annotations

import ctypes
import time
from typing import Any

from xtract_extractors import extractor, param


@extractor("test_sleeper", version="0")
@param("seconds", float, default=3600.0)
def sleeper(path: str, seconds: float = 3600.0) -> dict[str, Any]:
    time.sleep(seconds)
    return {"slept": seconds}


@extractor("test_hog", version="0")
def hog(path: str) -> dict[str, Any]:
    blocks = []
    while True:
        blocks.append(bytearray(64 << 20))


_SERVED = [0]


@extractor("test_crowded", version="0")
def crowded(path: str) -> dict[str, Any]:
    """Out of memory in a process that served a call before (a library that cannot be
    mapped into a full address space), fine in a fresh one."""
    import os

    _SERVED[0] += 1
    if _SERVED[0] > 1:
        raise ImportError("libgfortran.so.5: failed to map segment from shared object")
    return {"pid": os.getpid()}


@extractor("test_crasher", version="0")
def crasher(path: str) -> dict[str, Any]:
    ctypes.string_at(0)  # a segmentation fault in "native code"
    return {}


@extractor("test_pid", version="0")
def pid(path: str) -> dict[str, Any]:
    import os

    return {"pid": os.getpid()}


@extractor("test_unpicklable", version="0")
def unpicklable(path: str) -> dict[str, Any]:
    return {"value": lambda: None}


@extractor("test_needs", version="0")
@param("token", str, optional=False, secret=True, desc="an API token")
@param("ratio", float, default=0.5)
@param("flag", bool, default=False)
def needs(path: str, token: str, ratio: float = 0.5, flag: bool = False) -> dict[str, Any]:
    return {"ratio": ratio, "flag": flag, "token_length": len(token)}
