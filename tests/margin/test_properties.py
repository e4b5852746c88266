"""Property-based tests of the margin engines (hypothesis): random valid books, markets and engine
parameters give finite non-negative margins with the promised invariants; corrupted ones raise the
package's own errors.

``test_invariants.py`` pins the same invariants on four hand-made hedged books; here the books,
markets and parameters are random, so the invariants are checked where nobody thought to look.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from research.errors import (
    DataError,
    NotPositiveDefiniteError,
    ParameterError,
    ResearchError,
    SpecificationError,
    UnknownUnderlyingError,
)
from research.margin import (
    CorrelationEngine,
    FilteredHistoricalSimulation,
    OffsetPolicy,
    RiskWeightEngine,
    ScenarioGridEngine,
    SpreadCredit,
)
from research.portfolio import (
    DatedFuture,
    EuropeanOption,
    InversePerpetual,
    LinearPerpetual,
    Market,
    PortfolioBook,
    Scenarios,
    Spot,
)

UNDERLYINGS = ("BTC", "ETH", "SOL")
KINDS = ("spot", "linear", "inverse", "future", "call", "put")
ROUNDING = 1e-9
"""Relative slack for rounding: the engines sum terms as large as the book's gross (sum of isolated)
margin in different orders, so results agree to a small multiple of 1e-16 of that gross."""

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

finite = {"allow_nan": False, "allow_infinity": False}


@dataclass(frozen=True)
class Case:
    """Ingredients of one margin computation, built only by :meth:`build` (so corruption of any
    ingredient is caught wherever the package first sees it)."""

    spots: dict[str, float]
    vols: dict[str, float]
    carry: dict[str, float]
    rate: float
    instruments: tuple[tuple[str, str, float, float, float], ...]  # kind, underlying, size, K, T
    quantities: np.ndarray  # portfolios x instruments
    engine: str
    params: dict[str, Any]

    def market(self) -> Market:
        return Market(
            self.spots, "2026-01-02", volatility=self.vols, rate=self.rate, carry=self.carry
        )

    def book(self, scale: float = 1.0) -> PortfolioBook:
        built = []
        for k, (kind, u, size, strike, expiry) in enumerate(self.instruments):
            name = f"{k} {u} {kind}"
            if kind == "spot":
                built.append(Spot(u, name=name))
            elif kind == "linear":
                built.append(LinearPerpetual(u, size, name=name))
            elif kind == "inverse":
                built.append(InversePerpetual(u, 100.0 * size, name=name))
            elif kind == "future":
                built.append(DatedFuture(u, expiry, size, name=name))
            else:
                built.append(EuropeanOption(u, strike, expiry, kind, size, name=name))
        q = pd.DataFrame(
            self.quantities * scale,
            index=[f"p{i}" for i in range(len(self.quantities))],
            columns=[i.label for i in built],
        )
        return PortfolioBook(tuple(built), q)

    def build_engine(self) -> Any:
        p = self.params
        policy = p["policy"]
        if self.engine == "risk_weight":
            return RiskWeightEngine(p["risk_weights"], p["basis"], policy)
        if self.engine == "correlation":
            return CorrelationEngine(
                p["risk_weights"], p["correlation"], p["threshold"], offset_policy=policy
            )
        if self.engine == "fhs":
            scenarios = Scenarios.from_array(p["moves"], list(UNDERLYINGS), p["kind"])
            return FilteredHistoricalSimulation(scenarios, p["level"], p["measure"], policy)
        return ScenarioGridEngine(
            p["price_scan"],
            p["vol_scan"],
            p["extreme_multiple"],
            p["extreme_fraction"],
            [SpreadCredit(*s) for s in p["spreads"]],
            p["intra"],
            policy,
        )

    @property
    def homogeneous(self) -> bool:
        """Whether the engine promises margin(c q) = c margin(q) (all but concentration)."""
        return not (self.engine == "correlation" and self.params["threshold"] is not None)

    @property
    def subadditive(self) -> bool:
        """Whether the engine promises cross <= sum of isolated.

        Not with a concentration factor or an intra-commodity charge (both can add margin for
        holding positions together, by design), nor for VaR (not sub-additive).
        """
        p = self.params
        return {
            "risk_weight": True,
            "correlation": p.get("threshold") is None,
            "fhs": p.get("measure") == "es",
            "grid": p.get("intra") == 0.0,
        }[self.engine]


def per_underlying(values: st.SearchStrategy[float]) -> st.SearchStrategy[dict[str, float]]:
    return st.fixed_dictionaries({u: values for u in UNDERLYINGS})


@st.composite
def policies(draw: st.DrawFn) -> OffsetPolicy | None:
    if draw(st.booleans()):
        return None
    pairs = list(combinations(UNDERLYINGS, 2))
    breaking = draw(st.lists(st.sampled_from(pairs), max_size=2, unique=True))
    return OffsetPolicy(
        draw(st.floats(0.0, 1.0)), draw(st.sampled_from(["portfolio", "pair"])), breaking
    )


def correlation_from(seed: int) -> pd.DataFrame:
    """A random positive semi-definite correlation matrix from a few random factors."""
    rng = np.random.default_rng(seed)
    loadings = rng.uniform(-1.0, 1.0, (len(UNDERLYINGS), rng.integers(1, 4)))
    cov = loadings @ loadings.T + np.diag(rng.uniform(0.0, 0.5, len(UNDERLYINGS)))
    scale = 1.0 / np.sqrt(np.diag(cov))
    rho = cov * np.outer(scale, scale)
    rho = 0.5 * (rho + rho.T)
    np.fill_diagonal(rho, 1.0)
    return pd.DataFrame(rho, index=list(UNDERLYINGS), columns=list(UNDERLYINGS))


@st.composite
def engine_params(draw: st.DrawFn, engine: str) -> dict[str, Any]:
    params: dict[str, Any] = {"policy": draw(policies())}
    weights = per_underlying(st.floats(0.0, 1.5))
    if engine == "risk_weight":
        params |= {
            "risk_weights": draw(weights),
            "basis": draw(st.sampled_from(["notional", "delta"])),
        }
    elif engine == "correlation":
        params |= {
            "risk_weights": draw(weights),
            "correlation": correlation_from(draw(st.integers(0, 2**32 - 1))),
            "threshold": draw(st.none() | st.floats(1.0, 1e8)),
        }
    elif engine == "fhs":
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        vol = rng.uniform(0.005, 0.3, len(UNDERLYINGS))
        n = draw(st.integers(20, 400))
        params |= {
            "moves": rng.standard_normal((n, len(UNDERLYINGS))) * vol,
            "kind": "log",
            "level": draw(st.floats(0.9, 0.995)),
            "measure": draw(st.sampled_from(["es", "var"])),
        }
    else:
        pairs = list(combinations(UNDERLYINGS, 2))
        spread = st.tuples(
            st.sampled_from(pairs),
            st.floats(0.0, 1.0),
            st.floats(0.1, 50.0),
            st.floats(0.1, 50.0),
            st.integers(0, 3),
        ).map(lambda s: (s[0][0], s[0][1], s[1], s[2], s[3], s[4]))
        params |= {
            "price_scan": draw(per_underlying(st.floats(0.01, 0.45))),
            "vol_scan": draw(per_underlying(st.floats(0.0, 0.1))),
            "extreme_multiple": draw(st.floats(1.0, 2.0)),
            "extreme_fraction": draw(st.floats(0.0, 1.0)),
            "spreads": draw(st.lists(spread, max_size=3)),
            "intra": draw(st.just(0.0) | st.floats(0.0, 0.05)),
        }
    return params


@st.composite
def cases(
    draw: st.DrawFn, engines: tuple[str, ...] = ("risk_weight", "correlation", "fhs", "grid")
):
    n_instruments = draw(st.integers(1, 5))
    n_portfolios = draw(st.integers(1, 4))
    instrument = st.tuples(
        st.sampled_from(KINDS),
        st.sampled_from(UNDERLYINGS),
        st.floats(0.01, 100.0),
        st.floats(0.5, 2.0),
        st.floats(0.02, 2.0),
    )
    quantity = st.just(0.0) | st.floats(-1e4, 1e4, **finite).filter(lambda q: abs(q) >= 1e-3)
    quantities = draw(
        st.lists(
            quantity, min_size=n_instruments * n_portfolios, max_size=n_instruments * n_portfolios
        )
    )
    engine = draw(st.sampled_from(engines))
    spots = draw(per_underlying(st.floats(-2.0, 6.0).map(lambda x: 10.0**x)))
    specs = draw(st.lists(instrument, min_size=n_instruments, max_size=n_instruments))
    return Case(
        spots=spots,
        vols=draw(per_underlying(st.floats(0.1, 2.0))),
        carry=draw(per_underlying(st.floats(-0.2, 0.2))),
        rate=draw(st.floats(-0.02, 0.1)),
        # strikes are a multiple (moneyness) of the spot when drawn
        instruments=tuple((k, u, size, m * spots[u], t) for k, u, size, m, t in specs),
        quantities=np.array(quantities).reshape(n_portfolios, n_instruments),
        engine=engine,
        params=draw(engine_params(engine)),
    )


def margins(case: Case, scale: float = 1.0):
    return case.build_engine().margin_book(case.book(scale), case.market())


def gross(result) -> float:
    return float(result.sum_isolated.max())


@PROPERTY_SETTINGS
@given(cases())
def test_valid_inputs_give_finite_non_negative_margins(case):
    result = margins(case)
    for values in (result.isolated, result.cross, result.portfolio_margin):
        array = np.asarray(values, dtype=float)
        assert np.isfinite(array).all()
        assert (array >= 0).all()
    # the offset policy only ever adds to the engine's portfolio margin
    assert (result.cross >= result.portfolio_margin).all()
    if case.params["policy"] is None:
        np.testing.assert_array_equal(result.cross, result.portfolio_margin)


@PROPERTY_SETTINGS
@given(cases(), st.floats(-3.0, 3.0).map(lambda x: 10.0**x))
def test_margin_is_homogeneous_of_degree_one(case, factor):
    assume(case.homogeneous)
    base, scaled = margins(case), margins(case, factor)
    slack = ROUNDING * factor * gross(base)
    np.testing.assert_allclose(scaled.cross, factor * base.cross, rtol=ROUNDING, atol=slack)
    np.testing.assert_allclose(scaled.isolated, factor * base.isolated, rtol=ROUNDING, atol=slack)


@PROPERTY_SETTINGS
@given(cases())
def test_cross_margin_at_most_the_sum_of_isolated(case):
    assume(case.subadditive)
    result = margins(case)
    assert (result.cross <= result.sum_isolated * (1 + ROUNDING) + 1e-300).all()


@PROPERTY_SETTINGS
@given(cases())
def test_one_holding_has_no_offset(case):
    one = replace(case, quantities=case.quantities[:1, :1], instruments=case.instruments[:1])
    result = margins(one)
    expected = float(result.isolated.iloc[0, 0])
    assert float(result.cross.iloc[0]) == pytest.approx(expected, rel=ROUNDING, abs=1e-300)


@PROPERTY_SETTINGS
@given(cases())
def test_each_portfolio_is_margined_on_its_own(case):
    book = margins(case)
    for i in range(len(case.quantities)):
        alone = margins(replace(case, quantities=case.quantities[i : i + 1]))
        slack = ROUNDING * gross(alone)
        assert book.cross.iloc[i] == pytest.approx(alone.cross.iloc[0], rel=ROUNDING, abs=slack)


# corruption -> the package's error it must raise; each applies to the listed engines
CORRUPTIONS: dict[str, tuple[type[ResearchError], tuple[str, ...]]] = {
    "quantity_1e300": (DataError, ("risk_weight", "correlation", "fhs", "grid")),
    "quantity_nan": (DataError, ("risk_weight", "correlation", "fhs", "grid")),
    "quantity_inf": (DataError, ("risk_weight", "correlation", "fhs", "grid")),
    "spot_1e300": (DataError, ("risk_weight", "correlation", "fhs", "grid")),
    "spot_nan": (DataError, ("risk_weight", "correlation", "fhs", "grid")),
    "spot_inf": (DataError, ("risk_weight", "correlation", "fhs", "grid")),
    "spot_zero": (DataError, ("risk_weight", "correlation", "fhs", "grid")),
    "spot_negative": (DataError, ("risk_weight", "correlation", "fhs", "grid")),
    "contract_size_1e300": (DataError, ("risk_weight", "correlation", "fhs", "grid")),
    "contract_size_zero": (SpecificationError, ("risk_weight", "correlation", "fhs", "grid")),
    "contract_size_nan": (SpecificationError, ("risk_weight", "correlation", "fhs", "grid")),
    "market_missing": (UnknownUnderlyingError, ("risk_weight", "correlation", "fhs", "grid")),
    "parameters_missing": (ParameterError, ("risk_weight", "correlation", "grid")),
    "risk_weight_1e300": (ParameterError, ("risk_weight", "correlation")),
    "risk_weight_nan": (ParameterError, ("risk_weight", "correlation")),
    "risk_weight_negative": (ParameterError, ("risk_weight", "correlation")),
    "correlation_not_psd": (NotPositiveDefiniteError, ("correlation",)),
    "correlation_nan": (DataError, ("correlation",)),
    "moves_1e300": (DataError, ("fhs",)),
    "moves_nan": (DataError, ("fhs",)),
    "price_scan_1e300": (ParameterError, ("grid",)),
    "price_scan_nan": (ParameterError, ("grid",)),
}


def not_psd(seed: int) -> pd.DataFrame:
    """A symmetric unit-diagonal matrix with entries in [-1, 1] that is not PSD."""
    rng = np.random.default_rng(seed)
    while True:
        rho = np.eye(len(UNDERLYINGS))
        upper = np.triu_indices(len(UNDERLYINGS), 1)
        rho[upper] = rng.uniform(-1.0, 1.0, len(upper[0]))
        rho = np.triu(rho) + np.triu(rho, 1).T
        if np.linalg.eigvalsh(rho)[0] < -1e-6:
            return pd.DataFrame(rho, index=list(UNDERLYINGS), columns=list(UNDERLYINGS))


def corrupt(case: Case, corruption: str, seed: int) -> Case:
    """Return ``case`` with one absurd ingredient; its first holding becomes a held linear perp."""
    _, underlying, size, strike, expiry = case.instruments[0]
    instruments = list(case.instruments)
    instruments[0] = ("linear", underlying, size, strike, expiry)
    quantities = case.quantities.copy()
    quantities[0, 0] = 1.0
    case = replace(case, instruments=tuple(instruments), quantities=quantities)
    what, _, value = corruption.rpartition("_")
    number = {"1e300": 1e300, "nan": np.nan, "inf": np.inf, "zero": 0.0, "negative": -1.0}.get(
        value
    )
    if what == "quantity":
        quantities[0, 0] = number
        return replace(case, quantities=quantities)
    elif what == "spot":
        return replace(case, spots=case.spots | {underlying: number})
    elif what == "contract_size":
        instruments[0] = ("linear", underlying, number, strike, expiry)
        return replace(case, instruments=tuple(instruments))
    elif what in ("risk_weight", "price_scan"):
        key = "risk_weights" if what == "risk_weight" else "price_scan"
        params = case.params | {key: case.params[key] | {underlying: number}}
        if what == "risk_weight" and case.engine == "risk_weight":
            params["basis"] = "notional"
        return replace(case, params=params)
    elif corruption == "market_missing":
        return replace(case, spots={u: v for u, v in case.spots.items() if u != underlying})
    elif corruption == "parameters_missing":
        key = "price_scan" if case.engine == "grid" else "risk_weights"
        kept = {u: v for u, v in case.params[key].items() if u != underlying}
        return replace(case, params=case.params | {key: kept})
    elif corruption == "correlation_not_psd":
        return replace(case, params=case.params | {"correlation": not_psd(seed)})
    elif corruption == "correlation_nan":
        rho = case.params["correlation"].copy()
        rho.iloc[0, 1] = rho.iloc[1, 0] = np.nan
        return replace(case, params=case.params | {"correlation": rho})
    elif what == "moves":
        moves = case.params["moves"].copy()
        moves[seed % len(moves), UNDERLYINGS.index(underlying)] = number
        return replace(case, params=case.params | {"moves": moves})
    raise AssertionError(f"no such corruption: {corruption}")


@st.composite
def corrupted(draw: st.DrawFn) -> tuple[Case, str]:
    case = draw(cases())
    applicable = [name for name, (_, engines) in CORRUPTIONS.items() if case.engine in engines]
    corruption = draw(st.sampled_from(applicable))
    return corrupt(case, corruption, draw(st.integers(0, 2**32 - 1))), corruption


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted())
def test_absurd_inputs_raise_the_package_errors(corrupted_case):
    case, corruption = corrupted_case
    error, _ = CORRUPTIONS[corruption]
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(error):
        margins(case)
