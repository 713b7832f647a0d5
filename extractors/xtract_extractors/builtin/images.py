"""``images``: format, size, mode, EXIF (camera, date, GPS) and mean colour, with
Pillow. Pillow's decompression-bomb guard stays on."""

from __future__ import annotations

from typing import Any

from ..registry import extractor, param
from ._common import jsonable, need, step

_GPS_IFD = 0x8825
_EXIF_IFD = 0x8769
_TAGS = {
    0x010F: "camera_make",
    0x0110: "camera_model",
    0x0132: "datetime",
    0x0131: "software",
    0x8298: "copyright",
}
_EXIF_TAGS = {
    0x9003: "datetime_original",
    0x829A: "exposure_time",
    0x829D: "f_number",
    0x8827: "iso",
    0x920A: "focal_length",
}


def _degrees(dms: Any, ref: Any) -> float | None:
    try:
        d, m, s = (float(x) for x in dms)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = d + m / 60 + s / 3600
    return -value if str(ref).upper() in ("S", "W") else value


def _exif(im: Any) -> dict[str, Any]:
    exif = im.getexif()
    if not exif:
        return {}
    out: dict[str, Any] = {name: jsonable(exif[tag]) for tag, name in _TAGS.items() if tag in exif}
    details = exif.get_ifd(_EXIF_IFD)
    out.update({name: jsonable(details[t]) for t, name in _EXIF_TAGS.items() if t in details})
    gps = exif.get_ifd(_GPS_IFD)
    if gps:
        lat, lon = _degrees(gps.get(2), gps.get(1)), _degrees(gps.get(4), gps.get(3))
        if lat is not None and lon is not None:
            out["gps"] = {"latitude": round(lat, 7), "longitude": round(lon, 7)}
            if 6 in gps:
                out["gps"]["altitude"] = jsonable(float(gps[6]))
    return out


@extractor(
    "images",
    kinds=["image"],
    extensions=["png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp", "xpm", "ico", "ppm"],
    # raster formats Pillow reads (SVG is vector: the ``svg`` extractor reads it)
    mimetypes=[
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/bmp",
        "image/x-ms-bmp",
        "image/tiff",
        "image/webp",
        "image/x-icon",
        "image/vnd.microsoft.icon",
        "image/x-portable-pixmap",
        "image/x-portable-graymap",
        "image/x-portable-bitmap",
        "image/x-xpixmap",
        "image/x-xpmi",
    ],
    version="1.2",
    family="images",
)
@param("mean_colour", bool, default=True, desc="compute the mean colour (decodes the image)")
def images(path: str, mean_colour: bool = True) -> dict[str, Any]:
    """Format, width, height, mode, EXIF, XMP and mean colour of an image."""
    image = need("PIL.Image", "images")
    stat = need("PIL.ImageStat", "images")
    with image.open(path) as im:
        out: dict[str, Any] = {
            "format": im.format,
            "width": im.width,
            "height": im.height,
            "mode": im.mode,
            "frames": getattr(im, "n_frames", 1),
        }
        exif = step(out, "exif", _exif, im)
        if exif:
            out["exif"] = exif
        xmp = step(out, "xmp", _xmp, im)
        if xmp:
            out["xmp"] = xmp
        if mean_colour:  # decoding the pixels can fail where the header read
            colour = step(out, "mean_colour", _mean_colour, im, stat)
            if colour is not None:
                out["mean_colour"] = colour
    return out


def _xmp(im: Any) -> dict[str, Any]:
    """An image's XMP packet (JPEG, PNG, TIFF, WebP), as Pillow parses it with
    defusedxml: its namespaces' properties, bounded (camera and editing software,
    ratings, creator, rights, title, keywords...)."""
    if not hasattr(im, "getxmp"):
        return {}
    found = im.getxmp()
    meta = found.get("xmpmeta", {}) if isinstance(found, dict) else {}
    rdf = meta.get("RDF", {}) if isinstance(meta, dict) else {}
    described = rdf.get("Description", {}) if isinstance(rdf, dict) else {}
    if isinstance(described, list):  # one Description per namespace
        merged: dict[str, Any] = {}
        for d in described:
            if isinstance(d, dict):
                merged.update(d)
        described = merged
    if not isinstance(described, dict):
        return {}
    return {
        str(k): jsonable(v, max_items=20, max_chars=300) for k, v in list(described.items())[:100]
    }


def _mean_colour(im: Any, stat: Any) -> list[float]:
    im.draft("RGB", (256, 256))  # JPEG decodes at a fraction of its size
    small = im.convert("RGB")
    small.thumbnail((256, 256))
    return [round(c, 2) for c in stat.Stat(small).mean]
