"""What an HDF5 file (NetCDF-4 included) points at outside itself: external links, soft
links, datasets whose values live in other files (external storage) and virtual
datasets. Recorded, with their targets' names, and never followed: a file inside the
crawl's roots must not expose another file's contents (``tests/hostile``)."""

from __future__ import annotations

from typing import Any

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def is_hdf5(path: str) -> bool:
    """Whether the file is HDF5 (a NetCDF-4 file is): its signature at offset 0. (HDF5
    also allows a user block before it, at 512, 1024, ... bytes: those are looked for
    too, up to 64 KiB.)"""
    with open(path, "rb") as f:
        head = f.read(65536 + len(HDF5_SIGNATURE))
    offsets = [0] + [512 << i for i in range(8)]
    return any(head[o : o + len(HDF5_SIGNATURE)] == HDF5_SIGNATURE for o in offsets)


def outside_links(h5file: Any, limit: int = 1000) -> list[dict[str, Any]]:
    """Every link or dataset of ``h5file`` (an open ``h5py.File``) that points outside
    its hard-linked tree, at most ``limit``: ``{name, kind, file?, path?}``. Walks links
    only (``visititems_links`` lists a link without resolving it) and datasets reached by
    hard links (``visititems`` follows hard links only)."""
    import h5py

    found: list[dict[str, Any]] = []

    def link(name: str, lnk: Any) -> None:
        if len(found) >= limit:
            return
        if isinstance(lnk, h5py.ExternalLink):
            found.append(
                {
                    "name": "/" + name,
                    "kind": "external_link",
                    "file": lnk.filename,
                    "path": lnk.path,
                }
            )
        elif isinstance(lnk, h5py.SoftLink):
            found.append({"name": "/" + name, "kind": "soft_link", "path": lnk.path})

    def dataset(name: str, obj: Any) -> None:
        if len(found) >= limit or not isinstance(obj, h5py.Dataset):
            return
        if obj.external:
            files = sorted(
                {
                    str(e[0], "utf-8", "replace") if isinstance(e[0], bytes) else str(e[0])
                    for e in obj.external
                }
            )
            found.append({"name": "/" + name, "kind": "external_storage", "files": files})
        if obj.is_virtual:
            files = sorted({m.file_name for m in obj.virtual_sources()})
            found.append({"name": "/" + name, "kind": "virtual", "files": files})

    h5file.visititems_links(link)
    h5file.visititems(dataset)
    return found


def escapes(links: list[dict[str, Any]]) -> bool:
    """Whether any of these reach another file (a soft link stays inside)."""
    return any(link["kind"] != "soft_link" for link in links)
