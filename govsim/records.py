"""Compact records kept during a run; tables are built from them once, at the end.

Appending to typed arrays costs a fraction of a microsecond and a few bytes per
entry; no pandas object is touched while the simulation runs.
"""

from __future__ import annotations

from array import array

import numpy as np


class Recorder:
    """Patrol segments and worker time use, as columns of typed arrays."""

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
