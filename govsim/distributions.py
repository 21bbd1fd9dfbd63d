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

import difflib
import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

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
    """Base class: an immutable distribution sampled with an explicit generator."""

    __slots__ = ()

    #: Name used in specs (``dist:``) and in :data:`DISTRIBUTIONS`.
    name: ClassVar[str]

    @abstractmethod
    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        """One draw as a float (``size=None``) or an array of ``size`` draws."""

    @property
    @abstractmethod
    def mean(self) -> float:
        """Expected value."""

    @property
    @abstractmethod
    def sd(self) -> float:
        """Standard deviation."""

    @abstractmethod
    def _params(self) -> dict[str, Any]:
        """Constructor arguments in positional order."""

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

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._params() == other._params()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), tuple(self._params().items())))

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, key: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), tuple(self._params().values()))

    def _set(self, **attrs: object) -> None:
        for key, value in attrs.items():
            object.__setattr__(self, key, value)


class Fixed(Distribution):
    """Always ``value`` (consumes no random numbers)."""

    __slots__ = ("_value",)
    name = "fixed"

    def __init__(self, value: float) -> None:
        self._set(_value=_finite("value", value))

    @property
    def value(self) -> float:
        return self._value

    @property
    def mean(self) -> float:
        return self._value

    @property
    def sd(self) -> float:
        return 0.0

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        return self._value if size is None else np.full(size, self._value)

    def _params(self) -> dict[str, Any]:
        return {"value": self._value}


class Exponential(Distribution):
    """Exponential with the given ``mean`` (> 0)."""

    __slots__ = ("_mean",)
    name = "exponential"

    def __init__(self, mean: float) -> None:
        mean = _finite("mean", mean)
        if mean <= 0:
            raise _invalid("mean", "must be > 0", {"mean": mean})
        self._set(_mean=mean)

    @property
    def mean(self) -> float:
        return self._mean

    @property
    def sd(self) -> float:
        return self._mean

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        if size is None:
            return float(rng.exponential(self._mean))
        return rng.exponential(self._mean, size)

    def _params(self) -> dict[str, Any]:
        return {"mean": self._mean}


class LogNormal(Distribution):
    """Log-normal with the ``mean`` (> 0) and ``sd`` (>= 0) of the variable itself.

    The underlying normal has ``sigma**2 = ln(1 + sd**2 / mean**2)`` and
    ``mu = ln(mean) - sigma**2 / 2``. With ``sd == 0`` it is ``Fixed(mean)``.
    """

    __slots__ = ("_mean", "_sd", "_mu", "_sigma")
    name = "lognormal"

    def __init__(self, mean: float, sd: float) -> None:
        mean = _finite("mean", mean)
        sd = _finite("sd", sd)
        if mean <= 0:
            raise _invalid("mean", "must be > 0", {"mean": mean})
        if sd < 0:
            raise _invalid("sd", "must be >= 0", {"sd": sd})
        sigma2 = math.log1p((sd / mean) ** 2)
        self._set(_mean=mean, _sd=sd, _mu=math.log(mean) - sigma2 / 2.0, _sigma=math.sqrt(sigma2))

    @property
    def mean(self) -> float:
        return self._mean

    @property
    def sd(self) -> float:
        return self._sd

    @property
    def mu(self) -> float:
        """Mean of ``log(X)``."""
        return self._mu

    @property
    def sigma(self) -> float:
        """Standard deviation of ``log(X)``."""
        return self._sigma

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        if self._sd == 0:
            return self._mean if size is None else np.full(size, self._mean)
        if size is None:
            return float(rng.lognormal(self._mu, self._sigma))
        return rng.lognormal(self._mu, self._sigma, size)

    def _params(self) -> dict[str, Any]:
        return {"mean": self._mean, "sd": self._sd}


