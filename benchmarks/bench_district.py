"""Time one simulated year of a large district (Dongcheng scale) on one core.

Run it pinned to one core, from the repository root::

    taskset -c 0 python benchmarks/bench_district.py                      # full year, smart_dispatch
    taskset -c 0 python benchmarks/bench_district.py --policy traditional_patrol
    taskset -c 0 python benchmarks/bench_district.py --horizon 30d        # quick check
    taskset -c 0 python benchmarks/bench_district.py --horizon 60d --profile
    taskset -c 0 python benchmarks/bench_district.py --json out.json
    taskset -c 0 python benchmarks/bench_district.py --check          # also print table hashes

It times, separately:

``load``     reading and validating the scenario (``govsim.load_scenario``);
``build``    ``Simulation(scenario, seed)``: territory, workers and routes, and every
             issue of the run drawn up front (``IssuePlan.draw``);
``run``      the SimPy event loop (``Simulation.run`` without the tables);
``tables``   ``Result.from_simulation`` and the tables it builds lazily (``issues``,
             ``false_alarms``, ``workers``): pandas tables built from the records;
``summary``  ``Result.summary()``, including exact patrol coverage, which expands
             every patrol visit from the recorded segments.

and reports the number of issues, issues/s (issues / total wall time), the
total wall time and the peak resident memory (``getrusage(RUSAGE_SELF).ru_maxrss``,
KiB on Linux) after each phase. ``tracemalloc`` is not used: it slows a run
several-fold. ``--profile`` runs the same phases under cProfile (times are then
inflated) and prints the top functions by cumulative and by total time.

Wall times on a shared VM vary by about ±20% from run to run: compare medians of at
least three runs, started when nothing else uses the CPU (the script warns when the
load average is high or the process got less than 90% of the wall time as CPU time).

Target (the issue): a full year of ``benchmarks/dongcheng.yaml`` in under 60 s on
one core and under 2 GB of memory. Results: ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# The govsim that Python finds (an install, compiled or not, or PYTHONPATH); this checkout
# when there is none (run from a checkout without installing).
if importlib.util.find_spec("govsim") is None:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import simpy  # noqa: E402

import govsim  # noqa: E402
from govsim import engine  # noqa: E402
from govsim.result import Result  # noqa: E402
from govsim.scenario.loader import parse_override  # noqa: E402

from _common import code_version, peak_rss_mib, print_profile, write_json  # noqa: E402 (sibling module)

TARGET_WALL_S = 60.0
TARGET_RSS_MIB = 2048.0
PHASES = ("load", "build", "run", "tables", "summary")
LAZY_TABLES = ("issues", "false_alarms", "workers")  # built on first access by recent Result versions


def expected_issues(sim: engine.Simulation) -> float:
    """Expected number of issues of the run for the drawn district (the Poisson means of
    ``IssuePlan.draw`` summed over categories)."""
    terr, cats = sim.territory, sim.categories
    hours = np.arange(int(np.ceil(sim.horizon)), dtype=float)
    bin_len = np.minimum(1.0, sim.horizon - hours)
    total = 0.0
    for c in range(cats.n):
        per_grid_day = cats.rate[c] * terr.grid_households / 1000.0 * cats.area_multiplier[c, terr.grid_area]
        profile = cats.hourly[c, hours.astype(int) % 24] * bin_len
        total += per_grid_day.sum() / 24.0 * profile.sum()
    return float(total)


def simpy_events(env: simpy.Environment) -> int | None:
    """Entries scheduled so far on the event queue (govsim's clock numbers them; SimPy's
    private counter in older versions; None if neither is there)."""
    clock = getattr(env, "clock", None)
    if clock is not None and hasattr(clock, "eid"):
        return int(clock.eid)
    counter = getattr(env, "_eid", None)
    try:
        return int(next(counter)) if counter is not None else None
    except TypeError:
        return None


class Timer:
    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.rss: dict[str, float] = {}

    def measure(self, name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        self.times[name] = time.perf_counter() - t0
        self.rss[name] = peak_rss_mib()
        return out


def table_hashes(result: Result) -> dict[str, str]:
    """SHA-256 (first 16 hex digits) of every table of ``result`` written as CSV with every
    float's 17 significant digits, and of the summary: equal hashes mean byte-identical
    results (``--check``; compare two versions of the code run with the same seed)."""
    import hashlib

    from govsim.tables import core_tables

    tables = {name: getattr(result, name) for name in core_tables()}
    tables |= {f"tables.{name}": df for name, df in result.tables.items()}
    tables["summary"] = result.summary().to_frame().reset_index()
    out = {}
    for name, df in tables.items():
        text = df.to_csv(float_format="%.17g", index=False, lineterminator="\n")
        out[name] = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return out


def run_phases(args: argparse.Namespace, timer: Timer) -> dict[str, Any]:
    """Load, build, run, tabulate and summarise once; phase times go to ``timer``."""
    overrides: dict[str, Any] = {}
    if args.horizon:
        overrides["horizon"] = args.horizon
    if args.policy:
        overrides["policy"] = args.policy
    for text in args.set or []:
        key, value = parse_override(text)
        overrides[key] = value

    scenario = timer.measure("load", govsim.load_scenario, args.scenario, overrides=overrides or None)
    seed = args.seed if args.seed is not None else (scenario.seed if scenario.seed is not None else 0)
    sim = timer.measure("build", engine.Simulation, scenario, seed)

    # Simulation.run() = event loop + closing the workers' books + Result.from_simulation.
    # Time the tables separately by wrapping from_simulation for the duration of the run.
    original = Result.__dict__["from_simulation"]
    tables_time: list[float] = []

    def timed_from_simulation(cls: type[Result], s: engine.Simulation) -> Result:
        timer.rss["run"] = peak_rss_mib()
        t0 = time.perf_counter()
        out = original.__func__(cls, s)
        tables_time.append(time.perf_counter() - t0)
        return out

    Result.from_simulation = classmethod(timed_from_simulation)  # type: ignore[method-assign]
    try:
        t0 = time.perf_counter()
        result = sim.run()
        total_run = time.perf_counter() - t0
    finally:
        Result.from_simulation = original  # type: ignore[method-assign]
    # Tables that Result builds lazily (on first use) are built here, so that ``tables``
    # covers every table the summary reads and ``summary`` only the metrics.
    t0 = time.perf_counter()
    for name in LAZY_TABLES:
        getattr(result, name, None)
    tables_time.append(time.perf_counter() - t0)
    timer.times["tables"] = sum(tables_time)
    timer.times["run"] = total_run - tables_time[0]
    timer.rss["tables"] = peak_rss_mib()

    summary = timer.measure("summary", result.summary)

    issues = result.issues
    patrols = result.patrols
    n_dispatched = int(issues["assigned_at"].notna().sum()) + int(result.false_alarms["assigned_at"].notna().sum())
    return {
        "scenario": scenario.name,
        "policy": scenario.policy,
        "seed": int(seed),
        "horizon_h": float(scenario.horizon),
        "n_grids": int(sim.territory.n_grids),
        "n_points": int(sim.territory.n_points),
        "n_workers": len(sim.workers),
        "n_sensor_grids": int(len(sim.sensor_grids)),
        "expected_issues": expected_issues(sim),
        "n_issues": int(len(issues)),
        "n_false_alarms": int(len(result.false_alarms)),
        "n_assigned": n_dispatched,
        "n_queued": int(issues["queued_at"].notna().sum()),
        "n_patrol_segments": int(len(patrols)),
        "n_patrol_visits": int(patrols["visits"].sum()),
        "n_time_use_rows": int(len(result.time_use)),
        "simpy_events": simpy_events(sim.env),
        "summary": {k: (float(v) if pd.notna(v) else None) for k, v in summary.items()},
        "status_counts": {str(k): int(v) for k, v in issues["status"].value_counts().items()},
        "channel_counts": {str(k): int(v) for k, v in issues["channel"].value_counts(dropna=False).items()},
        **({"table_hashes": table_hashes(result)} if args.check else {}),
    }


def print_report(info: dict[str, Any], timer: Timer, profiled: bool) -> dict[str, Any]:
    total = sum(timer.times[p] for p in PHASES)
    peak = peak_rss_mib()
    n = info["n_issues"]
    days = info["horizon_h"] / 24.0
    full_year = 365.0 / days
    sim_part = sum(timer.times[p] for p in ("build", "run", "tables", "summary"))
    info |= {
        "phases_s": {p: round(timer.times[p], 3) for p in PHASES},
        "peak_rss_after_mib": {p: round(timer.rss[p], 1) for p in PHASES},
        "total_s": round(total, 3),
        "issues_per_s": n / total if total > 0 else None,
        "events_per_s": (info["simpy_events"] / timer.times["run"]
                         if info["simpy_events"] and timer.times["run"] > 0 else None),
        "peak_rss_mib": round(peak, 1),
        "extrapolated_full_year_s": round(timer.times["load"] + sim_part * full_year, 1),
        "profiled": profiled,
        "python": platform.python_version(),
        "numpy": np.__version__, "pandas": pd.__version__, "simpy": simpy.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "cpu_affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "date": time.strftime("%Y-%m-%d"),
    }
    print(f"govsim {info['govsim']}, Python {info['python']}")
    print(f"scenario {info['scenario']}  policy {info['policy']}  seed {info['seed']}  "
          f"horizon {days:g} d")
    print(f"district: {info['n_grids']} grids, {info['n_points']} patrol points, "
          f"{info['n_workers']} workers, {info['n_sensor_grids']} sensor grids")
    print(f"issues: {n:,} (expected {info['expected_issues']:,.0f}), false alarms "
          f"{info['n_false_alarms']:,}, assigned {info['n_assigned']:,}, queued {info['n_queued']:,}")
    print(f"records: {info['n_patrol_segments']:,} patrol segments ({info['n_patrol_visits']:,} visits), "
          f"{info['n_time_use_rows']:,} time-use rows, "
          f"{info['simpy_events'] if info['simpy_events'] is not None else '?':,} SimPy events")
    print()
    print(f"{'phase':<9} {'wall s':>9} {'peak RSS MiB':>13}")
    for p in PHASES:
        print(f"{p:<9} {timer.times[p]:>9.2f} {timer.rss[p]:>13.0f}")
    print(f"{'total':<9} {total:>9.2f} {peak:>13.0f}")
    print(f"CPU time {info['cpu_s']:.2f} s ({info['cpu_s'] / total:.0%} of the wall time)")
    print()
    print(f"issues/s (issues / total wall): {info['issues_per_s']:,.0f}")
    if info["events_per_s"]:
        print(f"SimPy events/s in the run phase: {info['events_per_s']:,.0f}")
    if days < 365:
        print(f"extrapolated to 365 d (linear in the horizon): {info['extrapolated_full_year_s']:.0f} s")
    if profiled:
        print("(profiled: times are inflated by cProfile; do not compare with the target)")
    else:
        wall_ok = (total if days >= 365 else info["extrapolated_full_year_s"]) < TARGET_WALL_S
        print(f"target < {TARGET_WALL_S:.0f} s: {'met' if wall_ok else 'NOT met'}"
              f"{'' if days >= 365 else ' (extrapolated)'};  "
              f"target < {TARGET_RSS_MIB:.0f} MiB: {'met' if peak < TARGET_RSS_MIB else 'NOT met'}"
              f"{'' if days >= 365 else ' (for this horizon)'}")
    busy = max(x for x in (info["load_avg_1min_before"], info["load_avg_1min_after"], 0.0) if x is not None)
    if busy > 1.5 or info["cpu_s"] < 0.9 * total:
        print(f"warning: the machine was busy (1-min load average {busy:.1f}); timings are unreliable")
    if info["cpu_affinity"] is not None and len(info["cpu_affinity"]) > 1:
        print(f"warning: not pinned to one core (affinity {info['cpu_affinity']}); "
              "use `taskset -c 0 python ...`")
    print()
    print("summary:")
    for k, v in info["summary"].items():
        text = "-" if v is None else (f"{int(v):,}" if float(v).is_integer() else f"{v:.4g}")
        print(f"  {k:<22} {text}")
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default=str(HERE / "dongcheng.yaml"), help="scenario YAML (default: %(default)s)")
    ap.add_argument("--horizon", help="override the horizon, e.g. 30d for a quick check")
    ap.add_argument("--seed", type=int, help="seed (default: the scenario's)")
    ap.add_argument("--policy", help="override the policy (smart_dispatch, traditional_patrol)")
    ap.add_argument("--set", action="append", metavar="KEY=VALUE", help="any other override (repeatable)")
    ap.add_argument("--profile", action="store_true", help="run under cProfile and print the top 25 functions")
    ap.add_argument("--top", type=int, default=25, help="functions to list with --profile (default: 25)")
    ap.add_argument("--json", metavar="OUT", help="write the measurements to this JSON file")
    ap.add_argument("--check", action="store_true",
                    help="after the timed phases, print a hash of every result table (equal hashes: "
                         "byte-identical results)")
    args = ap.parse_args(argv)

    timer = Timer()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    cpu0 = time.process_time()
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        info = run_phases(args, timer)
        prof.disable()
    else:
        info = run_phases(args, timer)
    info["cpu_s"] = round(time.process_time() - cpu0, 3)
    info["load_avg_1min_before"] = load_before
    info["load_avg_1min_after"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    info["govsim"] = f"{Path(govsim.__file__).resolve().parent} ({code_version()}, {govsim.build_name()})"
    info = print_report(info, timer, args.profile)

    if args.check:
        print("\ntable hashes (sha256 of the CSV, 17 significant digits):")
        for name, digest in info["table_hashes"].items():
            print(f"  {name:<22} {digest}")
    if args.profile:
        print_profile(prof, args.top, "govsim")
    write_json(args.json, info)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
