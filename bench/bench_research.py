"""The research formats' cost per file (issue 23): for each family, the same real files
(the truth corpus: `make samples` and the readers' own packages) read three ways, side
by side in one run: the format's reference reader in a plain loop (what a user would
write: openpyxl, python-docx, tifffile, pydicom, nibabel, astropy, pyarrow, pyreadstat,
scipy, the stdlib), Xtract's extractor called in a plain loop, and Xtract's isolated
runner (a child process with time and memory limits). All runs are warm: the libraries
are imported and the files read once before timing (the OS page cache holds them).
Also the installed size of each family's extra (its distributions' files).

Run: ``python bench/bench_research.py [--per-kind 40]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.truth import corpus, research
from xtract_extractors import IsolatedRunner, get

# kind: (extractor, suffixes, reference reader, the extra)
KINDS = {
    "xlsx": ("spreadsheet", ("xlsx",), research.xlsx_truth, "spreadsheets"),
    "xls": ("spreadsheet", ("xls",), research.xls_truth, "spreadsheets"),
    "docx": ("office", ("docx",), research.docx_truth, "documents"),
    "pptx": ("office", ("pptx",), research.pptx_truth, "documents"),
    "tiff": ("tiff", ("tif", "tiff"), research.tiff_truth, "imaging"),
    "dicom": ("dicom", ("dcm",), research.dicom_truth, "medical"),
    "nifti": ("nifti", ("nii",), research.nifti_truth, "medical"),
    "fits": ("fits", ("fits",), research.fits_truth, "astro"),
    "parquet/orc": ("columnar", ("parquet", "orc"), research.columnar_truth, "columnar"),
    "spss/stata/sas": ("statistics", ("sav", "dta", "sas7bdat"), research.stats_truth, "stats"),
    "matlab": ("matlab", ("mat",), research.matlab_truth, "stats"),
    "wav": ("media", ("wav",), research.wav_truth, "media"),
    "ogg audio": ("media", ("oga",), research.ffmpeg_truth, "media"),
    "cif": ("materials", ("cif",), research.cif_truth, "materials"),
    "fasta/vcf/sam": ("sequences", ("fa", "vcf", "sam"), research.fasta_truth, "sequences"),
}


def _ms(fn: object, files: list[Path]) -> float:
    start = time.perf_counter()
    for f in files:
        with contextlib.suppress(Exception):  # a file the reader refuses costs its refusal
            fn(f)  # type: ignore[operator]
    return (time.perf_counter() - start) * 1000 / max(1, len(files))


def extra_size(extra: str) -> float:
    """MB installed by the distributions an extra names (not their dependencies)."""
    req = metadata.requires("xtract") or []
    names = {
        r.split(";")[0].split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip()
        for r in req
        if f'extra == "{extra}"' in r
    }
    total = 0
    for name in names:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for f in dist.files or []:
            with contextlib.suppress(OSError):
                total += Path(str(dist.locate_file(f))).stat().st_size
    return total / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-kind", type=int, default=40)
    args = ap.parse_args()
    print(
        "| kind | extractor | files | reference loop ms/file | extractor loop ms/file "
        "| Xtract runner ms/file | extractor vs reference | extra | extra MB |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with IsolatedRunner(time_limit=60) as runner:
        for kind, (name, suffixes, reference, extra) in KINDS.items():
            where = "/haven/" if kind == "spss/stata/sas" else ""  # not IDL save files
            files = corpus.files_of(*suffixes, n=args.per_kind, where=where)
            if not files:
                continue
            fn = get(name).fn
            for f in files:  # warm: imports and the page cache
                try:
                    reference(f)
                    fn(str(f))
                except Exception:
                    pass
                runner.run(name, [str(f)])
            ref = statistics.median(_ms(reference, files) for _ in range(3))
            own = statistics.median(_ms(lambda f, fn=fn: fn(str(f)), files) for _ in range(3))
            iso = statistics.median(
                _ms(lambda f, n=name: runner.run(n, [str(f)]), files) for _ in range(3)
            )
            print(
                f"| {kind} | `{name}` | {len(files)} | {ref:.2f} | {own:.2f} | {iso:.2f} "
                f"| {ref / own if own else 0:.1f}x | `{extra}` | {extra_size(extra):.1f} |"
            )


if __name__ == "__main__":
    main()
