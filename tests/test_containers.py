"""Every container recipe installs a real extra and names real extractors."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from xtract_extractors import all_extractors

ROOT = Path(__file__).resolve().parent.parent
RECIPES = sorted((ROOT / "containers").glob("*/Dockerfile")) + sorted(
    (ROOT / "containers").glob("*/*.def")
)


def extras() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return set(project["optional-dependencies"])


def test_there_is_a_docker_and_an_apptainer_recipe_per_family() -> None:
    families = {p.parent.name for p in RECIPES}
    assert families == {"tabular", "keyword", "images", "jsonxml", "hierarchical", "code", "pdf"}
    for fam in families:
        assert (ROOT / "containers" / fam / "Dockerfile").exists()
        assert (ROOT / "containers" / fam / f"{fam}.def").exists()


def test_each_recipe_installs_real_extras_and_names_real_extractors() -> None:
    known_extras = extras()
    known = {e.name for e in all_extractors()}
    for recipe in RECIPES:
        text = recipe.read_text()
        (spec,) = re.findall(r'pip install --no-cache-dir "/opt/xtract\[([^\]]+)\]"', text)
        wanted = set(spec.split(","))
        assert wanted <= known_extras, (recipe, wanted - known_extras)
        assert recipe.parent.name in wanted, recipe
        (names,) = re.findall(r'XTRACT_EXTRACTORS="([^"]+)"', text)
        assert set(names.split()) <= known, (recipe, set(names.split()) - known)
        # an extractor a recipe names must have its library in the extras it installs
        assert "filetype" in names.split()


def test_every_package_folder_is_packaged() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(project["tool"]["setuptools"]["packages"])
    mapping = project["tool"]["setuptools"]["package-dir"]
    for name, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            assert ".".join((name, *rel)) in listed, init
