"""One run of an experiment, as a task that any executor can ship to any process.

A :class:`RunTask` carries the scenario as its merged document (``raw``) and
source name, never SimPy objects: the worker re-loads it with
:func:`govsim.load_scenario`, runs replication ``replication`` of master seed
``seed`` and sends back only the summary (a dict of floats) and, when asked, the
issues table. The sequential executor goes through exactly the same code, so a
result does not depend on where it was computed.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RunTask", "run_task", "plugin_modules"]


@dataclass(frozen=True)
class RunTask:
    """Replication ``replication`` of point ``point`` (a scenario) of an experiment."""

    point: int
    replication: int
    seed: int
    raw: dict[str, Any] = field(repr=False)
    source: str | None = None
    plugins: tuple[tuple[str, str, str], ...] = ()  # (registry, name, module) to import if missing
    issues: bool = False


def plugin_modules(scenario: Any) -> tuple[tuple[str, str, str], ...]:
    """Policies, routes and governance mechanisms the scenario uses that are not part of
    govsim: ``(registry, name, module)``, so that a worker started by ``spawn``/``forkserver``
    or on a Dask cluster can import the module that registers them."""
    wanted = [("policy", n) for n in {scenario.policy, *scenario.policies}]
    wanted.append(("route", scenario.workers.route))
    wanted += [("mechanism", name) for name, _ in scenario.governance.active()]
    out = []
    for kind, name in sorted(wanted):
        registry = _registry(kind)
        module = getattr(registry.get(name), "__module__", None)
        if module and module != "govsim" and not module.startswith("govsim."):
            out.append((kind, name, module))
    return tuple(out)


def _ensure_plugins(plugins: tuple[tuple[str, str, str], ...]) -> None:
    if not plugins:
        return
    for kind, name, module in plugins:
        registry = _registry(kind)
        if name in registry:
            continue
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise RuntimeError(
                f"{kind} {name!r} is registered in module {module!r}, which this worker process "
                f"cannot import ({err}); define it in an importable module (installed or on "
                f"PYTHONPATH of the workers)") from None


def _registry(kind: str) -> dict[str, Any]:
    from govsim.mechanisms import MECHANISMS
    from govsim.policies import POLICIES, ROUTES

    registries: dict[str, dict[str, Any]] = {"policy": POLICIES, "route": ROUTES, "mechanism": MECHANISMS}
    return registries[kind]


def load_task_scenario(task: RunTask) -> Any:
    from govsim.scenario import load_scenario

    _ensure_plugins(task.plugins)
    scenario = load_scenario(task.raw)
    return dataclasses.replace(scenario, source=task.source) if task.source else scenario


def run_task(task: RunTask) -> dict[str, Any]:
    """Run one task; returns ``{"point", "replication", "summary": {metric: float}, "elapsed_s"}``
    (plus ``"issues"``, a DataFrame, if the task asks for it)."""
    from govsim.engine import Simulation
    from govsim.experiments.seeds import replication_seed

    t0 = time.perf_counter()
    scenario = load_task_scenario(task)
    result = Simulation(scenario, replication_seed(task.seed, task.replication)).run()
    summary = result.summary()
    out: dict[str, Any] = {
        "point": task.point,
        "replication": task.replication,
        "summary": {str(k): float(v) for k, v in summary.items()},
    }
    if task.issues:
        out["issues"] = result.issues
    out["elapsed_s"] = time.perf_counter() - t0
    return out
