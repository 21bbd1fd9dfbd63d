"""Named random streams and the draw buffers served from them.

A stream's generator is fixed by the run's seed and the stream's name alone: the
same object on every call, the same numbers whatever other streams exist or were
created first, and derived by a documented rule (the CRC-32 of the name appended to
the root's spawn key), so a stream stays the same across versions. Buffers serve
exactly the numbers that drawing their blocks directly would give.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

from govsim.distributions import Fixed, LogNormal
from govsim.rng import DrawBuffer, RandomStreams, SampleBuffer, UniformBuffer


def reference(entropy, spawn_key=()):
    """A generator built by hand, the way a stream is documented to be derived."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=spawn_key)))


# --------------------------------------------------------------------------- RandomStreams


def test_same_name_gives_the_same_generator_object():
    rs = RandomStreams(11)
    g = rs.stream("patrol")
    g.random(3)  # drawing from it does not make a new one
    assert rs.stream("patrol") is g
    assert rs.stream("reports/garbage") is not g


def test_stream_is_derived_from_seed_and_crc32_of_its_name():
    rs = RandomStreams(7)
    seq = rs.seed_sequence("arrivals/garbage")
    assert seq.entropy == 7
    assert seq.spawn_key == (zlib.crc32(b"arrivals/garbage"),)
    want = reference(7, (zlib.crc32(b"arrivals/garbage"),)).random(5)
    np.testing.assert_array_equal(rs.stream("arrivals/garbage").random(5), want)


def test_non_ascii_names_are_keyed_by_their_utf8_bytes():
    rs = RandomStreams(7)
    key = zlib.crc32("巡查".encode("utf-8"))
    assert rs.seed_sequence("巡查").spawn_key == (key,)
    np.testing.assert_array_equal(rs.stream("巡查").random(3), reference(7, (key,)).random(3))


def test_stream_does_not_depend_on_which_streams_were_created_before():
    a = RandomStreams(2026)
    first = a.stream("routes/3").random(4)
    b = RandomStreams(2026)
    for name in ("arrivals/garbage", "routes/2", "patrol", "routes/4"):
        b.stream(name).random(100)
    np.testing.assert_array_equal(b.stream("routes/3").random(4), first)


def test_same_seed_same_numbers_in_a_new_instance():
    x = RandomStreams(5).stream("sensors").integers(0, 1_000_000, 6)
    y = RandomStreams(5).stream("sensors").integers(0, 1_000_000, 6)
    np.testing.assert_array_equal(x, y)


def test_different_seeds_or_names_give_different_numbers():
    base = RandomStreams(5).stream("patrol").random(4)
    assert not np.array_equal(RandomStreams(6).stream("patrol").random(4), base)
    assert not np.array_equal(RandomStreams(5).stream("patrol2").random(4), base)


def test_integer_seed_is_the_same_as_its_plain_seed_sequence():
    by_int = RandomStreams(42).stream("dispatch/classify").random(4)
    by_seq = RandomStreams(np.random.SeedSequence(42)).stream("dispatch/classify").random(4)
    np.testing.assert_array_equal(by_int, by_seq)
    np.testing.assert_array_equal(RandomStreams(np.int64(42)).stream("dispatch/classify").random(4), by_int)


def test_seed_sequence_root_keeps_its_spawn_key():
    # a replication's root: SeedSequence(s, spawn_key=(i,)), as govsim.experiments hands out
    root = np.random.SeedSequence(9, spawn_key=(3,))
    rs = RandomStreams(root)
    assert rs.root is root
    key = zlib.crc32(b"patrol")
    seq = rs.seed_sequence("patrol")
    assert (seq.entropy, seq.spawn_key) == (9, (3, key))
    np.testing.assert_array_equal(rs.stream("patrol").random(4), reference(9, (3, key)).random(4))
    # replication 3 differs from replication 4 and from the bare master seed
    other = RandomStreams(np.random.SeedSequence(9, spawn_key=(4,))).stream("patrol").random(4)
    bare = RandomStreams(9).stream("patrol").random(4)
    mine = RandomStreams(np.random.SeedSequence(9, spawn_key=(3,))).stream("patrol").random(4)
    assert not np.array_equal(mine, other)
    assert not np.array_equal(mine, bare)


@pytest.mark.parametrize("seed", [-1, -10**12, True, False, 1.5, -0.5, "3"])
def test_invalid_seeds_are_refused(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        RandomStreams(seed)


def test_zero_and_very_large_seeds_are_accepted():
    assert RandomStreams(0).root.entropy == 0
    assert RandomStreams(2**70).root.entropy == 2**70


@pytest.mark.parametrize("seed", [2.0, math.inf, np.True_], ids=["float_2.0", "inf", "numpy_bool"])
def test_seeds_that_are_not_integers_are_refused_like_replication_seeds(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        RandomStreams(seed)


# --------------------------------------------------------------------------- buffers


class CountingDraw:
    """``draw(n)``: the next n integers 0, 1, 2, ...; remembers the block sizes asked for."""

    def __init__(self):
        self.calls = []
        self.next = 0

    def __call__(self, n):
        self.calls.append(n)
        out = np.arange(self.next, self.next + n)
        self.next += n
        return out


def test_draw_buffer_serves_blocks_in_order_and_draws_only_when_empty():
    draw = CountingDraw()
    buf = DrawBuffer(draw, 3)
    assert draw.calls == []  # nothing drawn until asked
    assert buf() == 0.0
    assert draw.calls == [3]
    got = [buf() for _ in range(5)]  # 1, 2 from the first block; 3, 4, 5 from the second
    assert got == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert draw.calls == [3, 3]
    assert buf() == 6.0  # the 7th value starts a third block
    assert draw.calls == [3, 3, 3]


def test_draw_buffer_serves_python_floats():
    buf = DrawBuffer(CountingDraw(), 2)
    values = [buf() for _ in range(3)]
    assert all(type(v) is float for v in values)


def test_draw_buffer_with_block_of_one_draws_every_time():
    draw = CountingDraw()
    buf = DrawBuffer(draw, 1)
    assert [buf() for _ in range(4)] == [0.0, 1.0, 2.0, 3.0]
    assert draw.calls == [1, 1, 1, 1]


def test_uniform_buffer_equals_drawing_its_blocks_directly():
    rng = reference(3, (1,))
    ref = reference(3, (1,))
    buf = UniformBuffer(rng, block=4)
    got = [buf() for _ in range(10)]  # crosses two block boundaries
    want = np.concatenate([ref.random(4) for _ in range(3)])[:10]
    assert got == want.tolist()
    # three blocks (12 numbers) have been taken from the generator, no more
    assert rng.random() == ref.random()


def test_sample_buffer_equals_sampling_its_blocks_directly():
    dist = LogNormal(0.5, 0.25)
    rng = reference(4)
    ref = reference(4)
    buf = SampleBuffer(dist, rng, block=5)
    got = [buf() for _ in range(12)]  # three blocks: 5 + 5 + 2 of 5
    want = np.concatenate([dist.sample(ref, 5) for _ in range(3)])[:12]
    assert got == want.tolist()
    assert len(set(got)) == 12
    assert rng.random() == ref.random()


def test_sample_buffer_of_a_fixed_value_consumes_no_random_numbers():
    rng = reference(4)
    buf = SampleBuffer(Fixed(0.75), rng, block=3)
    assert [buf() for _ in range(7)] == [0.75] * 7
    assert rng.random() == reference(4).random()
