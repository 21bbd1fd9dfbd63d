from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest
import yaml

from govsim.distributions import (
    DISTRIBUTIONS,
    Distribution,
    DistributionError,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    Triangular,
    Uniform,
    parse_distribution,
    parse_number,
)

N = 200_000
SEED = 12345
MIN = 1.0 / 60.0  # one minute in hours
EXPECTED = "expected a duration with a unit such as '15min', '2h' or '1d'"
NAMES = "empirical, exponential, fixed, gamma, lognormal, triangular, uniform, weibull, zero_inflated"

KINDS: dict[str, Distribution] = {
    "fixed": Fixed(15 * MIN),
    "exponential": Exponential(2.0),
    "lognormal": LogNormal(20 * MIN, 10 * MIN),
    "lognormal_skewed": LogNormal(1.0, 1.5),
    "lognormal_sd0": LogNormal(20 * MIN, 0.0),
    "gamma": Gamma(2.0, 10 * MIN),
    "gamma_mean_sd": Gamma.from_mean_sd(20 * MIN, 10 * MIN),
    "gamma_small_shape": Gamma(0.5, 1.0),
    "triangular": Triangular(5 * MIN, 10 * MIN, 30 * MIN),
    "triangular_mode_at_low": Triangular(0.0, 0.0, 1.0),
    "uniform": Uniform(5 * MIN, 30 * MIN),
    "empirical": Empirical([5 * MIN, 10 * MIN, 20 * MIN], [1, 2, 1]),
    "empirical_equal": Empirical([1.0, 2.0, 7.0]),
}


def test_registry_names() -> None:
    assert set(DISTRIBUTIONS) == {
        "fixed", "exponential", "lognormal", "gamma", "triangular", "uniform", "empirical",
        "weibull", "zero_inflated",
    }
    for name, cls in DISTRIBUTIONS.items():
        assert cls.name == name
        assert issubclass(cls, Distribution)


@pytest.mark.parametrize("name", list(KINDS))
def test_sample_mean_within_four_standard_errors(name: str) -> None:
    dist = KINDS[name]
    x = dist.sample(np.random.default_rng(SEED), N)
    assert isinstance(x, np.ndarray) and x.shape == (N,)
    se = x.std(ddof=1) / math.sqrt(N)
    # 4 standard errors of the sample mean; the 1e-12 only absorbs float
    # summation error for constant samples (se == 0).
    assert abs(x.mean() - dist.mean) <= 4.0 * se + 1e-12 * abs(dist.mean)


@pytest.mark.parametrize("name", [k for k in KINDS if KINDS[k].sd > 0 and not k.startswith("lognormal")])
def test_sample_sd_within_four_standard_errors(name: str) -> None:
    dist = KINDS[name]
    x = dist.sample(np.random.default_rng(SEED), N)
    s = x.std(ddof=1)
    m4 = np.mean((x - x.mean()) ** 4)
    # Delta method: Var(s^2) ~ (m4 - s^4) / n and se(s) = se(s^2) / (2 s).
    se = math.sqrt((m4 - s**4) / N) / (2.0 * s)
    assert abs(s - dist.sd) <= 4.0 * se


@pytest.mark.parametrize("name", ["lognormal", "lognormal_skewed"])
def test_lognormal_sample_sd_matches_parameter(name: str) -> None:
    dist = KINDS[name]
    assert isinstance(dist, LogNormal)
    x = dist.sample(np.random.default_rng(SEED), N)
    s2 = dist.sigma**2
    excess_kurtosis = math.exp(4 * s2) + 2 * math.exp(3 * s2) + 3 * math.exp(2 * s2) - 6
    # se(s) ~ sd * sqrt((excess kurtosis + 2) / n) / 2 (delta method, exact kurtosis).
    se = dist.sd * math.sqrt((excess_kurtosis + 2.0) / N) / 2.0
    assert abs(x.std(ddof=1) - dist.sd) <= 4.0 * se


def test_lognormal_parameter_conversion() -> None:
    d = LogNormal(2.0, 1.0)
    assert d.sigma**2 == pytest.approx(math.log(1 + 1.0 / 4.0))
    assert d.mu == pytest.approx(math.log(2.0) - d.sigma**2 / 2)
    assert math.exp(d.mu + d.sigma**2 / 2) == pytest.approx(2.0)
    assert 2.0 * math.sqrt(math.expm1(d.sigma**2)) == pytest.approx(1.0)


