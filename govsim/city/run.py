"""Running a city: districts as shards in parallel (local processes or Dask), or in one engine.

A sharded run has three steps (see :mod:`govsim.city.centre` for why it is exact):

1. **calls** (one task per district, in parallel): build the district and read, from
   the issues drawn up front, the calls its residents and sensors make to 12345;
2. **centre** (here): the shared call centre answers the merged calls of every
   district;
3. **districts** (one task per district, in parallel): run each district with the
   times its calls leave the centre; each returns its tables and summary.

With city departments or a city mediation centre (:mod:`govsim.city.services`), step 3
is done twice: the districts' hand-offs to those stations are recorded, the stations
are simulated on them (here), and the districts run again with the stations' answers.

Without a shared centre, step 3 alone. District ``k`` of the city seed ``s`` runs
with ``SeedSequence(s, spawn_key=(k,))`` (spawned by district index, never by
shard or worker) and the centre with its own stream of ``SeedSequence(s)``, so
the result is the same with 1, 2 or 8 workers, and the same as
``sharded=False``: every district and the centre in one engine, one clock.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from govsim.agents.stations import SharedDesks
from govsim.city.centre import (CentreOutcome, CityHotline, FixedTriage, Forwards, MergedCalls, SharedCallCentre,
                                district_calls, forward_feed, merge_calls, simulate_centre, use_city_hotline)
from govsim.city.config import City, load_city
from govsim.city.result import CityResult, DistrictOutput
from govsim.city.services import (HandOffs, RecordingDesk, Replay, ReplayDesk, SharedStation, StationOutcome,
                                  StationSpec, live_desks, merge_handoffs, shared_stations, simulate_station)
from govsim.scenario.schema import MediationLevelConfig, Scenario
from govsim.tables import core_tables

__all__ = ["district_seed", "run_city"]


def district_seed(seed: int | np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """The seed of district ``index`` of a city run with ``seed`` (the city's root sequence
    spawned by district index)."""
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(_check_seed(seed))
    return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, index))


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


@dataclass(frozen=True)
class _Task:
    index: int
    name: str
    scenario: Scenario
    seed: np.random.SeedSequence
    shared_hotline: bool
    forwards: Forwards | None = None
    fallback: float | None = None  # duplicates: false: hours to triage a call the centre was not given
    services: tuple[StationSpec, ...] = ()  # the city's shared departments and mediation centre
    mediation_level: MediationLevelConfig | None = None  # the city's mediation centre
    replays: dict[str, Replay] | None = None  # the stations' answers (None: record the hand-offs)


def _build(task: _Task, desk: Callable[[StationSpec], Any] | None = None) -> Any:
    """District ``task`` built; ``desk(spec)``: its desk of each shared station it uses."""
    from govsim.engine import Simulation

    return Simulation(task.scenario, task.seed, shared=_shared_desks(task, desk) if desk else None)


def _shared_desks(task: _Task, desk: Callable[[StationSpec], Any]) -> SharedDesks | None:
    """The district's desks of the city's shared stations: the departments it has, and the
    mediation centre."""
    if not task.services:
        return None
    departments = {spec.department: desk(spec) for spec in task.services
                   if spec.department is not None and spec.department in task.scenario.departments}
    mediation = next((desk(spec) for spec in task.services if spec.kind == "mediation"), None)
    return SharedDesks(departments=departments, mediation=mediation, mediation_level=task.mediation_level)


def calls_task(task: _Task) -> tuple[int, Any]:
    """Step 1 (a shard): the calls of one district to the shared centre."""
    return task.index, district_calls(_build(task))


def _with_hotline(task: _Task, sim: Any) -> CityHotline | None:
    """The city's 12345 centre in place of the district's own (its answers replayed)."""
    if not task.shared_hotline:
        return None
    assert task.forwards is not None
    unlisted = FixedTriage(task.fallback) if task.fallback is not None else None
    policy = use_city_hotline(sim, task.name, task.forwards.called, unlisted)
    forward_feed(sim, policy, task.forwards)
    return policy


def handoff_task(task: _Task) -> tuple[int, dict[str, HandOffs]]:
    """Step 3a (a shard, with city departments or a mediation centre): run one district with
    desks that record what it hands to the shared stations; no tables."""
    from govsim.engine import run_clock

    desks: dict[str, RecordingDesk] = {}

    def record(spec: StationSpec) -> RecordingDesk:
        return desks.setdefault(spec.key, RecordingDesk())

    sim = _build(task, record)
    _with_hotline(task, sim)
    run_clock(sim.env, sim.horizon)
    return task.index, {key: desk.handoffs() for key, desk in desks.items()}


def district_task(task: _Task) -> DistrictOutput:
    """Step 3 (a shard): run one district (with the centre's forwards and the shared stations'
    answers) and return its tables."""
    t0 = time.perf_counter()
    replays = task.replays
    desks: list[ReplayDesk] = []

    def replay(spec: StationSpec) -> ReplayDesk:
        assert replays is not None
        desks.append(ReplayDesk(spec.name, task.name, replays[spec.key]))
        return desks[-1]

    sim = _build(task, replay if task.services else None)
    policy = _with_hotline(task, sim)
    result = sim.run()
    for desk in desks:
        desk.finish()
    return _output(task, sim, result, policy, t0)


def _run_districts(runner: Any, tasks: list[_Task], seed: Any,
                   horizon: float) -> tuple[list[DistrictOutput], list[StationOutcome]]:
    """Step 3 on every district; with shared stations, in two passes around the stations."""
    specs = list(tasks[0].services) if tasks else []
    if not specs:
        return list(runner.map(district_task, tasks)), []
    handoffs = dict(runner.map(handoff_task, tasks))
    outcomes = [simulate_station(spec, merge_handoffs([handoffs[t.index].get(spec.key, HandOffs.from_rows([]))
                                                       for t in tasks]), seed, horizon) for spec in specs]
    answered = [dataclasses.replace(t, replays={o.spec.key: o.replay(t.index) for o in outcomes}) for t in tasks]
    return list(runner.map(district_task, answered)), outcomes


def _output(task: _Task, sim: Any, result: Any, policy: CityHotline | None, t0: float) -> DistrictOutput:
    warmup = sim.scenario.warmup
    tables = {name: getattr(result, name) for name in core_tables()}
    summary = result.summary()
    out = DistrictOutput(
        index=task.index, name=task.name, tables=tables,
        mechanism_tables={k: v for k, v in result.tables.items() if len(v)},
        summary=summary, station_table=result.station_table(warmup),
        sizes={"issue": len(sim.plan) + len(sim.alarms), "worker": len(sim.workers),
               "grid": sim.territory.n_grids, "point": len(sim.territory.point_grid),
               "station": len(sim.stations)},
        dispute_categories=list(result.dispute_categories),
        facts=dict(result.governance), households=float(result.grids["households"].sum()),
        made_known=np.array(sorted(policy.made_known), dtype=np.int64) if policy is not None
        else np.empty(0, np.int64),
        n_unlisted=policy.n_unlisted if policy is not None else 0,
        seconds=time.perf_counter() - t0,
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        host=f"{socket.gethostname()}:{os.getpid()}")
    return out


def run_city(city: City | str | Path | dict[str, Any], seed: int | np.random.SeedSequence | None = None, *,
             jobs: int | None = None, scheduler: Any = None, executor: Any = None, sharded: bool = True,
             overrides: dict[str, Any] | None = None) -> CityResult:
    """Run a city once and return its :class:`~govsim.city.result.CityResult`.

    ``city``: a :class:`~govsim.city.config.City`, a city file or a mapping (``overrides``:
    dotted keys into the file, ``city.shared.hotline.operators``). ``seed`` defaults to the
    city's ``seed``, then 0. The districts run as shards: ``jobs`` local processes (default:
    one per core, at most one per district; 1: in this process), or on a Dask cluster
    (``scheduler``: an address such as ``tcp://host:8786``, or a ``dask.distributed.Client``),
    or on any ``executor`` of :mod:`govsim.experiments.executors`. ``sharded=False`` runs
    every district and the shared centre in one engine, in this process: the same result,
    event for event, slower (the reference the sharded run is tested against).
    """
    from govsim.experiments.executors import make_executor

    if not isinstance(city, City):
        city = load_city(city, overrides=overrides)
    if seed is None:
        seed = city.seed if city.seed is not None else 0
    shared = city.config.shared.hotline is not None
    specs = tuple(shared_stations(city.config.shared))
    tasks = [_Task(k, name, sc, district_seed(seed, k), shared, services=specs,
                   mediation_level=city.config.shared.mediation)
             for k, (name, sc) in enumerate(zip(city.district_names, city.districts))]
    if not sharded:
        outputs, centre, services = _run_one_engine(city, seed, tasks)
        return _result(city, seed, outputs, centre, services)
    runner, owned = make_executor(executor, jobs=jobs, scheduler=scheduler, n_tasks=len(tasks))
    try:
        centre = None
        convergence: list[dict[str, int]] = []
        cfg = city.config.shared.hotline
        if cfg is None:
            outputs, services = _run_districts(runner, tasks, seed, city.horizon)
        else:
            calls = dict(runner.map(calls_task, tasks))
            every = merge_calls([calls[k] for k in range(len(tasks))])
            given = np.ones(len(every), dtype=bool)  # first pass: every call residents would make
            for _ in range(1 if cfg.duplicates else cfg.iterations):
                centre = simulate_centre(cfg, _subset(every, given), seed, city.horizon)
                fallback = None if cfg.duplicates else _mean_time_per_call(centre, cfg)
                outputs, services = _run_districts(runner, [
                    dataclasses.replace(t, forwards=centre.forwards(t.index), fallback=fallback) for t in tasks],
                    seed, city.horizon)
                if cfg.duplicates:
                    break
                made = _made_calls(every, outputs)
                convergence.append({"given": int(given.sum()), "made": int(made.sum()),
                                    "changed": int((made != given).sum()),
                                    "made_not_given": int(sum(o.n_unlisted for o in outputs))})
                if (made == given).all():  # consistent: the districts made exactly the calls given
                    break
                given = made
    finally:
        if owned:
            runner.close()
    result = _result(city, seed, outputs, centre, services)
    result.convergence = convergence
    return result


def _subset(calls: MergedCalls, rows: np.ndarray) -> MergedCalls:
    return MergedCalls(calls.district[rows], calls.issue[rows], calls.time[rows], calls.priority[rows])


def _made_calls(every: MergedCalls, outputs: list[DistrictOutput]) -> np.ndarray:
    """Which of ``every`` call the districts made (made an issue known) in their last pass."""
    made = np.zeros(len(every), dtype=bool)
    for out in outputs:
        rows = every.district == out.index
        made[rows] = np.isin(every.issue[rows], out.made_known)
    return made


def _mean_time_per_call(centre: CentreOutcome, cfg: Any) -> float:
    """The centre's mean time from a call to its triage (wait and handling), for calls it was
    not given; its mean handling time if it triaged none."""
    sojourn = centre.ended - centre.arrived
    sojourn = sojourn[np.isfinite(sojourn)]
    if len(sojourn):
        return float(sojourn.mean())
    return float(np.mean(cfg.call_handling.sample(np.random.default_rng(0), 1000)))


def _result(city: City, seed: Any, outputs: list[DistrictOutput], centre: CentreOutcome | None,
            services: list[StationOutcome]) -> CityResult:
    return CityResult(name=city.name, seed=seed, horizon=city.horizon, warmup=city.warmup,
                      districts=city.district_names, outputs=outputs, centre=centre, services=services)


class _LiveCall:
    """In one engine with ``duplicates: false``: the call is made to the centre now."""

    def __init__(self, centre: SharedCallCentre, district: int) -> None:
        self.centre = centre
        self.district = district

    def __call__(self, policy: CityHotline, issue: Any) -> None:
        self.centre.call(self.district, issue.id, issue.priority)


def _run_one_engine(city: City, seed: Any, tasks: list[_Task]
                    ) -> tuple[list[DistrictOutput], CentreOutcome | None, list[StationOutcome]]:
    """Every district and the shared services on one clock (one SimPy environment)."""
    from govsim.engine import Environment, Simulation, run_clock

    t0 = time.perf_counter()
    env = Environment()
    shared = [SharedStation(env, seed, spec) for spec in shared_stations(city.config.shared)]
    desks = live_desks(shared, len(tasks))
    sims = []
    for k, t in enumerate(tasks):
        mine = desks[k]
        sims.append(Simulation(t.scenario, t.seed, env=env,
                               shared=_shared_desks(t, lambda spec: mine[spec.key]) if shared else None))
    policies: list[CityHotline | None] = [None] * len(sims)
    centre = None
    cfg = city.config.shared.hotline
    if cfg is not None:
        def deliver(district: int, issue: int, arrived: float, started: float, ended: float) -> None:
            policy = policies[district]
            assert policy is not None
            policy.triaged(issue, arrived, started)

        if cfg.duplicates:  # every call residents would make, from the plans
            calls = [district_calls(sim) for sim in sims]
            centre = SharedCallCentre(env, seed, cfg, merge_calls(calls), deliver)
            for k, (t, sim) in enumerate(zip(tasks, sims)):
                policies[k] = use_city_hotline(sim, t.name, calls[k].issue)
        else:  # a call is made when it makes an issue known, as the districts run
            live = SharedCallCentre(env, seed, cfg, None, deliver)
            centre = live
            for k, (t, sim) in enumerate(zip(tasks, sims)):
                policies[k] = use_city_hotline(sim, t.name, None, _LiveCall(live, k))
    run_clock(env, city.horizon)
    from govsim.result import Result

    outputs = []
    for t, sim, policy in zip(tasks, sims, policies):
        for w in sim.workers:
            w.finish()
        for station in sim.stations:
            station.close_books()
        outputs.append(_output(t, sim, Result.from_simulation(sim), policy, t0))
    outcome = None
    if centre is not None:
        centre.close_books()
        outcome = centre.outcome(city.horizon)
    for service in shared:
        service.station.close_books()
    return outputs, outcome, [service.outcome(city.horizon) for service in shared]
