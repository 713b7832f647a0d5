"""The deployment files as users run them (issue 26, item 5): `deploy/compose.yaml` is
valid by the Compose Specification's own JSON schema (vendored in tests/data), names
only roles the CLI has, and sets only settings the service reads, which parse."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from xtract_service.processes import ROLES
from xtract_service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def errors_of(doc: dict[str, Any]) -> list[str]:
    schema = json.loads((ROOT / "tests" / "data" / "compose-spec.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def test_the_compose_file_is_valid_by_the_compose_specification() -> None:
    assert errors_of(compose()) == []
    broken = copy.deepcopy(compose())
    broken["services"]["crawl"]["colour"] = "red"  # the schema can say no
    broken["services"]["api"]["ports"] = {"8765": 8765}
    assert len(errors_of(broken)) >= 2


def test_the_compose_file_runs_real_roles_with_real_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = compose()["services"]
    ours = "localhost/xtract"
    xtract = {n: s for n, s in services.items() if s.get("image", "").startswith(ours)}
    roles = {s["command"][s["command"].index("--role") + 1] for s in xtract.values()
             if "worker" in s["command"]}  # fmt: skip
    assert roles and roles <= set(ROLES)
    assert set(ROLES) - roles == {"webhooks", "indexer"}  # the API container runs those
    fields = set(Settings.model_fields)
    for name, service in xtract.items():
        env = {k: str(v) for k, v in service["environment"].items()}
        unknown = [k for k in env if k.startswith("XTRACT_") and k[7:].lower() not in fields]
        assert unknown == [], (name, unknown)
        for key in [k for k in os.environ if k.startswith("XTRACT_")]:
            monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = Settings()
        assert settings.redis_url == (
            "redis+sentinel://sentinel-1:26379,sentinel-2:26379,sentinel-3:26379/xtract"
        )
        assert settings.allowed_roots == [Path("/data")]


CHART = ROOT / "deploy" / "helm" / "xtract"


def test_the_helm_charts_values_and_templates_agree() -> None:
    """No Helm binary installs here, so the chart is not rendered: its values are
    checked against its own values.schema.json (as `helm lint` and `helm install` do),
    every `.Values` path its templates read exists, its roles are the CLI's and its
    settings the service's."""
    import re

    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and re.fullmatch(r"\d+\.\d+\.\d+", chart["version"])
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = json.loads((CHART / "values.schema.json").read_text())
    jsonschema.validate(values, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**values, "workers": {**values["workers"], "crawl": -1}}, schema)
    assert set(values["workers"]) <= set(ROLES)
    templates = "".join(p.read_text() for p in (CHART / "templates").iterdir())
    for path in set(re.findall(r"\.Values((?:\.\w+)+)", templates)):
        node: Any = values
        for part in path.strip(".").split("."):
            assert isinstance(node, dict) and part in node, f".Values{path} is not in values.yaml"
            node = node[part]
    fields = set(Settings.model_fields)
    names = set(re.findall(r"name: (XTRACT_\w+)", templates))
    assert names and {n for n in names if n[7:].lower() not in fields} == set()
