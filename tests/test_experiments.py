"""Replications, paired comparisons, sweeps, seeds, statistics, executors and the results store."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

import govsim
from govsim.engine import Simulation
from govsim.experiments import (
    ExperimentError,
    ProcessExecutor,
    SequentialExecutor,
    load_runs,
    paired_differences,
    replication_seed,
    t_interval,
)
from govsim.experiments.executors import make_executor
from govsim.experiments.stats import AGG_COLUMNS
from govsim.metrics import SUMMARY_KEYS

ROOT = Path(__file__).resolve().parents[1]
TRAD = str(ROOT / "scenarios" / "traditional_patrol.yaml")
SMART = str(ROOT / "scenarios" / "smart_dispatch.yaml")
SHORT = {"horizon": "2d"}
PARAMS = {"workers.per_grid": [1, 2], "policy": ["traditional_patrol", "smart_dispatch"]}


# --------------------------------------------------------------------------- seeds


def test_replication_seed_is_the_spawned_child() -> None:
    children = np.random.SeedSequence(2026).spawn(5)
    for i, child in enumerate(children):
        mine = replication_seed(2026, i)
        assert mine.spawn_key == child.spawn_key == (i,)
        assert np.array_equal(mine.generate_state(8), child.generate_state(8))
    assert not np.array_equal(replication_seed(2026, 0).generate_state(4),
                              replication_seed(2026, 1).generate_state(4))
    with pytest.raises(ValueError):
        replication_seed(-1, 0)
    with pytest.raises(ValueError):
        replication_seed(1, 1.5)


def test_a_replication_is_the_simulation_with_its_seed() -> None:
    rep = govsim.replicate(SMART, n=2, seed=7, overrides=SHORT, warmup="1d", executor="sequential")
    scenario = govsim.load_scenario(SMART, overrides={**SHORT, "warmup": "1d"})
    for i in range(2):
        summary = Simulation(scenario, replication_seed(7, i)).run().summary()
        assert rep.runs.loc[i, list(SUMMARY_KEYS)].tolist() == pytest.approx(summary.tolist(), nan_ok=True)


# --------------------------------------------------------------------------- statistics


def test_t_interval_by_hand() -> None:
    ci = t_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    sd = math.sqrt(2.5)
    half = st.t.ppf(0.975, 4) * sd / math.sqrt(5)
    assert ci["mean"] == 3.0 and ci["n"] == 5
    assert ci["sd"] == pytest.approx(sd)
    assert ci["half_width"] == pytest.approx(half)
    assert (ci["ci_low"], ci["ci_high"]) == pytest.approx((3.0 - half, 3.0 + half))
    assert t_interval([1, 2, 3, 4, 5], confidence=0.9)["half_width"] < half


def test_t_interval_nan_and_single_value() -> None:
    ci = t_interval([4.0, math.nan, 6.0])
    assert ci["n"] == 2 and ci["mean"] == 5.0
    one = t_interval([3.0])
    assert one["n"] == 1 and one["mean"] == 3.0
    assert all(math.isnan(one[k]) for k in ("sd", "ci_low", "ci_high", "half_width"))
    none = t_interval([math.nan])
    assert none["n"] == 0 and math.isnan(none["mean"])
    const = t_interval([2.0, 2.0, 2.0])
    assert const["ci_low"] == const["ci_high"] == 2.0


def test_paired_differences() -> None:
    a = pd.DataFrame({"replication": [0, 1, 2, 3], "x": [1.0, 2.0, 3.0, 4.0], "y": [5.0, 5, 5, 5],
                      "z": [1.0, 2.0, 3.0, 4.0]})
    b = pd.DataFrame({"replication": [0, 1, 2, 3], "x": [2.0, 3.1, 3.9, 5.0], "y": [5.0, 5, 5, 5],
                      "z": [1.5, 1.0, 3.5, 4.2]})
    t = paired_differences(a, b, ["x", "y", "z"]).set_index("metric")
    d = np.array([1.0, 1.1, 0.9, 1.0])
    assert t.loc["x", "difference"] == pytest.approx(d.mean())
    assert t.loc["x", "half_width"] == pytest.approx(st.t.ppf(0.975, 3) * d.std(ddof=1) / 2)
    assert t.loc["x", "significant"] and t.loc["x", "change"] == pytest.approx(1.0 / 2.5)
    assert t.loc["y", "difference"] == 0 and not t.loc["y", "significant"]
    assert not t.loc["z", "significant"]  # differences of both signs
    single = paired_differences(a.iloc[:1], b.iloc[:1], ["x"]).iloc[0]
    assert single["n"] == 1 and math.isnan(single["ci_low"]) and not single["significant"]


# --------------------------------------------------------------------------- replicate


def test_replicate_table_and_runs() -> None:
    rep = govsim.replicate(SMART, n=3, seed=1, overrides=SHORT, executor="sequential")
    assert list(rep.table.columns) == list(AGG_COLUMNS)
    assert rep.table["metric"].tolist() == list(SUMMARY_KEYS)
    assert list(rep.runs.columns) == ["replication", *SUMMARY_KEYS]
    assert rep.runs["replication"].tolist() == [0, 1, 2]
    row = rep.table.set_index("metric").loc["resolution_time_mean"]
    ci = t_interval(rep.runs["resolution_time_mean"])
    assert row["mean"] == ci["mean"] and row["ci_low"] == ci["ci_low"] and row["n"] == 3
    assert rep.interval("resolution_time_mean") == (ci["ci_low"], ci["ci_high"])
    text = rep.to_string()
    assert "smart_dispatch: 3 replications" in text and "ci_low" in text and "half_width" in text
    assert repr(rep) == text


def test_replicate_n1_has_no_intervals() -> None:
    rep = govsim.replicate(SMART, n=1, seed=1, overrides=SHORT)
    assert rep.info["executor"].startswith("sequential")
    assert rep.table["ci_low"].isna().all() and (rep.table["n"] <= 1).all()
    assert "no confidence intervals" in rep.to_string()


def test_warmup_is_excluded() -> None:
    full = govsim.replicate(SMART, n=2, seed=3, overrides=SHORT, executor="sequential")
    late = govsim.replicate(SMART, n=2, seed=3, overrides=SHORT, warmup="1d", executor="sequential")
    hours = govsim.replicate(SMART, n=2, seed=3, overrides=SHORT, warmup=24, executor="sequential")
    pd.testing.assert_frame_equal(late.runs, hours.runs)
    assert (late.runs["n_issues"] < full.runs["n_issues"]).all()
    assert late.scenario.warmup == 24.0
    with pytest.raises(govsim.ScenarioError, match="warmup"):
        govsim.replicate(SMART, n=2, overrides=SHORT, warmup="3d")


def test_bad_arguments() -> None:
    for n in (0, -1, 2.5, True):
        with pytest.raises(ExperimentError, match="n"):
            govsim.replicate(SMART, n=n)
    with pytest.raises(ExperimentError, match="jobs"):
        govsim.replicate(SMART, n=2, jobs=0)
    with pytest.raises(ExperimentError, match="executor"):
        govsim.replicate(SMART, n=2, executor="threads")
    with pytest.raises(ExperimentError, match="two or more"):
        govsim.compare([SMART], n=2)
    with pytest.raises(ExperimentError, match="list of values"):
        govsim.sweep(SMART, {"workers.per_grid": 2}, n=2)
    with pytest.raises(ExperimentError, match="empty"):
        govsim.sweep(SMART, {"workers.per_grid": []}, n=2)
    with pytest.raises(govsim.ScenarioError, match="did you mean 'per_grid'"):
        govsim.sweep(SMART, {"workers.per_gird": [1, 2]}, n=2)


# --------------------------------------------------------------------------- compare


def test_compare_is_paired_on_common_random_numbers() -> None:
    cmp = govsim.compare([TRAD, SMART], n=3, seed=5, overrides=SHORT, executor="sequential")
    assert cmp.labels == ["traditional_patrol", "smart_dispatch"]
    runs = cmp.runs
    assert list(runs.columns[:2]) == ["scenario", "replication"] and len(runs) == 6
    a = runs[runs["scenario"] == "traditional_patrol"].reset_index(drop=True)
    b = runs[runs["scenario"] == "smart_dispatch"].reset_index(drop=True)
    assert a["n_issues"].tolist() == b["n_issues"].tolist()  # the same issues in replication i
    t = cmp.table.set_index("metric")
    assert t.loc["n_issues", "difference"] == 0 and not t.loc["n_issues", "significant"]
    d = b["discovery_delay_mean"] - a["discovery_delay_mean"]
    ci = t_interval(d)
    assert t.loc["discovery_delay_mean", "difference"] == pytest.approx(ci["mean"])
    assert t.loc["discovery_delay_mean", "ci_high"] == pytest.approx(ci["ci_high"])
    for m, row in t.iterrows():  # significant: after Holm's correction over the metrics tested
        assert row["significant_unadjusted"] == bool(row["ci_low"] > 0 or row["ci_high"] < 0)
        assert row["significant"] == bool(row["p_holm"] < 0.05)
    assert set(cmp.significant()) == set(t.index[t["significant"]])
    assert set(cmp.means["scenario"]) == {"traditional_patrol", "smart_dispatch"}
    text = cmp.to_string()
    assert "paired differences" in text and "common random" in text and "sig" in text


def test_compare_labels() -> None:
    same = govsim.compare([SMART, SMART], n=2, seed=1, overrides=SHORT, executor="sequential")
    assert same.labels == ["A: smart_dispatch", "B: smart_dispatch"]
    assert (same.table["difference"].fillna(0) == 0).all()  # same scenario, same seeds: same runs
    named = govsim.compare({"old": TRAD, "new": SMART, "new2": SMART}, n=2, seed=1, overrides=SHORT,
                           executor="sequential")
    assert named.labels == ["old", "new", "new2"]
    assert set(named.table["scenario"]) == {"new", "new2"}


# --------------------------------------------------------------------------- sweep


def test_sweep_full_factorial() -> None:
    sw = govsim.sweep(SMART, PARAMS, n=2, seed=1, overrides=SHORT, executor="sequential")
    assert sw.points[["workers.per_grid", "policy"]].values.tolist() == [
        [1, "traditional_patrol"], [1, "smart_dispatch"], [2, "traditional_patrol"], [2, "smart_dispatch"]]
    assert len(sw.runs) == 4 * 2
    assert list(sw.runs.columns[:4]) == ["point", "workers.per_grid", "policy", "replication"]
    assert not sw.runs.duplicated(["point", "replication"]).any()
    assert len(sw.table) == 4 * len(SUMMARY_KEYS)
    assert list(sw.table.columns) == ["point", "workers.per_grid", "policy", *AGG_COLUMNS]
    m = sw.metric("worker_utilisation")
    assert m.index.names == ["workers.per_grid", "policy"] and len(m) == 4
    # Twice the workers: lower utilisation, the same issues (common random numbers across points).
    assert m.loc[(2, "smart_dispatch"), "mean"] < m.loc[(1, "smart_dispatch"), "mean"]
    counts = sw.runs.pivot(index="replication", columns="point", values="n_issues")
    assert (counts.nunique(axis=1) == 1).all()
    text = sw.to_string()
    assert "sweep of 4 points × 2 replications" in text and "±" in text


# --------------------------------------------------------------------------- executors


def test_executors_give_identical_tables() -> None:
    kwargs = dict(n=3, seed=11, overrides=SHORT, progress=False)
    seq = govsim.sweep(SMART, {"workers.per_grid": [1, 2]}, executor="sequential", **kwargs)
    with ProcessExecutor(2) as ex:
        proc = govsim.sweep(SMART, {"workers.per_grid": [1, 2]}, executor=ex, **kwargs)
        assert proc.info["executor"].startswith("processes (2 workers")
        again = govsim.sweep(SMART, {"workers.per_grid": [1, 2]}, executor=ex, **kwargs)  # pool reused
    pd.testing.assert_frame_equal(seq.runs, proc.runs, check_exact=True)
    pd.testing.assert_frame_equal(seq.table, proc.table, check_exact=True)
    pd.testing.assert_frame_equal(proc.table, again.table, check_exact=True)
    default = govsim.sweep(SMART, {"workers.per_grid": [1, 2]}, **kwargs)
    assert default.info["executor"].startswith("processes")
    pd.testing.assert_frame_equal(seq.table, default.table, check_exact=True)


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_other_start_methods(method) -> None:
    import multiprocessing

    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} not available")
    seq = govsim.replicate(SMART, n=2, seed=4, overrides=SHORT, executor="sequential")
    with ProcessExecutor(2, start_method=method) as ex:
        other = govsim.replicate(SMART, n=2, seed=4, overrides=SHORT, executor=ex)
    pd.testing.assert_frame_equal(seq.table, other.table, check_exact=True)


def test_dask_local_cluster_gives_identical_tables() -> None:
    distributed = pytest.importorskip("dask.distributed")
    kwargs = dict(n=3, seed=11, overrides=SHORT, progress=False)
    seq = govsim.sweep(SMART, {"workers.per_grid": [1, 2]}, executor="sequential", **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            by_client = govsim.sweep(SMART, {"workers.per_grid": [1, 2]}, executor=client, **kwargs)
            by_address = govsim.sweep(SMART, {"workers.per_grid": [1, 2]},
                                      scheduler=cluster.scheduler_address, **kwargs)
            assert client.status == "running"  # a client passed in is not closed
    assert by_client.info["executor"].startswith("dask at")
    for res in (by_client, by_address):
        pd.testing.assert_frame_equal(seq.runs, res.runs, check_exact=True)
        pd.testing.assert_frame_equal(seq.table, res.table, check_exact=True)


def test_dask_missing_gives_a_clear_error(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(ExperimentError, match=r'pip install "govsim\[distributed\]"'):
        govsim.replicate(SMART, n=2, overrides=SHORT, scheduler="tcp://127.0.0.1:8786")


def test_make_executor_choices() -> None:
    ex, owned = make_executor(None, n_tasks=1)
    assert isinstance(ex, SequentialExecutor) and owned
    ex, _ = make_executor(None, jobs=1, n_tasks=10)
    assert isinstance(ex, SequentialExecutor)
    ex, _ = make_executor(None, jobs=2, n_tasks=10)
    assert isinstance(ex, ProcessExecutor) and ex.workers == 2
    ex.close()
    ex, _ = make_executor("processes", jobs=8, n_tasks=3)
    assert ex.workers == 3
    ex.close()
    mine = SequentialExecutor()
    assert make_executor(mine, n_tasks=5) == (mine, False)
    with pytest.raises(ExperimentError, match="scheduler"):
        make_executor("dask", n_tasks=2)


# --------------------------------------------------------------------------- custom policies


def test_registered_policy_runs_in_worker_processes() -> None:
    from govsim.policies import POLICIES
    from govsim.policies.traditional import TraditionalPatrol

    class Copycat(TraditionalPatrol):
        name = "copycat_for_test"

    govsim.register_policy(Copycat)
    try:
        seq = govsim.replicate(TRAD, n=2, seed=1, overrides={**SHORT, "policy": "copycat_for_test"},
                               executor="sequential")
        with ProcessExecutor(2, start_method="fork") as ex:
            proc = govsim.replicate(TRAD, n=2, seed=1,
                                    overrides={**SHORT, "policy": "copycat_for_test"}, executor=ex)
        pd.testing.assert_frame_equal(seq.table, proc.table, check_exact=True)
    finally:
        POLICIES.pop("copycat_for_test", None)


# --------------------------------------------------------------------------- progress


def test_progress_bar(capsys) -> None:
    govsim.replicate(SMART, n=2, seed=1, overrides=SHORT, executor="sequential")
    assert capsys.readouterr().err == ""  # not a terminal: quiet
    govsim.replicate(SMART, n=2, seed=1, overrides=SHORT, executor="sequential", progress=True)
    assert "2/2" in capsys.readouterr().err


# --------------------------------------------------------------------------- results store


def test_store_writes_and_resumes(tmp_path) -> None:
    out = tmp_path / "res"
    first = govsim.sweep(SMART, {"workers.per_grid": [1, 2]}, n=2, seed=3, overrides=SHORT, out=out,
                         executor="sequential")
    assert first.info["computed"] == 4 and first.info["reused"] == 0
    files = sorted(p.name for p in (out / "runs").iterdir())
    assert files == ["p000-r0000.json", "p000-r0001.json", "p001-r0000.json", "p001-r0001.json"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sweep" and manifest["seed"] == 3 and manifest["n"] == 2
    assert manifest["params"] == {"workers.per_grid": [1, 2]}
    assert {"govsim", "numpy", "pandas", "simpy", "scipy", "python"} <= set(manifest["versions"])
    assert all(len(p["hash"]) == 64 for p in manifest["points"])
    record = json.loads((out / "runs" / "p001-r0001.json").read_text())
    assert record["seed_sequence"] == {"entropy": 3, "spawn_key": [1]}
    assert record["params"] == {"workers.per_grid": 2} and set(record["summary"]) == set(SUMMARY_KEYS)
    assert (out / "runs.csv").exists() and (out / "table.csv").exists()

    again = govsim.sweep(SMART, {"workers.per_grid": [1, 2]}, n=2, seed=3, overrides=SHORT, out=out)
    assert again.info["computed"] == 0 and again.info["reused"] == 4
    pd.testing.assert_frame_equal(first.runs, again.runs, check_exact=True)
    pd.testing.assert_frame_equal(first.table, again.table, check_exact=True)

    more = govsim.sweep(SMART, {"workers.per_grid": [1, 2]}, n=3, seed=3, overrides=SHORT, out=out,
                        executor="sequential")
    assert more.info["computed"] == 2 and more.info["reused"] == 4
    fresh = govsim.sweep(SMART, {"workers.per_grid": [1, 2]}, n=3, seed=3, overrides=SHORT,
                         executor="sequential")
    pd.testing.assert_frame_equal(more.table, fresh.table, check_exact=True)
    stored = load_runs(out)
    assert len(stored) == 6 and list(stored["replication"]) == [0, 1, 2, 0, 1, 2]


def test_store_refuses_another_experiment(tmp_path) -> None:
    out = tmp_path / "res"
    govsim.replicate(SMART, n=2, seed=3, overrides=SHORT, out=out, executor="sequential")
    with pytest.raises(ExperimentError, match="changed since.*--force"):
        govsim.replicate(SMART, n=2, seed=3, overrides={"horizon": "3d"}, out=out)
    with pytest.raises(ExperimentError, match="seed 3, not 4"):
        govsim.replicate(SMART, n=2, seed=4, overrides=SHORT, out=out)
    with pytest.raises(ExperimentError, match="replicate, not a sweep"):
        govsim.sweep(SMART, {"workers.per_grid": [1]}, n=2, seed=3, overrides=SHORT, out=out)
    forced = govsim.replicate(SMART, n=2, seed=4, overrides=SHORT, out=out, force=True,
                              executor="sequential")
    assert forced.info["computed"] == 2
    assert json.loads((out / "manifest.json").read_text())["seed"] == 4


def test_store_recovers_from_debris(tmp_path) -> None:
    out = tmp_path / "res"
    ref = govsim.replicate(SMART, n=3, seed=3, overrides=SHORT, out=out, executor="sequential")
    (out / "runs" / ".tmp-p000-r0002.json.123.abcd").write_text('{"half')
    (out / "runs" / "p000-r0001.json").write_text('{"truncated')
    (out / "runs" / "p000-r0002.json").unlink()
    with pytest.warns(UserWarning, match="unreadable"):
        again = govsim.replicate(SMART, n=3, seed=3, overrides=SHORT, out=out, executor="sequential")
    assert again.info["computed"] == 2 and again.info["reused"] == 1
    assert not list((out / "runs").glob(".tmp-*"))
    pd.testing.assert_frame_equal(ref.table, again.table, check_exact=True)


def test_store_lock(tmp_path) -> None:
    pytest.importorskip("fcntl")
    from govsim.experiments.store import ResultsStore

    definition = {"kind": "replicate", "seed": 1, "points": [{"label": "x", "params": {}, "hash": "h"}]}
    with ResultsStore(tmp_path, definition) as a:
        a.open(1)
        with pytest.raises(ExperimentError, match="another govsim process"):
            ResultsStore(tmp_path, definition).open(1)
    with ResultsStore(tmp_path, definition) as b:
        b.open(1)


def test_store_keeps_issue_tables(tmp_path) -> None:
    out = tmp_path / "res"
    rep = govsim.replicate(SMART, n=2, seed=3, overrides=SHORT, out=out, issues=True,
                           executor="sequential")
    assert list(rep.issues.columns[:2]) == ["replication", "issue_id"]
    assert rep.issues.groupby("replication").size().tolist() == rep.runs["n_issues"].astype(int).tolist()
    again = govsim.replicate(SMART, n=2, seed=3, overrides=SHORT, out=out, issues=True)
    assert again.info["computed"] == 0
    assert len(again.issues) == len(rep.issues)
    assert again.issues["created_at"].tolist() == rep.issues["created_at"].tolist()


def test_tasks_name_the_scenario_by_an_absolute_path(monkeypatch):
    """Workers started in another directory (Dask) must find files named by the scenario."""
    from govsim.experiments.api import _absolute

    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root)
    assert _absolute("scenarios/smart_dispatch.yaml") == str(root / "scenarios" / "smart_dispatch.yaml")
    assert _absolute("<dict>") == "<dict>" and _absolute(None) is None
