"""``netcdf``: dimensions, variables and attributes of NetCDF files (netCDF4 reads
NETCDF4, NETCDF4_CLASSIC and the classic 32- and 64-bit formats). Values are not read."""

from __future__ import annotations

from typing import Any

from ..registry import extractor, param
from ._common import jsonable, need


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
    with netcdf4.Dataset(path, "r") as ds:
        out = {"format": ds.data_model, **_group(ds, max_variables)}
    return out
