"""Dataset exports in the shapes repositories take (issue 24, item 4), each checked by
its community's validator: DataCite 4.5 JSON by DataCite's JSON schema (the `datacite`
package), Croissant by MLCommons' `mlcroissant`, which also reads a table's records
through the document."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.service.test_extraction import crawl
from tests.support import Service


def _export(xtr: object, cid: str, dest: Path, fmt: str, **params: object) -> dict:
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    folder = xtr.offload_metadata(  # type: ignore[attr-defined]
        dest_path=str(dest), crawl_ids=[cid], format=fmt, format_params=params
    )
    (doc,) = (Path(folder) / cid).glob(f"{fmt}.json")
    loaded: dict = json.loads(doc.read_text())
    return loaded


def test_datacite_and_croissant_exports_pass_their_validators(
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
    records = list(dataset.records(table["@id"]))
    assert len(records) == 100  # the table's rows, read through the document
