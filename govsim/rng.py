"""Named random streams: one seed determines a run.

Every source of randomness (issue arrivals per category, resident reports,
sensors, patrol detection, routes...) draws from its own
:class:`numpy.random.Generator`, derived from one :class:`numpy.random.SeedSequence`
by a stable key computed from the stream's name. Two scenarios run with the same
seed therefore see the same issues (common random numbers) as long as the
configuration of those issues is the same, whatever else differs, and adding a
new stream never shifts an existing one.
"""

from __future__ import annotations

import numbers
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from govsim.distributions import Distribution


class RandomStreams:
    """Independent generators keyed by name, all derived from one seed."""

    def __init__(self, seed: int | np.random.SeedSequence) -> None:
        if isinstance(seed, np.random.SeedSequence):
            self.root = seed
        else:
            if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0:
                raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
            self.root = np.random.SeedSequence(int(seed))
        self._streams: dict[str, np.random.Generator] = {}

    def seed_sequence(self, name: str) -> np.random.SeedSequence:
        """The child seed sequence of stream ``name`` (stable across versions)."""
        key = zlib.crc32(name.encode("utf-8"))
        return np.random.SeedSequence(
            entropy=self.root.entropy, spawn_key=(*self.root.spawn_key, key)
        )

    def stream(self, name: str) -> np.random.Generator:
        """The generator for ``name``; the same object on every call."""
        gen = self._streams.get(name)
        if gen is None:
            gen = np.random.Generator(np.random.PCG64(self.seed_sequence(name)))
            self._streams[name] = gen
        return gen


class DrawBuffer:
    """Scalar draws served one at a time from vectorised blocks of ``draw(block)``.

    Scalar calls to a Generator cost about a microsecond each; hot paths (a patrol
    pass, a mediation session) take their draws from a buffer instead. The sequence
    of values is the same as drawing the blocks directly, so it stays reproducible.
    """

    __slots__ = ("_draw", "_block", "_buf", "_i")

    def __init__(self, draw: Callable[[int], ArrayLike], block: int) -> None:
        self._draw = draw
        self._block = block
        self._buf: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        i = self._i
        if i >= len(self._buf):
            self._buf = np.asarray(self._draw(self._block), dtype=float).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]


class UniformBuffer(DrawBuffer):
    """Uniform(0, 1) draws from ``rng``, served from blocks."""

    __slots__ = ()

    def __init__(self, rng: np.random.Generator, block: int = 4096) -> None:
        super().__init__(rng.random, block)


class SampleBuffer(DrawBuffer):
    """Draws of distribution ``dist`` from ``rng``, served from blocks."""

    __slots__ = ()

    def __init__(self, dist: Distribution, rng: np.random.Generator, block: int = 1024) -> None:
        super().__init__(lambda n: dist.sample(rng, n), block)
