"""What the service's domain raises when a caller asked for something it cannot do.

The domain (crawl, extraction, offload) raises these; only ``api/errors.py`` turns them
into HTTP answers (``{"error": {"code", "message"}}``), so a domain module never speaks
HTTP. ``code`` is the machine-readable word a client can branch on.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal with a message a person can act on."""

    code = "bad_request"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadRequest(ServiceError):
    """The request cannot be served as asked (a bad path, endpoint, cursor, ...)."""


class Unprocessable(ServiceError):
    """The request's fields do not make sense together."""

    code = "invalid_request"


class Conflict(ServiceError):
    """The request clashes with the state things are in (already running, ...)."""

    code = "conflict"


class TooMany(ServiceError):
    """The caller is over one of their quotas; the message says which and what to do.
    ``retry_after`` (seconds) marks a refusal that passes by itself (work running at
    once): the answer carries ``Retry-After`` and the SDK waits and asks again."""

    code = "quota"

    def __init__(
        self, message: str, code: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after


class NotFound(ServiceError, LookupError):
    """Nothing by that name belongs to the caller."""

    code = "not_found"
