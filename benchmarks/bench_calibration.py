"""Calibration from a case log: time, memory and out-of-sample fit (``govsim.calibrate``).

Three parts, from the repository root::

    python benchmarks/bench_calibration.py rows      # (a) 1,000,000-row log, simulate=False, one core
    python benchmarks/bench_calibration.py full      # (b) the whole LA log, with simulation
    python benchmarks/bench_calibration.py fit       # (c) out-of-sample fit, LA and Baltimore
    python benchmarks/bench_calibration.py all --json benchmarks/results/calibration.json

**(a) rows.** The Los Angeles 311 extract resampled to ``--rows`` rows (by
``bench_caselog.py``'s generator, in a child process, not timed), then
``calibrate(..., simulate=False)`` in another child process pinned to core 0
(``os.sched_setaffinity``), so its peak RSS is the fit's own. ``simulate=False`` is
exactly reading + grids (1 km cells: the default for a log with coordinates) + arrivals
+ channels (the staff share of each category) + closure distributions (maximum
likelihood, Kaplan-Meier quantiles); it skips the department capacity fit and the
correction by simulation. Target: ≤ 60 s on one core, ≤ 2 GB.

**(b) full.** ``calibrate`` of the whole LA log (both windows, 27 Dec 2017 to 4 Jan 2018),
once with the log's areas (neighbourhood councils) and once with 1 km cells, seed 1,
each in its own child process, not pinned (the machine has 2 cores). ``--engine simpy``
times the department fit on SimPy (the code before the fast station replay) to compare;
the scenario's digest (SHA-1 of the fitted document) shows both give the same scenario.
Target: ≤ 5 minutes on 2 cores.

Each timed call is split by stage by wrapping the pipeline's functions (exclusive times:
a stage's time excludes the stages it calls): ``read`` (``read_case_log``), ``grids``
(``_lay_grids``: the grids and the placement of the cases), ``arrivals``
(``fit_arrivals``), ``channels+durations`` (``_fit_category`` without the capacity fit:
staff shares, handling and closure distributions, working hours), ``capacity``
(``fit_department``), ``correction`` (``_correct_by_simulation``: 3 full simulations),
``other`` (the rest: categories, shifts, the scenario document). Peak RSS is printed
after each stage (``ru_maxrss``: a running maximum).

**(c) fit.** Out-of-sample checks (``govsim.check_fit``, ``-n`` replications, default 10):

* LA, areas: fit on window 1 (27 Dec 13:36 to 31 Dec 23:59:59) and check on window 2
  (1 Jan 00:00 to 4 Jan 09:33), and the reverse; each also checked in sample for contrast.
* Baltimore, areas (``Neighborhood``), staff channel ``Internal``: fit on 2014-01 to
  2016-12, check on 2017-01 to 2019-02 (and in sample). The log is a random sample of
  about 5 cases a day, so its daily volume means nothing (and neither do the fitted
  department sizes): only the share statistics are read. Its duplicate statuses
  (``Closed (Duplicate)``, ``Open (Duplicate)``, ``New (Duplicate)``) are rewritten to
  ``Duplicate`` before the log is passed on, so that caselog's default ``cancelled``
  values treat them as cancelled (kept for arrivals, not for closure);
  ``Closed (Transferred)`` (18 rows) is kept as a closure. Each replication runs the
  fitted scenario over its own horizon (the three years it was fitted on; the model has
  no season, and the statistics are shares and quantiles re-weighted to the log's hours
  of the week, so ``--baltimore-days`` may shorten it).

Options: ``--json FILE`` (all measurements), ``--profile`` (cProfile of the timed call of
(a) and (b), top ``--top`` functions), ``--rows N``, ``--engine auto|simpy``, ``-n N``,
``--seed N`` (fit seed; checks use seed + 1).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

DATA = ROOT.parent / "shared/data/service-requests"
LA = DATA / "la311_2017-12-27_2018-01-04.csv"
BALTIMORE = DATA / "baltimore311_sample_2014-2019.csv"
LA_COLUMNS = {"created": "created", "closed": "closed", "category": "category", "channel": "channel",
              "lat": "lat", "lon": "lon", "area": "area_nc", "status": "status", "id": "request_id"}
LA_STAFF = ["Driver Self Report"]
LA_WINDOWS = {"W1": (None, "2017-12-31 23:59:59"), "W2": ("2018-01-01 00:00:00", None)}
B_COLUMNS = {"created": "CreatedDate", "closed": "CloseDate", "category": "SRType",
             "channel": "MethodReceived", "lat": "Latitude", "lon": "Longitude", "area": "Neighborhood",
             "status": "SRStatus", "id": "ServiceRequestNum"}
B_STAFF = ["Internal"]
B_FIT = ("2014-01-01 00:00:00", "2016-12-31 23:59:59")
B_CHECK = ("2017-01-01 00:00:00", None)
STAGES = ("read", "grids", "arrivals", "channels+durations", "capacity", "correction", "other")


# --- timing by stage ------------------------------------------------------------------------

class StageClock:
    """Exclusive wall time per stage, by wrapping module functions (nested calls are
    subtracted from their caller's stage), and the peak RSS when each stage last ended."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.rss: dict[str, float] = {}
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[float] = []

    def wrap(self, module: Any, attr: str, stage: str) -> None:
        from _common import peak_rss_mib

        fn = getattr(module, attr, None)
        if fn is None:
            print(f"warning: {module.__name__}.{attr} not found; stage {stage!r} is counted in 'other'")
            return
        clock = self

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            clock._stack.append(0.0)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                dt = time.perf_counter() - t0
                inner = clock._stack.pop()
                clock.seconds[stage] += dt - inner
                clock.calls[stage] += 1
                if clock._stack:
                    clock._stack[-1] += dt
                clock.rss[stage] = peak_rss_mib()

        setattr(module, attr, timed)


def instrument() -> StageClock:
    from govsim.calibration import caselog, fit

    clock = StageClock()
    clock.wrap(caselog, "read_case_log", "read")
    clock.wrap(fit, "_lay_grids", "grids")
    clock.wrap(fit, "fit_arrivals", "arrivals")
    clock.wrap(fit, "_fit_category", "channels+durations")
    clock.wrap(fit, "fit_department", "capacity")
    clock.wrap(fit, "_correct_by_simulation", "correction")
    return clock


def use_engine(engine: str) -> None:
    """Run the department fit's station on ``engine`` ('auto': the fast replay; 'simpy')."""
    from govsim.calibration import capacity

    if engine != "auto":
        capacity.simulate_closure = functools.partial(capacity.simulate_closure, engine=engine)


def digest(data: dict[str, Any]) -> str:
    """SHA-1 of a fitted scenario document (to show two runs fitted the same scenario). A file
    the document points to (e.g. ``territory.points_csv``, written to a temporary directory)
    enters by its content, not its path."""
    def plain(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        if isinstance(x, list):
            return [plain(v) for v in x]
        if isinstance(x, str) and x.endswith((".csv", ".geojson")) and Path(x).is_file():
            return "sha1:" + hashlib.sha1(Path(x).read_bytes()).hexdigest()
        return x

    text = json.dumps(plain(data), sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def timed_calibration(spec: dict[str, Any]) -> dict[str, Any]:
    """One timed ``calibrate`` call (in a child process), split by stage."""
    from _common import peak_rss_mib  # (the child pinned itself before importing anything)

    import cProfile

    import govsim
    from govsim.calibration import calibrate

    use_engine(spec.get("engine", "auto"))
    clock = instrument()
    kwargs = dict(spec["kwargs"])
    rss0 = peak_rss_mib()
    prof = cProfile.Profile() if spec.get("profile") else None
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    cal = calibrate(spec["path"], spec["columns"], staff_channels=spec["staff"], **kwargs)
    if prof:
        prof.disable()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    if prof:
        from _common import print_profile

        print_profile(prof, spec.get("top", 25), spec["label"])
    stages = {s: clock.seconds.get(s, 0.0) for s in STAGES[:-1]}
    stages["other"] = wall - sum(stages.values())
    depts = [{"category": c.name, "cases": c.cases, "department_cases": c.department.n_cases,
              "staff": c.department.staff, "evaluations": c.department.evaluations,
              "utilisation": c.department.utilisation}
             for c in cal.categories if c.department is not None and c.department.evaluations]
    return {"label": spec["label"], "govsim": govsim.__version__, "seconds": wall, "cpu_seconds": cpu,
            "stages": stages, "rss_after_stage_mib": dict(clock.rss), "peak_rss_mib": peak_rss_mib(),
            "rss_before_mib": rss0, "cases": int(cal.placement["placed"] + cal.placement["not placed"]),
            "grids": len(cal.grids), "categories": len(cal.categories), "departments_fitted": depts,
            "evaluations": sum(d["evaluations"] for d in depts), "scenario_digest": digest(cal.data),
            "window": [str(cal.window[0]), str(cal.window[1])], "kwargs": {k: str(v) for k, v in kwargs.items()}}


def in_child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run :func:`timed_calibration` in a fresh interpreter (clean peak RSS, own affinity)."""
    with tempfile.TemporaryDirectory() as tmp:
        spec_file, out_file = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec_file.write_text(json.dumps(spec), encoding="utf-8")
        subprocess.run([sys.executable, __file__, "_child", str(spec_file), str(out_file)], check=True)
        return json.loads(out_file.read_text(encoding="utf-8"))


def stage_table(runs: list[dict[str, Any]]) -> str:
    head = "| run | " + " | ".join(f"{s} s" for s in STAGES) + " | **total s** | CPU s | peak RSS MiB |"
    lines = [head, "|---|" + "---:|" * (len(STAGES) + 3)]
    for r in runs:
        cells = " | ".join(f"{r['stages'][s]:.2f}" for s in STAGES)
        lines.append(f"| {r['label']} | {cells} | **{r['seconds']:.1f}** | {r['cpu_seconds']:.1f} | "
                     f"{r['peak_rss_mib']:.0f} |")
    return "\n".join(lines)


def rss_table(runs: list[dict[str, Any]]) -> str:
    lines = ["| run | before | " + " | ".join(s for s in STAGES[:-1]) + " |",
             "|---|" + "---:|" * len(STAGES)]
    for r in runs:
        cells = " | ".join(f"{r['rss_after_stage_mib'][s]:.0f}" if s in r["rss_after_stage_mib"] else "–"
                           for s in STAGES[:-1])
        lines.append(f"| {r['label']} | {r['rss_before_mib']:.0f} | {cells} |")
    return "\n".join(lines)


# --- (a) and (b) ----------------------------------------------------------------------------

def part_rows(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.csv"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(HERE / "bench_caselog.py"), "--generate-to", str(path),
                        "--rows", str(args.rows), "--format", "iso", "--data", str(LA), "--seed", "2026"],
                       check=True)
        gen = time.perf_counter() - t0
        size_mb = path.stat().st_size / 1e6
        run = in_child({"label": f"{args.rows:,} rows, simulate=False, core 0", "path": str(path),
                        "columns": LA_COLUMNS, "staff": LA_STAFF, "cpu": 0, "profile": args.profile,
                        "top": args.top, "kwargs": {"simulate": False, "seed": args.seed}})
    run.update(rows=args.rows, file_mb=size_mb, generate_seconds=gen)
    print(f"\n## (a) {args.rows:,}-row log (LA resampled, {size_mb:.0f} MB), simulate=False, one core\n")
    print(stage_table([run]))
    print("\nPeak RSS (MiB) when each stage ended:\n")
    print(rss_table([run]))
    print(f"\n{run['cases']:,} cases kept, {run['grids']} grids, {run['categories']} categories; "
          f"target ≤ 60 s and ≤ 2 GB: {'met' if run['seconds'] <= 60 and run['peak_rss_mib'] <= 2048 else 'NOT met'}")
    return run


def part_full(args: argparse.Namespace) -> list[dict[str, Any]]:
    runs = []
    for what, kw in (("areas", {"areas": True}), ("1 km cells", {"cell": 1000.0})):
        for engine in args.engine:
            label = f"LA both windows, {what}" + (", SimPy station" if engine == "simpy" else "")
            runs.append(in_child({"label": label, "path": str(LA), "columns": LA_COLUMNS, "staff": LA_STAFF,
                                  "cpu": None, "engine": engine, "profile": args.profile, "top": args.top,
                                  "kwargs": {"seed": args.seed, **kw}}))
    print("\n## (b) the whole LA log with simulation (2 cores, not pinned)\n")
    print(stage_table(runs))
    print("\n| run | cases | grids | departments fitted | station simulations | scenario digest |")
    print("|---|---:|---:|---:|---:|---|")
    for r in runs:
        print(f"| {r['label']} | {r['cases']:,} | {r['grids']} | {len(r['departments_fitted'])} | "
              f"{r['evaluations']:,} | `{r['scenario_digest']}` |")
    ok = all(r["seconds"] <= 300 for r in runs)
    print(f"\ntarget ≤ 5 min: {'met' if ok else 'NOT met'}")
    return runs


# --- (c) out-of-sample fit --------------------------------------------------------------------

def baltimore_log() -> Any:
    import pandas as pd

    df = pd.read_csv(BALTIMORE, dtype=str, keep_default_na=False)
    dup = df["SRStatus"].str.contains("(Duplicate)", regex=False)
    df.loc[dup, "SRStatus"] = "Duplicate"
    return df


def fit_and_check(label: str, source: Any, columns: dict[str, str], staff: list[str],
                  fit_window: tuple[Any, Any], checks: dict[str, tuple[Any, Any]], args: argparse.Namespace,
                  days: float | None = None) -> list[dict[str, Any]]:
    import dataclasses

    from govsim.calibration import calibrate, check_fit

    t0 = time.perf_counter()
    cal = calibrate(source, columns, staff_channels=staff, window=fit_window, areas=True, seed=args.seed)
    fit_s = time.perf_counter() - t0
    scenario = cal.scenario
    if days is not None:
        scenario = dataclasses.replace(scenario, horizon=scenario.warmup + days * 24.0)
    out = []
    for name, window in checks.items():
        t0 = time.perf_counter()
        table = check_fit(scenario, source, columns, staff_channels=staff, window=window, n=args.n,
                          seed=args.seed + 1)
        out.append({"label": label, "check": name, "fit_window": [str(w) for w in fit_window],
                    "check_window": [str(w) for w in window], "fit_seconds": fit_s,
                    "check_seconds": time.perf_counter() - t0, "n": args.n,
                    "table": json.loads(table.to_json(orient="records"))})
    return out


def fit_table(check: dict[str, Any], volume_meaningless: bool = False) -> str:
    lines = ["| statistic | observed | simulated | 95 % interval | bar | met |", "|---|---:|---:|---|---|:---:|"]
    bars = {"hour_of_day_tvd": "≤ 0.05", "hour_of_week_tvd": "(none)", "category_mix_tvd": "≤ 0.03",
            "daily_volume": "±10 %", "staff_share": "±5 points", "closure_p50": "±25 %", "closure_p90": "±40 %"}

    def num(v: Any, digits: int = 3) -> str:
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return "–"
        return f"{v:,.{digits}f}"

    for row in check["table"]:
        stat = row["statistic"]
        bar = bars.get(stat.split("[")[0], "")
        is_tvd = stat.endswith("_tvd")
        digits = 3 if is_tvd or stat == "staff_share" else 1
        obs = "0 (the log)" if is_tvd else num(row["observed"], digits)
        met = "–" if row["ok"] is None else ("yes" if row["ok"] else "**no**")
        if volume_meaningless and stat == "daily_volume":
            met = "n/a (a sample)"
        interval = (f"{num(row['lower'], digits)} – {num(row['upper'], digits)}"
                    + (" (noise)" if is_tvd else ""))
        if stat.startswith("closure"):
            stat = stat.replace("closure_", "closure ") + " h"
        lines.append(f"| {stat} | {obs} | {num(row['simulated'], digits)} | {interval} | {bar} | {met} |")
    return "\n".join(lines)


def part_fit(args: argparse.Namespace) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    if "la" in args.logs:
        for a, b in (("W1", "W2"), ("W2", "W1")):
            checks += fit_and_check(f"LA fit on {a}", str(LA), LA_COLUMNS, LA_STAFF, LA_WINDOWS[a],
                                    {f"out of sample ({b})": LA_WINDOWS[b], f"in sample ({a})": LA_WINDOWS[a]},
                                    args)
    if "baltimore" in args.logs:
        checks += fit_and_check("Baltimore fit on 2014-2016", baltimore_log(), B_COLUMNS, B_STAFF, B_FIT,
                                {"out of sample (2017-01 to 2019-02)": B_CHECK, "in sample (2014-2016)": B_FIT},
                                args, days=args.baltimore_days)
    for c in checks:
        print(f"\n## (c) {c['label']}: {c['check']}, n = {c['n']} "
              f"(fit {c['fit_seconds']:.0f} s, check {c['check_seconds']:.0f} s)\n")
        print(fit_table(c, volume_meaningless=c["label"].startswith("Baltimore")))
    print("\n## (c) summary: statistics met\n")
    print("| fit | check | met | of | not met |")
    print("|---|---|---:|---:|---|")
    for c in checks:
        rows = [r for r in c["table"] if r["ok"] is not None
                and not (c["label"].startswith("Baltimore") and r["statistic"] == "daily_volume")]
        bad = [r["statistic"] for r in rows if not r["ok"]]
        print(f"| {c['label']} | {c['check']} | {len(rows) - len(bad)} | {len(rows)} | {', '.join(bad) or '–'} |")
    return checks


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
        if spec.get("cpu") is not None:  # before numpy & co. start any thread
            os.sched_setaffinity(0, {int(spec["cpu"])})
        Path(argv[2]).write_text(json.dumps(timed_calibration(spec), default=str), encoding="utf-8")
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("part", choices=("rows", "full", "fit", "all"))
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--engine", nargs="+", choices=("auto", "simpy"), default=["auto"],
                    help="station engine(s) of the department fit in (b); give both to compare")
    ap.add_argument("-n", type=int, default=10, help="replications per check in (c)")
    ap.add_argument("--logs", nargs="+", choices=("la", "baltimore"), default=["la", "baltimore"])
    ap.add_argument("--baltimore-days", type=float, default=None,
                    help="days to simulate per Baltimore replication (default: the fitted horizon)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--json", default=None, help="also write the measurements to this file")
    args = ap.parse_args(argv)
    if not LA.exists():
        print(f"no data: {LA}", file=sys.stderr)
        return 2
    from _common import code_version, write_json

    import numpy as np
    import pandas as pd

    print(f"govsim {code_version()}, Python {platform.python_version()}, numpy {np.__version__}, "
          f"pandas {pd.__version__}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    info: dict[str, Any] = {"bench": "calibration", "version": code_version(), "python": platform.python_version(),
                            "cpus": os.cpu_count(), "load_at_start": os.getloadavg()[0]}
    if args.part in ("rows", "all"):
        info["rows"] = part_rows(args)
    if args.part in ("full", "all"):
        info["full"] = part_full(args)
    if args.part in ("fit", "all"):
        info["fit"] = part_fit(args)
    info["load_at_end"] = os.getloadavg()[0]
    write_json(args.json, info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