def test_lognormal_sd_zero_is_fixed() -> None:
    d = LogNormal(0.5, 0.0)
    rng = np.random.default_rng(SEED)
    assert d.sample(rng) == 0.5
    assert np.all(d.sample(rng, 10) == 0.5)


def test_gamma_from_mean_sd() -> None:
    g = Gamma.from_mean_sd(2.0, 1.0)
    assert g.shape == pytest.approx(4.0)
    assert g.scale == pytest.approx(0.5)
    assert g.mean == pytest.approx(2.0)
    assert g.sd == pytest.approx(1.0)


@pytest.mark.parametrize("name", list(KINDS))
def test_samples_non_negative_and_scalar_is_float(name: str) -> None:
    dist = KINDS[name]
    rng = np.random.default_rng(SEED)
    assert np.all(dist.sample(rng, 10_000) >= 0)
    one = dist.sample(rng)
    assert type(one) is float and one >= 0


@pytest.mark.parametrize("name", list(KINDS))
def test_same_seed_same_samples(name: str) -> None:
    dist = KINDS[name]
    a, b = np.random.default_rng(7), np.random.default_rng(7)
    assert np.array_equal(dist.sample(a, 1000), dist.sample(b, 1000))
    assert [dist.sample(a) for _ in range(20)] == [dist.sample(b) for _ in range(20)]


def test_empirical_draws_only_values_with_positive_weight() -> None:
    d = Empirical([1.0, 2.0, 3.0, 4.0], [0, 1, 0, 3])
    x = d.sample(np.random.default_rng(SEED), 50_000)
    assert set(np.unique(x)) == {2.0, 4.0}
    assert d.probabilities == pytest.approx([0, 0.25, 0, 0.75])
    assert d.mean == pytest.approx(3.5)
    assert Empirical([3.0]).sample(np.random.default_rng(1)) == 3.0


def test_degenerate_uniform_and_triangular() -> None:
    rng = np.random.default_rng(SEED)
    assert Uniform(2.0, 2.0).sample(rng) == 2.0
    assert np.all(Triangular(2.0, 2.0, 2.0).sample(rng, 5) == 2.0)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Exponential(0), "mean must be > 0, got 0"),
        (lambda: Exponential(float("nan")), "mean must be finite"),
        (lambda: LogNormal(-1, 1), "mean must be > 0, got -1"),
        (lambda: LogNormal(1, -0.5), "sd must be >= 0, got -0.5"),
        (lambda: Gamma(0, 1), "shape must be > 0, got 0"),
        (lambda: Gamma(1, -2), "scale must be > 0, got -2"),
        (lambda: Gamma.from_mean_sd(1, 0), "sd must be > 0"),
        (lambda: Triangular(1, 0.5, 2), "mode must be >= low, got 0.5 (low=1)"),
        (lambda: Triangular(1, 3, 2), "mode must be <= high, got 3 (high=2)"),
        (lambda: Triangular(3, 3, 2), "low must be <= high, got 3 (high=2)"),
        (lambda: Uniform(2, 1), "low must be <= high, got 2 (high=1)"),
        (lambda: Empirical([]), "values must not be empty"),
        (lambda: Empirical([1, 2], [1]), "weights must have one entry per value (2), got 1"),
        (lambda: Empirical([1, 2], [1, -1]), "weights[1] must be >= 0, got -1"),
        (lambda: Empirical([1, 2], [0, 0]), "weights must have a positive sum"),
        (lambda: Empirical("ab"), "values must be a list of numbers"),
        (lambda: Fixed("1h"), "value must be a number"),
        (lambda: Fixed(True), "value must be a number"),
    ],
)
def test_constructor_validation(make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DistributionError) as info:
        make()
    assert str(info.value).startswith(message)


def test_immutable_hashable_picklable() -> None:
    d = LogNormal(1.0, 0.5)
    with pytest.raises(AttributeError):
        d._mean = 2.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        d.extra = 1  # type: ignore[attr-defined]
    assert d == LogNormal(1.0, 0.5) and hash(d) == hash(LogNormal(1.0, 0.5))
    assert d != LogNormal(1.0, 0.6) and d != Gamma(1.0, 0.5)
    for dist in KINDS.values():
        assert pickle.loads(pickle.dumps(dist)) == dist
        assert copy.deepcopy(dist) == dist


