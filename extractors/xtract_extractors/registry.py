"""The extractor registry: the ``@extractor`` and ``@param`` decorators, parameter
validation, and plug-ins found through the ``xtract.extractors`` entry-point group.

An extractor is a function declared like this::

    @extractor("tabular", kinds=["tabular"], extensions=["csv", "tsv"],
               mimetypes=["text/csv"], version="1.0")
    @param("sample_bytes", int, default=1 << 20, desc="bytes read to sniff the format")
    def tabular(path: str, sample_bytes: int = 1 << 20) -> dict:
        ...

By default an extractor reads one file (``per_file=True``) and the registry maps it over
a group's files; with ``per_file=False`` it receives the group's list of paths at once.
It returns a JSON-serialisable dict and knows nothing of Redis or HTTP. A ``warnings``
list in the result marks partial metadata.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Literal, TypeVar

log = logging.getLogger(__name__)

_PARAMS_ATTR = "__xtract_params__"
_Declared = TypeVar("_Declared")  # a function or class that declares parameters
_TYPES: dict[type, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "list",
    dict: "object",
}


# every parameter is bounded: numbers unless declared otherwise, text and lists always
DEFAULT_LOW, DEFAULT_HIGH = 0, 2**31
MAX_TEXT = 1000
FIELD_TYPES = frozenset(
    {"string", "int64", "double", "bool", "list<string>", "list<int64>", "list<double>"}
)
MAX_ITEMS = 100


class ParamError(ValueError):
    """A parameter that is unknown, missing or of the wrong type; the message names it."""


class UnknownExtractor(LookupError):
    """No extractor of that name is registered."""


@dataclass(frozen=True)
class Param:
    name: str
    type: type
    default: Any = None
    desc: str = ""
    optional: bool = True
    secret: bool = False
    low: float | None = None  # numbers: the smallest value taken (default 0)
    high: float | None = None  # numbers: the largest value taken (default 2**31)
    choices: tuple[Any, ...] | None = None  # the only values taken

    def describe(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "type": _TYPES.get(self.type, self.type.__name__),
            "default": "***" if self.secret and self.default is not None else self.default,
            "desc": self.desc,
            "optional": self.optional,
            "secret": self.secret,
        }
        if self.type in (int, float):
            out["low"], out["high"] = self.bounds()
        if self.choices is not None:
            out["choices"] = list(self.choices)
        return out

    def bounds(self) -> tuple[float, float]:
        return (
            DEFAULT_LOW if self.low is None else self.low,
            DEFAULT_HIGH if self.high is None else self.high,
        )

    def check(self, owner: str, value: Any) -> None:
        """ParamError unless ``value`` (of the right type) is within this parameter's
        bounds: numbers within ``low``..``high``, one of ``choices``, text of at most
        MAX_TEXT characters, lists of at most MAX_ITEMS short items."""
        where = f"parameter {self.name!r} of {owner}"
        if self.choices is not None and value not in self.choices:
            raise ParamError(f"{where} must be one of {', '.join(map(str, self.choices))}")
        if self.type in (int, float):
            low, high = self.bounds()
            if not low <= value <= high:
                raise ParamError(f"{where} must be from {low:g} to {high:g}, not {value!r}")
        elif isinstance(value, str) and len(value) > MAX_TEXT:
            raise ParamError(f"{where} is longer than {MAX_TEXT} characters")
        elif isinstance(value, list | dict) and (
            len(value) > MAX_ITEMS or len(repr(value)) > MAX_TEXT * 10
        ):
            raise ParamError(f"{where} holds more than {MAX_ITEMS} items or is too large")


def check_params(
    owner: str, declared: tuple[Param, ...], params: dict[str, Any] | None
) -> dict[str, Any]:
    """Validate ``params`` against ``declared`` for ``owner`` (``"extractor 'x'"``):
    unknown, missing and mistyped parameters raise :class:`ParamError` naming them;
    returns every declared parameter, defaults filled in."""
    params = dict(params or {})
    known = {p.name: p for p in declared}
    for name in params:
        if name not in known:
            names = ", ".join(sorted(known)) or "none"
            raise ParamError(f"{owner} has no parameter {name!r} (it takes: {names})")
    out: dict[str, Any] = {}
    for p in declared:
        if p.name not in params:
            if not p.optional:
                raise ParamError(f"{owner} needs parameter {p.name!r}")
            out[p.name] = p.default
            continue
        value = params[p.name]
        if p.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, p.type) or (p.type is not bool and isinstance(value, bool)):
            raise ParamError(
                f"parameter {p.name!r} of {owner} must be "
                f"{_TYPES.get(p.type, p.type.__name__)}, not {_short(value)}"
            )
        p.check(owner, value)
        out[p.name] = value
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def declared_params(obj: Any) -> tuple[Param, ...]:
    """The ``@param`` declarations attached to a function or class."""
    return tuple(getattr(obj, _PARAMS_ATTR, []))


@dataclass
class Extractor:
    """A registered extractor and what it reads."""

    name: str
    fn: Callable[..., dict[str, Any]]
    kinds: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    mimetypes: tuple[str, ...] = ()
    version: str = "0"
    per_file: bool = True
    # what of the file's name the answer depends on ("extension": read as a hint;
    # "name": put in the answer): the content cache keys it by that too
    reads_name: Literal["", "extension", "name"] = ""
    # base-name globs of files without a telling extension (VASP's ``POSCAR``, ``OUTCAR``)
    names: tuple[str, ...] = ()
    # its key facts as typed columns of a Parquet export: field -> "string", "int64",
    # "double", "bool", "list<string>", "list<int64>" or "list<double>"
    fields: dict[str, str] = field(default_factory=dict)
    params: tuple[Param, ...] = ()
    description: str = ""
    source: str = "builtin"
    family: str | None = None  # the extra (and container) that serves it

    @property
    def ref(self) -> str:
        """``module:qualname``: how a fresh process finds this extractor's code."""
        return f"{self.fn.__module__}:{self.fn.__qualname__}"

    def validate(self, params: dict[str, Any] | None) -> dict[str, Any]:
        """The parameters to call with: defaults filled in, types checked."""
        return check_params(f"extractor {self.name!r}", self.params, params)

    def run(self, paths: list[str], params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call the extractor on a group's paths (no isolation: see ``isolation``)."""
        kwargs = self.validate(params)
        if not self.per_file:
            return self.fn(paths, **kwargs)
        if len(paths) == 1:
            return self.fn(paths[0], **kwargs)
        return {"files": {p: self.fn(p, **kwargs) for p in paths}}

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "kinds": list(self.kinds),
            "extensions": list(self.extensions),
            "names": list(self.names),
            "fields": dict(self.fields),
            "mimetypes": list(self.mimetypes),
            "per_file": self.per_file,
            "params": [p.describe() for p in self.params],
            "source": self.source,
            "family": self.family,
        }


