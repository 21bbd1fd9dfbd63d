"""Patrol route strategies (巡查路线): fixed cycle, random walk, hotspot-weighted.

A route is an endless, reproducible sequence of visits ``k = 0, 1, 2, ...`` to
patrol points, with the walking-and-dwelling time ``offset(k)`` from visit 0.
Workers never step through it event by event: the engine asks a route *when* a
point will next be visited (:meth:`PatrolRoute.next_visit`) and *how far* a
worker got by a given time (:meth:`PatrolRoute.last_visit`), so the cost of a
patrol grows with the number of issues, not with the number of steps walked.
Visits are expanded from the recorded segments only at the end, exactly.

A study adds a strategy with :func:`register_route`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from librt.vecs import vec
from mypy_extensions import i64, mypyc_attr

if TYPE_CHECKING:
    from govsim.territory import Territory

EPS: Final = 1e-9  # (Final: a constant in the compiled build, not a look-up by name)


@mypyc_attr(allow_interpreted_subclasses=True)  # a study's own route (register_route), compiled build too
class PatrolRoute(ABC):
    """An endless sequence of visits to patrol points."""

    @abstractmethod
    def point_at(self, k: int) -> int:
        """The patrol point of visit ``k``."""

    @abstractmethod
    def offset(self, k: int) -> float:
        """Hours from visit 0 to visit ``k`` (walking plus dwelling)."""

    @abstractmethod
    def next_visit(self, point: int, k_from: int, min_offset: float, max_offset: float) -> int | None:
        """Smallest ``k >= k_from`` visiting ``point`` with ``min_offset <= offset(k) <= max_offset``,
        or None."""

    @abstractmethod
    def last_visit(self, k_from: int, max_offset: float) -> int:
        """Largest ``k >= k_from`` with ``offset(k) <= max_offset`` (``k_from`` at least)."""

    def point_reached(self, k_from: int, max_offset: float) -> int:
        """The point of the last visit made by ``max_offset``: ``point_at(last_visit(k_from,
        max_offset))`` (a route may answer it in one step)."""
        return self.point_at(self.last_visit(k_from, max_offset))

    @abstractmethod
    def visits(self, ks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points and offsets of the visits numbered ``ks`` (vectorised, for records)."""

    @property
    @abstractmethod
    def points(self) -> Sequence[int]:
        """The patrol points this route covers."""


RouteFactory = Callable[["Territory", list[int], float, float, np.random.Generator], PatrolRoute]
ROUTES: dict[str, RouteFactory] = {}


def register_route(name: str) -> Callable[[RouteFactory], RouteFactory]:
    """Register a route strategy under ``name`` for ``workers.route`` in scenario files.

    The factory is called as ``factory(territory, points, speed_kmh, dwell_h, rng)``.
    """

    def deco(factory: RouteFactory) -> RouteFactory:
        ROUTES[name] = factory
        return factory

    return deco


def _step_hours(territory: Territory, a: int, b: int, speed_kmh: float, dwell_h: float) -> float:
    return dwell_h + territory.distance(a, b) / (speed_kmh * 1000.0)