class _ShapeScale(Distribution):
    """A family with a ``shape`` k > 0 and a ``scale`` > 0 (gamma, Weibull)."""

    __slots__ = ("_shape", "_scale")

    def __init__(self, shape: float, scale: float) -> None:
        shape = _finite("shape", shape)
        scale = _finite("scale", scale)
        if shape <= 0:
            raise _invalid("shape", "must be > 0", {"shape": shape})
        if scale <= 0:
            raise _invalid("scale", "must be > 0", {"scale": scale})
        self._set(_shape=shape, _scale=scale)

    @property
    def shape(self) -> float:
        return self._shape

    @property
    def scale(self) -> float:
        return self._scale

    def _params(self) -> dict[str, Any]:
        return {"shape": self._shape, "scale": self._scale}


class Gamma(_ShapeScale):
    """Gamma with ``shape`` k > 0 and ``scale`` theta > 0 (mean k*theta)."""

    __slots__ = ()
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
        return self._shape * self._scale

    @property
    def sd(self) -> float:
        return math.sqrt(self._shape) * self._scale

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        if size is None:
            return float(rng.gamma(self._shape, self._scale))
        return rng.gamma(self._shape, self._scale, size)


class Triangular(Distribution):
    """Triangular on ``[low, high]`` with peak at ``mode`` (low <= mode <= high)."""

    __slots__ = ("_low", "_mode", "_high")
    name = "triangular"

    def __init__(self, low: float, mode: float, high: float) -> None:
        values = {"low": _finite("low", low), "mode": _finite("mode", mode),
                  "high": _finite("high", high)}
        if values["low"] > values["high"]:
            raise _invalid("low", "must be <= high", values, related=("high",))
        if values["mode"] < values["low"]:
            raise _invalid("mode", "must be >= low", values, related=("low",))
        if values["mode"] > values["high"]:
            raise _invalid("mode", "must be <= high", values, related=("high",))
        self._set(_low=values["low"], _mode=values["mode"], _high=values["high"])

    @property
    def low(self) -> float:
        return self._low

    @property
    def mode(self) -> float:
        return self._mode

    @property
    def high(self) -> float:
        return self._high

    @property
    def mean(self) -> float:
        return (self._low + self._mode + self._high) / 3.0

    @property
    def sd(self) -> float:
        a, c, b = self._low, self._mode, self._high
        return math.sqrt(max(0.0, (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0))

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        if self._low == self._high:  # numpy rejects a degenerate triangle
            return self._low if size is None else np.full(size, self._low)
        if size is None:
            return float(rng.triangular(self._low, self._mode, self._high))
        return rng.triangular(self._low, self._mode, self._high, size)

    def _params(self) -> dict[str, Any]:
        return {"low": self._low, "mode": self._mode, "high": self._high}


class Uniform(Distribution):
    """Continuous uniform on ``[low, high)`` (low <= high)."""

    __slots__ = ("_low", "_high")
    name = "uniform"

    def __init__(self, low: float, high: float) -> None:
        values = {"low": _finite("low", low), "high": _finite("high", high)}
        if values["low"] > values["high"]:
            raise _invalid("low", "must be <= high", values, related=("high",))
        self._set(_low=values["low"], _high=values["high"])

    @property
    def low(self) -> float:
        return self._low

    @property
    def high(self) -> float:
        return self._high

    @property
    def mean(self) -> float:
        return (self._low + self._high) / 2.0

    @property
    def sd(self) -> float:
        return (self._high - self._low) / math.sqrt(12.0)

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        if size is None:
            return float(rng.uniform(self._low, self._high))
        return rng.uniform(self._low, self._high, size)

    def _params(self) -> dict[str, Any]:
        return {"low": self._low, "high": self._high}


class Empirical(Distribution):
    """Discrete: one of ``values`` with probability proportional to ``weights`` (default equal)."""

    __slots__ = ("_values", "_weights", "_array", "_cdf", "_mean", "_sd")
    name = "empirical"

    def __init__(self, values: Sequence[float], weights: Sequence[float] | None = None) -> None:
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
        self._set(_values=vals, _weights=w, _array=array, _cdf=cdf, _mean=mean, _sd=sd)

    @property
    def values(self) -> tuple[float, ...]:
        return self._values

    @property
    def weights(self) -> tuple[float, ...] | None:
        return self._weights

    @property
    def probabilities(self) -> np.ndarray:
        """Normalised probability of each value (a new array)."""
        return np.diff(self._cdf, prepend=0.0)

    @property
    def mean(self) -> float:
        return self._mean

    @property
    def sd(self) -> float:
        return self._sd

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        if size is None:
            return self._values[int(np.searchsorted(self._cdf, rng.random(), side="right"))]
        return self._array[np.searchsorted(self._cdf, rng.random(size), side="right")]

    def _params(self) -> dict[str, Any]:
        return {"values": self._values, "weights": self._weights}


class Weibull(_ShapeScale):
    """Weibull with ``shape`` k > 0 and ``scale`` lambda > 0 (mean lambda * Gamma(1 + 1/k))."""

    __slots__ = ()
    name = "weibull"

    @property
    def mean(self) -> float:
        try:
            return self._scale * math.exp(math.lgamma(1.0 + 1.0 / self._shape))
        except OverflowError:
            return math.inf

    @property
    def sd(self) -> float:
        g1 = math.lgamma(1.0 + 1.0 / self._shape)
        g2 = math.lgamma(1.0 + 2.0 / self._shape)
        try:
            # Var = scale^2 (G(1+2/k) - G(1+1/k)^2) = scale^2 G(1+1/k)^2 (exp(g2 - 2 g1) - 1)
            return self._scale * math.exp(g1) * math.sqrt(max(0.0, math.expm1(g2 - 2.0 * g1)))
        except OverflowError:
            return math.inf

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        if size is None:
            return float(self._scale * rng.weibull(self._shape))
        return self._scale * rng.weibull(self._shape, size)


class ZeroInflated(Distribution):
    """Exactly 0 with probability ``zero`` (0 <= zero <= 1), else a draw from ``of``.

    Sampling draws a block of uniforms and a block of ``of`` draws of the same
    size (so the stream does not depend on which draws come out zero).
    """

    __slots__ = ("_zero", "_of")
    name = "zero_inflated"

    def __init__(self, zero: float, of: Distribution) -> None:
        zero = _finite("zero", zero)
        if not 0.0 <= zero <= 1.0:
            raise _invalid("zero", "must be in [0, 1]", {"zero": zero})
        if not isinstance(of, Distribution):
            raise DistributionError(f"of must be a distribution, got {of!r}", key="of",
                                    requirement="must be a distribution")
        self._set(_zero=zero, _of=of)

    @property
    def zero(self) -> float:
        """Probability of an exact 0."""
        return self._zero

    @property
    def of(self) -> Distribution:
        """The distribution of the non-zero draws."""
        return self._of

    @property
    def mean(self) -> float:
        return (1.0 - self._zero) * self._of.mean

    @property
    def sd(self) -> float:
        p, m, s = 1.0 - self._zero, self._of.mean, self._of.sd
        # Var = p (s^2 + m^2) - (p m)^2 = p s^2 + p (1 - p) m^2
        return math.sqrt(max(0.0, p * s * s + p * (1.0 - p) * m * m))

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | np.ndarray:
        _check_size(size)
        if size is None:
            u = rng.random()
            x = float(self._of.sample(rng))
            return 0.0 if u < self._zero else x
        u = rng.random(size)
        x = np.asarray(self._of.sample(rng, size), dtype=float)
        return np.where(u < self._zero, 0.0, x)

    def spec(self) -> dict[str, Any]:
        return {"dist": self.name, "zero": self._zero, "of": self._of.spec()}

    def _params(self) -> dict[str, Any]:
        return {"zero": self._zero, "of": self._of}


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


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


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
            + _suggest(name, names),
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
                + _suggest(key, allowed),
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
