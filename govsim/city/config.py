"""The city file (城市): districts by reference, plus the services they share.

A city is a YAML file with one top-level key, ``city``::

    city:
      name: small_city
      horizon: 7d                       # every district runs this long (their own horizons are ignored)
      seed: 2026
      districts:
        - name: east
          scenario: traditional_patrol  # a file (relative to this one) or a preset name
          set: {policy: hotline_centre, workers.per_grid: 1}
        - name: west
          scenario: west.yaml
      shared:
        hotline:                        # the city's 12345 call centre
          operators: 3
          call_handling: 5min

Each district is a whole scenario (its own territory, workers, policy, mechanisms),
read by :func:`govsim.load_scenario` from ``scenario`` with the dotted-key
overrides of ``set`` (as ``govsim run --set``). The file is validated like a
scenario, by the same machinery: every problem at once, with the file, the dotted
path and a did-you-mean for unknown keys; a problem in a district's own file is
reported with the city file and the district's entry in front of it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govsim.distributions import Fixed
from govsim.params import Dist, Duration, HoursConfig, doc, hours_overlap
from govsim.scenario.errors import Problem, ScenarioError
from govsim.scenario.schema import DepartmentConfig, MediationLevelConfig, Scenario

__all__ = ["City", "CityConfig", "DistrictConfig", "SharedConfig", "SharedHotlineConfig", "load_city"]


@dataclass(frozen=True)
class SharedHotlineConfig:
    """The city's shared 12345 call centre (市级12345热线): one queue for the calls of every district."""

    operators: int = field(default=4, metadata=doc("operators on duty", gt=0))
    hours: list[HoursConfig] | None = field(
        default=None, metadata=doc("operators' hours (null: around the clock)"))
    call_handling: Dist = field(default_factory=lambda: Fixed(5 / 60),
                                metadata=doc("an operator's time per call (triage)"))
    duplicates: bool = field(default=True, metadata=doc(
        "true: every first report or alarm of an issue is a call, also when the grid already knows of it "
        "(a duplicate call takes an operator's time); sharded runs are then exact. false: only calls that "
        "make an issue known reach the centre (as hotline_centre in one district); sharded runs then "
        "iterate, an approximation (docs/scale.md)"))
    iterations: int = field(default=4, metadata=doc(
        "with duplicates: false, the most passes of the districts a sharded run makes", ge=1))

    def _check(self) -> list[tuple[str, str]]:
        return hours_overlap(self.hours)


@dataclass(frozen=True)
class SharedConfig:
    """City-level services that the districts share."""

    hotline: SharedHotlineConfig | None = field(
        default=None, metadata=doc("the shared 12345 call centre (null: each district keeps its own)"))
    departments: dict[str, DepartmentConfig] = field(default_factory=dict, metadata=doc(
        "city departments (市级职能部门) by name: each takes the referrals of every district in place of the "
        "districts' own department of that name (a district without it keeps its own departments)"))
    mediation: MediationLevelConfig | None = field(default=None, metadata=doc(
        "the city's mediation centre (市级矛盾纠纷调解中心): one more rung above every district's mediation "
        "ladder; a dispute a district leaves unsettled goes there before court (null: none)"))

    def services(self) -> bool:
        """True if the city shares departments or a mediation centre."""
        return bool(self.departments) or self.mediation is not None


@dataclass(frozen=True)
class DistrictConfig:
    """One district (区) of the city: a scenario by reference, with overrides."""

    name: str = field(metadata=doc("district name, unique in the city (the `district` column of the tables)",
                                   min_len=1))
    scenario: str = field(metadata=doc("scenario file (relative to the city file) or preset name", min_len=1))
    set: dict[str, Any] = field(default_factory=dict,
                                metadata=doc("dotted-key overrides of the district's scenario, as --set"))


@dataclass(frozen=True)
class CityConfig:
    """A city: districts that run as shards, and the services they share."""

    districts: list[DistrictConfig] = field(metadata=doc("the districts", min_len=1))
    name: str = field(default="city", metadata=doc("short name used in tables and reports"))
    description: str = field(default="", metadata=doc("free text"))
    horizon: Duration | None = field(
        default=None, metadata=doc("simulated time of every district (null: the districts' own, if they agree)",
                                   "h", gt=0))
    warmup: Duration | None = field(
        default=None, metadata=doc("initial period excluded from metrics (null: the districts' own, if they "
                                   "agree)", "h", ge=0))
    seed: int | None = field(default=None, metadata=doc("default seed (the CLI's --seed wins)", ge=0))
    shared: SharedConfig = field(default_factory=SharedConfig, metadata=doc("services the districts share"))


@dataclass(frozen=True)
class CityFile:
    """A city document: one key, ``city``."""

    city: CityConfig = field(metadata=doc("the city"))
    source: str | None = field(default=None, metadata={"internal": True})
    raw: dict[str, Any] | None = field(default=None, metadata={"internal": True})


@dataclass(frozen=True)
class City:
    """A validated city: its configuration and every district's loaded scenario (horizon and
    warm-up already made the city's)."""

    config: CityConfig
    districts: tuple[Scenario, ...]
    source: str | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def district_names(self) -> list[str]:
        return [d.name for d in self.config.districts]

    @property
    def horizon(self) -> float:
        return self.districts[0].horizon

    @property
    def warmup(self) -> float:
        return self.districts[0].warmup

    @property
    def seed(self) -> int | None:
        return self.config.seed


