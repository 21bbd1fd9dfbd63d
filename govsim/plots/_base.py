"""Shared parts of the figures: inputs to ``{label: Result}``, issue sets, new figures, fonts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Union

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.text import Text

if TYPE_CHECKING:
    from govsim.experiments.api import Comparison, Replications, Sweep
    from govsim.plots.labels import Labels
    from govsim.result import Result

#: A run, several runs by label, or a list of runs (labelled by scenario name).
Results = Union["Result", Mapping[str, "Result"], Sequence["Result"]]
#: ``Results``, or an experiment run with ``issues=True`` (its replications pooled).
IssueSource = Union[Results, "Comparison", "Replications", "Sweep"]


def as_results(results: Results) -> dict[str, Result]:
    """``{label: Result}`` from a Result, a mapping or a sequence of Results."""
    from govsim.result import Result

    if isinstance(results, Result):
        return {results.scenario.name: results}
    if isinstance(results, Mapping):
        out = {str(k): v for k, v in results.items()}
    elif isinstance(results, Sequence) and not isinstance(results, str):
        names = [r.scenario.name if isinstance(r, Result) else "?" for r in results]
        if len(set(names)) < len(names):
            names = [f"{chr(65 + i) if i < 26 else i}: {n}" for i, n in enumerate(names)]
        out = dict(zip(names, results))
    else:
        raise TypeError(f"expected a Result, a dict {{label: Result}} or a list of Results, "
                        f"got {type(results).__name__}")
    bad = [k for k, v in out.items() if not isinstance(v, Result)]
    if bad:
        raise TypeError(f"{bad[0]!r}: expected a Result, got {type(out[bad[0]]).__name__}")
    if not out:
        raise ValueError("no results to plot")
    return out


def measured(issues: pd.DataFrame, warmup: float) -> pd.DataFrame:
    """The issues counted by the metrics: created at or after ``warmup``."""
    return issues[issues["created_at"] >= warmup]


def issue_sets(source: IssueSource, warmup: float | None) -> dict[str, pd.DataFrame]:
    """``{label: issues created after the warm-up}`` from runs, or from an experiment run with
    ``issues=True`` (replications pooled; warm-up: the experiment's scenario's)."""
    from govsim.experiments.api import Comparison, Replications, Sweep

    if isinstance(source, (Comparison, Replications, Sweep)):
        if source.issues is None:
            raise ValueError("this experiment kept no issues: run it with issues=True")
        df = source.issues
        if isinstance(source, Comparison):
            groups = {lab: (df[df["scenario"] == lab], sc.warmup)
                      for lab, sc in zip(source.labels, source.scenarios)}
        elif isinstance(source, Replications):
            groups = {source.name: (df, source.scenario.warmup)}
        else:
            keys = list(source.params)
            groups = {", ".join(f"{k}={row[k]}" for k in keys): (df[df["sweep_point"] == row["point"]],
                                                                   source.scenario.warmup)
                      for _, row in source.points.iterrows()}
        return {lab: measured(d, w if warmup is None else warmup) for lab, (d, w) in groups.items()}
    return {lab: measured(r.issues, r.warmup if warmup is None else warmup)
            for lab, r in as_results(source).items()}


def new_figure(width: float, height: float) -> Figure:
    """A figure with constrained layout, not registered with pyplot (nothing global changes)."""
    return Figure(figsize=(width, height), layout="constrained")


def finish(fig: Figure, labels: Labels) -> Figure:
    """Draw every text of ``fig`` in the CJK font of ``labels``, if it has one."""
    if labels.font:
        for text in fig.findobj(Text):
            text.set_fontfamily([labels.font, "sans-serif"])
    return fig


def model_colour(i: int) -> str:
    """The colour of the ``i``-th model: the same in every figure."""
    return f"C{i % 10}"


def no_data(ax: Any, text: str) -> None:
    """Write ``text`` in the middle of an empty axes."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4")
