"""Who is calling: bearer tokens mapped to callers (``base``), by tokens this service
issued (``local``, the default) or by Globus Auth (``globus``, ``XTRACT_AUTH=globus``)."""

from xtract_service.auth.base import (
    LOCAL_OWNER,
    Authenticator,
    AuthRefused,
    AuthUnavailable,
    Caller,
    strip_bearer,
)
from xtract_service.auth.local import LocalTokens, ensure_token_file

__all__ = [
    "LOCAL_OWNER",
    "AuthRefused",
    "AuthUnavailable",
    "Authenticator",
    "Caller",
    "LocalTokens",
    "ensure_token_file",
    "strip_bearer",
]
