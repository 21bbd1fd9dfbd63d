"""Governance mechanisms (党建引领的治理机制), registered by name as sections of ``governance:``.

The built-in mechanisms, in registration order (the order their hooks run in and
their metrics appear in a summary): party-member liaison, resident participation,
neighbourhood festival, volunteer service days, team service, regional alliance,
red property, resident councils, worker training. What each one models:
``docs/governance/``; how to write one: ``docs/mechanisms.md``.
"""

from govsim.mechanisms.base import (
    MECHANISMS,
    Mechanism,
    References,
    RunView,
    check_multipliers,
    register_mechanism,
    unregister_mechanism,
)
from govsim.mechanisms import (  # noqa: F401  (registers the built-in mechanisms, in this order)
    liaison,
    participation,
    festival,
    volunteers,
    teams,
    alliance,
    red_property,
    councils,
    training,
)

__all__ = ["MECHANISMS", "Mechanism", "References", "RunView", "check_multipliers", "register_mechanism",
           "unregister_mechanism"]
