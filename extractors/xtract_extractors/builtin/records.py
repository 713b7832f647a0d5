"""Formats of records, read by streaming (standard library only) or from their
headers:

- ``sequences``: FASTA (records, lengths, alphabet, GC content), FASTQ (records,
  lengths, quality encoding), VCF (version, header lines by kind, contigs, samples,
  records), SAM (header version and sort order, references, read groups, programs,
  records). Plain or gzip-compressed.
- ``notebook``: a Jupyter notebook's kernel, language, cells by type, outputs by type,
  imports of its code cells; nothing in it is run.
- ``audio`` (mutagen): duration, codec, sample rate, channels, bit rate and tag names.
"""

from __future__ import annotations

import ast
import gzip
import io
import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import IO, Any, cast

from ..registry import extractor, param
from ._common import jsonable, need

MAX_LINE = 1 << 20  # a line longer than this is cut (a FASTA sequence line never is)


def _open(path: str) -> IO[str]:
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    raw = gzip.open(path, "rb") if gz else open(path, "rb")  # noqa: SIM115
    return io.TextIOWrapper(cast(IO[bytes], raw), encoding="utf-8", errors="replace")


def _lines(f: IO[str]) -> Iterator[str]:
    while True:
        line = f.readline(MAX_LINE)
        if not line:
            return
        yield line.rstrip("\n")


def _lengths(lengths: list[int]) -> dict[str, Any]:
    if not lengths:
        return {"min_length": None, "max_length": None, "mean_length": None}
    return {
        "min_length": min(lengths),
        "max_length": max(lengths),
        "mean_length": sum(lengths) / len(lengths),
    }


def _fasta(f: IO[str], max_ids: int) -> dict[str, Any]:
    lengths: list[int] = []
    ids: list[str] = []
    letters: Counter[str] = Counter()
    current = -1
    for line in _lines(f):
        if line.startswith(">"):
            lengths.append(0)
            current += 1
            if len(ids) < max_ids:
                ids.append(line[1:].split(None, 1)[0] if line[1:].strip() else "")
        elif current >= 0 and not line.startswith(";"):
            seq = line.strip()
            lengths[current] += len(seq)
            letters.update(seq.upper())
    total = sum(letters.values())
    nucleotides = sum(letters[c] for c in "ACGTUN")
    alphabet = "dna" if letters["U"] == 0 else "rna"
    if total and nucleotides / total < 0.9:
        alphabet = "protein"
    out = {
        "format": "FASTA",
        "records": len(lengths),
        "total_length": sum(lengths),
        **_lengths(lengths),
        "alphabet": alphabet if total else None,
        "first_ids": ids,
    }
    if total and alphabet != "protein":
        gc = letters["G"] + letters["C"]
        called = sum(letters[c] for c in "ACGTU")
        out["gc_content"] = gc / called if called else None
    return out


def _fastq(f: IO[str], max_ids: int) -> dict[str, Any]:
    lengths: list[int] = []
    ids: list[str] = []
    low, high = 255, 0
    lines = _lines(f)
    for header in lines:
        if not header.strip():
            continue
        if not header.startswith("@"):
            raise ValueError(f"record {len(lengths) + 1}: a FASTQ header must start with '@'")
        seq, plus, qual = next(lines, None), next(lines, None), next(lines, None)
        if seq is None or plus is None or qual is None or not plus.startswith("+"):
            raise ValueError(f"record {len(lengths) + 1} is cut short")
        if len(qual) != len(seq):
            raise ValueError(f"record {len(lengths) + 1}: quality and sequence lengths differ")
        lengths.append(len(seq))
        if qual:
            low, high = min(low, min(map(ord, qual))), max(high, max(map(ord, qual)))
        if len(ids) < max_ids:
            ids.append(header[1:].split(None, 1)[0])
    encoding = None
    if lengths:  # Sanger/Illumina 1.8+ start at '!' (33); Illumina 1.3-1.7 at '@' (64)
        encoding = "phred+33" if low < 59 else "phred+64" if low >= 64 else "ambiguous"
    return {
        "format": "FASTQ",
        "records": len(lengths),
        "total_length": sum(lengths),
        **_lengths(lengths),
        "quality_encoding": encoding,
        "quality_range": [low, high] if lengths else None,
        "first_ids": ids,
    }


