"""Sensitivity analysis (govsim.sensitivity): Morris and Sobol with SALib, the noise of the
simulation separated from the factors' effect, executors, the command line.

The analysis layer is tested on functions with known indices (fast, no simulation); the
whole chain on short simulations of the 36-grid preset. Tolerances are the confidence
intervals of the estimates, at a level fixed before looking: 95% over the checks of a test
(Bonferroni: each interval at 1 − 0.05/m for m checks).
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

import govsim
from govsim.cli import main
from govsim.experiments import ExperimentError
from govsim.experiments.designs import Factor
from govsim.experiments.sensitivity import analyse, noise_decomposition, sample

pytest.importorskip("SALib")

ROOT = Path(__file__).resolve().parents[1]
SMART = str(ROOT / "scenarios" / "smart_dispatch.yaml")
SHORT = {"horizon": "2d"}
#: keys smart_dispatch.yaml does not use for the metrics analysed here: a cost, and a parameter
#: of the resident app, which the preset does not deploy (channels.app.enabled is false)
NO_EFFECT = ("channels.sensors.cost_per_grid=0,1000", "channels.app.prob_scale=1.0,2.0")


def _level(checks: int) -> float:
    return 1.0 - 0.05 / checks


# --------------------------------------------------------------------------- analysis layer


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Analytic S1 and ST of the Ishigami function on [-π, π]³."""
    pi = math.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def test_sobol_recovers_the_ishigami_indices() -> None:
    s1, total = ishigami_indices()
    assert np.allclose(s1, [0.3139, 0.4424, 0.0], atol=1e-4)
    assert np.allclose(total, [0.5576, 0.4424, 0.2437], atol=1e-4)
    factors = [Factor(f"x{i}", -math.pi, math.pi) for i in (1, 2, 3)]
    unit, design = sample("sobol", factors, 1024, seed=7)
    assert unit.shape == (1024 * 5, 3) and design.shape == (1024 * 5, 3)
    assert design.to_numpy().min() >= -math.pi and design.to_numpy().max() <= math.pi
    indices, noise, second = analyse("sobol", factors, unit, {"y": ishigami(design.to_numpy())},
                                     confidence=_level(6), seed=7)
    assert second is None
    t = indices.set_index("factor")
    for name, want_s1, want_st in zip(t.index, s1, total):
        assert abs(t.at[name, "S1"] - want_s1) <= t.at[name, "S1_conf"], name
        assert abs(t.at[name, "ST"] - want_st) <= t.at[name, "ST_conf"], name
    assert t["S1_conf"].max() < 0.1  # intervals narrow enough for the check to mean something
    assert noise.loc[0, "note"].startswith("one replication per point")
    assert t["above_noise"].isna().all()  # no noise estimate: not claimed either way


def test_sobol_second_order_of_ishigami() -> None:
    """The only interaction of Ishigami is x1·x3: S2 = V13 / V; the other pairs are 0."""
    factors = [Factor(f"x{i}", -math.pi, math.pi) for i in (1, 2, 3)]
    unit, design = sample("sobol", factors, 1024, seed=8, second_order=True)
    assert unit.shape == (1024 * 8, 3)
    _, _, second = analyse("sobol", factors, unit, {"y": ishigami(design.to_numpy())},
                           second_order=True, confidence=_level(3), seed=8)
    assert second is not None
    s1, total = ishigami_indices()
    want = {("x1", "x2"): 0.0, ("x1", "x3"): total[0] - s1[0], ("x2", "x3"): 0.0}
    for _, row in second.iterrows():
        assert abs(row["S2"] - want[(row["factor_a"], row["factor_b"])]) <= row["S2_conf"]


def test_morris_elementary_effects_are_changes_over_the_full_range() -> None:
    """A linear function: every elementary effect is the change over the factor's range, exactly,
    also for whole-number factors whose values do not fall on the Morris grid."""
    factors = [Factor("a", 0.0, 2.0), Factor("b", 1, 3, integer=True), Factor("c", 0, 1, integer=True),
               Factor("d", 10.0, 20.0)]
    unit, design = sample("morris", factors, 12, seed=3)
    assert unit.shape == (12 * 5, 4)
    x = design.to_numpy(dtype=float)
    y = 3.0 * x[:, 0] - 2.0 * x[:, 1] + 1.0 * x[:, 2] + 0.0 * x[:, 3]
    t = analyse("morris", factors, unit, {"y": y}, seed=3)[0].set_index("factor")
    assert np.allclose(t["mu_star"], [6.0, 4.0, 1.0, 0.0])  # 3·2, 2·(3−1), 1·(1−0), 0
    assert np.allclose(t["mu"], [6.0, -4.0, 1.0, 0.0])
    assert np.allclose(t["sigma"], 0.0, atol=1e-9)