def test_repr() -> None:
    assert repr(LogNormal(1.0, 0.5)) == "LogNormal(mean=1.0, sd=0.5)"
    assert repr(Empirical([1, 2])) == "Empirical(values=(1.0, 2.0))"
    assert repr(Fixed(2)) == "Fixed(value=2.0)"


# --- parsing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("15min", Fixed(0.25)),
        (0, Fixed(0.0)),
        ({"dist": "fixed", "value": "15min"}, Fixed(0.25)),
        ({"dist": "exponential", "mean": "2h"}, Exponential(2.0)),
        ({"dist": "lognormal", "mean": "20min", "sd": "10min"}, LogNormal(20 * MIN, 10 * MIN)),
        ({"dist": "gamma", "shape": 2, "scale": "10min"}, Gamma(2.0, 10 * MIN)),
        ({"dist": "gamma", "mean": "20min", "sd": "10min"}, Gamma.from_mean_sd(20 * MIN, 10 * MIN)),
        (
            {"dist": "triangular", "low": "5min", "mode": "10min", "high": "30min"},
            Triangular(5 * MIN, 10 * MIN, 30 * MIN),
        ),
        ({"dist": "uniform", "low": "5min", "high": "30min"}, Uniform(5 * MIN, 30 * MIN)),
        (
            {"dist": "empirical", "values": ["5min", "10min", "20min"], "weights": [1, 2, 1]},
            Empirical([5 * MIN, 10 * MIN, 20 * MIN], [1, 2, 1]),
        ),
        ({"dist": "empirical", "values": ["1h", "2h"]}, Empirical([1.0, 2.0])),
        ({"dist": " LogNormal ", "mean": "1h", "sd": 0}, LogNormal(1.0, 0.0)),
    ],
)
def test_parse_forms(spec: object, expected: Distribution) -> None:
    assert parse_distribution(spec) == expected


def test_parse_yaml_document() -> None:
    doc = yaml.safe_load(
        """
        service: {dist: lognormal, mean: 20min, sd: 10min}
        travel: 15 min
        households: {dist: uniform, low: 20, high: 80}
        """
    )
    assert parse_distribution(doc["service"]) == LogNormal(20 * MIN, 10 * MIN)
    assert parse_distribution(doc["travel"]) == Fixed(0.25)
    assert parse_distribution(doc["households"], value_parser=parse_number) == Uniform(20, 80)


def test_parse_returns_distribution_unchanged() -> None:
    d = Exponential(1.0)
    assert parse_distribution(d) is d


@pytest.mark.parametrize("name", list(KINDS))
def test_spec_round_trip(name: str) -> None:
    dist = KINDS[name]
    spec = dist.spec()
    assert spec["dist"] == dist.name
    assert parse_distribution(spec, value_parser=parse_number) == dist
    # The spec is plain data: it survives YAML.
    assert parse_distribution(yaml.safe_load(yaml.safe_dump(spec)), value_parser=parse_number) == dist


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"dist": "lognormal", "mean": "20min", "sd": -3},
            f"sd: {EXPECTED}, got -3",
        ),
        (
            {"dist": "lognormal", "mean": "20min", "sdev": "10min"},
            "unknown parameter 'sdev' for lognormal (expected: mean, sd); did you mean 'sd'?",
        ),
        (
            {"dist": "lognorm", "mean": "20min", "sd": "10min"},
            f"dist: unknown distribution 'lognorm' (expected one of: {NAMES}); "
            "did you mean 'lognormal'?",
        ),
        (
            {"dist": "pareto", "mean": "1h"},
            f"dist: unknown distribution 'pareto' (expected one of: {NAMES})",
        ),
        ({"dist": "lognormal", "mean": "20min"}, "missing parameter 'sd' for lognormal (expected: mean, sd)"),
        ({"mean": "20min"}, f"missing 'dist' (expected one of: {NAMES})"),
        ({"dist": 3, "mean": "1h"}, f"dist: expected one of {NAMES}, got 3"),
        (
            {"dist": "gamma", "shape": 2, "mean": "1h"},
            "gamma takes (shape, scale) or (mean, sd), got: mean, shape",
        ),
        (
            {"dist": "gamma", "shape": "2h", "scale": "1h"},
            "shape: expected a number, got '2h'",
        ),
        ({"dist": "exponential", "mean": "2"}, f"mean: {EXPECTED}, got '2'"),
        ({"dist": "exponential", "mean": 0}, "mean: must be > 0, got 0"),
        ({"dist": "exponential", "mean": "5 parsecs"}, f"mean: {EXPECTED}, got '5 parsecs' "
            "(unknown unit 'parsecs'; use s, min, h, d or w)"),
        (
            {"dist": "triangular", "low": "30min", "mode": "10min", "high": "5min"},
            "low: must be <= high, got '30min' (high: '5min')",
        ),
        (
            {"dist": "triangular", "low": "5min", "mode": "1h", "high": "30min"},
            "mode: must be <= high, got '1h' (high: '30min')",
        ),
        ({"dist": "uniform", "low": "2h", "high": "1h"}, "low: must be <= high, got '2h' (high: '1h')"),
        (
            {"dist": "empirical", "values": ["5min", 10]},
            f"values[1]: {EXPECTED}, got 10",
        ),
        ({"dist": "empirical", "values": "5min"}, "values: expected a list, got '5min'"),
        ({"dist": "empirical", "values": []}, "values: expected a non-empty list"),
        ({"dist": "empirical", "values": ["1h", "2h"], "weights": [1, -1]}, "weights[1]: must be >= 0, got -1"),
        ({"dist": "empirical", "values": ["1h", "2h"], "weights": [1, "x"]}, "weights[1]: expected a number, got 'x'"),
        ({"dist": "empirical", "values": ["1h", "2h"], "weights": [1]}, "weights: must have one entry per value (2), got [1]"),
        (
            {"dist": "empirical", "values": ["1h"], "weight": [1]},
            "unknown parameter 'weight' for empirical (expected: values, weights); did you mean 'weights'?",
        ),
        (7, f"{EXPECTED}, got 7"),
        (["1h", "2h"], "expected a value or a mapping with 'dist', got list ['1h', '2h']"),
    ],
)
def test_parse_errors(spec: object, message: str) -> None:
    with pytest.raises(DistributionError) as info:
        parse_distribution(spec)
    assert str(info.value) == message


