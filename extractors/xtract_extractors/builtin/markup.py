"""Markup: ``html`` (HTML and XHTML), ``markdown`` and ``svg``.

HTML and XHTML are read with the standard library's forgiving ``html.parser`` (named
entities such as ``&nbsp;`` are text, not parse errors, and broken markup still gives
its title and text): title, language, description, headings, link and image counts, and
keywords of the visible text. Markdown gives its title (the first heading), outline,
links and code blocks; its keywords come from the ``keyword`` extractor as for any text.
SVG is read as XML (safely, with defusedxml) and as an image: width, height, view box,
title and element counts. Every input is read up to ``max_bytes``.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

from ..registry import extractor, param
from ._common import need, read_text
from ._text import count_file, words_in
from .keyword import KEYWORD_CHARS, keywords_of

_SKIP = {"script", "style", "noscript", "template"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.lang: str | None = None
        self.description: str | None = None
        self.headings: list[list[str]] = []
        self.links = 0
        self.images = 0
        self.text: list[str] = []
        self._stack: list[str] = []
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): v or "" for k, v in attrs}
        if tag == "html" and self.lang is None:
            self.lang = a.get("lang") or a.get("xml:lang") or None
        elif tag == "a" and "href" in a:
            self.links += 1
        elif tag == "img":
            self.images += 1
        elif tag == "meta" and a.get("name", "").lower() == "description":
            self.description = a.get("content", "")[:1000]
        elif tag in _HEADINGS:
            self._heading = [tag, ""]
        if tag not in ("meta", "img", "br", "hr", "link", "input"):
            self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HEADINGS and self._heading is not None:
            if len(self.headings) < 100:
                self.headings.append([self._heading[0], self._heading[1].strip()[:200]])
            self._heading = None
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if any(t in _SKIP for t in self._stack):
            return
        if "title" in self._stack and not self.title:
            self.title = " ".join(data.split())[:500]
            return
        if self._heading is not None:
            self._heading[1] += data
        if data.strip():
            self.text.append(data)


@extractor(
    "html",
    kinds=["markup"],
    extensions=["html", "htm", "xhtml"],
    mimetypes=["text/html", "application/xhtml+xml"],
    version="1.1",
    family="keyword",
)
@param("max_bytes", int, default=4 << 20, low=1, high=256 << 20, desc="bytes read")
@param("top", int, default=20, low=1, high=200, desc="keywords returned")
def html(path: str, max_bytes: int = 4 << 20, top: int = 20) -> dict[str, Any]:
    """An HTML or XHTML page: title, language, headings, links, text keywords."""
    text, warnings, cut = read_text(path, max_bytes)
    page = _Page()
    page.feed(text)
    page.close()
    body = " ".join(" ".join(page.text).split())
    words = keywords_of(body[:KEYWORD_CHARS], top)
    out: dict[str, Any] = {
        "title": page.title or None,
        "language": page.lang or words["language"],
        "declared_language": page.lang,
        "description": page.description,
        "headings": page.headings,
        "links": page.links,
        "images": page.images,
        "word_count": words_in(body),
        "keywords": words["keywords"],
    }
    if cut:
        warnings.append(f"read the first {max_bytes} bytes")
    if warnings:
        out["warnings"] = warnings
    return out


def _as_written(url: str) -> str:
    return url


@lru_cache(maxsize=1)
def _commonmark() -> Any:
    """One CommonMark parser per process, trimmed to what the counts need: link targets
    are not normalised (only counted), and emphasis is not paired (it never makes or
    unmakes a link, image, heading or code block: link brackets bind more tightly,
    CommonMark 0.31 section 6.3). Together a third of the parse on Debian's docs."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    md.disable("emphasis")
    md.normalizeLink = md.normalizeLinkText = _as_written  # type: ignore[method-assign,assignment]
    return md


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n(---|\.\.\.)[ \t]*(\n|\Z)", re.S)


