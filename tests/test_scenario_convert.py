"""Tests of the schema-driven dict → dataclass conversion (govsim.scenario.convert)."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Optional

import pytest

from govsim.distributions import Exponential, Fixed, LogNormal
from govsim.scenario.convert import (
    Clock,
    Dist,
    Duration,
    NumberDist,
    Parser,
    build,
    describe,
    reference_markdown,
    to_plain,
    type_name,
)
from govsim.scenario.errors import Problem, ScenarioError


# --------------------------------------------------------------------------- toy schema


@dataclass(frozen=True)
class Shift:
    """A shift."""

    start: Clock = field(default=8.0, metadata={"doc": "start time"})
    end: Clock = field(default=17.0, metadata={"doc": "end time"})

    def _check(self) -> list[tuple[str, str]]:
        if self.start == self.end:
            return [("end", "a shift must have a positive length")]
        return []


@dataclass(frozen=True)
class Workers:
    """Grid workers."""

    per_grid: int = field(default=1, metadata={"doc": "workers per grid", "ge": 1})
    speed_kmh: float = field(default=4.0, metadata={"doc": "walking speed", "unit": "km/h", "gt": 0})
    dwell: Duration = field(default=0.25, metadata={"doc": "time at each point", "gt": 0})
    shifts: list[Shift] = field(default_factory=lambda: [Shift()], metadata={"min_len": 1})
    route: Literal["fixed_cycle", "random_walk", "hotspot"] = "fixed_cycle"
    nickname: Optional[str] = None


@dataclass(frozen=True)
class Category:
    """An issue category."""

    rate: float = field(metadata={"doc": "issues per day", "unit": "1/d", "ge": 0})
    handling: Dist = field(default_factory=lambda: LogNormal(0.5, 0.25))
    households: NumberDist = field(default_factory=lambda: Fixed(300.0))
    deadline: Duration | None = None
    weights: list[float] = field(default_factory=list, metadata={"ge": 0})
    tags: tuple[str, ...] = ()
    share: float = field(default=0.5, metadata={"ge": 0, "le": 1})


@dataclass(frozen=True)
class Toy:
    """A toy scenario."""

    categories: dict[str, Category] = field(metadata={"doc": "issue categories"})
    name: str = "toy"
    seed: int | None = field(default=None, metadata={"ge": 0})
    enabled: bool = True
    workers: Workers = field(default_factory=Workers, metadata={"doc": "the workers"})
    params: dict[str, Any] = field(default_factory=dict)
    source: str | None = field(default=None, metadata={"internal": True})
    raw: dict[str, Any] | None = field(default=None, metadata={"internal": True})

    def _check(self) -> list[tuple[str, str]]:
        problems = []
        if "forbidden" in self.categories:
            problems.append(("categories.forbidden", "this name is reserved"))
        return problems


@dataclass
class Fixed2:
    pair: tuple[int, int] = (1, 2)


MINIMAL = {"categories": {"garbage": {"rate": 2}}}


def problems_of(cls: type, data: Any, **kw: Any) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        build(cls, data, **kw)
    return info.value.problems


def messages(cls: type, data: Any, **kw: Any) -> dict[str, str]:
    return {p.path: p.message for p in problems_of(cls, data, **kw)}


# --------------------------------------------------------------------------- happy paths


def test_minimal_document_uses_defaults() -> None:
    toy = build(Toy, MINIMAL)
    assert toy.name == "toy"
    assert toy.workers == Workers()
    cat = toy.categories["garbage"]
    assert cat.rate == 2.0 and isinstance(cat.rate, float)
    assert cat.handling == LogNormal(0.5, 0.25)
    assert toy.source is None and toy.raw is None


def test_full_document_converts_every_type() -> None:
    toy = build(
        Toy,
        {
            "name": "full",
            "seed": 7,
            "enabled": False,
            "categories": {
                "garbage": {
                    "rate": 3.5,
                    "handling": {"dist": "lognormal", "mean": "20min", "sd": "10min"},
                    "households": {"dist": "uniform", "low": 20, "high": 80},
                    "deadline": "1d",
                    "weights": [1, 2.5],
                    "tags": ["a", "b"],
                },
                "noise": {"rate": 0, "handling": "15min", "deadline": None},
            },
            "workers": {
                "per_grid": 2,
                "dwell": "2min",
                "shifts": [{"start": "06:00", "end": "14:00"}, {"start": "14:00", "end": "22:00"}],
                "route": "hotspot",
                "nickname": "w",
            },
            "params": {"anything": [1, {"x": 2}]},
        },
    )
    garbage = toy.categories["garbage"]
    assert garbage.handling == LogNormal(20 / 60, 10 / 60)
    assert garbage.households.mean == pytest.approx(50.0)
    assert garbage.deadline == 24.0
    assert garbage.weights == [1.0, 2.5]
    assert garbage.tags == ("a", "b")
    assert toy.categories["noise"].handling == Fixed(0.25)
    assert toy.categories["noise"].deadline is None
    assert toy.workers.shifts[1].start == 14.0
    assert toy.workers.dwell == pytest.approx(2 / 60)
    assert toy.workers.route == "hotspot"
    assert toy.params == {"anything": [1, {"x": 2}]}
    assert toy.seed == 7 and toy.enabled is False


def test_already_parsed_distribution_is_accepted() -> None:
    toy = build(Toy, {"categories": {"g": {"rate": 1, "handling": Exponential(2.0)}}})
    assert toy.categories["g"].handling == Exponential(2.0)


def test_integral_float_accepted_for_int_and_exponent_string_for_float() -> None:
    toy = build(Toy, {"categories": {"g": {"rate": "1e3"}}, "workers": {"per_grid": 2.0}})
    assert toy.workers.per_grid == 2 and isinstance(toy.workers.per_grid, int)
    assert toy.categories["g"].rate == 1000.0


def test_fixed_tuple() -> None:
    assert build(Fixed2, {"pair": [3, 4]}).pair == (3, 4)
    assert messages(Fixed2, {"pair": [3]}) == {"pair": "expected a list of 2 items, got 1"}


def test_build_path_prefix() -> None:
    assert messages(Category, {"rate": -1}, path="policies.x") == {
        "policies.x.rate": "expected a number >= 0, got -1"
    }


# --------------------------------------------------------------------------- error classes


def test_unknown_key_with_suggestion() -> None:
    msgs = messages(Toy, {**MINIMAL, "workers": {"spede_kmh": 5}})
    assert msgs == {"workers.spede_kmh": "unknown key; did you mean 'speed_kmh'?"}


def test_unknown_key_without_suggestion_lists_keys() -> None:
    msgs = messages(Toy, {**MINIMAL, "workers": {"zzz": 5}})
    assert msgs["workers.zzz"] == (
        "unknown key; expected one of: per_grid, speed_kmh, dwell, shifts, route, nickname"
    )


def test_misspelt_required_key_is_not_also_reported_missing() -> None:
    msgs = messages(Toy, {"categories": {"g": {"rat": 1}}})
    assert msgs == {"categories.g.rat": "unknown key; did you mean 'rate'?"}


def test_internal_fields_are_refused_in_input() -> None:
    msgs = messages(Toy, {**MINIMAL, "source": "x.yaml", "raw": {}})
    assert set(msgs) == {"source", "raw"}
    assert msgs["source"].startswith("unknown key; ")
    assert "raw" not in msgs["source"] and "source" not in msgs["source"].split(":", 1)[1]


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ({"workers": {"per_grid": "abc"}}, "workers.per_grid", "expected an integer, got 'abc' (str)"),
        ({"workers": {"per_grid": 1.5}}, "workers.per_grid", "expected an integer, got 1.5 (float)"),
        ({"workers": {"per_grid": True}}, "workers.per_grid", "expected an integer, got true (boolean)"),
        ({"workers": {"speed_kmh": False}}, "workers.speed_kmh", "expected a number, got false (boolean)"),
        ({"workers": {"speed_kmh": "fast"}}, "workers.speed_kmh", "expected a number, got 'fast' (str)"),
        ({"workers": {"speed_kmh": float("nan")}}, "workers.speed_kmh", "expected a number, got nan (float)"),
        ({"name": 12}, "name", "expected a string, got 12 (int)"),
        ({"enabled": "maybe"}, "enabled", "expected true or false, got 'maybe' (str)"),
        ({"name": None}, "name", "expected a string, got null"),
        ({"workers": None}, "workers", "expected a mapping with keys per_grid, speed_kmh, dwell, shifts, "
                                       "route, nickname, got null"),
        ({"workers": [1, 2]}, "workers", "expected a mapping with keys per_grid, speed_kmh, dwell, shifts, "
                                         "route, nickname, got a list"),
        ({"workers": {"shifts": {"start": "08:00"}}}, "workers.shifts", "expected a list of Shift, got a mapping"),
        ({"workers": {"shifts": []}}, "workers.shifts", "expected at least 1 item, got 0"),
        ({"seed": -3}, "seed", "expected an integer >= 0, got -3"),
        ({"params": [1]}, "params", "expected a mapping of names to any, got a list"),
    ],
)
def test_wrong_types(data: dict[str, Any], path: str, message: str) -> None:
    assert messages(Toy, {**MINIMAL, **data}) == {path: message}


def test_negative_where_ge_zero() -> None:
    assert messages(Toy, {"categories": {"garbage": {"rate": -1}}}) == {
        "categories.garbage.rate": "expected a number >= 0, got -1"
    }


def test_two_sided_bound_and_list_item_bound() -> None:
    msgs = messages(Toy, {"categories": {"g": {"rate": 1, "share": 1.5, "weights": [1, -2]}}})
    assert msgs == {
        "categories.g.share": "expected a number >= 0 and <= 1, got 1.5",
        "categories.g.weights[1]": "expected a number >= 0, got -2",
    }


def test_bound_on_parsed_duration_is_shown_in_units() -> None:
    assert messages(Toy, {**MINIMAL, "workers": {"dwell": "0min"}}) == {
        "workers.dwell": "expected a duration > 0, got '0min'"
    }


def test_bad_unit() -> None:
    msgs = messages(Toy, {**MINIMAL, "workers": {"dwell": "5 parsecs"}})
    assert list(msgs) == ["workers.dwell"]
    assert "unknown unit 'parsecs'" in msgs["workers.dwell"]
    msgs = messages(Toy, {**MINIMAL, "workers": {"dwell": 7}})
    assert msgs["workers.dwell"] == "expected a duration with a unit such as '15min', '2h' or '1d', got 7"


def test_parser_null_and_wrong_shape() -> None:
    msgs = messages(Toy, {**MINIMAL, "workers": {"dwell": None}})
    assert msgs == {"workers.dwell": "expected a duration such as '15min', '2h' or '1d', got null"}


def test_bad_clock() -> None:
    msgs = messages(Toy, {**MINIMAL, "workers": {"shifts": [{}, {"start": "25:00"}]}})
    assert list(msgs) == ["workers.shifts[1].start"]
    assert "time of day" in msgs["workers.shifts[1].start"]


def test_distribution_errors_point_at_the_sub_key() -> None:
    msgs = messages(Toy, {"categories": {"g": {
        "rate": 1, "handling": {"dist": "lognormal", "mean": "20min", "sd": "-5min"}}}})
    assert list(msgs) == ["categories.g.handling.sd"]
    assert msgs["categories.g.handling.sd"].startswith("must be >= 0") or "non-negative" in msgs[
        "categories.g.handling.sd"]

    msgs = messages(Toy, {"categories": {"g": {"rate": 1, "handling": {"dist": "lognormall", "mean": "1h"}}}})
    assert list(msgs) == ["categories.g.handling.dist"]
    assert "did you mean 'lognormal'?" in msgs["categories.g.handling.dist"]

    msgs = messages(Toy, {"categories": {"g": {"rate": 1, "handling": "soon"}}})
    assert list(msgs) == ["categories.g.handling"]


def test_number_distribution() -> None:
    msgs = messages(Toy, {"categories": {"g": {"rate": 1, "households": {"dist": "uniform", "low": "x",
                                                                          "high": 3}}}})
    assert list(msgs) == ["categories.g.households.low"]


def test_bad_literal_with_suggestion() -> None:
    msgs = messages(Toy, {**MINIMAL, "workers": {"route": "hotspt"}})
    assert msgs == {
        "workers.route": "expected one of 'fixed_cycle', 'random_walk', 'hotspot', got 'hotspt'; "
                         "did you mean 'hotspot'?"
    }
    msgs = messages(Toy, {**MINIMAL, "workers": {"route": 3}})
    assert msgs["workers.route"] == "expected one of 'fixed_cycle', 'random_walk', 'hotspot', got 3 (int)"


def test_missing_required() -> None:
    assert messages(Toy, {}) == {"categories": "missing required key"}
    assert messages(Toy, {"categories": {"g": {}}}) == {"categories.g.rate": "missing required key"}


def test_dict_keys_must_be_strings() -> None:
    msgs = messages(Toy, {"categories": {1: {"rate": 1}}})
    assert msgs == {"categories.1": "expected a name (string) as key, got 1 (int); quote it"}


def test_odd_keys_are_quoted_in_paths() -> None:
    msgs = messages(Toy, {"categories": {"big pile": {"rate": -1}}})
    assert msgs == {"categories['big pile'].rate": "expected a number >= 0, got -1"}


def test_explicit_null_for_non_optional_field() -> None:
    assert messages(Toy, {**MINIMAL, "workers": {"speed_kmh": None}}) == {
        "workers.speed_kmh": "expected a number, got null"
    }


def test_top_level_not_a_mapping() -> None:
    msgs = messages(Toy, ["a"])
    assert list(msgs) == [""]
    assert msgs[""].startswith("expected a mapping with keys categories, name,")
    assert msgs[""].endswith("got a list")


# --------------------------------------------------------------------------- many problems, _check


def test_all_problems_are_collected() -> None:
    data = {
        "categories": {"garbage": {"rate": -1}, "noise": {"rate": "x", "tags": "a"}},
        "workers": {"spede_kmh": 5, "per_grid": 0, "shifts": [{"start": "8h"}, {"end": "99:00"}]},
        "colour": "red",
    }
    problems = problems_of(Toy, data, source="scenarios/bad.yaml")
    paths = [p.path for p in problems]
    assert paths == [
        "colour",
        "categories.garbage.rate",
        "categories.noise.rate",
        "categories.noise.tags",
        "workers.spede_kmh",
        "workers.per_grid",
        "workers.shifts[0].start",
        "workers.shifts[1].end",
    ]


def test_check_is_called_with_full_paths() -> None:
    msgs = messages(Toy, {**MINIMAL, "workers": {"shifts": [{}, {"start": "09:00", "end": "09:00"}]}})
    assert msgs == {"workers.shifts[1].end": "a shift must have a positive length"}
    msgs = messages(Toy, {"categories": {"forbidden": {"rate": 1}}})
    assert msgs == {"categories.forbidden": "this name is reserved"}


def test_parent_check_still_runs_when_a_child_check_fails() -> None:
    msgs = messages(Toy, {"categories": {"forbidden": {"rate": 1}},
                          "workers": {"shifts": [{"start": "09:00", "end": "09:00"}]}})
    assert msgs == {
        "workers.shifts[0].end": "a shift must have a positive length",
        "categories.forbidden": "this name is reserved",
    }


def test_check_not_called_when_fields_have_errors() -> None:
    calls = []

    @dataclass
    class Node:
        x: int = 0

        def _check(self) -> list[tuple[str, str]]:
            calls.append(self)
            return [("", "whole node is bad")]

    assert messages(Node, {"x": "bad"}) == {"x": "expected an integer, got 'bad' (str)"}
    assert calls == []
    assert messages(Node, {"x": 1}, path="node") == {"node": "whole node is bad"}
    assert len(calls) == 1


def test_post_init_value_error_becomes_a_problem() -> None:
    @dataclass
    class Node:
        lo: int = 0
        hi: int = 1

        def __post_init__(self) -> None:
            if self.lo > self.hi:
                raise ValueError("lo must not exceed hi")

    assert messages(Node, {"lo": 3}, path="n") == {"n": "lo must not exceed hi"}


# --------------------------------------------------------------------------- ScenarioError


def test_error_text_multiple_and_single() -> None:
    data = {"categories": {"garbage": {"rate": -1}}, "workers": {"spede_kmh": 5}}
    with pytest.raises(ScenarioError) as info:
        build(Toy, data, source="scenarios/bad.yaml")
    assert str(info.value) == (
        "scenarios/bad.yaml: 2 problems\n"
        "  categories.garbage.rate: expected a number >= 0, got -1\n"
        "  workers.spede_kmh: unknown key; did you mean 'speed_kmh'?"
    )
    with pytest.raises(ScenarioError) as info:
        build(Toy, {"categories": {"garbage": {"rate": -1}}}, source="scenarios/bad.yaml")
    assert str(info.value) == "scenarios/bad.yaml: categories.garbage.rate: expected a number >= 0, got -1"
    assert info.value.source == "scenarios/bad.yaml"
    assert isinstance(info.value, ValueError)


def test_error_root_problem_and_no_source() -> None:
    err = ScenarioError([Problem("", "file not found")], "x.yaml")
    assert str(err) == "x.yaml: file not found"
    assert str(ScenarioError.single("a.b", "bad")) == "a.b: bad"
    with pytest.raises(ValueError):
        ScenarioError([])


def test_error_pickles() -> None:
    err = ScenarioError([Problem("a", "b"), Problem("c", "d")], "f.yaml")
    back = pickle.loads(pickle.dumps(err))
    assert back.problems == err.problems and back.source == "f.yaml" and str(back) == str(err)


# --------------------------------------------------------------------------- schema bugs


def test_unsupported_annotation_is_a_type_error() -> None:
    @dataclass
    class Bad:
        x: set[int] = field(default_factory=set)

    with pytest.raises(TypeError):
        build(Bad, {"x": 1})
    with pytest.raises(TypeError):
        build(dict, {})


def _parse_percent(value: Any) -> float:
    if isinstance(value, str) and value.endswith("%"):
        return float(value[:-1]) / 100
    raise ValueError(f"expected a percentage such as '15%', got {value!r}")


Percent = Annotated[float, Parser(_parse_percent, "a percentage such as '15%'", name="percentage")]


@dataclass
class WithPercent:
    share: Percent = field(default=0.5, metadata={"le": 1})


def test_custom_parser_marker() -> None:
    assert build(WithPercent, {"share": "20%"}).share == pytest.approx(0.2)
    assert messages(WithPercent, {"share": 0.2}) == {"share": "expected a percentage such as '15%', got 0.2"}
    assert messages(WithPercent, {"share": "150%"}) == {"share": "expected a percentage <= 1, got '150%'"}
    assert type_name(Percent, {"le": 1}) == "percentage <= 1"


# --------------------------------------------------------------------------- to_plain, describe


def test_to_plain() -> None:
    toy = build(Toy, {"categories": {"g": {"rate": 1, "tags": ["x"]}}})
    plain = to_plain(toy)
    assert "source" not in plain and "raw" not in plain
    assert plain["categories"]["g"]["handling"] == {"dist": "lognormal", "mean": 0.5, "sd": 0.25}
    assert plain["categories"]["g"]["tags"] == ["x"]
    assert plain["workers"]["shifts"] == [{"start": 8.0, "end": 17.0}]
    import json

    json.dumps(plain)  # plain data only


def test_describe_rows() -> None:
    rows = {r["path"]: r for r in describe(Toy)}
    assert "source" not in rows and "raw" not in rows
    assert rows["categories"]["type"] == "mapping of name → Category"
    assert rows["categories"]["default"] == "required" and rows["categories"]["required"]
    assert rows["categories.*.rate"]["type"] == "number >= 0"
    assert rows["categories.*.rate"]["unit"] == "1/d"
    assert rows["categories.*.rate"]["doc"] == "issues per day"
    assert rows["categories.*.handling"]["default"] == "{dist: lognormal, mean: 30min, sd: 15min}"
    assert rows["categories.*.households"]["default"] == "300"
    assert rows["categories.*.deadline"]["type"] == "duration or null"
    assert rows["categories.*.weights"]["type"] == "list of number >= 0"
    assert rows["categories.*.share"]["type"] == "number >= 0 and <= 1"
    assert rows["workers.shifts"]["type"] == "list of Shift (at least 1 item)"
    assert rows["workers.shifts[].start"]["type"] == "time of day"
    assert rows["workers.shifts[].start"]["default"] == '"08:00"'
    assert rows["workers.dwell"]["default"] == "15min"
    assert rows["workers.dwell"]["type"] == "duration > 0"
    assert rows["workers.route"]["type"] == "one of: fixed_cycle, random_walk, hotspot"
    assert rows["workers.route"]["default"] == "fixed_cycle"
    assert rows["workers.nickname"]["type"] == "string or null"
    assert rows["workers"]["default"] == "see below"
    assert rows["seed"]["type"] == "integer >= 0 or null"
    assert rows["enabled"]["default"] == "true"
    assert rows["workers"]["section"] == "workers"
    assert describe(Toy) == describe(Toy)  # deterministic


def test_reference_markdown() -> None:
    md = reference_markdown(Toy)
    assert md.startswith("A toy scenario.")
    assert "## Top-level keys" in md
    assert "## `categories`" in md and "## `workers`" in md
    assert "| `categories.*.rate` | number >= 0 | **required** | 1/d | issues per day |" in md
    assert "source" not in md
    assert md == reference_markdown(Toy)
