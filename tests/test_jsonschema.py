"""The JSON Schema of scenario files (``govsim schema``): generated from the declarations the
loader reads, so it has every key of the reference; every preset validates; a misspelt key,
a wrong value and a missing required key are flagged; it accepts the durations, times of day
and distributions the loader accepts and refuses those it refuses; the committed file is
current."""

from __future__ import annotations

import copy
import dataclasses
import json
import types
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import jsonschema
import pytest
import yaml

from govsim.cli import main
from govsim.distributions import DistributionError, parse_distribution, parse_number
from govsim.presets import PRESET_DIR, SCHEMA_NAME, preset_names
from govsim.scenario import ScenarioError, load_scenario
from govsim.scenario.convert import describe
from govsim.scenario.loader import load_document
from govsim.scenario.jsonschema import DIALECT, TITLE, scenario_schema, schema_text
from govsim.scenario.schema import Scenario
from govsim.units import UnitError, parse_clock, parse_duration

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = scenario_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
MINIMAL = {"categories": {"garbage": {"rate": 2}}}


def errors(document: Any, schema: dict[str, Any] = SCHEMA) -> list[str]:
    """The messages of every error, and of the errors behind an ``anyOf`` that failed."""
    def messages(error: jsonschema.ValidationError) -> list[str]:
        return [error.message, *[m for sub in error.context or () for m in messages(sub)]]

    return [m for e in jsonschema.Draft202012Validator(schema).iter_errors(document) for m in messages(e)]


def sub_schema(name: str) -> dict[str, Any]:
    """A schema for one definition (``duration``, ``time_of_day``, ...), with all the definitions."""
    return {"$schema": DIALECT, "$ref": f"#/$defs/{name}", "$defs": SCHEMA["$defs"]}


def preset_document(name: str) -> Any:
    return yaml.safe_load((PRESET_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the file


def test_the_committed_schema_is_current() -> None:
    committed = (PRESET_DIR / SCHEMA_NAME).read_text(encoding="utf-8")
    assert committed == schema_text(), (
        f"{PRESET_DIR / SCHEMA_NAME} is stale: run `govsim schema --out {PRESET_DIR / SCHEMA_NAME}`")


def test_it_is_a_valid_draft_2020_12_schema() -> None:
    assert SCHEMA["$schema"] == DIALECT and SCHEMA["title"] == TITLE
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_govsim_schema_prints_and_writes_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == schema_text()
    assert main(["schema", "--out", str(tmp_path)]) == 0
    assert (tmp_path / SCHEMA_NAME).read_text(encoding="utf-8") == schema_text()
    assert main(["schema", "--out", str(tmp_path / "missing" / "x.json")]) == 2
    assert "cannot write the schema" in capsys.readouterr().err


# --------------------------------------------------------------------------- the same declarations


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = SCHEMA["$defs"][node["$ref"].removeprefix("#/$defs/")]
    return node


def _step(node: dict[str, Any], segment: str) -> dict[str, Any] | None:
    """The schema of ``segment`` (a key, ``*`` for any mapping key, ``[]`` for a list item)
    below ``node``, looking through ``$ref`` and ``anyOf``."""
    node = _resolve(node)
    for alternative in [node, *node.get("anyOf", [])]:
        alternative = _resolve(alternative)
        if segment == "[]" and isinstance(alternative.get("items"), dict):
            return alternative["items"]
        if segment == "*" and isinstance(alternative.get("additionalProperties"), dict):
            return alternative["additionalProperties"]
        if segment in alternative.get("properties", {}):
            return alternative["properties"][segment]
    return None


def _at(path: str, root: dict[str, Any] | None = None) -> dict[str, Any] | None:
    node: dict[str, Any] | None = root or _resolve(SCHEMA)
    for segment in path.replace("[]", ".[]").split("."):
        if node is None:
            return None
        node = _step(node, segment)
    return node


def test_every_key_of_the_reference_is_in_the_schema_with_its_description() -> None:
    rows = describe(Scenario)
    missing = [r["path"] for r in rows if _at(r["path"]) is None]
    assert missing == []
    for r in rows:
        node = _at(r["path"])
        assert node is not None
        if r["doc"]:
            assert node.get("description", "").startswith(r["doc"].rstrip(".")), r["path"]


def test_every_policy_parameter_is_in_the_schema() -> None:
    from govsim.policies import POLICIES

    for name, cls in POLICIES.items():
        for r in describe(cls.Params):
            assert _at(f"policies.{name}.{r['path']}") is not None, (name, r["path"])


def test_the_schema_has_exactly_the_keys_of_the_reference() -> None:
    paths = {r["path"] for r in describe(Scenario)} | {"extends"}
    found: set[str] = set()

    def walk(node: dict[str, Any], prefix: str, seen: frozenset[str]) -> None:
        ref = node.get("$ref")
        if ref is not None and (ref in seen or ref.endswith("_distribution")):  # distributions: the header
            return
        node = _resolve(node)
        for alternative in [node, *node.get("anyOf", [])]:
            walk_one(alternative, prefix, seen | {ref} if ref else seen)

    def walk_one(node: dict[str, Any], prefix: str, seen: frozenset[str]) -> None:
        if node.get("$ref", "").endswith("_distribution"):
            return
        node = _resolve(node)
        for key, child in node.get("properties", {}).items():
            path = f"{prefix}.{key}" if prefix else key
            if not path.startswith("policies."):  # each policy's parameters: the test above
                found.add(path)
                walk(child, path, seen)
        if isinstance(node.get("items"), dict):
            walk(node["items"], prefix + "[]", seen)
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], prefix + ".*", seen)

    walk(SCHEMA, "", frozenset())
    assert found == paths


