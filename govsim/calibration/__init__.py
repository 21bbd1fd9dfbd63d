"""Calibration (情景标定): fit a scenario to a real district's case log and grid map.

A case log is what every grid-management or hotline system exports (12345,
数字城管, 网格事件, 311): one row per case with when it became known, when it was
closed, its category, its channel and where it was. :func:`calibrate` reads
one, lays grids over it, fits arrivals, channels and closure, and returns a
:class:`Calibration` whose ``scenario`` runs like any other;
:func:`check_fit` says how well a scenario reproduces a log.

Modules, one job each:

* :mod:`~govsim.calibration.caselog` — reading and cleaning a log; every odd row counted
* :mod:`~govsim.calibration.grids` — grids from a GeoJSON map, square cells or the log's areas
* :mod:`~govsim.calibration.arrivals` — rates by category, hour of the week and grid, shrunk
* :mod:`~govsim.calibration.durations` — closure and handling times by maximum likelihood
* :mod:`~govsim.calibration.capacity` — departments' staff and hours fitted by simulation
* :mod:`~govsim.calibration.fit` — the pipeline and the :class:`Calibration` it returns
* :mod:`~govsim.calibration.writer` — the commented scenario YAML
* :mod:`~govsim.calibration.check` — observed against simulated statistics
* :mod:`~govsim.calibration.report` — the calibration report (Markdown, HTML, figures)
* :mod:`~govsim.calibration.targets` — fitting to published summary figures instead of a log
"""

from govsim.calibration.errors import CalibrationError
from govsim.calibration.fit import Calibration, calibrate
from govsim.calibration.check import check_fit
from govsim.calibration.targets import Target, TargetFit, fit_targets

__all__ = ["Calibration", "CalibrationError", "Target", "TargetFit", "calibrate", "check_fit", "fit_targets"]
