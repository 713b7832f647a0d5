"""Community validators that live in venvs of their own (their pins clash with ours):
``make validators`` installs them under ``.cache/validators``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
ROCRATE_VENV = REPO / ".cache" / "validators" / "rocrate"
CONTEXT = REPO / "tests" / "data" / "ro-crate-1.3-context.jsonld"
CONTEXT_URL = "https://w3id.org/ro/crate/1.3/context"

# run by the validator's own Python: its HTTP cache (requests-cache, SQLite) given the
# published context as the response to its URL, so `--offline` finds it
_WARM = """
import io, sys, requests, urllib3
from requests_cache import CachedSession
cache, url, path = sys.argv[1:4]
body = open(path, "rb").read()
resp = requests.Response()
resp.status_code, resp.reason, resp.url, resp.encoding = 200, "OK", url, "utf-8"
resp._content = body
resp.headers["Content-Type"] = "application/ld+json"
resp.raw = urllib3.HTTPResponse(body=io.BytesIO(body), headers=dict(resp.headers),
                                status=200, preload_content=False, request_url=url)
resp.request = requests.Request("GET", url).prepare()
session = CachedSession(cache_name=cache, backend="sqlite", expire_after=-1)
session.cache.save_response(resp)
assert session.cache.contains(url=url)
"""


def validate_rocrate(crate: Path, work: Path) -> dict[str, Any]:
    """``rocrate-validator``'s JSON report on the crate folder ``crate`` against the
    RO-Crate 1.3 profile, at REQUIRED severity (web data entities not fetched)."""
    bin_ = ROCRATE_VENV / "bin"
    assert (bin_ / "rocrate-validator").exists(), "run `make validators` first"
    cache = work / "rocv-cache"
    if not cache.with_suffix(".sqlite").exists():
        subprocess.run(
            [bin_ / "python", "-c", _WARM, str(cache), CONTEXT_URL, str(CONTEXT)], check=True
        )
    out = subprocess.run(
        [bin_ / "rocrate-validator", "-y", "--disable-color", "validate", "--offline",
         "--cache-path", str(cache), "--skip-availability-check", "-p", "ro-crate-1.3",
         "--output-format", "json", str(crate)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    report: dict[str, Any] = json.loads(out.stdout)
    return report


SCHEMAORG = REPO / "tests" / "data"  # schema.org release 30.0's context and SHACL shapes

# run by the validator venv's Python (pyshacl, rdflib). schema.org's generated shapes
# give every data type's shape (Text, URL, Date, Number, ...) `sh:nodeKind
# sh:BlankNodeOrIRI`, which rejects every literal, so any `"name": "..."` fails: that
# one constraint is lifted from the data types' shapes (the data types and the classes
# under them in the release's own class tree); every other shape stands as published
_SHACL = """
import gzip, json, sys
import pyshacl, rdflib
from rdflib.namespace import RDFS, SH
data, folder = sys.argv[1:3]
read = lambda name: gzip.open(f"{folder}/schemaorg-30.0-{name}.gz", "rt").read()
ctx = json.loads(read("schemaorgcontext.jsonld"))["@context"]
doc = json.load(open(data))
doc["@context"] = ctx
graph = rdflib.Graph().parse(data=json.dumps(doc), format="json-ld")
classes = rdflib.Graph().parse(data=read("schemaorg-subclasses.shacl"), format="turtle")
shapes = rdflib.Graph().parse(data=read("schemaorg-shapes.shacl"), format="turtle")
schema = rdflib.Namespace("http://schema.org/")
# schema.org's data types (instances of DataType, https://schema.org/DataType) and
# every class under them in the release's class tree (URL, Integer, XPathType, ...)
datatypes = set()
for base in ("DataType", "Boolean", "Date", "DateTime", "Number", "Text", "Time"):
    datatypes |= set(classes.transitive_subjects(RDFS.subClassOf, schema[base]))
for shape, cls in list(shapes.subject_objects(SH.targetClass)):
    if cls in datatypes:
        shapes.remove((shape, SH.nodeKind, None))
ok, _, text = pyshacl.validate(graph, shacl_graph=shapes, ont_graph=classes, inference="rdfs")
print(json.dumps({"conforms": bool(ok), "report": text[:4000],
                  "types": sorted({str(o) for o in graph.objects(None, rdflib.RDF.type)})}))
"""


def validate_schemaorg(document: Path) -> dict[str, Any]:
    """schema.org's own SHACL shapes (release 30.0) on a JSON-LD document, read with
    the release's context: ``{"conforms", "report", "types"}``."""
    python = ROCRATE_VENV / "bin" / "python"
    assert python.exists(), "run `make validators` first"
    out = subprocess.run(
        [python, "-c", _SHACL, str(document), str(SCHEMAORG)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    report: dict[str, Any] = json.loads(out.stdout)
    return report