def test_parse_error_key_attribute() -> None:
    with pytest.raises(DistributionError) as info:
        parse_distribution({"dist": "lognormal", "mean": "1h", "sd": "-1h"})
    assert info.value.key == "sd"
    assert isinstance(info.value, ValueError)


def test_parse_dimensionless() -> None:
    d = parse_distribution({"dist": "triangular", "low": 1, "mode": "2", "high": 4.5}, value_parser=parse_number)
    assert d == Triangular(1, 2, 4.5)
    with pytest.raises(DistributionError, match=r"^low: expected a number, got '1h'$"):
        parse_distribution({"dist": "uniform", "low": "1h", "high": 2}, value_parser=parse_number)


@pytest.mark.parametrize(("value", "expected"), [(3, 3.0), (2.5, 2.5), ("4", 4.0), (" 1e3 ", 1000.0), (np.int64(2), 2.0)])
def test_parse_number(value: object, expected: float) -> None:
    assert parse_number(value) == expected


@pytest.mark.parametrize("bad", [True, "abc", "2h", None, [1], "nan", float("inf")])
def test_parse_number_rejects(bad: object) -> None:
    with pytest.raises(DistributionError, match="expected a (finite )?number"):
        parse_number(bad)


# --- Weibull and ZeroInflated ---------------------------------------------------

from govsim.distributions import Weibull, ZeroInflated  # noqa: E402

NEW_KINDS: dict[str, Distribution] = {
    "weibull": Weibull(1.5, 2.0),
    "weibull_heavy": Weibull(0.7, 3 * MIN),
    "zero_inflated_lognormal": ZeroInflated(0.12, LogNormal(3.0, 2.0)),
    "zero_inflated_gamma": ZeroInflated(0.4, Gamma(2.0, 10 * MIN)),
    "zero_inflated_none": ZeroInflated(0.0, Exponential(1.0)),
    "zero_inflated_all": ZeroInflated(1.0, Exponential(1.0)),
}


def test_new_kinds_registered() -> None:
    assert DISTRIBUTIONS["weibull"] is Weibull
    assert DISTRIBUTIONS["zero_inflated"] is ZeroInflated


@pytest.mark.parametrize("name", list(NEW_KINDS))
def test_new_sample_mean_within_four_standard_errors(name: str) -> None:
    dist = NEW_KINDS[name]
    x = dist.sample(np.random.default_rng(SEED), N)
    assert isinstance(x, np.ndarray) and x.shape == (N,)
    se = x.std(ddof=1) / math.sqrt(N)
    assert abs(x.mean() - dist.mean) <= 4.0 * se + 1e-12 * abs(dist.mean)