def g_function(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Sobol's G-function: a factor matters less the larger its a."""
    return np.prod((np.abs(4 * x - 2) + a) / (1 + a), axis=1)


def test_morris_ranks_the_g_function_factors() -> None:
    a = np.array([0.0, 1.0, 4.5, 9.0, 99.0])
    factors = [Factor(f"x{i}", 0.0, 1.0) for i in range(5)]
    unit, design = sample("morris", factors, 40, seed=11)
    t = analyse("morris", factors, unit, {"g": g_function(design.to_numpy(), a)}, seed=11)[0]
    assert t.sort_values("mu_star", ascending=False)["factor"].tolist() == [f"x{i}" for i in range(5)]
    # the first three are told apart by their intervals, not only by their estimates
    mu, conf = t["mu_star"].to_numpy(), t["mu_star_conf"].to_numpy()
    assert all(mu[i] - conf[i] > mu[i + 1] + conf[i + 1] for i in range(2))


# --------------------------------------------------------------------------- the noise


def _noisy_runs(y: np.ndarray, r: int, common_sd: float, own_sd: float, seed: int) -> np.ndarray:
    """Runs of a noisy model at the points: replication i adds a noise c_i common to every point
    (what common random numbers share) and an own noise u independent from point to point."""
    rng = np.random.default_rng(seed)
    return y[:, None] + rng.normal(0, common_sd, r)[None, :] + rng.normal(0, own_sd, (len(y), r))


def test_noise_decomposition_finds_the_noise_common_random_numbers_leave() -> None:
    """The point × replication mean square estimates the own noise (σ² = 0.25), not the
    common one: SS/σ² is χ² with (P−1)(R−1) degrees of freedom."""
    p, r, own = 400, 3, 0.5
    y = np.linspace(0.0, 10.0, p)
    runs = _noisy_runs(y, r, common_sd=2.0, own_sd=own, seed=5)
    out = noise_decomposition(runs)
    df = (p - 1) * (r - 1)
    lo, hi = st.chi2.ppf([0.025, 0.975], df) / df * own**2
    assert lo <= out["crn_noise_var"] <= hi
    # within a point, the common noise is there too: the pooled variance of the replications
    assert out["noise_var"] == pytest.approx(np.var(runs, axis=1, ddof=1).mean())
    assert out["noise_var"] > hi
    assert out["point_means_var"] == pytest.approx(np.var(runs.mean(axis=1), ddof=1))
    assert out["noise_share"] == pytest.approx(out["crn_noise_var"] / r / out["point_means_var"])
    signal = out["point_means_var"] - out["crn_noise_var"] / r
    assert out["noise_share_without_crn"] == pytest.approx(
        out["noise_var"] / r / (signal + out["noise_var"] / r))
    one = noise_decomposition(runs[:, :1])
    assert math.isnan(one["crn_noise_var"]) and math.isnan(one["noise_share"])


def test_sobol_noise_floor_is_the_total_index_of_a_noise_only_dummy() -> None:
    """A linear model (variance shares 4:1) with noise, plus a dummy factor the model ignores but
    whose runs carry their own noise: the dummy's ST is what noise alone gives, and it matches
    the floor estimated from the replications; its S1 is 0; the real factors' S1 are their
    shares of the variance of the point means."""
    r, own = 2, 0.25
    factors = [Factor("x1", 0.0, 1.0), Factor("x2", 0.0, 1.0), Factor("dummy", 0.0, 1.0)]
    unit, design = sample("sobol", factors, 1024, seed=21)
    x = design.to_numpy()
    runs = _noisy_runs(2.0 * x[:, 0] + 1.0 * x[:, 1], r, common_sd=1.0, own_sd=own, seed=22)
    indices, noise, _ = analyse("sobol", factors, unit, {"y": runs}, confidence=_level(5), seed=21)
    t = indices.set_index("factor")
    total = 4 / 12 + 1 / 12 + own**2 / r  # variance of the point means: the factors' + noise
    assert abs(t.at["x1", "S1"] - (4 / 12) / total) <= t.at["x1", "S1_conf"]
    assert abs(t.at["x2", "S1"] - (1 / 12) / total) <= t.at["x2", "S1_conf"]
    assert abs(t.at["dummy", "S1"]) <= t.at["dummy", "S1_conf"]
    floor = noise.loc[0, "floor"]
    assert floor == pytest.approx(noise.loc[0, "noise_share"])
    assert abs(t.at["dummy", "ST"] - floor) <= t.at["dummy", "ST_conf"]
    assert abs(floor - own**2 / r / total) <= t.at["dummy", "ST_conf"]
    assert t["above_noise"].tolist() == [True, True, False]


def test_morris_noise_floor_is_the_mu_star_of_a_noise_only_dummy() -> None:
    r, own = 2, 0.2
    factors = [Factor("x1", 0.0, 1.0), Factor("n", 1, 3, integer=True), Factor("dummy", 0.0, 1.0)]
    unit, design = sample("morris", factors, 200, seed=31)
    x = design.to_numpy(dtype=float)
    runs = _noisy_runs(1.0 * x[:, 0] + 0.5 * x[:, 1], r, common_sd=1.0, own_sd=own, seed=32)
    indices, noise, _ = analyse("morris", factors, unit, {"y": runs}, confidence=_level(3), seed=31)
    t = indices.set_index("factor")
    assert abs(t.at["dummy", "mu_star"] - t.at["dummy", "noise_floor"]) <= t.at["dummy", "mu_star_conf"]
    # the floor from the known noise: E|N(0, 2σ²/R)| / Δ with Δ = 2/3 (4 levels)
    exact = 2 / math.sqrt(math.pi) * own / math.sqrt(r) / (2 / 3)
    assert abs(t.at["dummy", "noise_floor"] - exact) <= t.at["dummy", "mu_star_conf"]
    assert abs(t.at["x1", "mu_star"] - 1.0) <= t.at["x1", "mu_star_conf"] + t.at["x1", "noise_floor"]
    assert t["above_noise"].tolist() == [True, True, False]
    assert noise.loc[0, "floor"] == pytest.approx(t["noise_floor"].max())


def test_undefined_and_constant_metrics_get_no_indices() -> None:
    factors = [Factor("x1", 0.0, 1.0), Factor("x2", 0.0, 1.0)]
    unit, _ = sample("sobol", factors, 8, seed=1)
    values = {"constant": np.ones((len(unit), 2)), "hole": np.r_[np.nan, np.arange(len(unit) - 1.0)]}
    indices, noise, _ = analyse("sobol", factors, unit, values, seed=1)
    assert indices[["S1", "ST"]].isna().all().all()
    notes = noise.set_index("metric")["note"]
    assert "the same at every point" in notes["constant"]
    assert notes["hole"] == "undefined at 1 of 32 points: no indices"


@pytest.mark.parametrize(("call", "expected"), [
    (lambda: sample("fast", ["x=0,1"], 4), "unknown method 'fast'"),
    (lambda: sample("morris", ["x=0,1"], 1), "n (Morris trajectories or Sobol base points)"),
    (lambda: sample("morris", ["x=0,1"], 4, levels=5), "levels must be even"),
    (lambda: sample("morris", ["x=0,1", "x=1,2"], 4), "factor x is given twice"),
    (lambda: sample("sobol", [], 4), "at least one factor"),
    (lambda: sample("sobol", ["x=1"], 4), "expected KEY=LOW,HIGH"),
    (lambda: govsim.sensitivity(SMART, ["workers.dwell=1min,5min"], metrics=["speed"]),
     "unknown metric 'speed'"),
    (lambda: govsim.sensitivity(SMART, ["workers.dwell=1min,5min"], replications=0), "n (replications)"),
])
def test_bad_input_is_one_clear_error(call, expected) -> None:
    with pytest.raises(ExperimentError) as err:
        call()
    assert expected in str(err.value)


def test_sample_is_reproducible_and_sobol_rounds_to_a_power_of_two() -> None:
    a, design = sample("sobol", ["x=0,1", "workers.per_grid=1,3"], 5, seed=4)
    b, _ = sample("sobol", ["x=0,1", "workers.per_grid=1,3"], 5, seed=4)
    c, _ = sample("sobol", ["x=0,1", "workers.per_grid=1,3"], 5, seed=5)
    assert a.shape == (8 * 4, 2) and np.array_equal(a, b) and not np.array_equal(a, c)
    assert set(design["workers.per_grid"]) <= {1, 2, 3}


def test_missing_salib_names_the_extra(monkeypatch) -> None:
    for name in [m for m in sys.modules if m == "SALib" or m.startswith("SALib.")] or ["SALib"]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r'pip install "govsim\[sensitivity\]"'):
        sample("morris", ["x=0,1"], 4)


