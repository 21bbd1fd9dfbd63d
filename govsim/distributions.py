"""Probability distributions of durations (or plain numbers) read from scenario specs.

Every distribution is immutable, samples from an explicit
:class:`numpy.random.Generator` and is vectorised when ``size`` is given.
Parameters are plain floats; for durations they are **hours**, and
:meth:`Distribution.spec` returns them in hours, so a spec round-trips with
``parse_distribution(d.spec(), value_parser=parse_number)``.

Scenario-file format (see :func:`parse_distribution`)::

    service_time: 15min                                   # Fixed
    service_time: {dist: lognormal, mean: 20min, sd: 10min}
    households:   {dist: uniform, low: 20, high: 80}      # with value_parser=parse_number
    handling:     {dist: weibull, shape: 1.5, scale: 2h}  # shape is dimensionless
    closure:      {dist: zero_inflated, zero: 0.12, of: {dist: lognormal, mean: 3h, sd: 2h}}

``zero_inflated`` is exactly 0 with probability ``zero`` (e.g. proactive work
logged as closed the moment it became known), else a draw from ``of`` (any
other spec, parsed with the same value parser).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from govsim.suggest import did_you_mean
from govsim.units import UnitError, parse_duration

__all__ = [
    "DISTRIBUTIONS",
    "Distribution",
    "DistributionError",
    "Empirical",
    "Exponential",
    "Fixed",
    "Gamma",
    "LogNormal",
    "Triangular",
    "Uniform",
    "Weibull",
    "ZeroInflated",
    "parse_distribution",
    "parse_number",
]

ValueParser = Callable[[Any], float]


class DistributionError(ValueError):
    """Invalid distribution parameters or spec.

    ``key`` names the offending parameter (e.g. ``"sd"`` or ``"weights[2]"``)
    when there is one; ``requirement`` is the violated condition
    (e.g. ``"must be > 0"``) for errors raised by constructors.
    """

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        requirement: str | None = None,
        related: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.key = key
        self.requirement = requirement
        self.related = related


def _fmt(value: object) -> str:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{float(value):.6g}"
    return repr(value)


def _invalid(
    key: str,
    requirement: str,
    values: Mapping[str, object],
    related: tuple[str, ...] = (),
) -> DistributionError:
    """An error for parameter ``key`` violating ``requirement`` (values shown as numbers)."""
    message = f"{key} {requirement}, got {_fmt(values[key])}"
    if related:
        message += " (" + ", ".join(f"{r}={_fmt(values[r])}" for r in related) + ")"
    return DistributionError(message, key=key, requirement=requirement, related=related)


def _finite(key: str, value: object) -> float:
    """``value`` as a finite float, else a DistributionError naming ``key``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise DistributionError(f"{key} must be a number, got {value!r}", key=key,
                                requirement="must be a number")
    x = float(value)
    if not math.isfinite(x):
        raise _invalid(key, "must be finite", {key: x})
    return x


def _check_size(size: int | None) -> None:
    if size is not None and (isinstance(size, bool) or not isinstance(size, numbers.Integral)
                             or size < 0):
        raise ValueError(f"size must be a non-negative integer or None, got {size!r}")


