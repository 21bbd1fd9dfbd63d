"""Command line: ``govsim run | compare | validate | reference``.

Bad input (a wrong scenario file, an unknown key, a bad ``--set``) prints one
clear message naming the file and the field and exits with status 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

EXIT_BAD_INPUT = 2


def _overrides(pairs: Sequence[str] | None) -> dict[str, Any]:
    from govsim.scenario import parse_override

    out: dict[str, Any] = {}
    for text in pairs or ():
        key, value = parse_override(text)
        out[key] = value
    return out


def _load(path: str, sets: Sequence[str] | None):  # -> Scenario
    from govsim.scenario import load_scenario

    return load_scenario(path, overrides=_overrides(sets))


def _seed(args: argparse.Namespace, scenario: Any) -> int:
    if args.seed is not None:
        return args.seed
    return scenario.seed if scenario.seed is not None else 0


def format_summary(table: pd.DataFrame | pd.Series) -> str:
    """A summary (or side-by-side summaries) as aligned text."""
    if isinstance(table, pd.Series):
        table = table.to_frame()

    def fmt(x: Any) -> str:
        if isinstance(x, str):
            return x
        if pd.isna(x):
            return "–"
        if float(x).is_integer() and abs(x) >= 1:
            return f"{int(x):d}"
        return f"{x:.4g}"

    return table.map(fmt).to_string()


def cmd_run(args: argparse.Namespace) -> int:
    from govsim.engine import Simulation

    scenario = _load(args.scenario, args.set)
    seed = _seed(args, scenario)
    result = Simulation(scenario, seed).run()
    print(f"{scenario.name}  (seed {seed}, horizon {scenario.horizon / 24:g} days, "
          f"policy {scenario.policy})")
    print(format_summary(result.summary()))
    if args.out:
        files = result.to_dir(args.out, fmt=args.format)
        print(f"\nwrote {len(files)} files to {args.out}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from govsim.engine import Simulation

    a = _load(args.a, args.set)
    b = _load(args.b, args.set)
    seed = _seed(args, a)
    sa = Simulation(a, seed).run().summary()
    sb = Simulation(b, seed).run().summary()
    names = [a.name, b.name] if a.name != b.name else [f"A: {a.name}", f"B: {b.name}"]
    table = pd.DataFrame({names[0]: sa, names[1]: sb})
    table["difference"] = sb - sa
    rel = (sb - sa) / sa.abs()
    table["change"] = [f"{r:+.1%}" if pd.notna(r) and abs(r) != float("inf") else "–" for r in rel]
    print(f"{names[0]} vs {names[1]}  (same seed {seed}: both see the same issues)")
    print(format_summary(table))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from govsim.engine import Simulation

    scenario = _load(args.scenario, args.set)
    Simulation(scenario, 0)  # builds the district, workers and routes: catches what only they see
    print(f"{args.scenario}: OK ({scenario.name}: {len(scenario.categories)} categories, "
          f"policy {scenario.policy}, horizon {scenario.horizon / 24:g} days)")
    return 0


def cmd_reference(args: argparse.Namespace) -> int:
    from govsim.scenario.reference import scenario_reference

    print(scenario_reference(), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="govsim", description="Simulate grid-based community governance (网格化管理).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's, else 0)")
        p.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="override a scenario key, e.g. --set workers.per_grid=2 (repeatable)")

    p = sub.add_parser("run", help="run a scenario and print its summary")
    p.add_argument("scenario", help="scenario YAML file")
    common(p)
    p.add_argument("--out", metavar="DIR", help="write the result tables to DIR")
    p.add_argument("--format", choices=("auto", "csv", "parquet"), default="auto",
                   help="table format for --out (auto: Parquet if pyarrow is installed, else CSV)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("compare", help="run two scenarios on the same seed and compare")
    p.add_argument("a", help="first scenario (the baseline)")
    p.add_argument("b", help="second scenario")
    common(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("validate", help="check a scenario file and explain what is wrong")
    p.add_argument("scenario")
    p.add_argument("--set", action="append", metavar="KEY=VALUE")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("reference", help="print the scenario file reference (Markdown)")
    p.set_defaults(func=cmd_reference)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from govsim.scenario import ScenarioError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ScenarioError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # pragma: no cover - e.g. `govsim reference | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