class FixedCycle(PatrolRoute):
    """Walk the points in the same order, round and round (固定巡查路线).

    Visit ``k`` is at point ``cycle[k % L]``; closed-form answers, O(1) per query.
    """

    def __init__(self, cycle: Sequence[int], step_hours: Sequence[float]) -> None:
        self.cycle = np.asarray(cycle, dtype=np.int64)
        steps = self.steps = np.asarray(step_hours, dtype=float)
        self.length = len(self.cycle)
        self.cum = np.concatenate([[0.0], np.cumsum(steps)[:-1]])  # offset of each index in cycle 0
        self.period = float(steps.sum())
        if self.length == 0 or self.period <= 0:
            raise ValueError("a patrol cycle needs at least one point and a positive period "
                             "(set workers.dwell above 0 for single-point routes)")
        # the hot queries' numbers as vecs (native reads when compiled: Territory's note)
        self._cum: vec[float] = vec[float](self.cum.tolist())
        self._cycle: vec[i64] = vec[i64](self.cycle.tolist())
        self._points: list[int] = self.cycle.tolist()  # (points)
        self._where: dict[int, list[int]] = {}
        for i, p in enumerate(self._points):
            self._where.setdefault(p, []).append(i)

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled and copied as what it was made from (the vecs do not pickle)
        return (type(self), (self._points, self.steps))

    @property
    def points(self) -> Sequence[int]:
        return self._points

    def point_at(self, k: int) -> int:
        return self._cycle[k % self.length]

    def offset(self, k: int) -> float:
        q = k // self.length  # (not divmod(): a generic call and a tuple per query)
        return q * self.period + self._cum[k - q * self.length]

    def next_visit(self, point: int, k_from: int, min_offset: float, max_offset: float) -> int | None:
        where = self._where.get(point)
        if where is None:
            return None
        L, T, cum = self.length, self.period, self._cum
        best: int | None = None
        best_off = 0.0
        for i in where:  # visit k = q × L + i is at offset q × T + cum[i] (offset(), inlined)
            k = k_from + (i - k_from) % L
            q = k // L
            off = q * T + cum[i]
            if off < min_offset:
                m = math.ceil((min_offset - off) / T - EPS)
                k += L * m
                q += m
                off = q * T + cum[i]
                while off < min_offset - EPS:
                    k += L
                    q += 1
                    off = q * T + cum[i]
            if best is None or k < best:
                best, best_off = k, off
        if best is None or best_off > max_offset:
            return None
        return best

    def last_visit(self, k_from: int, max_offset: float) -> int:
        # visit k = q × length + i is at offset q × period + cum[i] (offset(), inlined: this
        # is the hottest query of a run)
        period, length, cum = self.period, self.length, self._cum
        q = math.floor(max_offset / period)
        r = max_offset - q * period
        # i: the last index of cycle 0 reached by offset r (the last with cum[i] <= r + EPS;
        # 0 if none), found from where even steps would put it (bisect.bisect_right(cum, r +
        # EPS) - 1, without a call and its boxed comparisons: a step or two from the guess)
        x = r + EPS
        i = int(r / period * length)
        if i >= length:
            i = length - 1
        elif i < 0:
            i = 0
        while i > 0 and cum[i] > x:
            i -= 1
        while i + 1 < length and cum[i + 1] <= x:
            i += 1
        limit = max_offset + EPS
        while q * period + cum[i] > limit:  # one visit back
            i -= 1
            if i < 0:
                q, i = q - 1, length - 1
        while True:  # floor() may round a cycle low: one visit on while it is still reached
            j, qj = i + 1, q
            if j == length:
                j, qj = 0, q + 1
            if qj * period + cum[j] > limit:
                break
            q, i = qj, j
        k = q * length + i
        return k if k > k_from else k_from

    def point_reached(self, k_from: int, max_offset: float) -> int:
        # (asked for every free worker a dispatch search looks at)
        return self._cycle[self.last_visit(k_from, max_offset) % self.length]

    def visits(self, ks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q, i = np.divmod(np.asarray(ks, dtype=np.int64), self.length)
        return self.cycle[i], q * self.period + self.cum[i]


class RandomRoute(PatrolRoute):
    """A route whose next point is drawn at random; generated lazily, kept for the records."""

    CHUNK = 512

    def __init__(self, territory: Territory, points: Sequence[int], speed_kmh: float, dwell_h: float,
                 rng: np.random.Generator) -> None:
        if len(points) == 0:
            raise ValueError("a patrol route needs at least one point")
        if len(points) == 1 and dwell_h <= 0:
            raise ValueError("a single-point route needs workers.dwell above 0")
        self._territory = territory
        self._area = list(points)
        self._speed = speed_kmh
        self._dwell = dwell_h
        self._rng = rng
        start = self._area[int(rng.integers(len(self._area)))]
        self._pts = np.array([start], dtype=np.int64)
        self._off = np.array([0.0])

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled and copied as what it was made from, then the visits drawn so far and the
        # generator's state (a compiled class does not pickle its attributes by itself)
        return (type(self), (self._territory, self._area, self._speed, self._dwell, self._rng),
                (self._pts, self._off, self._rng.bit_generator.state))

    def __setstate__(self, state: tuple[np.ndarray, np.ndarray, dict[str, Any]]) -> None:
        self._pts, self._off, rng_state = state
        self._rng.bit_generator.state = rng_state  # (as it was: undoes the constructor's draw)

    @property
    def points(self) -> Sequence[int]:
        return self._area

    @abstractmethod
    def _draw_next(self, current: int, u: float) -> int:
        """The next point after ``current`` given a uniform draw ``u``."""

    def _extend(self, upto_k: int = -1, upto_offset: float = -1.0) -> None:
        while len(self._pts) <= upto_k or self._off[-1] < upto_offset:
            u = self._rng.random(self.CHUNK).tolist()
            pts = self._pts.tolist()
            off = self._off.tolist()
            cur, t = pts[-1], off[-1]
            new_p, new_o = [], []
            for x in u:
                nxt = self._draw_next(cur, x)
                t += _step_hours(self._territory, cur, nxt, self._speed, self._dwell)
                new_p.append(nxt)
                new_o.append(t)
                cur = nxt
            self._pts = np.concatenate([self._pts, new_p])
            self._off = np.concatenate([self._off, new_o])

    def point_at(self, k: int) -> int:
        self._extend(upto_k=k)
        return int(self._pts[k])

    def offset(self, k: int) -> float:
        self._extend(upto_k=k)
        return float(self._off[k])

    def next_visit(self, point: int, k_from: int, min_offset: float, max_offset: float) -> int | None:
        self._extend(upto_k=k_from, upto_offset=max_offset)
        start = max(k_from, int(np.searchsorted(self._off, min_offset - EPS, side="left")))
        stop = int(np.searchsorted(self._off, max_offset + EPS, side="right"))
        hits = np.flatnonzero(self._pts[start:stop] == point)
        return int(start + hits[0]) if len(hits) else None

    def last_visit(self, k_from: int, max_offset: float) -> int:
        self._extend(upto_k=k_from, upto_offset=max_offset)
        k = int(np.searchsorted(self._off, max_offset + EPS, side="right")) - 1
        return max(k, k_from)

    def visits(self, ks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ks = np.asarray(ks, dtype=np.int64)
        if len(ks):
            self._extend(upto_k=int(ks.max()))
        return self._pts[ks], self._off[ks]


class RandomWalk(RandomRoute):
    """Step to one of the (up to) four nearest other points, uniformly (随机巡查)."""

    def __init__(self, territory: Territory, points: Sequence[int], speed_kmh: float, dwell_h: float,
                 rng: np.random.Generator) -> None:
        super().__init__(territory, points, speed_kmh, dwell_h, rng)
        self._neighbours: dict[int, list[int]] = {}
        for p in self._area:
            others = sorted((territory.distance(p, q), q) for q in self._area if q != p)
            self._neighbours[p] = [q for _, q in others[:4]] or [p]

    def _draw_next(self, current: int, u: float) -> int:
        nb = self._neighbours[current]
        return nb[min(int(u * len(nb)), len(nb) - 1)]


class HotspotWeighted(RandomRoute):
    """Go next to another point chosen in proportion to its issue intensity (热点巡查)."""

    def __init__(self, territory: Territory, points: Sequence[int], speed_kmh: float, dwell_h: float,
                 rng: np.random.Generator) -> None:
        super().__init__(territory, points, speed_kmh, dwell_h, rng)
        w = np.asarray(territory.point_weight[self._area], dtype=float)
        if w.sum() <= 0:
            w = np.ones_like(w)
        self._weights = w
        self._index = {p: i for i, p in enumerate(self._area)}
        self._cdf_without: dict[int, np.ndarray] = {}

    def _draw_next(self, current: int, u: float) -> int:
        cdf = self._cdf_without.get(current)
        if cdf is None:
            w = self._weights.copy()
            if len(w) > 1:
                w[self._index[current]] = 0.0
            if w.sum() <= 0:
                w = np.ones_like(w)
            cdf = np.cumsum(w) / w.sum()
            self._cdf_without[current] = cdf
        i = int(np.searchsorted(cdf, u, side="right"))
        return self._area[min(i, len(self._area) - 1)]


@register_route("fixed_cycle")
def fixed_cycle(territory: Territory, points: list[int], speed_kmh: float, dwell_h: float,
                rng: np.random.Generator) -> PatrolRoute:
    """The points in tour (serpentine) order, closed into a cycle."""
    nxt = points[1:] + points[:1]
    steps = [_step_hours(territory, a, b, speed_kmh, dwell_h) for a, b in zip(points, nxt)]
    return FixedCycle(points, steps)


@register_route("random_walk")
def random_walk(territory: Territory, points: list[int], speed_kmh: float, dwell_h: float,
                rng: np.random.Generator) -> PatrolRoute:
    return RandomWalk(territory, points, speed_kmh, dwell_h, rng)


@register_route("hotspot")
def hotspot(territory: Territory, points: list[int], speed_kmh: float, dwell_h: float,
            rng: np.random.Generator) -> PatrolRoute:
    return HotspotWeighted(territory, points, speed_kmh, dwell_h, rng)
