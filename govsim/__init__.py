"""govsim: discrete-event simulation of grid-based community governance (网格化管理).

    >>> import govsim
    >>> result = govsim.run("scenarios/smart_dispatch.yaml", seed=1)   # doctest: +SKIP
    >>> result.summary()                                                # doctest: +SKIP
"""

from govsim.engine import Simulation, run
from govsim.calibration import Calibration, CalibrationError, calibrate, check_fit, fit_targets
from govsim.experiments import Optimisation, Sensitivity, compare, optimise, replicate, sensitivity, sweep
from govsim.issues import Channel, Issue, Status
from govsim.mechanisms import Mechanism, register_mechanism
from govsim.policies import DispatchPolicy, PatrolRoute, register_policy, register_route
from govsim.result import Result
from govsim.scenario import ScenarioError, load_scenario
from govsim.scenario.schema import Scenario

from importlib import metadata as _metadata

try:  # single-sourced: the version in pyproject.toml, read from the installed package's metadata
    __version__: str = _metadata.version("govsim")
except _metadata.PackageNotFoundError:  # a checkout on sys.path that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Calibration", "CalibrationError", "Channel", "DispatchPolicy", "Issue", "Mechanism", "Optimisation",
    "PatrolRoute", "Result", "Sensitivity",
    "Scenario", "ScenarioError", "Simulation", "Status", "calibrate", "check_fit", "compare", "fit_targets",
    "load_scenario", "optimise", "register_mechanism", "register_policy", "register_route", "replicate",
    "run", "sensitivity", "sweep",
    "__version__",
]
