"""Command line: ``govsim run | compare | sweep | plot | report | validate | reference |
calibrate | check-fit``.

``run`` and ``compare`` run one seed, or with ``-n N`` N replications with
confidence intervals (paired differences for ``compare``); ``sweep`` runs a
full-factorial parameter sweep. Multi-run work uses all cores (``--jobs``) or a
Dask cluster (``--scheduler``) and with ``--out DIR`` writes a resumable results
store (see ``docs/experiments.md``).

Bad input (a wrong scenario file, an unknown key, a bad ``--set`` or ``--param``,
an output directory holding another experiment) prints one clear message naming
the file and the field and exits with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from govsim.units import format_duration

EXIT_BAD_INPUT = 2


def _overrides(pairs: Sequence[str] | None) -> dict[str, Any]:
    from govsim.scenario import parse_override

    out: dict[str, Any] = {}
    for text in pairs or ():
        key, value = parse_override(text)
        out[key] = value
    return out


def _load(path: str, sets: Sequence[str] | None, warmup: str | None = None):  # -> Scenario
    from govsim.scenario import load_scenario

    overrides = _overrides(sets)
    if warmup is not None:
        overrides["warmup"] = warmup
    return load_scenario(path, overrides=overrides)


def _seed(args: argparse.Namespace, scenario: Any) -> int:
    if args.seed is not None:
        return args.seed
    return scenario.seed if scenario.seed is not None else 0


def format_summary(table: pd.DataFrame | pd.Series) -> str:
    """A summary (or side-by-side summaries) as aligned text; metrics empty in every column
    (e.g. dispute metrics of a scenario without disputes), and governance metrics that are 0
    in every column (mechanisms that are off), are left out."""
    if isinstance(table, pd.Series):
        table = table.to_frame()
    from govsim.metrics import GOVERNANCE_KEYS

    numeric = table.apply(pd.to_numeric, errors="coerce")
    unused = numeric.isna().all(axis=1)
    mechanism = numeric.index.isin(GOVERNANCE_KEYS)  # hidden when 0 everywhere: mechanism off
    unused |= mechanism & numeric.fillna(0).eq(0).all(axis=1)
    table = table[~unused]

    def fmt(x: Any) -> str:
        if isinstance(x, str):
            return x
        if pd.isna(x):
            return "–"
        if float(x).is_integer() and abs(x) >= 1:
            return f"{int(x):d}"
        return f"{x:.4g}"

    return table.map(fmt).to_string()


def _experiment_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {"jobs": args.jobs, "scheduler": args.scheduler, "out": args.out, "force": args.force,
            "progress": False if args.quiet else None}


def _footer(result: Any, args: argparse.Namespace) -> None:
    info = result.info
    if args.out:
        reused = f", {info['reused']} reused" if info["reused"] else ""
        print(f"\nresults store: {args.out} ({info['computed']} runs computed on "
              f"{info['executor']}{reused}); run the same command again to resume")


def _out_problem(out: str | None) -> str | None:
    """Why the results folder ``out`` cannot be written (None: it can), found before the
    run starts rather than after it: the folder is made if missing and a file is written
    and removed in it."""
    import os
    import tempfile

    if not out:
        return None
    path = Path(out)
    if path.exists() and not path.is_dir():
        return "is a file; give a folder for the results"
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            return f"{parent} is a file, not a folder"
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".govsim-probe-")
        os.close(fd)
        os.unlink(probe)
    except (OSError, ValueError) as err:
        return f"cannot write there ({getattr(err, 'strerror', None) or err})"
    return None


def _auto_options(args: argparse.Namespace) -> dict[str, Any]:
    """``n`` and ``precision`` for replicate/compare from ``-n`` and ``--precision``."""
    from govsim.experiments import ExperimentError

    if args.replications == "auto":
        return {"n": "auto", "precision": 0.05 if args.precision is None else args.precision}
    if args.precision is not None:
        raise ExperimentError("--precision sets the target of -n auto; add -n auto (or leave "
                              "out --precision)")
    return {"n": args.replications}


def cmd_run(args: argparse.Namespace) -> int:
    from govsim.engine import Simulation

    problem = _out_problem(args.out)  # before the run, not after it
    if problem is not None:
        print(f"error: --out {args.out}: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    how = _auto_options(args)
    scenario = _load(args.scenario, args.set, args.warmup)
    if how["n"] == "auto" or how["n"] > 1:
        from govsim.experiments import replicate

        reps = replicate(scenario, seed=args.seed, max_n=_AUTO_MAX_N, **how, **_experiment_kwargs(args))
        print(reps.to_string())
        _footer(reps, args)
        return 0
    seed = _seed(args, scenario)
    result = Simulation(scenario, seed).run()
    print(f"{scenario.name}  (seed {seed}, horizon {format_duration(scenario.horizon)}, "
          f"policy {scenario.policy})")
    print(format_summary(result.summary()))
    if args.out:
        try:
            files = result.to_dir(args.out, fmt=args.format)
        except OSError as err:  # e.g. the disk filled up during the run
            print(f"error: --out {args.out}: cannot write the results ({err.strerror or err})", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(f"\nwrote {len(files)} files to {args.out}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from govsim.engine import Simulation

    how = _auto_options(args)
    a = _load(args.a, args.set, args.warmup)
    b = _load(args.b, args.set, args.warmup)
    if how["n"] == "auto" or how["n"] > 1 or args.out:
        from govsim.experiments import compare

        result = compare([a, b], seed=args.seed, max_n=_AUTO_MAX_N, **how, **_experiment_kwargs(args))
        print(result.to_string())
        _footer(result, args)
        return 0
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


def _split_values(text: str) -> list[str]:
    """``"1,2,[3,4]"`` → ``["1", "2", "[3,4]"]``: commas inside brackets or quotes do not split."""
    items, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return items


def parse_param(text: str) -> tuple[str, list[Any]]:
    """``"workers.per_grid=1,2,3"`` → ``("workers.per_grid", [1, 2, 3])``; each value is read as
    YAML, as for ``--set`` (quote a value that contains a comma: ``'a,b'``)."""
    from govsim.experiments import ExperimentError
    from govsim.scenario import ScenarioError, parse_override

    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise ExperimentError(f"--param {text!r}: expected KEY=VALUE1,VALUE2,... "
                              f"(e.g. --param workers.per_grid=1,2,3)")
    out = []
    for item in _split_values(values):
        if not item.strip():
            raise ExperimentError(f"--param {text!r}: empty value (a stray comma?)")
        try:
            out.append(parse_override(f"{key}={item}")[1])
        except ScenarioError as err:
            raise ExperimentError(f"--param {text!r}: " + "; ".join(err.messages)) from None
    return key, out


def cmd_sweep(args: argparse.Namespace) -> int:
    from govsim.experiments import ExperimentError, sweep
    from govsim.experiments.designs import latin_hypercube, parse_factor, sobol_design

    sampled = args.lhs or args.sobol
    if args.lhs and args.sobol:
        raise ExperimentError("give one of --lhs N and --sobol N")
    if args.design and (sampled or args.param):
        raise ExperimentError("--design FILE runs the points of the file; do not add --param, "
                              "--lhs or --sobol")
    params: dict[str, list[Any]] = {}
    factors = []
    for text in args.param or ():
        if sampled:
            factors.append(parse_factor(text))
            key = factors[-1].key
            if [f.key for f in factors].count(key) > 1:
                raise ExperimentError(f"--param {key} is given twice")
            continue
        key, values = parse_param(text)
        if key in params:
            raise ExperimentError(f"--param {key} is given twice; list all its values in one "
                                  f"--param {key}=v1,v2,...")
        params[key] = values
    if not (params or factors or args.design):
        raise ExperimentError("sweep needs at least one --param KEY=V1,V2,... (or --design FILE, "
                              "or --lhs N / --sobol N with --param KEY=LOW,HIGH)")
    metrics = args.metric or None
    if metrics:
        from govsim.metrics import SUMMARY_KEYS

        unknown = [m for m in metrics if m not in SUMMARY_KEYS]
        if unknown:
            raise ExperimentError(f"--metric {unknown[0]!r}: unknown metric; known: "
                                  f"{', '.join(SUMMARY_KEYS)}")
    scenario = _load(args.scenario, args.set, args.warmup)
    seed = _seed(args, scenario)
    if args.design:
        result = sweep(scenario, design=args.design, n=args.replications, seed=seed,
                       **_experiment_kwargs(args))
    elif sampled:
        make = latin_hypercube if args.lhs else sobol_design
        design = make(factors, args.lhs or args.sobol, seed=seed)
        result = sweep(scenario, design=design, n=args.replications, seed=seed,
                       **_experiment_kwargs(args))
    else:
        result = sweep(scenario, params, n=args.replications, seed=seed, **_experiment_kwargs(args))
    print(result.to_string(metrics))
    _footer(result, args)
    return 0


def _plot_lang(lang: str) -> str:
    """The figures' language; ``zh`` without a CJK font prints one warning and gives ``en``."""
    import warnings

    from govsim.plots.labels import effective_lang

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lang = effective_lang(lang)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return lang


