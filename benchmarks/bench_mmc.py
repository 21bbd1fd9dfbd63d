"""M/M/c: a govsim mediation room against a minimal bare-SimPy model of the same queue.

Run it pinned to one core, from the repository root::

    taskset -c 0 python benchmarks/bench_mmc.py                    # ~200,000 customers, c=3, rho=0.8
    taskset -c 0 python benchmarks/bench_mmc.py --customers 50000 --repeat 1   # quick check
    taskset -c 0 python benchmarks/bench_mmc.py --profile          # where govsim's time goes
    taskset -c 0 python benchmarks/bench_mmc.py --json out.json

Both models are fed with the same arrival rate ``lambda``, mean service time
``1/mu`` and number of servers ``c``, over the same horizon
``customers / lambda`` hours (so ~``customers`` Poisson arrivals each), and are
timed in the same process, alternately, ``--repeat`` times; the best time of
each is compared.

``bare``    a minimal SimPy M/M/c: ``simpy.Resource(capacity=c)``, one process per
            customer (request, record the wait, ``timeout(service)``), a source
            process drawing exponential inter-arrival times; the waits are kept in
            a list and averaged.  Timed: building the environment, the run and the
            mean wait.
``govsim``  one community mediation room (one 1x1 territory, one dispute category,
            ``profile: flat``, ``walk_in: 1``, ``on_spot_success: 0``; the room
            ``mediators: c``, ``hours: null``, ``duration: exponential``,
            ``success: 1``, ``referral_delay: 0``; patrol and resident reports off,
            so nothing but the room acts).  Timed, excluding the scenario loading:
            ``build`` (``Simulation(scenario, seed)``, which draws every arrival up
            front), ``loop`` (the SimPy event loop alone), ``tables``
            (the rest of ``Simulation.run``: closing the books and
            ``Result.from_simulation``) and ``stations`` (``Result.stations``, the
            per-station waits).  ``total`` is their sum.

Ratios: ``total / bare`` (the target: at most 1.3, the issue's wording) and
``loop / bare``.  Both models' mean waits are checked against Erlang C
(``govsim.theory.mmc_metrics``) with a 95% batch-means confidence interval, and
govsim's waits are replayed through the FCFS multi-server recursion on its own
arrival and service times (they must agree to rounding).  Results: ``benchmarks/MMC.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import heapq
import math
import os
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import simpy  # noqa: E402
from scipy import stats  # noqa: E402

import govsim  # noqa: E402
from govsim.theory import mmc_metrics  # noqa: E402

from _common import code_version, print_profile, write_json  # noqa: E402 (sibling module)

TARGET_RATIO = 1.3
HOUSEHOLDS = 1000.0  # one grid of 1,000 households: rate (per 1,000 hh per day) = 24 lambda


# --------------------------------------------------------------------------- the bare model


def bare_mmc(lam: float, service_mean: float, c: int, horizon: float, seed: int) -> dict[str, Any]:
    """A minimal SimPy M/M/c run until ``horizon``; waits of the customers that started."""
    rng = random.Random(seed)
    expo = rng.expovariate
    mu = 1.0 / service_mean
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=c)
    arrived: list[float] = []
    waits: list[float] = []

    def customer(service: float):
        t = env.now
        with servers.request() as req:
            yield req
            arrived.append(t)
            waits.append(env.now - t)
            yield env.timeout(service)

    def source():
        while True:
            yield env.timeout(expo(lam))
            env.process(customer(expo(mu)))

    env.process(source())
    env.run(until=horizon)
    w = np.asarray(waits)
    return {"arrived": np.asarray(arrived), "waits": w, "mean_wait": float(w.mean())}


# --------------------------------------------------------------------------- the govsim room


def room_scenario(lam: float, service_mean: float, c: int, horizon: float) -> dict[str, Any]:
    return {
        "name": "mmc_room",
        "horizon": f"{horizon!r}h",
        "territory": {"rows": 1, "cols": 1, "households": HOUSEHOLDS},
        "channels": {"patrol": False, "reports": {"enabled": False}},
        "categories": {"dispute": {
            "rate": lam * 24.0 * 1000.0 / HOUSEHOLDS, "profile": "flat",
            "dispute": {"on_spot_success": 0, "walk_in": 1},
        }},
        "mediation": {"community": {
            "mediators": c, "hours": None,
            "duration": {"dist": "exponential", "mean": f"{service_mean!r}h"},
            "success": 1, "referral_delay": 0,
        }},
    }


def govsim_room(scenario: govsim.Scenario, seed: int) -> dict[str, Any]:
    """One timed govsim run: build, event loop, tables, station table."""
    t0 = time.perf_counter()
    sim = govsim.Simulation(scenario, seed)
    t1 = time.perf_counter()
    loop_time: list[float] = []
    env_run = sim.env.run

    def timed_run(*args: Any, **kwargs: Any) -> Any:
        s = time.perf_counter()
        out = env_run(*args, **kwargs)
        loop_time.append(time.perf_counter() - s)
        return out

    sim.env.run = timed_run  # type: ignore[method-assign]
    result = sim.run()
    t2 = time.perf_counter()
    table = result.stations
    t3 = time.perf_counter()
    loop = loop_time[0]
    times = {"build": t1 - t0, "loop": loop, "tables": (t2 - t1) - loop, "stations": t3 - t2,
             "total": t3 - t0}
    served = result.sessions[result.sessions["started"].notna()]
    return {"times": times, "result": result, "sim": sim,
            "arrived": served["arrived"].to_numpy(), "waits": served["wait"].to_numpy(),
            "mean_wait": float(table["wait_mean"].iloc[0]), "p_wait": float(table["p_wait"].iloc[0]),
            "n_arrived": int(table["n_arrived"].iloc[0])}


# --------------------------------------------------------------------------- checks


def batch_means_ci(arrived: np.ndarray, waits: np.ndarray, horizon: float, warmup: float,
                   batches: int = 20) -> tuple[float, float]:
    """Mean wait and 95% Student-t half-width from ``batches`` batches of equal length in
    arrival time over ``[warmup, horizon)`` (customers in arrival order)."""
    order = np.argsort(arrived, kind="stable")
    a, w = arrived[order], waits[order]
    keep = a >= warmup
    a, w = a[keep], w[keep]
    edges = np.linspace(warmup, horizon, batches + 1)
    idx = np.searchsorted(edges, a, side="right") - 1
    means = np.array([w[idx == b].mean() for b in range(batches)])
    half = stats.t.ppf(0.975, batches - 1) * means.std(ddof=1) / math.sqrt(batches)
    return float(means.mean()), float(half)


def fcfs_replay(arrived: np.ndarray, duration: np.ndarray, c: int) -> np.ndarray:
    """Waits of an FCFS c-server queue with these arrival times and service times
    (Kiefer-Wolfowitz: each customer takes the server that frees first)."""
    free = [0.0] * c
    out = np.empty(len(arrived))
    for i, (a, d) in enumerate(zip(arrived.tolist(), duration.tolist())):
        f = heapq.heappop(free)
        start = a if a > f else f
        out[i] = start - a
        heapq.heappush(free, start + d)
    return out


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=200_000, help="expected arrivals (default: %(default)s)")
    ap.add_argument("--servers", "-c", type=int, default=3, help="servers c (default: %(default)s)")
    ap.add_argument("--rho", type=float, default=0.8, help="utilisation lambda/(c mu) (default: %(default)s)")
    ap.add_argument("--service-mean", type=float, default=1.0, help="1/mu in hours (default: %(default)s)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each model (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the first run (default: %(default)s)")
    ap.add_argument("--profile", action="store_true", help="profile one govsim run and print the top functions")
    ap.add_argument("--top", type=int, default=30, help="functions to list with --profile (default: %(default)s)")
    ap.add_argument("--json", metavar="OUT", help="write the measurements to this JSON file")
    args = ap.parse_args(argv)

    c, s_mean = args.servers, args.service_mean
    lam = args.rho * c / s_mean
    horizon = args.customers / lam
    theory = mmc_metrics(lam, s_mean, c)
    scenario = govsim.load_scenario(room_scenario(lam, s_mean, c, horizon))
    warmup = min(0.01 * horizon, 200.0 * s_mean)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    cpu0 = time.process_time()
    wall0 = time.perf_counter()

    bare_times: list[float] = []
    gov_times: list[dict[str, float]] = []
    bare = gov = None
    for k in range(args.repeat):
        seed = args.seed + k
        t0 = time.perf_counter()
        bare = bare_mmc(lam, s_mean, c, horizon, seed)
        bare_times.append(time.perf_counter() - t0)
        if k < args.repeat - 1:
            bare = None
        gov = govsim_room(scenario, seed)
        gov_times.append(gov["times"])
        if k < args.repeat - 1:
            gov = None
        print(f"run {k + 1}/{args.repeat}: bare {bare_times[-1]:.2f} s, govsim total "
              f"{gov_times[-1]['total']:.2f} s (loop {gov_times[-1]['loop']:.2f} s)", flush=True)
    cpu_s = time.process_time() - cpu0
    wall_s = time.perf_counter() - wall0
    assert bare is not None and gov is not None

    best_bare = min(bare_times)
    best = {p: min(t[p] for t in gov_times) for p in gov_times[0]}
    med_bare = float(np.median(bare_times))
    med = {p: float(np.median([t[p] for t in gov_times])) for p in gov_times[0]}
    ratio_total = best["total"] / best_bare
    ratio_loop = best["loop"] / best_bare
    n_bare = len(bare["waits"])
    n_gov = gov["n_arrived"]

    # Erlang C: batch means over the last run of each model
    bare_mean, bare_hw = batch_means_ci(bare["arrived"], bare["waits"], horizon, warmup)
    gov_mean, gov_hw = batch_means_ci(gov["arrived"], gov["waits"], horizon, warmup)
    wq = theory["mean_wait"]
    # govsim's waits replayed through the FCFS recursion on its own arrivals and durations
    # (a session still running at the end holds its server to the end: duration +inf)
    ses = gov["result"].sessions.sort_values("arrived", kind="stable")
    started = ses[ses["started"].notna()]
    duration = (started["ended"] - started["started"]).fillna(math.inf).to_numpy()
    replay = fcfs_replay(started["arrived"].to_numpy(), duration, c)
    replay_diff = float(np.max(np.abs(replay - started["wait"].to_numpy()))) if len(started) else 0.0

    info: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "govsim": f"{Path(govsim.__file__).resolve().parent} ({code_version()})",
        "python": platform.python_version(), "simpy": simpy.__version__, "numpy": np.__version__,
        "pandas": pd.__version__, "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "cpu_affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "servers": c, "rho": args.rho, "arrival_rate_per_h": lam, "service_mean_h": s_mean,
        "horizon_h": horizon, "expected_customers": args.customers, "repeat": args.repeat,
        "customers_bare_last": n_bare, "customers_govsim_last": n_gov,
        "bare_s": [round(t, 4) for t in bare_times],
        "govsim_s": [{p: round(v, 4) for p, v in t.items()} for t in gov_times],
        "best_bare_s": round(best_bare, 4), "best_govsim_s": {p: round(v, 4) for p, v in best.items()},
        "median_bare_s": round(med_bare, 4), "median_govsim_s": {p: round(v, 4) for p, v in med.items()},
        "ratio_total": round(ratio_total, 3), "ratio_loop": round(ratio_loop, 3),
        "ratio_total_median": round(med["total"] / med_bare, 3),
        "ratio_total_per_customer": round((best["total"] / n_gov) / (best_bare / n_bare), 3),
        "target_ratio": TARGET_RATIO, "target_met": bool(ratio_total <= TARGET_RATIO),
        "theory": theory,
        "bare_mean_wait": bare_mean, "bare_ci95_half": bare_hw,
        "govsim_mean_wait": gov_mean, "govsim_ci95_half": gov_hw,
        "govsim_station_wait_mean": gov["mean_wait"], "govsim_station_p_wait": gov["p_wait"],
        "bare_consistent_with_erlang_c": bool(abs(bare_mean - wq) <= bare_hw),
        "govsim_consistent_with_erlang_c": bool(abs(gov_mean - wq) <= gov_hw),
        "fcfs_replay_max_abs_diff_h": replay_diff,
        "cpu_s": round(cpu_s, 3), "wall_s": round(wall_s, 3),
        "load_avg_1min_before": load_before,
        "load_avg_1min_after": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }

    print()
    print(f"govsim {info['govsim']}, Python {info['python']}, SimPy {info['simpy']}")
    print(f"M/M/{c}: lambda {lam:g}/h, 1/mu {s_mean:g} h, rho {args.rho:g}, horizon {horizon:,.0f} h; "
          f"customers: bare {n_bare:,}, govsim {n_gov:,} (last run)")
    print()
    print(f"{'':<22}{'best s':>9}{'median s':>10}{'us/customer':>13}")
    print(f"{'bare SimPy':<22}{best_bare:>9.3f}{med_bare:>10.3f}{1e6 * best_bare / n_bare:>13.2f}")
    for p in ("build", "loop", "tables", "stations", "total"):
        print(f"{'govsim ' + p:<22}{best[p]:>9.3f}{med[p]:>10.3f}{1e6 * best[p] / n_gov:>13.2f}")
    print()
    print(f"ratio govsim total / bare: {ratio_total:.2f}  (median {info['ratio_total_median']:.2f}, "
          f"per customer {info['ratio_total_per_customer']:.2f})")
    print(f"ratio govsim loop  / bare: {ratio_loop:.2f}")
    print(f"target <= {TARGET_RATIO}: {'met' if info['target_met'] else 'NOT met'}")
    print()
    print(f"Erlang C mean wait {wq:.4f} h, P(wait) {theory['p_wait']:.4f}")
    print(f"  bare   mean wait {bare_mean:.4f} +- {bare_hw:.4f} (95% batch means)  "
          f"{'consistent' if info['bare_consistent_with_erlang_c'] else 'NOT consistent'}")
    print(f"  govsim mean wait {gov_mean:.4f} +- {gov_hw:.4f} (95% batch means)  "
          f"{'consistent' if info['govsim_consistent_with_erlang_c'] else 'NOT consistent'}; "
          f"station table: wait_mean {gov['mean_wait']:.4f}, p_wait {gov['p_wait']:.4f}")
    print(f"  govsim waits vs FCFS replay of its own arrivals and durations: max |diff| {replay_diff:.2e} h")
    print(f"CPU {cpu_s:.1f} s of {wall_s:.1f} s wall; 1-min load average {load_before or 0:.2f} before, "
          f"{info['load_avg_1min_after'] or 0:.2f} after (this process counts 1)")
    if cpu_s < 0.9 * wall_s:
        print("warning: this process got less than 90% of a core; the machine was busy and the "
              "timings are unreliable")
    if info["cpu_affinity"] is not None and len(info["cpu_affinity"]) > 1:
        print(f"warning: not pinned to one core (affinity {info['cpu_affinity']}); use `taskset -c 0`")

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        govsim_room(scenario, args.seed)
        prof.disable()
        print_profile(prof, args.top, "govsim", keys=("tottime", "cumulative"))
    write_json(args.json, info)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
