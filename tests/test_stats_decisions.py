"""Statistics that do not fool people: Holm's correction over many metrics, bootstrap intervals
for percentile metrics, units and relative changes, and how many replications (``n="auto"``).

Every statistical check has a known answer (a hand-computed Holm example, the exact mean of an
order statistic, a known variance, A/A comparisons where nothing differs) and a tolerance from
a binomial or sampling distribution stated where it is used. Deterministic: fixed seeds.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

import govsim
from govsim.cli import main
from govsim.experiments import Comparison, ExperimentError
from govsim.experiments.api import HEADLINE_METRICS, _precision_table, _run_auto
from govsim.experiments.stats import (
    BOOTSTRAP_MIN_N,
    aggregate,
    bootstrap_change,
    bootstrap_interval,
    bootstrap_rng,
    expanded_confidence,
    fieller_change,
    holm_adjust,
    is_quantile_metric,
    metric_unit,
    paired_differences,
    replications_needed,
    t_interval,
    t_p_value,
)
from govsim.metrics import summary_keys

ROOT = Path(__file__).resolve().parents[1]
SMART = str(ROOT / "scenarios" / "smart_dispatch.yaml")
TINY = {"horizon": "1d", "territory.rows": 2, "territory.cols": 2}  # 4 grids, one day: ~30 ms a run
ALPHA = 0.05

#: The scenario of tests/test_experiments_coverage.py: after a 12-hour warm-up, ``n_issues`` is
#: Poisson with mean 30 (variance 30).
POISSON = {
    "name": "poisson_counts",
    "horizon": "2d",
    "territory": {"rows": 1, "cols": 1, "points_per_grid": 1, "households": 1000},
    "channels": {"patrol": False, "reports": {"enabled": False},
                 "sensors": {"enabled": True, "coverage": 1.0, "false_alarms_per_day": 20}},
    "categories": {"noise": {"rate": 20, "profile": "flat"}},
}


def binomial_upper(families: int, rate: float, level: float = 0.999) -> int:
    """The count of ``families`` with a false rejection that a rate of ``rate`` exceeds with
    probability at most ``1 − level``."""
    return int(st.binom.ppf(level, families, rate))


def clopper_pearson_low(hits: int, total: int, level: float = 0.999) -> float:
    """One-sided lower confidence bound of a binomial proportion."""
    return float(st.beta.ppf(1 - level, hits, total - hits + 1)) if hits else 0.0


# --------------------------------------------------------------------------- Holm


def test_holm_by_hand() -> None:
    # p = 0.01, 0.04, 0.03, 0.005 (m = 4). Sorted: 0.005, 0.01, 0.03, 0.04, multiplied by
    # 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04; running maximum: 0.02, 0.03, 0.06, 0.06.
    assert holm_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # Holm rejects more than Bonferroni: 0.001, 0.013, 0.014 → 0.004, 0.039, 0.039 < 0.05,
    # where Bonferroni (× 4) keeps only 0.001.
    adjusted = holm_adjust([0.001, 0.013, 0.014, 0.5])
    assert adjusted == pytest.approx([0.004, 0.039, 0.039, 0.5])
    assert (adjusted < ALPHA).sum() == 3 and (np.array([0.001, 0.013, 0.014, 0.5]) * 4 < ALPHA).sum() == 1
    # NaN (no test) is not counted in m; ties keep their order; capped at 1.
    with_nan = holm_adjust([0.01, math.nan, 0.04])
    assert with_nan[0] == pytest.approx(0.02) and math.isnan(with_nan[1]) and with_nan[2] == pytest.approx(0.04)
    assert holm_adjust([0.02, 0.02]) == pytest.approx([0.04, 0.04])
    assert holm_adjust([0.6, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm_adjust([]).size == 0
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm_adjust([0.5, 1.2])


def test_t_p_value_is_the_interval_inverted() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        x = rng.normal(0.4, 1.0, size=int(rng.integers(3, 15)))
        p = t_p_value(x)
        assert p == pytest.approx(st.ttest_1samp(x, 0.0).pvalue)
        ci = t_interval(x, 1 - p)  # at level 1 − p, the interval touches 0
        assert min(abs(ci["ci_low"]), abs(ci["ci_high"])) == pytest.approx(0.0, abs=1e-9)
        excludes = t_interval(x, 0.95)
        assert (p < ALPHA) == (excludes["ci_low"] > 0 or excludes["ci_high"] < 0)
    assert math.isnan(t_p_value([0.0, 0.0, 0.0]))  # identical runs: nothing to test
    assert t_p_value([2.0, 2.0, 2.0]) == 0.0  # the same shift every time: certain
    assert math.isnan(t_p_value([1.0])) and math.isnan(t_p_value([1.0, math.nan]))


def _correlated_normal(rng: np.random.Generator, shape: tuple[int, ...], m: int, rho: float) -> np.ndarray:
    """Normal vectors of ``m`` metrics, each of variance 1, pairwise correlation ``rho``."""
    common = rng.standard_normal((*shape, 1))
    own = rng.standard_normal((*shape, m))
    return math.sqrt(rho) * common + math.sqrt(1 - rho) * own


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_holm_keeps_the_family_wise_error_rate_on_a_a_families(rho: float) -> None:
    """4,000 A/A families of m = 20 metrics (pairwise correlation rho) and n = 10 pairs: both
    sides drawn from the same distribution, so any "significant" metric is a false positive.
    The family-wise error rate of Holm must be at most 5%: the count of families with a false
    positive may not exceed what a rate of exactly 5% gives with probability 0.1%
    (Bin(4000, 0.05): 200 expected, the bound is 239). Independent metrics (rho = 0) are
    Holm's worst case (FWER 1 − (1 − 0.05/20)^20 = 4.9%). Unadjusted, the rate is far above
    5% (64% for independent metrics): its 99.9% lower bound must exceed 5%."""
    families, m, n = 4000, 20, 10
    rng = np.random.default_rng(20260 + int(rho * 10))
    a = _correlated_normal(rng, (n, families), m, rho)
    b = _correlated_normal(rng, (n, families), m, rho)
    d = b - a
    p = st.ttest_1samp(d, 0.0, axis=0).pvalue  # (families, m): the paired t-test of t_p_value
    for f in range(5):  # the same as the code that builds Comparison.table
        assert p[f, 3] == pytest.approx(t_p_value(d[:, f, 3]))
    holm = sum(bool((holm_adjust(p[f]) < ALPHA).any()) for f in range(families))
    unadjusted = int((p < ALPHA).any(axis=1).sum())
    print(f"\nrho={rho}: FWER Holm {holm / families:.4f}, unadjusted {unadjusted / families:.4f} "
          f"over {families} A/A families of {m} metrics")
    assert holm <= binomial_upper(families, ALPHA)
    assert clopper_pearson_low(unadjusted, families) > 2 * ALPHA

    # The same decisions through paired_differences (tables of runs, metric by metric).
    names = [f"metric_{j}" for j in range(m)]
    for f in range(40):
        side_a = pd.DataFrame(a[:, f, :], columns=names).assign(replication=np.arange(n))
        side_b = pd.DataFrame(b[:, f, :], columns=names).assign(replication=np.arange(n))
        table = paired_differences(side_a, side_b, names)
        assert table["p_value"].to_numpy() == pytest.approx(p[f])
        assert table["significant"].tolist() == (holm_adjust(p[f]) < ALPHA).tolist()
        assert table["significant_unadjusted"].tolist() == (p[f] < ALPHA).tolist()


def _comparison(table_a: pd.DataFrame, table_b: pd.DataFrame, metrics: list[str], n: int,
                seed: int | None = None) -> Comparison:
    table = paired_differences(table_a, table_b, metrics, bootstrap_seed=seed).assign(scenario="new")
    table = table[["scenario", *table.columns[:-1]]]
    runs = pd.concat([table_a.assign(scenario="old"), table_b.assign(scenario="new")], ignore_index=True)
    return Comparison(["old", "new"], [None, None], runs, table, pd.DataFrame(), n, 1, 0.95, {}, None)


def test_comparison_significant_chooses_the_family_and_the_correction() -> None:
    # Differences built to have known p-values: d = c + z with z of mean 0 and sd 1, n = 8,
    # so t = c·sqrt(8). on_time_rate: p = 0.02 (significant alone; Holm over 4 metrics makes it
    # 0.02 × 3 = 0.06, not significant; over a family of 2 chosen in advance, 0.02 again).
    n = 8
    z = np.linspace(-1.0, 1.0, n)
    z = z / z.std(ddof=1)
    c = st.t.isf(0.01, n - 1) / math.sqrt(n)
    metrics = ["resolution_time_mean", "on_time_rate", "worker_utilisation", "n_issues", "backlog_end"]
    a = pd.DataFrame({m: np.full(n, 10.0) + np.arange(n) % 3 for m in metrics}).assign(replication=np.arange(n))
    b = a.copy()
    b["resolution_time_mean"] += 3 + 0.3 * z  # clearly different
    b["on_time_rate"] += c + z
    b["worker_utilisation"] += 0.2 + z[::-1]
    b["backlog_end"] += -0.1 + np.roll(z, 3)
    cmp = _comparison(a, b, metrics, n)
    t = cmp.table.set_index("metric")
    assert math.isnan(t.loc["n_issues", "p_value"])  # identical: not in the family
    family = t["p_value"].dropna()
    assert len(family) == 4
    assert t.loc["on_time_rate", "p_value"] == pytest.approx(0.02)
    assert t.loc["on_time_rate", "p_holm"] == pytest.approx(0.06)
    assert cmp.significant() == ["resolution_time_mean"] == t.index[t["significant"]].tolist()
    assert cmp.significant(correction=None) == ["resolution_time_mean", "on_time_rate"]
    assert cmp.significant(correction=None) == t.index[t["significant_unadjusted"]].tolist()
    # A family of two chosen in advance: on_time_rate survives Holm over 2, not over 4.
    pair = ["resolution_time_mean", "on_time_rate"]
    assert holm_adjust(family[pair].to_numpy())[1] == pytest.approx(0.02)
    assert cmp.significant(metrics=pair) == pair
    assert cmp.significant("new", metrics="on_time_rate") == ["on_time_rate"]  # a family of one
    with pytest.raises(ExperimentError, match="did you mean 'on_time_rate'"):
        cmp.significant(metrics=["on_time_rat"])
    with pytest.raises(ExperimentError, match="'holm' or None"):
        cmp.significant(correction="bonferroni")
    with pytest.raises(ExperimentError, match="not compared"):
        cmp.significant("old")
    text = cmp.to_string()
    assert "* = significant after Holm's correction over the 4 metrics with a p-value" in text
    assert "family-wise error rate <= 5%" in text


def _a_a_rejections(a: pd.DataFrame, b: pd.DataFrame, size: int, seed: int) -> tuple[int, int, int, float]:
    """A/A families of ``size`` replications taken in disjoint blocks from two sides run with
    different master seeds: families, those with a Holm rejection, with an unadjusted one, and
    the mean family size (metrics with a p-value)."""
    keys = list(summary_keys())
    families = min(len(a), len(b)) // size
    holm = unadjusted = 0
    sizes = []
    for f in range(families):
        block = slice(f * size, (f + 1) * size)
        table = paired_differences(a.iloc[block], b.iloc[block], keys, bootstrap_seed=seed + f)
        holm += bool(table["significant"].any())
        unadjusted += bool(table["significant_unadjusted"].any())
        sizes.append(int(table["p_value"].notna().sum()))
    return families, holm, unadjusted, float(np.mean(sizes))


def test_holm_on_simulated_a_a_comparisons() -> None:
    """The smart-dispatch district shrunk to 4 grids and one day, run 500 times with master seed
    11 and 500 times with seed 12: 100 A/A families of 5 replications per side (replications
    5k..5k+4 of each seed), disjoint, so independent. The scenario is the same on both sides,
    every difference is chance; about 18 metrics per family have a p-value. With a rate of
    5%, more than 12 families with a Holm rejection has probability below 0.1%; unadjusted,
    about a third of the families have one (measured: 30% over 120 families)."""
    n_runs, size = 500, 5
    a = govsim.replicate(SMART, n=n_runs, seed=11, overrides=TINY, progress=False).runs
    b = govsim.replicate(SMART, n=n_runs, seed=12, overrides=TINY, progress=False).runs
    families, holm, unadjusted, size_mean = _a_a_rejections(a, b, size, seed=1)
    print(f"\nsimulated A/A: FWER Holm {holm}/{families}, unadjusted {unadjusted}/{families}; "
          f"{size_mean:.1f} metrics with a p-value per family")
    assert size_mean > 10
    assert holm <= binomial_upper(families, ALPHA)
    assert clopper_pearson_low(unadjusted, families) > ALPHA


@pytest.mark.slow
def test_holm_on_simulated_a_a_comparisons_large() -> None:
    """As above with 500 families of 10 replications per side (10,000 runs): the percentile
    metrics then have bootstrap p-values. Bin(500, 0.05) exceeds 37 with probability < 0.1%."""
    n_runs, size = 5000, 10
    a = govsim.replicate(SMART, n=n_runs, seed=21, overrides=TINY, progress=False).runs
    b = govsim.replicate(SMART, n=n_runs, seed=22, overrides=TINY, progress=False).runs
    families, holm, unadjusted, size_mean = _a_a_rejections(a, b, size, seed=2)
    print(f"\nsimulated A/A (large): FWER Holm {holm}/{families} = {holm / families:.4f}, "
          f"unadjusted {unadjusted}/{families} = {unadjusted / families:.4f}; "
          f"{size_mean:.1f} metrics with a p-value per family")
    assert holm <= binomial_upper(families, ALPHA)
    assert clopper_pearson_low(unadjusted, families) > ALPHA


@pytest.mark.slow
def test_holm_with_bootstrap_p_values_keeps_the_family_wise_error_rate() -> None:
    """1,000 synthetic A/A families of 12 metrics, 6 of them percentile metrics (bootstrap
    p-values from 10 pairs), skewed (lognormal) and correlated: Holm's FWER at most 5%
    (Bin(1000, 0.05) exceeds 68 with probability < 0.1%)."""
    families, n = 1000, 10
    names = [f"time_{j}_p90" for j in range(6)] + [f"time_{j}_mean" for j in range(6)]
    rng = np.random.default_rng(77)
    holm = 0
    for f in range(families):
        a = np.exp(0.5 * _correlated_normal(rng, (n,), len(names), 0.3))
        b = np.exp(0.5 * _correlated_normal(rng, (n,), len(names), 0.3))
        table = paired_differences(pd.DataFrame(a, columns=names).assign(replication=np.arange(n)),
                                   pd.DataFrame(b, columns=names).assign(replication=np.arange(n)),
                                   names, bootstrap_seed=f)
        assert (table["interval"] == ["bootstrap"] * 6 + ["t"] * 6).all()
        holm += bool(table["significant"].any())
    print(f"\nbootstrap and t p-values: FWER Holm {holm}/{families}")
    assert holm <= binomial_upper(families, ALPHA)


# --------------------------------------------------------------------------- bootstrap

#: Per replication, 20 issue times in whole hours (an exponential of mean 3 h rounded up) and
#: the 18th smallest, the run's 90th percentile: skewed and lumpy, like resolution_time_p90.
#: Its mean is exactly E[X_(18)] = Σ_{t≥0} P(Bin(20, F(t)) ≤ 17), F(t) = 1 − exp(−t/3).
ISSUES, ORDER, HOURS = 20, 18, 3.0
TRUE_P90 = float(np.sum(st.binom.cdf(ORDER - 1, ISSUES, 1 - np.exp(-np.arange(400) / HOURS))))


def _p90_runs(rng: np.random.Generator, n: int) -> np.ndarray:
    times = np.ceil(rng.exponential(HOURS, size=(n, ISSUES)))
    return np.sort(times, axis=1)[:, ORDER - 1]


def test_the_known_percentile_is_right() -> None:
    big = _p90_runs(np.random.default_rng(5), 200_000)
    assert big.mean() == pytest.approx(TRUE_P90, abs=4 * big.std() / math.sqrt(big.size))
    assert st.skew(big) > 0.5 and len(np.unique(big)) < 30  # skewed and lumpy


def test_bootstrap_interval_covers_a_known_percentile() -> None:
    """1,000 experiments of n = 20 replications. The expanded BCa interval's own coverage on
    these data is 94.2% (Monte Carlo, 4,000 experiments: 2.6% of the intervals miss below, 3.2%
    above; Student-t 94.1% with 1.7% / 4.3%; plain BCa 92.0%). Binomial sd over 1,000:
    0.74%; the band 92%–96.5% is −3.0 / +3.1 sd around 94.2%."""
    rng = np.random.default_rng(2027)
    experiments, n = 1000, 20
    hits = below = 0
    for _ in range(experiments):
        ci = bootstrap_interval(_p90_runs(rng, n), rng=rng, p_value=False)
        hits += ci["ci_low"] <= TRUE_P90 <= ci["ci_high"]
        below += TRUE_P90 < ci["ci_low"]
    coverage = hits / experiments
    print(f"\nbootstrap coverage {coverage:.3f} (misses below {below / experiments:.3f}) over "
          f"{experiments} experiments of n={n}")
    assert 0.92 <= coverage <= 0.965


def test_expanded_level_makes_normal_data_student_t() -> None:
    for n in (5, 10, 20, 40):
        level = expanded_confidence(0.95, n)
        z = st.norm.ppf(0.5 + level / 2)
        assert z * math.sqrt((n - 1) / n) == pytest.approx(st.t.ppf(0.975, n - 1))
    assert expanded_confidence(0.95, 10) > expanded_confidence(0.95, 40) > 0.95
    with pytest.raises(ValueError):
        expanded_confidence(0.95, 1)


def test_bootstrap_is_reproducible_and_seeded_from_the_master_seed() -> None:
    rng = np.random.default_rng(4)
    runs = pd.DataFrame({"replication": np.arange(12), "resolution_time_p90": _p90_runs(rng, 12),
                         "resolution_time_mean": rng.normal(5, 1, 12)})
    metrics = ["resolution_time_p90", "resolution_time_mean"]
    one = aggregate(runs, metrics, bootstrap_seed=7)
    pd.testing.assert_frame_equal(one, aggregate(runs, metrics, bootstrap_seed=7), check_exact=True)
    other = aggregate(runs, metrics, bootstrap_seed=8)
    plain = aggregate(runs, metrics)  # no seed: Student-t everywhere, as before
    assert one.loc[0, "ci_low"] != other.loc[0, "ci_low"]  # the bootstrap row follows the seed
    assert one.loc[1].equals(other.loc[1]) and one.loc[1].equals(plain.loc[1])  # the t row does not
    t = t_interval(runs["resolution_time_p90"])
    assert plain.loc[0, "ci_low"] == t["ci_low"] and one.loc[0, "ci_low"] != t["ci_low"]
    assert one.loc[0, "half_width"] == pytest.approx((one.loc[0, "ci_high"] - one.loc[0, "ci_low"]) / 2)
    # Fewer than BOOTSTRAP_MIN_N replications: Student-t.
    few = aggregate(runs.iloc[:BOOTSTRAP_MIN_N - 1], metrics, bootstrap_seed=7)
    assert few.loc[0, "ci_low"] == t_interval(runs["resolution_time_p90"].iloc[:BOOTSTRAP_MIN_N - 1])["ci_low"]
    # Generators: the same key, the same stream; another key, another.
    assert bootstrap_rng(1, "mean", 0, "x").random() == bootstrap_rng(1, "mean", 0, "x").random()
    assert bootstrap_rng(1, "mean", 0, "x").random() != bootstrap_rng(1, "mean", 1, "x").random()


def test_bootstrap_p_value_inverts_its_interval() -> None:
    rng = np.random.default_rng(6)
    for shift in (0.3, 0.8, 1.5):
        d = _p90_runs(rng, 12) - _p90_runs(rng, 12) + shift
        ci = bootstrap_interval(d, rng=bootstrap_rng(1, "d", str(shift)))
        p = ci["p_value"]
        assert 0 < p < 1
        assert (p < ALPHA) == (ci["ci_low"] > 0 or ci["ci_high"] < 0)
        # Just below and above level 1 − p (same resamples): the interval excludes 0, then not.
        wider = bootstrap_interval(d, 1 - p * 0.98, rng=bootstrap_rng(1, "d", str(shift)), p_value=False)
        narrower = bootstrap_interval(d, 1 - p * 1.02, rng=bootstrap_rng(1, "d", str(shift)), p_value=False)
        assert wider["ci_low"] <= 0 <= wider["ci_high"]
        assert not narrower["ci_low"] <= 0 <= narrower["ci_high"]


def test_replicate_uses_the_bootstrap_for_percentile_metrics() -> None:
    rep = govsim.replicate(SMART, n=BOOTSTRAP_MIN_N, seed=3, overrides=TINY, executor="sequential")
    again = govsim.replicate(SMART, n=BOOTSTRAP_MIN_N, seed=3, overrides=TINY, executor="sequential")
    pd.testing.assert_frame_equal(rep.table, again.table, check_exact=True)
    quantiles = [m for m in summary_keys() if is_quantile_metric(m)]
    assert quantiles == ["discovery_delay_p50", "discovery_delay_p90", "response_time_p90",
                         "resolution_time_p50", "resolution_time_p90"]
    assert set(rep.methods[rep.methods == "bootstrap"].index) <= set(quantiles)
    assert rep.methods["resolution_time_p90"] == "bootstrap" and rep.methods["resolution_time_mean"] == "t"
    text = rep.to_string()
    assert "BCa bootstrap for the percentile metrics" in text and "interval" in text.splitlines()[1]
    few = govsim.replicate(SMART, n=3, seed=3, overrides=TINY, executor="sequential")
    assert (few.methods == "t").all() and "bootstrap" not in few.to_string()


# --------------------------------------------------------------------------- units, change


def test_every_built_in_metric_has_a_unit() -> None:
    for m in summary_keys():
        assert metric_unit(m) != "", m
    assert metric_unit("on_time_rate") == "share" and metric_unit("worker_utilisation") == "share"
    assert metric_unit("resolution_time_p90") == "h" and metric_unit("n_issues") == "count"
    assert metric_unit("my_mechanism_rate") == "share" and metric_unit("n_cats") == "count"
    assert metric_unit("mood_index") == ""  # unknown: no guess


def test_printed_comparison_shows_percentage_points_hours_and_relative_change() -> None:
    n = 6
    a = pd.DataFrame({"replication": np.arange(n), "on_time_rate": [0.80, 0.82, 0.78, 0.81, 0.79, 0.80],
                      "resolution_time_mean": [5.0, 5.5, 4.5, 5.2, 4.8, 5.0],
                      "n_issues": [100.0, 110, 90, 105, 95, 100]})
    b = a.assign(on_time_rate=a["on_time_rate"] + 0.032, resolution_time_mean=a["resolution_time_mean"] - 1.25)
    cmp = _comparison(a, b, ["on_time_rate", "resolution_time_mean", "n_issues"], n)
    rows = {line.split()[0]: line for line in cmp.to_string().splitlines()[2:5]}
    assert "80%" in rows["on_time_rate"] and "83.2%" in rows["on_time_rate"]
    assert rows["on_time_rate"].count("+3.2 pp") == 3  # difference and both ends: no spread
    assert "-1.25 h" in rows["resolution_time_mean"] and "5 h" in rows["resolution_time_mean"]
    # 0.032 / 0.80: a relative change, its interval from the uncertain baseline mean (Fieller)
    low, high = fieller_change(a["on_time_rate"], b["on_time_rate"])
    assert f"+4.0% [{low:+.1%}, {high:+.1%}]" in rows["on_time_rate"] and low < 0.04 < high
    assert rows["n_issues"].split()[1:4] == ["100", "100", "0"]
    t = cmp.table.set_index("metric")
    assert t.loc["on_time_rate", "unit"] == "share" and t.loc["on_time_rate", "difference"] == pytest.approx(0.032)
    assert "relative change (difference ÷ |old mean|)" in cmp.to_string()


def test_fieller_interval_of_the_relative_change_covers_the_truth() -> None:
    """Pairs (a, b) normal with means 10 and 11 (relative change +10%), sd 2, correlation 0.8,
    n = 8: Fieller's interval is exact for normal pairs; over 2,000 experiments its coverage
    must be 95% ± 1.5 points (binomial sd 0.49%: ±3 sd)."""
    rng = np.random.default_rng(10)
    cov = 4.0 * np.array([[1.0, 0.8], [0.8, 1.0]])
    hits = 0
    for _ in range(2000):
        pairs = rng.multivariate_normal([10.0, 11.0], cov, size=8)
        low, high = fieller_change(pairs[:, 0], pairs[:, 1])
        hits += low <= 0.1 <= high
    assert 0.935 <= hits / 2000 <= 0.965
    # Normal pairs, many of them: the paired bootstrap agrees with Fieller.
    pairs = rng.multivariate_normal([10.0, 11.0], cov, size=60)
    boot = bootstrap_change(pairs[:, 0], pairs[:, 1], rng=bootstrap_rng(1, "c"))
    assert boot == pytest.approx(fieller_change(pairs[:, 0], pairs[:, 1]), abs=0.01)
    # A baseline mean not clearly away from 0: the ratio is unbounded, said as NaN.
    assert all(math.isnan(v) for v in fieller_change([-1.0, 1.0, 0.5, -0.4], [1.0, 2.0, 1.0, 0.0]))
    assert fieller_change([-2.0, -2.0], [-1.0, -1.0]) == pytest.approx((0.5, 0.5))  # ÷ |mean|


# --------------------------------------------------------------------------- how many replications


def test_replications_needed_by_hand() -> None:
    # half-width 1 at n = 10: sd = 1 · sqrt(10) / t(9) = 1.3979. For a half-width of 0.5:
    # t(31) · 1.3979 / sqrt(32) = 0.5040 > 0.5; t(32) · 1.3979 / sqrt(33) = 0.4957 <= 0.5.
    assert replications_needed(1.0, 10, 0.5) == 33
    sd = math.sqrt(10) / st.t.ppf(0.975, 9)
    assert st.t.ppf(0.975, 31) * sd / math.sqrt(32) > 0.5 >= st.t.ppf(0.975, 32) * sd / math.sqrt(33)
    assert replications_needed(1.0, 10, 2.0) <= 10  # met already
    assert replications_needed(0.0, 10, 0.1) == 2
    for bad in ((1.0, 1, 0.5), (-1.0, 10, 0.5), (1.0, 10, 0.0), (math.nan, 10, 0.5)):
        with pytest.raises(ValueError):
            replications_needed(*bad)


def _auto_on_normal_data(seed: int) -> tuple[int, pd.DataFrame]:
    """``_run_auto`` (the procedure of n="auto") on normal replications of mean 30, variance 30."""
    data = np.random.default_rng(seed).normal(30.0, math.sqrt(30.0), size=200)

    def run(count: int, first: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
        runs = pd.DataFrame({"replication": np.arange(count), "x": data[:count]})
        table = aggregate(runs, ["x"])
        return table, _precision_table(table, ["x"], 0.05, "mean", 0.95)

    _, check, n = _run_auto(run, 0.05, 200, 10)
    return n, check


def test_auto_needs_the_replications_the_variance_says() -> None:
    """Variance 30, mean 30, precision 5%: the half-width t(n−1)·sqrt(30/n) reaches 1.5 at
    n* = 54. Over 20,000 simulated uses the procedure stops at a median of 56 replications
    (mean 55.5, sd 12.4; 0.1% and 99.9% quantiles 10 and 86). Over 60 uses the mean must be
    55.5 ± 3 × 12.4/sqrt(60) = 55.5 ± 4.8; each use ends with its half-width within 5% of
    its mean."""
    n_star = next(n for n in range(2, 200) if st.t.ppf(0.975, n - 1) * math.sqrt(30 / n) <= 1.5)
    assert n_star == 54
    uses = [_auto_on_normal_data(seed) for seed in range(60)]
    ns = np.array([n for n, _ in uses])
    assert all(check["reached"].all() for _, check in uses)
    assert all((check["half_width"] <= 0.05 * check["mean"].abs()).all() for _, check in uses)
    assert abs(ns.mean() - 55.5) <= 4.8, ns.mean()


def test_replicate_auto_on_a_known_variance() -> None:
    scenario = govsim.load_scenario(POISSON)
    rep = govsim.replicate(scenario, n="auto", precision=0.05, metrics=["n_issues"], seed=5,
                           warmup="12h", executor="sequential")
    check = rep.precision.set_index("metric").loc["n_issues"]
    assert 10 <= rep.n <= 86  # the procedure's 0.1%–99.9% range for this variance (above)
    assert check["reached"] and check["half_width"] <= 0.05 * check["mean"]
    assert rep.info["computed"] == rep.n  # the pilot's replications were reused, not rerun
    plain = govsim.replicate(scenario, n=rep.n, seed=5, warmup="12h", executor="sequential")
    pd.testing.assert_frame_equal(rep.table, plain.table, check_exact=True)
    assert f"n=auto: {rep.n} replications (pilot 10, at most 200)" in rep.to_string()
    assert "reached: n_issues" in rep.note


def test_auto_stops_at_max_n_and_says_so(tmp_path) -> None:
    rep = govsim.replicate(SMART, n="auto", precision=0.001, max_n=12, pilot=6, seed=1,
                           overrides=TINY, executor="sequential", out=tmp_path / "store")
    assert rep.n == 12 and len(rep.runs) == 12
    assert not rep.precision["reached"].any()
    assert list(rep.precision["metric"]) == list(HEADLINE_METRICS)
    assert "NOT reached (stopped at max_n)" in rep.note and rep.note in rep.to_string()
    assert rep.info["computed"] == 12  # 6, then 6 more (at most twice as many per step)
    assert (tmp_path / "store" / "table.csv").exists()


def test_compare_auto_judges_the_differences() -> None:
    cmp = govsim.compare([SMART, SMART], n="auto", precision=0.5, seed=1, overrides=TINY,
                         metrics=["resolution_time_mean"], executor="sequential")
    assert cmp.n == 10  # the same scenario on the same seeds: differences of 0, reached at once
    assert cmp.precision["reached"].all() and (cmp.precision["half_width"] == 0).all()
    assert "half-widths of the differences <= 0.5 × |A: smart_dispatch mean|" in cmp.note


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"precision": 0}, "between 0 and 1"),
    ({"precision": 5}, "between 0 and 1"),
    ({"precision": "5%"}, "between 0 and 1"),
    ({"metrics": ["on_time_rat"]}, "did you mean 'on_time_rate'"),
    ({"metrics": []}, "empty"),
    ({"max_n": 1}, "max_n"),
    ({"pilot": 20, "max_n": 10}, "larger than max_n"),
])
def test_auto_bad_input(kwargs, message) -> None:
    with pytest.raises(ExperimentError, match=message):
        govsim.replicate(SMART, n="auto", overrides=TINY, **kwargs)


def test_cli_auto_and_precision(capsys) -> None:
    short = ["--set", "horizon=1d", "--set", "territory.rows=2", "--set", "territory.cols=2"]
    assert main(["run", SMART, "-n", "auto", "--precision", "60%", "--seed", "2", *short, "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "n=auto: 10 replications (pilot 10, at most 200) for half-widths <= 0.6 × |mean|" in out
    assert main(["run", SMART, "-n", "3", "--precision", "5%", *short]) == 2
    assert "--precision sets the target of -n auto" in capsys.readouterr().err
    for bad in ("0%", "150%", "fast"):
        with pytest.raises(SystemExit) as exc:
            main(["run", SMART, "-n", "auto", "--precision", bad])
        assert exc.value.code == 2
        assert "share of the mean" in capsys.readouterr().err
    assert main(["compare", SMART, SMART, "-n", "auto", "--precision", "50%", *short, "--quiet",
                 "--jobs", "1"]) == 0
    assert "half-widths of the differences <= 0.5" in capsys.readouterr().out