def _vcf(f: IO[str], max_ids: int) -> dict[str, Any]:
    meta: Counter[str] = Counter()
    contigs: list[str] = []
    version = None
    samples: list[str] = []
    records = 0
    for line in _lines(f):
        if line.startswith("##"):
            key = line[2:].split("=", 1)[0]
            meta[key] += 1
            if key == "fileformat":
                version = line.split("=", 1)[1].strip()
            elif key == "contig" and len(contigs) < max_ids:
                inner = line.split("<", 1)[-1]
                contigs.append(dict(_pairs(inner.rstrip(">"))).get("ID", ""))
        elif line.startswith("#CHROM"):
            samples = line.split("\t")[9:]
        elif line.strip():
            records += 1
    return {
        "format": "VCF",
        "version": version,
        "header_lines": dict(meta),
        "contigs": contigs,
        "samples": len(samples),
        "sample_names": samples[:max_ids],
        "records": records,
    }


def _pairs(text: str) -> Iterator[tuple[str, str]]:
    """``ID=x,Number=1,Description="a, b"`` as pairs, quotes respected."""
    key, value, quoted, in_value = "", "", False, False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "=" and not in_value and not quoted:
            in_value = True
        elif ch == "," and not quoted:
            yield key, value
            key, value, in_value = "", "", False
        elif in_value:
            value += ch
        else:
            key += ch
    if key:
        yield key, value


def _sam(f: IO[str], max_ids: int) -> dict[str, Any]:
    header: dict[str, Any] = {}
    refs: list[dict[str, Any]] = []
    groups: list[str] = []
    programs: list[str] = []
    records = mapped = reference_count = 0
    for line in _lines(f):
        if line.startswith("@"):
            tag, *fields = line.split("\t")
            values = dict(x.split(":", 1) for x in fields if ":" in x)
            if tag == "@HD":
                header = {"version": values.get("VN"), "sort_order": values.get("SO")}
            elif tag == "@SQ":
                reference_count += 1
                if len(refs) < max_ids:
                    refs.append({"name": values.get("SN"), "length": int(values.get("LN") or 0)})
            elif tag == "@RG" and len(groups) < max_ids:
                groups.append(values.get("ID", ""))
            elif tag == "@PG" and len(programs) < max_ids:
                programs.append(values.get("PN") or values.get("ID", ""))
        elif line.strip():
            records += 1
            flag = line.split("\t", 2)[1] if line.count("\t") >= 2 else "4"
            mapped += flag.isdigit() and not int(flag) & 4
    return {
        "format": "SAM",
        **header,
        "reference_count": reference_count,
        "references": refs,
        "read_groups": groups,
        "programs": programs,
        "records": records,
        "mapped": mapped,
    }


_SEQ_READERS = {"fasta": _fasta, "fastq": _fastq, "vcf": _vcf, "sam": _sam}
_SEQ_EXT = {
    **dict.fromkeys(["fa", "fasta", "fna", "faa", "ffn", "frn", "fas"], "fasta"),
    **dict.fromkeys(["fq", "fastq"], "fastq"),
    "vcf": "vcf",
    "sam": "sam",
}


def _sequence_format(path: str) -> str:
    with _open(path) as f:
        first = f.readline(4096)
    if first.startswith(">") or first.startswith(";"):
        return "fasta"
    if first.startswith("##fileformat=VCF"):
        return "vcf"
    if (
        first.startswith("@")
        and first[1:3] in ("HD", "SQ", "RG", "PG", "CO")
        and first[3:4] == "\t"
    ):
        return "sam"
    if first.startswith("@"):
        return "fastq"
    name = os.path.basename(path).lower().removesuffix(".gz")
    ext = name.rsplit(".", 1)[-1]
    if ext in _SEQ_EXT:
        return _SEQ_EXT[ext]
    raise ValueError("not FASTA, FASTQ, VCF or SAM (its first line says none of them)")


