"""Compact records kept during a run; tables are built from them once, at the end.

Appending to typed arrays costs a fraction of a microsecond and a few bytes per
entry; no pandas object is touched while the simulation runs.
"""

from __future__ import annotations

from array import array

import numpy as np


class Recorder:
    """Patrol segments, worker time use and station visits, as columns of typed arrays."""

    def __init__(self) -> None:
        self.seg_worker = array("l")
        self.seg_start = array("d")
        self.seg_end = array("d")
        self.seg_k0 = array("q")
        self.seg_visits = array("q")
        self.use_worker = array("l")
        self.use_state = array("b")
        self.use_start = array("d")
        self.use_end = array("d")
        self.visit_station = array("l")
        self.visit_issue = array("q")
        self.visit_arrived = array("d")
        self.visit_started = array("d")
        self.visit_ended = array("d")

    def patrol_segment(self, worker: int, start: float, end: float, k0: int, n_visits: int) -> None:
        """A worker patrolled from visit ``k0`` at ``start`` until ``end``, making ``n_visits`` visits."""
        self.seg_worker.append(worker)
        self.seg_start.append(start)
        self.seg_end.append(end)
        self.seg_k0.append(k0)
        self.seg_visits.append(n_visits)

    def time_use(self, worker: int, state: int, start: float, end: float) -> None:
        """A worker spent ``[start, end)`` in ``state`` (see :mod:`govsim.agents.workers`)."""
        self.use_worker.append(worker)
        self.use_state.append(state)
        self.use_start.append(start)
        self.use_end.append(end)

    def station_visit(self, station: int, issue: int, arrived: float, started: float, ended: float) -> None:
        """An issue was served at a station (``started``/``ended`` −1: turned away, queue full)."""
        self.visit_station.append(station)
        self.visit_issue.append(issue)
        self.visit_arrived.append(arrived)
        self.visit_started.append(started)
        self.visit_ended.append(ended)

    def station_visits(self) -> dict[str, np.ndarray]:
        return {
            "station": np.asarray(self.visit_station, dtype=np.int64),
            "issue_id": np.asarray(self.visit_issue, dtype=np.int64),
            "arrived": np.asarray(self.visit_arrived, dtype=float),
            "started": np.asarray(self.visit_started, dtype=float),
            "ended": np.asarray(self.visit_ended, dtype=float),
        }

    def segments(self) -> dict[str, np.ndarray]:
        return {
            "worker": np.asarray(self.seg_worker, dtype=np.int64),
            "start": np.asarray(self.seg_start, dtype=float),
            "end": np.asarray(self.seg_end, dtype=float),
            "k0": np.asarray(self.seg_k0, dtype=np.int64),
            "visits": np.asarray(self.seg_visits, dtype=np.int64),
        }

    def time_uses(self) -> dict[str, np.ndarray]:
        return {
            "worker": np.asarray(self.use_worker, dtype=np.int64),
            "state": np.asarray(self.use_state, dtype=np.int8),
            "start": np.asarray(self.use_start, dtype=float),
            "end": np.asarray(self.use_end, dtype=float),
        }
