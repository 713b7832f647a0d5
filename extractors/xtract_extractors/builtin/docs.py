"""Documents a Linux machine is full of: manual pages (troff, ``man`` and ``mdoc``
macros, gzipped or not), gettext message catalogs (``.mo``) and fonts.

``manpage``: title, section, date, source and manual from ``.TH`` (or ``.Dd``/``.Dt``/
``.Os``), the names and one-line description of the NAME section (as ``lexgrog`` of
man-db reads them; ``tests/truth`` compares the two), the synopsis as text and the
section headings.

``gettext``: a compiled catalog's language, project, charset, plural rule and message
count, from its header.

``certificate``: an X.509 certificate's (PEM or DER) subject, issuer, validity,
serial number, key and whether it is a CA's (cryptography).

``font``: a TrueType or OpenType font's family, style, full name, version, glyph
count, format and the Unicode characters it maps, from its tables (fontTools); the
family and style are the ones fontconfig reports (typographic names first).
"""

from __future__ import annotations

import re
import struct
import unicodedata
from typing import Any

from ..registry import extractor, param
from ._common import need, read_text

# troff escapes, as text: named characters, fonts, sizes, spacing, the rest dropped
_NAMED = {
    "em": "\u2014",
    "en": "\u2013",
    "hy": "-",
    "aq": "'",
    "dq": '"',
    "lq": "\u201c",
    "rq": "\u201d",
    "oq": "\u2018",
    "cq": "\u2019",
    "bu": "\u2022",
    "co": "\u00a9",
    "rg": "\u00ae",
    "tm": "\u2122",
    "mi": "-",
    "ti": "~",
    "ha": "^",
    "ga": "`",
    "rs": "\\",
    "dg": "\u2020",
    "de": "\u00b0",
    "ss": "\u00df",
    "Aq": "'",
}
# accents: \(:a ä, \('e é, \(`e è, \(^o ô, \(~n ñ, \(,c ç
_ACCENT = {":": "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", ",": "\u0327"}
_ESCAPE = re.compile(
    r"\\(?:\((..)|\[([^\]]{1,20})\]|[*](?:\((..)|\[[^\]]*\]|.)|f(?:\[[^\]]*\]|\(..|.)"
    r"|s[+-]?\d+|[&|^%:)!]|e|-|\s|.)"
)
_MAX_SECTIONS = 60
# requests and macros whose arguments are not running text (comments, breaks, index)
_SILENT = {'\\"', "PP", "LP", "P", "br", "sp", "TP", "RS", "RE", "IX", "in", "ti", "nh", "ad"}


def _named(name: str) -> str:
    """A troff special character or string by name: ``em``, ``:a``, ``u00FC``."""
    if name in _NAMED:
        return _NAMED[name]
    if len(name) == 2 and name[0] in _ACCENT and name[1].isalpha():
        return unicodedata.normalize("NFC", name[1] + _ACCENT[name[0]])
    if re.fullmatch(r"u[0-9A-Fa-f]{4,6}", name):
        return chr(int(name[1:], 16))
    return ""


def _unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        whole = m.group(0)
        name = m.group(1) or m.group(2) or m.group(3)
        if name:
            return _named(name)
        if whole == "\\-":
            return "-"
        if whole == "\\e":
            return "\\"
        if whole in ("\\.", "\\'", "\\`"):
            return {"\\.": ".", "\\'": "\u00b4", "\\`": "`"}[whole]
        if whole[1:2].isspace():
            return " "
        return ""

    return _ESCAPE.sub(one, text)


def _macro(line: str) -> str:
    """The request or macro a control line (``.TH ...``, ``'br``) calls; "" for text
    and for a bare ``.``."""
    if not line.startswith((".", "'")):
        return ""
    parts = line[1:].split(maxsplit=1)
    return parts[0] if parts else ""


def _args(line: str) -> list[str]:
    """A macro line's arguments, quotes honoured."""
    return [a.strip('"') for a in re.findall(r'"[^"]*"|\S+', line)[1:]]


_BREAKS = {"PP", "LP", "P", "sp", "IP", "TP", "SS", "HP"}


