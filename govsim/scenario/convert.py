"""Plain data (parsed YAML) → typed, validated dataclasses, driven by type hints.

:func:`build` converts a nested dict into an instance of a dataclass tree,
checking every key and value against the annotations and field metadata, and
raises one :class:`~govsim.scenario.errors.ScenarioError` listing *every*
problem found (with dotted paths such as ``workers.shifts[1].start``).

Supported annotations
---------------------
``int``, ``float`` (an int is accepted for a float; ``bool`` is rejected for
both), ``str``, ``bool``, ``Literal[...]``, ``X | None`` / ``Optional[X]``,
``list[X]``, ``tuple[X, ...]``, ``tuple[X, Y]``, ``dict[K, X]``, nested
dataclasses, ``Enum`` subclasses, ``Any``, and ``Annotated[T, Parser(...)]``
for values that need parsing (:data:`~govsim.params.Duration`,
:data:`~govsim.params.Clock`, :data:`~govsim.params.Dist`,
:data:`~govsim.params.NumberDist`, defined in :mod:`govsim.params` and
re-exported here; add more with :class:`~govsim.params.Parser`).

Field metadata (``dataclasses.field(metadata={...})``)
------------------------------------------------------
``doc`` (str) and ``unit`` (str) for the generated reference; ``ge``, ``gt``,
``le``, ``lt`` numeric bounds (applied to numbers, also to each number inside a
list or dict, and to parsed numbers such as durations in hours);
``min_len`` / ``max_len`` for lists, tuples, dicts and strings;
``internal: True`` for fields that are not part of the file format (refused as
unknown keys in input, skipped by :func:`describe` and :func:`to_plain`).

Cross-field checks: a dataclass may define ``_check(self) -> list[tuple[str, str]]``
returning ``(relative sub-path, message)`` pairs; it is called after the node
was built without problems.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime
import enum
import functools
import json
import math
import numbers
import os
import re
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Literal, Union, cast, get_args, get_origin

import numpy as np

from govsim.distributions import Distribution
from govsim.params import Clock, Dist, Duration, NumberDist, Parser, _fmt_clock, _fmt_dist, _fmt_duration
from govsim.scenario.errors import Problem, ScenarioError
from govsim.suggest import closest, did_you_mean

__all__ = [
    "Parser",
    "Duration",
    "Clock",
    "Dist",
    "NumberDist",
    "build",
    "describe",
    "reference_markdown",
    "to_plain",
    "type_name",
]


# --------------------------------------------------------------------------- formatting


def format_dist(dist: Any) -> Any:
    """A duration distribution as it is written in a scenario file (durations with units)."""
    return to_plain(_fmt_dist(dist, _fmt_duration))


def format_hours(hours: Any) -> dict[str, Any]:
    """An :class:`HoursConfig` as written in a scenario file (``{start: "08:00", ...}``)."""
    return {"start": _fmt_clock(hours.start), "end": _fmt_clock(hours.end), "days": list(hours.days)}


# --------------------------------------------------------------------------- helpers

_INVALID: Any = object()  # sentinel: the value had problems (already reported)
_BOUND_KEYS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
_SIMPLE_KEY = re.compile(r"[\w\-]+")
_SUBPATH = re.compile(r"^((?:[A-Za-z_][\w\-]*|\[\d+\])(?:\.[A-Za-z_][\w\-]*|\[\d+\])*): (.+)$", re.S)
_EXP_FLOAT = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+$", re.ASCII)
_NoneType = type(None)


def _key_segment(key: Any) -> str:
    text = key if isinstance(key, str) else str(key)
    return text if _SIMPLE_KEY.fullmatch(text) else f"[{text!r}]"


def _join(path: str, key: Any) -> str:
    """``path`` + mapping key (dotted, or ``['odd key']`` when not a simple name)."""
    seg = _key_segment(key)
    if seg.startswith("["):
        return path + seg
    return f"{path}.{seg}" if path else seg


def _join_sub(path: str, sub: str) -> str:
    """``path`` + a relative sub-path such as ``"sd"``, ``"[2].x"`` or ``""``."""
    if not sub:
        return path
    if not path or sub.startswith("["):
        return path + sub
    return f"{path}.{sub}"


def _truncate(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show(value: Any) -> str:
    """A value as in a scenario file: ``-1``, ``2.5``, ``'abc'``, ``true``, ``null``."""
    if value is None:
        return "null"
    if _is_bool(value):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    if isinstance(value, (datetime.date, datetime.time)):
        return repr(value.isoformat())
    return _truncate(repr(value))


def _got(value: Any) -> str:
    """A value and its type for "expected X, got Y" messages."""
    if value is None:
        return "null"
    if isinstance(value, collections.abc.Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if _is_bool(value):
        return f"{_show(value)} (boolean)"
    if isinstance(value, numbers.Integral):
        return f"{_show(value)} (int)"
    if isinstance(value, numbers.Real):
        return f"{_show(value)} (float)"
    if isinstance(value, str):
        return f"{_show(value)} (str)"
    if isinstance(value, datetime.datetime):
        return f"{_show(value)} (datetime)"
    if isinstance(value, datetime.date):
        return f"{_show(value)} (date)"
    return f"{_show(value)} ({type(value).__name__})"


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _parser_of(tp: Any) -> tuple[Any, Parser | None]:
    """``(base type, Parser or None)`` of an ``Annotated`` type."""
    args = get_args(tp)
    base, extras = args[0], args[1:]
    parser = next((m for m in extras if isinstance(m, Parser)), None)
    return base, parser


def _bounds(meta: collections.abc.Mapping[str, Any]) -> dict[str, Any]:
    return {k: meta[k] for k, _ in _BOUND_KEYS if meta.get(k) is not None}


def _bound_phrase(meta: collections.abc.Mapping[str, Any], fmt: Callable[[Any], Any] | None = None) -> str:
    parts = []
    for key, op in _BOUND_KEYS:
        if meta.get(key) is not None:
            bound = meta[key]
            shown = _flow(fmt(bound)) if fmt is not None else _show(bound)
            parts.append(f"{op} {shown}")
    return " and ".join(parts)


def _article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _violates(x: float, meta: collections.abc.Mapping[str, Any]) -> bool:
    b = _bounds(meta)
    return (
        ("ge" in b and not x >= b["ge"])
        or ("gt" in b and not x > b["gt"])
        or ("le" in b and not x <= b["le"])
        or ("lt" in b and not x < b["lt"])
    )


@dataclass(frozen=True)
class _FieldSpec:
    name: str
    hint: Any
    field: dataclasses.Field
    required: bool

    @property
    def meta(self) -> collections.abc.Mapping[str, Any]:
        return self.field.metadata


def _fields(cls: type) -> tuple[_FieldSpec, ...]:
    """The file-format fields of dataclass ``cls`` with resolved type hints.

    A class with a ``__section_fields__()`` classmethod is an *open section* whose keys
    come from a registry (``governance:``: one key per registered mechanism): its
    fields are asked for on every call, so a name registered later is a key at once.
    """
    open_fields = getattr(cls, "__section_fields__", None)
    if open_fields is not None:
        return tuple(_FieldSpec(name, hint, f, False) for name, hint, f in open_fields())
    return _dataclass_fields(cls)


@functools.lru_cache(maxsize=None)
def _dataclass_fields(cls: type) -> tuple[_FieldSpec, ...]:
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception as exc:  # NameError for unresolvable forward references
        raise TypeError(
            f"cannot resolve the type hints of {cls.__qualname__}: {exc} "
            "(schema dataclasses must be defined at module level)"
        ) from exc
    out = []
    for f in dataclasses.fields(cls):
        if not f.init or f.metadata.get("internal"):
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        out.append(_FieldSpec(f.name, hints[f.name], f, required))
    return tuple(out)


def _field_names(cls: type) -> list[str]:
    return [s.name for s in _fields(cls)]


# --------------------------------------------------------------------------- expected-phrases


def _expected(tp: Any) -> str:
    """"expected ___" for type ``tp`` (with an article)."""
    origin = get_origin(tp)
    if tp is Any or tp is object:
        return "a value"
    if origin is Annotated:
        base, parser = _parser_of(tp)
        return parser.expected if parser else _expected(base)
    if _is_union(tp):
        args = [a for a in get_args(tp) if a is not _NoneType]
        text = " or ".join(_expected(a) for a in args)
        return text + (" or null" if len(args) < len(get_args(tp)) else "")
    if origin is Literal:
        return "one of " + ", ".join(_show(a) for a in get_args(tp))
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is str:
        return "a string"
    if tp is _NoneType:
        return "null"
    if origin in (list, tuple, collections.abc.Sequence) or tp in (list, tuple):
        return "a list"
    if origin in (dict, collections.abc.Mapping) or tp is dict:
        return "a mapping"
    if _is_dataclass_type(tp):
        return "a mapping with keys " + ", ".join(_field_names(tp))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(_show(m.value) for m in tp)
    if isinstance(tp, type):
        return _article(tp.__name__)
    return "a value of type " + repr(tp)


# --------------------------------------------------------------------------- conversion


class _Ctx:
    """Collects problems; ``hard`` counts those that prevent building a node.

    Problems found by ``_check`` are "soft": the node exists, so its parents
    are still built and their own ``_check`` still runs (to report everything).
    """

    __slots__ = ("problems", "hard")

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.hard = 0

    def add(self, path: str, message: str, *, soft: bool = False) -> None:
        self.problems.append(Problem(path, message))
        if not soft:
            self.hard += 1


def build(cls: type, data: Any, *, path: str = "", source: str | None = None) -> Any:
    """Convert ``data`` (parsed YAML) into an instance of dataclass ``cls``.

    ``path`` prefixes every problem path (for a sub-document); ``source`` names
    the document in the error. Raises :class:`ScenarioError` listing every
    problem found.
    """
    if not _is_dataclass_type(cls):
        raise TypeError(f"build() needs a dataclass type, got {cls!r}")
    ctx = _Ctx()
    result = _convert(cls, data, path, {}, ctx)
    if ctx.problems or result is _INVALID:
        raise ScenarioError(ctx.problems, source)
    return result


def _convert(tp: Any, value: Any, path: str, meta: collections.abc.Mapping[str, Any], ctx: _Ctx) -> Any:
    origin = get_origin(tp)

    if tp is Any or tp is object:
        return value

    if origin is Annotated:
        base, parser = _parser_of(tp)
        if parser is None:
            return _convert(base, value, path, meta, ctx)
        return _convert_parsed(parser, base, value, path, meta, ctx)

    if _is_union(tp):
        args = get_args(tp)
        alternatives = [a for a in args if a is not _NoneType]
        if value is None:
            if len(alternatives) < len(args):
                return None
            ctx.add(path, f"expected {_expected(tp)}, got null")
            return _INVALID
        if len(alternatives) == 1:
            return _convert(alternatives[0], value, path, meta, ctx)
        return _convert_union(tp, alternatives, value, path, meta, ctx)

    if tp is _NoneType:
        if value is None:
            return None
        ctx.add(path, f"expected null, got {_got(value)}")
        return _INVALID

    if value is None:
        ctx.add(path, f"expected {_expected(tp)}, got null")
        return _INVALID

    if origin is Literal:
        return _convert_literal(tp, value, path, ctx)

    if origin in (list, collections.abc.Sequence) or tp is list:
        (item_tp,) = get_args(tp) or (Any,)
        return _convert_list(item_tp, value, path, meta, ctx, as_tuple=origin is collections.abc.Sequence)

    if origin is tuple or tp is tuple:
        args = get_args(tp)
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            return _convert_list(args[0] if args else Any, value, path, meta, ctx, as_tuple=True)
        return _convert_fixed_tuple(args, value, path, meta, ctx)

    if origin in (dict, collections.abc.Mapping) or tp is dict:
        key_tp, val_tp = get_args(tp) or (Any, Any)
        return _convert_dict(key_tp, val_tp, value, path, meta, ctx)

    if _is_dataclass_type(tp):
        return _convert_dataclass(tp, value, path, ctx)

    if tp is bool:
        if _is_bool(value):
            return bool(value)
        ctx.add(path, f"expected true or false, got {_got(value)}")
        return _INVALID

    if tp is int:
        as_int = _to_int(value)
        if as_int is None:
            ctx.add(path, f"expected an integer, got {_got(value)}")
            return _INVALID
        return _check_number(as_int, value, "an integer", meta, path, ctx)

    if tp is float:
        as_float = _to_float(value)
        if as_float is None:
            ctx.add(path, f"expected a number, got {_got(value)}")
            return _INVALID
        if not math.isfinite(as_float):  # .inf, or an integer too large for a float
            ctx.add(path, f"expected a finite number, got {_show(value) if _fits_float(value) else 'a number too large'}")
            return _INVALID
        return _check_number(as_float, value, "a number", meta, path, ctx)

    if tp is str:
        if isinstance(value, str):
            result = value
        elif isinstance(value, (datetime.date, datetime.time)):
            # YAML reads an unquoted 2024-01-31 as a date; the text was meant.
            result = value.isoformat()
        else:
            ctx.add(path, f"expected a string, got {_got(value)}")
            return _INVALID
        return _check_len(result, meta, path, ctx, "character")

    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        for member in tp:
            if member.value == value and type(member.value) is type(value):
                return member
        for member in tp:
            if member.name == value:
                return member
        return _bad_choice([m.value for m in tp], value, path, ctx)

    if isinstance(tp, type):
        if isinstance(value, tp):
            return value
        ctx.add(path, f"expected {_expected(tp)}, got {_got(value)}")
        return _INVALID

    raise TypeError(f"unsupported annotation {tp!r} (at {path or 'the root'})")


def _to_int(value: Any) -> int | None:
    if _is_bool(value):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(float(value)) and float(value).is_integer():
        return int(math.trunc(value))
    return None


def _fits_float(value: Any) -> bool:
    try:
        float(value)
    except (OverflowError, TypeError, ValueError):
        return False
    return True


def _to_float(value: Any) -> float | None:
    if _is_bool(value):
        return None
    if isinstance(value, numbers.Real):
        try:
            x = float(value)
        except OverflowError:  # an integer beyond the float range
            return math.inf
    elif isinstance(value, str) and _EXP_FLOAT.match(value.strip()):
        # YAML 1.1 reads 1e3 (no dot) as a string; accept it as the number meant.
        x = float(value.strip())
    else:
        return None
    return None if math.isnan(x) else x


def _check_number(result: Any, raw: Any, noun: str, meta: collections.abc.Mapping[str, Any], path: str, ctx: _Ctx,
                  fmt: Callable[[Any], Any] | None = None) -> Any:
    if (
        _bounds(meta)
        and isinstance(result, numbers.Real)
        and not _is_bool(result)
        and _violates(float(result) if _fits_float(result) else math.copysign(math.inf, result), meta)
    ):
        ctx.add(path, f"expected {noun} {_bound_phrase(meta, fmt)}, got {_show(raw)}")
        return _INVALID
    return result


def _check_len(result: Any, meta: collections.abc.Mapping[str, Any], path: str, ctx: _Ctx, unit: str) -> Any:
    lo, hi = meta.get("min_len"), meta.get("max_len")
    n = len(result)
    if lo is not None and n < lo:
        ctx.add(path, f"expected at least {lo} {unit}{'s' if lo != 1 else ''}, got {n}")
        return _INVALID
    if hi is not None and n > hi:
        ctx.add(path, f"expected at most {hi} {unit}{'s' if hi != 1 else ''}, got {n}")
        return _INVALID
    return result


def _bad_choice(allowed: list[Any], value: Any, path: str, ctx: _Ctx) -> Any:
    shown = _show(value) if isinstance(value, str) else _got(value)
    msg = f"expected one of {', '.join(_show(a) for a in allowed)}, got {shown}"
    msg += did_you_mean(value, [a for a in allowed if isinstance(a, str)], style="clause", case="exact_first")
    ctx.add(path, msg)
    return _INVALID


def _convert_literal(tp: Any, value: Any, path: str, ctx: _Ctx) -> Any:
    allowed = get_args(tp)
    for a in allowed:
        if value == a and _is_bool(value) == _is_bool(a) and isinstance(value, str) == isinstance(a, str):
            return a
    return _bad_choice(list(allowed), value, path, ctx)


def _convert_parsed(parser: Parser, base: Any, value: Any, path: str, meta: collections.abc.Mapping[str, Any],
                    ctx: _Ctx) -> Any:
    if value is None:
        ctx.add(path, f"expected {parser.expected}, got null")
        return _INVALID
    if (
        isinstance(base, type)
        and base not in (int, float, str, bool)
        and isinstance(value, base)
    ):
        result = value  # already parsed (a dict source holding e.g. a Distribution)
    else:
        try:
            result = parser.func(value)
        except TypeError:
            ctx.add(path, f"expected {parser.expected}, got {_got(value)}")
            return _INVALID
        except ValueError as exc:
            message = str(exc).strip() or f"expected {parser.expected}, got {_got(value)}"
            sub = ""
            if isinstance(value, (collections.abc.Mapping, list, tuple)):
                match = _SUBPATH.match(message)
                if match:
                    sub, message = match.group(1), match.group(2)
            ctx.add(_join_sub(path, sub), message)
            return _INVALID
    noun = _article(parser.name) if parser.name else "a value"
    return _check_number(result, value, noun, meta, path, ctx, parser.fmt)


def _convert_union(tp: Any, alternatives: list[Any], value: Any, path: str, meta: collections.abc.Mapping[str, Any],
                   ctx: _Ctx) -> Any:
    attempts = []
    for alt in alternatives:
        trial = _Ctx()
        result = _convert(alt, value, path, meta, trial)
        if not trial.problems:
            return result
        attempts.append((alt, trial))
    # Report the detailed problems of the one alternative whose shape fits.
    fitting = [(alt, trial) for alt, trial in attempts if _shape_fits(alt, value)]
    if len(fitting) == 1:
        ctx.problems.extend(fitting[0][1].problems)
    else:
        ctx.add(path, f"expected {_expected(tp)}, got {_got(value)}")
    return _INVALID


def _shape_fits(tp: Any, value: Any) -> bool:
    origin = get_origin(tp)
    if origin is Annotated:
        return _shape_fits(get_args(tp)[0], value)
    if isinstance(value, collections.abc.Mapping):
        return _is_dataclass_type(tp) or origin in (dict, collections.abc.Mapping) or tp is dict
    if isinstance(value, (list, tuple)):
        return origin in (list, tuple, collections.abc.Sequence) or tp in (list, tuple)
    return False


def _convert_list(item_tp: Any, value: Any, path: str, meta: collections.abc.Mapping[str, Any], ctx: _Ctx, *,
                  as_tuple: bool) -> Any:
    if not isinstance(value, (list, tuple)):
        what = type_name(item_tp)
        ctx.add(path, f"expected a list of {what}, got {_got(value)}")
        return _INVALID
    item_meta = _bounds(meta)
    items = []
    ok = True
    for i, item in enumerate(value):
        result = _convert(item_tp, item, f"{path}[{i}]", item_meta, ctx)
        if result is _INVALID:
            ok = False
        else:
            items.append(result)
    if not ok:
        return _INVALID
    result = tuple(items) if as_tuple else items
    return _check_len(result, meta, path, ctx, "item")


def _convert_fixed_tuple(args: tuple[Any, ...], value: Any, path: str, meta: collections.abc.Mapping[str, Any],
                         ctx: _Ctx) -> Any:
    if not isinstance(value, (list, tuple)):
        ctx.add(path, f"expected a list of {len(args)} item{'s' if len(args) != 1 else ''}, got {_got(value)}")
        return _INVALID
    if len(value) != len(args):
        ctx.add(path, f"expected a list of {len(args)} item{'s' if len(args) != 1 else ''}, got {len(value)}")
        return _INVALID
    item_meta = _bounds(meta)
    items = [_convert(t, v, f"{path}[{i}]", item_meta, ctx) for i, (t, v) in enumerate(zip(args, value))]
    if any(r is _INVALID for r in items):
        return _INVALID
    return tuple(items)


def _convert_dict(key_tp: Any, val_tp: Any, value: Any, path: str, meta: collections.abc.Mapping[str, Any],
                  ctx: _Ctx) -> Any:
    if not isinstance(value, collections.abc.Mapping):
        ctx.add(path, f"expected a mapping of names to {type_name(val_tp)}, got {_got(value)}")
        return _INVALID
    item_meta = _bounds(meta)
    out = {}
    ok = True
    for key, item in value.items():
        item_path = _join(path, key)
        if key_tp is str:
            if isinstance(key, str):
                new_key = key
            else:
                ctx.add(item_path, f"expected a name (string) as key, got {_got(key)}; quote it")
                ok = False
                continue
        else:
            new_key = _convert(key_tp, key, item_path, {}, ctx)
            if new_key is _INVALID:
                ok = False
                continue
        result = _convert(val_tp, item, item_path, item_meta, ctx)
        if result is _INVALID:
            ok = False
        else:
            out[new_key] = result
    if not ok:
        return _INVALID
    return _check_len(out, meta, path, ctx, "entry")


def _unknown_key_message(key: Any, names: list[str]) -> tuple[str, str | None]:
    close = closest(key, names, case="exact_first")
    if close:
        return f"unknown key; did you mean {close[0]!r}?", close[0]
    if names:
        return f"unknown key; expected one of: {', '.join(names)}", None
    return "unknown key; no keys are allowed here", None


def _convert_dataclass(cls: type, value: Any, path: str, ctx: _Ctx) -> Any:
    specs = _fields(cls)
    names = [s.name for s in specs]
    if not isinstance(value, collections.abc.Mapping):
        keys = ", ".join(names) if names else "(none)"
        ctx.add(path, f"expected a mapping with keys {keys}, got {_got(value)}")
        return _INVALID
    hard_start, start = ctx.hard, len(ctx.problems)
    known = set(names)
    suggested: set[str] = set()
    for key in value:
        if isinstance(key, str) and key in known:
            continue
        message, close = _unknown_key_message(key, names)
        if close is not None:
            suggested.add(close)
        ctx.add(_join(path, key), message)
    kwargs: dict[str, Any] = {}
    for spec in specs:
        item_path = _join(path, spec.name)
        if spec.name in value:
            result = _convert(spec.hint, value[spec.name], item_path, spec.meta, ctx)
            if result is not _INVALID:
                kwargs[spec.name] = result
        elif spec.required and spec.name not in suggested:
            ctx.add(item_path, "missing required key")
    if ctx.hard > hard_start:
        return _INVALID
    try:
        instance = cls(**kwargs)
    except ValueError as exc:  # __post_init__ validation
        ctx.add(path, str(exc))
        return _INVALID
    check = getattr(instance, "_check", None)
    if callable(check):
        earlier = len(ctx.problems) > start  # a descendant's _check failed
        try:
            found = check() or []
        except ValueError as exc:
            found = [("", str(exc))]
        except Exception:
            if not earlier:
                raise
            found = []  # the check tripped over a descendant's reported problem
        for item in found:
            if isinstance(item, Problem):
                sub, message = item.path, item.message
            else:
                sub, message = item
            ctx.add(_join_sub(path, sub), message, soft=True)
    return instance


# --------------------------------------------------------------------------- to_plain


def to_plain(obj: Any) -> Any:
    """A dataclass tree as plain dicts, lists, strings, numbers, bools and None.

    Internal fields are skipped, tuples become lists, distributions their
    ``spec()``, enums their value, dates ISO strings, numpy scalars Python
    numbers. Numbers are not reformatted (durations stay float hours).
    """
    if isinstance(obj, Distribution):
        return to_plain(obj.spec())
    if hasattr(type(obj), "__section_fields__"):
        return {spec.name: to_plain(getattr(obj, spec.name)) for spec in _fields(type(obj))}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {
            f.name: to_plain(getattr(obj, f.name))
            for f in dataclasses.fields(obj)
            if not f.metadata.get("internal")
        }
    if isinstance(obj, enum.Enum):
        return to_plain(obj.value)
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if _is_bool(obj):
        return bool(obj)
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        return float(obj)
    if isinstance(obj, collections.abc.Mapping):
        return {k if isinstance(k, str) else str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted((to_plain(v) for v in obj), key=repr)
    if isinstance(obj, (datetime.date, datetime.time)):
        return obj.isoformat()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if hasattr(obj, "tolist"):  # numpy arrays
        return to_plain(obj.tolist())
    spec = getattr(obj, "spec", None)
    if callable(spec):
        return to_plain(spec())
    return obj


# --------------------------------------------------------------------------- describe


def type_name(tp: Any, meta: collections.abc.Mapping[str, Any] | None = None) -> str:
    """A readable name of annotation ``tp`` for the reference (e.g. ``number >= 0``)."""
    meta = meta or {}
    origin = get_origin(tp)
    if tp is Any or tp is object:
        return "any"
    if origin is Annotated:
        base, parser = _parser_of(tp)
        if parser is None:
            return type_name(base, meta)
        return _with_bounds(parser.label, meta, parser.fmt)
    if _is_union(tp):
        args = get_args(tp)
        alternatives = [a for a in args if a is not _NoneType]
        text = " or ".join(type_name(a, meta) for a in alternatives)
        return text + (" or null" if len(alternatives) < len(args) else "")
    if origin is Literal:
        return "one of: " + ", ".join(_flow(a) for a in get_args(tp))
    if tp is bool:
        return "boolean"
    if tp is int:
        return _with_bounds("integer", meta)
    if tp is float:
        return _with_bounds("number", meta)
    if tp is str:
        return "string" + _len_note(meta, "character")
    if tp is _NoneType:
        return "null"
    if origin in (list, collections.abc.Sequence) or tp is list:
        (item,) = get_args(tp) or (Any,)
        return f"list of {type_name(item, _bounds(meta))}" + _len_note(meta, "item")
    if origin is tuple or tp is tuple:
        args = get_args(tp)
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            item = args[0] if args else Any
            return f"list of {type_name(item, _bounds(meta))}" + _len_note(meta, "item")
        return "list [" + ", ".join(type_name(a, _bounds(meta)) for a in args) + "]"
    if origin in (dict, collections.abc.Mapping) or tp is dict:
        key_tp, val_tp = get_args(tp) or (str, Any)
        key = "name" if key_tp is str else type_name(key_tp)
        if key_tp is not str and key_tp is not Any:
            key = f"({key})"
        return f"mapping of {key} → {type_name(val_tp, _bounds(meta))}" + _len_note(meta, "entry")
    if _is_dataclass_type(tp):
        return tp.__name__
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of: " + ", ".join(_flow(m.value) for m in tp)
    if isinstance(tp, type):
        return tp.__name__
    return repr(tp)


def _with_bounds(noun: str, meta: collections.abc.Mapping[str, Any], fmt: Callable[[Any], Any] | None = None) -> str:
    phrase = _bound_phrase(meta, fmt)
    return f"{noun} {phrase}" if phrase else noun


def _len_note(meta: collections.abc.Mapping[str, Any], unit: str) -> str:
    lo, hi = meta.get("min_len"), meta.get("max_len")
    if lo is not None and hi is not None:
        return f" ({lo} to {hi} {unit}s)"
    if lo is not None:
        return f" (at least {lo} {unit}{'s' if lo != 1 else ''})"
    if hi is not None:
        return f" (at most {hi} {unit}{'s' if hi != 1 else ''})"
    return ""


def _nested(tp: Any, path: str) -> list[tuple[type, str]]:
    """Dataclasses reachable inside annotation ``tp``, with their path prefix."""
    origin = get_origin(tp)
    if origin is Annotated:
        base, parser = _parser_of(tp)
        return [] if parser is not None else _nested(base, path)
    if _is_union(tp):
        return [pair for a in get_args(tp) for pair in _nested(a, path)]
    if origin in (list, tuple, collections.abc.Sequence):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        return [pair for a in args for pair in _nested(a, path + "[]")]
    if origin in (dict, collections.abc.Mapping):
        key_val = get_args(tp)
        return _nested(key_val[1], path + ".*") if key_val else []
    if _is_dataclass_type(tp):
        return [(tp, path)]
    return []


MYPYC_FILLER = "mypyc filler docstring"  # what mypyc puts in a compiled module's class without one


def class_doc(cls: type) -> str:
    """``cls.__doc__``, also for a class compiled by the compiled build (GOVSIM_COMPILE=1):
    mypyc drops a compiled class's docstring, so it is read from the module's source, which
    the build installs beside the compiled module ("" when there is none)."""
    doc = cls.__doc__ or ""
    if doc and doc != MYPYC_FILLER:
        return doc
    import ast
    import sys
    from pathlib import Path

    file = getattr(sys.modules.get(cls.__module__), "__file__", None)
    if not file:
        return ""
    source = Path(file)
    source = source.with_name(source.name.split(".")[0] + ".py")  # engine.cpython-311-….so → engine.py
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return ""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            return ast.get_docstring(node, clean=False) or ""
    return ""


def _class_doc(cls: type) -> str:
    doc = class_doc(cls).strip()
    if not doc or doc.startswith(cls.__name__ + "("):  # dataclass auto-signature
        return ""
    return " ".join(doc.split("\n\n")[0].split())


def _doc_plain(tp: Any, value: Any) -> Any:
    """A default value as plain data written the way a scenario file would."""
    if value is None:
        return None
    origin = get_origin(tp)
    if origin is Annotated:
        base, parser = _parser_of(tp)
        if parser is not None and parser.fmt is not None:
            try:
                return parser.fmt(value)
            except Exception:
                return to_plain(value)
        return _doc_plain(base, value)
    if _is_union(tp):
        alternatives = [a for a in get_args(tp) if a is not _NoneType]
        if len(alternatives) == 1:
            return _doc_plain(alternatives[0], value)
        return to_plain(value)
    if origin in (list, tuple, collections.abc.Sequence) and isinstance(value, (list, tuple)):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        if len(args) == 1:
            return [_doc_plain(args[0], v) for v in value]
        if len(args) == len(value):
            return [_doc_plain(a, v) for a, v in zip(args, value)]
        return to_plain(value)
    if origin in (dict, collections.abc.Mapping) and isinstance(value, collections.abc.Mapping):
        key_val = get_args(tp)
        val_tp = key_val[1] if key_val else Any
        return {to_plain(k): _doc_plain(val_tp, v) for k, v in value.items()}
    if _is_dataclass_type(tp) and isinstance(value, tp):
        return {s.name: _doc_plain(s.hint, getattr(value, s.name)) for s in _fields(tp)}
    return to_plain(value)


def _flow(obj: Any) -> str:
    """Plain data as compact YAML flow text (deterministic)."""
    import yaml

    obj = to_plain(obj)
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "true" if obj else "false"
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, float):
        if math.isnan(obj):
            return ".nan"
        if math.isinf(obj):
            return ".inf" if obj > 0 else "-.inf"
        return repr(obj)
    if isinstance(obj, str):
        plain = bool(re.fullmatch(r"[^\s,\[\]{}#&*!|>'\"%@`:?-][^,\[\]{}#:]*", obj)) and not obj.endswith(" ")
        if plain and " #" not in obj:
            try:
                if yaml.safe_load(obj) == obj:
                    return obj
            except yaml.YAMLError:
                pass
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, list):
        return "[" + ", ".join(_flow(v) for v in obj) + "]"
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{_flow(k)}: {_flow(v)}" for k, v in obj.items()) + "}"
    return json.dumps(str(obj), ensure_ascii=False)


_SEE_BELOW = "see below"


def _default_text(spec: _FieldSpec) -> str:
    f = spec.field
    if spec.required:
        return "required"
    make = cast("Callable[[], Any]", f.default_factory)
    value = f.default if f.default is not dataclasses.MISSING else make()
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and not isinstance(value, Distribution):
        try:
            if value == type(value)():
                return _SEE_BELOW
        except Exception:
            pass
    return _flow(_doc_plain(spec.hint, value))


def describe(cls: type) -> list[dict[str, Any]]:
    """One row per key path of dataclass schema ``cls``, in declaration order.

    Each row has ``path`` (``*`` for a mapping key, ``[]`` for a list item),
    ``section`` (the top-level key), ``type`` (readable, with bounds),
    ``default`` (as written in YAML, or ``"required"``), ``required`` (bool),
    ``unit`` and ``doc`` (strings, possibly empty). Internal fields are skipped.
    """
    if not _is_dataclass_type(cls):
        raise TypeError(f"describe() needs a dataclass type, got {cls!r}")
    rows: list[dict[str, Any]] = []
    _describe(cls, "", rows, (cls,))
    return rows


def _describe(cls: type, prefix: str, rows: list[dict[str, Any]], stack: tuple[type, ...]) -> None:
    for spec in _fields(cls):
        path = f"{prefix}.{spec.name}" if prefix else spec.name
        doc = spec.meta.get("doc") or ""
        if not doc:
            docs = [_class_doc(c) for c, _ in _nested(spec.hint, path)]
            doc = next((d for d in docs if d), "")
        rows.append(
            {
                "path": path,
                "section": re.split(r"[.\[]", path, maxsplit=1)[0],
                "type": type_name(spec.hint, spec.meta),
                "default": _default_text(spec),
                "required": spec.required,
                "unit": spec.meta.get("unit") or "",
                "doc": " ".join(str(doc).split()),
            }
        )
        for child, child_path in _nested(spec.hint, path):
            if child not in stack:
                _describe(child, child_path, rows, stack + (child,))


def _cell(text: Any) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| Key | Type | Default | Unit | Description |", "| --- | --- | --- | --- | --- |"]
    for row in rows:
        default = row["default"]
        if row["required"]:
            default = "**required**"
        elif default != _SEE_BELOW:
            default = f"`{_cell(default)}`"
        lines.append(
            f"| `{_cell(row['path'])}` | {_cell(row['type'])} | {default} "
            f"| {_cell(row['unit'])} | {_cell(row['doc'])} |"
        )
    return lines


def reference_markdown(cls: type, *, heading_level: int = 2, title: str | None = None) -> str:
    """A Markdown reference of schema ``cls``: a table of top-level keys, then one section per nested key."""
    rows = describe(cls)
    hashes = "#" * heading_level
    out: list[str] = []
    if title:
        out += [f"{'#' * max(1, heading_level - 1)} {title}", ""]
    intro = _class_doc(cls)
    if intro:
        out += [intro, ""]
    top = [r for r in rows if r["path"] == r["section"]]
    out += [f"{hashes} Top-level keys", ""] + _table(top) + [""]
    specs = {s.name: s for s in _fields(cls)}
    for row in top:
        children = [r for r in rows if r["section"] == row["section"] and r["path"] != row["section"]]
        if not children:
            continue
        out += [f"{hashes} `{row['section']}`", ""]
        nested = _nested(specs[row["section"]].hint, row["section"])
        docs = [_class_doc(c) for c, _ in nested]
        section_doc = next((d for d in docs if d), "") or row["doc"]
        if section_doc:
            out += [section_doc, ""]
        out += _table(children) + [""]
    return "\n".join(out).rstrip() + "\n"
