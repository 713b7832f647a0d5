"""Content ids: ``filetype`` names each file's bytes with BLAKE3, and a batch runs each
extractor once per distinct content, asking a content cache first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from blake3 import blake3

from xtract_extractors.batch import extract_batch


class DictCache:
    """A content cache in a dict: the same protocol the service's Redis cache keeps."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.asked: list[str] = []

    def get(self, keys: list[str]) -> dict[str, Any]:
        self.asked += keys
        return {k: self.data[k] for k in keys if k in self.data}

    def put(self, results: dict[str, Any]) -> None:
        self.data.update(results)


def family(i: int, path: Path) -> dict[str, Any]:
    return {"family_id": f"f.{i}", "files": [{"path": str(path)}], "groups": []}


def summary(docs: list[dict[str, Any]], name: str) -> tuple[int, int]:
    s = [d["extractors"][name] for d in docs if name in d["extractors"]]
    return sum(x["files"] for x in s), sum(x["reused"] for x in s)


def test_identical_files_get_one_content_id_and_one_extractor_run(tmp_path: Path) -> None:
    text = "alpha beta gamma delta\n" * 50
    paths = [tmp_path / "a.txt", tmp_path / "copy.txt", tmp_path / "other.txt"]
    paths[0].write_text(text)
    paths[1].write_text(text)
    paths[2].write_text(text + "different\n")
    docs = extract_batch([family(i, p) for i, p in enumerate(paths)], roots=[str(tmp_path)])
    ids = [
        d["metadata"][str(p)]["filetype"]["content_id"] for d, p in zip(docs, paths, strict=True)
    ]
    assert ids[0] == ids[1] == "blake3:" + blake3(text.encode()).hexdigest()
    assert ids[2] != ids[0]
    assert summary(docs, "keyword") == (3, 1)
    a, b = (docs[i]["metadata"][str(paths[i])]["keyword"] for i in (0, 1))
    assert a == b


def test_a_content_cache_answers_for_content_read_in_an_earlier_batch(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first, second = tmp_path / "one" / "r.csv", tmp_path / "two" / "same.csv"
    for p in (first, second):
        p.write_text("x,y\n1,2\n3,4\n")
    cache = DictCache()
    docs1 = extract_batch([family(0, first)], roots=[str(tmp_path)], cache=cache)
    assert summary(docs1, "tabular") == (1, 0)
    assert any(" tabular@" in k for k in cache.data)
    docs2 = extract_batch([family(0, second)], roots=[str(tmp_path)], cache=cache)
    assert summary(docs2, "tabular") == (1, 1)
    md1 = docs1[0]["metadata"][str(first)]["tabular"]
    assert docs2[0]["metadata"][str(second)]["tabular"] == md1
    # parameters make a call its own: never answered from the cache
    docs3 = extract_batch(
        [family(0, second)], roots=[str(tmp_path)], cache=cache, params={"tabular": {"max_rows": 1}}
    )
    assert summary(docs3, "tabular") == (1, 0)


def test_an_answer_that_names_its_file_names_the_file_it_is_reused_for(tmp_path: Path) -> None:
    mine = tmp_path / "mine.csv"
    mine.write_text("a,b\n1,2\n")
    cache = DictCache()
    extract_batch([family(0, mine)], roots=[str(tmp_path)], cache=cache)
    (key,) = [k for k in cache.data if " tabular@" in k]
    elsewhere = "/data/elsewhere/theirs.csv"
    said = {**cache.data[key]["result"], "warnings": [f"could not sniff {elsewhere}"]}
    cache.data[key] = {"path": elsewhere, "result": said}
    docs = extract_batch([family(0, mine)], roots=[str(tmp_path)], cache=cache)
    got = docs[0]["metadata"][str(mine)]["tabular"]
    assert got["warnings"] == [f"could not sniff {mine}"]
    assert summary(docs, "tabular") == (1, 1)
    cache.data[key] = {"not": "an entry"}  # a malformed entry is a miss, never an answer
    docs = extract_batch([family(0, mine)], roots=[str(tmp_path)], cache=cache)
    assert summary(docs, "tabular") == (1, 0)


def test_an_answer_that_depends_on_the_name_is_not_reused_under_another(tmp_path: Path) -> None:
    """The same gzip bytes (no stored name) as alpha.txt.gz and beta.csv.gz: each inner
    name comes from its own outer name, so neither answer is the other's; the same
    table as .csv and .tsv is read twice (the extension is a delimiter hint), and as two
    .csv files once."""
    import gzip

    packed = gzip.compress(b"n,tag\n1,a\n2,b\n", mtime=0)  # gzip.compress stores no name
    gz = [tmp_path / "alpha.txt.gz", tmp_path / "beta.csv.gz"]
    for p in gz:
        p.write_bytes(packed)
    docs = extract_batch([family(i, p) for i, p in enumerate(gz)], roots=[str(tmp_path)])
    names = [
        d["metadata"][str(p)]["compressed"]["inner_name"] for d, p in zip(docs, gz, strict=True)
    ]
    assert names == [p.name.removesuffix(".gz") for p in gz]
    assert summary(docs, "compressed") == (2, 0)

    tables = [tmp_path / "t.csv", tmp_path / "t.tsv", tmp_path / "copy.csv"]
    for p in tables:
        p.write_text("a\tb\n1\t2\n")
    docs = extract_batch([family(i, p) for i, p in enumerate(tables)], roots=[str(tmp_path)])
    assert summary(docs, "tabular") == (3, 1)  # copy.csv reuses t.csv; t.tsv is read