# --------------------------------------------------------------------------- on the simulation


def test_parameters_without_effect_get_indices_that_contain_zero() -> None:
    """On short runs of the preset: a cost and a parameter of a channel that is off move nothing
    (their points are the same runs: common random numbers), while worker numbers do."""
    factors = ["workers.per_grid=1,2", *NO_EFFECT]
    metrics = ["resolution_time_mean", "worker_utilisation"]
    sob = govsim.sensitivity(SMART, factors, method="sobol", n=8, replications=2, seed=5,
                             metrics=metrics, overrides=SHORT, jobs=1, progress=False)
    mor = govsim.sensitivity(SMART, factors, method="morris", n=4, replications=2, seed=5,
                             metrics=metrics, overrides=SHORT, jobs=1, progress=False)
    assert sob.points == 8 * 5 and sob.replications == 2 and len(sob.sweep.runs) == 80
    for key in (f.split("=")[0] for f in NO_EFFECT):
        for m in metrics:
            s, r = sob.metric(m).loc[key], mor.metric(m).loc[key]
            assert s["S1"] - s["S1_conf"] <= 0 <= s["S1"] + s["S1_conf"]
            assert s["ST"] - s["ST_conf"] <= 0 <= s["ST"] + s["ST_conf"]
            assert r["mu_star"] - r["mu_star_conf"] <= 0
            assert not s["above_noise"] and not r["above_noise"]
    for m in metrics:  # the test can fail: the real factor stands out of the noise
        assert sob.metric(m).loc["workers.per_grid", "above_noise"]
        assert mor.metric(m).loc["workers.per_grid", "above_noise"]
    text = sob.to_string()
    assert text.startswith("smart_dispatch: Sobol indices: Saltelli sample, N = 8 base points")
    assert "80 runs" in text and "the simulation noise is" in text and "cannot be told from noise" in text
    noise = sob.noise.set_index("metric")
    assert (noise["noise_share"] > 0).all() and (noise["noise_share"] < 0.5).all()