def _paragraphs(lines: list[str]) -> list[list[str]]:
    """A section's lines cut at paragraph breaks (where lexgrog ends a NAME line)."""
    out: list[list[str]] = [[]]
    for ln in lines:
        word = _macro(ln)
        if word in _BREAKS or not ln.strip():
            if any(not o.startswith(".") for o in out[-1]):
                out.append([])
            continue
        out[-1].append(ln)
    return [p for p in out if p]


_NAME_DASH = re.compile(r"\s+(?:\\&)?\\-\s*|\s+-\s+")


def _name_section(lines: list[str], mdoc: bool) -> tuple[list[str], str | None]:
    """The names and one-line description of a NAME section, as man-db's lexgrog
    reads them: each paragraph is names, the first dash after a blank (``\\-`` or
    ``-``), a description; a "name" with a blank inside is not a name. In ``mdoc``,
    ``.Nm`` and ``.Nd`` (its words as written, quotes and all)."""
    if mdoc:
        listed = [" ".join(_args(ln)).strip(", ") for ln in lines if ln.startswith(".Nm")]
        desc = " ".join(ln[3:].strip() for ln in lines if ln.startswith(".Nd"))
        return [n for n in listed if n], _unescape(desc).strip() or None
    names: list[str] = []
    description = None
    for paragraph in _paragraphs(_body(lines)):
        found = _name_line(_raw_text(paragraph))
        if found:
            names += [n for n in found[0] if n not in names]
            description = description or found[1]
    return names, description


def _name_line(line: str) -> tuple[list[str], str | None] | None:
    """``(names, description)`` of one NAME paragraph, or None without a dash."""
    parts = _NAME_DASH.split(line, maxsplit=1)
    if len(parts) != 2:
        return None
    listed = [" ".join(_unescape(n).split()) for n in parts[0].split(",")]
    names = [n for n in listed if n and not any(c.isspace() for c in n)]
    return names, " ".join(_unescape(parts[1]).split()) or None


# macros whose arguments are running text (fonts, and mdoc's inline words)
_TEXT_MACROS = {"B", "I", "BI", "BR", "IB", "IR", "RB", "RI", "SM", "SB", "Nm", "Ar", "Fl"}


def _raw_text(lines: list[str]) -> str:
    """Body lines as running text, escapes kept: text lines, and the arguments of the
    font macros; other requests (conditions, registers, definitions) dropped."""
    words = []
    for ln in lines:
        if ln.startswith((".", "'")):
            macro = _macro(ln)
            if macro in _TEXT_MACROS:
                words.append(" ".join(_args(ln)))
            elif macro == "IP":  # an indented paragraph's tag
                words.append(" ".join(_args(ln)[:1]))
        else:
            words.append(ln)
    return " ".join(words)


def _text_of(lines: list[str]) -> str:
    """Body lines as running text (see :func:`_raw_text`), escapes resolved."""
    return " ".join(_unescape(_raw_text(lines)).split())


def _body(lines: list[str]) -> list[str]:
    """The lines, macro definitions (``.de`` ... ``..``) and conditionals left out."""
    out: list[str] = []
    defining = False
    for ln in lines:
        word = _macro(ln)
        if defining:
            defining = ln.strip() != ".."
            continue
        if word in ("de", "de1", "am", "ig"):
            defining = True
            continue
        if word in ("if", "ie", "el", "nr", "ds", "so", "tr", "ft", "ps", "ne", "hy", "na"):
            continue
        out.append(ln)
    return out


