"""Speed and memory without a changed result (issue 16): the issue log that streams closed
issues into columnar chunks, coverage without expanding every visit, and the event loop's
scheduled calls and activities, each checked against the plain computation it replaces."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import simpy

import govsim
from govsim import metrics
from govsim.engine import Environment
from govsim.issues import Issue, Status
from govsim.policies.routes import EPS, FixedCycle
from govsim.records import IssueLog
from govsim.result import _issue_table
from govsim.tables import ISSUES

ROOT = Path(__file__).resolve().parents[1]
SMART = ROOT / "scenarios" / "smart_dispatch.yaml"
MEDIATION = ROOT / "scenarios" / "hongqi_mediation.yaml"


# --- the issue log ------------------------------------------------------------------------
def _issue(i: int, rng: random.Random) -> Issue:
    issue = Issue(i, rng.randrange(3), rng.randrange(50), rng.randrange(400), 3, rng.random() * 100,
                  math.inf, rng.random(), dispute_u=(0.5,) * 5 if rng.random() < 0.3 else None)
    return issue


def _close(issue: Issue, rng: random.Random) -> None:
    issue.discovered_at = issue.created_at + rng.random()
    issue.channel = rng.choice(["patrol", "report", "liaison"])
    issue.handler = rng.randrange(20)
    issue.path = rng.choice(["", "grid", f"grid>{'community'}"])
    issue.settled_level = rng.choice([None, "grid", "community"])
    issue.department = rng.choice([None, "urban_management"])


@pytest.mark.parametrize("block", [1, 3, 8192])
def test_log_gives_every_issue_in_order_of_arising_closed_or_open(monkeypatch, block):
    monkeypatch.setattr(IssueLog, "BLOCK", block)
    rng = random.Random(block)
    log = IssueLog()
    # ids out of order (an issue made by hand arises between planned ones)
    issues = [_issue(i, rng) for i in [5, 0, 10_000, 1, 2, 3, 4, 7, 6, 10_001]]
    for issue in issues:
        log.arose(issue)
    assert [i.row for i in issues] == list(range(len(issues)))
    closing = rng.sample(issues, 7)
    for issue in closing:  # closed in any order; three stay open
        _close(issue, rng)
        issue.status = rng.choice(Status.CLOSED)
        log.closed(issue)
    log.closed(closing[0])  # closing twice records nothing more
    log.closed(Issue(99, -1, 0, 0, 3, 1.0, math.inf, 0.1))  # never arose (a false alarm): not an issue row
    assert len(log) == 10 and log.n_closed == 7
    assert all(i.status not in Status.CLOSED for i in log.open.values())
    got, expected = log.values(), ISSUES.read(issues)
    assert list(got) == list(expected)
    for name in expected:
        assert got[name].dtype == expected[name].dtype, name
        if expected[name].dtype == object:
            assert list(got[name]) == list(expected[name]), name
            assert [type(v) for v in got[name]] == [type(v) for v in expected[name]], name
        else:
            np.testing.assert_array_equal(got[name], expected[name], err_msg=name)


def test_an_empty_log_gives_typed_empty_columns():
    values = IssueLog().values()
    for name, expected in ISSUES.read([]).items():
        assert values[name].dtype == expected.dtype and len(values[name]) == 0


def _run_keeping_every_issue(path: Path, seed: int, **overrides):
    """A run whose issue objects are also kept (a spy on the log), to compare the streamed
    table with the table read from the objects at the end, as before streaming."""
    sim = govsim.Simulation(govsim.load_scenario(path, overrides=overrides), seed)
    kept: list[Issue] = []
    arose = sim.issue_log.arose

    def spy(issue: Issue) -> None:
        kept.append(issue)
        arose(issue)

    sim.issue_log.arose = spy  # type: ignore[method-assign]
    result = sim.run()
    return sim, result, kept


@pytest.mark.pure_python
@pytest.mark.parametrize("path", [SMART, MEDIATION])
def test_streamed_issue_table_equals_the_table_of_all_issue_objects(monkeypatch, path):
    monkeypatch.setattr(IssueLog, "BLOCK", 64)  # many chunks
    sim, result, kept = _run_keeping_every_issue(path, 3, horizon="6d")
    assert sim.issue_log.n_closed > 64 * 3 and sim.issue_log.open  # chunks, and a backlog left open
    expected = _issue_table(ISSUES.read(kept), sim.categories.names, sim.territory)
    pd.testing.assert_frame_equal(result.issues, expected, check_exact=True)


def test_log_holds_only_the_open_backlog():
    sim = govsim.Simulation(govsim.load_scenario(SMART, overrides={"horizon": "5d"}), 2)
    sim.env.run(until=72.0)
    log = sim.issue_log
    assert log.n_closed > 0.5 * len(log)  # most issues are done and no longer held
    assert all(i.status not in Status.CLOSED for i in log.open.values())
    result = sim.run()
    n_open = len(log.open)
    status = result.issues["status"]
    assert n_open == int((~status.isin([str(s) for s in Status.CLOSED])).sum())
    assert not log.open and log.n_closed == 0  # released: the table holds the issues now
    assert sim.records.segments()["worker"].size == 0 and len(result.patrols) > 0  # moved too


# --- coverage without expanding the visits ----------------------------------------------
@pytest.mark.parametrize("overrides", [
    {"horizon": "4d"},
    {"horizon": "4.5d", "warmup": "1.3d"},  # days cut by the warm-up and the horizon
    {"horizon": "20h"},  # no whole day: the interval itself
    {"horizon": "3d", "workers.shifts": [{"start": "20:00", "end": "04:00"}]},  # shifts across midnight
    {"horizon": "3d", "workers.route": "random_walk"},  # no cycle: expanded
    {"horizon": "3d", "workers.dwell": "40min"},  # long dwell: segments shorter than a cycle
])
def test_coverage_from_segments_equals_coverage_from_every_visit(overrides):
    result = govsim.run(SMART, seed=4, overrides=overrides)
    for warmup in (None, 0.0, 30.5):
        if warmup is not None and warmup >= result.horizon:
            continue
        w = result.warmup if warmup is None else warmup
        days = metrics.coverage_days(result.horizon, w)
        by_visit = metrics.coverage_by_day(((p, t) for _, p, t in result.iter_visits()),
                                           result._point_grid, len(result.grids), days)
        pd.testing.assert_frame_equal(result.coverage(warmup), by_visit, check_exact=True)


# --- the event loop -------------------------------------------------------------------------
def test_calls_and_events_at_one_time_keep_simpy_order():
    """Scheduled calls and SimPy events at equal times run in the order they were scheduled
    (urgent before normal), exactly as SimPy orders its events."""
    env = Environment()
    seen: list[str] = []
    env.call_later(1.0, seen.append, ("call a",))
    env.timeout(1.0).callbacks.append(lambda _: seen.append("timeout b"))
    env.call_later(1.0, seen.append, ("call c",))
    env.call_later(1.0, seen.append, ("urgent d",), priority=simpy.core.URGENT)
    env.call_later(0.5, seen.append, ("call e",))
    env.run(until=2.0)
    assert seen == ["call e", "urgent d", "call a", "timeout b", "call c"]
    assert env.now == 2.0
    with pytest.raises(ValueError):
        env.call_later(-1.0, seen.append, ("never",))


def test_run_until_and_run_dry_as_simpy():
    env = Environment()
    env.call_later(3.0, lambda: None)
    env.run(until=1.0)
    assert env.now == 1.0
    env.run(until=2.0)
    assert env.now == 2.0
    assert env.run() is None and env.now == 3.0  # until nothing is left
    with pytest.raises(ValueError):
        env.run(until=1.0)
    ev = env.event()
    env.call_later(1.0, ev.succeed, ("done",))
    assert env.run(until=ev) == "done"


def _workers_trace(make_env, activity: bool) -> list[tuple[float, str]]:
    """Two workers on timed jobs and a dispatcher interrupting them, some at tied times; the
    same story as SimPy processes (``yield env.timeout``) or as activities (``yield delay``)."""
    env = make_env()
    trace: list[tuple[float, str]] = []

    def worker(name: str):
        while True:
            try:
                trace.append((env.now, f"{name} starts"))
                yield (2.0 if activity else env.timeout(2.0))
                trace.append((env.now, f"{name} done"))
            except simpy.Interrupt as i:
                trace.append((env.now, f"{name} interrupted by {i.cause}"))
                yield (0.5 if activity else env.timeout(0.5))

    procs = {n: (env.activity(worker(n)) if activity else env.process(worker(n))) for n in ("a", "b")}

    def dispatcher():
        for t, who in [(1.0, "a"), (2.0, "b"), (2.0, "a"), (4.5, "b")]:
            if t > env.now:
                yield env.timeout(t - env.now)
            procs[who].interrupt(f"job@{t}")

    env.process(dispatcher())
    env.run(until=8.0)
    return trace


def test_activity_runs_as_a_simpy_process():
    expected = _workers_trace(simpy.Environment, activity=False)
    assert _workers_trace(Environment, activity=False) == expected  # the loop, with SimPy processes
    assert _workers_trace(Environment, activity=True) == expected  # activities: the same story
    assert ("interrupted by job@2.0" in " ".join(e for _, e in expected))


# --- the closed form of a fixed cycle ---------------------------------------------------------
def test_fixed_cycle_last_visit_is_the_last_visit_reached():
    rng = random.Random(7)
    for _ in range(300):
        n = rng.randint(1, 12)
        route = FixedCycle(list(range(n)), [rng.choice([rng.random(), 0.1, 1 / 30]) for _ in range(n)])
        offsets = [route.offset(k) for k in range(40 * n)]
        for _ in range(20):
            k_from = rng.randrange(5 * n)
            t = rng.choice([offsets[rng.randrange(30 * n)] + d for d in (0.0, EPS / 2, -2 * EPS, 1e-3)])
            t = max(t, offsets[k_from])
            brute = max(k for k in range(k_from, 40 * n) if offsets[k] <= t + EPS)
            assert route.last_visit(k_from, t) == brute


def test_waiting_grids_near_are_those_by_set():
    """Smart dispatch looks for waiting work in the grids near a worker through a bit mask and
    the counts of waiting issues: the same grids as the set of grids near it, met with the set
    of grids with waiting issues."""
    sim = govsim.Simulation(govsim.load_scenario(SMART, overrides={"horizon": "3d"}), 5)
    terr, board = sim.territory, sim.board
    checked = 0
    for t in (20.0, 40.0, 60.0):
        sim.env.run(until=t)
        for g in range(0, terr.n_grids, 3):
            for radius in (0.0, 300.0, 1500.0):
                by_set = set(board.waiting_among(terr.grids_near_set(g, radius)))
                assert sorted(board.waiting_near(g, radius)) == sorted(by_set)
                checked += bool(by_set)
    assert checked > 10  # some neighbourhoods had waiting work
