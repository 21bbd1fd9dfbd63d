"""Calibration (情景标定): fit a scenario to a real district's case log and grid map.

A case log is what every grid-management or hotline system exports (12345,
数字城管, 网格事件, 311): one row per case with when it became known, when it was
closed, its category, its channel and where it was.

* :mod:`~govsim.calibration.caselog` — reading and cleaning a log; every odd row counted
"""

from govsim.calibration.errors import CalibrationError

__all__ = ["CalibrationError"]
