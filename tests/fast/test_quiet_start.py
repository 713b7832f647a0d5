"""A quiet start: building the app and its OpenAPI schema (what ``xtract serve`` and
``/docs`` do) warns about nothing, FastAPI's duplicate operation ids included."""

from __future__ import annotations

import warnings

from xtract_service.app import create_app


def test_the_app_and_its_schema_build_without_a_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        schema = create_app().openapi()
    assert [str(w.message) for w in caught] == []
    ids = [op["operationId"] for path in schema["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
