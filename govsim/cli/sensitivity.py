"""``govsim sensitivity``: Morris screening or Sobol indices of scenario parameters.

    govsim sensitivity SCENARIO --param KEY=LOW,HIGH [--param ...] [--method morris|sobol]
                       [-n N] [--replications R] [--metric NAME ...] [--out DIR] [--jobs J]
                       [--scheduler ADDR]

Prints, per metric, the indices of every factor with their intervals and the
share of simulation noise; with ``--out DIR`` also writes the results store,
``indices.csv``, ``noise.csv`` and the figure (``sensitivity.png``). See
``docs/sensitivity.md``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from govsim.cli import (
    EXIT_BAD_INPUT,
    SCENARIO_HELP,
    _experiment_kwargs,
    _footer,
    _load,
    _out_problem,
    _plot_lang,
    _positive_int,
    _seed,
    add_common,
    add_experiment,
)


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from govsim.experiments import ExperimentError
    from govsim.experiments.designs import Factor, parse_factor
    from govsim.experiments.sensitivity import DEFAULT_N, METHODS, _salib, sensitivity
    from govsim.metrics import summary_keys

    method = str(args.method).strip().lower()
    if method not in METHODS:
        raise ExperimentError(f"--method {args.method!r}: unknown method; expected one of: "
                              f"{', '.join(METHODS)} (morris: screening, sobol: variance shares)")
    try:
        _salib()
    except ImportError as err:  # SALib is an optional extra
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not args.param:
        raise ExperimentError("sensitivity needs at least one --param KEY=LOW,HIGH "
                              "(e.g. --param workers.per_grid=1,3)")
    factors: list[Factor] = []
    for text in args.param:
        factor = parse_factor(text)
        if factor.key in [f.key for f in factors]:
            raise ExperimentError(f"--param {factor.key} is given twice")
        factors.append(factor)
    known = summary_keys()
    unknown = [m for m in args.metric or () if m not in known]
    if unknown:
        raise ExperimentError(f"--metric {unknown[0]!r}: unknown metric; known: {', '.join(known)}")
    problem = _out_problem(args.out)  # before the runs, not after them
    if problem is not None:
        print(f"error: --out {args.out}: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    lang = _plot_lang(args.lang) if args.out else "en"
    scenario = _load(args.scenario, args.set, args.warmup)
    kwargs: dict[str, Any] = _experiment_kwargs(args)
    result = sensitivity(scenario, factors, method=method, n=args.n or DEFAULT_N[method],
                         replications=args.replications, metrics=args.metric or None,
                         seed=_seed(args, scenario), levels=args.levels,
                         second_order=args.second_order, **kwargs)
    print(result.to_string())
    if args.out:
        from pathlib import Path

        path = Path(args.out) / f"sensitivity.{args.format}"
        fig = result.figure(lang=lang)
        try:
            fig.savefig(path, dpi=150)
        except OSError as err:
            print(f"error: {path}: cannot write the figure ({err.strerror or err})", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(f"\nwrote {Path(args.out) / 'indices.csv'}, {Path(args.out) / 'noise.csv'} and {path}")
    _footer(result, args)
    return 0


def register(sub: Any) -> None:
    """Add ``govsim sensitivity`` to the sub-commands."""
    p = sub.add_parser(
        "sensitivity",
        help="which parameters matter: Morris screening or Sobol indices over --param ranges, "
             "with the simulation noise separated",
        description="Global sensitivity analysis with SALib: Morris screening (cheap, ranks "
                    "factors) or Sobol indices (shares of variance), on the means of "
                    "--replications runs per point, common random numbers across points.")
    p.add_argument("scenario", help=SCENARIO_HELP)
    p.add_argument("--param", action="append", metavar="KEY=LOW,HIGH",
                   help="a factor and its range, e.g. --param workers.per_grid=1,3 (whole-number "
                        "ends: whole numbers) or --param workers.dwell=1min,5min (repeatable)")
    p.add_argument("--method", default="morris", metavar="morris|sobol",
                   help="morris (screening; default) or sobol (variance shares)")
    p.add_argument("-n", type=_positive_int, default=None, metavar="N",
                   help="Morris: trajectories (default 10; N·(k+1) points); Sobol: base points, "
                        "rounded up to a power of two (default 64; N·(k+2) points)")
    p.add_argument("-r", "--replications", type=_positive_int, default=2, metavar="R",
                   help="runs per point (default 2; 2 or more separate the simulation noise)")
    p.add_argument("--metric", action="append", metavar="NAME",
                   help="metric to analyse (repeatable; default: discovery_delay_mean, "
                        "resolution_time_mean, on_time_rate, worker_utilisation)")
    p.add_argument("--levels", type=_positive_int, default=4, metavar="L",
                   help="Morris: levels of the grid (even; default 4)")
    p.add_argument("--second-order", action="store_true",
                   help="Sobol: also the second-order indices S2 (N·(2k+2) points)")
    add_common(p)
    add_experiment(p, 2, replications=False)
    p.add_argument("--out", metavar="DIR",
                   help="write the results store, indices.csv, noise.csv and the figure to DIR "
                        "(rerun to resume)")
    p.add_argument("--lang", choices=("en", "zh"), default="en",
                   help="figure label language (zh needs a CJK font)")
    p.add_argument("--format", choices=("png", "svg", "pdf"), default="png", help="figure format")
    p.set_defaults(func=cmd_sensitivity)