REGISTRY: dict[str, Extractor] = {}
PLUGIN_ERRORS: dict[str, str] = {}  # entry-point name -> why it did not load
_plugins_loaded = False


def param(
    name: str,
    type: type,
    default: Any = None,
    desc: str = "",
    optional: bool = True,
    secret: bool = False,
    low: float | None = None,
    high: float | None = None,
    choices: Iterable[Any] | None = None,
) -> Callable[[_Declared], _Declared]:
    """Declare one typed parameter of an extractor (stack several, under ``@extractor``).
    Numbers are held within ``low``..``high`` (default 0..2**31), text and lists are
    bounded too, and ``choices`` lists the only values taken."""
    fixed = tuple(choices) if choices is not None else None
    declared_param = Param(name, type, default, desc, optional, secret, low, high, fixed)

    def attach(fn: _Declared) -> _Declared:
        declared: list[Param] = getattr(fn, _PARAMS_ATTR, [])
        # decorators apply bottom-up; keep the order in which they are written
        setattr(fn, _PARAMS_ATTR, [declared_param, *declared])
        return fn

    return attach


def extractor(
    name: str,
    *,
    kinds: Iterable[str] = (),
    extensions: Iterable[str] = (),
    mimetypes: Iterable[str] = (),
    version: str = "0",
    per_file: bool = True,
    description: str | None = None,
    family: str | None = None,
    reads_name: Literal["", "extension", "name"] = "",
    names: Iterable[str] = (),
    fields: dict[str, str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as the extractor called ``name``. ``family`` names the
    project extra (and the container built from it) that installs its library;
    ``reads_name`` says its answer depends on the file's ``extension`` or whole
    ``name``, not only its bytes (then identical bytes under another extension, or
    name, are read again); ``names`` are base-name globs (``POSCAR*``) of the text files
    it reads that no extension marks; ``fields`` are the top-level facts a Parquet
    export keeps as typed columns (a struct column named after the extractor)."""
    unknown = set((fields or {}).values()) - FIELD_TYPES
    if unknown:
        raise ValueError(f"extractor {name!r} declares fields of unknown types: {unknown}")

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        module = fn.__module__
        REGISTRY[name] = Extractor(
            name=name,
            fn=fn,
            kinds=tuple(kinds),
            extensions=tuple(e.lower().lstrip(".") for e in extensions),
            mimetypes=tuple(mimetypes),
            version=version,
            per_file=per_file,
            params=tuple(getattr(fn, _PARAMS_ATTR, [])),
            description=description or (fn.__doc__ or "").strip().split("\n")[0],
            source="builtin" if module.startswith(__package__ or "xtract_extractors") else module,
            family=family,
            reads_name=reads_name,
            names=tuple(names),
            fields=dict(fields or {}),
        )
        return fn

    return register


def load_plugins() -> None:
    """Import every ``xtract.extractors`` entry point once; a plug-in that fails to load
    is recorded in :data:`PLUGIN_ERRORS` and skipped."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in entry_points(group="xtract.extractors"):
        try:
            ep.load()  # importing the module runs its @extractor decorators
        except Exception as exc:
            PLUGIN_ERRORS[ep.name] = f"{type(exc).__name__}: {exc}"
            log.warning("extractor plug-in %r failed to load: %s", ep.name, exc)


def get(name: str) -> Extractor:
    """The extractor called ``name``; built-ins and plug-ins are loaded on first use."""
    ensure_loaded()
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise UnknownExtractor(f"unknown extractor {name!r}; known: {known}") from None


def all_extractors() -> list[Extractor]:
    ensure_loaded()
    return sorted(REGISTRY.values(), key=lambda e: e.name)


def ensure_loaded() -> None:
    importlib.import_module(f"{__package__}.builtin")
    load_plugins()


def resolve(name: str, ref: str | None = None) -> Extractor:
    """Find an extractor in a fresh process: by name, else by importing its module."""
    if ref and name not in REGISTRY:
        importlib.import_module(ref.split(":", 1)[0])
    return get(name)
