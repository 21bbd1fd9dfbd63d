"""A Sobol analysis of 8 parameters of the 36-grid preset: wall time on all cores, and its
speed-up on a local Dask cluster of 1, 2 and 4 workers (``govsim.sensitivity``).

The target (the issue): "A Sobol analysis of 8 parameters of the 36-grid preset (≥ 1,000
simulation runs of 28 days) completes on this 2-core machine in under 30 minutes and scales
on a Dask cluster". Run it from the repository root::

    python benchmarks/bench_sensitivity.py                      # the full benchmark
    python benchmarks/bench_sensitivity.py --quick              # a 1-minute check of the script
    python benchmarks/bench_sensitivity.py --workers 1,2 --subset 200   # speed-up on 200 points
    python benchmarks/bench_sensitivity.py --scheduler tcp://host:8786  # also a real cluster
    python benchmarks/bench_sensitivity.py --json benchmarks/results/bench_sensitivity.json

Steps:

1. **One run.** ``--probe`` runs of the preset (replications 0, 1, … of the master seed, in
   this process) give the time of one run and an estimate of the whole analysis on the
   cores available and on each Dask setting.
2. **The analysis on all cores.** ``govsim.sensitivity(..., method="sobol")`` with the 8
   factors below, Saltelli's sample of ``--n`` base points (default 128: 128 × (8 + 2) =
   1,280 points) × ``--replications`` (default 2: 2,560 runs of 28 days), local processes
   on every core; wall time from the call to the indices (sampling, the runs, the analysis).
3. **Dask.** For each ``--workers`` count *w*: a ``LocalCluster(n_workers=w,
   threads_per_worker=1)`` (its start-up timed apart), the same analysis with
   ``executor=client`` (all of it, or the first ``--subset`` points of the design through
   ``govsim.sweep``), and the check that its tables are identical to step 2's. Speed-up =
   time with 1 worker ÷ time with *w*.
4. ``--scheduler ADDR``: the same on a running cluster.

Before and after, the machine's parallel capacity (``bench_parallel.parallel_capacity``: the
speed-up of a pure-Python loop on 2 processes) is measured: on a shared or virtual machine other
tenants take cores, and a speed-up should be read against it. Results and the reading:
``docs/sensitivity.md``; the record: ``benchmarks/results/bench_sensitivity.json``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (str(ROOT), str(HERE)):  # run from a checkout without installing; sibling helpers
    if p not in sys.path:
        sys.path.insert(0, p)

import pandas as pd  # noqa: E402

import govsim  # noqa: E402
from _common import code_version, peak_rss_mib, write_json  # noqa: E402
from bench_parallel import parallel_capacity  # noqa: E402
from govsim.engine import Simulation  # noqa: E402
from govsim.experiments import ProcessExecutor, replication_seed  # noqa: E402
from govsim.experiments.executors import available_cores  # noqa: E402
from govsim.experiments.sensitivity import sample  # noqa: E402

#: Eight parameters of smart_dispatch.yaml a district would tune: staffing, how workers walk,
#: the dispatch policy, residents' reporting, and the sensors.
FACTORS = (
    "workers.per_grid=1,2",                         # one or two grid workers per grid
    "workers.speed_kmh=3.0,5.0",                    # walking speed
    "workers.dwell=1min,5min",                      # time at each patrol point
    "policies.smart_dispatch.radius_m=500,3000",    # how far the nearest free worker is sought
    "policies.smart_dispatch.classify_delay=1min,30min",  # classification before dispatch
    "channels.reports.prob_scale=1.0,2.0",          # how readily residents report
    "channels.sensors.coverage=0.2,0.8",            # share of grids with sensors
    "channels.sensors.false_alarms_per_day=0.0,0.5",  # false alarms per sensor grid per day
)
METRICS = ("discovery_delay_mean", "resolution_time_mean", "on_time_rate", "worker_utilisation")
TARGET_S = 30 * 60


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished, waited-for children: the
    work done, whatever share of the cores other programs left it."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def probe(scenario: str, horizon: str, seed: int, runs: int) -> float:
    """Mean wall time of one run of the base scenario (replications 0..runs-1)."""
    sc = govsim.load_scenario(scenario, overrides={"horizon": horizon})
    times = []
    for i in range(runs):
        t0 = time.perf_counter()
        Simulation(sc, replication_seed(seed, i)).run().summary()
        times.append(time.perf_counter() - t0)
    return sum(times) / len(times)


def analysis(scenario: str, args: argparse.Namespace, **kwargs: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    sens = govsim.sensitivity(scenario, list(FACTORS), method="sobol", n=args.n,
                              replications=args.replications, metrics=list(METRICS), seed=args.seed,
                              overrides={"horizon": args.horizon}, progress=False, **kwargs)
    return time.perf_counter() - t0, sens


def subset_sweep(scenario: str, args: argparse.Namespace, points: int, **kwargs: Any) -> tuple[float, Any]:
    """The runs of the first ``points`` points of the analysis' design (a speed-up measured on
    part of the work)."""
    _, design = sample("sobol", list(FACTORS), args.n, seed=args.seed)
    t0 = time.perf_counter()
    sw = govsim.sweep(scenario, design=design.iloc[:points].reset_index(drop=True),
                      n=args.replications, seed=args.seed, overrides={"horizon": args.horizon},
                      progress=False, **kwargs)
    return time.perf_counter() - t0, sw


def top_indices(sens: Any) -> dict[str, Any]:
    out = {}
    for m in sens.metrics:
        t = sens.metric(m).sort_values("ST", ascending=False)
        noise = sens.noise_row(m)
        out[m] = {"noise_share": noise["noise_share"],
                  "noise_share_without_crn": noise["noise_share_without_crn"],
                  "indices": [{"factor": f, "S1": r["S1"], "S1_conf": r["S1_conf"], "ST": r["ST"],
                               "ST_conf": r["ST_conf"], "above_noise": bool(r["above_noise"])}
                              for f, r in t.iterrows()]}
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default=str(ROOT / "scenarios" / "smart_dispatch.yaml"))
    p.add_argument("--n", type=int, default=128, help="Saltelli base points (default 128: 1,280 points)")
    p.add_argument("--replications", type=int, default=2, help="runs per point (default 2)")
    p.add_argument("--horizon", default="28d", help="simulated time per run (default 28d, the preset's)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--workers", default="1,2,4", help="local Dask worker counts (default 1,2,4)")
    p.add_argument("--subset", type=int, default=0,
                   help="measure the Dask speed-up on the first POINTS points only (default: all)")
    p.add_argument("--probe", type=int, default=5, help="runs timed to estimate (default 5)")
    p.add_argument("--skip-local", action="store_true", help="skip the analysis on local processes")
    p.add_argument("--scheduler", help="also time a running Dask cluster at this address")
    p.add_argument("--quick", action="store_true",
                   help="a check of the script: --n 8 --horizon 7d --workers 1,2 --probe 2")
    p.add_argument("--json", metavar="FILE", help="write the measurements to FILE")
    args = p.parse_args(argv)
    if args.quick:
        args.n, args.horizon, args.workers, args.probe = 8, "7d", "1,2", 2
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    cores = available_cores()
    _, design = sample("sobol", list(FACTORS), args.n, seed=args.seed)
    points = len(design)
    runs = points * args.replications
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Sobol analysis of {len(FACTORS)} factors of {Path(args.scenario).name}: N = {args.n} → "
          f"{points} points × {args.replications} replications = {runs} runs of {args.horizon}; "
          f"{cores} cores, load average {load:.2f}", flush=True)
    capacity_before = parallel_capacity(2)
    print(f"  parallel capacity now: {capacity_before:.2f}x (pure-Python loop, 2 processes)")
    per_run = probe(args.scenario, args.horizon, args.seed, args.probe)
    print(f"  one run of the base scenario: {per_run:.3f} s (mean of {args.probe}); estimate for "
          f"{runs} runs: {runs * per_run / 60:.1f} min on 1 core, "
          f"{runs * per_run / min(cores, 2) / 60:.1f} min on {min(cores, 2)}", flush=True)
    out: dict[str, Any] = {
        "bench": "sensitivity", "version": code_version(), "python": platform.python_version(),
        "machine": platform.machine(), "cores": cores, "load_at_start": load,
        "scenario": Path(args.scenario).name, "factors": list(FACTORS), "metrics": list(METRICS),
        "method": "sobol", "n": args.n, "points": points, "replications": args.replications,
        "runs": runs, "horizon": args.horizon, "seed": args.seed,
        "probe_runs": args.probe, "per_run_s": per_run, "capacity_before": capacity_before,
        "target_s": TARGET_S,
    }
    reference = None
    if not args.skip_local:
        cpu0 = cpu_seconds()
        with ProcessExecutor(cores) as ex:
            wall, sens = analysis(args.scenario, args, executor=ex)
        cpu = cpu_seconds() - cpu0
        reference = sens
        got = cpu / (wall * cores)
        print(f"  local processes ({cores}): {wall:8.1f} s = {wall / 60:.1f} min for {runs} runs "
              f"({sens.info['computed']} computed); target < {TARGET_S / 60:.0f} min: "
              f"{'met' if wall < TARGET_S else 'NOT met'}", flush=True)
        print(f"    CPU {cpu:.0f} s ({cpu / sens.info['computed']:.3f} s per run computed): the runs "
              f"had {got:.0%} of {cores} cores; on {cores} idle cores about {cpu / cores / 60:.1f} min",
              flush=True)
        out["local"] = {"jobs": cores, "wall_s": wall, "computed": sens.info["computed"],
                        "cpu_s": cpu, "cpu_s_per_run": cpu / sens.info["computed"],
                        "share_of_cores_obtained": got, "idle_estimate_s": cpu / cores,
                        "met": wall < TARGET_S}
        out["indices"] = top_indices(sens)
        for m in METRICS:
            print(f"    {m}: {sens.noise_statement(m)}")
            top = sens.metric(m).sort_values("ST", ascending=False).head(3)
            print("      " + "; ".join(f"{f} ST {r['ST']:.2f}±{r['ST_conf']:.2f}"
                                      for f, r in top.iterrows()))
    dask_rows = []
    if workers:
        from dask.distributed import Client, LocalCluster

        subset = args.subset if 0 < args.subset < points else 0
        what = f"first {subset} points ({subset * args.replications} runs)" if subset else "the whole analysis"
        print(f"  local Dask cluster, {what}:", flush=True)
        for w in workers:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cpu0 = cpu_seconds()
                t0 = time.perf_counter()
                with LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, Client(cluster) as client:
                    start = time.perf_counter() - t0
                    if subset:
                        wall, res = subset_sweep(args.scenario, args, subset, executor=client)
                    else:
                        wall, res = analysis(args.scenario, args, executor=client)
            cpu = cpu_seconds() - cpu0
            compared = reference is not None
            if subset:
                if reference is not None:
                    pd.testing.assert_frame_equal(
                        res.runs.drop(columns="point").reset_index(drop=True),
                        reference.sweep.runs[reference.sweep.runs["point"] < subset]
                        .drop(columns="point").reset_index(drop=True), check_exact=True)
            elif reference is not None:
                pd.testing.assert_frame_equal(res.indices, reference.indices, check_exact=True)
                pd.testing.assert_frame_equal(res.noise, reference.noise, check_exact=True)
            else:
                reference = res
            usable = min(w, cores)
            row = {"workers": w, "cluster_start_s": start, "wall_s": wall, "cpu_s": cpu,
                   "share_of_cores_obtained": cpu / (wall * usable),
                   "identical_to_reference": True if compared else None}
            dask_rows.append(row)
            print(f"    {w} worker{'s' if w != 1 else ' '}: {wall:8.1f} s (cluster start {start:.1f} s"
                  f" apart); CPU {cpu:.0f} s, {row['share_of_cores_obtained']:.0%} of {usable} "
                  f"core{'s' if usable != 1 else ''}", flush=True)
        base = dask_rows[0]["wall_s"]
        for row in dask_rows:
            row["speedup"] = base / row["wall_s"]
        print("    speed-up over 1 worker: " + ", ".join(f"{r['workers']}: {r['speedup']:.2f}x"
                                                   for r in dask_rows))
        out["dask"] = {"subset_points": subset or points, "rows": dask_rows}
    if args.scheduler:
        wall, res = analysis(args.scenario, args, scheduler=args.scheduler)
        if reference is not None:
            pd.testing.assert_frame_equal(res.indices, reference.indices, check_exact=True)
        out["cluster"] = {"scheduler": args.scheduler, "wall_s": wall,
                          "executor": res.info["executor"]}
        print(f"  cluster {args.scheduler}: {wall:.1f} s ({res.info['executor']})")
    capacity_after = parallel_capacity(2)
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    out.update(capacity_after=capacity_after, load_after=load_after, peak_rss_mib=peak_rss_mib())
    print(f"  parallel capacity after: {capacity_after:.2f}x; load average {load_after:.2f}; "
          f"tables identical across executors: yes")
    write_json(args.json, out)
    return out


if __name__ == "__main__":
    main()
