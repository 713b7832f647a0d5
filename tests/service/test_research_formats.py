"""A lab share of the formats research repositories hold (issue 23), crawled and
extracted through the SDK and the real service: real files nobody here wrote (Debian
packages' example data and sdists' test files from ``make samples``, the readers' own
packages' files), nested as a lab keeps them; no file is ``unknown`` and each is read
by the extractor of its format."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from tests.service.test_extraction import crawl
from tests.support import Service, all_documents, by_path
from tests.truth import corpus

# one real file per format: (suffix, where in its path, the extractor that must read it)
FORMATS = [
    ("xlsx", "readxl", "spreadsheet"),
    ("xls", "readxl", "spreadsheet"),
    ("ods", "odfpy", "spreadsheet"),
    ("docx", "python_docx", "office"),
    ("pptx", "python_pptx", "office"),
    ("odt", "odfpy", "office"),
    ("tif", "terra", "tiff"),
    ("dcm", "pydicom", "dicom"),
    ("nii", "nibabel/tests/data/anatomical", "nifti"),
    ("fits", "astropy", "fits"),
    ("parquet", "pyarrow", "columnar"),
    ("orc", "pyarrow", "columnar"),
    ("feather", "pyarrow", "columnar"),
    ("sav", "haven", "statistics"),
    ("dta", "haven", "statistics"),
    ("sas7bdat", "haven", "statistics"),
    ("mat", "scipy/io/matlab/tests/data/testdouble_7.4", "matlab"),
    ("wav", "scipy/io/tests/data/test-44100Hz-le-1ch-4bytes.wav", "media"),
    ("fa", "Biostrings/extdata/someORF", "sequences"),
    ("vcf", "VariantAnnotation/extdata/ex2", "sequences"),
    ("sam", "Rsamtools/extdata/tiny", "sequences"),
    ("cif", "ase/test/testdata/minerals", "materials"),
]


def _lab_share(root: Path) -> dict[str, str]:
    """Copies of the real files under a lab's folders; path -> the extractor expected."""
    expected = {}
    for i, (suffix, where, extractor) in enumerate(FORMATS):
        found = corpus.files_of(suffix, n=1, where=where)
        assert found, f"no .{suffix} file under {where!r}: run `make samples`"
        folder = root / f"project{i % 3}" / ("raw" if i % 2 else "derived") / suffix
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / found[0].name
        shutil.copyfile(found[0], target)
        expected[str(target)] = extractor
    for p in [root, *root.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    return expected


def test_a_lab_share_of_research_formats_has_no_unknown_file(
    service: Service, tree_dir: Path, data_root: Path
) -> None:
    import duckdb

    expected = _lab_share(tree_dir)
    xtr, cid, _ = crawl(service, tree_dir)
    (final,) = xtr.xtract_and_wait(progress=False, timeout=240)
    assert final["xtract_status"] == "COMPLETED", final
    found = by_path(all_documents(xtr, cid))
    assert set(found) == set(expected)
    for path, extractor in expected.items():
        doc = found[path]
        assert not doc["unknown"], path
        assert doc["errors"] == [], (path, doc["errors"])
        assert extractor in doc["metadata"], (path, sorted(doc["metadata"]))

    # each family's key facts are typed columns of the Parquet export (declared by the
    # extractor), and of the SDK's DuckDB table, not JSON text
    dest = data_root / "exports" / "research"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    folder = Path(xtr.offload_metadata(dest_path=str(dest), crawl_ids=[cid], format="parquet"))
    source = f"'{folder / cid}/*.parquet'"
    connections: list[tuple[Any, str]] = [(duckdb.connect(), source), (xtr.to_duckdb(cid), "files")]
    for con, table in connections:
        for extractor, column, kind in (
            ("spreadsheet", "sheet_count", "BIGINT"),
            ("dicom", "Rows", "BIGINT"),
            ("nifti", "shape", "BIGINT[]"),
            ("media", "duration_seconds", "DOUBLE"),
            ("materials", "elements", "VARCHAR[]"),
            ("columnar", "rows", "BIGINT"),
        ):
            path, value, typed = con.execute(
                f"SELECT path, {extractor}.{column}, typeof({extractor}.{column}) FROM {table} "
                f"WHERE {extractor} IS NOT NULL LIMIT 1"
            ).fetchone()
            assert typed == kind, (extractor, column, typed)
            assert value == found[path]["metadata"][extractor][column], (extractor, column)


def _datasets(root: Path) -> dict[str, list[str]]:
    """Multi-file datasets as a lab keeps them: a Zarr store, a DICOM series, a numbered
    TIFF series, a VASP run folder. Dataset -> its files (paths)."""
    import zarr

    store = root / "beamline" / "scan42.zarr"
    g = zarr.open_group(str(store), mode="w", zarr_format=2)
    g.attrs["sample"] = "NiSb"
    frames = g.create_array("frames", shape=(4, 8, 8), chunks=(1, 8, 8), dtype="u2")
    frames[:] = 1
    dicoms = corpus.files_of("dcm", n=40, where="pydicom")[:3]
    tiffs = corpus.files_of("tif", "tiff", n=3, where="terra")
    (ase_data,) = {p.parent.parent for p in corpus.files_of("xml", n=1, where="vasprun")}
    copies = {
        "series/ct/": [(p, p.name) for p in dicoms],
        "series/elev/": [(p, f"elev_{i:03d}.tif") for i, p in enumerate(tiffs)],
        "vasp/relax/": [
            (ase_data / "vasp" / "vasprun_pstress.xml", "vasprun.xml"),
            (ase_data / "vasp" / "OUTCAR_example_1", "OUTCAR"),
        ],
    }
    found = {"beamline/scan42.zarr": [str(p) for p in store.rglob("*") if p.is_file()]}
    for folder, files in copies.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        found[folder] = []
        for source, name in files:
            shutil.copyfile(source, root / folder / name)
            found[folder].append(str(root / folder / name))
    for p in [root, *root.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    return found


def test_each_dataset_is_one_family(service: Service, tree_dir: Path) -> None:
    datasets = _datasets(tree_dir)
    xtr, cid, _ = crawl(service, tree_dir, grouper="datasets")
    (final,) = xtr.xtract_and_wait(progress=False, timeout=240)
    assert final["xtract_status"] == "COMPLETED", final
    docs = all_documents(xtr, cid)
    family_of = {f["path"]: d["family_id"] for d in docs for f in d["files"]}
    assert set(family_of) == {p for files in datasets.values() for p in files}
    for name, files in datasets.items():
        assert len({family_of[p] for p in files}) == 1, name
    assert len(docs) == len(datasets)
    (store_doc,) = [d for d in docs if any(".zgroup" in f["path"] for f in d["files"])]
    assert store_doc["unknown"] == [] and store_doc["errors"] == []
    roles = {
        p.split("scan42.zarr/")[1]: m["zarr"]["role"] for p, m in store_doc["metadata"].items()
    }
    assert sorted(r for r in roles.values()) == [
        "array",
        "attributes",
        "attributes",
        "chunk",
        "chunk",
        "chunk",
        "chunk",
        "group",
    ]
    frames = store_doc["metadata"][str(tree_dir / "beamline/scan42.zarr/frames/.zarray")]
    assert frames["zarr"]["shape"] == [4, 8, 8]
    (vasp_doc,) = [d for d in docs if any(f["path"].endswith("OUTCAR") for f in d["files"])]
    readers = {p.rsplit("/", 1)[1]: sorted(m) for p, m in vasp_doc["metadata"].items()}
    assert all("materials" in r for r in readers.values()), (readers, vasp_doc["errors"])