class Distribution(ABC):
    """Base class: an immutable distribution sampled with an explicit generator.

    Each distribution is a frozen dataclass: its init fields are the
    parameters, in positional order, and define equality, hashing,
    :meth:`spec`, ``repr`` and pickling; values derived from them (for
    sampling) are ``init=False`` fields set once in ``__post_init__``.

    Every distribution has a ``mean`` (expected value) and an ``sd`` (standard
    deviation): a parameter field where they are parameters (``LogNormal``),
    else a property.
    """

    #: Name used in specs (``dist:``) and in :data:`DISTRIBUTIONS`.
    name: ClassVar[str]

    if TYPE_CHECKING:
        # For type checkers only: at run time an abstract property here would
        # shadow the ``mean``/``sd`` fields of the subclasses that have them.
        @property
        @abstractmethod
        def mean(self) -> float: ...

        @property
        @abstractmethod
        def sd(self) -> float: ...

    @abstractmethod
    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        """One draw as a float (``size=None``) or an array of ``size`` draws."""

    def _params(self) -> dict[str, Any]:
        """Constructor arguments in positional order."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}  # type: ignore[arg-type]

    def spec(self) -> dict[str, Any]:
        """Plain description ``{"dist": name, **params}``.

        Parameters are in the object's units (hours for durations), so the spec
        parses back with ``parse_distribution(spec, value_parser=parse_number)``.
        """
        out: dict[str, Any] = {"dist": self.name}
        for key, value in self._params().items():
            if value is None:
                continue
            out[key] = list(value) if isinstance(value, tuple) else value
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items() if v is not None)
        return f"{type(self).__name__}({args})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from the parameters alone (derived fields are recomputed): small
        # pickles for worker processes and Dask.
        return (type(self), tuple(self._params().values()))


def _store(dist: Distribution, **values: object) -> None:
    """Set fields of a frozen distribution while ``__post_init__`` builds it."""
    for key, value in values.items():
        object.__setattr__(dist, key, value)


@dataclass(frozen=True, repr=False)
class Fixed(Distribution):
    """Always ``value`` (consumes no random numbers)."""

    name = "fixed"
    value: float

    def __post_init__(self) -> None:
        _store(self, value=_finite("value", self.value))

    @property
    def mean(self) -> float:
        return self.value

    @property
    def sd(self) -> float:
        return 0.0

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        return self.value if size is None else np.full(size, self.value)


@dataclass(frozen=True, repr=False)
class Exponential(Distribution):
    """Exponential with the given ``mean`` (> 0)."""

    name = "exponential"
    mean: float

    def __post_init__(self) -> None:
        mean = _finite("mean", self.mean)
        if mean <= 0:
            raise _invalid("mean", "must be > 0", {"mean": mean})
        _store(self, mean=mean)

    @property
    def sd(self) -> float:
        return self.mean

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        if size is None:
            return float(rng.exponential(self.mean))
        return rng.exponential(self.mean, size)


@dataclass(frozen=True, repr=False)
class LogNormal(Distribution):
    """Log-normal with the ``mean`` (> 0) and ``sd`` (>= 0) of the variable itself.

    The underlying normal has ``sigma**2 = ln(1 + sd**2 / mean**2)`` and
    ``mu = ln(mean) - sigma**2 / 2``. With ``sd == 0`` it is ``Fixed(mean)``.
    """

    name = "lognormal"
    mean: float
    sd: float
    #: Mean of ``log(X)``.
    mu: float = field(init=False, repr=False, compare=False)
    #: Standard deviation of ``log(X)``.
    sigma: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        mean = _finite("mean", self.mean)
        sd = _finite("sd", self.sd)
        if mean <= 0:
            raise _invalid("mean", "must be > 0", {"mean": mean})
        if sd < 0:
            raise _invalid("sd", "must be >= 0", {"sd": sd})
        ratio = sd / mean
        # ln(1 + r²), without overflow for a huge ratio (there it is 2 ln r to double precision)
        sigma2 = math.log1p(ratio * ratio) if ratio < 1e150 else 2.0 * math.log(ratio)
        _store(self, mean=mean, sd=sd, mu=math.log(mean) - sigma2 / 2.0, sigma=math.sqrt(sigma2))

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        if self.sd == 0:
            return self.mean if size is None else np.full(size, self.mean)
        if size is None:
            return float(rng.lognormal(self.mu, self.sigma))
        return rng.lognormal(self.mu, self.sigma, size)


@dataclass(frozen=True, repr=False)
class _ShapeScale(Distribution):
    """A family with a ``shape`` k > 0 and a ``scale`` > 0 (gamma, Weibull)."""

    shape: float
    scale: float

    def __post_init__(self) -> None:
        shape = _finite("shape", self.shape)
        scale = _finite("scale", self.scale)
        if shape <= 0:
            raise _invalid("shape", "must be > 0", {"shape": shape})
        if scale <= 0:
            raise _invalid("scale", "must be > 0", {"scale": scale})
        _store(self, shape=shape, scale=scale)


@dataclass(frozen=True, repr=False)
class Gamma(_ShapeScale):
    """Gamma with ``shape`` k > 0 and ``scale`` theta > 0 (mean k*theta)."""

    name = "gamma"

    @classmethod
    def from_mean_sd(cls, mean: float, sd: float) -> Gamma:
        """The gamma with this mean (> 0) and standard deviation (> 0)."""
        mean = _finite("mean", mean)
        sd = _finite("sd", sd)
        if mean <= 0:
            raise _invalid("mean", "must be > 0", {"mean": mean})
        if sd <= 0:
            raise _invalid("sd", "must be > 0 (use fixed for a constant)", {"sd": sd})
        return cls(shape=(mean / sd) ** 2, scale=sd * sd / mean)

    @property
    def mean(self) -> float:
        return self.shape * self.scale

    @property
    def sd(self) -> float:
        return math.sqrt(self.shape) * self.scale

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        if size is None:
            return float(rng.gamma(self.shape, self.scale))
        return rng.gamma(self.shape, self.scale, size)


@dataclass(frozen=True, repr=False)
class Triangular(Distribution):
    """Triangular on ``[low, high]`` with peak at ``mode`` (low <= mode <= high)."""

    name = "triangular"
    low: float
    mode: float
    high: float

    def __post_init__(self) -> None:
        values = {"low": _finite("low", self.low), "mode": _finite("mode", self.mode),
                  "high": _finite("high", self.high)}
        if values["low"] > values["high"]:
            raise _invalid("low", "must be <= high", values, related=("high",))
        if values["mode"] < values["low"]:
            raise _invalid("mode", "must be >= low", values, related=("low",))
        if values["mode"] > values["high"]:
            raise _invalid("mode", "must be <= high", values, related=("high",))
        _store(self, **values)

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0

    @property
    def sd(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return math.sqrt(max(0.0, (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0))

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        if self.low == self.high:  # numpy rejects a degenerate triangle
            return self.low if size is None else np.full(size, self.low)
        if size is None:
            return float(rng.triangular(self.low, self.mode, self.high))
        return rng.triangular(self.low, self.mode, self.high, size)


@dataclass(frozen=True, repr=False)
class Uniform(Distribution):
    """Continuous uniform on ``[low, high)`` (low <= high)."""

    name = "uniform"
    low: float
    high: float

    def __post_init__(self) -> None:
        values = {"low": _finite("low", self.low), "high": _finite("high", self.high)}
        if values["low"] > values["high"]:
            raise _invalid("low", "must be <= high", values, related=("high",))
        _store(self, **values)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2.0

    @property
    def sd(self) -> float:
        return (self.high - self.low) / math.sqrt(12.0)

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        if size is None:
            return float(rng.uniform(self.low, self.high))
        return rng.uniform(self.low, self.high, size)


@dataclass(frozen=True, repr=False)
class Empirical(Distribution):
    """Discrete: one of ``values`` with probability proportional to ``weights`` (default equal).

    ``values`` and ``weights`` may be given as any sequence; they are kept as
    tuples of floats.
    """

    name = "empirical"
    values: Sequence[float]
    weights: Sequence[float] | None = None
    mean: float = field(init=False, repr=False, compare=False)
    sd: float = field(init=False, repr=False, compare=False)
    _array: np.ndarray = field(init=False, repr=False, compare=False)
    _cdf: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        values, weights = self.values, self.weights
        if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
            raise DistributionError(f"values must be a list of numbers, got {values!r}",
                                    key="values", requirement="must be a list of numbers")
        vals = tuple(_finite(f"values[{i}]", v) for i, v in enumerate(values))
        if not vals:
            raise DistributionError("values must not be empty", key="values",
                                    requirement="must not be empty")
        if weights is None:
            w = None
            probs = np.full(len(vals), 1.0 / len(vals))
        else:
            if isinstance(weights, (str, bytes)) or not isinstance(weights, (Sequence, np.ndarray)):
                raise DistributionError(f"weights must be a list of numbers, got {weights!r}",
                                        key="weights", requirement="must be a list of numbers")
            w = tuple(_finite(f"weights[{i}]", x) for i, x in enumerate(weights))
            if len(w) != len(vals):
                raise DistributionError(
                    f"weights must have one entry per value ({len(vals)}), got {len(w)}",
                    key="weights", requirement=f"must have one entry per value ({len(vals)})")
            for i, x in enumerate(w):
                if x < 0:
                    raise _invalid(f"weights[{i}]", "must be >= 0", {f"weights[{i}]": x})
            total = math.fsum(w)
            if total <= 0:
                raise DistributionError("weights must have a positive sum", key="weights",
                                        requirement="must have a positive sum")
            probs = np.asarray(w) / total
        array = np.asarray(vals, dtype=float)
        cdf = np.cumsum(probs)
        cdf /= cdf[-1]
        cdf[-1] = 1.0  # u < 1 always maps to a valid index
        mean = float(np.dot(probs, array))
        sd = math.sqrt(max(0.0, float(np.dot(probs, (array - mean) ** 2))))
        for arr in (array, cdf):
            arr.flags.writeable = False
        _store(self, values=vals, weights=w, _array=array, _cdf=cdf, mean=mean, sd=sd)

    @property
    def probabilities(self) -> np.ndarray:
        """Normalised probability of each value (a new array)."""
        return np.diff(self._cdf, prepend=0.0)

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        if size is None:
            return self.values[int(np.searchsorted(self._cdf, rng.random(), side="right"))]
        return self._array[np.searchsorted(self._cdf, rng.random(size), side="right")]


@dataclass(frozen=True, repr=False)
class Weibull(_ShapeScale):
    """Weibull with ``shape`` k > 0 and ``scale`` lambda > 0 (mean lambda * Gamma(1 + 1/k))."""

    name = "weibull"

    @property
    def mean(self) -> float:
        try:
            return self.scale * math.exp(math.lgamma(1.0 + 1.0 / self.shape))
        except OverflowError:
            return math.inf

    @property
    def sd(self) -> float:
        g1 = math.lgamma(1.0 + 1.0 / self.shape)
        g2 = math.lgamma(1.0 + 2.0 / self.shape)
        try:
            # Var = scale^2 (G(1+2/k) - G(1+1/k)^2) = scale^2 G(1+1/k)^2 (exp(g2 - 2 g1) - 1)
            return self.scale * math.exp(g1) * math.sqrt(max(0.0, math.expm1(g2 - 2.0 * g1)))
        except OverflowError:
            return math.inf

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        if size is None:
            return float(self.scale * rng.weibull(self.shape))
        return self.scale * rng.weibull(self.shape, size)


@dataclass(frozen=True, repr=False)
class ZeroInflated(Distribution):
    """Exactly 0 with probability ``zero`` (0 <= zero <= 1), else a draw from ``of``.

    Sampling draws a block of uniforms and a block of ``of`` draws of the same
    size (so the stream does not depend on which draws come out zero).
    """

    name = "zero_inflated"
    #: Probability of an exact 0.
    zero: float
    #: The distribution of the non-zero draws.
    of: Distribution

    def __post_init__(self) -> None:
        zero = _finite("zero", self.zero)
        if not 0.0 <= zero <= 1.0:
            raise _invalid("zero", "must be in [0, 1]", {"zero": zero})
        if not isinstance(self.of, Distribution):
            raise DistributionError(f"of must be a distribution, got {self.of!r}", key="of",
                                    requirement="must be a distribution")
        _store(self, zero=zero)

    @property
    def mean(self) -> float:
        return (1.0 - self.zero) * self.of.mean

    @property
    def sd(self) -> float:
        p, m, s = 1.0 - self.zero, self.of.mean, self.of.sd
        # Var = p (s^2 + m^2) - (p m)^2 = p s^2 + p (1 - p) m^2
        return math.sqrt(max(0.0, p * s * s + p * (1.0 - p) * m * m))

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        if size is None:
            u = rng.random()
            x = float(self.of.sample(rng))
            return 0.0 if u < self.zero else x
        us = rng.random(size)
        xs = np.asarray(self.of.sample(rng, size), dtype=float)
        return np.where(us < self.zero, 0.0, xs)

    def spec(self) -> dict[str, Any]:
        return {"dist": self.name, "zero": self.zero, "of": self.of.spec()}


#: Distribution classes by spec name.
DISTRIBUTIONS: dict[str, type[Distribution]] = {
    cls.name: cls for cls in (Fixed, Exponential, LogNormal, Gamma, Triangular, Uniform, Empirical,
                               Weibull, ZeroInflated)
}

#: Accepted parameter sets per distribution (alternative forms in order).
_FORMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "fixed": (("value",),),
    "exponential": (("mean",),),
    "lognormal": (("mean", "sd"),),
    "gamma": (("shape", "scale"), ("mean", "sd")),
    "triangular": (("low", "mode", "high"),),
    "uniform": (("low", "high"),),
    "empirical": (("values", "weights"),),
    "weibull": (("shape", "scale"),),
    "zero_inflated": (("zero", "of"),),
}
_OPTIONAL: dict[str, frozenset[str]] = {"empirical": frozenset({"weights"})}
#: Dimensionless parameters, always read with :func:`parse_number`.
_DIMENSIONLESS = frozenset({"shape", "weights", "zero"})


def parse_number(value: object) -> float:
    """A finite dimensionless number: int, float or numeric string (not bool)."""
    if isinstance(value, str):
        if not value.isascii():  # float() reads full-width '３００' as 300: refuse it
            raise DistributionError(f"expected a number (digits 0-9), got {value!r}")
        try:
            x = float(value.strip())
        except ValueError:
            raise DistributionError(f"expected a number, got {value!r}") from None
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        x = float(value)
    else:
        raise DistributionError(f"expected a number, got {value!r}")
    if not math.isfinite(x):
        raise DistributionError(f"expected a finite number, got {value!r}")
    return x


def _parse_value(key: str, raw: object, parser: ValueParser) -> float:
    try:
        return parser(raw)
    except (UnitError, DistributionError, ValueError, TypeError) as exc:
        raise DistributionError(f"{key}: {exc}", key=key) from None


def _parse_list(key: str, raw: object, parser: ValueParser) -> list[float]:
    if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, (Sequence, np.ndarray)):
        raise DistributionError(f"{key}: expected a list, got {raw!r}", key=key)
    if len(raw) == 0:
        raise DistributionError(f"{key}: expected a non-empty list", key=key)
    return [_parse_value(f"{key}[{i}]", item, parser) for i, item in enumerate(raw)]


def _parse_nested(key: str, raw: object, parser: ValueParser) -> Distribution:
    """``raw`` parsed as a distribution spec, errors prefixed with ``key.``."""
    try:
        return parse_distribution(raw, value_parser=parser)
    except DistributionError as exc:
        message = str(exc)
        if exc.key is not None and message.startswith(f"{exc.key}:"):
            message = f"{key}.{message}"
        else:
            message = f"{key}: {message}"
        inner = f"{key}.{exc.key}" if exc.key is not None else key
        raise DistributionError(message, key=inner) from None


def _raw_lookup(params: Mapping[str, object], key: str) -> object:
    """The raw spec value for ``key`` (``"name"`` or ``"name[i]"``)."""
    if key.endswith("]") and "[" in key:
        name, index = key[:-1].split("[", 1)
        return params[name][int(index)]  # type: ignore[index]
    return params[key]


def parse_distribution(
    spec: object, *, value_parser: ValueParser = parse_duration
) -> Distribution:
    """Build a :class:`Distribution` from a scenario spec.

    ``spec`` is a scalar (a :class:`Fixed` value) or a mapping with a ``dist``
    key naming one of :data:`DISTRIBUTIONS` and its parameters. Each value-like
    parameter is converted with ``value_parser`` (default: durations with units,
    in hours); ``shape``, ``weights`` and ``zero`` are dimensionless, and the
    ``of`` spec of ``zero_inflated`` is parsed recursively (its errors name
    ``of.<key>``). An existing
    :class:`Distribution` is returned unchanged. Errors raise
    :class:`DistributionError` naming the offending key relative to ``spec``.
    """
    if isinstance(spec, Distribution):
        return spec
    if not isinstance(spec, Mapping):
        if isinstance(spec, (list, tuple, set)):
            raise DistributionError(
                f"expected a value or a mapping with 'dist', got {type(spec).__name__} {spec!r}"
            )
        try:
            return Fixed(value_parser(spec))
        except (UnitError, ValueError, TypeError) as exc:
            raise DistributionError(str(exc)) from None

    names = sorted(DISTRIBUTIONS)
    if "dist" not in spec:
        raise DistributionError(
            f"missing 'dist' (expected one of: {', '.join(names)})", key="dist")
    dist = spec["dist"]
    if not isinstance(dist, str):
        raise DistributionError(f"dist: expected one of {', '.join(names)}, got {dist!r}",
                                key="dist")
    name = dist.strip().lower()
    if name not in DISTRIBUTIONS:
        raise DistributionError(
            f"dist: unknown distribution {dist!r} (expected one of: {', '.join(names)})"
            + did_you_mean(name, names, style="clause"),
            key="dist",
        )

    params = {str(k): v for k, v in spec.items() if k != "dist"}
    forms = _FORMS[name]
    allowed = [k for form in forms for k in form]
    allowed = list(dict.fromkeys(allowed))
    expected = " or ".join(f"({', '.join(form)})" if len(forms) > 1 else ", ".join(form)
                           for form in forms)
    for key in params:
        if key not in allowed:
            raise DistributionError(
                f"unknown parameter {key!r} for {name} (expected: {expected})"
                + did_you_mean(key, allowed, style="clause"),
                key=key,
            )
    optional = _OPTIONAL.get(name, frozenset())
    given = set(params)
    form = next((f for f in forms if given <= set(f) and set(f) - optional <= given), None)
    if form is None:
        if len(forms) == 1:
            missing = [k for k in forms[0] if k not in given and k not in optional]
            raise DistributionError(
                f"missing parameter {missing[0]!r} for {name} (expected: {expected})",
                key=missing[0],
            )
        raise DistributionError(
            f"{name} takes {expected}, got: {', '.join(sorted(given)) or 'no parameters'}"
        )

    values: dict[str, Any] = {}
    for key, raw in params.items():
        parser = parse_number if key in _DIMENSIONLESS else value_parser
        if key in ("values", "weights"):
            values[key] = _parse_list(key, raw, parser)
        elif name == "zero_inflated" and key == "of":
            values[key] = _parse_nested(key, raw, value_parser)
        else:
            values[key] = _parse_value(key, raw, parser)

    try:
        if name == "gamma" and "mean" in values:
            return Gamma.from_mean_sd(values["mean"], values["sd"])
        return DISTRIBUTIONS[name](**values)
    except (OverflowError, ZeroDivisionError):
        listed = ", ".join(f"{k}: {params[k]!r}" for k in params)
        raise DistributionError(f"parameters out of the range a computer can handle ({listed})") from None
    except DistributionError as exc:
        if exc.key is None or exc.requirement is None:
            raise
        try:
            shown = _raw_lookup(params, exc.key)
        except (KeyError, IndexError, TypeError, ValueError):
            raise exc from None
        message = f"{exc.key}: {exc.requirement}, got {shown!r}"
        if exc.related:
            message += " (" + ", ".join(
                f"{r}: {_raw_lookup(params, r)!r}" for r in exc.related) + ")"
        raise DistributionError(message, key=exc.key, requirement=exc.requirement,
                                related=exc.related) from None