@extractor(
    "sequences",
    kinds=["sequence"],
    extensions=list(_SEQ_EXT),
    names=[f"*.{ext}.gz" for ext in _SEQ_EXT],
    reads_name="name",  # its last resort is the name (a file whose first line is blank)
    mimetypes=["text/x-fasta", "text/x-fastq", "text/x-vcf", "text/x-sam"],
    version="1.0",
    fields={
        "format": "string",
        "records": "int64",
        "total_length": "int64",
        "min_length": "int64",
        "max_length": "int64",
        "alphabet": "string",
        "gc_content": "double",
        "quality_encoding": "string",
        "samples": "int64",
        "version": "string",
    },
    family="sequences",
)
@param("max_ids", int, default=20, high=10_000, desc="record ids, contigs and samples listed")
def sequences(path: str, max_ids: int = 20) -> dict[str, Any]:
    """Records, lengths and what the header says of a FASTA, FASTQ, VCF or SAM file
    (plain or gzip-compressed), read as a stream."""
    fmt = _sequence_format(path)
    with _open(path) as f:
        return _SEQ_READERS[fmt](f, max_ids)


# -- Jupyter notebooks ---------------------------------------------------------------

MAX_NOTEBOOK = 64 << 20


def _imports(source: str) -> list[str]:
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except (SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module.split(".")[0])
    return found


@extractor(
    "notebook",
    kinds=["code"],
    extensions=["ipynb"],
    mimetypes=["application/x-ipynb+json"],
    version="1.0",
    fields={
        "kernel": "string",
        "language": "string",
        "cells": "int64",
        "imports": "list<string>",
    },
    family="jsonxml",
)
def notebook(path: str) -> dict[str, Any]:
    """Kernel, language, cells by type, outputs by type and imports of a Jupyter
    notebook (nbformat 4; 3's worksheets too). Nothing in it is run."""
    if os.path.getsize(path) > MAX_NOTEBOOK:
        raise ValueError(f"a notebook larger than {MAX_NOTEBOOK} bytes is not read")
    with open(path, "rb") as f:
        nb = json.load(f)
    if not isinstance(nb, dict) or "nbformat" not in nb:
        raise ValueError("not a Jupyter notebook: no nbformat")
    cells = nb.get("cells")
    if cells is None:  # nbformat 3
        cells = [c for ws in nb.get("worksheets", []) for c in ws.get("cells", [])]
    meta = nb.get("metadata", {}) or {}
    kernel = meta.get("kernelspec", {}) or {}
    language = (meta.get("language_info", {}) or {}).get("name") or kernel.get("language")
    by_type: Counter[str] = Counter()
    outputs: Counter[str] = Counter()
    imports: Counter[str] = Counter()
    executed = 0
    for cell in cells:
        kind = cell.get("cell_type", "?")
        by_type[kind] += 1
        for out in cell.get("outputs", []) or []:
            outputs[out.get("output_type", "?")] += 1
        if kind == "code":
            source = cell.get("source", cell.get("input", ""))
            text = "".join(source) if isinstance(source, list) else str(source)
            if cell.get("execution_count") is not None:
                executed += 1
            if (language or "python").lower().startswith("python"):
                imports.update(_imports(text))
    return {
        "format": "Jupyter notebook",
        "nbformat": f"{nb.get('nbformat')}.{nb.get('nbformat_minor', 0)}",
        "kernel": kernel.get("name"),
        "kernel_display_name": kernel.get("display_name"),
        "language": language,
        "language_version": (meta.get("language_info", {}) or {}).get("version"),
        "cells": len(cells),
        "cells_by_type": dict(by_type),
        "code_cells_executed": executed,
        "outputs_by_type": dict(outputs),
        "imports": sorted(imports),
        "title": jsonable(meta.get("title")) if meta.get("title") else None,
    }


# -- audio ---------------------------------------------------------------------------


