"""One container recipe per format, parameterised by the extractor family: every family
the registry names is a real extra that both recipes install, and the families cover
every extractor but ``filetype`` (which every image runs)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from xtract_extractors import all_extractors, container_families

ROOT = Path(__file__).resolve().parent.parent
RECIPES = [ROOT / "containers" / "Dockerfile", ROOT / "containers" / "xtract.def"]


def extras() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return set(project["optional-dependencies"])


def test_there_is_one_docker_and_one_apptainer_recipe() -> None:
    found = sorted(p.name for p in (ROOT / "containers").iterdir() if p.name != "README.md")
    assert found == ["Dockerfile", "build.sh", "xtract.def"]


def test_every_family_is_an_extra_and_every_extractor_has_a_family() -> None:
    families = container_families()
    assert set(families.values()) <= extras()
    assert set(families.values()) == {
        "tabular",
        "keyword",
        "images",
        "jsonxml",
        "hierarchical",
        "code",
        "pdf",
        "archive",
        "documents",
        "spreadsheets",
        "imaging",
        "medical",
        "astro",
        "columnar",
        "stats",
        "media",
        "sequences",
        "materials",
    }
    builtin = {e.name for e in all_extractors() if e.source == "builtin"}
    assert builtin - set(families) == {"filetype"}


def test_both_recipes_install_the_family_they_are_given_with_filetype() -> None:
    for recipe in RECIPES:
        text = recipe.read_text()
        pattern = r'pip install --no-cache-dir[^"]*"/opt/xtract(?:/src)?\[([^\]]+)\]"'
        (spec,) = re.findall(pattern, text)
        wanted = spec.split(",")
        assert "filetype" in wanted and "globus-compute" in wanted, recipe
        (family,) = [w for w in wanted if w not in ("filetype", "globus-compute")]
        assert family in ("${FAMILY}", "{{ FAMILY }}"), recipe
        assert "org.xtract.family" in text, recipe


def test_the_cli_lists_the_families_the_recipes_take() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "xtract_service.cli", "extractors", "--families"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    listed = {line.split()[0]: line.split()[1:] for line in out.splitlines()}
    assert listed["hierarchical"] == ["hdf5", "netcdf", "numpy"]
    assert set(listed) == set(container_families().values())


def test_every_package_folder_is_packaged() -> None:
    """Every folder of modules in the three packages is found by setuptools' package
    discovery, configured as pyproject.toml says, with no folder renamed (a folder
    without ``__init__.py`` would silently leave the wheel)."""
    from setuptools import find_packages

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "package-dir" not in setuptools  # each folder is its import name
    find = setuptools["packages"]["find"]
    found = {
        pkg
        for where in find["where"]
        for pkg in find_packages(str(ROOT / where), include=find["include"])
    }
    for top in ("xtract_sdk", "service/xtract_service", "extractors/xtract_extractors"):
        base = ROOT / top
        for folder in {p.parent for p in base.rglob("*.py")}:
            assert ".".join((base.name, *folder.relative_to(base).parts)) in found, folder


def test_extractors_say_which_extra_brings_what_is_not_installed(tmp_path: Path) -> None:
    """An installation whose metadata names a library that is not there: the CLI names
    it, and the extra that brings it, beside each extractor of that family."""
    meta = tmp_path / "xtract-0.0.0.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: xtract\nVersion: 0.0.0\n"
        'Requires-Dist: no-such-library-xyz>=1; extra == "spreadsheets"\n'
        'Requires-Dist: numpy>=1; extra == "hierarchical"\n'
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    out = subprocess.run(
        [sys.executable, "-m", "xtract_service.cli", "extractors"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tmp_path,  # not the checkout, whose own egg-info would be found first
    ).stdout
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("spreadsheet "))
    following = lines[at + 1 : at + 3]
    assert any(
        "not installed: no-such-library-xyz (pip install 'xtract[spreadsheets]')" in line
        for line in following
    ), following
    assert "not installed: numpy" not in out
