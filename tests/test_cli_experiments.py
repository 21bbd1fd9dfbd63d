"""The command line for experiments: run -n, compare -n, sweep, the results store, and a sweep
killed midway (SIGKILL) that resumes complete, without duplicates or corrupt files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import govsim
from govsim.cli import main, parse_param
from govsim.experiments import ExperimentError
from govsim.metrics import SUMMARY_KEYS

ROOT = Path(__file__).resolve().parents[1]
TRAD = str(ROOT / "scenarios" / "traditional_patrol.yaml")
SMART = str(ROOT / "scenarios" / "smart_dispatch.yaml")
SHORT = ["--set", "horizon=2d"]


def test_run_with_replications(capsys) -> None:
    assert main(["run", SMART, "-n", "3", "--seed", "2", *SHORT, "--warmup", "12h", "--jobs", "1", "--raw"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("smart_dispatch: 3 replications (seed 2")
    assert "warm-up 12h excluded" in out and "95% Student-t intervals" in out
    header = out.splitlines()[1].split()
    assert header == ["mean", "sd", "ci_low", "ci_high", "half_width", "n"]
    assert sum(line.split()[0] in SUMMARY_KEYS for line in out.splitlines()[2:]) == len(SUMMARY_KEYS)
    rep = govsim.replicate(SMART, n=3, seed=2, overrides={"horizon": "2d"}, warmup="12h",
                           executor="sequential")
    assert rep.to_string() in out


def test_compare_with_replications(capsys) -> None:
    assert main(["compare", TRAD, SMART, "-n", "3", "--seed", "1", *SHORT, "--quiet", "--raw"]) == 0
    out = capsys.readouterr().out
    assert "paired differences (smart_dispatch − traditional_patrol) over 3 replications" in out
    lines = out.splitlines()
    assert lines[1].split() == ["traditional_patrol", "smart_dispatch", "difference", "ci_low",
                                "ci_high", "change", "sig"]
    n_issues = lines[2].split()
    assert n_issues[0] == "n_issues" and n_issues[1] == n_issues[2] and n_issues[3] == "0"
    assert any(line.rstrip().endswith("*") for line in lines[2:])  # something differs significantly


def test_sweep_prints_a_table_and_writes_the_store(tmp_path, capsys) -> None:
    out_dir = tmp_path / "sweep"
    argv = ["sweep", SMART, "--param", "workers.per_grid=1,2", "--param",
            "policy=traditional_patrol,smart_dispatch", "-n", "2", "--seed", "4", *SHORT,
            "--out", str(out_dir), "--quiet", "--metric", "resolution_time_mean"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "sweep of 4 points × 2 replications" in out
    assert out.splitlines()[1].split() == ["workers.per_grid", "policy", "resolution_time_mean"]
    assert "4 runs computed" not in out and "8 runs computed" in out
    runs = pd.read_csv(out_dir / "runs.csv")
    assert len(runs) == 8 and not runs.duplicated(["point", "replication"]).any()
    table = pd.read_csv(out_dir / "table.csv")
    assert list(table.columns) == ["point", "workers.per_grid", "policy", "metric", "mean", "sd",
                                   "ci_low", "ci_high", "half_width", "n", "interval"]


def test_sweep_rerun_reuses_everything(tmp_path, capsys) -> None:
    argv = ["sweep", SMART, "--param", "workers.per_grid=1,2", "-n", "2", *SHORT, "--out",
            str(tmp_path), "--quiet"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert main(argv) == 0
    second = capsys.readouterr().out
    assert "(0 runs computed" in second and "4 reused" in second
    assert first.split("\n\n")[0] == second.split("\n\n")[0]  # the same table


def test_changed_scenario_is_refused_then_forced(tmp_path, capsys) -> None:
    argv = ["run", SMART, "-n", "2", *SHORT, "--out", str(tmp_path), "--quiet", "--jobs", "1"]
    assert main(argv) == 0
    capsys.readouterr()
    changed = ["run", SMART, "-n", "2", "--set", "horizon=3d", "--out", str(tmp_path), "--quiet", "--jobs", "1"]
    assert main(changed) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "changed since" in err and "--force" in err
    assert "Traceback" not in err
    assert main([*changed, "--force"]) == 0


@pytest.mark.parametrize(("argv", "expected"), [
    (["--param", "workers.per_grid"], "expected KEY=VALUE1,VALUE2"),
    (["--param", "workers.per_grid=1,,2"], "empty value"),
    (["--param", "workers.per_grid=1", "--param", "workers.per_grid=2"], "given twice"),
    ([], "at least one --param"),
    (["--param", "workers.per_grid=1", "--metric", "speed"], "unknown metric"),
    (["--param", "workers.per_gird=1,2"], "did you mean 'per_grid'"),
    (["--param", "workers.per_grid=1", "--warmup", "3 parsecs"], "warmup"),
    (["--param", "workers.per_grid=1,[2"], "--param"),
])
def test_sweep_bad_input_exits_2(argv, expected, capsys) -> None:
    assert main(["sweep", SMART, *SHORT, "-n", "2", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err and "Traceback" not in err


def test_bad_replications_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run", SMART, "-n", "0"])
    assert exc.value.code == 2
    assert "positive whole number" in capsys.readouterr().err


def test_scheduler_without_dask(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    assert main(["run", SMART, "-n", "2", *SHORT, "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    assert 'pip install "govsim[distributed]"' in capsys.readouterr().err


def test_parse_param() -> None:
    assert parse_param("workers.per_grid=1,2,0.5") == ("workers.per_grid", [1, 2, 0.5])
    assert parse_param("policy=traditional_patrol, smart_dispatch") == (
        "policy", ["traditional_patrol", "smart_dispatch"])
    assert parse_param("workers.shifts[0].start=8:00,'9:30'") == ("workers.shifts[0].start", ["8:00", "9:30"])
    assert parse_param("territory.community_size=[2,2],[3,3]") == (
        "territory.community_size", [[2, 2], [3, 3]])
    assert parse_param("name='a,b',c") == ("name", ["a,b", "c"])
    with pytest.raises(ExperimentError):
        parse_param("=1,2")


# --------------------------------------------------------------------------- kill and resume


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")
def test_sweep_killed_midway_resumes_complete(tmp_path) -> None:
    out_dir = tmp_path / "killed"
    runs_dir = out_dir / "runs"
    n, points = 8, 2
    argv = [sys.executable, "-m", "govsim", "sweep", SMART, "--param", "workers.per_grid=1,2",
            "-n", str(n), "--seed", "9", "--set", "horizon=14d", "--out", str(out_dir), "--quiet",
            "--jobs", "2"]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            done = list(runs_dir.glob("p*.json")) if runs_dir.is_dir() else []
            if len(done) >= 3:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the sweep finished before it could be killed: make it longer"
        os.killpg(proc.pid, signal.SIGKILL)  # the command and its worker processes, at once
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    before = sorted(p.name for p in runs_dir.glob("p*.json"))
    assert 3 <= len(before) < n * points
    for f in runs_dir.glob("p*.json"):
        json.loads(f.read_text())  # every file left parses

    again = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{n * points - len(before)} runs computed" in again.stdout
    after = sorted(p.name for p in runs_dir.iterdir())
    expected = sorted(f"p{p:03d}-r{r:04d}.json" for p in range(points) for r in range(n))
    assert after == expected  # complete, no duplicates, no temporary files left
    records = [json.loads((runs_dir / name).read_text()) for name in after]
    assert len({(r["point"], r["replication"]) for r in records}) == n * points
    runs = pd.read_csv(out_dir / "runs.csv")
    assert len(runs) == n * points and not runs.duplicated(["point", "replication"]).any()

    # The resumed results are exactly those of an uninterrupted run.
    resumed = govsim.sweep(SMART, {"workers.per_grid": [1, 2]}, n=n, seed=9,
                           overrides={"horizon": "14d"}, out=out_dir)
    assert resumed.info["computed"] == 0
    fresh = govsim.sweep(SMART, {"workers.per_grid": [1, 2]}, n=n, seed=9,
                         overrides={"horizon": "14d"}, progress=False)
    pd.testing.assert_frame_equal(resumed.runs, fresh.runs, check_exact=True)
    pd.testing.assert_frame_equal(resumed.table, fresh.table, check_exact=True)