def test_results_are_identical_across_executors() -> None:
    distributed = pytest.importorskip("dask.distributed")
    kwargs = dict(method="morris", n=2, replications=2, seed=9, overrides={"horizon": "1d"},
                  progress=False)
    factors = ["workers.per_grid=1,2", "workers.dwell=1min,5min"]
    seq = govsim.sensitivity(SMART, factors, executor="sequential", **kwargs)
    par = govsim.sensitivity(SMART, factors, jobs=2, **kwargs)
    assert seq.info["executor"].startswith("sequential") and par.info["executor"].startswith("processes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            dask = govsim.sensitivity(SMART, factors, executor=client, **kwargs)
    for other in (par, dask):
        pd.testing.assert_frame_equal(seq.indices, other.indices, check_exact=True)
        pd.testing.assert_frame_equal(seq.noise, other.noise, check_exact=True)
        pd.testing.assert_frame_equal(seq.sweep.runs, other.sweep.runs, check_exact=True)


# --------------------------------------------------------------------------- command line


def test_cli_writes_the_tables_and_the_figure_and_resumes(tmp_path, capsys) -> None:
    out = tmp_path / "sens"
    argv = ["sensitivity", SMART, "--param", "workers.per_grid=1,2", "--param", NO_EFFECT[0],
            "--method", "sobol", "-n", "4", "--replications", "2", "--set", "horizon=1d",
            "--seed", "2", "--metric", "worker_utilisation", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert "Sobol indices" in first and "worker_utilisation: the simulation noise is" in first
    assert (out / "sensitivity.png").stat().st_size > 10_000
    indices = pd.read_csv(out / "indices.csv")
    assert indices["factor"].tolist() == ["workers.per_grid", "channels.sensors.cost_per_grid"]
    assert (out / "noise.csv").exists() and (out / "runs.csv").exists()
    assert main(argv) == 0  # the same command again: every run is reused
    second = capsys.readouterr().out
    assert "(0 runs computed" in second
    assert first.split("\n\n")[:2] == second.split("\n\n")[:2]  # the same tables


@pytest.mark.parametrize(("extra", "expected"), [
    (["--param", "workers.per_grid"], "expected KEY=LOW,HIGH"),
    (["--param", "workers.per_grid=1,two"], "is neither a number"),
    (["--param", "workers.per_gird=1,2"], "did you mean 'per_grid'"),
    (["--param", "workers.per_grid=1,2", "--metric", "speed"], "unknown metric"),
    (["--param", "workers.per_grid=1,2", "--method", "fast"], "unknown method"),
    ([], "at least one --param"),
])
def test_cli_bad_input_exits_2_with_one_line(extra, expected, capsys) -> None:
    assert main(["sensitivity", SMART, "--set", "horizon=1d", "-n", "2", "--jobs", "1", "--quiet",
                 *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err
    assert err.strip().count("\n") == 0 and "Traceback" not in err
