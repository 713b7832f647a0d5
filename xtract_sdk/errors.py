"""Exceptions raised by the SDK; each carries the service's message."""

from __future__ import annotations


class XtractError(Exception):
    """Something the service refused or could not do.

    ``status`` is the HTTP status (``None`` when the service was not reached) and
    ``code`` the service's machine-readable error code.
    """

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class AuthError(XtractError):
    """The token is missing or not valid (HTTP 401), or lacks a scope (403)."""


class NotFoundError(XtractError):
    """No such crawl, or it belongs to someone else (HTTP 404)."""


class BadRequestError(XtractError):
    """The request was malformed or named something unknown (HTTP 400/422)."""


class ServiceUnavailableError(XtractError):
    """The service could not be reached, or answered with a server error."""


class TimeoutError(XtractError):
    """A ``*_and_wait`` call ran out of time before the work finished."""


def error_for_status(status: int, message: str, code: str | None) -> XtractError:
    cls: type[XtractError]
    if status in (401, 403):
        cls = AuthError
    elif status == 404:
        cls = NotFoundError
    elif status in (400, 409, 413, 422):
        cls = BadRequestError
    elif status >= 500:
        cls = ServiceUnavailableError
    else:
        cls = XtractError
    return cls(message, status=status, code=code)
