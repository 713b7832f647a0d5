"""Scientific and medical images, headers only (no pixel is decoded):

- ``tiff`` (tifffile): pages, each series' shape, dtype and axes, the first page's
  compression, photometric interpretation, bit depth and resolution, the camera tags,
  OME-XML channels and physical pixel sizes (OME-TIFF), GeoTIFF keys.
- ``dicom`` (pydicom, ``stop_before_pixels``): modality, SOP class, study/series ids,
  dates, dimensions, pixel spacing, equipment. Patient-identifying fields are never
  copied: ``identifying_fields`` lists which are present, not their values.
- ``nifti`` (nibabel, lazily: the image's data is a proxy never read): shape, dtype,
  voxel sizes with their units, the affine and the codes saying which is used.
"""

from __future__ import annotations

from typing import Any

from ..registry import extractor, param
from ._common import jsonable, need

_TIFF_TAGS = (
    "ImageDescription",
    "Make",
    "Model",
    "Software",
    "DateTime",
    "Artist",
    "Copyright",
    "HostComputer",
)
_OME = "{http://www.openmicroscopy.org/Schemas/OME/2016-06}"
MAX_OME_XML = 8 << 20


def _ome(xml: str, max_items: int) -> dict[str, Any]:
    """Images, their sizes, physical pixel sizes and channels from OME-XML."""
    from defusedxml import ElementTree as SafeET

    root = SafeET.fromstring(xml.encode("utf-8")[:MAX_OME_XML])
    ns = root.tag.split("}")[0] + "}" if root.tag.startswith("{") else ""
    images: list[dict[str, Any]] = []
    for image in root.iter(ns + "Image"):
        pixels = image.find(ns + "Pixels")
        if pixels is None or len(images) >= max_items:
            continue
        attrs = {
            k: v
            for k, v in pixels.attrib.items()
            if k.startswith(("Size", "Physical", "Type", "DimensionOrder"))
        }
        channels = [
            {
                k: v
                for k, v in c.attrib.items()
                if k in ("ID", "Name", "SamplesPerPixel", "Fluor", "EmissionWavelength")
            }
            for c in pixels.iter(ns + "Channel")
        ][:max_items]
        images.append({"name": image.get("Name"), "pixels": attrs, "channels": channels})
    return {"images": images}


@extractor(
    "tiff",
    kinds=["image"],
    extensions=["tif", "tiff", "btf", "tf8"],
    mimetypes=["image/tiff"],
    version="1.0",
    fields={
        "format": "string",
        "pages": "int64",
        "width": "int64",
        "height": "int64",
        "compression": "string",
        "photometric": "string",
        "bits_per_sample": "int64",
        "samples_per_pixel": "int64",
        "ome": "bool",
        "geotiff": "bool",
    },
    family="imaging",
)
@param("max_pages", int, default=10_000, low=1, high=1_000_000, desc="pages counted")
@param("max_series", int, default=100, low=1, high=10_000, desc="series described")
def tiff(path: str, max_pages: int = 10_000, max_series: int = 100) -> dict[str, Any]:
    """Pages, series (shape, dtype, axes), compression, resolution, camera tags,
    OME-XML channels and GeoTIFF keys of a TIFF file."""
    tifffile = need("tifffile", "imaging")
    warnings: list[str] = []
    with tifffile.TiffFile(path) as tif:
        tif.pages.cache = False
        page = tif.pages.first
        pages = len(tif.pages) if len(tif.pages) <= max_pages else max_pages
        out: dict[str, Any] = {
            "format": "BigTIFF" if tif.is_bigtiff else "TIFF",
            "byteorder": "little" if tif.byteorder == "<" else "big",
            "pages": pages,
            "series": [
                {"shape": list(s.shape), "dtype": str(s.dtype), "axes": s.axes, "kind": s.kind}
                for s in tif.series[:max_series]
            ],
            "width": page.imagewidth,
            "height": page.imagelength,
            "compression": page.compression.name,
            "photometric": page.photometric.name,
            "bits_per_sample": page.bitspersample,
            "samples_per_pixel": page.samplesperpixel,
            "tiled": page.is_tiled,
            "ome": tif.is_ome,
            "geotiff": tif.is_geotiff,
        }
        tags = page.tags
        for name in _TIFF_TAGS:
            tag = tags.get(name)
            if tag is not None and not (name == "ImageDescription" and tif.is_ome):
                out.setdefault("tags", {})[name] = jsonable(tag.value, max_chars=1000)
        x, unit = tags.get("XResolution"), tags.get("ResolutionUnit")
        if x is not None and isinstance(x.value, tuple) and x.value[1]:
            y = tags.get("YResolution")
            out["resolution"] = {
                "x": x.value[0] / x.value[1],
                "y": (y.value[0] / y.value[1]) if y is not None and y.value[1] else None,
                "unit": {1: "none", 2: "inch", 3: "centimeter"}.get(
                    int(unit.value) if unit is not None else 2, "unknown"
                ),
            }
        if tif.is_ome and tif.ome_metadata:
            out["ome_metadata"] = _ome(tif.ome_metadata, max_series)
        if tif.is_geotiff:
            try:
                out["geo_keys"] = jsonable(tif.geotiff_metadata, max_items=100)
            except Exception as exc:  # tifffile's GeoTIFF decoder on an odd key
                warnings.append(f"GeoTIFF keys not decoded: {exc}")
    if warnings:
        out["warnings"] = warnings
    return out