def _wave(path: str) -> dict[str, Any] | None:
    """A WAVE file's frames, rate, channels and sample size from its ``fmt`` and ``data``
    chunk headers (RIFF, big-endian RIFX and 64-bit RF64; PCM and float alike; no
    sample is read), or None when it is not one. Frames are the data's bytes over the
    header's block size, as players count them."""
    import struct

    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX", b"RF64") or head[8:12] != b"WAVE":
            return None
        order = ">" if head[:4] == b"RIFX" else "<"
        fmt: tuple[int, ...] | None = None
        data_size: int | None = None
        big_data: int | None = None
        for _ in range(1000):  # chunks before the data: a bounded walk
            chunk = f.read(8)
            if len(chunk) < 8:
                break
            cid, size = chunk[:4], struct.unpack(order + "I", chunk[4:])[0]
            if cid == b"fmt " and size >= 16:
                fmt = struct.unpack(order + "HHIIHH", f.read(16))
                f.seek(size - 16 + (size & 1), 1)
            elif cid == b"ds64" and size >= 16:
                big_data = struct.unpack("<QQ", f.read(16))[1]
                f.seek(size - 16 + (size & 1), 1)
            elif cid == b"data":
                data_size = big_data if size == 0xFFFFFFFF and big_data is not None else size
                break
            else:
                f.seek(size + (size & 1), 1)
    if fmt is None or data_size is None:
        return None
    tag, channels, rate, _, block, bits = fmt
    frames = data_size // block if block else 0
    return {
        "format": {b"RIFF": "WAVE", b"RIFX": "WAVE (RIFX)", b"RF64": "WAVE (RF64)"}[head[:4]],
        "encoding": {1: "PCM", 3: "IEEE float", 6: "A-law", 7: "mu-law", 0xFFFE: "extensible"}.get(
            tag, f"format tag {tag}"
        ),
        "duration_seconds": frames / rate if rate else None,
        "frames": frames,
        "sample_rate": rate,
        "channels": channels,
        "bits_per_sample": bits,
    }


# -- ISO base media files (MP4, MOV, M4A, 3GP): their boxes, never their samples ------

MAX_MOOV = 64 << 20  # a movie header larger than this is not read
_CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"udta"})


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, bytes]]:
    """``(type, payload)`` of the boxes in ``data[start:end]``."""
    import struct

    end = len(data) if end is None else end
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        head = 8
        if size == 1 and at + 16 <= end:
            size, head = struct.unpack(">Q", data[at + 8 : at + 16])[0], 16
        elif size == 0:
            size = end - at
        if size < head or at + size > end:
            return
        yield kind, data[at + head : at + size]
        at += size


def _moov(path: str) -> bytes | None:
    """The ``moov`` box of an ISO base media file, found by walking the top-level boxes
    (their headers only), or None."""
    import struct

    with open(path, "rb") as f:
        f.seek(0, 2)
        total = f.tell()
        at = 0
        for _ in range(10_000):
            f.seek(at)
            head = f.read(16)
            if len(head) < 8:
                return None
            size, kind = struct.unpack(">I4s", head[:8])
            header = 8
            if size == 1:
                size, header = struct.unpack(">Q", head[8:16])[0], 16
            elif size == 0:
                size = total - at
            if size < header:
                return None
            if kind == b"moov":
                if size > MAX_MOOV:
                    raise ValueError(f"a movie header of {size} bytes (limit {MAX_MOOV})")
                f.seek(at + header)
                return f.read(size - header)
            at += size
    return None


def _child(payload: bytes, kind: bytes) -> bytes | None:
    return next((p for k, p in _boxes(payload) if k == kind), None)


def _timing(full_box: bytes) -> tuple[int, int]:
    """(timescale, duration) of an ``mvhd`` or ``mdhd`` box (versions 0 and 1)."""
    import struct

    if full_box[0] == 1:
        return struct.unpack(">I", full_box[20:24])[0], struct.unpack(">Q", full_box[24:32])[0]
    return struct.unpack(">II", full_box[12:20])


def _track(trak: bytes) -> dict[str, Any]:
    import struct

    out: dict[str, Any] = {}
    tkhd = _child(trak, b"tkhd")
    mdia = _child(trak, b"mdia") or b""
    hdlr = _child(mdia, b"hdlr")
    handler = hdlr[8:12].decode("latin-1") if hdlr and len(hdlr) >= 12 else "?"
    out["type"] = {"vide": "video", "soun": "audio", "text": "text", "sbtl": "subtitles"}.get(
        handler, handler
    )
    mdhd = _child(mdia, b"mdhd")
    if mdhd:
        scale, duration = _timing(mdhd)
        out["duration_seconds"] = duration / scale if scale else None
    stbl = _child(_child(mdia, b"minf") or b"", b"stbl") or b""
    stsd = _child(stbl, b"stsd")
    if stsd and len(stsd) >= 16:
        entry = stsd[8:]  # version, flags, entry count; then the first sample entry
        out["codec"] = entry[4:8].decode("latin-1").strip()
        if out["type"] == "audio" and len(entry) >= 36:
            out["channels"] = struct.unpack(">H", entry[24:26])[0]
            out["sample_rate"] = struct.unpack(">I", entry[32:36])[0] >> 16
        if out["type"] == "video" and len(entry) >= 36:
            out["width"], out["height"] = struct.unpack(">HH", entry[32:36])
    if tkhd and out["type"] == "video" and "width" not in out and len(tkhd) >= 8:
        w, h = struct.unpack(">II", tkhd[-8:])
        out["width"], out["height"] = w >> 16, h >> 16
    return out


