"""Figures (图表) of runs and experiments, with matplotlib.

Every function returns a :class:`matplotlib.figure.Figure` and never shows it or
touches pyplot's global state: save it (``fig.savefig("x.png")``) or let a
notebook display it. Run-level figures take a :class:`~govsim.result.Result`, a
dict ``{label: Result}`` or a list of Results (one colour per model, the same in
every figure); :func:`forest` and :func:`sweep_curves` take the objects returned
by :func:`govsim.compare` and :func:`govsim.sweep`. ``lang="zh"`` gives Chinese
labels when a CJK font is installed (else English, with a warning). Warm-up:
issues created before it are left out, as in the summary (default: the
scenario's). See ``docs/figures.md``.
"""

from govsim.plots.disputes import escalation_funnel
from govsim.plots.experiments import forest, sweep_curves
from govsim.plots.maps import coverage_map
from govsim.plots.runs import backlog, resolution_times, time_decomposition, utilisation

__all__ = [
    "backlog", "coverage_map", "escalation_funnel", "forest", "resolution_times", "sweep_curves",
    "time_decomposition", "utilisation",
]
