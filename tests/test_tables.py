"""Table specifications: each core table of a run has exactly its spec's columns and dtypes;
the specs map to the records (Issue slots, the recorder's methods); read-back restores types."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

import govsim
from govsim.issues import Issue
from govsim.records import Recorder
from govsim.tables import (
    CORE_TABLES, FALSE_ALARMS, ISSUES, PATROLS, SESSIONS, STATIONS, TIME_USE, Column, TableSpec,
    sync_markdown,
)

RUNS = {  # disputes, stations and sessions; no stations; governance responders with roles
    "hongqi_mediation": ("scenarios/hongqi_mediation.yaml", "4d"),
    "smart_dispatch": ("scenarios/smart_dispatch.yaml", "2d"),
    "lujiazui_alliance": ("scenarios/lujiazui_alliance.yaml", "2d"),
}


@pytest.fixture(scope="module", params=list(RUNS))
def run(request):
    path, horizon = RUNS[request.param]
    return govsim.run(path, seed=5, overrides={"horizon": horizon})


def has_dtype(s: pd.Series, dtype: str) -> bool:
    if dtype == "category":
        return isinstance(s.dtype, pd.CategoricalDtype)
    if dtype == "str":  # text, or missing everywhere (None in an object column)
        return pd.api.types.is_string_dtype(s.dtype) or s.dtype == object
    return s.dtype == np.dtype(dtype)


def check_table(df: pd.DataFrame, spec: TableSpec) -> None:
    assert tuple(df.columns) == spec.names, spec.name
    wrong = {c.name: (str(df[c.name].dtype), c.dtype) for c in spec.columns if not has_dtype(df[c.name], c.dtype)}
    assert not wrong, f"{spec.name}: (dtype, spec) {wrong}"


def test_every_core_table_has_its_spec_columns_and_dtypes(run):
    for name, spec in CORE_TABLES.items():
        check_table(getattr(run, name), spec)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_tables_read_back_have_their_spec_dtypes(run, tmp_path, fmt):
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    run.to_dir(tmp_path, fmt=fmt)
    back = govsim.Result.from_dir(tmp_path)
    for name, spec in CORE_TABLES.items():
        df = getattr(back, name)
        assert tuple(df.columns) == spec.names
        for c in spec.columns:
            if c.dtype == "str":  # text read back from a CSV without any is float NaN
                continue
            assert has_dtype(df[c.name], c.dtype), (name, c.name, df[c.name].dtype)
        if name in ("issues", "time_use"):  # categories as in the run
            for c in spec.columns:
                if c.dtype == "category":
                    assert list(df[c.name].cat.categories) == list(getattr(run, name)[c.name].cat.categories)


def test_every_recorded_issue_column_is_an_issue_slot():
    """Each column read from the record names an attribute of Issue (Issue.__slots__ in pure
    Python; the compiled build's Issue is a native class, with its attributes but no __slots__)."""
    issue = Issue(0, 0, 0, 0, 3, 0.0, 1.0, 0.5)
    for spec in (ISSUES, FALSE_ALARMS):
        missing = [c.name for c in spec.recorded if not hasattr(issue, c.source)]
        assert not missing, f"{spec.name}: columns without an Issue slot: {missing}"
    assert {c.name for c in ISSUES.columns if c.derived} == {"community", "street"}


# the recorder's methods take the recorded columns in order; these arguments are named otherwise
ARGUMENT_ALIASES = {"n_visits": "visits", "issue": "issue_id"}


@pytest.mark.parametrize("method, getter, spec", [
    ("patrol_segment", "segments", PATROLS),
    ("time_use", "time_uses", TIME_USE),
    ("station_visit", "station_visits", SESSIONS),
])
def test_recorder_follows_the_specs(method, getter, spec):
    params = list(inspect.signature(getattr(Recorder, method)).parameters)[1:]
    assert [ARGUMENT_ALIASES.get(p, p) for p in params] == [c.source for c in spec.recorded]
    rec = Recorder()
    values = [1.5 if c.typecode == "d" else 1 for c in spec.recorded]
    getattr(rec, method)(*values)
    cols = getattr(rec, getter)()
    assert list(cols) == [c.source for c in spec.recorded]
    for c in spec.recorded:
        assert cols[c.source].dtype == np.dtype(c.record_dtype)


def test_empty_tables_are_typed():
    for spec in CORE_TABLES.values():
        check_table(spec.empty(), spec)
    assert list(TIME_USE.empty()["state"].cat.categories) == list(TIME_USE.column("state").categories)


def test_a_run_without_stations_has_typed_empty_station_tables():
    r = govsim.run("scenarios/smart_dispatch.yaml", seed=1, overrides={"horizon": "1d"})
    assert len(r.stations) == len(r.sessions) == 0
    check_table(r.stations, STATIONS)
    check_table(r.sessions, SESSIONS)


SPEC = TableSpec("demo", "thing", (
    Column("id", "int64", "the thing", field="key"),
    Column("kind", "category", "its kind", categories=("a", "b")),
    Column("size", "float64", "its size", "m"),
    Column("big", "bool", "size > 1", derived=True),
))


def test_frame_wants_exactly_the_columns():
    with pytest.raises(ValueError, match="missing columns \\['big'\\], unexpected \\['x'\\]"):
        SPEC.frame({"id": [1], "kind": ["a"], "size": [1.0], "x": [0]})


def test_from_records_maps_fields_codes_and_derived_columns():
    class Thing:
        def __init__(self, key, kind, size):
            self.key, self.kind, self.size = key, kind, size

    values = SPEC.read([Thing(7, 1, 2.5), Thing(8, -1, 0.5)])
    assert values["key"].dtype == np.int64 and values["kind"].dtype == np.int8
    df = SPEC.from_records(values, {"big": values["size"] > 1})
    assert df["id"].tolist() == [7, 8]
    assert df["kind"].tolist()[0] == "b" and pd.isna(df["kind"].tolist()[1])
    assert df["big"].tolist() == [True, False]
    check_table(df, SPEC)


def test_coerce_restores_types_of_a_table_read_back():
    read = pd.DataFrame({"id": pd.Series([], dtype=object), "kind": pd.Series([], dtype=object),
                         "size": pd.Series([], dtype=object), "big": pd.Series([], dtype=object)})
    check_table(SPEC.coerce(read), SPEC)
    dynamic = TableSpec("d", "d", (Column("c", "category", "scenario-given"),))
    out = dynamic.coerce(pd.DataFrame({"c": ["y", "x"]}), {"c": ["x", "y", "z"]})
    assert list(out["c"].cat.categories) == ["x", "y", "z"]


def test_column_checks_its_declaration():
    with pytest.raises(ValueError, match="not one of"):
        Column("a", "int32", "")
    with pytest.raises(ValueError, match="derived"):
        Column("a", "int64", "", field="b", derived=True)
    with pytest.raises(ValueError, match="categories"):
        Column("a", "str", "", categories=("x",))
    with pytest.raises(TypeError, match="typed array"):
        Column("a", "str", "").typecode  # noqa: B018


def test_markdown_and_marked_doc_tables():
    assert SPEC.markdown().splitlines()[2:4] == ["| `id` | int64 | the thing |", "| `kind` | category | its kind |"]
    doc = "x\n<!-- columns: demo -->\nstale\n<!-- end columns -->\ny\n"
    assert sync_markdown(doc, {"demo": SPEC}) == f"x\n<!-- columns: demo -->\n{SPEC.markdown()}\n<!-- end columns -->\ny\n"
    with pytest.raises(KeyError, match="no such table"):
        sync_markdown(doc)
