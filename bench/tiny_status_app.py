"""The alternative ``bench_status_poll.py`` sets beside Xtract: the smallest FastAPI app
that answers a status poll, an async route checking the bearer token and returning the
same status document's bytes, held in memory (``TINY_STATUS_BODY``: a file of them),
served by one uvicorn process. What no service with state can beat."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request, Response

app = FastAPI()
BODY = Path(os.environ["TINY_STATUS_BODY"]).read_bytes()
TOKEN = os.environ["TINY_STATUS_TOKEN"]


@app.get("/v1/crawls/{crawl_id}")
async def status(crawl_id: str, request: Request) -> Response:
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        raise HTTPException(401)
    return Response(BODY, media_type="application/json")
