"""The same corpus through every executor gives the same metadata: local processes,
Parsl's HighThroughputExecutor (LocalProvider, two workers), and Globus Compute through
the real globus-sdk and globus-compute-sdk clients against the loopback emulator."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.emulators.compute import ENDPOINT, TOKEN, ComputeEmulator
from tests.support import Service, all_documents, by_path
from xtract_sdk import XtractClient, XtractEndpoint


def extract(xtr: XtractClient, corpus: Path, **options: Any) -> tuple[dict, dict]:
    xep = XtractEndpoint("local", dirs=[str(corpus)], funcx_ep_id=options.pop("funcx", None))
    xtr.crawl_and_wait(xep, progress=False)
    (status,) = xtr.xtract_and_wait(xtr.crawl_ids[-1:], progress=False, timeout=300, **options)
    return status, by_path(all_documents(xtr, xtr.crawl_ids[-1]))


@pytest.fixture(scope="module")
def local_result(service: Service, corpus: Path) -> dict:
    status, found = extract(service.client(), corpus, executor="local")
    assert status["xtract_status"] == "COMPLETED"
    return found


def test_parsl_gives_the_same_metadata_as_local(
    service: Service, corpus: Path, local_result: dict
) -> None:
    status, found = extract(service.client(), corpus, executor="parsl")
    assert status["xtract_status"] == "COMPLETED", status
    assert status["executor"] == "parsl"
    differ = {
        p: (found.get(p), local_result.get(p))
        for p in set(found) | set(local_result)
        if found.get(p) != local_result.get(p)
    }
    assert not differ, differ


def test_globus_compute_gives_the_same_metadata_in_the_registered_containers(
    compute_service: Service, emu: ComputeEmulator, corpus: Path, local_result: dict
) -> None:
    xtr = compute_service.client(tokens={"Compute": TOKEN})
    xep = XtractEndpoint("local", dirs=[str(corpus)], funcx_ep_id=ENDPOINT)
    registered = xtr.register_containers(xep, container_path="/opt/images")
    assert registered["containers"]["images"] == "/opt/images/xtract-images.sif"
    status, found = extract(xtr, corpus, executor="globus-compute", funcx=ENDPOINT)
    assert status["xtract_status"] == "COMPLETED", status
    differ = {
        p: (found.get(p), local_result.get(p))
        for p in set(found) | set(local_result)
        if found.get(p) != local_result.get(p)
    }
    assert not differ, differ

    assert emu.submissions, "nothing reached the Compute service"
    for body in emu.submissions:
        config = body["user_endpoint_config"]
        assert config["container_type"] == "apptainer"
        assert config["container_uri"].startswith("/opt/images/xtract-")
        (payloads,) = body["tasks"].values()
        args, _ = emu.serde.unpack_buffers(payloads[0])
        (families,) = emu.serde.deserialize(args)
        wanted = {g["extractor"] for f in families for g in f["groups"]} - {None}
        family = config["container_uri"].rsplit("xtract-", 1)[1].removesuffix(".sif")
        from xtract_extractors.kinds import container_family

        assert {container_family(w) for w in wanted} <= {family}


@pytest.mark.parametrize("fault", ["offline", "refused"])
def test_a_compute_endpoint_that_cannot_take_work_fails_its_families_with_the_reason(
    compute_service: Service, emu: ComputeEmulator, corpus: Path, fault: str
) -> None:
    if fault == "offline":
        emu.online = False
    else:
        emu.refuse = "function not on the endpoint's allow list"
    xtr = compute_service.client(tokens={"Compute": TOKEN})
    status, found = extract(xtr, corpus / "good", executor="globus-compute", funcx=ENDPOINT)
    assert status["xtract_status"] == "FAILED"
    fx = status["xtract_counters"]["fx"]
    assert fx["success"] == 0 and fx["failed"] == 14 and fx["pending"] == 0
    assert set(found) == {str(p) for p in (corpus / "good").iterdir()}  # a record per file
    (reason,) = {e["message"] for f in found.values() for e in f["errors"]}
    if fault == "offline":
        assert reason == f"Globus Compute endpoint {ENDPOINT} is offline"
    else:
        assert "403 FUNCTION_NOT_PERMITTED" in reason and "allow list" in reason
    assert "families failed" in status["message"]


def test_what_a_compute_endpoint_answered_is_not_trusted_for_local_reads(
    compute_service: Service, emu: ComputeEmulator, data_root: Path
) -> None:
    """An endpoint's answers never enter the owner's content cache (issue 21: the
    caller chooses the endpoint, so it must not decide what later local extraction
    finds there): the same bytes under another name, extracted locally, are read again,
    and read alike."""
    there, here = (
        data_root / f"far-{uuid.uuid4().hex[:8]}",
        data_root / f"near-{uuid.uuid4().hex[:8]}",
    )
    for d in (there, here):
        d.mkdir()
        os.chmod(d, 0o755)
    rows = "\n".join(f"{i},{uuid.uuid4().hex}" for i in range(30))  # nobody else's bytes
    (there / "measured.csv").write_text("n,tag\n" + rows + "\n")
    (here / "copied.csv").write_text("n,tag\n" + rows + "\n")
    xtr = compute_service.client(tokens={"Compute": TOKEN})
    xtr.crawl_and_wait(
        XtractEndpoint("local", dirs=[str(there)], funcx_ep_id=ENDPOINT), progress=False
    )
    (status,) = xtr.xtract_and_wait(
        xtr.crawl_ids[-1:], progress=False, timeout=120, executor="globus-compute"
    )
    assert status["xtract_status"] == "COMPLETED" and emu.submissions
    far = all_documents(xtr, xtr.crawl_ids[-1])[0]
    xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(here)]), progress=False)
    (status,) = xtr.xtract_and_wait(xtr.crawl_ids[-1:], progress=False, timeout=120)
    near = all_documents(xtr, xtr.crawl_ids[-1])[0]
    assert near["extractors"]["tabular"]["reused"] == 0
    assert far["extractors"]["tabular"]["reused"] == 0
    theirs = far["metadata"][str(there / "measured.csv")]["tabular"]
    mine = near["metadata"][str(here / "copied.csv")]["tabular"]
    assert mine == theirs and mine["rows"] == 30