@pytest.mark.parametrize("name", [k for k in NEW_KINDS if NEW_KINDS[k].sd > 0])
def test_new_sample_sd_within_four_standard_errors(name: str) -> None:
    dist = NEW_KINDS[name]
    x = dist.sample(np.random.default_rng(SEED), N)
    s = x.std(ddof=1)
    m4 = np.mean((x - x.mean()) ** 4)
    se = math.sqrt((m4 - s**4) / N) / (2.0 * s)
    assert abs(s - dist.sd) <= 4.0 * se


def test_weibull_moments_analytic() -> None:
    w = Weibull(1.0, 2.0)  # an exponential with mean 2
    assert w.mean == pytest.approx(2.0) and w.sd == pytest.approx(2.0)
    w = Weibull(2.0, 1.0)  # Rayleigh
    assert w.mean == pytest.approx(math.sqrt(math.pi) / 2)
    assert w.sd == pytest.approx(math.sqrt((4 - math.pi) / 4))


def test_zero_inflated_share_of_zeros() -> None:
    d = ZeroInflated(0.12, LogNormal(3.0, 2.0))
    x = d.sample(np.random.default_rng(SEED), N)
    share = float(np.mean(x == 0))
    assert abs(share - 0.12) <= 4.0 * math.sqrt(0.12 * 0.88 / N)
    pos = x[x > 0]
    assert abs(pos.mean() - 3.0) <= 4.0 * pos.std(ddof=1) / math.sqrt(pos.size)
    assert d.mean == pytest.approx(0.88 * 3.0)
    assert d.sd == pytest.approx(math.sqrt(0.88 * (4.0 + 9.0) - (0.88 * 3.0) ** 2))


@pytest.mark.parametrize("name", list(NEW_KINDS))
def test_new_same_seed_same_samples_scalar_float(name: str) -> None:
    dist = NEW_KINDS[name]
    a, b = np.random.default_rng(7), np.random.default_rng(7)
    assert np.array_equal(dist.sample(a, 1000), dist.sample(b, 1000))
    assert [dist.sample(a) for _ in range(20)] == [dist.sample(b) for _ in range(20)]
    one = dist.sample(a)
    assert type(one) is float and one >= 0
    assert np.all(dist.sample(a, 10_000) >= 0)


def test_zero_inflated_vector_draws_two_blocks() -> None:
    # The stream is a block of uniforms then a block of inner draws.
    d = ZeroInflated(0.3, Exponential(2.0))
    rng = np.random.default_rng(SEED)
    u = rng.random(500)
    inner = rng.exponential(2.0, 500)
    assert np.array_equal(d.sample(np.random.default_rng(SEED), 500), np.where(u < 0.3, 0.0, inner))


@pytest.mark.parametrize("name", list(NEW_KINDS))
def test_new_spec_round_trip(name: str) -> None:
    dist = NEW_KINDS[name]
    spec = dist.spec()
    assert spec["dist"] == dist.name
    assert parse_distribution(spec, value_parser=parse_number) == dist
    assert parse_distribution(yaml.safe_load(yaml.safe_dump(spec)), value_parser=parse_number) == dist
    assert pickle.loads(pickle.dumps(dist)) == dist and copy.deepcopy(dist) == dist
    assert hash(dist) == hash(parse_distribution(spec, value_parser=parse_number))


def test_parse_new_forms_with_units() -> None:
    assert parse_distribution({"dist": "weibull", "shape": 1.5, "scale": "2h"}) == Weibull(1.5, 2.0)
    spec = yaml.safe_load("{dist: zero_inflated, zero: 0.12, of: {dist: lognormal, mean: 3h, sd: 2h}}")
    assert parse_distribution(spec) == ZeroInflated(0.12, LogNormal(3.0, 2.0))
    assert parse_distribution({"dist": "zero_inflated", "zero": "0.5", "of": "30min"}) == \
        ZeroInflated(0.5, Fixed(0.5))
    assert ZeroInflated(0.12, LogNormal(3.0, 2.0)).spec() == {
        "dist": "zero_inflated", "zero": 0.12, "of": {"dist": "lognormal", "mean": 3.0, "sd": 2.0}}


