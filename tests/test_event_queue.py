"""The event queue kept by instant (:class:`govsim.engine.EventQueue`) gives its entries in
SimPy's order: time, then priority, then the order of scheduling — the order of a heap of
``(time, priority, id)`` tuples, which is what SimPy keeps."""

from __future__ import annotations

import heapq
import math
import random

import pytest
import simpy

from govsim.engine import FIRST, LATE, NORMAL, URGENT, Environment, EventQueue


def _replay(seed: int, n_ops: int, delays: tuple[float, ...]) -> tuple[list[int], list[int]]:
    """Random pushes (many at tied times, zero delays among them: entries for the instant being
    served) and pops, on the queue and on SimPy's heap; the ids in the order each gave them."""
    rng = random.Random(seed)
    queue, heap = EventQueue(), []
    now, eid = 0.0, 0
    got, want = [], []
    for _ in range(n_ops):
        if heap and rng.random() < 0.45:
            entry = queue.pop()
            assert entry is not None
            expected = heapq.heappop(heap)
            now = entry[0]
            got.append(entry[2])
            want.append(expected[2])
            assert len(queue) == len(heap)
        else:
            at = now + rng.choice(delays)
            priority = rng.choice((FIRST, URGENT, NORMAL, NORMAL, NORMAL, LATE))
            queue.push(at, priority, (at, priority, eid, "call", ()))
            heapq.heappush(heap, (at, priority, eid))
            eid += 1
        assert queue.peek() == (heap[0][0] if heap else math.inf)
        assert [e[2] for e in queue.entries()] == [e[2] for e in sorted(heap)]
    while heap:
        entry = queue.pop()
        assert entry is not None
        got.append(entry[2])
        want.append(heapq.heappop(heap)[2])
    assert queue.pop() is None and len(queue) == 0 and queue.peek() == math.inf
    return got, want


@pytest.mark.parametrize("seed", range(6))
def test_the_queue_gives_simpys_order(seed: int) -> None:
    got, want = _replay(seed, 3000, delays=(0.0, 0.0, 0.5, 1.0, 1.0, 2.0, 0.25))
    assert got == want
    assert len(got) > 1500


def test_the_queue_gives_simpys_order_without_ties() -> None:
    rng = random.Random(11)
    delays = tuple(rng.random() * 5 for _ in range(500))
    got, want = _replay(3, 4000, delays=delays)
    assert got == want


def test_bad_priorities_and_times_are_refused() -> None:
    queue = EventQueue()
    with pytest.raises(ValueError, match="priority 3"):
        queue.push(1.0, LATE + 1, (1.0, LATE + 1, 0))
    with pytest.raises(ValueError, match="priority -2"):
        queue.push(1.0, FIRST - 1, (1.0, FIRST - 1, 0))
    queue.push(2.0, NORMAL, (2.0, NORMAL, 0))
    assert queue.pop() == (2.0, NORMAL, 0)
    with pytest.raises(ValueError, match="before the instant being served"):
        queue.push(1.0, NORMAL, (1.0, NORMAL, 1))


def _stopped_and_resumed(env: simpy.Environment) -> list[str]:
    seen: list[str] = []
    for name in ("a", "b"):
        env.timeout(1.0).callbacks.append(lambda _, name=name: seen.append(name))
    env.run(until=1.0)  # the until event is urgent: the instant's normal entries wait
    seen.append(f"stopped at {env.now}, next {env.peek()}")
    urgent = env.event()
    urgent.callbacks.append(lambda _: seen.append("urgent c"))
    urgent._ok, urgent._value = True, None
    env.schedule(urgent, simpy.core.URGENT)
    env.run(until=1.5)
    seen.append(f"stopped at {env.now}")
    return seen


def test_a_run_stopped_within_an_instant_goes_on_where_it_stopped_as_simpy() -> None:
    expected = _stopped_and_resumed(simpy.Environment())
    assert expected == ["stopped at 1.0, next 1.0", "urgent c", "a", "b", "stopped at 1.5"]
    assert _stopped_and_resumed(Environment()) == expected
