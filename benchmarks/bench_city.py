"""Time a 16-district city-year on a local Dask cluster with 1, 2 and 4 workers (issue 16).

The city: 16 districts, each ``benchmarks/dongcheng.yaml`` (1,650 grids, 990 workers,
about 480,000 issues a year) on policy ``hotline_centre``, all sharing one city 12345
centre (``--operators``, 5 minutes a call) — about 7.7 million issues and 4 million
calls a year. Each district runs with its own seed (spawned from the city seed by
district index), so the city is 16 different Dongcheng-size districts, not one 16 times.

Run it from the repository root::

    python benchmarks/bench_city.py --small                  # 16 districts × 10 days, a few minutes
    python benchmarks/bench_city.py                          # the city-year: 1, 2 and 4 workers
    python benchmarks/bench_city.py --workers 2 --horizon 30d
    python benchmarks/bench_city.py --json benchmarks/results/city_issue16.json
    python benchmarks/bench_city.py --small --services     # also a city department and mediation centre

``--services`` also sends each district's safety hazards to a department ``city_services``
and its disputes (settled on the spot 70% of the time) up to mediation, and shares both
(one city department with the districts' staff pooled, a city mediation centre;
govsim.city.services): the districts then run twice, around the stations (steps
``handoffs``, ``stations`` and ``districts``).

For each number of workers it starts a ``dask.distributed.LocalCluster`` (one thread per
worker process), runs ``govsim.run_city`` on it, and reports the wall time of each step
(calls, centre, districts, the city's tables and summary), the peak resident memory of
this process (the client: it holds the city's tables) and of each worker process (as
the districts report it), and the hashes of the city's tables: they must be equal for
every number of workers. With 4 workers on a 2-core machine the cluster is
oversubscribed (two processes per core): that row shows the cost of oversubscription,
not a speed-up. The extrapolation to a 16-worker cluster printed at the end is a model
(serial steps + the district tasks' summed wall time / 16), not a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from _common import code_version, peak_rss_mib  # noqa: E402

import govsim  # noqa: E402,F401
from govsim.city import load_city  # noqa: E402
from govsim.city import run as city_run  # noqa: E402


def city_document(n: int, horizon: str, operators: int, seed: int, services: bool = False) -> dict[str, Any]:
    """The benchmark city: ``n`` Dongcheng-size districts on hotline_centre sharing one centre
    (``services``: also their department ``city_services``, its staff pooled, and a city
    mediation centre)."""
    shared: dict[str, Any] = {"hotline": {"operators": operators, "call_handling": "5min"}}
    district_set: dict[str, Any] = {"policy": "hotline_centre"}
    if services:  # safety hazards go to a department; disputes a grid worker cannot settle, to mediation
        department = {"staff": 10, "hours": [{"start": "07:00", "end": "22:00"}],
                      "service": {"dist": "lognormal", "mean": "1.5h", "sd": "1h"}}
        district_set |= {"departments.city_services": department,
                         "categories.safety_hazard.department": "city_services",
                         "categories.neighbour_dispute.dispute": {"on_spot_success": 0.7, "walk_in": 0.1}}
        shared["departments"] = {"city_services": {**department, "staff": 10 * n}}  # the districts' staff pooled
        shared["mediation"] = {"mediators": 2 * n, "referral_delay": "1d", "success": 0.6, "hours": None,
                               "duration": {"dist": "lognormal", "mean": "3h", "sd": "1.5h"}}
    return {"city": {
        "name": f"city_{n}x_dongcheng", "horizon": horizon, "warmup": "0h", "seed": seed,
        "description": f"{n} Dongcheng-size districts (benchmarks/dongcheng.yaml) sharing one 12345 centre"
                       + (", a city department and a mediation centre" if services else ""),
        "districts": [{"name": f"d{k:02d}", "scenario": str(HERE / "dongcheng.yaml"),
                       "set": district_set} for k in range(n)],
        "shared": shared,
    }}


class Steps:
    """Wall time of the steps of run_city (wrapping its module-level step functions)."""

    def __init__(self) -> None:
        self.t: dict[str, float] = {}
        self._orig = (city_run.simulate_centre, city_run._result, city_run.simulate_station)

    def __enter__(self) -> Steps:
        simulate, result, station = self._orig
        t0 = time.perf_counter()
        self.t["start"] = t0

        def timed_station(*a: Any, **k: Any) -> Any:
            self.t.setdefault("handoffs_done", time.perf_counter())
            out = station(*a, **k)
            self.t["stations_done"] = time.perf_counter()
            return out

        def timed_centre(*a: Any, **k: Any) -> Any:
            self.t["calls_done"] = time.perf_counter()
            out = simulate(*a, **k)
            self.t["centre_done"] = time.perf_counter()
            return out

        def timed_result(*a: Any, **k: Any) -> Any:
            self.t["districts_done"] = time.perf_counter()
            return result(*a, **k)

        city_run.simulate_centre = timed_centre  # type: ignore[assignment]
        city_run._result = timed_result  # type: ignore[assignment]
        city_run.simulate_station = timed_station  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: Any) -> None:
        city_run.simulate_centre, city_run._result, city_run.simulate_station = self._orig  # type: ignore[assignment]


def run_once(city: Any, workers: int, seed: int, memory_limit: str) -> dict[str, Any]:
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=memory_limit,
                      dashboard_address=None, host="127.0.0.1") as cluster, Client(cluster) as client:
        client.run(lambda: None)  # workers up
        with Steps() as steps:
            result = city_run.run_city(city, seed, executor=client)
            t_run = time.perf_counter()
            summary = result.summary()
            by_district = result.by_district()
            t_tables = time.perf_counter()
            hashes = result.hashes()
            t_hash = time.perf_counter()
    t = steps.t
    outputs = result.outputs
    per_worker: dict[str, float] = {}
    for o in outputs:
        per_worker[o.host] = max(per_worker.get(o.host, 0.0), o.peak_rss_mib)
    n_issues = int(sum(len(o.tables["issues"]) for o in outputs))
    row = {
        "workers": workers,
        "wall_s": round(t_tables - t["start"], 1),
        "steps_s": {"calls": round(t["calls_done"] - t["start"], 1),
                    "centre": round(t["centre_done"] - t["calls_done"], 1),
                    **({"handoffs": round(t["handoffs_done"] - t["centre_done"], 1),
                        "stations": round(t["stations_done"] - t["handoffs_done"], 1)} if "stations_done" in t else {}),
                    "districts": round(t["districts_done"] - t.get("stations_done", t["centre_done"]), 1),
                    "city_tables_and_summary": round(t_tables - t_run + (t_run - t["districts_done"]), 1),
                    "hashes": round(t_hash - t_tables, 1)},
        "district_task_s": {"sum": round(sum(o.seconds for o in outputs), 1),
                            "max": round(max(o.seconds for o in outputs), 1)},
        "peak_rss_mib": {"client": round(peak_rss_mib()),
                         "worker_max": round(max(per_worker.values())),
                         "workers_sum": round(sum(per_worker.values()))},
        "n_issues": n_issues, "n_calls": int(summary["calls"]),
        "issues_per_s": round(n_issues / (t_tables - t["start"])),
        "summary": {k: (None if v != v else float(v)) for k, v in summary.items()},
        "shared_stations": [o.spec.name for o in result.services],
        "by_district_n_issues": by_district["n_issues"].astype(int).tolist(),
        "hashes": hashes,
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", action="store_true", help="16 districts × 10 days (minutes, not a city-year)")
    ap.add_argument("--districts", type=int, default=16)
    ap.add_argument("--horizon", default=None, help="default 365d (--small: 10d)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="Dask workers to try (default 1 2 4)")
    ap.add_argument("--operators", type=int, default=60,
                    help="operators of the shared centre (default 60: about 80%% busy)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--services", action="store_true",
                    help="also share a city department and a mediation centre (the districts run twice)")
    ap.add_argument("--memory-limit", default="auto", help="per Dask worker (default: auto, RAM / workers)")
    ap.add_argument("--json", help="write the results here (JSON)")
    ap.add_argument("--merge", nargs="+", metavar="JSON",
                    help="merge the --json files of separate runs (one per number of workers, each in its "
                         "own process so that the client's peak memory is its own) into --json")
    args = ap.parse_args(argv)
    horizon = args.horizon or ("10d" if args.small else "365d")
    rows = []
    if args.merge:
        first = json.loads(Path(args.merge[0]).read_text())
        args.districts, horizon, args.operators = first["districts"], first["horizon"], first["operators"]
        args.seed, args.small = first["seed"], first["small"]
        args.services = first.get("services", False)
        for f in args.merge:
            rows += json.loads(Path(f).read_text())["runs"]
    else:
        city = load_city(city_document(args.districts, horizon, args.operators, args.seed, args.services))
        print(f"{city.name}: {args.districts} districts × {horizon}, shared centre {args.operators} operators; "
              f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}", flush=True)
    for w in ([] if args.merge else args.workers):
        row = run_once(city, w, args.seed, args.memory_limit)
        rows.append(row)
        s = row["steps_s"]
        stations = f"hand-offs {s['handoffs']} s, stations {s['stations']} s, " if "stations" in s else ""
        print(f"{w} worker{'s' if w > 1 else ' '}: {row['wall_s']:7.1f} s  (calls {s['calls']} s, centre "
              f"{s['centre']} s, {stations}districts {s['districts']} s, city tables "
              f"{s['city_tables_and_summary']} s)  "
              f"{row['n_issues']:,} issues, {row['n_calls']:,} calls; peak RSS client "
              f"{row['peak_rss_mib']['client']} MiB, worker max {row['peak_rss_mib']['worker_max']} MiB; "
              f"load {row['load_avg_1min']}", flush=True)
    rows.sort(key=lambda r: r["workers"])
    same = all(r["hashes"] == rows[0]["hashes"] for r in rows)
    print(f"tables identical for {', '.join(str(r['workers']) for r in rows)} workers: {same}")
    base = rows[0]
    serial = base["steps_s"]["centre"] + base["steps_s"].get("stations", 0.0) + base["steps_s"]["city_tables_and_summary"]
    # (the hand-off pass: its wall time with the fewest workers, spread like the district tasks)
    cpu = base["district_task_s"]["sum"] + base["steps_s"]["calls"] + base["steps_s"].get("handoffs", 0.0) * base["workers"]
    extrapolated = serial + cpu / 16
    print(f"extrapolation (a model, not a measurement) to a 16-worker cluster, one district per worker: "
          f"serial steps {serial:.0f} s + district work {cpu:.0f} s / 16 ≈ {extrapolated:.0f} s")
    if args.json:
        out = {"what": "benchmarks/bench_city.py (issue 16): a city of Dongcheng-size districts sharing one "
                       "12345 centre, on a local Dask cluster",
               "code": code_version(), "python": platform.python_version(), "machine": platform.machine(),
               "cores": os.cpu_count(), "districts": args.districts, "horizon": horizon,
               "operators": args.operators, "seed": args.seed, "small": args.small, "services": args.services,
               "oversubscribed": [r["workers"] for r in rows if r["workers"] > (os.cpu_count() or 1)],
               "identical_tables": same, "runs": rows,
               "extrapolation_16_workers_s": {"model": "serial steps (centre, stations, city tables) + (calls, "
                                                       "hand-offs, district tasks: seconds summed) / 16",
                                              "value": round(extrapolated)}}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