@extractor(
    "markdown",
    kinds=["text"],
    extensions=["md", "markdown"],
    mimetypes=["text/markdown"],
    version="2.1",
    family="keyword",
)
@param("max_bytes", int, default=4 << 20, low=1, high=256 << 20, desc="bytes parsed")
def markdown(path: str, max_bytes: int = 4 << 20) -> dict[str, Any]:
    """A Markdown document, parsed as CommonMark (markdown-it): title, outline (ATX and
    setext headings), links, images, code blocks (fenced and indented), words (of the
    whole file, ``_text``'s rule). A leading YAML front matter block (``---``) is
    metadata, not text: its keys are listed."""
    text, warnings, cut = read_text(path, max_bytes)
    out: dict[str, Any] = {}
    front = _FRONT_MATTER.match(text)
    if front:
        out["front_matter_keys"] = re.findall(r"^([A-Za-z0-9_-]+):", front.group(0), re.M)[:50]
        text = text[front.end() :]
    tokens = _commonmark().parse(text)
    headings: list[list[Any]] = []
    links = images = code_blocks = 0
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and len(headings) < 100:
            headings.append([int(token.tag[1]), tokens[i + 1].content.strip()[:200]])
        elif token.type in ("fence", "code_block"):
            code_blocks += 1
        elif token.type == "inline":
            for child in token.children or []:
                links += child.type == "link_open"
                images += child.type == "image"
    title = next((h[1] for h in headings if h[0] == 1), None)
    words, lines = count_file(path)
    out.update(
        title=title,
        headings=headings,
        links=links,
        images=images,
        code_blocks=code_blocks,
        word_count=words,
        lines=lines,
    )
    if cut:
        warnings.append(f"parsed the first {max_bytes} bytes (the counts of words are of all)")
    if warnings:
        out["warnings"] = warnings
    return out


_SVG_LENGTH = re.compile(
    r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(px|pt|pc|mm|cm|in|em|ex|%)?\s*"
)
_PX_PER = {"px": 1.0, "pt": 4 / 3, "pc": 16.0, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96.0}


def svg_length(value: str | None) -> tuple[float, str] | None:
    """An SVG length as written: ``(number, unit)``, the unit ``px`` when none is given
    (user units); None when it is not a length."""
    m = _SVG_LENGTH.fullmatch(value or "")
    return (float(m.group(1)), m.group(2) or "px") if m else None


def _size(name: str, value: str | None) -> dict[str, Any]:
    """``{name, name_unit, name_px}``: the length as the file gives it, and in CSS
    pixels where its unit is absolute (not for ``%``, ``em``, ``ex``)."""
    found = svg_length(value)
    if found is None:
        return {}
    number, unit = found
    px = _PX_PER.get(unit)
    return {
        name: number,
        f"{name}_unit": unit,
        f"{name}_px": round(number * px, 3) if px is not None else None,
    }


@extractor(
    "svg",
    kinds=["image"],
    extensions=["svg"],
    mimetypes=["image/svg+xml"],
    version="2.0",
    family="jsonxml",
)
@param("max_bytes", int, default=16 << 20, low=1, high=256 << 20, desc="bytes read")
def svg(path: str, max_bytes: int = 16 << 20) -> dict[str, Any]:
    """An SVG image: its size and view box, title, and what it is made of (as XML)."""
    et = need("defusedxml.ElementTree", "jsonxml")
    with open(path, "rb") as f:
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ValueError(f"larger than {max_bytes} bytes")
    root = et.fromstring(raw)

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    if local(root.tag) != "svg":
        raise ValueError(f"the root element is <{local(root.tag)}>, not <svg>")
    elements = Counter(local(el.tag) for el in root.iter() if isinstance(el.tag, str))
    title = next((el.text for el in root.iter() if local(str(el.tag)) == "title"), None)
    box = root.get("viewBox")
    view = [float(v) for v in re.split(r"[\s,]+", box.strip())] if box else None
    size = {**_size("width", root.get("width")), **_size("height", root.get("height"))}
    if "width" not in size and view and len(view) == 4:  # no size given: the viewBox's
        size = {"width": view[2], "width_unit": "px", "height": view[3], "height_unit": "px"}
    return {
        **size,
        "size_from": "viewBox" if size and root.get("width") is None else "attributes",
        "view_box": view,
        "root": root.tag,
        "title": (title or "").strip()[:500] or None,
        "elements": sum(elements.values()),
        "element_counts": dict(elements.most_common(20)),
        "namespaces": sorted(
            {
                el.tag[1:].split("}")[0]
                for el in root.iter()
                if isinstance(el.tag, str) and el.tag.startswith("{")
            }
        )[:20],
    }
