"""Errors raised while reading a scenario.

A scenario document is checked as a whole: every problem found is collected as
a :class:`Problem` (a dotted path into the document and a message), and a
single :class:`ScenarioError` lists them all, e.g.::

    scenarios/bad.yaml: 2 problems
      categories.garbage.rate: expected a number >= 0, got -1
      workers.spede_kmh: unknown key; did you mean 'speed_kmh'?
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

__all__ = ["Problem", "ScenarioError"]


@dataclass(frozen=True)
class Problem:
    """One problem in a scenario document.

    ``path`` is dotted (``categories.garbage.rate``), list items are written
    ``workers.shifts[1].start``; the empty path is the document root.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ScenarioError(ValueError):
    """A scenario document (file, dict or ``--set`` override) is invalid.

    ``problems`` lists every problem found; ``source`` names where the document
    came from (a file path, ``"<dict>"`` or ``"--set"``), or is ``None``.
    """

    problems: list[Problem]
    source: str | None

    def __init__(
        self,
        problems: Problem | Iterable[Problem],
        source: str | None = None,
    ) -> None:
        if isinstance(problems, Problem):
            problems = [problems]
        problems = list(problems)
        if not problems:
            raise ValueError("ScenarioError needs at least one problem")
        for p in problems:
            if not isinstance(p, Problem):
                raise TypeError(f"expected Problem instances, got {p!r}")
        self.problems = problems
        self.source = source
        # args allow pickling (multiprocessing) and a faithful repr.
        super().__init__(problems, source)

    @classmethod
    def single(cls, path: str, message: str, source: str | None = None) -> "ScenarioError":
        """An error with one problem."""
        return cls([Problem(path, message)], source)

    def with_source(self, source: str | None) -> "ScenarioError":
        """The same problems, attributed to ``source``."""
        return type(self)(self.problems, source)

    @property
    def messages(self) -> list[str]:
        """Each problem as ``"path: message"`` (without the source)."""
        return [str(p) for p in self.problems]

    def __str__(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        if len(self.problems) == 1:
            return prefix + str(self.problems[0])
        lines = [f"{prefix}{len(self.problems)} problems"]
        lines.extend(f"  {p}" for p in self.problems)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.problems!r}, source={self.source!r})"
