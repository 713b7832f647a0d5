"""Large answers serialized by orjson, straight from the dicts the stores return.

FastAPI turns a returned dict into JSON through ``jsonable_encoder`` (a Python walk of
every value) and ``json.dumps``; for a flush of 10,000 file records or a page of
metadata documents that walk was most of the request. Routes that return many records
return a :class:`FastJSON` instead: the same JSON, one C call."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class FastJSON(JSONResponse):
    """A JSON response rendered by orjson (non-string keys become strings, anything
    orjson does not know its ``str``, as the JSON encoder elsewhere does)."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, default=str, option=orjson.OPT_NON_STR_KEYS)
        except (orjson.JSONEncodeError, TypeError):  # integers beyond 64 bits
            return super().render(content)
