"""A hostile Globus Compute endpoint (the caller chooses it, with ``funcx_ep_id``)
answers with a pickle whose loading runs code, or with a result too large to read:
nothing it sends is unpickled in a service process. Its families fail with the reason,
and the code never ran."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.emulators.compute import ENDPOINT, TOKEN, ComputeEmulator, pickled_touch
from tests.support import Service, all_documents, by_path, make_tree
from xtract_sdk import XtractEndpoint


def extract_on_endpoint(svc: Service, folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    xtr = svc.client(tokens={"Compute": TOKEN})
    xep = XtractEndpoint("local", dirs=[str(folder)], funcx_ep_id=ENDPOINT)
    xtr.crawl_and_wait(xep, progress=False)
    cid = xtr.crawl_ids[-1]
    (status,) = xtr.xtract_and_wait(cid, progress=False, timeout=120, executor="globus-compute")
    return status, by_path(all_documents(xtr, cid))


def test_a_pickled_answer_from_a_compute_endpoint_is_never_loaded(
    compute_service: Service, emu: ComputeEmulator, tree_dir: Path
) -> None:
    tree = make_tree(tree_dir / "data", 6)
    marker = tree_dir / "the-endpoint-ran-code-here"
    emu.answer = pickled_touch(marker)
    status, found = extract_on_endpoint(compute_service, tree_dir / "data")
    assert not marker.exists(), "a pickle from the endpoint was loaded in the service"
    assert status["xtract_status"] == "FAILED"
    assert status["xtract_counters"]["fx"]["success"] == 0
    assert set(found) == set(tree)  # an error record per file, none lost
    (reason,) = {e["message"] for f in found.values() for e in f["errors"]}
    assert "unreadable result" in reason and "other than JSON" in reason
    # what was asked of the endpoint: JSON results
    assert all(
        b["result_serializers"] == ["globus_compute_sdk.serialize.JSONData"]
        for b in emu.submissions
    )


def test_an_honest_endpoint_answering_json_still_extracts(
    compute_service: Service, emu: ComputeEmulator, tree_dir: Path
) -> None:
    tree = make_tree(tree_dir / "data", 6)
    status, found = extract_on_endpoint(compute_service, tree_dir / "data")
    assert status["xtract_status"] == "COMPLETED", status
    assert set(found) == set(tree)
    assert all(f["metadata"].get("filetype") for f in found.values())


def test_documents_of_other_paths_or_families_are_refused(
    compute_service: Service, emu: ComputeEmulator, tree_dir: Path
) -> None:
    """JSON is not enough: an endpoint that answers with metadata of paths its families
    do not hold (or claims files of its own) has its batch failed, and none of what it
    made up is recorded."""
    import json

    from globus_compute_sdk.serialize import JSONData

    def made_up(result: Any) -> str:
        docs = json.loads(json.dumps(result))
        for doc in docs:
            doc["metadata"]["/etc/shadow"] = {"filetype": {"mimetype": "text/plain"}}
            doc["files"] = [{"path": "/etc/shadow", "size": 1, "extension": "", "mtime": 0.0}]
        return str(JSONData().serialize(docs))

    tree = make_tree(tree_dir / "data", 6)
    emu.answer = made_up
    status, found = extract_on_endpoint(compute_service, tree_dir / "data")
    assert status["xtract_status"] == "FAILED"
    assert "/etc/shadow" not in found and set(found) == set(tree)
    reasons = {e["message"] for f in found.values() for e in f["errors"]}
    assert reasons and all("paths that are not its own" in r for r in reasons), reasons
