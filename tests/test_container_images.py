"""The extractor images exist: ``containers/build.sh`` makes a Debian base with
debootstrap and builds the ``jsonxml`` family's image on it with podman, from scratch
(no image kept from an earlier build); then an extraction through the service's Globus
Compute executor, with that image registered for the endpoint, runs its batches inside
the image (the emulated endpoint starts a container per task, as a templated endpoint
with a ``docker``/``podman`` container type does) and gives the same metadata as the
local executor. ``make containers`` builds every family's image the same way.

Needs root, podman and debootstrap (CI installs them; never skipped)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulators.compute import ENDPOINT, TOKEN, ComputeEmulator
from tests.service.test_executors import extract
from tests.support import Service
from xtract_sdk import XtractEndpoint

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "localhost/xtract-jsonxml"
BASE = "localhost/xtract-debian:bookworm"
# the same podman command line build.sh uses: works in a container, on cgroups v1 or v2
PODMAN = ["podman", "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs"]
if shutil.which("runc"):
    PODMAN += ["--runtime", "runc"]

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def built() -> str:
    assert os.geteuid() == 0, "building images needs root (debootstrap)"
    for tool in ("podman", "debootstrap"):
        assert shutil.which(tool), f"{tool} is not installed (apt-get install {tool})"
    for image in (IMAGE, BASE):
        subprocess.run([*PODMAN, "rmi", "-f", image], capture_output=True)
    env = {**os.environ, "XTRACT_PODMAN": " ".join(PODMAN)}
    subprocess.run(["bash", str(ROOT / "containers" / "build.sh"), "jsonxml"], env=env, check=True)
    return IMAGE


@pytest.fixture
def jsonxml_files(data_root: Path) -> Path:
    folder = data_root / f"containers-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps({"sample": "Fe2O3", "temps": [300, 310.5]}))
    (folder / "site.xml").write_text("<site><name>Argonne</name><lat>41.7</lat></site>")
    (folder / "conf.yaml").write_text("beamline: 2-BM\nenergy_kev: 24.9\n")
    (folder / "notes.txt").write_text("nothing a jsonxml extractor reads\n")
    return folder


@pytest.fixture
def in_containers(compute: ComputeEmulator, jsonxml_files: Path) -> Iterator[ComputeEmulator]:
    compute.containers_ran.clear()
    compute.container_run = [
        *PODMAN, "run", "--rm", "-i", "--network", "none",
        "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1000:1000",
        "--volume", f"{jsonxml_files}:{jsonxml_files}:ro",
    ]  # fmt: skip
    yield compute
    compute.container_run = None


def test_a_family_image_is_built_from_debootstrap_and_runs_an_extraction_batch(
    built: str,
    service: Service,
    compute_service: Service,
    in_containers: ComputeEmulator,
    jsonxml_files: Path,
) -> None:
    corpus = jsonxml_files
    inside = subprocess.run(
        [*PODMAN, "run", "--rm", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1000:1000",
         "--user", "10001",  # an endpoint's own user, not root, can run it
         built, "sh", "-c", "cat /etc/debian_version; python -m xtract_extractors"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert inside.splitlines()[0].startswith("12.")  # Debian bookworm, from debootstrap
    (line,) = [x for x in inside.splitlines()[1:] if x.split()[0] == "jsonxml"]
    assert "not installed" not in line, line  # the family's libraries are in the image

    local_status, local = extract(service.client(), corpus, executor="local")
    assert local_status["xtract_status"] == "COMPLETED"
    xtr = compute_service.client(tokens={"Compute": TOKEN})
    # the jsonxml batches run in the image; others (no image registered) on the endpoint
    xtr.register_containers(_endpoint(corpus), containers={"jsonxml": built})
    status, found = extract(xtr, corpus, executor="globus-compute", funcx=ENDPOINT)
    assert status["xtract_status"] == "COMPLETED", status
    assert in_containers.containers_ran and set(in_containers.containers_ran) == {built}
    assert found == local, differences(found, local)
    assert "jsonxml" in {e for doc in found.values() for e in doc["metadata"]}


def _endpoint(corpus: Path) -> XtractEndpoint:
    return XtractEndpoint("local", dirs=[str(corpus)], funcx_ep_id=ENDPOINT)


def differences(a: object, b: object, at: str = "") -> list[str]:
    """Where two JSON values differ, as ``path: a != b`` lines."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d for k in sorted(set(a) | set(b)) for d in differences(a.get(k), b.get(k), f"{at}/{k}")
        ]
    return [] if a == b else [f"{at}: {a!r} != {b!r}"]