def _iso_media(path: str) -> dict[str, Any] | None:
    """Duration and tracks (type, codec, duration, size or channels and rate) of an
    MP4/MOV file from its ``moov`` box, or None when it has none."""
    with open(path, "rb") as f:
        head = f.read(12)
    if head[4:8] not in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return None
    moov = _moov(path)
    if moov is None:
        return None
    brand = head[8:12].decode("latin-1").strip() if head[4:8] == b"ftyp" else None
    mvhd = _child(moov, b"mvhd")
    scale, duration = _timing(mvhd) if mvhd else (0, 0)
    tracks = [_track(p) for k, p in _boxes(moov) if k == b"trak"][:100]
    video = next((t for t in tracks if t["type"] == "video"), None)
    sound = next((t for t in tracks if t["type"] == "audio"), None)
    out: dict[str, Any] = {
        "format": "ISO media" + (f" ({brand})" if brand else ""),
        "duration_seconds": duration / scale if scale else None,
        "tracks": tracks,
    }
    if video:
        out.update(width=video.get("width"), height=video.get("height"), codec=video.get("codec"))
    if sound:
        out.update(channels=sound.get("channels"), sample_rate=sound.get("sample_rate"))
        out.setdefault("codec", sound.get("codec"))
    return out


@extractor(
    "media",
    kinds=["media"],
    extensions=[
        "wav",
        "mp3",
        "flac",
        "ogg",
        "oga",
        "opus",
        "m4a",
        "aac",
        "aiff",
        "aif",
        "wma",
        "mp4",
        "m4v",
        "mov",
        "3gp",
    ],
    mimetypes=["audio/*", "video/mp4", "video/quicktime", "video/3gpp"],
    version="1.0",
    fields={
        "format": "string",
        "duration_seconds": "double",
        "sample_rate": "int64",
        "channels": "int64",
        "bitrate": "int64",
        "codec": "string",
        "width": "int64",
        "height": "int64",
    },
    family="media",
)
@param("max_tags", int, default=100, high=10_000, desc="tag names listed")
def audio(path: str, max_tags: int = 100) -> dict[str, Any]:
    """Duration, codec, sample rate, channels, bit rate and the tags' names (and title,
    artist, album) of an audio file; duration and tracks (codec, size, channels, rate)
    of an MP4 or MOV video; from their headers."""
    iso = _iso_media(path)
    if iso is not None and any(t["type"] == "video" for t in iso["tracks"]):
        return {k: v for k, v in iso.items() if v is not None}
    mutagen = need("mutagen", "media")
    pcm = _wave(path)
    if pcm is not None and pcm["format"] != "WAVE":
        return pcm  # RIFX and RF64: mutagen does not read them
    f = mutagen.File(path)
    if f is None:
        raise ValueError("not an audio format mutagen knows")
    info = f.info
    out: dict[str, Any] = {
        "format": type(f).__name__,
        "duration_seconds": getattr(info, "length", None),
        "sample_rate": getattr(info, "sample_rate", None),
        "channels": getattr(info, "channels", None),
        "bits_per_sample": getattr(info, "bits_per_sample", None),
        "bitrate": getattr(info, "bitrate", None),
        "codec": getattr(info, "codec", None) or getattr(info, "codec_description", None),
    }
    if pcm is not None:  # WAVE: frames by the header's block size, as players count
        out.update({k: v for k, v in pcm.items() if k != "format"})
    tags = f.tags
    if tags:
        keys = list(tags.keys())
        out["tags"] = [str(k) for k in keys[:max_tags]]
        easy = mutagen.File(path, easy=True)
        for name in ("title", "artist", "album", "date", "genre"):
            if easy is not None and easy.tags and name in easy.tags:
                out[name] = jsonable(easy.tags[name][0])
    return {k: v for k, v in out.items() if v is not None}
