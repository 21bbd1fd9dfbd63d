"""Figures (图表) of runs and experiments, with matplotlib.

Every function returns a :class:`matplotlib.figure.Figure` and never shows it or
touches pyplot's global state: save it (``fig.savefig("x.png")``) or let a
notebook display it. Run-level figures take a :class:`~govsim.result.Result`, a
dict ``{label: Result}`` or a list of Results (one colour per model, the same in
every figure); :func:`forest` and :func:`sweep_curves` take the objects returned
by :func:`govsim.compare` and :func:`govsim.sweep`. ``lang="zh"`` gives Chinese
labels when a CJK font is installed (else English, with a warning). Warm-up:
issues created before it are left out, as in the summary (default: the
scenario's). See ``docs/figures.md``. The figures of a calibration and of its check against
a case log are in :mod:`govsim.plots.calibration` (``docs/calibration-report.md``).
"""

from govsim.plots.animation import animate
from govsim.plots.calibration import (
    category_mix, channel_mix, closure_fit, daily_volume, fit_table, profile_fit, rate_map,
)
from govsim.plots.disputes import escalation_funnel
from govsim.plots.experiments import forest, sweep_curves
from govsim.plots.maps import coverage_map
from govsim.plots.runs import backlog, resolution_times, time_decomposition, utilisation

__all__ = [
    "animate", "backlog", "category_mix", "channel_mix", "closure_fit", "coverage_map", "daily_volume",
    "escalation_funnel", "fit_table", "forest", "profile_fit", "rate_map", "resolution_times",
    "sweep_curves", "time_decomposition", "utilisation",
]
