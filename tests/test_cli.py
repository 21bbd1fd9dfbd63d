"""The command line: run, compare, validate, and every class of bad input → one message, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from govsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
TRAD = str(ROOT / "scenarios" / "traditional_patrol.yaml")
SMART = str(ROOT / "scenarios" / "smart_dispatch.yaml")
SHORT = ["--set", "horizon=2d"]


def test_run_prints_summary_and_writes_tables(tmp_path, capsys):
    assert main(["run", SMART, "--seed", "3", *SHORT, "--out", str(tmp_path), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "Resolution time, p90 (h)" in out and "Patrol-point coverage (%)" in out  # readable, with units
    for name in ("issues", "false_alarms", "patrols", "workers", "grids"):
        assert (tmp_path / f"{name}.csv").is_file()
    summary = pd.read_csv(tmp_path / "summary.csv", index_col="metric")["value"]
    issues = pd.read_csv(tmp_path / "issues.csv")
    assert summary["n_issues"] == len(issues)


def test_compare_prints_both_and_differences(capsys):
    assert main(["compare", TRAD, SMART, "--seed", "1", *SHORT]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[1]
    assert "traditional_patrol" in header and "smart_dispatch" in header and "difference" in header
    n_issues = out.splitlines()[2].split()
    assert n_issues[0] == "Issues" and n_issues[1] == n_issues[2]  # same issues on the same seed


def test_validate_ok(capsys):
    assert main(["validate", SMART]) == 0
    assert "OK" in capsys.readouterr().out


def _write(tmp_path: Path, text: str, name: str = "bad.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


MINIMAL = "categories:\n  garbage: {rate: 2}\n"

BAD_INPUTS = {
    "misspelt key": (MINIMAL + "workers: {spede_kmh: 3}\n", "workers.spede_kmh", "did you mean 'speed_kmh'"),
    "unknown top-level key": (MINIMAL + "horizn: 2d\n", "horizn", "did you mean 'horizon'"),
    "wrong type": (MINIMAL + "workers: {per_grid: many}\n", "workers.per_grid", "expected"),
    "negative rate": ("categories:\n  garbage: {rate: -1}\n", "categories.garbage.rate", ">= 0"),
    "bad unit": (MINIMAL + "horizon: 3 parsecs\n", "horizon", "duration"),
    "bare number duration": (MINIMAL + "horizon: 7\n", "horizon", "unit"),
    "unknown policy": (MINIMAL + "policy: smart_dispach\n", "policy", "did you mean 'smart_dispatch'"),
    "bad policy parameter": (MINIMAL + "policies: {smart_dispatch: {radius: 100}}\n",
                             "policies.smart_dispatch.radius", "did you mean 'radius_m'"),
    "bad distribution": (MINIMAL.replace("{rate: 2}", "{rate: 2, handling: {dist: lognormal, mean: 1h}}"),
                         "categories.garbage.handling", "sd"),
    "probability above 1": (MINIMAL.replace("{rate: 2}", "{rate: 2, patrol_detect: 1.5}"),
                            "categories.garbage.patrol_detect", "<= 1"),
    "unknown route": (MINIMAL + "workers: {route: zigzag}\n", "workers.route", "unknown"),
    "unknown area type": (MINIMAL.replace("{rate: 2}", "{rate: 2, area_multipliers: {old_compund: 2}}"),
                          "old_compund", "area type"),
    "yaml syntax": ("categories:\n  garbage: {rate: 2\n", "", "line"),
    "not a mapping": ("- just\n- a list\n", "", "mapping"),
    "code execution attempt": ("categories: !!python/object/apply:os.system ['echo pwned']\n", "", "tag"),
    "missing categories": ("name: x\n", "categories", "required"),
    "extends missing file": ("extends: nowhere.yaml\n" + MINIMAL, "", "not found"),
    "sensor grid out of range": (MINIMAL + "channels: {sensors: {enabled: true, grid_ids: [99]}}\n",
                                 "channels.sensors.grid_ids", "no such grid"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
@pytest.mark.parametrize("command", ["run", "validate"])
def test_bad_input_gives_one_clear_message_and_exit_2(case, command, tmp_path, capsys):
    text, path, expected = BAD_INPUTS[case]
    scenario = _write(tmp_path, text)
    assert main([command, scenario]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "bad.yaml" in err
    assert path in err and expected in err
    assert "Traceback" not in err


def test_missing_file(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err
    assert "nope.yaml" in err and "not found" in err


def test_bad_set_override(capsys):
    assert main(["run", SMART, "--set", "workers.speed_kmh"]) == 2
    assert "--set" in capsys.readouterr().err
    assert main(["run", SMART, "--set", "workers.sped_kmh=3"]) == 2
    assert "did you mean 'speed_kmh'" in capsys.readouterr().err


def test_code_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    scenario = _write(tmp_path, f"categories: !!python/object/apply:os.system ['touch {marker}']\n")
    assert main(["validate", scenario]) == 2
    assert not marker.exists()


def test_console_entry_point_exits_2_without_traceback(tmp_path):
    scenario = _write(tmp_path, MINIMAL + "horizon: -3d\n")
    proc = subprocess.run([sys.executable, "-m", "govsim", "run", scenario],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "horizon" in proc.stderr
