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


def _version() -> str:
    """``govsim --version``: the version, and whether the engine is compiled (GOVSIM_COMPILE=1)."""
    import govsim

    return f"govsim {govsim.__version__} ({govsim.build_name()})"


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


def plural(n: int, word: str, many: str | None = None) -> str:
    """``"1 file"``, ``"2 files"``: a count with its noun in the right number."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def as_written(scenario: Any, key: str, hours: float) -> str:
    """A duration of the scenario (``horizon``, ``warmup``) as the file or ``--set`` wrote it
    (``28d`` stays ``28d``), else formatted (:func:`~govsim.units.format_duration`)."""
    raw = (scenario.raw or {}).get(key) if isinstance(getattr(scenario, "raw", None), dict) else None
    return raw.strip() if isinstance(raw, str) and raw.strip() else format_duration(hours)


def _seed(args: argparse.Namespace, scenario: Any) -> int:
    if args.seed is not None:
        return args.seed
    return scenario.seed if scenario.seed is not None else 0


def format_summary(table: pd.DataFrame | pd.Series, raw: bool = False) -> str:
    """A summary (or side-by-side summaries) as aligned text. Metrics that do not apply are
    left out, by the rule every summary table follows (:func:`govsim.plots.catalogue.applicable`:
    empty in every column, e.g. dispute metrics of a scenario without disputes, or a
    governance metric 0 in every column, its mechanism off). By default each metric is named
    by the metric catalogue with its unit and its values are in that unit (shares in %,
    differences of shares in pp, hours to two decimals); ``raw=True``: the identifiers and
    plain numbers (``discovery_delay_mean``, ``0.8926``), for scripts."""
    if isinstance(table, pd.Series):
        table = table.to_frame()
    from govsim.plots.catalogue import applicable, format_summary_table

    if not raw:
        return format_summary_table(table).to_string()
    levels = [c for c in table.columns if c not in ("difference", "change")]
    table = table[applicable(table[levels]).to_numpy()]

    def fmt(x: Any) -> str:
        if isinstance(x, str):
            return x
        if pd.isna(x):
            return "–"
        if float(x).is_integer() and abs(x) >= 1:
            return f"{int(x):d}"
        return f"{x:.4g}"

    return table.map(fmt).to_string()


def _readable(experiment: Any, args: argparse.Namespace) -> str:
    """An experiment's table as text: readable metric names (``--raw``: the identifiers)."""
    if getattr(args, "raw", False):
        return str(experiment.to_string())
    from govsim.plots.catalogue import labelled

    return str(labelled(experiment).to_string())


def _experiment_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {"jobs": args.jobs, "scheduler": args.scheduler, "out": args.out, "force": args.force,
            "progress": False if args.quiet else None}


def _footer(result: Any, args: argparse.Namespace) -> None:
    info = result.info
    if args.out:
        reused = f", {info['reused']} reused" if info["reused"] else ""
        # no "run again to resume" here: the experiment finished, nothing is left to resume (an
        # interrupted one says so in main(), where runs are left)
        print(f"\nresults store: {args.out} ({plural(info['computed'], 'run')} computed on "
              f"{info['executor']}{reused})")


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