def load_city(source: str | os.PathLike[str] | dict[str, Any],
              overrides: dict[str, Any] | None = None) -> City:
    """Read and validate a city file (or mapping) and every district it names.

    ``overrides``: dotted keys into the city document (``city.shared.hotline.operators``).
    Raises :class:`~govsim.scenario.ScenarioError` listing every problem, each with the
    city file and path (``city.districts[1].set.workers.per_grid: ...``).
    """
    from govsim.scenario import load_scenario

    doc_ = load_scenario(source, overrides=overrides, schema=CityFile)
    assert isinstance(doc_, CityFile)
    name = doc_.source or "<dict>"
    cfg = doc_.city
    base = Path(name).parent if name != "<dict>" else Path.cwd()
    written = (doc_.raw or {}).get("city") or {}
    # the city's horizon and warm-up as written (a duration such as 7d), for every district
    common = {key: written[key] for key in ("horizon", "warmup") if written.get(key) is not None}
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, d in enumerate(cfg.districts):  # (with the districts' own problems: all at once)
        if d.name in seen:
            problems.append(Problem(f"city.districts[{i}].name", f"district name {d.name!r} is used twice "
                                                                 f"(also city.districts[{seen[d.name]}])"))
        seen.setdefault(d.name, i)
    districts: list[Scenario] = []
    for i, d in enumerate(cfg.districts):
        here = f"city.districts[{i}]"
        ref = base / d.scenario
        target = str(ref) if ref.exists() else d.scenario  # else a preset of that name
        try:
            sc = load_scenario(target, overrides={**d.set, **common})
        except ScenarioError as err:
            for p in err.problems:
                problems.append(_district_problem(p, err.source, here, d, common))
            continue
        if cfg.shared.hotline is not None and sc.policy != "hotline_centre":
            problems.append(Problem(
                f"{here}.set.policy",
                f"district {d.name!r} uses policy {sc.policy!r}; the shared 12345 centre "
                f"(city.shared.hotline) takes the calls of districts on policy 'hotline_centre': "
                f"add `policy: hotline_centre` to its `set`, or remove city.shared.hotline"))
        districts.append(sc)
    if not problems:
        problems += _shared_problems(cfg, districts)
        for key in ("horizon", "warmup"):
            values = {getattr(sc, key) for sc in districts}
            if len(values) > 1:
                listing = ", ".join(f"{d.name}: {getattr(sc, key):g} h" for d, sc in zip(cfg.districts, districts))
                problems.append(Problem(f"city.{key}", f"the districts' {key}s differ ({listing}); "
                                                       f"give the city's {key} (it applies to every district)"))
        if districts and districts[0].warmup >= districts[0].horizon:
            problems.append(Problem("city.warmup", f"expected less than the horizon "
                                                   f"({districts[0].horizon:g} h), got {districts[0].warmup:g} h"))
    if problems:
        raise ScenarioError(problems, name)
    return City(cfg, tuple(districts), source=name)


def _shared_problems(cfg: CityConfig, districts: list[Scenario]) -> list[Problem]:
    """The shared services against the districts: a city department no district has, a
    mediation centre without disputes, iterated calls with shared stations."""
    problems = []
    for name in cfg.shared.departments:
        if not any(name in sc.departments for sc in districts):
            have = sorted({d for sc in districts for d in sc.departments})
            listing = ", ".join(repr(d) for d in have) if have else "none"
            problems.append(Problem(f"city.shared.departments.{name}",
                                    f"no district has a department {name!r} to share (the districts' departments: "
                                    f"{listing})"))
    if cfg.shared.mediation is not None and not any(
            c.dispute is not None for sc in districts for c in sc.categories.values()):
        problems.append(Problem("city.shared.mediation", "no district has disputes (a category with `dispute:`) "
                                                         "to refer to the city's mediation centre"))
    hotline = cfg.shared.hotline
    if hotline is not None and not hotline.duplicates and cfg.shared.services():
        problems.append(Problem("city.shared.hotline.duplicates",
                                "false is not supported together with city departments or a city mediation centre "
                                "(a sharded run would have to iterate both): use true"))
    return problems


def _district_problem(p: Problem, source: str | None, here: str, d: DistrictConfig,
                      common: dict[str, Any]) -> Problem:
    """A problem of district ``d``'s scenario, put where the user can fix it: at the city's
    ``horizon``/``warmup`` or the district's ``set`` key it comes from, else at the district
    with the file it is in."""
    def under(key: str) -> bool:
        return p.path == key or p.path.startswith(key + ".") or p.path.startswith(key + "[")
    for key in common:
        if under(key):
            return Problem(f"city.{key}", f"{p.message} (in district {d.name!r})")
    for key in d.set:
        if under(key) or source == "--set" and p.path == key:
            return Problem(f"{here}.set.{p.path}", p.message)
    if source == "--set":
        return Problem(f"{here}.set.{p.path}", p.message)
    where = f"{source}: " if source else ""
    return Problem(f"{here} ({d.name})", f"{where}{p}")


def describe_city(city: City) -> str:
    """One line per district: name, scenario, grids and policy (for the CLI)."""
    lines = []
    for d, sc in zip(city.config.districts, city.districts):
        sets = f" ({', '.join(f'{k}={v}' for k, v in d.set.items())})" if d.set else ""
        lines.append(f"  {d.name}: {d.scenario}{sets} — policy {sc.policy}")
    return "\n".join(lines)



def describe_shared(city: City) -> str:
    """The city's shared services in one line (for the CLI); empty if none."""
    shared = city.config.shared
    parts = []
    if shared.hotline is not None:
        n = shared.hotline.operators
        parts.append(f"12345 centre ({n} operator{'s' if n != 1 else ''})")
    for name, dept in shared.departments.items():
        parts.append(f"department {name} ({dept.staff} staff)")
    if shared.mediation is not None:
        n = shared.mediation.mediators
        parts.append(f"mediation centre ({n} mediator{'s' if n != 1 else ''})")
    return ", ".join(parts)