@extractor(
    "manpage",
    kinds=["text"],
    extensions=[str(n) for n in range(1, 10)] + ["man", "mdoc"],
    mimetypes=["text/troff", "text/x-troff", "text/x-troff-man", "application/x-troff-man"],
    version="1.0",
    family="keyword",
)
@param("max_bytes", int, default=4 << 20, low=1, high=64 << 20, desc="bytes read")
def manpage(path: str, max_bytes: int = 4 << 20) -> dict[str, Any]:
    """A manual page: title, section, names and description, synopsis, sections."""
    text, warnings, cut = read_text(path, max_bytes)
    lines = text.splitlines()
    out: dict[str, Any] = {"format": "man"}
    sections: dict[str, list[str]] = {}
    order: list[str] = []
    current: str | None = None
    for ln in lines:
        word = _macro(ln)
        if word == "TH":
            args = _args(ln)
            keys = ("title", "section", "date", "source", "manual")
            out.update({k: _unescape(v) for k, v in zip(keys, args, strict=False)})
        elif word in ("Dt", "Dd", "Os"):
            out["format"] = "mdoc"
            args = _args(ln)
            if word == "Dt" and args:
                out["title"] = args[0]
                if len(args) > 1:
                    out["section"] = args[1]
            elif word == "Dd":
                out["date"] = " ".join(args)
            elif word == "Os" and args:
                out["source"] = " ".join(args)
        elif word in ("SH", "Sh"):
            current = _unescape(" ".join(_args(ln))).strip().upper()
            if current not in sections and len(order) < _MAX_SECTIONS:
                order.append(current)
                sections[current] = []
        elif current is not None and current in sections:
            sections[current].append(ln)
    include = next((ln.split(maxsplit=1)[1] for ln in lines if ln.startswith(".so ")), None)
    if include and not order:  # a page that is another page: its name, not opened here
        return {"format": "man", "includes": include.strip()}
    if not order and "title" not in out:
        raise ValueError("no .TH or .Dt line and no sections: not a manual page")
    # NAME comes first; translated pages call it NOMBRE, JMÉNO, NAAM, ...
    name = sections.get("NAME", sections[order[0]] if order else [])
    out["names"], out["description"] = _name_section(name, out["format"] == "mdoc")
    synopsis = _text_of(_body(sections.get("SYNOPSIS", [])))
    out["synopsis"] = synopsis[:2000] or None
    out["sections"] = order
    if cut:
        warnings.append(f"read the first {max_bytes} bytes")
    if warnings:
        out["warnings"] = warnings
    return out


@extractor(
    "gettext",
    kinds=["text"],
    extensions=["mo", "gmo"],
    mimetypes=["application/x-gettext-translation"],
    version="1.0",
    family="keyword",
)
def gettext_catalog(path: str) -> dict[str, Any]:
    """A compiled gettext catalog: language, project, charset, plural forms, messages
    (system-dependent ones, such as those with ``<PRIuMAX>``, included)."""
    with open(path, "rb") as f:
        data = f.read(64 << 20)
    if len(data) < 28:
        raise ValueError("shorter than a .mo header")
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">" if magic == 0xDE120495 else None
    if order is None:
        raise ValueError("not a gettext catalog (wrong magic number)")
    revision, count, originals, translations = struct.unpack(order + "4I", data[4:20])
    sysdep = 0
    if revision & 0xFFFF and len(data) >= 40:  # minor revision 1: system-dependent strings
        sysdep = struct.unpack(order + "I", data[36:40])[0]
    header = ""
    if count:
        length, _ = struct.unpack(order + "2I", data[originals : originals + 8])
        if length == 0:  # the first original is "": its translation is the header
            tlen, toff = struct.unpack(order + "2I", data[translations : translations + 8])
            header = data[toff : toff + tlen].decode("utf-8", "replace")
    info = {
        k.strip().lower(): v.strip()
        for k, _, v in (ln.partition(":") for ln in header.splitlines())
        if k.strip()
    }
    charset = re.search(r"charset=([\w.-]+)", info.get("content-type", ""))
    return {
        "language": info.get("language") or None,
        "project": info.get("project-id-version") or None,
        "charset": charset.group(1) if charset else None,
        "plural_forms": info.get("plural-forms") or None,
        "messages": count - (1 if header else 0) + sysdep,
        "revision_date": info.get("po-revision-date") or None,
        "language_team": info.get("language-team") or None,
    }


def _name(table: Any, *ids: int) -> str | None:
    """The first of the name IDs ``ids`` the font has, in English where it has it."""
    for nid in ids:
        found = table.getName(nid, 3, 1, 0x409) or table.getName(nid, 1, 0, 0)
        found = found or table.getDebugName(nid)
        if found:
            return str(found).strip() or None
    return None


