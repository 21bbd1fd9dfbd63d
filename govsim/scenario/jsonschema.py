"""The JSON Schema (draft 2020-12) of scenario files, for editors: ``govsim schema``.

A YAML editor given this schema (VS Code with the YAML extension, or any editor with
``yaml-language-server``) completes keys, shows each key's description, type, unit
and default, and flags a misspelt key or a wrong value as one types. Each preset
names it on its first line, ``# yaml-language-server: $schema=scenario.schema.json``
(the file is committed beside the presets; ``govsim presets copy`` writes it beside
the copy; ``govsim schema --out FILE`` writes it anywhere).

It is generated from the declarations the loader reads — the dataclasses of
:mod:`govsim.scenario.schema`, each registered policy's ``Params`` and each
registered governance mechanism's ``Config``, walked with the same helpers of
:mod:`govsim.scenario.convert` that write ``docs/scenario-reference.md`` — so it
cannot drift from the code; a test checks that the committed file is current.

What it says, as the loader does:

* every key of every section, with ``additionalProperties: false`` everywhere the
  loader refuses an unknown key (every section, each policy's and each mechanism's
  parameters, a distribution's parameters);
* types, numeric bounds (``ge``/``gt``/``le``/``lt``), lengths, choices
  (``Literal``), defaults as written in a file, descriptions with units;
* durations: a string with a unit (``30s``, ``15min``, ``2h``, ``1d``, ``2w``,
  any case) or ``0``; times of day ``"HH:MM"`` from ``00:00`` to ``24:00``;
  distributions: a fixed value, or ``dist:`` with the parameters of that
  distribution (each alternative set of parameters);
* the names the loader looks up in a registry: ``policy``, the keys of
  ``policies`` (with each policy's parameters), ``workers.route``, and the
  ``governance:`` section (one key per registered mechanism). A study that
  registers its own policy or mechanism gets a schema that includes it by calling
  :func:`scenario_schema` after registering;
* required keys: in a file without ``extends``, every required key; in a file that
  ``extends`` another, only those inside list items (lists replace, mappings merge,
  so the base may supply a missing key of a mapping).

What it cannot say (the loader checks it and ``govsim validate`` explains it):
bounds of durations (``after: 0h`` where ``> 0`` is needed), the scenario's
``limits:``, and cross-references (a category's department is a key of
``departments``; area types, community names, grid indices). It is a little
stricter than the loader in three corners: a distribution's ``dist`` must be
lower case, a number in a distribution must be written as a number (not ``"300"``), and a
number such as ``1e3``, which YAML 1.1 readers take for text, is a number only
to a YAML 1.2 reader (editors are YAML 1.2; write ``1000`` or ``1.0e+3``).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import json
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, cast, get_args, get_origin

from govsim.distributions import _DIMENSIONLESS, _FORMS, _OPTIONAL, DISTRIBUTIONS, parse_distribution
from govsim.params import _parse_number_dist
from govsim.scenario.convert import (
    _NoneType,
    _bound_phrase,
    _class_doc,
    _doc_plain,
    _fields,
    _FieldSpec,
    _is_dataclass_type,
    _is_union,
    _parser_of,
)
from govsim.units import _UNIT_HOURS, parse_clock, parse_duration

__all__ = ["DIALECT", "TITLE", "CLOCK_PATTERN", "DURATION_PATTERN", "scenario_schema", "schema_text"]

#: The JSON Schema dialect of the generated schema.
DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: The schema's title (``govsim presets copy`` recognises its own schema file by it).
TITLE = "govsim scenario"

# [0-9] and an explicit white space, not \d and \s: those match other scripts' digits and
# spaces in some regular-expression engines (Python's), never in the loader's.
_SPACE = r"[ \t\n\r\f\v]*"
_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_ZERO = r"(?:0+(?:\.0*)?|\.0+)(?:[eE][+-]?[0-9]+)?"


def _any_case(word: str) -> str:
    """``"min"`` → ``"[mM][iI][nN]"``: JSON Schema patterns have no case-insensitive flag."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


