from __future__ import annotations

import pytest

from govsim.distributions import DistributionError, parse_distribution
from govsim.suggest import closest, did_you_mean

KEYS = ["per_grid", "speed_kmh", "dwell", "shifts", "route"]


# --------------------------------------------------------------------------- closest


def test_closest_finds_a_misspelling() -> None:
    assert closest("spede_kmh", KEYS) == ["speed_kmh"]
    assert closest("zzz", KEYS) == []
    assert closest("route", []) == []


def test_closest_respects_n_and_cutoff() -> None:
    metrics = ["resolution_rate", "resolution_time_mean", "resolution_time_p90", "on_time_rate"]
    assert closest("resolution_time", metrics, n=3) == [
        "resolution_time_p90", "resolution_rate", "resolution_time_mean"]
    assert closest("resolution_time", metrics) == ["resolution_time_p90"]
    assert closest("resolution_time", metrics, n=3, cutoff=0.9) == []


def test_closest_ties_are_broken_by_the_larger_string() -> None:
    # difflib's order: best ratio first, then the larger string; the order of choices does not matter
    assert closest("abc", ["abx", "aby"]) == ["aby"]
    assert closest("abc", ["aby", "abx"]) == ["aby"]


def test_a_word_that_is_not_a_string_has_no_suggestion() -> None:
    assert closest(5, ["5", "50"]) == []
    assert closest(None, ["None"]) == []
    assert did_you_mean(1.5, ["1.5"]) == ""


def test_case_sensitive_by_default() -> None:
    assert closest("SPEED_KMH", KEYS) == []


def test_exact_first_prefers_the_same_word_in_another_case() -> None:
    # as written, "ROUTE" is closest to "ROUTES"; "route" differs from it only in case
    assert closest("ROUTE", ["route", "ROUTES"]) == ["ROUTES"]
    assert closest("ROUTE", ["route", "ROUTES"], case="exact_first") == ["route"]
    assert closest("SPEED_KMH", KEYS, case="exact_first") == ["speed_kmh"]
    assert closest("SPEED_KM", KEYS, case="exact_first") == []  # otherwise case-sensitive


def test_fold_fallback_compares_lower_case_only_when_nothing_is_close() -> None:
    roles = ["created", "closed", "category", "status"]
    assert closest("STATUS", roles) == []
    assert closest("STATUS", roles, case="fold_fallback") == ["status"]
    assert closest("Creatd", roles, case="fold_fallback") == ["created"]  # found as written
    assert closest("sTaTuS", ["Status"], case="fold_fallback") == ["Status"]  # returned as written


# --------------------------------------------------------------------------- did_you_mean


def test_did_you_mean_styles() -> None:
    assert did_you_mean("nosie", ["noise", "litter"]) == " (did you mean 'noise'?)"
    assert did_you_mean("nosie", ["noise", "litter"], style="clause") == "; did you mean 'noise'?"
    assert did_you_mean("zzz", ["noise", "litter"]) == ""
    assert did_you_mean("zzz", ["noise", "litter"], style="clause") == ""


def test_did_you_mean_names_every_close_choice() -> None:
    hint = did_you_mean("n_issue", ["n_issues", "n_issues_per_day", "n_closed"], style="clause", n=3)
    assert hint == "; did you mean 'n_issues', 'n_issues_per_day'?"  # 'n_closed' is not close


def test_did_you_mean_passes_case_on() -> None:
    assert did_you_mean("STATUS", ["status"], style="clause", case="fold_fallback") == "; did you mean 'status'?"


def test_choices_may_be_any_iterable() -> None:
    assert did_you_mean("dwel", {"dwell": 1, "route": 2}) == " (did you mean 'dwell'?)"
    assert closest("dwel", (k for k in KEYS)) == ["dwell"]


# --------------------------------------------------------------------------- in messages


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"dist": "lognormla", "mean": 1, "sd": 1},
         "dist: unknown distribution 'lognormla' (expected one of: empirical, exponential, fixed, gamma, "
         "lognormal, triangular, uniform, weibull, zero_inflated); did you mean 'lognormal'?"),
        ({"dist": "lognormal", "mean": 1, "sdd": 1},
         "unknown parameter 'sdd' for lognormal (expected: mean, sd); did you mean 'sd'?"),
    ],
)
def test_distribution_messages_use_the_clause_style(spec: dict[str, object], message: str) -> None:
    with pytest.raises(DistributionError) as info:
        parse_distribution(spec)
    assert str(info.value) == message
