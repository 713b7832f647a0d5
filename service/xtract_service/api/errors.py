"""One error shape for every failure a caller can cause:
``{"error": {"code": "...", "message": "..."}}`` with a 4xx status."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from xtract_service.auth.base import AuthRefused, AuthUnavailable
from xtract_service.errors import (
    BadRequest,
    Conflict,
    NotFound,
    ServiceError,
    TooMany,
    Unprocessable,
)

log = logging.getLogger(__name__)


# the HTTP status of each kind of refusal the domain raises
STATUS: dict[type[ServiceError], int] = {
    BadRequest: 400,
    NotFound: 404,
    Conflict: 409,
    Unprocessable: 400,
    TooMany: 429,
    AuthUnavailable: 503,
}


class ApiError(Exception):
    """A refusal only the HTTP layer can make (authentication, unreadable bodies)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def refusal_status(exc: ApiError | ServiceError) -> int:
    """The HTTP status of a refusal: its own (``ApiError``, ``AuthRefused``), else its
    kind's in :data:`STATUS`."""
    if isinstance(exc, ApiError | AuthRefused):
        return exc.status
    return next((s for kind, s in STATUS.items() if isinstance(exc, kind)), 400)


def error_response(status: int, code: str, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def describe_validation(errors: Sequence[Any]) -> str:
    """Pydantic's errors as one readable sentence: ``dirs: field required; ...``."""
    parts = []
    for e in errors:
        loc = [str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path")]
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
    return "; ".join(parts)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(ServiceError)
    async def _refused(_: Request, exc: ServiceError) -> JSONResponse:
        answer = error_response(refusal_status(exc), exc.code, exc.message)
        if isinstance(exc, TooMany) and exc.retry_after is not None:
            answer.headers["Retry-After"] = str(exc.retry_after)
        return answer

    @app.exception_handler(ClientDisconnect)
    async def _gone(_: Request, exc: ClientDisconnect) -> Response:
        # the caller hung up before its request was read: no one to answer, no error
        return Response(status_code=499)

    @app.exception_handler(UnicodeError)
    async def _not_unicode(_: Request, exc: UnicodeError) -> JSONResponse:
        # a field no model bounds yet: still the caller's text, not our bug
        return error_response(400, "bad_text", "the request holds text that is not valid Unicode")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, "invalid_request", describe_validation(list(exc.errors())))

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal_error", "internal error; see the service log")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code in (404, 405):
            message = f"no route {request.method} {request.url.path}; the API is listed at /docs"
        return error_response(exc.status_code, code, message)
