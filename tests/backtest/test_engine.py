"""Rolling offset backtest: closed forms, naive loop, no look-ahead, size, power, the engines."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research.backtest.engine import OffsetBacktest, risk_measure
from research.backtest.models import ParametricNormal, RollingFHS, day_scenarios
from research.backtest.portfolios import (
    calendar_spreads,
    hedged_pairs,
    option_hedges,
    random_books,
    stack_books,
)
from research.data import periods_per_year
from research.errors import (
    DataError,
    InsufficientDataError,
    SpecificationError,
    UnknownUnderlyingError,
)
from research.margin import FilteredHistoricalSimulation, ParameterSetEngine, RiskWeightEngine
from research.margin.offsets import OffsetPolicy
from research.portfolio import EuropeanOption, Market, PortfolioBook, Spot

EXACT = 1e-12
"""Same arithmetic in a different order: agreement to rounding."""


def _sorted_var(losses: np.ndarray, level: float) -> float:
    """VaR by a full sort: the ``ceil((1 - level) n)``-th largest loss (research.margin.tail)."""
    m = max(1, int(np.ceil(round((1.0 - level) * losses.size, 9))))
    return float(np.sort(losses)[-m])


def _returns(n: int, n_assets: int, seed: int, corr: float = 0.6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cov = (1 - corr) * np.eye(n_assets) + corr
    values = rng.standard_normal((n, n_assets)) @ np.linalg.cholesky(cov).T
    return pd.DataFrame(
        values,
        index=pd.bdate_range("2019-01-01", periods=n),
        columns=[f"A{j}" for j in range(n_assets)],
    )


@dataclass(frozen=True)
class _Fixed:
    location: np.ndarray
    base: np.ndarray
    warnings: tuple[str, ...] = ()

    def scale(self, new_returns: np.ndarray) -> np.ndarray:
        return np.ones((len(new_returns) + 1, self.base.shape[1]))


@dataclass(frozen=True)
class FixedScenarios:
    """A model whose scenarios are the given matrix, whatever the data (for hand checks)."""

    base: np.ndarray
    horizon: int = 1
    name: str = "fixed"

    def fit(self, returns, *, seed=None, previous=None):
        return _Fixed(np.zeros(self.base.shape[1]), self.base)


def test_risk_measure_closed_form():
    # m = ceil((1 - level) S) worst of 1..100: m = 1 at 99%, m = 5 at 95%
    losses = np.arange(1.0, 101.0)[None, :]
    assert risk_measure(losses, 0.99, "var")[0] == 100.0
    assert risk_measure(losses, 0.95, "var")[0] == 96.0
    assert risk_measure(losses, 0.99, "es")[0] == 100.0
    assert risk_measure(losses, 0.95, "es")[0] == pytest.approx(np.mean([96, 97, 98, 99, 100]))
    rng = np.random.default_rng(0)
    many = rng.standard_normal((5, 1000))
    ordered = np.sort(many, axis=1)
    np.testing.assert_array_equal(risk_measure(many, 0.99), ordered[:, -10])
    np.testing.assert_allclose(
        risk_measure(many, 0.99, "es"), ordered[:, -10:].mean(axis=1), rtol=0, atol=EXACT
    )
    with pytest.raises(DataError, match="non-finite"):
        risk_measure(np.array([[1.0, np.nan, 2.0]]), 0.5)


def test_engine_matches_naive_loop_and_counts_offset_caused_exceptions():
    """Two assets, hand-picked scenarios and returns: margins and exceptions checked by hand."""
    base = np.array([[-4.0, -4.0], [-3.0, 1.0], [2.0, -2.0], [1.0, 1.0], [0.5, 3.0]])
    model = FixedScenarios(base)
    returns = _returns(12, 2, seed=1)
    legs = (Spot("A0"), Spot("A1"))
    notionals = pd.DataFrame(
        [[100.0, -100.0], [100.0, 100.0], [50.0, 0.0]],
        index=["spread", "long both", "outright"],
        columns=[leg.label for leg in legs],
    )
    ps = PortfolioBook(legs, notionals)
    bt = OffsetBacktest(model, level=0.8, refit_every=3, lookback=2)
    res = bt.run(returns, ps)
    moves = np.expm1(base / 100)
    q = notionals.to_numpy()
    for day in range(len(res.dates)):
        t = returns.index.get_loc(res.dates[day])
        realized = np.expm1(returns.iloc[t + 1].to_numpy() / 100)
        for p in range(3):
            pnl = moves @ q[p]
            cross = _sorted_var(-pnl, 0.8)
            iso = sum(_sorted_var(-moves[:, j] * q[p, j], 0.8) for j in range(2) if q[p, j] != 0)
            loss = -(realized @ q[p])
            assert res.margin_cross.iloc[day, p] == pytest.approx(cross, abs=1e-9)
            assert res.margin_isolated.iloc[day, p] == pytest.approx(iso, abs=1e-9)
            assert res.loss.iloc[day, p] == pytest.approx(loss, abs=1e-9)
            assert res.offset_caused().iloc[day, p] == bool(cross < loss <= iso)
    # first day is the end of the first window; the last has its one-day loss
    assert res.dates[0] == returns.index[1] and res.dates[-1] == returns.index[-2]


@pytest.mark.parametrize("engine", ["fhs", "risk_weight_delta"])
def test_no_look_ahead(engine):
    """Changing the data after a day changes no margin up to it, for any engine and task split.

    The delta-notional risk-weight engine sees the model only through the options' volatility
    in the day's market.
    """
    returns = _returns(420, 3, seed=2)
    fit_window = returns.iloc[:200]
    ps, _ = stack_books(
        {
            "pairs": hedged_pairs(fit_window, 3, seed=0),
            "options": option_hedges(fit_window, 2, seed=1),
        }
    )
    rw = RiskWeightEngine(dict.fromkeys(returns.columns, 0.1), basis="delta")
    bt = OffsetBacktest(
        RollingFHS(horizon=2), refit_every=7, lookback=200, engine=None if engine == "fhs" else rw
    )
    base = bt.run(returns, ps)
    cut = 300
    altered = returns.copy()
    altered.iloc[cut + 1 :] = altered.iloc[cut + 1 :] * 3.0 + 0.5
    shifted = bt.run(altered, ps, chunks=3)
    upto = base.dates <= returns.index[cut]
    for name in ("margin_isolated", "margin_cross"):
        np.testing.assert_array_equal(getattr(base, name)[upto], getattr(shifted, name)[upto])
        # the data change must move the margins after the cut (the check can fail)
        assert not np.allclose(getattr(base, name)[~upto], getattr(shifted, name)[~upto])
    # losses over an MPOR ending on or before the cut are unchanged too
    settled = base.dates <= returns.index[cut - 2]
    np.testing.assert_array_equal(base.loss[settled], shifted.loss[settled])


N_SERIES = 24
N_DAYS = 600
LEVEL = 0.99


def _independent_run(scale_cov: float, seed: int):
    rng = np.random.default_rng(seed)
    vols = rng.uniform(0.5, 3.0, N_SERIES)
    values = rng.standard_normal((N_DAYS + 21, N_SERIES)) * vols
    names = [f"X{j}" for j in range(N_SERIES)]
    returns = pd.DataFrame(
        values, index=pd.bdate_range("2010-01-01", periods=N_DAYS + 21), columns=names
    )
    legs = tuple(Spot(n) for n in names)
    signs = np.where(rng.random(N_SERIES) < 0.5, -1.0, 1.0)
    ps = PortfolioBook(
        legs, pd.DataFrame(np.diag(signs * 1e6), index=names, columns=[leg.label for leg in legs])
    )
    cov = pd.DataFrame(np.diag(scale_cov * vols**2), index=names, columns=names)
    model = ParametricNormal(horizon=1, covariance=cov, n_scenarios=2000)
    return OffsetBacktest(model, level=LEVEL, refit_every=25, lookback=20).run(
        returns, ps, seed=seed
    )


def test_correctly_specified_model_passes_at_nominal_rate():
    """24 independent single-asset books, i.i.d. normal data, the true covariance."""
    res = _independent_run(1.0, seed=11)
    per = res.per_portfolio()["cross"]
    n_obs = per["observations"].sum()
    rate = per["exceptions"].sum() / n_obs
    # 4 binomial standard deviations; the Monte Carlo quantile adds ~1/n_scenarios of bias
    assert abs(rate - (1 - LEVEL)) < 4 * np.sqrt(LEVEL * (1 - LEVEL) / n_obs)
    rejected = int((per["kupiec_pvalue"] < 0.05).sum())
    assert rejected <= stats.binom.ppf(0.999, N_SERIES, 0.05)


def test_under_margined_model_is_rejected():
    """Margin on half the true variance: exception rate ~5% at 99%; Kupiec must reject."""
    res = _independent_run(0.5, seed=12)
    per = res.per_portfolio()["cross"]
    assert (per["kupiec_pvalue"] < 0.05).mean() >= 0.95
    assert (per["traffic_light"] == "red").mean() >= 0.9


def test_offset_policy_caps_the_offset():
    returns = _returns(300, 3, seed=3)
    ps = random_books(list(returns.columns), 6, seed=4)
    model = RollingFHS(horizon=1, volatility="ewma")
    free = OffsetBacktest(model, lookback=150).run(returns, ps)
    capped = OffsetBacktest(model, lookback=150, offset_policy=OffsetPolicy(0.5)).run(returns, ps)
    iso, cross = free.margin_isolated, free.margin_cross
    expected = np.maximum(iso - 0.5 * np.maximum(iso - cross, 0), cross)
    np.testing.assert_allclose(capped.margin_cross, expected, rtol=1e-12)
    np.testing.assert_allclose(capped.margin_cross_engine, cross, rtol=1e-12)


def test_es_is_above_var():
    returns = _returns(300, 2, seed=5)
    ps = calendar_spreads(list(returns.columns), 4, seed=6)
    model = RollingFHS(horizon=2, volatility="ewma")
    var = OffsetBacktest(model, lookback=150, measure="var").run(returns, ps)
    es = OffsetBacktest(model, lookback=150, measure="es").run(returns, ps)
    assert (es.margin_cross.to_numpy() >= var.margin_cross.to_numpy() - 1e-9).all()
    assert (es.margin_isolated.to_numpy() > var.margin_isolated.to_numpy()).all()


def test_bad_input():
    returns = _returns(300, 2, seed=7)
    ps = random_books(list(returns.columns), 2, seed=0)
    bt = OffsetBacktest(RollingFHS(horizon=1, volatility="ewma"), lookback=150)
    holes = returns.copy()
    holes.iloc[200, 1] = np.nan
    with pytest.raises(DataError, match="A1"):
        bt.run(holes, ps)
    with pytest.raises(UnknownUnderlyingError, match="A1"):
        bt.run(returns[["A0"]], ps)
    with pytest.raises(InsufficientDataError, match="lookback"):
        bt.run(returns, ps, start=returns.index[10])
    with pytest.raises(InsufficientDataError):
        bt.run(returns.iloc[:150], ps)
    with pytest.raises(SpecificationError):
        OffsetBacktest(RollingFHS(), level=99)
    with pytest.raises(SpecificationError):
        OffsetBacktest(RollingFHS(), refit_every=0)
    with pytest.raises(SpecificationError, match="PortfolioBook"):
        bt.run(returns, ps.quantities)
    engine = RiskWeightEngine({"A0": 0.1, "A1": 0.1})
    with pytest.raises(SpecificationError, match="offset policy"):
        OffsetBacktest(RollingFHS(), engine=engine, offset_policy=OffsetPolicy(0.5))
    fhs = FilteredHistoricalSimulation(
        day_scenarios(np.zeros(1), np.ones((10, 1)), np.ones(1), ["A0"], returns.index[0]),
        level=0.975,
    )
    with pytest.raises(SpecificationError, match="level"):
        OffsetBacktest(RollingFHS(), engine=fhs)
    with pytest.raises(SpecificationError, match="level"):
        OffsetBacktest(
            RollingFHS(),
            level=0.975,
            engine=ParameterSetEngine(_parameter_set(_returns(200, 4, seed=0))),
        )
    with pytest.raises(SpecificationError, match="MarginEngine"):
        OffsetBacktest(RollingFHS(), engine="fhs")
    with pytest.raises(SpecificationError, match="chunks"):
        bt.run(returns, ps, chunks=0)
    with pytest.raises(DataError, match="family"):
        bt.run(returns, ps, family=pd.Series({ps.quantities.index[0]: "one"}))


def test_from_parameters():
    from research.calibration import MarginParameters

    params = MarginParameters(
        level=0.975,
        mpor=3,
        lookback=400,
        risk_weights={"A0": 0.1},
        offset_cap=0.6,
        as_of="2024-01-02",
    )
    bt = OffsetBacktest.from_parameters(params, volatility="ewma", refit_every=10)
    assert (bt.level, bt.horizon, bt.lookback, bt.refit_every) == (0.975, 3, 400, 10)
    assert bt.offset_policy.max_fraction == 0.6
    own = OffsetBacktest.from_parameters(params, margin="parameter_set", carry=0.02)
    assert own.engine.fingerprint == params.fingerprint and own.offset_policy is None
    assert (own.level, own.horizon, own.lookback, own.carry) == (0.975, 3, 400, 0.02)
    with pytest.raises(SpecificationError, match="margin"):
        OffsetBacktest.from_parameters(params, margin="span")


@pytest.mark.parametrize(
    ("index", "per_year"),
    [
        (pd.bdate_range("2019-01-01", periods=8), 252.0),
        (pd.date_range("2019-01-01", periods=8, freq="D"), 365.0),
    ],
    ids=["equities", "crypto"],
)
def test_option_revalued_in_full_at_the_datas_own_annualisation(index, per_year):
    """An option hedge margined by the backtest = a direct Black-76 revaluation at a real spot.

    The option takes the model's volatility annualised with the data's periods per year: 365
    on a 7-day calendar (it was 252 whatever the data).
    """
    rng = np.random.default_rng(3)
    base = rng.standard_normal((400, 1)) * 3.0
    returns = _returns(8, 1, seed=4).set_axis(index)
    option = EuropeanOption("A0", strike=0.95, expiry=0.25, kind="put")
    hedge = Spot("A0")
    q_opt, q_lin = 2e6, 0.4e6
    ps = PortfolioBook(
        (option, hedge),
        pd.DataFrame([[q_opt, q_lin]], index=["hedged put"], columns=[option.label, hedge.label]),
    )
    res = OffsetBacktest(FixedScenarios(base), level=0.99, refit_every=2, lookback=2).run(
        returns, ps
    )
    vol = base.std() * np.sqrt(per_year) / 100
    spot = 50_000.0
    put = EuropeanOption("A0", strike=0.95 * spot, expiry=0.25, kind="put", implied_vol=vol)
    market = Market(spot={"A0": spot})

    def pnl(x):
        return q_opt * put.pnl(market, spot * np.exp(x / 100)) / spot + q_lin * np.expm1(x / 100)

    scen = pnl(base[:, 0])
    iso = _sorted_var(
        -q_opt * put.pnl(market, spot * np.exp(base[:, 0] / 100)) / spot, 0.99
    ) + _sorted_var(-q_lin * np.expm1(base[:, 0] / 100), 0.99)
    for day, date in enumerate(res.dates):
        t = returns.index.get_loc(date)
        assert res.margin_cross.iloc[day, 0] == pytest.approx(_sorted_var(-scen, 0.99), rel=1e-9)
        assert res.margin_isolated.iloc[day, 0] == pytest.approx(iso, rel=1e-9)
        assert res.loss.iloc[day, 0] == pytest.approx(-pnl(returns.iloc[t + 1, 0]), rel=1e-9)


def test_portfolios_are_margined_independently():
    """Margining a book at once equals margining each portfolio on its own (vectorisation)."""
    returns = _returns(320, 3, seed=8)
    ps, _ = stack_books(
        {
            "random": random_books(list(returns.columns), 3, seed=9),
            "options": option_hedges(returns.iloc[:150], 2, seed=10),
        }
    )
    bt = OffsetBacktest(RollingFHS(horizon=2, volatility="ewma"), lookback=150, refit_every=4)
    together = bt.run(returns, ps)
    for name in ps.quantities.index:
        alone = bt.run(returns, ps.portfolio(name).to_book())
        for field in ("margin_cross", "margin_isolated", "loss"):
            np.testing.assert_allclose(
                getattr(alone, field)[name], getattr(together, field)[name], rtol=1e-10, atol=1e-6
            )


def _property_case():
    returns = _returns(330, 4, seed=21)
    history = returns.iloc[:150]
    book, family = stack_books(
        {
            "pairs": hedged_pairs(history, 3, top=3, seed=1),
            "calendar": calendar_spreads(list(returns.columns), 2, seed=2),
            "options": option_hedges(history, 3, seed=3),
            "random": random_books(list(returns.columns), 3, n_legs=(2, 4), seed=4),
        }
    )
    return returns, book, family


def _day_market_and_scenarios(bt, returns, day):
    """The market and model scenarios of ``day``, rebuilt from the data up to ``day`` only."""
    index = returns.index
    t = index.get_loc(day)
    refit = bt.lookback - 1 + ((t - (bt.lookback - 1)) // bt.refit_every) * bt.refit_every
    fitted = None
    for r in range(bt.lookback - 1, refit + 1, bt.refit_every):
        fitted = bt.model.fit(returns.iloc[r - bt.lookback + 1 : r + 1], previous=fitted)
    scale = fitted.scale(returns.to_numpy()[refit + 1 : t + 1])[-1]
    base_sd = fitted.base.std(axis=0) / np.sqrt(bt.horizon)
    vol = scale * base_sd * np.sqrt(periods_per_year(index)) / 100.0
    market = bt.market(day, pd.Series(vol, index=list(returns.columns)))
    scenarios = day_scenarios(fitted.location, fitted.base, scale, list(returns.columns), day)
    return market, scenarios


def _parameter_set(returns):
    from research.calibration import MarginParameters

    names = list(returns.columns)
    return MarginParameters(
        level=0.99,
        mpor=2,
        lookback=150,
        as_of=str(returns.index[149].date()),
        risk_weights={a: 0.05 + 0.01 * k for k, a in enumerate(names)},
        offset_credits={(names[0], names[1]): 0.5, (names[2], names[3]): 0.3},
        offset_cap=0.8,
    )


@pytest.mark.parametrize("which", ["fhs", "risk_weight", "parameter_set"])
def test_backtest_margin_is_the_engines_margin_of_each_portfolio(which):
    """On sampled days the backtest's margins are ``engine.margin(portfolio, market_t)``.

    Before the engines' row-stable products, 43 of 300 FHS rows and 30 of 300 risk-weight rows
    of a book differed from the engine's margin of the same portfolio in the last bits.
    """
    returns, book, family = _property_case()
    model = RollingFHS(horizon=2, volatility="ewma")
    if which == "fhs":
        bt = OffsetBacktest(
            model,
            lookback=150,
            refit_every=7,
            measure="es",
            offset_policy=OffsetPolicy(0.8),
            carry=0.05,
        )
    elif which == "parameter_set":
        engine = ParameterSetEngine(_parameter_set(returns))
        bt = OffsetBacktest(model, lookback=150, refit_every=7, carry=0.05, engine=engine)
    else:
        weights = dict.fromkeys(returns.columns, 0.07)
        bt = OffsetBacktest(
            model,
            lookback=150,
            refit_every=7,
            carry=0.05,
            engine=RiskWeightEngine(weights, basis="delta"),
        )
    result = bt.run(returns, book, family=family)
    assert result.fingerprint == getattr(bt.engine, "fingerprint", None)
    rng = np.random.default_rng(5)
    for day in result.dates[np.sort(rng.choice(len(result.dates), 4, replace=False))]:
        market, scenarios = _day_market_and_scenarios(bt, returns, day)
        engine = bt.engine_for(scenarios)
        for name in book.quantities.index:
            one = engine.margin(book.portfolio(name), market)
            assert result.margin_cross.loc[day, name] == one.cross
            assert result.margin_cross_engine.loc[day, name] == one.portfolio_margin
            total = 0.0
            for value in one.isolated.to_numpy():
                total += value
            assert result.margin_isolated.loc[day, name] == total


def test_blocks_give_the_same_bits_serially_and_in_processes():
    returns, book, family = _property_case()
    bt = OffsetBacktest(
        RollingFHS(horizon=2, volatility="ewma"),
        lookback=150,
        refit_every=9,
        block_size=4,
        carry=0.05,
    )
    short = returns.iloc[:200]
    serial = bt.run(short, book, family=family, backend="serial")
    processes = bt.run(short, book, family=family, backend="processes")
    # the engines' rows are row-stable, so one block gives the same bits as many
    whole = replace(bt, block_size=1000).run(short, book, family=family)
    # nor does cutting the test period into runs of refit blocks
    runs = replace(bt, block_size=1000).run(short, book, family=family, chunks=3)
    for name in (
        "margin_isolated",
        "margin_cross",
        "margin_cross_engine",
        "loss",
        "isolated_shortfall",
        "position_breaches",
    ):
        np.testing.assert_array_equal(getattr(serial, name), getattr(processes, name))
        np.testing.assert_array_equal(getattr(serial, name), getattr(whole, name))
        np.testing.assert_array_equal(getattr(serial, name), getattr(runs, name))
