"""govsim: discrete-event simulation of grid-based community governance (网格化管理).

    >>> import govsim
    >>> result = govsim.run("scenarios/smart_dispatch.yaml", seed=1)   # doctest: +SKIP
    >>> result.summary()                                                # doctest: +SKIP
"""

from importlib import import_module as _import_module
from importlib import metadata as _metadata
from typing import TYPE_CHECKING, Any

# The public names are imported on first use (PEP 562): ``import govsim`` (and every
# ``import govsim.<module>``, which runs this file first) does not load the calibration and
# experiment packages with SciPy's statistics and optimisers, about 40 MiB a simulation
# never needs (issue 16). ``govsim.X`` and ``from govsim import X`` work as before.
_LAZY: dict[str, str] = {  # public name → the module that defines it
    **dict.fromkeys(("Simulation", "run"), "govsim.engine"),
    **dict.fromkeys(("Calibration", "CalibrationError", "calibrate", "check_fit", "fit_targets"),
                    "govsim.calibration"),
    **dict.fromkeys(("Optimisation", "Sensitivity", "compare", "optimise", "replicate", "sensitivity",
                     "sweep"), "govsim.experiments"),
    **dict.fromkeys(("Channel", "Issue", "Status"), "govsim.issues"),
    **dict.fromkeys(("Mechanism", "register_mechanism"), "govsim.mechanisms"),
    **dict.fromkeys(("DispatchPolicy", "PatrolRoute", "register_policy", "register_route"), "govsim.policies"),
    "Result": "govsim.result",
    **dict.fromkeys(("CityResult", "load_city", "run_city"), "govsim.city"),
    **dict.fromkeys(("ScenarioError", "load_scenario"), "govsim.scenario"),
    "Scenario": "govsim.scenario.schema",
}

if TYPE_CHECKING:  # the same names, eagerly, for type checkers and editors
    from govsim.engine import Simulation, run
    from govsim.calibration import Calibration, CalibrationError, calibrate, check_fit, fit_targets
    from govsim.city import CityResult, load_city, run_city
    from govsim.experiments import compare, replicate, sweep
    from govsim.experiments.optimise import Optimisation, optimise  # (the package's names shadow
    from govsim.experiments.sensitivity import Sensitivity, sensitivity  # these modules for mypy)
    from govsim.issues import Channel, Issue, Status
    from govsim.mechanisms import Mechanism, register_mechanism
    from govsim.policies import DispatchPolicy, PatrolRoute, register_policy, register_route
    from govsim.result import Result
    from govsim.scenario import ScenarioError, load_scenario
    from govsim.scenario.schema import Scenario


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (then an ordinary attribute)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'govsim' has no attribute {name!r}")
    value = getattr(_import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


try:  # single-sourced: the version in pyproject.toml, read from the installed package's metadata
    __version__: str = _metadata.version("govsim")
except _metadata.PackageNotFoundError:  # a checkout on sys.path that was never installed
    __version__ = "0+unknown"



def is_compiled() -> bool:
    """True if the engine was compiled by mypyc (installed with ``GOVSIM_COMPILE=1``; the
    same results, a faster run phase: docs/performance.md), False for pure Python. Looks
    for the module's file without importing it."""
    from importlib.machinery import EXTENSION_SUFFIXES
    from importlib.util import find_spec

    spec = find_spec("govsim.engine")
    return spec is not None and spec.origin is not None and spec.origin.endswith(tuple(EXTENSION_SUFFIXES))


def build_name() -> str:
    """The build in words, as ``govsim --version`` says it: "compiled with mypyc" or "pure Python"."""
    return "compiled with mypyc" if is_compiled() else "pure Python"


__all__ = [
    "Calibration", "CalibrationError", "Channel", "CityResult", "DispatchPolicy", "Issue", "Mechanism", "Optimisation",
    "PatrolRoute", "Result", "Sensitivity",
    "Scenario", "ScenarioError", "Simulation", "Status", "calibrate", "check_fit", "compare", "fit_targets",
    "load_city", "load_scenario", "optimise", "register_mechanism", "register_policy", "register_route", "replicate",
    "build_name", "is_compiled", "run", "run_city", "sensitivity", "sweep",
    "__version__",
]
