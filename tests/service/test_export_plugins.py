"""Export drivers as plug-ins (issue 24, item 6): a package that declares an
``xtract.exporters`` entry point adds a format with typed, validated parameters; the
service lists it (`GET /v1/formats`, `xtract formats`) and runs it like a built-in one."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Service, install_into, make_plugin, roots_env
from xtract_sdk import BadRequestError, XtractEndpoint

DRIVER = """
from xtract_extractors.registry import param
from xtract_service.offload.formats import PartWriter, writer


@writer("paths_tsv", "One line per file: its path and size, tab-separated.")
@param("header", bool, default=True, desc="begin with a header line")
@param("max_items", int, default=1000, low=1, high=100_000, desc="files per part")
class PathsWriter(PartWriter):
    suffix = ".tsv"

    def prepare(self, item):
        line = f"{item['path']}\\t{item['size']}".encode()
        return line, len(line) + 1

    def encode(self, items):
        head = [b"path\\tsize"] if self.options.get("header") else []
        return b"\\n".join(head + items) + b"\\n"
"""


@pytest.fixture(scope="module")
def plugin_service(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("exporter")
    pkg = make_plugin(root, "xtract_paths_tsv", DRIVER, group="xtract.exporters")
    site = install_into(root / "site", pkg)
    env = {**roots_env(data_root), "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    with Service(tmp_path_factory.mktemp("exporter-home"), env=env) as svc:
        yield svc


def test_an_installed_export_driver_is_listed_validated_and_run(
    plugin_service: Service, tree_dir: Path, data_root: Path
) -> None:
    for i in range(5):
        (tree_dir / f"f{i}.txt").write_text("x" * i)
    xtr = plugin_service.client()
    ((cid, _),) = xtr.crawl_and_wait(
        XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False
    ).items()
    xtr.xtract_and_wait(cid, progress=False, timeout=240)

    (listed,) = [f for f in xtr.list_formats() if f["name"] == "paths_tsv"]
    assert [p["name"] for p in listed["params"]] == ["header", "max_items"]
    dest = data_root / "exports" / "tsv"
    dest.mkdir(parents=True, exist_ok=True)
    with pytest.raises(BadRequestError, match="header"):
        xtr.offload_metadata(dest_path=str(dest), crawl_ids=[cid], format="paths_tsv",
                             format_params={"header": "yes"})  # fmt: skip
    folder = xtr.offload_metadata(dest_path=str(dest), crawl_ids=[cid], format="paths_tsv")
    (part,) = (Path(folder) / cid).glob("*.tsv")
    lines = part.read_text().splitlines()
    assert lines[0] == "path\tsize"
    assert sorted(lines[1:]) == sorted(f"{tree_dir / f'f{i}.txt'}\t{i}" for i in range(5))
