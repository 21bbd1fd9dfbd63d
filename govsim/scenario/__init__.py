"""Scenario files: YAML → validated, typed configuration.

``load_scenario(path_or_dict, overrides)`` returns a
:class:`govsim.scenario.schema.Scenario`; every problem in the document is
reported at once in a :class:`ScenarioError`.
"""

from govsim.scenario.errors import Problem, ScenarioError
from govsim.scenario.loader import apply_overrides, load_scenario, parse_override, scenario_hash

__all__ = [
    "Problem",
    "ScenarioError",
    "apply_overrides",
    "load_scenario",
    "parse_override",
    "scenario_hash",
]