def _sections(cls: type, seen: set[type]) -> None:
    from govsim.scenario.convert import _fields, _is_dataclass_type

    if cls in seen:
        return
    seen.add(cls)
    for spec in _fields(cls):
        for inner in _types_in(spec.hint):
            if _is_dataclass_type(inner):
                _sections(inner, seen)


def _types_in(tp: Any) -> list[Any]:
    args = [a for a in get_args(tp) if a is not Ellipsis]
    return [tp, *[t for a in args for t in _types_in(a)]]


def test_choices_bounds_and_unknown_keys_follow_the_declarations() -> None:
    """For every section class: ``additionalProperties: false``; a ``Literal`` field's
    choices are the schema's ``enum``; a number's bounds are its minimum / maximum."""
    from govsim.policies import POLICIES
    from govsim.scenario.convert import _fields

    classes: set[type] = set()
    _sections(Scenario, classes)
    for cls in POLICIES.values():
        _sections(cls.Params, classes)
    defs = {name: d for name, d in SCHEMA["$defs"].items() if "properties" in d and d.get("type") == "object"
            and "dist" not in d["properties"]}
    by_name = {name.rsplit(".", 1)[-1]: d for name, d in defs.items()}
    assert {c.__qualname__.rsplit(".", 1)[-1] for c in classes} <= set(by_name)
    checked = 0
    for cls in classes:
        body = defs.get(cls.__qualname__) or by_name[cls.__qualname__.rsplit(".", 1)[-1]]
        assert body["additionalProperties"] is False, cls
        for spec in _fields(cls):
            prop = body["properties"][spec.name]
            literal = [t for t in _types_in(spec.hint) if get_origin(t) is Literal]
            if literal and get_origin(spec.hint) is Literal:
                assert prop["enum"] == list(get_args(literal[0])), (cls, spec.name)
                checked += 1
            if spec.hint in (int, float, "int", "float"):
                for key, keyword in (("ge", "minimum"), ("gt", "exclusiveMinimum"), ("le", "maximum"),
                                     ("lt", "exclusiveMaximum")):
                    assert prop.get(keyword) == spec.meta.get(key), (cls, spec.name, keyword)
                checked += 1
    assert checked > 50


def test_registries_give_the_names_the_loader_accepts() -> None:
    from govsim.mechanisms import MECHANISMS
    from govsim.policies import POLICIES, ROUTES

    assert _at("policy")["enum"] == list(POLICIES)  # type: ignore[index]
    assert _at("workers.route")["enum"] == list(ROUTES)  # type: ignore[index]
    assert set(_resolve(_at("governance"))["properties"]) == set(MECHANISMS)  # type: ignore[arg-type]
    assert set(_resolve(_at("policies"))["properties"]) == set(POLICIES)  # type: ignore[arg-type]


def test_a_registered_mechanism_becomes_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from govsim.mechanisms import MECHANISMS

    @dataclasses.dataclass(frozen=True)
    class ShadeTreesConfig:
        """Trees planted on some grids."""

        trees: int = dataclasses.field(default=3, metadata={"doc": "trees per grid", "ge": 0})

    monkeypatch.setitem(MECHANISMS, "shade_trees", types.SimpleNamespace(Config=ShadeTreesConfig, title="trees"))
    schema = scenario_schema()
    doc = {**MINIMAL, "governance": {"shade_trees": {"trees": 5}}}
    assert errors(doc, schema) == []
    assert any("'tres' was unexpected" in m for m in errors({**MINIMAL, "governance": {"shade_trees": {"tres": 5}}},
                                                             schema))
    assert any("-1 is less than the minimum" in m for m in errors(
        {**MINIMAL, "governance": {"shade_trees": {"trees": -1}}}, schema))


