"""The API against its own OpenAPI schema, as schemathesis generates requests from it
(valid ones, then invalid ones): no request, however odd, gets a 5xx. Bounded: a few
examples per operation, so it runs in seconds beside the rest of the suite."""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.support import Service

EXAMPLES = int(os.environ.get("XTRACT_SCHEMA_EXAMPLES", "8"))
# the event stream never ends by itself; the others answer and close
SKIP = {"GET /v1/crawls/{crawl_id}/events"}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_the_schema_allows_or_forbids_gets_a_server_error(
    service: Service, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_url(service.url + "/openapi.json")
    headers = {"Authorization": f"Bearer {service.token}"}
    errors: list[str] = []
    tried = 0
    result: Any
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in SKIP:
            continue

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case: Any) -> None:
            nonlocal tried
            tried += 1
            response = case.call(base_url=service.url, headers=headers, timeout=30)
            if response.status_code >= 500:
                errors.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        # an operation with no parameters has nothing to make invalid
        with contextlib.suppress(Unsatisfiable):
            call()
    assert tried > 50
    assert errors == []