def _print_written(files: Sequence[Path], out: str) -> None:
    print(f"wrote {len(files)} files to {out}:")
    for f in files:
        print(f"  {f}")


def cmd_plot(args: argparse.Namespace) -> int:
    from govsim.plots.output import plot_dir

    lang = _plot_lang(args.lang)
    try:
        files = plot_dir(args.results, args.out, lang=lang, fmt=args.format)
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    _print_written(files, args.out)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from govsim.engine import Simulation
    from govsim.experiments import compare
    from govsim.experiments.seeds import replication_seed
    from govsim.plots.report import write_report

    a = _load(args.a, args.set, args.warmup)
    b = _load(args.b, args.set, args.warmup)
    lang = _plot_lang(args.lang)
    cmp = compare([a, b], n=args.replications, seed=args.seed, jobs=args.jobs,
                  progress=False if args.quiet else None)
    seed = replication_seed(cmp.seed, 0)  # the runs shown in the figures: replication 0
    runs = {label: Simulation(sc, seed).run() for label, sc in zip(cmp.labels, cmp.scenarios)}
    try:
        files = write_report(cmp, runs, args.out, fmt=args.format, lang=lang)
    except OSError as err:
        print(f"error: {args.out}: cannot write the report ({err.strerror or err})", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(cmp.to_string())
    print()
    _print_written(files, args.out)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from govsim.engine import Simulation

    scenario = _load(args.scenario, args.set)
    sim = Simulation(scenario, 0)  # builds the district, workers and routes: catches what only they see
    if scenario.territory.map_geojson:  # read by the figures only, but an input all the same
        from govsim.plots.maps import read_map_geojson

        read_map_geojson(scenario, sim.territory.grid_names)
    print(f"{args.scenario}: OK ({scenario.name}: {len(scenario.categories)} categories, "
          f"policy {scenario.policy}, horizon {format_duration(scenario.horizon)})")
    return 0


def cmd_reference(args: argparse.Namespace) -> int:
    from govsim.scenario.reference import scenario_reference

    print(scenario_reference(), end="")
    return 0


def _window(text: str | None) -> tuple[str | None, str | None] | None:
    if text is None:
        return None
    parts = [p.strip() or None for p in text.split(",")]
    if len(parts) != 2:
        from govsim.calibration import CalibrationError

        raise CalibrationError(f"--window: expected START,END (either may be empty), got {text!r}")
    return parts[0], parts[1]


def _staff(text: str | None) -> list[str]:  # a comma-separated list (staff channels, holidays)
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def _report_dir(path: str | None) -> None:
    """Refuse a report destination that is a file before any work is done."""
    if path is not None and Path(path).exists() and not Path(path).is_dir():
        from govsim.calibration import CalibrationError

        raise CalibrationError(f"--report {path}: is a file; give a folder for the report")


def cmd_calibrate(args: argparse.Namespace) -> int:
    from govsim.calibration import calibrate
    from govsim.calibration.writer import check_destination

    check_destination(args.out)  # before the work, not after
    _report_dir(args.report)

    cal = calibrate(args.cases, args.columns, staff_channels=_staff(args.staff_channels),
                    grids=args.grids, cell=args.cell, areas=args.areas, window=_window(args.window),
                    name=args.name, seed=args.seed or 0, simulate=not args.no_simulation,
                    holidays=_staff(args.holidays), tz=args.tz)
    out = cal.to_yaml(args.out)
    table = cal.table()
    cols = ["category", "cases", "rate_per_day", "staff_share", "report_prob", "patrol_handles",
            "department_staff", "closure_p50_obs", "closure_p50_fit", "closure_p90_obs", "closure_p90_fit"]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table[cols].to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    print()
    print(cal.rows.to_string(index=False))
    for note in cal.notes:
        print(f"note: {note}")
    print(f"wrote {out} (and its _grids.csv, _rates.csv)")
    if args.report:
        from govsim.calibration.check import compare_with_log
        from govsim.calibration.report import write_report

        check = None
        if args.no_simulation:
            print("note: --no-simulation: the report has no check against the log (it needs simulation)")
        else:  # in sample: the scenario just written against the log and window it was fitted to
            check = compare_with_log(out, args.cases, args.columns,
                                     staff_channels=_staff(args.staff_channels), window=_window(args.window),
                                     n=3, seed=args.seed or 0, holidays=_staff(args.holidays))
            bar = check.table["ok"].dropna()
            print(f"in-sample check (3 replications): {int(bar.sum())} of {len(bar)} statistics within "
                  f"the acceptance bar")
        print(f"wrote {write_report(args.report, cal, check)}")
    return 0


def cmd_check_fit(args: argparse.Namespace) -> int:
    from govsim.calibration.check import compare_with_log

    _report_dir(args.report)

    check = compare_with_log(args.scenario, args.cases, args.columns, staff_channels=_staff(args.staff_channels),
                             window=_window(args.window), n=args.replications, seed=args.seed or 0,
                             holidays=_staff(args.holidays))
    table = check.table
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    bar = table["ok"].dropna()
    print(f"{int(bar.sum())} of {len(bar)} statistics within the acceptance bar")
    if args.report:
        from govsim.calibration.report import write_report

        print(f"wrote {write_report(args.report, check=check)}")
    return 0


def whole_number(least: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``least``, else a clear usage error."""
    what = "a positive whole number" if least == 1 else f"a whole number >= {least}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


_positive_int = whole_number(1)
_seed_arg = whole_number(0)


#: the most replications ``-n auto`` runs on the command line (Python: ``max_n=``)
_AUTO_MAX_N = 200


def _replications(text: str) -> int | str:
    """``-n``: a positive whole number, or ``auto`` (as many as ``--precision`` needs)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number or auto, got {text!r}") from None


def _precision(text: str) -> float:
    """``--precision``: a share of the mean, ``5%`` or ``0.05``."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share of the mean such as 5% or 0.05, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a share of the mean between 0 and 100% (e.g. 5%), got {text!r}")
    return value


def add_common(p: argparse.ArgumentParser) -> None:
    """``--seed`` and ``--set``: every command that loads a scenario has them."""
    p.add_argument("--seed", type=_seed_arg, default=None,
                   help="random seed, a whole number >= 0 (default: the scenario's, else 0)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a scenario key, e.g. --set workers.per_grid=2 (repeatable)")


def add_experiment(p: argparse.ArgumentParser, default_n: int, *, replications: bool = True,
                   auto: bool = False) -> None:
    """Options of multi-run commands: ``-n`` (with ``auto=True`` also ``-n auto`` and
    ``--precision``), ``--warmup``, ``--jobs``, ``--scheduler``, ``--quiet``, ``--force``."""
    if replications and not auto:
        p.add_argument("-n", "--replications", type=_positive_int, default=default_n, metavar="N",
                       help=f"replications (default {default_n}); with N > 1: means with 95%% "
                            f"confidence intervals")
    elif replications:
        p.add_argument("-n", "--replications", type=_replications, default=default_n, metavar="N",
                       help=f"replications (default {default_n}); with N > 1: means with 95%% "
                            f"confidence intervals; auto: as many as --precision needs (at most "
                            f"{_AUTO_MAX_N})")
        p.add_argument("--precision", type=_precision, default=None, metavar="SHARE",
                       help="with -n auto: the largest half-width of the 95%% intervals of the "
                            "headline metrics, as a share of their mean (compare: of the "
                            "baseline's mean, for the differences), e.g. 5%% (default)")
    p.add_argument("--warmup", metavar="DURATION",
                   help="exclude this initial period from the metrics, e.g. 2d (default: the "
                        "scenario's warmup)")
    p.add_argument("--jobs", type=_positive_int, default=None, metavar="J",
                   help="local worker processes for N > 1 (default: all cores; 1: sequential)")
    p.add_argument("--scheduler", metavar="ADDR",
                   help="run on a Dask cluster, e.g. tcp://host:8786 "
                        '(pip install "govsim[distributed]")')
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--force", action="store_true",
                   help="with --out: discard results of another experiment stored in DIR")


def command_modules() -> list[str]:
    """Commands that live in their own module of this package (``govsim/cli/<name>.py``), in
    name order: each has ``register(sub)``, which adds its sub-parser with
    ``set_defaults(func=...)``. A new command is one new file."""
    import pkgutil

    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="govsim", description="Simulate grid-based community governance (网格化管理).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__import__('govsim').__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common, experiment = add_common, add_experiment

    p = sub.add_parser("run", help="run a scenario (or N replications) and print its summary")
    p.add_argument("scenario", help="scenario YAML file")
    common(p)
    experiment(p, 1, auto=True)
    p.add_argument("--out", metavar="DIR",
                   help="N = 1: write the result tables to DIR; N > 1: write the results store "
                        "(one file per run; rerun to resume)")
    p.add_argument("--format", choices=("auto", "csv", "parquet"), default="auto",
                   help="table format for --out (auto: Parquet if pyarrow is installed, else CSV)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("compare", help="compare two scenarios on the same seeds (paired)")
    p.add_argument("a", help="first scenario (the baseline)")
    p.add_argument("b", help="second scenario")
    common(p)
    experiment(p, 1, auto=True)
    p.add_argument("--out", metavar="DIR", help="write the results store to DIR (rerun to resume)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("sweep", help="parameter sweep with replications: full factorial, a design "
                                     "file, or a Latin hypercube / Sobol sample")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--param", action="append", metavar="KEY=V1,V2,...",
                   help="a swept key and its values, e.g. --param workers.per_grid=1,2,3 "
                        "(repeatable: the full factorial of all --param is run); with --lhs or "
                        "--sobol a range KEY=LOW,HIGH (whole-number ends: whole numbers)")
    p.add_argument("--design", metavar="CSV",
                   help="run the points of a design table: one column per dotted key, one row "
                        "per point")
    p.add_argument("--lhs", type=_positive_int, metavar="POINTS",
                   help="a Latin hypercube of POINTS points over the --param ranges")
    p.add_argument("--sobol", type=_positive_int, metavar="POINTS",
                   help="a scrambled Sobol sample over the --param ranges (POINTS rounded up to a "
                        "power of two)")
    common(p)
    experiment(p, 10)
    p.add_argument("--out", metavar="DIR", help="write the results store to DIR (rerun to resume)")
    p.add_argument("--metric", action="append", metavar="NAME",
                   help="metric to print (repeatable; default: a few headline metrics; all are in "
                        "DIR/table.csv)")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("plot", help="write the figures of a run (run --out) or of a compare or "
                                    "sweep results store")
    p.add_argument("results", metavar="RESULTS_DIR",
                   help="directory written by govsim run --out, or by compare/sweep --out")
    p.add_argument("--out", metavar="DIR", required=True, help="directory for the figures")
    p.add_argument("--lang", choices=("en", "zh"), default="en",
                   help="label language (zh needs a CJK font; else English with a warning)")
    p.add_argument("--format", choices=("png", "svg", "pdf"), default="png", help="figure format")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("report", help="compare two scenarios and write an HTML or Markdown report "
                                      "with tables and figures")
    p.add_argument("a", help="first scenario (the baseline)")
    p.add_argument("b", help="second scenario")
    common(p)
    p.add_argument("-n", "--replications", type=_positive_int, default=10, metavar="N",
                   help="replications (default 10)")
    p.add_argument("--warmup", metavar="DURATION", help="exclude this initial period, e.g. 2d")
    p.add_argument("--jobs", type=_positive_int, default=None, metavar="J",
                   help="local worker processes (default: all cores; 1: sequential)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", metavar="DIR", required=True,
                   help="directory for report.html (or .md) and its PNG figures")
    p.add_argument("--format", choices=("html", "md"), default="html", help="report format")
    p.add_argument("--lang", choices=("en", "zh"), default="en",
                   help="figure label language (zh needs a CJK font)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("validate", help="check a scenario file and explain what is wrong")
    p.add_argument("scenario")
    p.add_argument("--set", action="append", metavar="KEY=VALUE")
    p.set_defaults(func=cmd_validate)

    def case_log(p: argparse.ArgumentParser) -> None:
        p.add_argument("cases", help="the case log (CSV or Parquet): one row per case")
        p.add_argument("--columns", required=True, metavar="ROLE=COL,...",
                       help="which column is which: created=COL,closed=COL,category=COL[,channel=COL]"
                            "[,lat=COL,lon=COL][,area=COL][,status=COL][,id=COL]")
        p.add_argument("--staff-channels", metavar="A,B",
                       help="channel values meaning 'found by staff' (patrol), e.g. 'Driver Self Report'")
        p.add_argument("--window", metavar="START,END", help="use only cases created in this window")
        p.add_argument("--tz", metavar="ZONE",
                       help="convert time-zone-aware timestamps to this zone, e.g. Asia/Shanghai")
        p.add_argument("--holidays", metavar="DATE,DATE",
                       help="dates fitted and compared as Sundays, e.g. 2018-01-01 (the simulated weeks have none)")
        p.add_argument("--seed", type=_seed_arg, default=None, help="random seed, a whole number >= 0 (default 0)")
        p.add_argument("--report", metavar="DIR", help="also write a report (Markdown and HTML, figures)")

    p = sub.add_parser("calibrate", help="fit a scenario to a case log (12345 / 数字城管 / 311)")
    case_log(p)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--grids", metavar="MAP.geojson", help="grids from a GeoJSON map of polygons")
    where.add_argument("--cell", metavar="SIZE", help="square cells of this size over the cases, e.g. 500m")
    where.add_argument("--areas", action="store_true", help="the log's own areas (area=COL) as grids")
    p.add_argument("--name", help="scenario name (default: the log's file name)")
    p.add_argument("--no-simulation", action="store_true",
                   help="skip the simulation-based fits (department capacity, channel correction)")
    p.add_argument("--out", required=True, metavar="SCENARIO.yaml", help="where to write the scenario")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("check-fit", help="how well a scenario reproduces a case log")
    p.add_argument("scenario", help="scenario YAML file (e.g. written by calibrate)")
    case_log(p)
    p.add_argument("-n", "--replications", type=_positive_int, default=10, metavar="N",
                   help="replications (default 10)")
    p.set_defaults(func=cmd_check_fit)

    p = sub.add_parser("reference", help="print the scenario file reference (Markdown)")
    p.set_defaults(func=cmd_reference)

    import importlib

    for name in command_modules():
        importlib.import_module(f"govsim.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from govsim.calibration import CalibrationError
    from govsim.experiments import ExperimentError
    from govsim.scenario import ScenarioError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ScenarioError, ExperimentError, CalibrationError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ImportError as err:  # an optional library missing: the message names the extra
        if 'pip install "govsim[' not in str(err):
            raise
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        out = getattr(args, "out", None)
        stored = out and (args.func is not cmd_run or args.replications != 1)
        where = f"; the finished runs are kept in {out}: run the same command again to resume" if stored else ""
        print(f"interrupted{where}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # pragma: no cover - e.g. `govsim reference | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
