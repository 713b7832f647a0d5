"""``materials``: atomistic structures and simulation outputs, as the published
Xtract's MatIO read them, through ASE: CIF, XYZ and extended XYZ, VASP
(``POSCAR``/``CONTCAR``, ``OUTCAR``, ``vasprun.xml``), Gaussian and ORCA outputs, and
whatever else ``ase.io`` recognises by name or content. The last structure of a file
gives the composition (Hill formula, elements, atom count), the cell (lengths, angles,
volume, periodicity) and, where the file holds them, the energy, forces and stress;
the code and its version come from the file's own header lines.

ASE picks the format from the file's name and first bytes (``ase.io.formats.filetype``);
a structure it cannot read (a VASP 4 ``POSCAR`` without species, whose ``POTCAR`` is
not beside it) is an error record saying why."""

from __future__ import annotations

import re
from typing import Any

from ..registry import extractor, param
from ._common import jsonable, need

MAX_HEAD = 64 << 10  # bytes searched for the code's name and version
MAX_BYTES = 512 << 20  # ASE parses a whole file: larger outputs are not read

_VERSIONS = [
    ("VASP", re.compile(rb"\bvasp\.(\d+\.\d+(?:\.\d+)?)")),
    ("VASP", re.compile(rb'<i name="version"[^>]*>\s*([\d.]+)')),
    ("Gaussian", re.compile(rb"Gaussian (\d+), Revision ([\w.]+)")),
    ("ORCA", re.compile(rb"Program Version (\d+\.\d+\.\d+)")),
    ("FHI-aims", re.compile(rb"FHI-aims version\s*:\s*(\S+)")),
]
_CIF_SPACE_GROUP = re.compile(
    rb"^_(?:symmetry_space_group_name_H-M|space_group_name_H-M_alt)\s+['\"]?([^'\"\r\n]+)",
    re.MULTILINE,
)


def _code(head: bytes) -> dict[str, str]:
    for code, pattern in _VERSIONS:
        m = pattern.search(head)
        if m:
            return {"code": code, "code_version": ".".join(g.decode() for g in m.groups() if g)}
    return {}


def _calculated(atoms: Any) -> dict[str, Any]:
    """Energy, and whether forces and stress are given, from the file's own results."""
    calc = atoms.calc
    results = getattr(calc, "results", {}) if calc is not None else {}
    out: dict[str, Any] = {}
    for key in ("energy", "free_energy"):
        if key in results:
            out[key] = float(results[key])
    out["has_forces"] = "forces" in results
    out["has_stress"] = "stress" in results
    return out


@extractor(
    "materials",
    kinds=["materials"],
    extensions=["cif", "xyz", "extxyz", "poscar", "contcar", "vasp", "outcar"],
    names=["POSCAR*", "CONTCAR*", "OUTCAR*", "vasprun*.xml"],
    mimetypes=["chemical/x-cif", "chemical/x-xyz"],
    version="1.0",
    fields={
        "format": "string",
        "code": "string",
        "code_version": "string",
        "formula": "string",
        "atoms": "int64",
        "elements": "list<string>",
        "volume": "double",
        "energy": "double",
        "space_group": "string",
    },
    family="materials",
    reads_name="name",
)
@param("max_elements", int, default=120, high=1000, desc="elements listed")
def materials(path: str, max_elements: int = 120) -> dict[str, Any]:
    """Format, code and version, formula, elements, atoms, cell, periodicity, energy of
    the last structure in a materials-science file."""
    import os

    if os.path.getsize(path) > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES} bytes: ASE parses whole files")
    ase_io = need("ase.io", "materials")
    formats = need("ase.io.formats", "materials")
    fmt = formats.filetype(path, guess=True)
    with open(path, "rb") as f:
        head = f.read(MAX_HEAD)
    atoms = ase_io.read(path, index=-1, format=fmt)
    cell = atoms.cell
    periodic = bool(atoms.pbc.any())
    symbols = atoms.get_chemical_symbols()
    out: dict[str, Any] = {
        "format": fmt,
        **_code(head),
        "formula": atoms.get_chemical_formula(mode="hill"),
        "reduced_formula": atoms.get_chemical_formula(mode="hill", empirical=True),
        "atoms": len(atoms),
        "elements": sorted(set(symbols))[:max_elements],
        "pbc": [bool(p) for p in atoms.pbc],
    }
    if periodic or cell.rank == 3:
        out["cell_lengths"] = [round(float(x), 6) for x in cell.lengths()]
        out["cell_angles"] = [round(float(x), 6) for x in cell.angles()]
        if cell.rank == 3:
            out["volume"] = round(float(cell.volume), 6)
    m = _CIF_SPACE_GROUP.search(head) if fmt == "cif" else None
    if m:
        out["space_group"] = m.group(1).decode("utf-8", "replace").strip()
    out.update(_calculated(atoms))
    info = {k: v for k, v in atoms.info.items() if isinstance(v, str | int | float | bool)}
    if info:
        out["info"] = jsonable(info, max_items=20)
    return out
