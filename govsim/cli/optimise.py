"""``govsim optimise``: the cheapest configuration meeting service targets with a stated confidence.

    govsim optimise SCENARIO --vary workers.per_grid=1..4 --target "resolution_time_p90<=24h"
        [--vary KEY=LO..HI[:STEP] ...] [--target ...] [--minimise workers|cost]
        [--cost worker=60000 ...] [--confidence 0.95] [--n0 5] [--max-n 80]
        [--method auto|grid|greedy] [--no-monotone] [--control family|decision]
        [--out DIR] [--plot FILE] [--lang en|zh]

Exit status 0 when a configuration was shown to meet every target, 1 when none was (the
result says why), 2 for bad input. See ``docs/optimise.md``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_NONE_FOUND = 1


def cmd_optimise(args: argparse.Namespace) -> int:
    from govsim.cli import _footer, _load, _out_problem, _plot_lang
    from govsim.experiments import ExperimentError
    from govsim.experiments.optimise import optimise, parse_cost, parse_target, parse_vary

    if not args.vary:
        raise ExperimentError("optimise needs at least one --vary KEY=LO..HI (e.g. --vary workers.per_grid=1..4)")
    if not args.target:
        raise ExperimentError('optimise needs at least one --target, e.g. --target "resolution_time_p90<=24h"')
    vary: dict[str, Any] = {}
    for text in args.vary:
        key, values = parse_vary(text)
        if key in vary:
            raise ExperimentError(f"--vary {key} is given twice")
        vary[key] = values
    targets = [parse_target(t) for t in args.target]
    costs: dict[str, float] = {}
    for text in args.cost or ():
        role, amount = parse_cost(text)
        if role in costs:
            raise ExperimentError(f"--cost {role} is given twice")
        costs[role] = amount
    problem = _out_problem(args.out)
    if problem is not None:
        raise ExperimentError(f"--out {args.out}: {problem}")
    lang = _plot_lang(args.lang) if args.plot else "en"
    scenario = _load(args.scenario, args.set, args.warmup)
    result = optimise(scenario, vary, targets, minimise=args.minimise, costs=costs or None,
                      confidence=args.confidence, n0=args.n0, max_n=args.max_n, seed=args.seed,
                      method=args.method, monotone=not args.no_monotone, control=args.control,
                      jobs=args.jobs, scheduler=args.scheduler, out=args.out, force=args.force,
                      progress=False if args.quiet else None)
    print(result.to_string())
    if args.out:
        _footer(result, args)
    if args.plot:
        fig = result.pareto(lang=lang)
        try:
            fig.savefig(args.plot, dpi=150)
        except (OSError, ValueError) as err:
            raise ExperimentError(f"--plot {args.plot}: cannot write the figure ({err})") from None
        print(f"wrote {args.plot}")
    return 0 if result.found else EXIT_NONE_FOUND


def _confidence(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 0.95, got {text!r}") from None
    if not 0.5 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a confidence in [0.5, 1), e.g. 0.95, got {text!r}")
    return value


def register(sub: Any) -> None:
    from govsim.cli import SCENARIO_HELP, add_common, add_experiment, whole_number

    p = sub.add_parser("optimise", help="the cheapest configuration meeting service targets with a "
                                        "stated confidence (sequential procedure)")
    p.add_argument("scenario", help=SCENARIO_HELP)
    p.add_argument("--vary", action="append", metavar="KEY=LO..HI[:STEP]",
                   help="a key to vary: whole numbers LO..HI, a grid LO..HI:STEP, or V1,V2,... "
                        "(repeatable); workers.communities=LO..HI allocates workers per grid "
                        "community by community")
    p.add_argument("--target", action="append", metavar="METRIC<=VALUE",
                   help='a service target, e.g. "resolution_time_p90<=24h" or "on_time_rate>=90%%" '
                        "(repeatable: every target must be met)")
    p.add_argument("--minimise", "--minimize", choices=("workers", "cost"), default="workers",
                   help="what to minimise: grid workers (all shifts), or the yearly cost of --cost "
                        "and of sensors/app (cost_per_grid)")
    p.add_argument("--cost", action="append", metavar="ROLE=AMOUNT",
                   help="yearly cost per head: worker=, mediator=, volunteer= (repeatable)")
    p.add_argument("--confidence", type=_confidence, default=0.95,
                   help="probability that every decision of the search is right (default 0.95)")
    p.add_argument("--control", choices=("family", "decision"), default="family",
                   help="family: the confidence holds for all decisions together (Bonferroni; "
                        "default); decision: for each decision alone")
    p.add_argument("--n0", type=whole_number(2), default=5, metavar="N",
                   help="replications at a candidate's first look (default 5)")
    p.add_argument("--max-n", type=whole_number(2), default=80, metavar="N",
                   help="most replications of one candidate (default 80); looks at n0, 2 n0, ...")
    p.add_argument("--method", choices=("auto", "grid", "greedy"), default="auto",
                   help="grid: every combination in order of cost; greedy: marginal allocation "
                        "(default for workers.communities)")
    p.add_argument("--no-monotone", action="store_true",
                   help="do not assume that more of a varied key never hurts (no pruning)")
    add_common(p)
    add_experiment(p, 5, replications=False)
    p.add_argument("--out", metavar="DIR",
                   help="keep every run in DIR (rerun to resume, also with other targets)")
    p.add_argument("--plot", metavar="FILE", help="write the cost-service (Pareto) figure, e.g. pareto.png")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="figure label language")
    p.set_defaults(func=cmd_optimise)


if __name__ == "__main__":  # pragma: no cover
    from govsim.cli import main

    sys.exit(main(["optimise", *sys.argv[1:]]))
