"""The OpenAPI schema, completed: the bearer scheme every route but ``/health`` needs
(so the docs' "Authorize" button and "Try it out" work), and the error answers each
route can give, in the one shape ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

OPEN = {"/health", "/openapi.json"}
ERRORS = {
    "401": "No token, or a token that is not valid here (expired, revoked, another's)",
    "403": "A valid token without the scope this service needs",
    "404": "No such crawl, or not yours",
    "400": "The service will not take the request as sent (not JSON, a wrong type, an "
    "unknown name, a value out of range, a path outside your roots): the message names "
    "the field and the code says why; every such refusal is a 400, whichever layer "
    "finds it",
    "409": "The crawl or run is not in a state that allows this",
    "413": "The request body is larger than XTRACT_MAX_BODY_BYTES",
    "429": "Over one of your quotas; the message says which and what to do",
    "503": "Redis or Globus Auth cannot be reached",
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` answer the completed schema."""

    def schema() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = doc.setdefault("components", {})
        components.setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "The local token (~/.xtract/token), an issued token, or "
            "(XTRACT_AUTH=globus) a Globus access token for the Xtract scope",
        }
        components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for path, ops in doc.get("paths", {}).items():
            for op in ops.values():
                responses = op.setdefault("responses", {})
                if path in OPEN:
                    op["security"] = []
                    continue
                op["security"] = [{"bearer": []}]
                responses.pop("422", None)  # FastAPI's default: the service answers 400
                for status, text in ERRORS.items():
                    responses.setdefault(status, {"description": text, **ref})
        app.openapi_schema = doc
        return doc

    app.openapi = schema  # type: ignore[method-assign]
