"""Tests of scenario loading: YAML files, extends, overrides, hashing (govsim.scenario.loader)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from govsim.scenario import Problem, ScenarioError, load_scenario, parse_override, scenario_hash
from govsim.scenario.convert import Clock, Duration
from govsim.scenario.loader import apply_overrides


@dataclass(frozen=True)
class Shift:
    start: Clock = 8.0
    end: Clock = 17.0


@dataclass(frozen=True)
class Workers:
    per_grid: int = field(default=1, metadata={"ge": 1})
    speed_kmh: float = field(default=4.0, metadata={"gt": 0})
    shifts: list[Shift] = field(default_factory=lambda: [Shift()])


@dataclass(frozen=True)
class Category:
    rate: float = field(metadata={"ge": 0})
    deadline: Duration | None = None


@dataclass(frozen=True)
class Toy:
    categories: dict[str, Category]
    name: str = "toy"
    horizon: Duration = 24.0
    workers: Workers = field(default_factory=Workers)
    tags: list[str] = field(default_factory=list)
    source: str | None = field(default=None, metadata={"internal": True})
    raw: dict[str, Any] | None = field(default=None, metadata={"internal": True})


@dataclass(frozen=True)
class Bare:  # no source/raw fields
    x: int = 0


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(source: Any, overrides: dict[str, Any] | None = None) -> Toy:
    return load_scenario(source, overrides, schema=Toy)


def error_of(source: Any, overrides: dict[str, Any] | None = None) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load(source, overrides)
    return info.value


GOOD = """\
name: good
horizon: 2d
categories:
  garbage:
    rate: 3.5
    deadline: 4h
workers:
  per_grid: 2
  shifts:
    - {start: "06:00", end: "14:00"}
    - {start: "14:00", end: "22:00"}
