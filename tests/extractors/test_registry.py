"""The registry: declared parameters, and third-party plug-ins found through the
``xtract.extractors`` entry-point group of an installed package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tests.extractors.sample_extractors  # noqa: F401 - registers the test extractors
from tests.support import install_into, make_plugin
from xtract_extractors import all_extractors, get

BUILTINS = {
    "c_code",
    "filetype",
    "hdf5",
    "images",
    "jsonxml",
    "keyword",
    "netcdf",
    "pdf",
    "python",
    "tabular",
}


def test_builtins_are_listed_with_typed_params() -> None:
    names = {e.name for e in all_extractors()}
    assert names >= BUILTINS
    desc = get("tabular").describe()
    assert desc["source"] == "builtin" and desc["version"] == "3.0"
    assert [p["name"] for p in desc["params"]] == ["sample_bytes", "max_rows", "top_values"]
    assert desc["params"][0]["type"] == "integer" and desc["params"][0]["optional"] is True


def test_secret_params_are_masked_in_descriptions() -> None:
    (token,) = [p for p in get("test_needs").describe()["params"] if p["name"] == "token"]
    assert token["secret"] is True and token["optional"] is False


@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plugins")
    target = root / "site"
    good = make_plugin(
        root,
        "xtract_wordcount",
        '''
        from xtract_extractors import extractor, param

        @extractor("wordcount", kinds=["text"], extensions=["words"], mimetypes=["text/plain"],
                   version="2.1")
        @param("lower", bool, default=True, desc="fold case before counting")
        def wordcount(path, lower=True):
            """Counts the words of a file."""
            text = open(path).read()
            return {"words": len(text.split()), "lower": lower}
    ''',
    )
    broken = make_plugin(root, "xtract_broken", "import a_module_that_does_not_exist\n")
    return install_into(target, good, broken)


def xtract(plugins: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(plugins)}
    return subprocess.run(
        [sys.executable, "-m", "xtract_service.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_installed_plugin_is_listed_and_used(plugins: Path, tmp_path: Path) -> None:
    listed = json.loads(xtract(plugins, "extractors", "--json").stdout)
    by_name = {e["name"]: e for e in listed["extractors"]}
    assert by_name["wordcount"]["version"] == "2.1"
    assert by_name["wordcount"]["source"] == "xtract_wordcount"
    assert by_name["wordcount"]["description"] == "Counts the words of a file."
    assert set(by_name) >= BUILTINS

    f = tmp_path / "a.words"
    f.write_text("one two three four")
    out = xtract(plugins, "extract-file", str(f), "--json")
    doc = json.loads(out.stdout)
    assert doc["metadata"]["wordcount"] == {"words": 4, "lower": True}


def test_a_plugin_that_fails_to_import_is_reported_and_skipped(plugins: Path) -> None:
    out = xtract(plugins, "extractors", "--json")
    assert out.returncode == 0
    listed = json.loads(out.stdout)
    assert "xtract_broken" in listed["plugin_errors"]
    assert "ModuleNotFoundError" in listed["plugin_errors"]["xtract_broken"]
    human = xtract(plugins, "extractors")
    assert "plug-in 'xtract_broken' was skipped" in human.stderr
