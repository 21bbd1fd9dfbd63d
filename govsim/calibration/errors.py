"""Errors raised while reading a case log or a grid map for calibration.

Like :class:`~govsim.scenario.errors.ScenarioError`, one error lists every
problem found, each naming where it is (a column, a row, a GeoJSON feature), and
the command line prints it and exits with status 2, never a traceback::

    cases.csv: 2 problems
      --columns created=opened_at: no column 'opened_at'; columns: request_id, created, ...
      row 17, column 'lat': expected a number, got 'n/a'
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["CalibrationError"]


class CalibrationError(ValueError):
    """A case log, a column mapping, a grid map or a calibration request is unusable.

    ``problems`` are human-readable messages, each starting with where the
    problem is (``"column 'created'"``, ``"row 17"``, ``"feature 3"``);
    ``source`` names the file (or ``"<DataFrame>"``).
    """

    problems: list[str]
    source: str | None

    def __init__(self, problems: str | Iterable[str], source: str | None = None) -> None:
        problems = [problems] if isinstance(problems, str) else list(problems)
        if not problems:
            raise ValueError("CalibrationError needs at least one problem")
        self.problems = problems
        self.source = source
        super().__init__(problems, source)

    def with_source(self, source: str | None) -> CalibrationError:
        """The same problems, attributed to ``source``."""
        return type(self)(self.problems, source)

    def __str__(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        if len(self.problems) == 1:
            return prefix + self.problems[0]
        lines = [f"{prefix}{len(self.problems)} problems"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)