_UNITS = "|".join(_any_case(u) for u in sorted(_UNIT_HOURS, key=lambda u: (-len(u), u)))
#: A duration as the loader reads it (:func:`govsim.units.parse_duration`): a number with a
#: unit, or a bare zero.
DURATION_PATTERN = rf"^{_SPACE}(?:\+?{_NUMBER}{_SPACE}(?:{_UNITS})|[+-]?{_ZERO}(?:{_SPACE}(?:{_UNITS}))?){_SPACE}$"
#: A time of day as the loader reads it (:func:`govsim.units.parse_clock`).
CLOCK_PATTERN = rf"^{_SPACE}(?:(?:[01]?[0-9]|2[0-3]):[0-5][0-9]|24:00){_SPACE}$"

_BOUND_KEYWORDS = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum", "lt": "exclusiveMaximum"}


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file, as a dict (the registries as they are now)."""
    return _Builder().document()


def schema_text() -> str:
    """:func:`scenario_schema` as the text of ``scenario.schema.json`` (stable: keys in
    declaration order, two-space indents, a final newline)."""
    return json.dumps(scenario_schema(), indent=2, ensure_ascii=False) + "\n"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{name}"}


class _Builder:
    """Walks the declarations once, collecting one ``$defs`` entry per section class."""

    def __init__(self) -> None:
        self.defs: dict[str, Any] = {}
        self.names: dict[type, str] = {}
        self.overlays: dict[tuple[type, bool], str | None] = {}

    # ------------------------------------------------------------------ document

    def document(self) -> dict[str, Any]:
        from govsim.scenario.schema import Scenario

        self.defs.update(_value_defs())
        main = self.section(Scenario)
        whole = self.overlay(Scenario, through_mappings=True)
        in_lists = self.overlay(Scenario, through_mappings=False)
        top = self.defs[self.names[Scenario]]
        top["properties"] = {"extends": _EXTENDS, **top["properties"]}
        doc: dict[str, Any] = {
            "$schema": DIALECT,
            "title": TITLE,
            "description": "A govsim scenario file (docs/scenario-reference.md). Generated by `govsim schema` "
                           "from the declarations the loader reads; do not edit by hand.",
            **main,
            "if": {"required": ["extends"]},
            "then": _ref(in_lists) if in_lists else {},
            "else": _ref(whole) if whole else {},
            "$defs": self.defs,
        }
        return doc

    # ------------------------------------------------------------------ sections

    def section(self, cls: type) -> dict[str, Any]:
        """A ``$ref`` to the definition of section class ``cls`` (built on first use)."""
        if cls in self.names:
            return _ref(self.names[cls])
        name = _def_name(cls, set(self.defs))
        self.names[cls] = name
        self.defs[name] = {}  # reserved: a class may refer to itself
        body: dict[str, Any] = {"type": "object"}
        doc = _class_doc(cls)
        if doc:
            body["description"] = doc
        body["properties"] = {spec.name: self.field(cls, spec) for spec in _fields(cls)}
        body["additionalProperties"] = False
        self.defs[name] = body
        return _ref(name)

    def field(self, owner: type, spec: _FieldSpec) -> dict[str, Any]:
        special = self.registry_field(owner, spec.name)
        schema = dict(special) if special is not None else self.value(spec.hint, spec.meta)
        notes = [str(spec.meta.get("doc") or "").strip()]
        if not notes[0]:
            docs = [_class_doc(c) for c in _dataclasses_in(spec.hint)]
            notes[0] = next((d for d in docs if d), "")
        parsed = _parsed(spec.hint)
        if parsed:
            bounds = _bound_phrase(spec.meta, _fmt_of(spec.hint))
            if bounds:
                notes.append(f"Must be {bounds}.")
        elif spec.meta.get("unit") and notes[0]:
            notes[0] = f"{notes[0].rstrip('.')} ({spec.meta['unit']})"
        if spec.required:
            notes.append("Required.")
        text = " ".join(n if n.endswith(".") or not n else n + "." for n in notes if n)
        if text:
            schema = {"description": " ".join(text.split()), **schema}
        default = _default(spec)
        if default is not _NO_DEFAULT:
            schema["default"] = default
        return schema

    def registry_field(self, owner: type, name: str) -> dict[str, Any] | None:
        """Keys whose values the loader looks up in a registry of names."""
        from govsim.policies import POLICIES, ROUTES
        from govsim.scenario.schema import Scenario, WorkersConfig

        if owner is Scenario and name == "policy":
            return {"enum": list(POLICIES)}
        if owner is Scenario and name == "policies":
            return {"type": "object",
                    "properties": {p: self.section(cls.Params) for p, cls in POLICIES.items()},
                    "additionalProperties": False}
        if owner is WorkersConfig and name == "route":
            return {"enum": list(ROUTES)}
        return None

    # ------------------------------------------------------------------ values

    def value(self, tp: Any, meta: collections.abc.Mapping[str, Any]) -> dict[str, Any]:
        """The schema of a value of annotation ``tp`` (``meta``: bounds and lengths)."""
        origin = get_origin(tp)
        if tp is Any or tp is object:
            return {}
        if origin is Annotated:
            base, parser = _parser_of(tp)
            if parser is None:
                return self.value(base, meta)
            return _parsed_value(parser.func, parser.expected)
        if _is_union(tp):
            args = get_args(tp)
            alternatives = [self.value(a, meta) for a in args if a is not _NoneType]
            if len(alternatives) < len(args):
                alternatives.append({"type": "null"})
            return alternatives[0] if len(alternatives) == 1 else {"anyOf": alternatives}
        if origin is Literal:
            return {"enum": list(get_args(tp))}
        if tp is bool:
            return {"type": "boolean"}
        if tp is int:
            return {"type": "integer", **_bounds(meta)}
        if tp is float:
            return {"type": "number", **_bounds(meta)}
        if tp is str:
            return {"type": "string", **_lengths(meta, "Length")}
        if tp is _NoneType:
            return {"type": "null"}
        item_meta = {k: v for k, v in meta.items() if k in _BOUND_KEYWORDS}
        if origin in (list, collections.abc.Sequence) or tp in (list, tuple):
            (item,) = get_args(tp) or (Any,)
            return {"type": "array", "items": self.value(item, item_meta), **_lengths(meta, "Items")}
        if origin is tuple:
            args = get_args(tp)
            if len(args) == 2 and args[1] is Ellipsis:
                return {"type": "array", "items": self.value(args[0], item_meta), **_lengths(meta, "Items")}
            return {"type": "array", "prefixItems": [self.value(a, item_meta) for a in args], "items": False,
                    "minItems": len(args), "maxItems": len(args)}
        if origin in (dict, collections.abc.Mapping) or tp is dict:
            _, val = get_args(tp) or (str, Any)
            return {"type": "object", "additionalProperties": self.value(val, item_meta),
                    **_lengths(meta, "Properties")}
        if _is_dataclass_type(tp):
            return self.section(tp)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return {"enum": [m.value for m in tp]}
        return {}

    # ------------------------------------------------------------------ required keys

    def overlay(self, cls: type, *, through_mappings: bool) -> str | None:
        """The name of a definition that requires the required keys of section ``cls``
        (None: there are none). With ``through_mappings`` false (a file that extends
        another) only keys inside list items are required: mappings merge with the
        base's, lists replace it. Only ``required`` and ``properties`` are used, which
        apply to mappings alone, so the overlay adds no second diagnostic of a type."""
        key = (cls, through_mappings)
        if key in self.overlays:
            return self.overlays[key]
        self.overlays[key] = None  # a class that refers to itself adds nothing more
        body: dict[str, Any] = {}
        if through_mappings:
            required = [s.name for s in _fields(cls) if s.required]
            if required:
                body["required"] = required
        props = {}
        for spec in _fields(cls):
            sub = self.overlay_value(self.registry_hint(cls, spec), through_mappings)
            if sub:
                props[spec.name] = sub
        if props:
            body["properties"] = props
        if not body:
            return None
        base = self.names.get(cls) or _def_name(cls, set(self.defs))
        name = f"{base}.required" if through_mappings else f"{base}.required_in_lists"
        self.defs[name] = body
        self.overlays[key] = name
        return name

    def registry_hint(self, owner: type, spec: _FieldSpec) -> Any:
        """The annotation walked for required keys (``policies`` holds each policy's Params)."""
        from govsim.policies import POLICIES
        from govsim.scenario.schema import Scenario

        if owner is Scenario and spec.name == "policies":
            return [cls.Params for cls in POLICIES.values()]
        return spec.hint

    def overlay_value(self, tp: Any, through_mappings: bool) -> dict[str, Any] | None:
        if isinstance(tp, list):  # Scenario.policies: one Params class per policy name
            from govsim.policies import POLICIES

            props = {name: self.overlay_value(cls.Params, through_mappings) for name, cls in POLICIES.items()}
            props = {k: v for k, v in props.items() if v}
            return {"properties": props} if props else None
        origin = get_origin(tp)
        if origin is Annotated:
            base, parser = _parser_of(tp)
            return None if parser is not None else self.overlay_value(base, through_mappings)
        if _is_union(tp):
            subs = [s for a in get_args(tp) if (s := self.overlay_value(a, through_mappings))]
            if not subs:
                return None
            return subs[0] if len(subs) == 1 else {"allOf": subs}
        if origin in (list, tuple, collections.abc.Sequence):
            args = [a for a in get_args(tp) if a is not Ellipsis]
            subs = [s for a in args if (s := self.overlay_value(a, True))]
            if not subs:
                return None
            if origin is tuple and not (len(get_args(tp)) == 2 and get_args(tp)[1] is Ellipsis):
                return {"prefixItems": [self.overlay_value(a, True) or {} for a in args]}
            return {"items": subs[0]}
        if origin in (dict, collections.abc.Mapping):
            key_value = get_args(tp)
            sub = self.overlay_value(key_value[1], through_mappings) if key_value else None
            return {"additionalProperties": sub} if sub else None
        if _is_dataclass_type(tp):
            name = self.overlay(tp, through_mappings=through_mappings)
            return _ref(name) if name else None
        return None


# --------------------------------------------------------------------------- values that are parsed

_NO_DEFAULT: Any = object()

_EXTENDS = {
    "description": "Start from another scenario file and override it key by key (mappings merge, lists and "
                   "scalars replace): a file name relative to this file, or the name of a preset "
                   "(`govsim presets`); a list of files is merged in order.",
    "anyOf": [
        {"type": "string", "minLength": 1},
        {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        {"type": "null"},
    ],
}


def _value_defs() -> dict[str, Any]:
    """Definitions of the parsed values: durations, times of day, distributions."""
    number = {"type": "number"}
    return {
        "duration": {
            "description": "A duration with a unit: 30s, 15min, 2h, 1d, 2w (a bare 0 is allowed).",
            "anyOf": [{"type": "string", "pattern": DURATION_PATTERN}, {"const": 0}],
        },
        "time_of_day": {
            "description": 'A time of day, quoted: "08:00" (from "00:00" to "24:00").',
            "type": "string",
            "pattern": CLOCK_PATTERN,
        },
        "number": number,
        "duration_distribution": _distribution(
            "duration", "A duration such as '15min', or a distribution of durations such as "
                        "{dist: lognormal, mean: 20min, sd: 10min}."),
        "number_distribution": _distribution(
            "number", "A number such as 300, or a distribution of numbers such as "
                      "{dist: uniform, low: 20, high: 80}."),
    }


_PARAMETER_DOCS = {
    "value": "the fixed value", "mean": "mean of the variable itself", "sd": "standard deviation of the variable",
    "shape": "shape (a plain number)", "scale": "scale", "low": "smallest value", "mode": "most likely value",
    "high": "largest value", "values": "the values drawn", "weights": "relative weights of the values (plain "
    "numbers; default: equal)", "zero": "probability of exactly zero (a plain number)",
    "of": "the distribution of the values that are not zero",
}


def _distribution(value: str, description: str) -> dict[str, Any]:
    """A value of kind ``value`` (``duration`` or ``number``), or ``{dist: NAME, ...}`` with
    the parameters of one of the forms of NAME (:data:`govsim.distributions._FORMS`)."""
    own = f"{value}_distribution"
    names = list(DISTRIBUTIONS)
    params: dict[str, Any] = {"dist": {"description": "the distribution", "enum": names}}
    for name in names:
        for form in _FORMS[name]:
            for key in form:
                if key in params:
                    continue
                if key == "of":
                    schema: dict[str, Any] = _ref(own)
                elif key in ("values", "weights"):
                    item = "number" if key in _DIMENSIONLESS else value
                    schema = {"type": "array", "items": _ref(item), "minItems": 1}
                else:
                    schema = _ref("number" if key in _DIMENSIONLESS else value)
                params[key] = {"description": _PARAMETER_DOCS.get(key, key), **schema}
    forms = []
    for name in names:
        alternatives = [{"required": ["dist", *[k for k in form if k not in _OPTIONAL.get(name, ())]],
                         "propertyNames": {"enum": ["dist", *form]}} for form in _FORMS[name]]
        then = alternatives[0] if len(alternatives) == 1 else {"anyOf": alternatives}
        forms.append({"if": {"properties": {"dist": {"const": name}}, "required": ["dist"]}, "then": then})
    return {
        "description": description,
        "anyOf": [
            _ref(value),
            {"type": "object", "properties": params, "required": ["dist"], "additionalProperties": False,
             "allOf": forms},
        ],
    }


def _parsed_value(func: Any, expected: str) -> dict[str, Any]:
    """The schema of a value read by parser ``func`` (any value for a parser not known here)."""
    known = {parse_duration: "duration", parse_clock: "time_of_day", parse_distribution: "duration_distribution",
             _parse_number_dist: "number_distribution"}
    name = known.get(func)
    return _ref(name) if name else {"description": f"expected {expected}"}


def _parsed(tp: Any) -> bool:
    """``tp`` is (or contains, as ``X | None``) a value read by a parser."""
    if get_origin(tp) is Annotated:
        return _parser_of(tp)[1] is not None
    if _is_union(tp):
        return any(_parsed(a) for a in get_args(tp))
    return False


def _fmt_of(tp: Any) -> Any:
    if get_origin(tp) is Annotated:
        parser = _parser_of(tp)[1]
        return parser.fmt if parser is not None else None
    if _is_union(tp):
        return next((f for a in get_args(tp) if (f := _fmt_of(a)) is not None), None)
    return None


def _dataclasses_in(tp: Any) -> list[type]:
    if _is_dataclass_type(tp):
        return [tp]
    if get_origin(tp) is Annotated:
        return []
    return [c for a in get_args(tp) for c in _dataclasses_in(a)]


def _bounds(meta: collections.abc.Mapping[str, Any]) -> dict[str, Any]:
    return {kw: meta[key] for key, kw in _BOUND_KEYWORDS.items() if meta.get(key) is not None}


def _lengths(meta: collections.abc.Mapping[str, Any], noun: str) -> dict[str, Any]:
    out = {}
    if meta.get("min_len") is not None:
        out[f"min{noun}"] = meta["min_len"]
    if meta.get("max_len") is not None:
        out[f"max{noun}"] = meta["max_len"]
    return out


def _default(spec: _FieldSpec) -> Any:
    """The field's default as written in a file, or ``_NO_DEFAULT`` (required; a whole
    section, whose keys carry their own defaults; not plain JSON)."""
    f = spec.field
    if spec.required:
        return _NO_DEFAULT
    make = cast("Callable[[], Any]", f.default_factory)
    value = f.default if f.default is not dataclasses.MISSING else make()
    if (dataclasses.is_dataclass(value) and not isinstance(value, type)) or hasattr(type(value), "__section_fields__"):
        return _NO_DEFAULT
    plain = _doc_plain(spec.hint, value)
    try:
        json.dumps(plain, allow_nan=False)
    except (TypeError, ValueError):
        return _NO_DEFAULT
    return plain


def _def_name(cls: type, taken: set[str]) -> str:
    """``CategoryConfig``: the class name, with its module when another class has it; only
    letters, digits, ``_``, ``.`` and ``-`` (the name is part of a ``$ref``)."""
    name = cls.__name__
    if name in taken:
        name = f"{cls.__module__}.{cls.__name__}"
    return re.sub(r"[^\w.-]", "_", name, flags=re.ASCII)
