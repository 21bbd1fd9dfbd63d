"""``govsim animate``: a day on the map (网格一日), as a video, a GIF or an HTML page.

    govsim animate smart_dispatch --from 2d --to 3d --out day.mp4
    govsim animate traditional_patrol smart_dispatch --from 2d --to 3d --out day.mp4 --lang zh
    govsim animate RUN_DIR --from 2d --to 3d --out day.gif --step 5min

Each of the one or two inputs is a run written by ``govsim run --out`` (its tables are
drawn as recorded) or a scenario file or preset (run here). Two inputs are drawn side by
side and run on the same seed, so that both see the same issues (common random numbers).
See ``docs/animate.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from govsim.units import format_duration


def _duration(text: str) -> float:
    from govsim.units import UnitError, parse_duration

    try:
        return parse_duration(text)
    except UnitError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _fps(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of frames per second, got {text!r}") from None
    if not 0 < value <= 240:
        raise argparse.ArgumentTypeError(f"expected frames per second in (0, 240], got {text!r}")
    return value


def _dpi(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of pixels per inch, got {text!r}") from None
    if not 20 <= value <= 400:
        raise argparse.ArgumentTypeError(f"expected pixels per inch in [20, 400], got {text!r}")
    return value


def _is_run_dir(text: str) -> bool:
    return (Path(text) / "run.json").is_file()


def _results(args: argparse.Namespace) -> dict[str, Any]:
    """The runs to draw, by label: run folders read back, scenarios run on one seed."""
    from govsim.cli import _load
    from govsim.engine import Simulation
    from govsim.experiments import ExperimentError
    from govsim.result import Result

    inputs = [args.first] + ([args.second] if args.second else [])
    runs: dict[str, Any] = {}
    seed: Any = args.seed
    for text in inputs:  # run folders first fix the seed the scenarios are run on
        if _is_run_dir(text):
            try:
                runs[text] = Result.from_dir(text)
            except ValueError as err:
                raise ExperimentError(str(err)) from None
            if seed is None:
                seed = runs[text].seed
    if runs and args.set:
        raise ExperimentError("--set applies to scenarios run here, not to a run folder "
                              f"({next(iter(runs))}): its tables are drawn as recorded")
    for text in inputs:
        if text in runs:
            continue
        if Path(text).is_dir():
            raise ExperimentError(f"{text}: a folder without run.json: not written by `govsim run --out`")
        scenario = _load(text, args.set)
        if seed is None:
            seed = scenario.seed if scenario.seed is not None else 0
        runs[text] = Simulation(scenario, seed).run()
    out = {}
    for text in inputs:
        r = runs[text]
        label = r.scenario.name
        if label in out:
            label = f"{label} ({text})"
        out[label] = r
    return out


def cmd_animate(args: argparse.Namespace) -> int:
    from govsim.cli import EXIT_BAD_INPUT, _plot_lang
    from govsim.plots.animation import FORMATS, animate, ffmpeg_path

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        print(f"error: --out {args.out}: expected a file ending in {', '.join(FORMATS)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if suffix == ".mp4" and ffmpeg_path() is None:
        print(f"error: --out {args.out}: writing .mp4 needs ffmpeg, which is not installed (e.g. apt-get "
              f"install ffmpeg); or write a .gif or .html instead", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not out.parent.is_dir():
        print(f"error: --out {args.out}: folder {out.parent} does not exist", file=sys.stderr)
        return EXIT_BAD_INPUT
    lang = _plot_lang(args.lang)
    runs = _results(args)
    horizon = min(r.horizon for r in runs.values())
    start = args.start
    end = min(start + 24.0, horizon) if args.end is None else args.end
    for opt, value in (("--from", start), ("--to", end)):
        if value > horizon:
            print(f"error: {opt} {format_duration(value)} is after the end of the run "
                  f"({format_duration(horizon)}); run longer, e.g. --set horizon={format_duration(end)}",
                  file=sys.stderr)
            return EXIT_BAD_INPUT
    if args.step <= 0:
        print(f"error: --step {format_duration(args.step)}: expected a positive duration, e.g. 1min",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    if end <= start:
        print(f"error: --to {format_duration(end)} must be after --from {format_duration(start)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if len({repr(r.seed) for r in runs.values()}) > 1:
        print("warning: the two runs have different seeds, so they do not see the same issues",
              file=sys.stderr)
    began = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="the runs have different seeds")  # (said above)
            path = animate(runs, out, start=start, end=end, step=args.step, fps=args.fps, lang=lang, dpi=args.dpi)
    except (ValueError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as err:
        print(f"error: --out {args.out}: cannot write it ({err.strerror or err})", file=sys.stderr)
        return EXIT_BAD_INPUT
    if suffix == ".png":
        print(f"wrote {path} (a still at {format_duration(start)}) in {time.perf_counter() - began:.1f} s")
        return 0
    n = int(round((end - start) / args.step))
    print(f"wrote {path} ({n:,} frames: {format_duration(start)} to {format_duration(end)}, one per "
          f"{format_duration(args.step)}, {n / args.fps:.0f} s at {args.fps:g} fps) in "
          f"{time.perf_counter() - began:.1f} s")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from govsim.cli import add_common

    p = sub.add_parser(
        "animate", help="a day on the map: workers, issues and counters over time, as .mp4, .gif or .html",
        description="Animate a run on the district's map: the grids, every worker where the recorded "
                    "patrols and trips put it, the issues (red: arisen, orange: found, green: closed), "
                    "a clock and live counters. Two inputs are drawn side by side on the same seed "
                    "(the same issues). See docs/animate.md.")
    p.add_argument("first", metavar="RUN_DIR|SCENARIO",
                   help="a folder written by govsim run --out, or a scenario file or preset name")
    p.add_argument("second", metavar="SCENARIO2", nargs="?",
                   help="a second run folder or scenario, drawn beside the first on the same seed")
    p.add_argument("--from", dest="start", type=_duration, default=0.0, metavar="TIME",
                   help="start of the clip, time since the run's start, e.g. 2d (default 0)")
    p.add_argument("--to", dest="end", type=_duration, default=None, metavar="TIME",
                   help="end of the clip, e.g. 3d (default: one day after --from, within the run)")
    p.add_argument("--step", type=_duration, default=1 / 60, metavar="DURATION",
                   help="simulated time per frame (default 1min)")
    p.add_argument("--fps", type=_fps, default=30.0, metavar="N", help="frames per second (default 30)")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="day.mp4 (needs ffmpeg), day.gif or day.html (a self-contained page with a "
                        "player); still.png: the frame at --from alone")
    p.add_argument("--lang", choices=("en", "zh"), default="en",
                   help="label language (zh needs a CJK font; else English with a warning)")
    p.add_argument("--dpi", type=_dpi, default=100.0, metavar="N",
                   help="pixels per inch of the frames (default 100: 1,130 × 740 pixels for two panels)")
    add_common(p)  # --seed (default: a run folder's, else the first scenario's, else 0), --set
    p.set_defaults(func=cmd_animate)
