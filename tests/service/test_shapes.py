"""Dataset exports in the shapes repositories take (issue 24, item 4), each checked by
its community's validator: DataCite 4.5 JSON by DataCite's JSON schema (the `datacite`
package), Croissant 1.1 by MLCommons' `mlcroissant`, which also reads a table's records
through the document, RO-Crate 1.3 by `rocrate-validator` (its own venv: `make
validators`)."""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
from pathlib import Path

from tests.service.test_extraction import crawl
from tests.support import Service
from tests.validators import validate_rocrate, validate_schemaorg


def _export(xtr: object, cid: str, dest: Path, fmt: str, name: str = "", **params: object) -> dict:
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    folder = xtr.offload_metadata(  # type: ignore[attr-defined]
        dest_path=str(dest), crawl_ids=[cid], format=fmt, format_params=params
    )
    (doc,) = (Path(folder) / cid).glob(name or f"{fmt}.json")
    loaded: dict = json.loads(doc.read_text())
    return loaded


def test_dataset_exports_pass_their_validators(
    service: Service, corpus: Path, data_root: Path
) -> None:
    import mlcroissant
    from datacite import schema45

    xtr, cid, crawled = crawl(service, corpus)
    xtr.xtract_and_wait(progress=False, timeout=240)
    files = crawled["data"]["files_crawled"]

    record = _export(xtr, cid, data_root / "exports" / "datacite", "datacite",
                     creator="Doe, Jane", publisher="Beamline 8-ID")  # fmt: skip
    assert schema45.validate(record), record
    assert record["sizes"][0] == f"{files} files"
    assert record["creators"] == [{"name": "Doe, Jane"}]
    unnamed = _export(xtr, cid, data_root / "exports" / "datacite2", "datacite")
    assert schema45.validate(unnamed) and unnamed["publisher"] == {"name": ":unav"}

    doc = _export(xtr, cid, data_root / "exports" / "croissant", "croissant",
                  license="https://creativecommons.org/licenses/by/4.0/")  # fmt: skip
    path = data_root / "exports" / "croissant.json"
    path.write_text(json.dumps(doc))
    dataset = mlcroissant.Dataset(jsonld=str(path))  # raises on an invalid document
    assert len(doc["distribution"]) == files
    (table,) = [r for r in doc["recordSet"] if r["name"].endswith("good/table.csv")]
    table_columns = [f["name"] for f in table["field"]]
    records = list(dataset.records(table["@id"]))
    assert len(records) == 100  # the table's rows, read through the document
    assert doc["conformsTo"] == "http://mlcommons.org/croissant/1.1"

    crate_dir = data_root / "exports" / "crate"
    crate = _export(xtr, cid, crate_dir, "rocrate", "ro-crate-metadata.json",
                    creator="Doe, Jane", license="https://spdx.org/licenses/CC-BY-4.0")  # fmt: skip
    (written,) = crate_dir.glob("*/*/ro-crate-metadata.json")
    report = validate_rocrate(written.parent, data_root)
    assert report["passed"], [(i["message"], i["violatingEntity"]) for i in report["issues"]]
    entities = {e["@id"]: e for e in crate["@graph"]}
    files = [e for e in crate["@graph"] if e["@type"] == "File"]
    assert len(files) == crawled["data"]["files_crawled"]
    for f in files:  # each File names a real file, its size as the file system says
        assert f["@id"].startswith("file:///")
        named = urllib.parse.unquote(f["@id"].removeprefix("file://"))
        assert f["contentSize"] == str(os.stat(named).st_size), named
        folder = entities["file://" + urllib.parse.quote(os.path.dirname(named)) + "/"]
        assert folder["@type"] == "Dataset" and {"@id": f["@id"]} in folder["hasPart"]
    action = entities["#extraction"]
    assert action["@type"] == "CreateAction" and action["result"] == {"@id": "./"}
    assert entities[action["object"]["@id"]]["@type"] == "Dataset"
    # the validator can say no: the same crate without its root's publication date fails
    del entities["./"]["datePublished"]
    written.write_text(json.dumps(crate))
    assert not validate_rocrate(written.parent, data_root)["passed"]

    license = "https://spdx.org/licenses/CC-BY-4.0"
    dataset = _export(xtr, cid, data_root / "exports" / "schemaorg", "schemaorg",
                      creator="Doe, Jane", license=license)  # fmt: skip
    path = data_root / "exports" / "schemaorg.json"
    path.write_text(json.dumps(dataset))
    checked = validate_schemaorg(path)
    assert checked["conforms"], checked["report"]
    assert "http://schema.org/DataDownload" in checked["types"]
    assert len(dataset["distribution"]) == crawled["data"]["files_crawled"]
    columns = {v["name"] for v in dataset["variableMeasured"]}
    assert columns >= set(table_columns)
    dataset["distribution"][0] = "file:///a/download/said/as/text"
    path.write_text(json.dumps(dataset))  # the shapes can say no: a DataDownload is a node
    assert not validate_schemaorg(path)["conforms"]
