"""The ``governance:`` section of a scenario: one optional key per registered mechanism.

Each governance mechanism (:mod:`govsim.mechanisms`) declares its settings as a
frozen dataclass, ``Config``; the section accepts exactly the names of the
registered mechanisms (a misspelt one gets a "did you mean"), each validated
with its own ``Config``. Left out, a mechanism is off. A mechanism registered by
study code becomes a key of the section without any change here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, cast


@dataclasses.dataclass(frozen=True, init=False, eq=False, repr=False)
class GovernanceConfig:
    """Party-led governance mechanisms (党建引领的治理机制); each is off unless given."""

    def __init__(self, **sections: Any) -> None:
        known = _registry()
        unknown = sorted(set(sections) - set(known))
        if unknown:
            raise ValueError(f"unknown governance mechanism {unknown[0]!r}; known: {', '.join(known)}")
        object.__setattr__(self, "_sections", {k: v for k, v in sections.items() if v is not None})

    @classmethod
    def __section_fields__(cls) -> list[tuple[str, Any, dataclasses.Field[Any]]]:
        """The section's keys for the scenario converter: ``(name, type, field)`` per mechanism."""
        return [(name, mech.Config | None,
                 cast("dataclasses.Field[Any]", dataclasses.field(default=None, metadata={"doc": mech.title})))
                for name, mech in _registry().items()]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in _registry():
            return self._sections.get(name)
        raise AttributeError(f"no governance mechanism {name!r}")

    def get(self, name: str) -> Any:
        """The settings of mechanism ``name``, or None when it is off."""
        return self._sections.get(name)

    def active(self) -> Iterator[tuple[str, Any]]:
        """``(name, settings)`` of the mechanisms turned on, in registration order."""
        for name in _registry():
            if name in self._sections:
                yield name, self._sections[name]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GovernanceConfig) and self._sections == other._sections

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._sections)))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.active())
        return f"GovernanceConfig({inner})"


def _registry() -> dict[str, Any]:
    from govsim.mechanisms import MECHANISMS

    return MECHANISMS
