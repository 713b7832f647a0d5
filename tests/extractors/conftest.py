from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import write_good, write_hostile


@pytest.fixture(scope="session")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_good(tmp_path_factory.mktemp("good"))


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_hostile(tmp_path_factory.mktemp("hostile"))