@pytest.mark.parametrize(
    ("spec", "message", "key"),
    [
        ({"dist": "zero_inflated", "zero": 1.5, "of": "1h"}, "zero: must be in [0, 1], got 1.5", "zero"),
        ({"dist": "zero_inflated", "zero": -0.1, "of": "1h"}, "zero: must be in [0, 1], got -0.1", "zero"),
        ({"dist": "zero_inflated", "zero": "1h", "of": "1h"}, "zero: expected a number, got '1h'", "zero"),
        ({"dist": "zero_inflated", "zero": 0.1, "of": {"dist": "lognormal", "mean": "3h", "sd": "-1h"}},
         "of.sd: expected a non-negative duration, got '-1h'", "of.sd"),
        ({"dist": "zero_inflated", "zero": 0.1, "of": {"dist": "lognormal", "mean": 0, "sd": "1h"}},
         "of.mean: must be > 0, got 0", "of.mean"),
        ({"dist": "zero_inflated", "zero": 0.1, "of": {"dist": "lognormal", "mean": "3h"}},
         "of: missing parameter 'sd' for lognormal (expected: mean, sd)", "of.sd"),
        ({"dist": "zero_inflated", "zero": 0.1, "of": {"dist": "lognormal", "mean": "3h", "sdev": "1h"}},
         "of: unknown parameter 'sdev' for lognormal (expected: mean, sd); did you mean 'sd'?", "of.sdev"),
        ({"dist": "zero_inflated", "zero": 0.1, "of": {"dist": "zero_inflated", "zero": 0.1,
                                                       "of": {"dist": "weibull", "shape": 0, "scale": "1h"}}},
         "of.of.shape: must be > 0, got 0", "of.of.shape"),
        ({"dist": "zero_inflated", "zero": 0.1}, "missing parameter 'of' for zero_inflated (expected: zero, of)",
         "of"),
        ({"dist": "weibull", "shape": "2h", "scale": "1h"}, "shape: expected a number, got '2h'", "shape"),
        ({"dist": "weibull", "shape": 2, "scale": "-1h"}, "scale: expected a non-negative duration, got '-1h'",
         "scale"),
        ({"dist": "weibull", "shape": 2, "scale": 0}, "scale: must be > 0, got 0", "scale"),
        ({"dist": "weibull", "shape": 2}, "missing parameter 'scale' for weibull (expected: shape, scale)", "scale"),
    ],
)
def test_new_parse_errors_name_the_key(spec: object, message: str, key: str) -> None:
    with pytest.raises(DistributionError) as info:
        parse_distribution(spec)
    assert str(info.value) == message
    assert info.value.key == key


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Weibull(0, 1), "shape must be > 0, got 0"),
        (lambda: Weibull(1, -1), "scale must be > 0, got -1"),
        (lambda: ZeroInflated(1.5, Exponential(1)), "zero must be in [0, 1], got 1.5"),
        (lambda: ZeroInflated(float("nan"), Exponential(1)), "zero must be finite"),
        (lambda: ZeroInflated(0.1, {"dist": "exponential", "mean": 1}), "of must be a distribution"),
    ],
)
def test_new_constructor_validation(make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DistributionError) as info:
        make()
    assert str(info.value).startswith(message)


def test_new_forms_load_in_a_scenario() -> None:
    import govsim
    from govsim.scenario.errors import ScenarioError

    scenario = govsim.load_scenario({"categories": {
        "x": {"rate": 1, "handling": {"dist": "weibull", "shape": 1.5, "scale": "2h"}},
        "y": {"rate": 1, "handling": {"dist": "zero_inflated", "zero": 0.12,
                                      "of": {"dist": "lognormal", "mean": "3h", "sd": "2h"}}},
    }})
    assert scenario.categories["x"].handling == Weibull(1.5, 2.0)
    assert scenario.categories["y"].handling == ZeroInflated(0.12, LogNormal(3.0, 2.0))
    with pytest.raises(ScenarioError, match=r"categories\.y\.handling\.of\.sd"):
        govsim.load_scenario({"categories": {"y": {"rate": 1, "handling": {
            "dist": "zero_inflated", "zero": 0.12, "of": {"dist": "lognormal", "mean": "3h", "sd": "-2h"}}}}})
    with pytest.raises(ScenarioError, match=r"categories\.y\.handling\.zero"):
        govsim.load_scenario({"categories": {"y": {"rate": 1, "handling": {
            "dist": "zero_inflated", "zero": 1.5, "of": "1h"}}}})