# --------------------------------------------------------------------------- presets and typos


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_validates_and_names_the_schema(name: str) -> None:
    text = (PRESET_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[0] == f"# yaml-language-server: $schema={SCHEMA_NAME}"
    assert errors(yaml.safe_load(text)) == []
    # merged with its bases (a standalone copy), it is a whole file: every required key is there
    merged, _ = load_document(PRESET_DIR / f"{name}.yaml")
    assert "extends" not in merged and errors(merged) == []


BAD = {  # document changes → (what the schema says, the path the loader names)
    "misspelt key": ({"workers": {"spede_kmh": 3}}, "'spede_kmh' was unexpected", "workers.spede_kmh"),
    "misspelt top-level key": ({"horizn": "2d"}, "'horizn' was unexpected", "horizn"),
    "misspelt mechanism": ({"governance": {"liason": {}}}, "'liason' was unexpected", "governance.liason"),
    "misspelt policy": ({"policy": "smart_dispach"}, "is not one of", "policy"),
    "wrong type": ({"workers": {"per_grid": "many"}}, "is not of type 'number'", "workers.per_grid"),
    "out of bounds": ({"categories": {"garbage": {"rate": -1}}}, "less than the minimum", "categories.garbage.rate"),
    "bare number duration": ({"horizon": 7}, "is not valid under any", "horizon"),
    "bad unit": ({"horizon": "3 parsecs"}, "is not valid under any", "horizon"),
    "unquoted time": ({"workers": {"shifts": [{"start": 480}]}}, "is not of type 'string'",
                      "workers.shifts[0].start"),
    "bad distribution parameter": ({"categories": {"garbage": {"rate": 1, "handling": {"dist": "lognormal",
                                                                                      "mean": "2h"}}}},
                                   "is not valid under any", "categories.garbage.handling"),
    "unknown distribution": ({"categories": {"garbage": {"rate": 1, "handling": {"dist": "lognorm", "mean": "2h",
                                                                                "sd": "1h"}}}},
                             "is not valid under any", "categories.garbage.handling.dist"),
    "choice": ({"territory": {"distance": "taxicab"}}, "is not one of", "territory.distance"),
}


def _merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in change.items():
        out[key] = _merge(out[key], value) if isinstance(out.get(key), dict) and isinstance(value, dict) else value
    return out


@pytest.mark.parametrize("case", list(BAD))
def test_a_wrong_document_is_flagged_by_the_schema_and_the_loader(case: str) -> None:
    change, message, path = BAD[case]
    doc = _merge(preset_document("smart_dispatch"), change)
    found = errors(doc)
    assert any(message in m for m in found), found
    with pytest.raises(ScenarioError) as err:
        load_scenario(_merge({"categories": {"garbage": {"rate": 1}}}, change))
    assert path in [p.path for p in err.value.problems]


def test_required_keys_in_a_whole_file_and_in_a_file_that_extends_another() -> None:
    no_rate = {"categories": {"garbage": {"priority": 2}}}
    assert any("'rate' is a required property" in m for m in errors(no_rate))
    assert any("'categories' is a required property" in m for m in errors({"horizon": "2d"}))
    # a file that extends another may leave required keys of mappings to its base ...
    assert errors({"extends": "smart_dispatch.yaml", **no_rate}) == []
    assert errors({"extends": "smart_dispatch.yaml", "horizon": "2d"}) == []
    load_scenario({"extends": str(PRESET_DIR / "smart_dispatch.yaml"), "categories": {"garbage": {"priority": 2}}})
    # ... but not those of list items: a list replaces the base's
    grids = {"extends": "district.yaml", "territory": {"grids": [{"x_m": 0, "y_m": 0}]}}
    assert any("'households' is a required property" in m for m in errors(grids))


# --------------------------------------------------------------------------- values: as the loader reads them


def _accepts(func: Any, value: Any) -> bool:
    try:
        func(value)
    except (UnitError, DistributionError, ValueError, TypeError):
        return False
    return True


DURATIONS: list[Any] = [
    0, 0.0, "0", "0.0", "-0h", "+0", 2, 1.5, True, None, "", "h", "2", "2x", "-2h", "2 parsecs", "2h30min",
    *[f"{n}{space}{unit}" for n in ("2", "1.5", ".5", "5.", "+3", "1e2", "2E-1", "007")
      for space in ("", " ") for unit in ("s", "sec", "seconds", "min", "MIN", "Minutes", "h", "H", "hr", "hours",
                                          "d", "Day", "days", "w", "wk", "WEEKS", "m", "ms", "y", "hh")],
    " 2h ", "2h\t", "２h", "1_000h",
]


def test_durations_as_the_loader_reads_them() -> None:
    schema = sub_schema("duration")
    disagree = [v for v in DURATIONS if (errors(v, schema) == []) != _accepts(parse_duration, v)]
    assert disagree == []
    assert sum(_accepts(parse_duration, v) for v in DURATIONS) > 60  # both kinds are well represented


def test_times_of_day_as_the_loader_reads_them() -> None:
    schema = sub_schema("time_of_day")
    samples: list[Any] = [f"{h}:{m}" for h in ("0", "00", "7", "08", "9", "19", "23", "24", "25", "30", "123")
                          for m in ("00", "05", "30", "59", "60", "99", "5", "000")]
    samples += [" 08:00 ", "08:00:00", "8h", "", 480, 8.0, None, "２3:00"]
    disagree = [v for v in samples if (errors(v, schema) == []) != _accepts(parse_clock, v)]
    assert disagree == []


DISTRIBUTIONS: list[Any] = [
    "15min", 0, {"dist": "fixed", "value": "2h"}, {"dist": "exponential", "mean": "2h"},
    {"dist": "exponential", "mean": "2h", "sd": "1h"}, {"dist": "exponential"}, {"mean": "2h"},
    {"dist": "lognormal", "mean": "20min", "sd": "10min"}, {"dist": "lognormal", "mean": "20min"},
    {"dist": "gamma", "shape": 2, "scale": "10min"}, {"dist": "gamma", "mean": "20min", "sd": "10min"},
    {"dist": "gamma", "shape": 2, "sd": "10min"}, {"dist": "gamma", "shape": "2h", "scale": "10min"},
    {"dist": "triangular", "low": "5min", "mode": "10min", "high": "30min"},
    {"dist": "uniform", "low": "5min", "high": "30min"}, {"dist": "uniform", "low": 5, "high": "30min"},
    {"dist": "empirical", "values": ["5min", "10min"], "weights": [3, 1]},
    {"dist": "empirical", "values": ["5min", "10min"]}, {"dist": "empirical", "values": []},
    {"dist": "empirical", "weights": [1]}, {"dist": "weibull", "shape": 1.5, "scale": "2h"},
    {"dist": "zero_inflated", "zero": 0.3, "of": {"dist": "exponential", "mean": "1h"}},
    {"dist": "zero_inflated", "zero": 0.3, "of": {"dist": "exponential", "mean": 1}},
    {"dist": "zero_inflated", "zero": 0.3, "of": "1h"}, {"dist": "poisson", "mean": "1h"},
    {"dist": "lognormal", "mean": "20min", "sd": "10min", "extra": 1}, [1, 2], "lots", 5,
]


def test_distributions_of_durations_as_the_loader_reads_them() -> None:
    schema = sub_schema("duration_distribution")
    disagree = [v for v in DISTRIBUTIONS if (errors(v, schema) == []) != _accepts(parse_distribution, v)]
    assert disagree == []


def test_distributions_of_numbers_as_the_loader_reads_them() -> None:
    schema = sub_schema("number_distribution")
    samples = [300, 2.5, {"dist": "uniform", "low": 250, "high": 350}, {"dist": "uniform", "low": "250"},
               {"dist": "exponential", "mean": 3}, {"dist": "gamma", "shape": 2, "scale": 1.5},
               {"dist": "empirical", "values": [1, 2], "weights": [1, 1]}, {"dist": "uniform", "low": 1},
               {"dist": "zero_inflated", "zero": 0.5, "of": 3}, "15min", None, True]

    def number_dist(spec: Any) -> Any:
        return parse_distribution(spec, value_parser=parse_number)

    disagree = [v for v in samples if (errors(v, schema) == []) != _accepts(number_dist, v)]
    assert disagree == []


def test_the_schema_file_parses_as_json_with_the_defaults_of_the_declarations() -> None:
    data = json.loads((PRESET_DIR / SCHEMA_NAME).read_text(encoding="utf-8"))
    assert _at("horizon", _resolve(data))["default"] == "30d"  # type: ignore[index]
    assert _at("workers.shifts[].start", _resolve(data))["default"] == "08:00"  # type: ignore[index]
    assert _at("workers.speed_kmh", _resolve(data))["default"] == 4.0  # type: ignore[index]