class RunProgress:
    """Progress of one long run (``govsim run`` with N = 1), on standard error.

    Hooked on simulated time, never on events: a call every hundredth of the horizon
    (:data:`STEPS` calls per run) reads the clock and the number of issues so far; it draws
    no random number and changes no state, so the run is the same, table for table. On a
    terminal it moves a bar (shown once the run has taken ``bar_after_s`` seconds); otherwise (a log file, a
    pipe) it writes one line at the first checkpoint after every ``every_s`` seconds of wall
    time, so that a run shorter than that writes nothing.
    """

    STEPS = 100

    def __init__(self, sim: Any, *, stream: Any = None, terminal: bool | None = None,
                 every_s: float = 10.0, bar_after_s: float = 1.0) -> None:
        import time

        self.sim = sim
        self.stream = sys.stderr if stream is None else stream
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.every_s = every_s
        self.lines = 0  # lines written (not on a terminal)
        self._clock = time.perf_counter
        self._start = self._last = self._clock()
        self._bar: Any = None
        self._step = sim.horizon / self.STEPS
        if self.terminal:
            from tqdm import tqdm

            self._bar = tqdm(total=self.STEPS, desc=sim.scenario.name, unit="%", file=self.stream,
                             delay=bar_after_s, dynamic_ncols=True,
                             bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]")
        if self._step > 0:
            sim.env.call_later(self._step, self._checkpoint, (1,))

    def _so_far(self) -> str:
        log = self.sim.issue_log
        days = self.sim.horizon / 24.0
        return (f"day {self.sim.env.now / 24.0:.{0 if days >= 100 else 1}f} of {days:g}, "
                f"{plural(log.n, 'issue')} so far ({len(log.open):,} open)")

    def _checkpoint(self, k: int) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(self._so_far(), refresh=False)
            self._bar.update(1)
        else:
            now = self._clock()
            if now - self._last >= self.every_s:
                self._last = now
                self.lines += 1
                print(f"{self.sim.scenario.name}: {k}% simulated, {self._so_far()}, "
                      f"{now - self._start:.0f} s", file=self.stream, flush=True)
        if k + 1 < self.STEPS:  # the last hundredth ends with the run
            self.sim.env.call_later(self._step, self._checkpoint, (k + 1,))

    def close(self) -> None:
        """The run ended: fill and close the bar."""
        if self._bar is not None:
            self._bar.update(self.STEPS - self._bar.n)
            self._bar.close()


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
        print(_readable(reps, args))
        _footer(reps, args)
        return 0
    seed = _seed(args, scenario)
    sim = Simulation(scenario, seed)
    progress = None if args.quiet else RunProgress(sim)
    try:
        result = sim.run()
    finally:
        if progress is not None:
            progress.close()
    print(f"{scenario.name}  (seed {seed}, horizon {as_written(scenario, 'horizon', scenario.horizon)}, "
          f"policy {scenario.policy})")
    print(format_summary(result.summary(), raw=args.raw))
    if args.out:
        try:
            files = result.to_dir(args.out, fmt=args.format)
        except OSError as err:  # e.g. the disk filled up during the run
            print(f"error: --out {args.out}: cannot write the results ({err.strerror or err})", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(f"\nwrote {plural(len(files), 'file')} to {args.out}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from govsim.engine import Simulation

    how = _auto_options(args)
    a = _load(args.a, args.set, args.warmup)
    b = _load(args.b, args.set, args.warmup)
    if how["n"] == "auto" or how["n"] > 1 or args.out:
        from govsim.experiments import compare

        result = compare([a, b], seed=args.seed, max_n=_AUTO_MAX_N, **how, **_experiment_kwargs(args))
        print(_readable(result, args))
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
    print(format_summary(table, raw=args.raw))
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
    print(f"wrote {plural(len(files), 'file')} to {out}:")
    for f in files:
        print(f"  {f}")


def _plot_problem(results: str) -> str | None:
    """Why ``govsim plot`` cannot draw the results directory ``results`` (None: it can try),
    said before matplotlib is loaded: a path that is a file or missing, and a results store of
    replications of one scenario (it keeps each run's summary metrics, not the tables the
    figures are drawn from)."""
    import json

    path = Path(results)
    wanted = "a directory written by govsim run --out (one run), or by govsim compare/sweep --out"
    if path.is_file():
        return f"{results}: is a file; govsim plot needs {wanted}"
    if not path.exists():
        return f"{results}: no such directory; govsim plot needs {wanted}"
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # not a store (or a broken one): plot_dir says what it finds
    if not isinstance(manifest, dict) or manifest.get("kind") != "replicate":
        return None
    points = manifest.get("points") or [{}]
    first = points[0] if isinstance(points[0], dict) else {}
    scenario = first.get("scenario") or first.get("name") or "SCENARIO"
    n = manifest.get("n", "N")
    return (f"{results}: holds {n} replications of {first.get('name') or 'one scenario'}: a "
            f"results store keeps each run's summary metrics, not the tables (issues, patrols, "
            f"time use) the figures are drawn from, so no figure applies. Its means and 95% "
            f"intervals are in {path / 'table.csv'}, each run's metrics in {path / 'runs.csv'}. "
            f"For the figures of one run: govsim run {scenario} --out RUN_DIR, then govsim plot "
            f"RUN_DIR; for a figure of replications, compare two scenarios: govsim compare A B "
            f"-n {n} --out DIR, then govsim plot DIR (a forest plot of the differences)")


def cmd_plot(args: argparse.Namespace) -> int:
    problem = _plot_problem(args.results)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
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
        files = write_report(cmp, runs, args.out, fmt=args.format, lang=args.lang, figure_lang=lang)
    except OSError as err:
        print(f"error: {args.out}: cannot write the report ({err.strerror or err})", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(_readable(cmp, args))
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
    print(f"{args.scenario}: OK ({scenario.name}: {plural(len(scenario.categories), 'category', 'categories')}, "
          f"policy {scenario.policy}, horizon {as_written(scenario, 'horizon', scenario.horizon)})")
    line, warning = worker_cover(sim)
    print(line)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


#: ``validate`` warns when the largest area a grid worker covers is more than this many times the
#: smallest, among workers given the same share (``workers.per_grid``, or a community's)
UNEQUAL_COVER = 1.25


def worker_cover(sim: Any) -> tuple[str, str | None]:
    """What ``validate`` says of the grid workers: how many per shift and how many grids each
    covers (``"4 grid workers per shift: 3 cover 2 grids, 1 covers 3"``), and a warning when
    the areas (km², a grid's ``edge_m`` squared, shared among the workers of a grid) of
    workers given the same share differ by more than :data:`UNEQUAL_COVER` times — a share
    such as ``per_grid: 0.5`` on 9 grids rounds to 4 workers, one covering three grids."""
    from collections import Counter

    cfg, terr = sim.scenario.workers, sim.territory
    staff = [w for w in sim.workers if w.kind == "grid_worker" and w.shift_index == 0]
    shifts = len(cfg.shifts)
    per = f"per shift ({plural(shifts, 'shift')})" if shifts > 1 else "(one shift)"
    if not staff:
        return f"no grid workers {per}", None
    # workers sharing a grid (per_grid k >= 1) each cover 1/k of it
    sharing = Counter(g for w in staff for g in w.grids)
    counts = Counter(len(w.grids) for w in staff)
    parts = [f"{n} {'covers' if n == 1 else 'cover'} {plural(k, 'grid')}" for k, n in sorted(counts.items())]
    if len(parts) == 1:
        parts = [f"each covers {plural(next(iter(counts)), 'grid')}"]
    line = f"{plural(len(staff), 'grid worker')} {per}: {', '.join(parts)}"
    crowd = sorted(set(sharing.values()))
    if crowd[-1] > 1:  # per_grid k >= 1: k workers walk a grid's route, spread around it
        line += f", {crowd[0] if len(crowd) == 1 else f'{crowd[0]} to {crowd[-1]}'} to a grid"
    edge = terr.grid_edge
    area = {w.id: sum(float(edge[g]) ** 2 / sharing[g] for g in w.grids) / 1e6 for w in staff}
    communities = cfg.communities or {}
    groups: dict[float, list[Any]] = {}
    for w in staff:  # workers given the same share: a community's own, else per_grid
        name = terr.communities[int(terr.grid_community[w.grids[0]])]
        groups.setdefault(float(communities.get(name, cfg.per_grid)), []).append(w)
    worst = None
    for share, group in groups.items():
        lo = min(group, key=lambda w: area[w.id])
        hi = max(group, key=lambda w: area[w.id])
        ratio = area[hi.id] / area[lo.id] if area[lo.id] > 0 else float("inf")
        if ratio > UNEQUAL_COVER and (worst is None or ratio > worst[0]):
            worst = (ratio, share, lo, hi, len(group))
    if worst is None:
        return line, None
    ratio, share, lo, hi, n = worst
    grids = sum(1 for g in sharing if share == float(communities.get(
        terr.communities[int(terr.grid_community[g])], cfg.per_grid)))
    warning = (f"the grid workers cover unequal areas: with a share of {share:g} per grid, "
               f"{plural(grids, 'grid')} get {plural(n, 'worker')}; worker {hi.id} covers "
               f"{area[hi.id]:.3g} km² ({plural(len(hi.grids), 'grid')}), worker {lo.id} "
               f"{area[lo.id]:.3g} km² ({plural(len(lo.grids), 'grid')}): {ratio:.3g} times as "
               f"much (more than {UNEQUAL_COVER:g} times)")
    if len(hi.grids) != len(lo.grids):  # the rounding of the share, not unequal grid sizes
        # the whole number of grids per worker nearest to this share's, dividing the grids evenly
        size = min((d for d in range(1, grids + 1) if grids % d == 0), key=lambda d: abs(d - grids / n))
        even = "per_grid 1" if size == 1 else f"per_grid {1 / size:.3g} (1/{size})"
        warning += (f"; {even} gives {plural(grids // size, 'worker')} of "
                    f"{plural(size, 'grid')} each")
    return line, warning


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


def whole_number(least: int, most: int | None = None, what: str | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``least`` (and at most ``most``), else a clear
    usage error saying ``what`` was expected."""
    if what is None:
        what = "a positive whole number" if least == 1 else f"a whole number >= {least}"
        if most is not None:
            what = f"a whole number from {least} to {most}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < least or (most is not None and value > most):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


_positive_int = whole_number(1)
_seed_arg = whole_number(0)


#: help of the scenario argument of every command that takes one
SCENARIO_HELP = "a scenario file or preset name (govsim presets lists them)"

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
    p.add_argument("--quiet", action="store_true",
                   help="no progress: no bar on a terminal (nor, for a single run, its periodic "
                        "lines in a log)")
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
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common, experiment = add_common, add_experiment

    p = sub.add_parser("run", help="run a scenario (or N replications) and print its summary")
    p.add_argument("scenario", help=SCENARIO_HELP)
    common(p)
    experiment(p, 1, auto=True)
    p.add_argument("--out", metavar="DIR",
                   help="N = 1: write the result tables to DIR; N > 1: write the results store "
                        "(one file per run; rerun to resume)")
    p.add_argument("--raw", action="store_true",
                   help="print the metrics' identifiers and plain numbers (e.g. discovery_delay_mean "
                        "0.8926) instead of readable labels with units, for scripts")
    p.add_argument("--format", choices=("auto", "csv", "parquet"), default="auto",
                   help="table format for --out (auto: Parquet if pyarrow is installed, else CSV)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("compare", help="compare two scenarios on the same seeds (paired)")
    p.add_argument("a", help="first scenario (the baseline): a scenario file or preset name")
    p.add_argument("b", help="second scenario: a scenario file or preset name")
    common(p)
    experiment(p, 1, auto=True)
    p.add_argument("--out", metavar="DIR", help="write the results store to DIR (rerun to resume)")
    p.add_argument("--raw", action="store_true",
                   help="print the metrics' identifiers and plain numbers (e.g. discovery_delay_mean "
                        "0.8926) instead of readable labels with units, for scripts")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("sweep", help="parameter sweep with replications: full factorial, a design "
                                     "file, or a Latin hypercube / Sobol sample")
    p.add_argument("scenario", help=SCENARIO_HELP)
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
                   help="directory written by govsim run --out (one run), or by compare/sweep --out; "
                        "a store of replications of one scenario (run -n N --out) keeps no tables "
                        "to draw: its table.csv has the means and intervals")
    p.add_argument("--out", metavar="DIR", required=True, help="directory for the figures")
    p.add_argument("--lang", choices=("en", "zh"), default="en",
                   help="label language (zh needs a CJK font; else English with a warning)")
    p.add_argument("--format", choices=("png", "svg", "pdf"), default="png", help="figure format")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("report", help="compare two scenarios and write an HTML or Markdown report "
                                      "with tables and figures")
    p.add_argument("a", help="first scenario (the baseline): a scenario file or preset name")
    p.add_argument("b", help="second scenario: a scenario file or preset name")
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
                   help="language of the report and its figures (zh figures need a CJK font; "
                        "else English figures, with a warning)")
    p.add_argument("--raw", action="store_true",
                   help="print the metrics' identifiers and plain numbers (e.g. discovery_delay_mean "
                        "0.8926) instead of readable labels with units, for scripts")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("validate", help="check a scenario file and explain what is wrong",
                       description="Check a scenario (every problem at once, naming the key and what "
                                   "was expected), build its district, workers and routes, and say "
                                   "how many grid workers there are and how many grids each covers.")
    p.add_argument("scenario", help=SCENARIO_HELP)
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a scenario key before checking, e.g. --set workers.per_grid=2 "
                        "(repeatable)")
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
    p.add_argument("scenario", help="a scenario file or preset name (e.g. a file written by calibrate)")
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
