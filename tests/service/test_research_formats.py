"""A lab share of the formats research repositories hold (issue 23), crawled and
extracted through the SDK and the real service: real files nobody here wrote (Debian
packages' example data and sdists' test files from ``make samples``, the readers' own
packages' files), nested as a lab keeps them; no file is ``unknown`` and each is read
by the extractor of its format."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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
    ("wav", "scipy/io/tests/data/test-44100Hz-le-1ch-4bytes.wav", "audio"),
    ("fa", "Biostrings/extdata/someORF", "sequences"),
    ("vcf", "VariantAnnotation/extdata/ex2", "sequences"),
    ("sam", "Rsamtools/extdata/tiny", "sequences"),
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
    service: Service, tree_dir: Path
) -> None:
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