"""


# --------------------------------------------------------------------------- files


def test_load_file_fills_source_and_raw(tmp_path: Path) -> None:
    path = write(tmp_path, "good.yaml", GOOD)
    toy = load(path)
    assert toy.name == "good" and toy.horizon == 48.0
    assert toy.categories["garbage"].deadline == 4.0
    assert toy.workers.shifts[1].end == 22.0
    assert toy.source == str(path)
    assert toy.raw["categories"] == {"garbage": {"rate": 3.5, "deadline": "4h"}}
    assert load(str(path)).source == str(path)


def test_schema_without_source_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "bare.yaml", "x: 3\n")
    assert load_scenario(path, schema=Bare) == Bare(3)


def test_dict_source() -> None:
    toy = load({"categories": {"g": {"rate": 1}}})
    assert toy.source == "<dict>"
    err = error_of({"categories": {"g": {"rate": -1}}})
    assert str(err) == "<dict>: categories.g.rate: expected a number >= 0, got -1"


def test_dict_source_is_not_mutated() -> None:
    data = {"categories": {"g": {"rate": 1}}}
    load(data, {"categories.g.rate": 2, "workers.per_grid": 3})
    assert data == {"categories": {"g": {"rate": 1}}}


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    err = error_of(missing)
    assert err.source == str(missing)
    assert err.problems == [Problem("", "file not found")]
    assert str(err) == f"{missing}: file not found"


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "name: x\ncategories:\n  garbage: {rate: 1\nworkers: {}\n")
    err = error_of(path)
    assert err.source == str(path)
    text = str(err)
    assert text.startswith(f"{path}: invalid YAML at line ")
    assert "line 4" in text


def test_yaml_bad_indentation_line(tmp_path: Path) -> None:
    path = write(tmp_path, "indent.yaml", "a: 1\nb:\n  c: 2\n d: 3\n")
    err = error_of(path)
    assert "invalid YAML at line 4, column 2" in str(err)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "list.yaml", "- a\n- b\n")
    err = error_of(path)
    assert str(err) == f"{path}: expected a mapping of keys at the top level, got a list"
    path = write(tmp_path, "scalar.yaml", "hello\n")
    assert "got 'hello'" in str(error_of(path))


def test_empty_file_is_an_empty_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.yaml", "# nothing\n")
    assert error_of(path).problems == [Problem("categories", "missing required key")]


def test_unsafe_tag_is_rejected_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = write(
        tmp_path,
        "evil.yaml",
        f"name: !!python/object/apply:os.system ['touch {marker}']\ncategories: {{}}\n",
    )
    err = error_of(path)
    assert not marker.exists()
    assert err.source == str(path)
    assert "line 1" in str(err)
    assert "unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'" in str(err)


def test_duplicate_keys_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yaml", "categories:\n  g: {rate: 1}\n  g: {rate: 2}\nname: a\nname: b\n")
    err = error_of(path)
    assert [p.path for p in err.problems] == ["categories.g", "name"]
    assert err.problems[0].message == "duplicate key (line 3; first on line 2)"


def test_unquoted_clock_is_read_as_text(tmp_path: Path) -> None:
    # YAML 1.1 reads 14:00 as the integer 840; the loader keeps the text.
    path = write(tmp_path, "clock.yaml", "categories: {}\nworkers:\n  shifts:\n    - {start: 6:00, end: 14:00}\n")
    toy = load(path)
    assert toy.workers.shifts[0].start == 6.0 and toy.workers.shifts[0].end == 14.0
    assert toy.raw["workers"]["shifts"][0] == {"start": "6:00", "end": "14:00"}


def test_multiple_problems_with_file_name(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        """\
        categories:
          garbage:
            rate: -1
        workers:
          spede_kmh: 5
        """,
    )
    err = error_of(path)
    assert str(err) == (
        f"{path}: 2 problems\n"
        "  categories.garbage.rate: expected a number >= 0, got -1\n"
        "  workers.spede_kmh: unknown key; did you mean 'speed_kmh'?"
    )


def test_bad_unit_in_file(tmp_path: Path) -> None:
    path = write(tmp_path, "unit.yaml", "categories: {g: {rate: 1, deadline: 4 fortnights}}\nhorizon: 7\n")
    err = error_of(path)
    assert [p.path for p in err.problems] == ["categories.g.deadline", "horizon"]
    assert "unknown unit 'fortnights'" in err.problems[0].message


# --------------------------------------------------------------------------- extends


def test_extends_chain_deep_merges(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", """\
        name: base
        tags: [a, b]
        categories:
          garbage: {rate: 1, deadline: 1d}
          noise: {rate: 2}
        workers: {per_grid: 1, speed_kmh: 5}
        """)
    write(tmp_path, "mid/mid.yaml", """\
        extends: ../base.yaml
        name: mid
        workers: {per_grid: 3}
        """)
    top = write(tmp_path, "mid/top.yaml", """\
        extends: mid.yaml
        tags: [c]
        categories:
          garbage: {rate: 4}
          noise: {deadline: null}
        """)
    toy = load(top)
    assert toy.name == "mid"
    assert toy.tags == ["c"]  # lists replace
    assert toy.categories["garbage"].rate == 4 and toy.categories["garbage"].deadline == 24.0
    assert toy.categories["noise"].rate == 2 and toy.categories["noise"].deadline is None
    assert toy.workers.per_grid == 3 and toy.workers.speed_kmh == 5
    assert "extends" not in toy.raw
    assert toy.source == str(top)


def test_extends_list_merges_in_order(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: a\ncategories: {g: {rate: 1}}\n")
    write(tmp_path, "b.yaml", "name: b\n")
    top = write(tmp_path, "top.yaml", "extends: [a.yaml, b.yaml]\n")
    toy = load(top)
    assert toy.name == "b" and toy.categories["g"].rate == 1


def test_extends_cycle(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: c.yaml\n")
    write(tmp_path, "c.yaml", "extends: a.yaml\ncategories: {}\n")
    err = error_of(tmp_path / "a.yaml")
    assert err.problems[0].path == "extends"
    message = err.problems[0].message
    assert message.startswith("circular extends: ")
    assert message.count("a.yaml") == 2 and "b.yaml" in message and "c.yaml" in message
    assert err.source == str(tmp_path / "c.yaml")


def test_extends_self(tmp_path: Path) -> None:
    path = write(tmp_path, "self.yaml", "extends: self.yaml\n")
    assert error_of(path).problems[0].message.startswith("circular extends: ")


def test_extends_missing_parent(tmp_path: Path) -> None:
    path = write(tmp_path, "child.yaml", "extends: nowhere.yaml\n")
    err = error_of(path)
    assert err.source == str(path)
    [problem] = err.problems
    assert problem.path == "extends"
    # where it looked: the path resolved against the extending file's folder, then the presets
    assert problem.message.startswith(f"file not found: looked for {tmp_path / 'nowhere.yaml'} "
                                      f"(relative to the folder of {path}), and for a preset named "
                                      f"'nowhere': there is none")
    assert "(presets: " in problem.message and "smart_dispatch" in problem.message


def test_extends_parent_syntax_error_names_parent(tmp_path: Path) -> None:
    parent = write(tmp_path, "parent.yaml", "categories:\n  g: [1, 2\n")
    child = write(tmp_path, "child.yaml", "extends: parent.yaml\n")
    err = error_of(child)
    assert err.source == str(parent)
    assert str(err).startswith(f"{parent}: invalid YAML at line")


def test_extends_bad_value(tmp_path: Path) -> None:
    path = write(tmp_path, "child.yaml", "extends: {a: 1}\n")
    err = error_of(path)
    assert err.problems[0].path == "extends"
    assert err.problems[0].message.startswith("expected a file name or a list of file names")


def test_problems_after_extends_name_the_top_file(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", "categories: {g: {rate: -1}}\n")
    top = write(tmp_path, "top.yaml", "extends: base.yaml\nname: x\n")
    err = error_of(top)
    assert str(err) == f"{top}: categories.g.rate: expected a number >= 0, got -1"


# --------------------------------------------------------------------------- overrides


def test_overrides_replace_and_create(tmp_path: Path) -> None:
    path = write(tmp_path, "good.yaml", GOOD)
    toy = load(path, {
        "workers.per_grid": 4,
        "categories.garbage.rate": 1.5,
        "categories.noise.rate": 2,           # creates the mapping
        "workers.shifts[1].start": "15:00",  # list item
        "horizon": "3d",
    })
    assert toy.workers.per_grid == 4
    assert toy.categories["garbage"].rate == 1.5 and toy.categories["garbage"].deadline == 4.0
    assert toy.categories["noise"].rate == 2
    assert toy.workers.shifts[1].start == 15.0
    assert toy.horizon == 72.0
    assert toy.raw["workers"]["per_grid"] == 4


def test_override_unknown_key_is_caught_by_schema(tmp_path: Path) -> None:
    path = write(tmp_path, "good.yaml", GOOD)
    err = error_of(path, {"workers.per_gird": 2})
    assert err.source == str(path)
    assert err.problems == [Problem("workers.per_gird", "unknown key; did you mean 'per_grid'?")]


def test_override_invalid_walk() -> None:
    data = {"categories": {"g": {"rate": 1}}, "name": "x", "workers": {"shifts": [{}]}}
    with pytest.raises(ScenarioError) as info:
        load(data, {"name.first": 1, "workers.shifts[3].start": "08:00", "categories.g.rate": 2,
                    "workers.shifts.x": 1})
    err = info.value
    assert err.source == "--set"
    assert [p.path for p in err.problems] == ["name.first", "workers.shifts[3].start", "workers.shifts.x"]
    assert err.problems[0].message == "'name' is 'x' (str), not a mapping"
    assert "out of range" in err.problems[1].message
    assert "not a mapping" in err.problems[2].message


def test_override_through_null_creates_mapping() -> None:
    out = apply_overrides({"a": None}, {"a.b.c": 1})
    assert out == {"a": {"b": {"c": 1}}}


def test_overrides_do_not_leak_through_yaml_aliases(tmp_path: Path) -> None:
    path = write(tmp_path, "alias.yaml", """\
        categories:
          g: &cat {rate: 1}
          h: *cat
        """)
    toy = load(path, {"categories.g.rate": 5})
    assert toy.categories["g"].rate == 5 and toy.categories["h"].rate == 1


def test_parse_override() -> None:
    assert parse_override("workers.per_grid=2") == ("workers.per_grid", 2)
    assert parse_override(" name = hello world") == ("name", "hello world")
    assert parse_override("tags=[a, b]") == ("tags", ["a", "b"])
    assert parse_override("a.b={x: 1}") == ("a.b", {"x": 1})
    assert parse_override("expr=a=b") == ("expr", "a=b")
    assert parse_override("flag=true") == ("flag", True)
    assert parse_override("x=") == ("x", None)
    assert parse_override("horizon=2d") == ("horizon", "2d")
    assert parse_override("workers.shifts[0].start=8:00") == ("workers.shifts[0].start", "8:00")
    assert parse_override('name="123"') == ("name", "123")


@pytest.mark.parametrize("text", ["novalue", "=3", "a..b=1", "a.=1", "a b.c[x]=1"])
def test_parse_override_bad_form(text: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_override(text)
    assert info.value.source == "--set"
    assert str(info.value).startswith("--set: ")


def test_parse_override_bad_yaml_and_unsafe_tag() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_override("tags=[a, b")
    assert info.value.problems[0].path == "tags"
    assert "quote it" in info.value.problems[0].message
    with pytest.raises(ScenarioError):
        parse_override("name=!!python/object/apply:os.system ['echo hi']")


def test_parse_override_roundtrip_with_load() -> None:
    key, value = parse_override("categories.g.rate=7")
    toy = load({"categories": {"g": {"rate": 1}}}, {key: value})
    assert toy.categories["g"].rate == 7


# --------------------------------------------------------------------------- hashing


def test_scenario_hash(tmp_path: Path) -> None:
    h1 = scenario_hash({"a": 1, "b": {"c": [1, 2], "d": "x"}})
    h2 = scenario_hash({"b": {"d": "x", "c": [1, 2]}, "a": 1})
    assert h1 == h2 and len(h1) == 64
    assert scenario_hash({"a": 2, "b": {"c": [1, 2], "d": "x"}}) != h1
    assert scenario_hash({"a": 1, "b": {"c": [2, 1], "d": "x"}}) != h1


def test_hash_of_loaded_scenario_follows_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, "good.yaml", GOOD)
    a = load(path)
    b = load(path)
    c = load(path, {"workers.per_grid": 3})
    assert scenario_hash(a.raw) == scenario_hash(b.raw)
    assert scenario_hash(c.raw) != scenario_hash(a.raw)


def test_hash_handles_yaml_dates_and_int_keys() -> None:
    import datetime

    assert len(scenario_hash({"d": datetime.date(2024, 1, 31), 1: "x", "1b": 2})) == 64


def test_loader_uses_only_safe_yaml() -> None:
    source = Path(__file__).resolve().parents[1] / "govsim" / "scenario" / "loader.py"
    text = source.read_text(encoding="utf-8")
    assert "yaml.load(" not in text and "yaml.unsafe_load" not in text and "FullLoader" not in text


def test_default_schema_is_imported_lazily() -> None:
    import ast

    package = Path(__file__).resolve().parents[1] / "govsim" / "scenario"
    for name in ("__init__.py", "loader.py", "convert.py", "errors.py"):
        tree = ast.parse((package / name).read_text(encoding="utf-8"))
        for node in tree.body:  # module level only
            if isinstance(node, ast.ImportFrom):
                assert node.module != "govsim.scenario.schema", name
                assert not (node.module == "govsim.scenario" and any(a.name == "schema" for a in node.names))
            elif isinstance(node, ast.Import):
                assert all(a.name != "govsim.scenario.schema" for a in node.names), name
