"""Experimental designs: factors, Latin hypercube and Sobol samples, design tables, and sweeps
that run any design with common random numbers (issue 13)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import qmc

import govsim
from govsim.cli import main
from govsim.experiments import ExperimentError
from govsim.experiments.designs import (
    Factor,
    full_factorial,
    latin_hypercube,
    parse_factor,
    read_design,
    sobol_design,
    unit_design,
)

SCENARIO = "scenarios/smart_dispatch.yaml"
SHORT = {"horizon": "1d"}


# --------------------------------------------------------------------------- factors


def test_parse_factor_kinds() -> None:
    f = parse_factor("workers.per_grid=1,4")
    assert (f.key, f.low, f.high, f.integer, f.unit) == ("workers.per_grid", 1, 4, True, "")
    g = parse_factor("channels.reports.prob_scale=0.5,1.5")
    assert not g.integer and (g.low, g.high) == (0.5, 1.5)
    h = parse_factor("report_delay.mean = 10min , 60min")
    assert (h.key, h.low, h.high, h.unit, h.integer) == ("report_delay.mean", 10, 60, "min", False)
    assert not parse_factor("workers.per_grid=1.0,4.0").integer  # written as floats: continuous


@pytest.mark.parametrize("text, words", [
    ("workers.per_grid", "KEY=LOW,HIGH"),
    ("workers.per_grid=1", "KEY=LOW,HIGH"),
    ("workers.per_grid=1,2,3", "KEY=LOW,HIGH"),
    ("workers.per_grid=4,1", "must be below"),
    ("workers.per_grid=2,2", "must be below"),
    ("x=10min,2h", "same unit"),
    ("x=a,b", "neither a number"),
    ("x=true,false", "not a number"),
    ("x=.inf,1", "finite"),
])
def test_parse_factor_errors(text: str, words: str) -> None:
    with pytest.raises(ExperimentError, match=words):
        parse_factor(text)


def test_integer_factor_levels_are_equally_likely() -> None:
    """u uniform on [0, 1] gives each whole number from low to high with probability 1/levels:
    on an exact grid of 4,000 positions, each of the 4 levels gets exactly 1,000."""
    f = Factor("workers.per_grid", 1, 4, integer=True)
    u = (np.arange(4000) + 0.5) / 4000
    values, counts = np.unique(f.number(u), return_counts=True)
    assert values.tolist() == [1, 2, 3, 4] and counts.tolist() == [1000] * 4
    assert f.number(np.array([0.0, 1.0])).tolist() == [1, 4]  # the ends map inside the range


def test_unit_design_maps_columns() -> None:
    fs = [parse_factor("workers.per_grid=1,3"), parse_factor("x.y=0,10"), parse_factor("d=0min,60min")]
    d = unit_design(fs, np.array([[0.0, 0.5, 0.25], [0.999, 1.0, 1.0]]))
    assert d["workers.per_grid"].tolist() == [1, 3]
    assert d["workers.per_grid"].dtype == np.int64
    assert d["x.y"].tolist() == [5.0, 10.0]
    assert d["d"].tolist() == ["15.0min", "60.0min"]
    with pytest.raises(ExperimentError, match="shape"):
        unit_design(fs, np.zeros((2, 2)))


# --------------------------------------------------------------------------- designs


def test_latin_hypercube_one_point_per_slice_and_seeded() -> None:
    fs = ["a=0.0,1.0", "b=10.0,20.0"]  # whole-number ends would make integer factors
    d = latin_hypercube(fs, 50, seed=3)
    assert len(d) == 50
    for key, (lo, hi) in {"a": (0, 1), "b": (10, 20)}.items():
        slices = np.floor((d[key].to_numpy() - lo) / (hi - lo) * 50).astype(int)
        assert sorted(slices.tolist()) == list(range(50))  # the Latin property
    pd.testing.assert_frame_equal(d, latin_hypercube(fs, 50, seed=3))
    assert not d.equals(latin_hypercube(fs, 50, seed=4))


def test_sobol_design_is_balanced_and_rounds_to_power_of_two() -> None:
    d = sobol_design(["a=0.0,1.0", "b=0.0,1.0"], 100, seed=1)
    assert len(d) == 128
    # a scrambled Sobol sample has lower discrepancy than independent uniforms of the same size
    rng = np.random.default_rng(1)
    assert qmc.discrepancy(d.to_numpy()) < qmc.discrepancy(rng.random((128, 2)))
    # balance: each half of each axis holds exactly half of the points
    assert ((d.to_numpy() < 0.5).sum(axis=0) == 64).all()


def test_full_factorial_order() -> None:
    d = full_factorial({"a": [1, 2], "b": ["x", "y", "z"]})
    assert d.to_dict(orient="list") == {"a": [1, 1, 1, 2, 2, 2], "b": ["x", "y", "z"] * 2}


def test_read_design_csv(tmp_path) -> None:
    f = tmp_path / "design.csv"
    f.write_text("workers.per_grid,channels.reports.prob_scale,policy,report_delay.mean\n"
                 "1,0.5,smart_dispatch,30min\n2,1.0,traditional_patrol,1h\n", encoding="utf-8")
    d = read_design(f)
    assert d["workers.per_grid"].tolist() == [1, 2]
    assert d["channels.reports.prob_scale"].tolist() == [0.5, 1.0]
    assert d["policy"].tolist() == ["smart_dispatch", "traditional_patrol"]
    assert d["report_delay.mean"].tolist() == ["30min", "1h"]


@pytest.mark.parametrize("text, words", [
    ("", "no columns|not a readable CSV"),
    ("a,b\n", "no rows"),
    ("a,a\n1,2\n", "appears twice"),
    ("a,\n1,2\n", "column 2 has no name"),
    ("a,b\n1,2\n3,\n", "line 3, column 'b': empty"),
    ("a,b\n1,nan\n", "line 2, column 'b': empty or non-finite"),
    ("a\n1,2\n", "not a readable CSV"),
])
def test_read_design_errors_name_file_line_and_column(tmp_path, text: str, words: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ExperimentError, match=words) as err:
        read_design(f)
    assert str(f) in str(err.value)


def test_read_design_binary_and_missing(tmp_path) -> None:
    f = tmp_path / "bin.csv"
    f.write_bytes(b"\xff\xfe\x00a\x00,\x00b")
    with pytest.raises(ExperimentError, match="UTF-8"):
        read_design(f)
    with pytest.raises(ExperimentError, match="not found"):
        read_design(tmp_path / "nope.csv")
    with pytest.raises(ExperimentError, match="row 1, column 'a'"):
        read_design(pd.DataFrame({"a": [1.0, np.inf]}))


# --------------------------------------------------------------------------- sweeps of designs


def test_sweep_of_a_design_equals_the_full_factorial_on_the_same_points() -> None:
    """A design table holding the full factorial's points gives the same runs (CRN: the same seeds
    at every point, whichever way the points were given)."""
    levels = {"workers.per_grid": [1, 2], "channels.reports.prob_scale": [0.5, 1.0]}
    a = govsim.sweep(SCENARIO, levels, n=2, seed=5, overrides=SHORT, executor="sequential")
    b = govsim.sweep(SCENARIO, design=full_factorial(levels), n=2, seed=5, overrides=SHORT,
                     executor="sequential")
    pd.testing.assert_frame_equal(a.runs, b.runs)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.factorial and not b.factorial


def test_identical_points_run_once_and_agree() -> None:
    design = pd.DataFrame({"workers.per_grid": [1, 2, 1]})
    s = govsim.sweep(SCENARIO, design=design, n=2, seed=5, overrides=SHORT, executor="sequential")
    assert s.info["computed"] == 4  # 2 distinct points × 2 replications, not 6
    r = s.runs.set_index(["point", "replication"]).drop(columns=["workers.per_grid"])
    pd.testing.assert_frame_equal(r.loc[0], r.loc[2])
    assert s.metric("n_issues").index.name == "point"  # repeated combination: indexed by point


def test_design_sweep_store_resumes_and_writes_one_parquet(tmp_path) -> None:
    design = latin_hypercube(["workers.per_grid=1,3", "channels.reports.prob_scale=0.5,1.5"], 3, seed=2)
    out = tmp_path / "store"
    first = govsim.sweep(SCENARIO, design=design, n=2, seed=5, overrides=SHORT, out=out,
                         executor="sequential")
    again = govsim.sweep(SCENARIO, design=design, n=2, seed=5, overrides=SHORT, out=out,
                         executor="sequential")
    assert again.info["computed"] == 0 and again.info["reused"] == 6
    pd.testing.assert_frame_equal(first.runs, again.runs)
    pytest.importorskip("pyarrow")
    back = pd.read_parquet(out / "runs.parquet")
    assert len(back) == 6 and list(back.columns) == list(first.runs.columns)
    assert np.allclose(back["n_issues"], first.runs["n_issues"])
    other = latin_hypercube(["workers.per_grid=1,3", "channels.reports.prob_scale=0.5,1.5"], 3, seed=9)
    with pytest.raises(ExperimentError, match="another experiment"):
        govsim.sweep(SCENARIO, design=other, n=2, seed=5, overrides=SHORT, out=out,
                     executor="sequential")


def test_bad_design_point_names_the_design_row_and_key() -> None:
    with pytest.raises(ExperimentError, match=r"the design, point 1 .*workers.per_grid"):
        govsim.sweep(SCENARIO, design=pd.DataFrame({"workers.per_grid": [1, -2]}), n=1,
                     overrides=SHORT)
    with pytest.raises(ExperimentError, match="not both"):
        govsim.sweep(SCENARIO, {"workers.per_grid": [1]}, design=pd.DataFrame({"a": [1]}))
    with pytest.raises(ExperimentError, match="either params"):
        govsim.sweep(SCENARIO)


def test_to_xarray_factorial_and_sampled() -> None:
    xr = pytest.importorskip("xarray")
    f = govsim.sweep(SCENARIO, {"workers.per_grid": [1, 2]}, n=2, seed=5, overrides=SHORT,
                     executor="sequential")
    ds = f.to_xarray()
    assert isinstance(ds, xr.Dataset)
    assert dict(ds.sizes) == {"workers.per_grid": 2, "replication": 2}
    assert float(ds["n_issues"].sel({"workers.per_grid": 2, "replication": 1})) == float(
        f.runs.query("`workers.per_grid` == 2 and replication == 1")["n_issues"].iloc[0])
    s = govsim.sweep(SCENARIO, design=latin_hypercube(["workers.per_grid=1,3"], 3, seed=1), n=2,
                     seed=5, overrides=SHORT, executor="sequential")
    ds = s.to_xarray()
    assert dict(ds.sizes) == {"point": 3, "replication": 2}
    assert ds["workers.per_grid"].dims == ("point",)


def test_cli_sweep_lhs_sobol_and_design(tmp_path, capsys) -> None:
    base = [SCENARIO, "--set", "horizon=1d", "-n", "2", "--jobs", "1", "--quiet"]
    assert main(["sweep", *base, "--lhs", "3", "--param", "workers.per_grid=1,3"]) == 0
    assert "sweep of 3 points" in capsys.readouterr().out
    assert main(["sweep", *base, "--sobol", "3", "--param", "workers.per_grid=1,3"]) == 0
    assert "sweep of 4 points" in capsys.readouterr().out
    f = tmp_path / "d.csv"
    f.write_text("workers.per_grid\n1\n2\n", encoding="utf-8")
    assert main(["sweep", *base, "--design", str(f)]) == 0
    assert "sweep of 2 points" in capsys.readouterr().out
    for bad, words in [(["--lhs", "3", "--param", "workers.per_grid=1"], "KEY=LOW,HIGH"),
                       (["--lhs", "3", "--sobol", "4", "--param", "a=1,2"], "one of --lhs"),
                       (["--design", str(f), "--lhs", "2"], "--design FILE"),
                       (["--design", str(tmp_path / "x.csv")], "not found")]:
        assert main(["sweep", *base, *bad]) == 2
        assert words in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["sweep", *base, "--seed", "-1", "--param", "workers.per_grid=1,2"])
    assert exit_.value.code == 2


def test_plot_of_a_design_store(tmp_path, capsys) -> None:
    """`govsim plot` on the store of a sampled design draws the curves of its one or two keys,
    and refuses more with a clear message (it once ended in an IndexError)."""
    base = [SCENARIO, "--set", "horizon=12h", "-n", "1", "--jobs", "1", "--quiet"]
    one, three = tmp_path / "one", tmp_path / "three"
    assert main(["sweep", *base, "--lhs", "3", "--param", "workers.per_grid=1,3", "--out", str(one)]) == 0
    assert main(["plot", str(one), "--out", str(tmp_path / "f1")]) == 0
    assert (tmp_path / "f1" / "sweep_curves.png").exists()
    assert main(["sweep", *base, "--lhs", "3", "--param", "workers.per_grid=1,3",
                 "--param", "channels.reports.prob_scale=0.5,1.0",
                 "--param", "workers.speed_kmh=3.0,5.0", "--out", str(three)]) == 0
    capsys.readouterr()
    assert main(["plot", str(three), "--out", str(tmp_path / "f3")]) == 2
    assert "varies 3 keys" in capsys.readouterr().err
