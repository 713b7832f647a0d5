"""HDF5 and NetCDF-4 files that point outside themselves: an external link to another
file's group, a dataset whose values live in another file, a virtual dataset over
another file. The ``hdf5`` and ``netcdf`` extractors list each link with its target's
name (as h5py, the reference reader, names it at test time) and never show the target's
contents; the file's own tree is still described."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import h5py
import netCDF4
import numpy as np
import pytest

from xtract_extractors import IsolatedRunner, is_error_record
from xtract_extractors.safepath import Roots

SECRET = f"TOPSECRET-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("hdf-links")
    outside, inside = base / "outside", base / "inside"
    outside.mkdir()
    inside.mkdir()
    secret = outside / "secret.h5"
    with h5py.File(secret, "w") as f:
        g = f.create_group("classified")
        g.attrs["note"] = SECRET
        d = g.create_dataset("codes", data=np.arange(4))
        d.attrs["note"] = SECRET
    nc = inside / "linked.nc"
    with netCDF4.Dataset(nc, "w", format="NETCDF4") as ds:
        ds.createDimension("t", 3)
        v = ds.createVariable("temperature", "f4", ("t",))
        v.units = "K"
    with h5py.File(nc, "a") as f:
        f["leak"] = h5py.ExternalLink(str(secret), "/classified")
    h5 = inside / "linked.h5"
    with h5py.File(h5, "w") as f:
        f.create_dataset("own", data=np.zeros(2))
        f["leak"] = h5py.ExternalLink(str(secret), "/classified")
        f.create_dataset("stored_elsewhere", (8,), "u1", external=[(str(secret), 0, 8)])
        layout = h5py.VirtualLayout(shape=(4,), dtype="i8")
        layout[:] = h5py.VirtualSource(str(secret), "/classified/codes", shape=(4,))
        f.create_virtual_dataset("virtual", layout)
    return {"secret": secret, "nc": nc, "h5": h5, "inside": inside}


def reference_links(path: Path) -> dict[str, dict[str, Any]]:
    """What h5py says each non-hard link, external dataset and virtual dataset is."""
    out: dict[str, dict[str, Any]] = {}
    with h5py.File(path, "r") as f:
        for name in f:
            link = f.get(name, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                out["/" + name] = {"kind": "external_link", "file": link.filename}
            elif isinstance(f[name], h5py.Dataset) and f[name].external:
                out["/" + name] = {"kind": "external_storage"}
            elif isinstance(f[name], h5py.Dataset) and f[name].is_virtual:
                out["/" + name] = {"kind": "virtual"}
    return out


@pytest.mark.parametrize("which", ["nc", "h5"])
@pytest.mark.parametrize("extractor", ["hdf5", "netcdf"])
def test_links_out_of_a_file_are_listed_and_never_followed(
    files: dict[str, Path], runner: IsolatedRunner, which: str, extractor: str
) -> None:
    path = files[which]
    result = runner.run(extractor, [str(path)], roots=Roots([str(files["inside"])]))
    assert not is_error_record(result), result
    assert SECRET not in json.dumps(result)  # nothing of the target's contents
    listed = {link["name"]: link for link in result["links"]}
    truth = reference_links(path)
    assert set(listed) == set(truth)
    for name, want in truth.items():
        assert listed[name]["kind"] == want["kind"]
        if "file" in want:
            assert listed[name]["file"] == want["file"]
    # the file's own tree is still there
    names = {d["name"] for d in result["datasets"]}
    assert ("/temperature" if which == "nc" else "/own") in names
    assert "/leak" not in {g["name"] for g in result["groups"]}
