"""Large answers serialized by orjson, straight from the dicts the stores return.

FastAPI turns a returned dict into JSON through ``jsonable_encoder`` (a Python walk of
every value) and ``json.dumps``; for a flush of 10,000 file records or a page of
metadata documents that walk was most of the request. Routes that return many records
return a :class:`FastJSON` instead: the same JSON, one C call."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from xtract_sdk.tables import json_bytes


class FastJSON(JSONResponse):
    """A JSON response rendered by :func:`xtract_sdk.tables.json_bytes` (orjson)."""

    def render(self, content: Any) -> bytes:
        return json_bytes(content)
