"""Load a scenario: YAML file (with ``extends``) + overrides → validated schema instance.

YAML is read with PyYAML's safe loader only (``yaml.SafeLoader``'s stages, the text
scanned once: :class:`_EventLoader`): tags such as ``!!python/object`` are
rejected as errors, never executed. Duplicate keys are reported, and an
unquoted ``8:00`` (which YAML 1.1 reads as the number 480) is kept as the text
``"8:00"``.

``extends: base.yaml`` (relative to the extending file; a list of files is
merged in order) deep-merges the parent under the child: mappings merge
recursively, lists and scalars (including ``null``) replace.

Overrides are dotted keys (``workers.per_grid``, ``workers.shifts[0].start``)
applied to the merged document before validation; the CLI reads ``--set
KEY=VALUE`` with :func:`parse_override`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from govsim import limits as _limits
from govsim.presets import find_preset, preset_names
from govsim.scenario.convert import build
from govsim.scenario.errors import Problem, ScenarioError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "load_scenario",
    "load_document",
    "find_file",
    "apply_overrides",
    "parse_override",
    "scenario_hash",
]

DICT_SOURCE = "<dict>"
OVERRIDE_SOURCE = "--set"
_MAX_NODES = 1_000_000  # guards against alias bombs

_STR_TAG = "tag:yaml.org,2002:str"
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_YAML_HINTS = (
    ("'\\t'", "use spaces, not tabs, to indent"),
    ("expected <block end>", "check the indentation"),
    ("mapping values are not allowed", "quote a value that contains ': ', or check the indentation"),
    ("found undefined alias", "define the anchor (&name) before using it (*name)"),
)
_SEGMENT = re.compile(r"([^.\[\]=\s][^.\[\]=]*?)?((?:\[\d+\])*)")


# --------------------------------------------------------------------------- public API


def load_scenario(
    source: str | os.PathLike[str] | Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
    *,
    schema: type[DataclassInstance] | None = None,
) -> Any:
    """Read, merge, override and validate a scenario.

    ``source`` is a YAML file path or an already-parsed mapping (named
    ``"<dict>"`` in errors; its ``extends`` is relative to the working
    directory). ``overrides`` maps dotted keys to values (used as given). The
    result is an instance of ``schema`` (default
    :class:`govsim.scenario.schema.Scenario`); if the schema has fields
    ``source`` and/or ``raw`` they are set to the source name and the merged,
    overridden document. Raises :class:`ScenarioError` listing every problem.
    """
    from govsim.scenario.schema import Scenario  # lazy: schema imports convert

    if schema is None:
        schema = Scenario
    data, name = load_document(source)
    if overrides:
        data = apply_overrides(data, overrides)
    names = {f.name for f in dataclasses.fields(schema)}
    limits = _read_limits(data, name) if "limits" in names else None
    with _limits.using(limits):  # every duration read is held to the scenario's limits
        instance = build(schema, data, source=name)
    if isinstance(instance, Scenario):
        base = Path(name).parent if name != DICT_SOURCE else Path.cwd()
        _check_size(instance, base, name)
    extra: dict[str, Any] = {}
    if "source" in names:
        extra["source"] = name
    if "raw" in names:
        extra["raw"] = _plain_copy(data)
    if extra:
        instance = dataclasses.replace(instance, **extra)
    return instance


def _read_limits(data: Mapping[str, Any], name: str) -> _limits.Limits:
    """The document's ``limits:`` section (read first: the rest is held to it)."""
    raw = data.get("limits")
    if raw is None:
        return _limits.DEFAULT
    with _limits.using(_limits.Limits(duration=math.inf)):  # limits.duration is itself a duration
        return build(_limits.Limits, raw, path="limits", source=name)


def _check_size(scenario: Any, base: Path, name: str) -> None:
    """Refuse a scenario over its limits (values, and the size of the run it would make).

    A district read from a grids CSV is read here when the file is found (relative to the
    scenario file; to the working directory for a mapping), so that its size is known
    before anything is simulated; the district is read again, under the same limits,
    when the run is built.
    """
    from govsim.territory import read_grids_csv

    rows = None
    csv_name = scenario.territory.grids_csv
    if csv_name is not None:
        path = base / csv_name
        if path.is_file():
            rows = read_grids_csv(path, limits=scenario.limits)
    problems = _limits.check_scenario(scenario, rows)
    if problems:
        raise ScenarioError(problems, name)