@extractor(
    "font",
    kinds=["document"],
    extensions=["ttf", "otf", "ttc", "otc"],
    mimetypes=["font/ttf", "font/otf", "font/sfnt", "font/collection", "application/font-sfnt"],
    version="1.0",
    family="documents",
)
def font(path: str) -> dict[str, Any]:
    """A font: family, style, full name, version, glyphs, format, characters mapped
    (the first font of a collection, and how many it holds)."""
    ttlib = need("fontTools.ttLib", "documents")
    with open(path, "rb") as f:
        collection = f.read(4) == b"ttcf"
    if collection:
        fonts = ttlib.TTCollection(path, lazy=True)
        count, face = len(fonts.fonts), fonts.fonts[0]
    else:
        count, face = 1, ttlib.TTFont(path, lazy=True)
    names = face["name"]
    cmap = face.getBestCmap() or {}
    return {
        "family": _name(names, 16, 1),
        "style": _name(names, 17, 2),
        "full_name": _name(names, 4),
        "version": _name(names, 5),
        "glyphs": int(face["maxp"].numGlyphs),
        "format": "CFF" if "CFF " in face or "CFF2" in face else "TrueType",
        "characters": len(cmap),
        "fonts_in_file": count,
    }


@extractor(
    "certificate",
    kinds=["document"],
    extensions=["crt", "pem", "cer", "der"],
    mimetypes=["application/x-x509-ca-cert", "application/pkix-cert", "application/x-pem-file"],
    version="1.0",
    family="documents",
)
def certificate(path: str) -> dict[str, Any]:
    """An X.509 certificate (the first of a PEM file): subject, issuer, validity,
    serial, key type and size, CA or not."""
    x509 = need("cryptography.x509", "documents")
    with open(path, "rb") as f:
        raw = f.read(1 << 20)
    pem = b"-----BEGIN CERTIFICATE-----" in raw
    cert = x509.load_pem_x509_certificate(raw) if pem else x509.load_der_x509_certificate(raw)
    key = cert.public_key()
    try:
        ca = bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        ca = False
    names = _openssl_names(x509)
    return {
        "subject": cert.subject.rfc4514_string(names),
        "issuer": cert.issuer.rfc4514_string(names),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "serial": _even_hex(cert.serial_number),
        "key_type": type(key).__name__.removeprefix("_").replace("PublicKey", "") or None,
        "key_bits": getattr(key, "key_size", None),
        "ca": ca,
        "certificates_in_file": raw.count(b"-----BEGIN CERTIFICATE-----") if pem else 1,
    }


def _openssl_names(x509: Any) -> dict[Any, str]:
    """Attribute names as OpenSSL writes them, where RFC 4514 has none (it would give
    the dotted OID)."""
    oid = x509.oid.NameOID
    return {
        oid.EMAIL_ADDRESS: "emailAddress",
        oid.SERIAL_NUMBER: "serialNumber",
        oid.ORGANIZATION_IDENTIFIER: "organizationIdentifier",
        oid.BUSINESS_CATEGORY: "businessCategory",
        oid.JURISDICTION_COUNTRY_NAME: "jurisdictionC",
        oid.JURISDICTION_STATE_OR_PROVINCE_NAME: "jurisdictionST",
        oid.JURISDICTION_LOCALITY_NAME: "jurisdictionL",
        oid.POSTAL_CODE: "postalCode",
        oid.GIVEN_NAME: "GN",
        oid.SURNAME: "SN",
        oid.TITLE: "title",
        oid.PSEUDONYM: "pseudonym",
        oid.DN_QUALIFIER: "dnQualifier",
        oid.INITIALS: "initials",
        oid.GENERATION_QUALIFIER: "generationQualifier",
        oid.UNSTRUCTURED_NAME: "unstructuredName",
    }


def _even_hex(n: int) -> str:
    """A serial number in hex as openssl prints it (whole bytes: an even digit count)."""
    digits = format(n, "X")
    return "0" + digits if len(digits) % 2 else digits
