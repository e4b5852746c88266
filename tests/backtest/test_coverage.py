"""Coverage tests against closed forms, binomial zone tables and seeded simulations.

Reference values: Kupiec LR for 0 exceptions in 250 days at 99% is
``-500 ln(0.99) = 5.0252`` (issue 7); the Basel traffic-light table at N = 250
(green 0-4, yellow 5-9, red from 10) is BCBS (1996), Table 2. Zones at other N
are recomputed here from ``scipy.stats.binom`` with an explicit loop.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research._random import as_generator
from research.backtest import (
    ChristoffersenTest,
    CoverageTest,
    TrafficLight,
    christoffersen,
    kupiec,
    traffic_light,
    traffic_light_zones,
)
from research.errors import DataError, InsufficientDataError, SpecificationError

CLOSED_FORM_TOL = 1e-10
"""Closed-form identities: only floating-point rounding separates the two sides."""
PUBLISHED_4DP_TOL = 5e-5
"""A reference value published with 4 decimals is exact to half a unit in the 4th decimal."""
N_REPS = 2000
"""Simulated test periods (one seed each) in the size/power checks."""
MC_SIGMAS = 4.0
"""Monte-Carlo tolerance: 4 binomial standard errors of a rejection frequency over N_REPS."""


def _mc_tol(prob: float, reps: int = N_REPS) -> float:
    return MC_SIGMAS * math.sqrt(prob * (1.0 - prob) / reps)


# ---------------------------------------------------------------- Kupiec


def test_kupiec_zero_exceptions_reference():
    res = kupiec(0, 250, level=0.99)
    assert res.statistic == pytest.approx(5.0252, abs=PUBLISHED_4DP_TOL)
    assert res.statistic == pytest.approx(-500.0 * math.log(0.99), abs=CLOSED_FORM_TOL)
    assert res.reject(0.05)
    assert not res.reject(0.01)
    assert res.decision == "reject H0 (too few exceptions)"
    assert res.direction == "too few"


def test_kupiec_is_two_sided_and_names_the_direction():
    many = kupiec(9, 250, level=0.99)
    assert many.reject(0.05)
    assert many.direction == "too many"
    assert many.decision == "reject H0 (too many exceptions)"
    assert many.to_series()["direction"] == "too many"
    assert many.expected == pytest.approx(2.5)
    calm = kupiec(3, 250, level=0.99)
    assert calm.direction == "too many"
    assert calm.decision == "do not reject H0"
    assert "too many" in str(many)


@pytest.mark.parametrize(
    ("exceptions", "observations", "level"),
    [(1, 250, 0.99), (2, 250, 0.99), (7, 250, 0.99), (40, 1000, 0.975), (250, 250, 0.99)],
)
def test_kupiec_matches_closed_form(exceptions, observations, level):
    p, x, n = 1.0 - level, exceptions, observations
    phat = x / n
    null = (n - x) * math.log(1 - p) + x * math.log(p)
    alt = (n - x) * (math.log(1 - phat) if phat < 1 else 0.0) + x * math.log(phat)
    expected = -2.0 * (null - alt)
    res = kupiec(exceptions, observations, level=level)
    assert res.statistic == pytest.approx(expected, abs=CLOSED_FORM_TOL)
    assert res.pvalue == pytest.approx(stats.chi2.sf(expected, 1), abs=CLOSED_FORM_TOL)
    assert (res.df, res.exceptions, res.observations, res.level) == (1, x, n, level)


@pytest.mark.parametrize("exceptions", [0, 1, 2, 5, 6, 7, 12])
def test_critical_values_agree_with_pvalue(exceptions):
    res = kupiec(exceptions, 250)
    assert res.critical_values["5%"] == pytest.approx(3.841459, abs=5e-7)  # chi2(1) 95%
    for label, size in (("10%", 0.10), ("5%", 0.05), ("1%", 0.01)):
        assert (res.statistic > res.critical_values[label]) == res.reject(size)
    cc = christoffersen(_two_hits(1)).conditional_coverage
    assert cc.critical_values["5%"] == pytest.approx(5.991465, abs=5e-7)  # chi2(2) 95%


def test_kupiec_at_expected_rate_is_zero():
    res = kupiec(25, 1000, level=0.975)
    assert res.statistic == pytest.approx(0.0, abs=CLOSED_FORM_TOL)
    # 1 - level is inexact in binary, and chi2(1).sf(x) ~ 1 - sqrt(2x/pi) amplifies the
    # ~1e-14 residue of the statistic to ~1e-7 in the p-value
    assert res.pvalue > 1.0 - 1e-6


def test_coverage_test_is_frozen_and_printable():
    res = kupiec(3, 250)
    assert isinstance(res, CoverageTest)
    with pytest.raises(AttributeError):
        res.statistic = 0.0  # type: ignore[misc]
    text = str(res)
    for fragment in (
        "Kupiec POF",
        "H0:",
        "H1:",
        "Statistic:",
        "P-value:",
        "chi2(1)",
        "3 of 250",
        "Critical values: 10%: 2.7055",
    ):
        assert fragment in text
    row = res.to_series()
    assert row["coverage"] == pytest.approx(1 - 3 / 250, abs=CLOSED_FORM_TOL)
    assert row.name == "Kupiec POF"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((11, 10), DataError),
        ((-1, 250), DataError),
        ((2.5, 250), DataError),
        ((True, 250), DataError),
        ((0, 0), InsufficientDataError),
    ],
)
def test_kupiec_bad_counts(args, error):
    with pytest.raises(error):
        kupiec(*args)


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, -0.1, 99])
def test_bad_level_rejected_everywhere(level):
    with pytest.raises(SpecificationError, match="level"):
        kupiec(1, 250, level=level)
    with pytest.raises(SpecificationError, match="level"):
        traffic_light(1, 250, level=level)
    with pytest.raises(SpecificationError, match="level"):
        christoffersen(np.zeros(10, dtype=bool), level=level)


def test_bad_size_rejected():
    with pytest.raises(SpecificationError, match="size"):
        kupiec(1, 250).reject(1.2)


# ---------------------------------------------------------------- Christoffersen


def _two_hits(gap: int) -> np.ndarray:
    hits = np.zeros(250, dtype=bool)
    hits[[100, 100 + gap]] = True
    return hits


def test_christoffersen_consecutive_exceptions_rejected_at_1pct():
    res = christoffersen(_two_hits(1))
    assert isinstance(res, ChristoffersenTest)
    assert res.independence.reject(0.01)


def test_christoffersen_independence_closed_form():
    # consecutive pair: n00 = 246, n01 = 1, n10 = 1, n11 = 1 over 249 transitions
    n00, n01, n10, n11 = 246, 1, 1, 1
    pi01, pi11, pi = n01 / (n00 + n01), n11 / (n10 + n11), 2 / 249
    null = (n00 + n10) * math.log(1 - pi) + (n01 + n11) * math.log(pi)
    alt = (
        n00 * math.log(1 - pi01)
        + n01 * math.log(pi01)
        + n10 * math.log(1 - pi11)
        + n11 * math.log(pi11)
    )
    res = christoffersen(_two_hits(1))
    expected_transitions = np.array([[n00, n01], [n10, n11]])
    np.testing.assert_array_equal(res.transitions.to_numpy(), expected_transitions)
    assert res.independence.statistic == pytest.approx(-2 * (null - alt), abs=CLOSED_FORM_TOL)
    assert res.conditional_coverage.statistic == pytest.approx(
        res.independence.statistic + kupiec(2, 250).statistic, abs=CLOSED_FORM_TOL
    )
    assert res.conditional_coverage.df == 2
    assert res.conditional_coverage.pvalue == pytest.approx(
        stats.chi2.sf(res.conditional_coverage.statistic, 2), abs=CLOSED_FORM_TOL
    )


def test_christoffersen_spread_exceptions_not_rejected():
    res = christoffersen(_two_hits(60))
    assert not res.independence.reject(0.05)
    assert not res.conditional_coverage.reject(0.05)


def test_christoffersen_accepts_series_and_integers():
    hits = _two_hits(1)
    index = pd.bdate_range("2020-01-01", periods=hits.size)
    from_series = christoffersen(pd.Series(hits, index=index))
    from_ints = christoffersen(hits.astype(int))
    assert from_series.independence == from_ints.independence
    summary = from_series.summary()
    assert list(summary.index) == [
        "Kupiec POF",
        "Christoffersen independence",
        "Christoffersen conditional coverage",
    ]
    assert "Christoffersen independence" in str(from_series)


def test_christoffersen_no_exceptions_is_undefined_not_passed():
    res = christoffersen(np.zeros(250, dtype=bool))
    for test in (res.independence, res.conditional_coverage):
        assert not test.defined
        assert math.isnan(test.statistic) and math.isnan(test.pvalue)
        assert not test.reject(0.5)
        assert test.decision.startswith("undefined: no exception")
        assert "undefined" in str(test)
    assert res.unconditional.defined
    assert res.unconditional.statistic == pytest.approx(kupiec(0, 250).statistic)


@pytest.mark.parametrize(
    ("hits", "reason"),
    [
        (np.r_[np.zeros(249, dtype=bool), True], "no day follows an exception"),
        (np.ones(50, dtype=bool), "every day is an exception"),
        (np.r_[True, np.zeros(249, dtype=bool)], "no exception after the first day"),
    ],
)
def test_christoffersen_is_undefined_when_a_transition_rate_is_not_estimable(hits, reason):
    res = christoffersen(hits)
    assert res.independence.undefined is not None
    assert reason in res.independence.undefined
    assert math.isnan(res.conditional_coverage.pvalue)
    assert "undefined" in res.summary()["decision"].iloc[1]


def test_christoffersen_with_exceptions_is_defined():
    hits = np.zeros(250, dtype=bool)
    hits[[20, 90, 170]] = True
    res = christoffersen(hits)
    assert res.independence.defined and res.conditional_coverage.defined
    assert res.conditional_coverage.statistic == pytest.approx(
        res.unconditional.statistic + res.independence.statistic
    )


@pytest.mark.parametrize(
    ("hits", "error"),
    [
        (np.array([0.0, 1.0, 0.5]), DataError),
        (np.array([0, 2, 1]), DataError),
        (np.array(["a", "b"]), DataError),
        (pd.Series([True, None, False], dtype="boolean"), DataError),
        (np.zeros((3, 2), dtype=bool), DataError),
        (np.array([], dtype=bool), InsufficientDataError),
        (np.array([True]), InsufficientDataError),
    ],
    ids=["float", "int-not-01", "strings", "missing", "2d", "empty", "one-day"],
)
def test_christoffersen_bad_hits(hits, error):
    with pytest.raises(error):
        christoffersen(hits)


def test_christoffersen_missing_hit_names_the_date():
    index = pd.bdate_range("2021-03-01", periods=3)
    hits = pd.Series([True, None, False], index=index, dtype="boolean")
    with pytest.raises(DataError, match="2021-03-02"):
        christoffersen(hits)


# ---------------------------------------------------------------- traffic light


@pytest.mark.parametrize(
    ("exceptions", "zone"),
    [(0, "green"), (4, "green"), (5, "yellow"), (9, "yellow"), (10, "red"), (30, "red")],
)
def test_traffic_light_basel_table_at_250(exceptions, zone):
    light = traffic_light(exceptions, 250, level=0.99)
    assert light == zone
    assert isinstance(light, TrafficLight)
    assert str(light) == zone
    assert light.zones == {"green": (0, 4), "yellow": (5, 9), "red": (10, None)}


def _independent_zone(k: int, n: int, level: float) -> str:
    cdf = stats.binom.cdf(k, n, 1 - level)
    if cdf < 0.95:
        return "green"
    if cdf < 0.9999:
        return "yellow"
    return "red"


@pytest.mark.parametrize("observations", [20, 100, 500, 1000, 2500])
@pytest.mark.parametrize("level", [0.95, 0.975, 0.99, 0.995])
def test_traffic_light_any_n_and_level(observations, level):
    table = traffic_light_zones(observations, level)
    last = int(table.index[-1])
    for k in range(min(last + 3, observations) + 1):
        expected = _independent_zone(k, observations, level)
        light = traffic_light(k, observations, level)
        assert light == expected, (k, observations, level)
        assert light.cumulative_probability == pytest.approx(
            stats.binom.cdf(k, observations, 1 - level), abs=CLOSED_FORM_TOL
        )
        if k <= last:
            assert table.loc[k, "zone"] == expected


def test_traffic_light_zone_table_at_250():
    table = traffic_light_zones(250)
    assert list(table.index) == list(range(11))
    assert table["zone"].tolist() == ["green"] * 5 + ["yellow"] * 5 + ["red"]
    # BCBS (1996) Table 2 cumulative probabilities, published in percent with 2 decimals
    published = [8.11, 28.58, 54.32, 75.81, 89.22, 95.88, 98.63, 99.60, 99.89, 99.97, 99.99]
    np.testing.assert_allclose(100 * table["cumulative_probability"], published, atol=0.005 + 1e-9)


def test_traffic_light_equality_and_hash():
    a, b = traffic_light(3, 250), traffic_light(3, 250)
    assert a == b and hash(a) == hash(b)
    assert a != traffic_light(3, 500)
    assert a != "red"
    assert {a: 1}["green"] == 1


def test_traffic_light_bad_input():
    with pytest.raises(DataError):
        traffic_light(300, 250)
    with pytest.raises(DataError):
        traffic_light(-1, 250)
    with pytest.raises(InsufficientDataError):
        traffic_light_zones(0)


# ---------------------------------------------------------------- size and power


def _simulated_hits(n_days: int, margin_sigma: float, level: float = 0.99) -> np.ndarray:
    """Hits of a normal margin model on N(0, 1) losses, one seed per test period."""
    margin = margin_sigma * stats.norm.ppf(level)
    return np.stack([as_generator(seed).standard_normal(n_days) > margin for seed in range(N_REPS)])


def _exact_rejection(n_days: int, prob: float, level: float = 0.99, size: float = 0.05) -> float:
    counts = np.arange(n_days + 1)
    rejected = np.array([kupiec(int(k), n_days, level).reject(size) for k in counts])
    return float(stats.binom.pmf(counts, n_days, prob)[rejected].sum())


def test_size_correctly_specified_model():
    n_days = 1000
    hits = _simulated_hits(n_days, margin_sigma=1.0)
    exact = _exact_rejection(n_days, 0.01)
    # the LR statistic is discrete: its exact size differs from 5% by the binomial lattice
    assert abs(exact - 0.05) < 0.01
    kupiec_rate = np.mean([kupiec(int(h.sum()), n_days).reject() for h in hits])
    assert abs(kupiec_rate - exact) < _mc_tol(exact)
    tests = [christoffersen(h) for h in hits]
    # chi2 asymptotics make the independence test conservative when p*N is small: the
    # rejection frequency must not exceed the nominal size (plus Monte-Carlo error)
    for attr in ("independence", "conditional_coverage"):
        rate = np.mean([getattr(t, attr).reject() for t in tests])
        assert rate < 0.05 + _mc_tol(0.05)
    red = np.mean([traffic_light(int(h.sum()), n_days) == "red" for h in hits])
    assert red < 1e-4 + _mc_tol(1e-4) + 1.0 / N_REPS


def test_power_under_margined_model():
    n_days = 500
    margin_sigma = 0.6
    prob = stats.norm.sf(margin_sigma * stats.norm.ppf(0.99))
    exact = _exact_rejection(n_days, prob)
    assert exact > 0.99
    hits = _simulated_hits(n_days, margin_sigma=margin_sigma)
    rate = np.mean([kupiec(int(h.sum()), n_days).reject() for h in hits])
    assert rate > exact - _mc_tol(exact) - 1.0 / N_REPS
    not_green = np.mean([traffic_light(int(h.sum()), n_days) != "green" for h in hits])
    assert not_green > 0.95


def test_power_clustered_exceptions():
    """Exceptions from a Markov chain with P(hit | hit) = 0.5 are flagged as dependent."""
    n_days, p01, p11 = 1000, 0.007, 0.5
    reps = 400
    rejected = 0
    for seed in range(reps):
        u = as_generator(seed).random(n_days)
        hits = np.zeros(n_days, dtype=bool)
        for t in range(1, n_days):
            hits[t] = u[t] < (p11 if hits[t - 1] else p01)
        rejected += christoffersen(hits).independence.reject()
    assert rejected / reps > 0.9
