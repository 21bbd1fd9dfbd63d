"""``govsim city CITY.yaml``: run a city — its districts as shards in parallel, with the
services they share (a 12345 call centre, departments, a mediation centre) — and print the city's summary and a
per-district breakdown.

    govsim city benchmarks/city_small.yaml                          # local processes, one per core
    govsim city benchmarks/city_small.yaml --jobs 1                 # in this process
    govsim city benchmarks/city_small.yaml --scheduler tcp://host:8786 --out runs/city
    govsim city benchmarks/city_small.yaml --set city.shared.hotline.operators=1

The result is the same whatever the number of workers (``docs/scale.md``).
"""

from __future__ import annotations

import argparse
import time

from govsim.cli import _overrides, _positive_int, add_common, format_summary, plural

#: columns of the per-district breakdown printed (all are in by_district.csv with --out)
BREAKDOWN = ("n_issues", "resolution_rate", "discovery_delay_mean", "resolution_time_p90",
             "worker_utilisation", "backlog_end")


def cmd_city(args: argparse.Namespace) -> int:
    from govsim.city import load_city, run_city
    from govsim.city.config import describe_city, describe_shared
    from govsim.experiments import ExperimentError

    city = load_city(args.city, overrides=_overrides(args.set))
    seed = args.seed if args.seed is not None else (city.seed if city.seed is not None else 0)
    print(f"{city.name}  (seed {seed}, {plural(len(city.districts), 'district')}, horizon {city.horizon:g} h)")
    shared = describe_shared(city)
    if shared:
        print(f"shared: {shared}")
    print(describe_city(city))
    t0 = time.perf_counter()
    try:
        result = run_city(city, seed, jobs=args.jobs, scheduler=args.scheduler, sharded=not args.one_engine)
    except ValueError as err:  # e.g. a bad seed
        raise ExperimentError(str(err)) from None
    wall = time.perf_counter() - t0
    print()
    print(format_summary(result.summary()))
    print()
    print("by district:")
    table = result.by_district()[list(BREAKDOWN)]
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    how = ("one engine" if args.one_engine else
           f"dask at {args.scheduler}" if args.scheduler else
           f"{plural(args.jobs, 'process', 'processes')}" if args.jobs else "local processes")
    print(f"\n{wall:.1f} s ({how})")
    if args.out:
        written = result.to_dir(args.out)
        print(f"wrote {plural(len(written), 'file')} to {args.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("city", help="run a city: districts as shards in parallel, with shared city services",
                       description="Run a city file (city: districts:, shared:): each district runs as a "
                                   "shard (local processes or a Dask cluster); the shared services (a 12345 "
                                   "call centre, departments, a mediation centre) serve the merged stream of "
                                   "every district. The result does not depend "
                                   "on the number of workers (docs/scale.md).")
    p.add_argument("city", metavar="CITY", help="city file (YAML with a top-level `city:`)")
    add_common(p)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=_positive_int, default=None, metavar="J",
                       help="local worker processes (default: one per core, at most one per district; "
                            "1: in this process)")
    where.add_argument("--scheduler", metavar="ADDR",
                       help='run the shards on a Dask cluster, e.g. tcp://host:8786 (pip install '
                            '"govsim[distributed]"; govsim installed on the workers)')
    where.add_argument("--one-engine", action="store_true",
                       help="run every district and the shared centre in one engine, in this process "
                            "(the same result, slower: the reference for the sharded run)")
    p.add_argument("--out", metavar="DIR",
                   help="write the city's tables (CSV, a `district` column), summary.csv and "
                        "by_district.csv to DIR")
    p.set_defaults(func=cmd_city)
