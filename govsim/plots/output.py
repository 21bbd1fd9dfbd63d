"""Figures for a directory of results (``govsim plot``): a run written by ``govsim run --out``
or a results store written by ``govsim compare/sweep --out``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from govsim.plots.disputes import escalation_funnel, funnel_counts
from govsim.plots.experiments import forest, sweep_curves
from govsim.plots.maps import coverage_difference, coverage_map, shared_limits
from govsim.plots.runs import backlog, resolution_times, time_decomposition, utilisation

if TYPE_CHECKING:
    from govsim.experiments.api import Comparison, Sweep
    from govsim.result import Result

__all__ = ["FORMATS", "load_experiment", "plot_dir", "run_figures", "save_figures"]

FORMATS = ("png", "svg", "pdf")


def save_figures(figures: Mapping[str, Figure], out: str | Path, fmt: str = "png",
                 dpi: int = 120) -> list[Path]:
    """Write each figure to ``out/<name>.<fmt>``; returns the files written."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fig in figures.items():
        f = folder / f"{name}.{fmt}"
        fig.savefig(f, dpi=dpi)
        written.append(f)
    return written


def _same_district(runs: Sequence[Result]) -> bool:
    """All runs on the same grids (so their maps can share a scale and be subtracted)."""
    first = runs[0].grids
    return all(len(r.grids) == len(first) and all(
        np.allclose(r.grids[c].to_numpy(dtype=float), first[c].to_numpy(dtype=float))
        for c in ("x_m", "y_m", "edge_m")) for r in runs[1:])


def run_figures(runs: Result | Mapping[str, Result], lang: str = "en") -> dict[str, Figure]:
    """Every figure of one run, or of runs side by side: resolution times, time decomposition,
    backlog, time use, and per run the coverage maps and (if it has disputes) the funnel.
    Runs of the same district share one colour scale per kind of map, and each run after
    the first gets difference maps against the first (``coverage_*_difference_<i>``)."""
    from govsim.plots._base import as_results

    runs = as_results(runs)
    figs = {"resolution_times": resolution_times(runs, lang=lang),
            "time_decomposition": time_decomposition(runs, lang=lang),
            "backlog": backlog(runs, lang=lang), "utilisation": utilisation(runs, lang=lang)}
    results = list(runs.values())
    shared = len(results) > 1 and _same_district(results)
    kinds: tuple[Literal["visits", "discovery_delay"], ...] = ("visits", "discovery_delay")
    limits = {by: shared_limits(results, by) if shared else None for by in kinds}
    for i, r in enumerate(results):
        suffix = f"_{i + 1}" if len(runs) > 1 else ""
        for by in kinds:
            figs[f"coverage_{by}{suffix}"] = coverage_map(r, by, lang=lang, limits=limits[by])
        if funnel_counts(r)["disputes"]:
            figs[f"escalation_funnel{suffix}"] = escalation_funnel(r, lang=lang)
    if shared:
        names = list(runs)
        for i, r in enumerate(results[1:], start=2):
            for by in kinds:
                figs[f"coverage_{by}_difference{'' if len(runs) == 2 else f'_{i}'}"] = coverage_difference(
                    results[0], r, by, lang=lang, labels=(names[0], names[i - 1]))
    return figs


def _read_csv(folder: Path, name: str) -> pd.DataFrame:
    f = folder / f"{name}.csv"
    if not f.exists():
        raise ValueError(f"{folder}: no {name}.csv: the experiment has not finished; run the same "
                         f"command again to finish it")
    return pd.read_csv(f)


def load_experiment(path: str | Path) -> Comparison | Sweep | None:
    """The comparison or sweep stored in a results directory (from its ``table.csv`` and
    manifest), or ``None`` for replications of one scenario."""
    from govsim.experiments.api import Comparison, Sweep

    folder = Path(path)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ValueError(f"{folder / 'manifest.json'}: unreadable ({err})") from None
    kind, n, seed = manifest.get("kind"), int(manifest.get("n", 0)), manifest.get("seed")
    points = manifest.get("points", [])
    if kind == "compare":
        labels = [p["label"] for p in points]
        return Comparison(labels, [None] * len(labels), _read_csv(folder, "runs"),
                          _read_csv(folder, "table"), _read_csv(folder, "means"), n, seed, 0.95, {}, None)
    if kind == "sweep":
        factorial = "design" not in manifest  # a full factorial names its levels; a design its keys
        keys = list(manifest.get("params", {})) if factorial else list(manifest.get("design", []))
        table = pd.DataFrame({"point": [p["point"] for p in points],
                              **{k: [p["params"][k] for p in points] for k in keys}})
        params = ({str(k): list(v) for k, v in manifest["params"].items()} if factorial
                  else {k: list(dict.fromkeys(table[k].tolist())) for k in keys})
        return Sweep(None, params, table, _read_csv(folder, "runs"), _read_csv(folder, "table"), n,
                     seed, 0.95, {}, None, factorial=factorial)
    return None


def _sweep_axes(sweep: Sweep) -> tuple[str, str | None]:
    from govsim.plots.experiments import _is_numeric

    varied = [k for k, v in sweep.params.items() if len(v) > 1] or list(sweep.params)
    if not varied:
        raise ValueError("the sweep varies no key: no response curve to draw")
    if len(varied) > 2:
        raise ValueError(f"the sweep varies {len(varied)} keys ({', '.join(varied)}); plot it from "
                         f"Python with govsim.plots.sweep_curves, fixing all but two")
    x = next((k for k in varied if _is_numeric(sweep.params[k])), varied[0])
    hue = next((k for k in varied if k != x), None)
    return x, hue


def experiment_figures(experiment: Comparison | Sweep, lang: str = "en") -> dict[str, Figure]:
    """The forest plot of a comparison, or the response curves of a sweep."""
    from govsim.experiments.api import HEADLINE_METRICS, Comparison

    if isinstance(experiment, Comparison):
        return {"forest": forest(experiment, lang=lang)}
    x, hue = _sweep_axes(experiment)
    return {"sweep_curves": sweep_curves(experiment, x, HEADLINE_METRICS, hue=hue, lang=lang)}


def plot_dir(path: str | Path, out: str | Path, lang: str = "en", fmt: str = "png") -> list[Path]:
    """Write every figure that applies to the results in ``path`` into ``out``."""
    from govsim.result import Result

    folder = Path(path)
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such directory")
    if (folder / "manifest.json").exists():
        experiment = load_experiment(folder)
        if (folder / "indices.csv").exists():
            raise ValueError(f"{folder}: holds a sensitivity analysis; its figure is written by "
                             f"govsim sensitivity --out (or Sensitivity.figure() in Python)")
        if experiment is None:
            raise ValueError(f"{folder}: holds replications of one scenario; no figure applies "
                             f"(figures need one run: govsim run --out, or a compare or sweep store)")
        figures = experiment_figures(experiment, lang)
    else:
        figures = run_figures(Result.from_dir(folder), lang)
    return save_figures(figures, out, fmt)