def load_document(source: str | os.PathLike[str] | Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The merged document (``extends`` resolved and removed) and the source name."""
    if isinstance(source, Mapping):
        data = _plain_copy(dict(source))
        return _resolve_extends(data, DICT_SOURCE, Path.cwd(), []), DICT_SOURCE
    if isinstance(source, (str, os.PathLike)):
        name = find_file(os.fspath(source))
        return _load_file(name, []), name
    raise TypeError(f"expected a file path or a mapping, got {type(source).__name__}")


def parse_override(text: str) -> tuple[str, Any]:
    """``"workers.per_grid=2"`` → ``("workers.per_grid", 2)``; the value is read as YAML.

    Splits on the first ``=``. An empty value is ``null``; an unquoted ``8:00``
    stays the text ``"8:00"``. Raises :class:`ScenarioError` (source ``"--set"``)
    for a malformed text.
    """
    if not isinstance(text, str) or "=" not in text:
        raise ScenarioError.single(
            "", f"expected KEY=VALUE (e.g. workers.per_grid=2), got {text!r}", OVERRIDE_SOURCE
        )
    key, _, raw = text.partition("=")
    key = key.strip()
    try:
        _split_key(key)
    except ValueError as exc:
        raise ScenarioError.single(key, str(exc), OVERRIDE_SOURCE) from None
    try:
        value = _safe_load(raw)
    except yaml.YAMLError as exc:
        detail = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError.single(
            key, f"invalid value {raw!r}: {detail} (quote it to pass it as text)", OVERRIDE_SOURCE
        ) from None
    except ValueError as exc:
        raise ScenarioError.single(key, f"invalid value: {exc}", OVERRIDE_SOURCE) from None
    if _is_number(value) and ":" in raw:
        value = raw.strip()  # YAML 1.1 sexagesimal: 8:00 is 480
    return key, value


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with each dotted key of ``overrides`` set.

    Missing (or null) intermediate mappings are created; ``[i]`` indexes an
    existing list item. Raises :class:`ScenarioError` (source ``"--set"``)
    naming every key that cannot be set.
    """
    out = _plain_copy(dict(data))
    problems: list[Problem] = []
    for key, value in overrides.items():
        try:
            _set_path(out, str(key), _plain_copy(value))
        except ValueError as exc:
            problems.append(Problem(str(key), str(exc)))
    if problems:
        raise ScenarioError(problems, OVERRIDE_SOURCE)
    return out


def scenario_hash(raw: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a canonical JSON dump (sorted keys) of a merged scenario document."""
    text = json.dumps(
        _canonical(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- files


def find_file(name: str) -> str:
    """The file a scenario source ``name`` stands for: ``name`` itself when it exists (a
    local file always wins); else, for a bare name such as ``hongqi`` or ``hongqi.yaml``,
    the preset of that name (:mod:`govsim.presets`); else ``name`` (reading it then says
    that it was not found, and for a bare name which presets there are)."""
    if os.path.exists(name):
        return name
    preset = find_preset(name)
    return str(preset) if preset is not None else name


def _not_found(name: str) -> str:
    """"file not found", with the preset names when ``name`` could have been one."""
    if "\x00" in name or os.path.basename(name) != name:
        return "file not found"
    from govsim.suggest import did_you_mean

    names = preset_names()
    stem = os.path.splitext(name)[0]
    return ("file not found, nor a preset of that name" + did_you_mean(stem, names, style="clause")
            + f" (presets: {', '.join(names)})")


def _load_file(name: str, chain: list[tuple[str, str]]) -> dict[str, Any]:
    """Read file ``name`` and resolve its ``extends``; ``chain`` holds the (real path, name) being loaded."""
    text = _read_text(name)
    data = _parse_yaml(text, name)
    return _resolve_extends(data, name, Path(name).parent, chain + [(os.path.realpath(name), name)])


def _read_text(name: str) -> str:
    from govsim.limits import MAX_DOCUMENT_CHARS

    try:
        if os.path.exists(name) and not os.path.isdir(name) and not os.path.isfile(name):
            raise ScenarioError.single("", "not a regular file (a device or a pipe cannot be a scenario)", name)
        with open(name, encoding="utf-8-sig") as fh:
            text = fh.read(MAX_DOCUMENT_CHARS + 1)
        if len(text) > MAX_DOCUMENT_CHARS:
            raise ScenarioError.single("", f"larger than {MAX_DOCUMENT_CHARS:,} characters: not a scenario file",
                                       name)
        return text
    except FileNotFoundError:
        raise ScenarioError.single("", _not_found(name), name) from None
    except IsADirectoryError:
        raise ScenarioError.single("", "is a directory, not a scenario file", name) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError.single("", f"not a UTF-8 text file ({exc.reason} at byte {exc.start})", name) from None
    except OSError as exc:
        raise ScenarioError.single("", f"cannot read the file: {exc.strerror or exc}", name) from None
    except ValueError:  # a NUL character in the name
        raise ScenarioError.single("", "not a valid file name (it holds a NUL character)", repr(name)) from None


def _yaml_error_message(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        tag = re.search(r"could not determine a constructor for the tag '([^']*)'", problem)
        if tag:
            problem = f"unsupported YAML tag {tag.group(1)!r} (only plain data is allowed)"
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "unknown position"
        message = f"invalid YAML at {where}: {problem}"
        if exc.context and exc.problem and exc.context_mark is not None and exc.context_mark is not mark:
            message += f" ({exc.context} at line {exc.context_mark.line + 1})"
        for needle, hint in _YAML_HINTS:
            if needle in problem:
                message += f"; {hint}"
                break
        return message
    return f"invalid YAML: {exc}"


def _check_shape(text: str) -> list[yaml.Event]:
    """Refuse a document too large or nested too deeply, before it is built; its events.

    PyYAML's composer and constructor recurse once per level: a map nested 3,000 deep
    takes seconds and ends in a RecursionError. The event stream is read without
    recursion, so the depth is measured on it, and reading stops at the first level
    over :data:`govsim.limits.MAX_DEPTH`. Raises ``ValueError`` (the message). Returns the
    events, from which :class:`_EventLoader` builds the document without reading it again.
    """
    if len(text) > _limits.MAX_DOCUMENT_CHARS:
        raise ValueError(f"the document has {len(text):,} characters; at most "
                         f"{_limits.MAX_DOCUMENT_CHARS:,} are read (give a large district as a grids CSV)")
    depth = 0
    events = []
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        events.append(event)
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > _limits.MAX_DEPTH:
                mark = event.start_mark
                where = f" (at line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
                raise ValueError(f"nested more than {_limits.MAX_DEPTH} levels deep{where}; "
                                 "a scenario needs far fewer")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return events


class _EventLoader(yaml.composer.Composer, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    """PyYAML's safe loader (``yaml.SafeLoader``) reading the events of a document already
    parsed (by :func:`_check_shape`) instead of parsing the text again.

    Its composer, constructor and resolver are PyYAML's own, so it builds the same nodes and
    data, and raises the same errors, as ``yaml.compose`` and ``yaml.safe_load`` — while the
    text is scanned and parsed once rather than three times (the scanner and parser are
    where PyYAML spends its time). libyaml's ``CSafeLoader`` would be faster still, but it
    accepts documents PyYAML refuses (a tab after a token, ``?`` inside a flow mapping...;
    0.7% of randomly mutated presets in a differential test), so mistakes would pass
    unreported: it is not used.
    """

    def __init__(self, events: list[yaml.Event]) -> None:
        self._events = events
        self._next = 0
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)

    # the parser's interface, over the list of events
    def check_event(self, *choices: type) -> bool:
        if self._next >= len(self._events):
            return False
        return not choices or isinstance(self._events[self._next], choices)

    def peek_event(self) -> yaml.Event | None:
        return self._events[self._next] if self._next < len(self._events) else None

    def get_event(self) -> yaml.Event | None:
        event = self.peek_event()
        self._next += 1
        return event


def _safe_load(text: str) -> Any:
    """``yaml.safe_load`` after :func:`_check_shape` (``ValueError`` for a bad shape)."""
    _check_shape(text)
    try:
        return yaml.safe_load(text)
    except RecursionError:  # a backstop: the shape check should have refused it
        raise ValueError("the document is nested too deeply") from None


def _parse_yaml(text: str, name: str) -> dict[str, Any]:
    """The document in ``text`` as plain data, read once by PyYAML's own safe loader
    (:class:`_EventLoader`); every problem (YAML errors, duplicate keys, alias bombs) raised
    as a :class:`ScenarioError` naming ``name``, in the order ``yaml.safe_load`` then the
    node checks would find them."""
    problems: list[Problem] = []
    fixes: list[tuple[tuple[Any, ...], str]] = []
    try:
        loader = _EventLoader(_check_shape(text))
        node = loader.get_single_node()
        if node is not None:  # before the data are built: merge keys (<<) are flattened then
            _inspect(node, (), problems, fixes, set(), [0])
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise ScenarioError.single("", _yaml_error_message(exc), name) from None
    except RecursionError:  # a backstop: the shape check should have refused it
        raise ScenarioError.single("", "the document is nested too deeply", name) from None
    except ValueError as exc:
        raise ScenarioError.single("", str(exc), name) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else _short_repr(data)
        raise ScenarioError.single("", f"{NOT_A_MAPPING}, got {kind}", name)
    if problems:
        raise ScenarioError(problems, name)
    data = _plain_copy(data)
    for path, text_value in fixes:
        _restore_text(data, path, text_value)
    return data


def _path_text(path: tuple[Any, ...]) -> str:
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out = f"{out}.{seg}" if out else str(seg)
    return out


def _inspect(
    node: yaml.Node,
    path: tuple[Any, ...],
    problems: list[Problem],
    fixes: list[tuple[tuple[Any, ...], str]],
    active: set[int],
    budget: list[int],
) -> None:
    """Find duplicate keys and sexagesimal numbers (``8:00``) in a composed YAML tree."""
    budget[0] += 1
    if budget[0] > _MAX_NODES:
        if budget[0] == _MAX_NODES + 1:
            problems.append(Problem("", "document too large (too many nested aliases?)"))
        return
    if id(node) in active:
        problems.append(Problem(_path_text(path), "recursive YAML alias is not allowed"))
        return
    if isinstance(node, yaml.ScalarNode):
        if node.tag in _NUMBER_TAGS and ":" in node.value and node.style is None:
            fixes.append((path, node.value))
        return
    active.add(id(node))
    try:
        if isinstance(node, yaml.SequenceNode):
            for i, child in enumerate(node.value):
                _inspect(child, path + (i,), problems, fixes, active, budget)
        elif isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = key_node.value
                line = key_node.start_mark.line + 1
                if key in seen:
                    problems.append(
                        Problem(
                            _path_text(path + (key,)),
                            f"duplicate key (line {line}; first on line {seen[key]})",
                        )
                    )
                    continue
                seen[key] = line
                if key_node.tag == _STR_TAG:
                    _inspect(value_node, path + (key,), problems, fixes, active, budget)
    finally:
        active.discard(id(node))


def _restore_text(data: Any, path: tuple[Any, ...], text: str) -> None:
    target = data
    for seg in path[:-1]:
        try:
            target = target[seg]
        except (KeyError, IndexError, TypeError):
            return
    last = path[-1] if path else None
    try:
        if _is_number(target[last]):
            target[last] = text
    except (KeyError, IndexError, TypeError):
        return


NOT_A_MAPPING = "expected a mapping of keys at the top level"


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _resolve_extends(
    data: dict[str, Any], name: str, base_dir: Path, chain: list[tuple[str, str]]
) -> dict[str, Any]:
    if "extends" not in data:
        return data
    data = dict(data)
    parents = data.pop("extends")
    if parents is None:
        return data
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not parents or not all(isinstance(p, str) and p for p in parents):
        raise ScenarioError.single(
            "extends", f"expected a file name or a list of file names, got {parents!r}", name
        )
    for i, parent in enumerate(parents):
        if "\x00" in parent:
            key = "extends" if len(parents) == 1 else f"extends[{i}]"
            raise ScenarioError.single(key, f"expected a file name, got {parent!r} (it holds a NUL character)", name)
    merged: dict[str, Any] = {}
    for i, parent in enumerate(parents):
        key = "extends" if len(parents) == 1 else f"extends[{i}]"
        parent_name = parent if os.path.isabs(parent) else os.path.normpath(os.path.join(base_dir, parent))
        if not os.path.exists(parent_name):  # a file beside this one wins; else a preset of that name
            parent_name = str(find_preset(parent) or parent_name)
        real = os.path.realpath(parent_name)
        reals = [r for r, _ in chain]
        if real in reals:
            names = [n for _, n in chain[reals.index(real):]] + [parent_name]
            raise ScenarioError.single(key, "circular extends: " + " -> ".join(names), name)
        if not os.path.exists(parent_name):
            raise ScenarioError.single(key, _parent_not_found(parent, parent_name, name), name)
        if not os.path.isfile(parent_name):
            raise ScenarioError.single(key, f"{parent_name} is not a scenario file (a directory, a device "
                                            "or a pipe)", name)
        try:
            loaded = _load_file(parent_name, chain)
        except ScenarioError as err:
            if err.source == parent_name and [p.path for p in err.problems] == [""] \
                    and err.problems[0].message.startswith(NOT_A_MAPPING):
                # e.g. extends: /etc/passwd — the mistake is this line, not that file
                raise ScenarioError.single(key, f"{parent_name} is not a scenario file "
                                                f"({err.problems[0].message})", name) from None
            raise
        merged = _deep_merge(merged, loaded)
    return _deep_merge(merged, data)


def _parent_not_found(parent: str, looked: str, name: str) -> str:
    """Where a missing ``extends`` file was looked for: ``looked`` (``parent`` resolved against
    the extending file's folder, or the working directory for a mapping), and for a bare name
    the presets (with a did-you-mean)."""
    message = f"file not found: looked for {os.path.abspath(looked)}"
    if not os.path.isabs(parent):
        message += (" (relative to the working directory: the scenario is a mapping)" if name == DICT_SOURCE
                    else f" (relative to the folder of {name})")
    if os.path.basename(parent) != parent:
        return message
    from govsim.suggest import did_you_mean

    names = preset_names()
    stem = os.path.splitext(parent)[0]
    return (f"{message}, and for a preset named {stem!r}: there is none"
            + did_you_mean(stem, names, style="clause") + f" (presets: {', '.join(names)})")


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


# --------------------------------------------------------------------------- overrides


def _split_key(key: str) -> list[str | int]:
    """``"a.b[1].c"`` → ``["a", "b", 1, "c"]``; ValueError for a malformed key."""
    if not key:
        raise ValueError("empty key")
    out: list[str | int] = []
    for part in key.split("."):
        match = _SEGMENT.fullmatch(part)
        if not part or match is None or not match.group(1):
            raise ValueError(f"malformed key {key!r} (expected e.g. workers.per_grid or workers.shifts[0].start)")
        out.append(match.group(1).strip())
        out.extend(int(i) for i in re.findall(r"\[(\d+)\]", match.group(2)))
    return out


def _describe_value(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "null"
    return f"{value!r} ({type(value).__name__})"


def _set_path(data: dict[str, Any], key: str, value: Any) -> None:
    segments = _split_key(key)
    target: Any = data
    walked = ""
    for seg, nxt in zip(segments, segments[1:] + [None]):
        last = nxt is None
        if isinstance(seg, int):
            if not isinstance(target, list):
                raise ValueError(f"{walked!r} is {_describe_value(target)}, not a list")
            if seg >= len(target):
                raise ValueError(
                    f"index [{seg}] is out of range ({walked!r} has {len(target)} "
                    f"item{'s' if len(target) != 1 else ''})"
                )
            if last:
                target[seg] = value
                return
            walked += f"[{seg}]"
        else:
            if not isinstance(target, dict):
                raise ValueError(f"{walked!r} is {_describe_value(target)}, not a mapping")
            if last:
                target[seg] = value
                return
            if target.get(seg) is None and not isinstance(nxt, int):
                target[seg] = {}
            walked = f"{walked}.{seg}" if walked else seg
            if seg not in target:
                raise ValueError(f"{walked!r} is not set, so it has no list items")
        target = target[seg]


# --------------------------------------------------------------------------- data helpers


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _plain_copy(obj: Any, _depth: int = 0) -> Any:
    """Copy nested dicts/lists without sharing (YAML aliases become independent copies)."""
    if _depth > 200:
        raise ScenarioError.single("", "document nested too deeply (recursive alias?)")
    if isinstance(obj, dict):
        return {k: _plain_copy(v, _depth + 1) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain_copy(v, _depth + 1) for v in obj]
    return obj


def _canonical(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        x = float(obj)
        return x if math.isfinite(x) else repr(x)
    from govsim.scenario.convert import to_plain

    plain = to_plain(obj)
    return str(obj) if plain is obj else _canonical(plain)
