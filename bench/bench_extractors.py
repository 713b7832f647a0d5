"""Extractor speed: files/s per extractor on a generated corpus, called in a plain loop
(what a user would write) and through Xtract's isolated runner (a child process with
time and memory limits), side by side, with the runner's cost as a ratio.

Run: ``python bench/bench_extractors.py --copies 50``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.corpus import write_good
from xtract_extractors import IsolatedRunner, get

# extractor -> corpus file it reads
FILES = {
    "filetype": "table.csv",
    "tabular": "table.csv",
    "keyword": "notes.txt",
    "images": "photo.jpg",
    "jsonxml": "data.json",
    "hdf5": "grid.h5",
    "netcdf": "climate.nc",
    "python": "script.py",
    "c_code": "prog.c",
    "pdf": "paper.pdf",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=50, help="files per extractor")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="xtract-bench-ex-"))
    try:
        good = write_good(work / "src")
        corpus: dict[str, list[str]] = {}
        for name, src in FILES.items():
            d = work / name
            d.mkdir()
            paths = []
            for i in range(args.copies):
                p = d / f"{i}_{src}"
                shutil.copy(good[src], p)
                paths.append(str(p))
            corpus[name] = paths

        print(f"{'extractor':<10}{'plain loop f/s':>16}{'isolated f/s':>14}{'ratio':>8}")
        with IsolatedRunner(time_limit=60) as runner:
            for name, paths in corpus.items():
                ex = get(name)
                ex.run([paths[0]])  # import its library once, in both places
                runner.run(name, [paths[0]])
                t = time.perf_counter()
                for path in paths:
                    ex.run([path])
                plain = len(paths) / (time.perf_counter() - t)
                t = time.perf_counter()
                for path in paths:
                    runner.run(name, [path])
                isolated = len(paths) / (time.perf_counter() - t)
                print(f"{name:<10}{plain:>16,.0f}{isolated:>14,.0f}{isolated / plain:>8.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
