"""Real files of every supported kind, each written with its format's own library, plus
hostile ones. The tests check extracted metadata against the values written here."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

GOOD = (
    "table.csv",
    "preamble.tsv",
    "notes.txt",
    "report.docx",
    "paper.pdf",
    "photo.jpg",
    "plot.png",
    "data.json",
    "config.xml",
    "grid.h5",
    "climate.nc",
    "classic.nc",
    "script.py",
    "prog.c",
)

TEXT = (
    "Glacier mass balance measurements from automated weather stations show accelerated "
    "melting. The glacier mass balance record spans forty years of weather station data, "
    "and the melting trend in glacier mass balance is strongest in summer."
)


def write_csv(path: Path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["station", "temperature", "count", "flag"])
        for i in range(100):
            w.writerow([f"st{i % 3}", f"{-5 + i * 0.5:.1f}", i, "yes" if i % 2 else "no"])


def write_tsv_with_preamble(path: Path) -> None:
    with open(path, "w", newline="") as f:
        f.write("# instrument: spectrometer X\n# operator: A. Person\n")
        w = csv.writer(f, delimiter="\t")
        w.writerow(["wavelength", "intensity"])
        for i in range(50):
            w.writerow([400 + i, round(0.1 * i, 2)])


def write_docx(path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("Field report", 0)
    d.add_paragraph(TEXT)
    d.save(str(path))


def write_pdf(
    path: Path, text: str = "Glacier melting measurements", encrypt: str | None = None
) -> None:
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    w = PdfWriter()
    page = w.add_blank_page(width=612, height=792)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): w._add_object(font)})}
    )
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode())
    page[NameObject("/Contents")] = w._add_object(stream)
    w.add_blank_page(width=612, height=792)
    w.add_metadata({"/Title": "Glacier report", "/Author": "Xtract Tests"})
    if encrypt:
        w.encrypt(user_password=encrypt, owner_password=encrypt)
    with open(path, "wb") as f:
        w.write(f)


def write_jpeg_with_exif(path: Path) -> None:
    from PIL import Image

    im = Image.new("RGB", (64, 48), (10, 200, 30))
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif[0x0110] = "Model 7"
    exif[0x0132] = "2024:05:06 07:08:09"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (41.0, 52.0, 30.0)
    gps[3], gps[4] = "W", (87.0, 37.0, 48.0)
    im.save(path, format="JPEG", exif=exif, quality=95)


def write_png(path: Path) -> None:
    from PIL import Image

    Image.new("RGBA", (120, 80), (0, 0, 255, 255)).save(path, format="PNG")


def write_json(path: Path) -> None:
    path.write_text(
        json.dumps(
            {
                "experiment": "E42",
                "runs": [{"id": i, "energy": 1.5 * i} for i in range(1, 5)],
                "meta": {"site": {"name": "alpha", "elevation": 2200}},
            }
        )
    )


def write_xml(path: Path) -> None:
    path.write_text(
        '<?xml version="1.0"?>\n<catalog xmlns:d="http://example.org/d">'
        + "".join(f'<item id="{i}"><d:name>n{i}</d:name></item>' for i in range(7))
        + "</catalog>"
    )


def write_hdf5(path: Path) -> None:
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["instrument"] = "beamline 7"
        g = f.create_group("scan")
        g.attrs["energy_kev"] = 12.5
        d = g.create_dataset(
            "image", data=np.zeros((16, 32), dtype="float32"), compression="gzip", chunks=(8, 8)
        )
        d.attrs["units"] = "counts"
        f.create_dataset("times", data=np.arange(10, dtype="int64"))


def write_netcdf(path: Path, fmt: Any = "NETCDF4") -> None:
    import netCDF4

    with netCDF4.Dataset(path, "w", format=fmt) as ds:
        ds.title = "test climate"
        ds.createDimension("time", None)
        ds.createDimension("lat", 4)
        ds.createDimension("lon", 5)
        kw: dict[str, Any] = {"zlib": True} if fmt == "NETCDF4" else {}
        t = ds.createVariable("temperature", "f4", ("time", "lat", "lon"), **kw)
        t.units = "K"
        t[0:2, :, :] = np.ones((2, 4, 5), dtype="f4")
        lat = ds.createVariable("lat", "f8", ("lat",))
        lat[:] = np.linspace(-45, 45, 4)


def write_python(path: Path) -> None:
    path.write_text(
        '"""Analysis helpers."""\n'
        "import os\nfrom collections import Counter\n\n"
        "# a comment\n"
        'def mean(xs):\n    """Average of xs."""\n    return sum(xs) / len(xs)\n\n\n'
        'class Run:\n    """One run."""\n\n    def go(self):\n'
        "        if (n := len(os.listdir('.'))) > 1:\n            return Counter()\n"
    )


def write_c(path: Path) -> None:
    path.write_text(
        '#include <stdio.h>\n#include "local.h"\n/* a struct */\n'
        "struct point { int x; int y; };\n"
        '// entry\nint main(void) { printf("hi"); return 0; }\n'
        "static double area(struct point *p) { return p->x * p->y; }\n"
    )


def write_good(root: Path) -> dict[str, Path]:
    """Every good file in ``root``; returns name -> path."""
    root.mkdir(parents=True, exist_ok=True)
    writers = {
        "table.csv": write_csv,
        "preamble.tsv": write_tsv_with_preamble,
        "notes.txt": lambda p: p.write_text(TEXT),
        "report.docx": write_docx,
        "paper.pdf": write_pdf,
        "photo.jpg": write_jpeg_with_exif,
        "plot.png": write_png,
        "data.json": write_json,
        "config.xml": write_xml,
        "grid.h5": write_hdf5,
        "climate.nc": write_netcdf,
        "classic.nc": lambda p: write_netcdf(p, "NETCDF3_CLASSIC"),
        "script.py": write_python,
        "prog.c": write_c,
    }
    out = {}
    for name, write in writers.items():
        write(root / name)
        out[name] = root / name
    return out


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>\n<lolz>&lol9;</lolz>"
)

EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<r>&x;</r>'
)


def write_looping_pdf(path: Path) -> None:
    """A PDF whose page tree contains itself."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))


