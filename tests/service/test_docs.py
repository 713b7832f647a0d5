"""The API docs work offline (every script and style from the service itself) and the
schema says how to authenticate and what errors look like."""

from __future__ import annotations

import re

import requests

from tests.support import Service


def test_the_docs_load_everything_from_the_service(service: Service) -> None:
    for page in ("/docs", "/redoc"):
        html = requests.get(service.url + page, timeout=10).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets, page
        for asset in assets:
            assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
            got = requests.get(service.url + asset, timeout=10)
            assert got.status_code == 200 and len(got.content) > 100, asset
        assert "cdn" not in html.lower()


def test_the_schema_declares_the_bearer_scheme_and_error_answers(service: Service) -> None:
    doc = requests.get(service.url + "/openapi.json", timeout=10).json()
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    op = doc["paths"]["/v1/crawls/{crawl_id}"]["get"]
    assert op["security"] == [{"bearer": []}]
    for status in ("401", "404", "503"):
        schema = op["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}
    assert doc["paths"]["/health"]["get"]["security"] == []
    # a call the docs' "Try it out" would make, with the token the scheme names, works
    token = service.token
    r = requests.get(
        service.url + "/v1/crawls", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert r.status_code == 200