# -- DICOM ---------------------------------------------------------------------------

# what identifies a patient (DICOM PS3.15 Annex E's basic profile, the patient and
# people part): listed as present, never copied
IDENTIFYING = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientBirthTime",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "OtherPatientIDs",
    "OtherPatientNames",
    "OtherPatientIDsSequence",
    "PatientMotherBirthName",
    "MedicalRecordLocator",
    "ReferringPhysicianName",
    "PerformingPhysicianName",
    "OperatorsName",
    "InstitutionName",
    "InstitutionAddress",
    "AccessionNumber",
    "IssuerOfPatientID",
)
_DICOM_FACTS = (
    "Modality",
    "SOPClassUID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "StudyDate",
    "SeriesDate",
    "AcquisitionDate",
    "ContentDate",
    "StudyDescription",
    "SeriesDescription",
    "BodyPartExamined",
    "Rows",
    "Columns",
    "NumberOfFrames",
    "SamplesPerPixel",
    "BitsAllocated",
    "BitsStored",
    "PhotometricInterpretation",
    "PixelSpacing",
    "SliceThickness",
    "Manufacturer",
    "ManufacturerModelName",
    "InstanceNumber",
    "SeriesNumber",
)


@extractor(
    "dicom",
    kinds=["image"],
    extensions=["dcm", "dicom"],
    mimetypes=["application/dicom"],
    version="1.0",
    fields={
        "Modality": "string",
        "StudyInstanceUID": "string",
        "SeriesInstanceUID": "string",
        "StudyDate": "string",
        "Rows": "int64",
        "Columns": "int64",
        "Manufacturer": "string",
        "identifying_fields": "list<string>",
    },
    family="medical",
)
def dicom(path: str) -> dict[str, Any]:
    """Modality, study and series ids, dates, dimensions and equipment of a DICOM file's
    header; which patient-identifying fields are present, never their values."""
    pydicom = need("pydicom", "medical")
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    meta = getattr(ds, "file_meta", None)
    out: dict[str, Any] = {"format": "DICOM"}
    syntax = getattr(meta, "TransferSyntaxUID", None) if meta is not None else None
    if syntax is not None:
        out["transfer_syntax"] = {"uid": str(syntax), "name": syntax.name}
    for keyword in _DICOM_FACTS:
        value = ds.get(keyword)
        if value is None or value == "":
            continue
        if keyword == "SOPClassUID":
            out["sop_class"] = {"uid": str(value), "name": value.name}
            continue
        out[keyword] = jsonable(
            list(value) if isinstance(value, pydicom.multival.MultiValue) else value
        )
    out["identifying_fields"] = [k for k in IDENTIFYING if k in ds and ds.get(k) not in (None, "")]
    return out


# -- NIfTI ---------------------------------------------------------------------------


@extractor(
    "nifti",
    kinds=["image"],
    extensions=["nii"],
    names=["*.nii.gz"],  # nibabel reads the header through the compression
    reads_name="name",  # nibabel picks its reader by the name's extensions
    mimetypes=["image/x.nifti", "image/x-nifti"],
    version="1.0",
    fields={
        "format": "string",
        "shape": "list<int64>",
        "voxel_sizes": "list<double>",
        "dtype": "string",
    },
    family="medical",
)
def nifti(path: str) -> dict[str, Any]:
    """Shape, dtype, voxel sizes and units, affine and its codes of a NIfTI-1/2 image
    (header only)."""
    nib = need("nibabel", "medical")
    img = nib.load(path)
    header = img.header
    spatial, temporal = header.get_xyzt_units()
    out: dict[str, Any] = {
        "format": type(img).__name__.replace("Image", ""),
        "shape": [int(n) for n in img.shape],
        "dtype": str(header.get_data_dtype()),
        "voxel_sizes": [float(z) for z in header.get_zooms()],
        "units": {"space": spatial, "time": temporal},
        "affine": jsonable(img.affine),
    }
    if hasattr(header, "get_sform"):
        _, scode = header.get_sform(coded=True)
        _, qcode = header.get_qform(coded=True)
        out["sform_code"], out["qform_code"] = int(scode), int(qcode)
        descrip = header["descrip"].item()
        if descrip:
            out["description"] = jsonable(descrip)
        intent = header.get_intent()[0]
        if intent and intent != "none":
            out["intent"] = intent
    return out