def write_hostile(root: Path) -> dict[str, Path]:
    """Files built to break extractors; returns name -> path."""
    root.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes | None] = {
        "empty.csv": b"",
        "empty.json": b"",
        "garbage.csv": bytes(range(256)) * 64,
        "truncated.png": None,
        "truncated.h5": None,
        "not_hdf5.h5": b"this is not an HDF5 file at all\n" * 10,
        "not_netcdf.nc": b"CDF\x09garbage" * 3,
        "deep.json": b"[" * 200_000 + b"]" * 200_000,
        "laughs.xml": BILLION_LAUGHS.encode(),
        "external.xml": EXTERNAL_ENTITY.encode(),
        "latin1.txt": "Température élevée à la station météo, données brutes".encode("latin-1"),
        "broken.py": b"def f(:\n    return\n",
        "encrypted.pdf": None,
        "looping.pdf": None,
        "wrong_magic.pdf": b"%PDX-1.4 not a pdf",
    }
    out = {}
    for name, data in files.items():
        if data is not None:
            (root / name).write_bytes(data)
        out[name] = root / name
    write_png(root / "full.png")
    (root / "truncated.png").write_bytes((root / "full.png").read_bytes()[:60])
    (root / "full.png").unlink()
    write_hdf5(root / "full.h5")
    (root / "truncated.h5").write_bytes((root / "full.h5").read_bytes()[:800])
    (root / "full.h5").unlink()
    write_pdf(root / "encrypted.pdf", encrypt="s3cret")
    write_looping_pdf(root / "looping.pdf")
    return out


def write_long_line_csv(path: Path, megabytes: int = 100) -> None:
    """A CSV whose single line is ``megabytes`` long, written in pieces."""
    piece = b"1234567,abc," * 87_381  # ~1 MiB
    with open(path, "wb") as f:
        for _ in range(megabytes):
            f.write(piece)
        f.write(b"\n")
