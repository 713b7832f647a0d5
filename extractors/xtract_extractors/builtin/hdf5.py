"""``hdf5``: the tree of an HDF5 file with h5py: groups, datasets (shape, dtype,
chunks, compression) and attributes. Only metadata is read, never dataset values, and
only the file's own tree: external links, external storage and virtual datasets are
listed under ``links`` with their targets' names, never followed (``_links.py``)."""

from __future__ import annotations

from typing import Any

from ..registry import extractor, param
from ._common import jsonable, need
from ._links import outside_links


def _attrs(obj: Any, limit: int) -> dict[str, Any]:
    out = {}
    for i, (k, v) in enumerate(obj.attrs.items()):
        if i >= limit:
            out["..."] = f"{len(obj.attrs) - limit} more"
            break
        out[k] = jsonable(v)
    return out


@extractor(
    "hdf5",
    kinds=["hierarchical"],
    extensions=["h5", "hdf5", "hdf", "he5"],
    mimetypes=["application/x-hdf5", "application/x-hdf"],
    version="1.0",
    family="hierarchical",
)
@param("max_objects", int, default=1000, high=100_000, desc="groups and datasets described")
@param("max_attrs", int, default=50, high=10_000, desc="attributes kept per object")
def hdf5(path: str, max_objects: int = 1000, max_attrs: int = 50) -> dict[str, Any]:
    """Groups, datasets, shapes, dtypes, compression and attributes of an HDF5 file."""
    h5py = need("h5py", "hierarchical")
    groups: list[dict[str, Any]] = []
    datasets: list[dict[str, Any]] = []
    seen = [0]

    def visit(name: str, obj: Any) -> None:
        seen[0] += 1
        if len(groups) + len(datasets) >= max_objects:
            return
        if isinstance(obj, h5py.Dataset):
            datasets.append(
                {
                    "name": "/" + name,
                    "shape": list(obj.shape) if obj.shape is not None else None,
                    "dtype": str(obj.dtype),
                    "chunks": list(obj.chunks) if obj.chunks else None,
                    "compression": obj.compression,
                    "compression_opts": jsonable(obj.compression_opts),
                    "attributes": _attrs(obj, max_attrs),
                }
            )
        elif isinstance(obj, h5py.Group):
            groups.append({"name": "/" + name, "attributes": _attrs(obj, max_attrs)})

    with h5py.File(path, "r") as f:
        root_attrs = _attrs(f, max_attrs)
        f.visititems(visit)
        out: dict[str, Any] = {
            "format": "HDF5",
            "libver": jsonable(f.libver),
            "attributes": root_attrs,
            "groups": groups,
            "datasets": datasets,
            "links": outside_links(f, max_objects),
        }
    if seen[0] > max_objects:
        out["warnings"] = [f"{seen[0]} objects; described the first {max_objects}"]
    return out


@extractor(
    "numpy",
    kinds=["hierarchical"],
    extensions=["npy", "npz"],
    mimetypes=["application/x-npy", "application/x-numpy-data"],
    version="1.0",
    family="hierarchical",
)
def numpy_arrays(path: str) -> dict[str, Any]:
    """The arrays of a NumPy ``.npy`` or ``.npz`` file: name, shape, dtype, order, from
    their headers only (no data read, and never a pickle: an object array is named, not
    loaded)."""
    import zipfile

    np = need("numpy", "hierarchical")
    fmt = np.lib.format

    def header(f: Any) -> dict[str, Any]:
        major, _ = fmt.read_magic(f)
        # format 1.0 has a 2-byte header length, 2.0 and 3.0 (UTF-8 names) a 4-byte one
        read = fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0
        shape, fortran, dtype = read(f, max_header_size=1 << 16)
        return {"shape": list(shape), "dtype": str(dtype), "fortran_order": bool(fortran)}

    if zipfile.is_zipfile(path):
        arrays = []
        with zipfile.ZipFile(path) as z:
            for info in z.infolist()[:1000]:
                if info.filename.endswith(".npy"):
                    with z.open(info) as f:
                        arrays.append({"name": info.filename[:-4], **header(f)})
        return {"format": "npz", "arrays": arrays}
    with open(path, "rb") as f:
        return {"format": "npy", "arrays": [{"name": None, **header(f)}]}
