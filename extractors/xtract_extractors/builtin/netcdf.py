"""``netcdf``: dimensions, variables and attributes of NetCDF files (netCDF4 reads
NETCDF4, NETCDF4_CLASSIC and the classic 32- and 64-bit formats). Values are not read.

A NetCDF-4 file is HDF5, and the HDF5 library under netCDF4 follows external links when
it walks groups and variables: such a file's structure would show another file's.
So an HDF5-based file is looked at with h5py first; one that points at another file
(external links, external storage, virtual datasets) is described from its own tree by
the ``hdf5`` reader instead, its links listed by target name and never followed."""

from __future__ import annotations

from typing import Any

from ..registry import extractor, param
from ._common import jsonable, need
from ._links import escapes, is_hdf5, outside_links


def _group(g: Any, max_vars: int) -> dict[str, Any]:
    variables = {}
    for i, (name, v) in enumerate(g.variables.items()):
        if i >= max_vars:
            break
        filters = v.filters() or {}
        variables[name] = {
            "dimensions": list(v.dimensions),
            "shape": list(v.shape),
            "dtype": str(v.dtype),
            "attributes": {a: jsonable(v.getncattr(a)) for a in v.ncattrs()},
            "compression": {k: jsonable(x) for k, x in filters.items() if x},
            "chunking": jsonable(v.chunking()),
        }
    return {
        "dimensions": {
            n: {"size": len(d), "unlimited": d.isunlimited()} for n, d in g.dimensions.items()
        },
        "variables": variables,
        "attributes": {a: jsonable(g.getncattr(a)) for a in g.ncattrs()},
        "groups": {n: _group(sub, max_vars) for n, sub in g.groups.items()},
    }


@extractor(
    "netcdf",
    kinds=["hierarchical"],
    extensions=["nc", "nc4", "cdf", "netcdf"],
    mimetypes=["application/x-netcdf"],
    version="1.0",
    family="hierarchical",
)
@param("max_variables", int, default=500, high=100_000, desc="variables described per group")
def netcdf(path: str, max_variables: int = 500) -> dict[str, Any]:
    """Dimensions, variables (shape, dtype, attributes, compression) and groups."""
    netcdf4 = need("netCDF4", "hierarchical")
    if is_hdf5(path):
        h5py = need("h5py", "hierarchical")
        with h5py.File(path, "r") as f:
            links = outside_links(f)
        if escapes(links):
            from .hdf5 import hdf5

            own = hdf5(path, max_objects=max_variables)
            warning = "it points at other files; its own tree is described, links not followed"
            return {**own, "format": "NETCDF4", "warnings": [*own.get("warnings", []), warning]}
    with netcdf4.Dataset(path, "r") as ds:
        out = {"format": ds.data_model, **_group(ds, max_variables)}
    return out
