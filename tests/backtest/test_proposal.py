"""Backtests of a proposed parameter set: its book, frozen out of sample, rolling recalibration."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from research import load_dataset
from research.backtest import (
    ProposalBacktest,
    frozen_backtest,
    proposal_book,
    rolling_backtest,
)
from research.calibration.calibrate import calibrate
from research.calibration.config import CalibrationConfig, DataConfig, OffsetConfig, StressConfig
from research.calibration.parameters import MarginParameters
from research.errors import InsufficientDataError, SpecificationError
from research.portfolio import Market

#: A small, fast config on the bundled data (the calibration tests' fast path): the GFC
#: window, two same-sector pairs and a same-direction pair.
SMALL = CalibrationConfig(
    name="small",
    profile="emir-2d-99",
    data=DataConfig(source="sp500", start="2007-01-01", end="2010-12-31"),
    assets=("XOM", "CVX", "KO", "PEP"),
    pairs=(("XOM", "CVX"), ("KO", "PEP"), ("XOM", "KO", "same")),
    risk_weights={"lookback": 250, "stress_weight": 0.25},
    stress=StressConfig(names=("gfc_lehman",)),
    offsets=OffsetConfig(recent=250, dcc=False),
    version="2.0.0",
)
AS_OF = "2009-12-31"


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return load_dataset("sp500").loc["2007-01-01":"2010-12-31", list(SMALL.assets)]


@pytest.fixture(scope="module")
def proposal(prices: pd.DataFrame) -> MarginParameters:
    with pytest.warns(Warning):
        return calibrate(SMALL, prices.loc[:AS_OF]).parameters


@pytest.fixture(scope="module")
def frozen(proposal: MarginParameters, prices: pd.DataFrame) -> ProposalBacktest:
    return frozen_backtest(proposal, prices, min_days=200)


@pytest.fixture(scope="module")
def rolling(prices: pd.DataFrame) -> ProposalBacktest:
    return rolling_backtest(SMALL, prices, every="QE")


def _market(underlyings: tuple[str, ...]) -> Market:
    return Market(spot=dict.fromkeys(underlyings, 1.0))


@pytest.mark.parametrize("hedge", ["equal_risk", "equal_notional"])
def test_book_pairs_are_matched_in_full_in_their_direction(hedge: str) -> None:
    params = MarginParameters(
        level=0.99,
        mpor=2,
        lookback=250,
        as_of="2024-01-02",
        risk_weights={"A": 0.1, "B": 0.25, "C": 0.2},
        offset_credits={("A", "B"): 0.5, ("A", "C"): 0.3, ("B", "C"): 0.0},
        offset_directions={("A", "C"): "same"},
        offset_hedge=hedge,
    )
    built = proposal_book(params, notional=100.0)
    q = built.book.quantities
    assert list(q.index[built.family == "outright"]) == [
        f"{u} {side}" for u in "ABC" for side in ("long", "short")
    ]
    assert list(q.index[built.family == "pair"]) == ["A/B", "A/C", "B/C"]
    engine = params.engine()
    offsets = engine.pair_offsets(built.book, _market(built.book.underlyings))
    weights = pd.Series(params.risk_weights)
    for (a, b), credit in params.offset_credits.items():
        row = q.loc[f"{a}/{b}"]
        legs = row[[f"{a} spot", f"{b} spot"]]
        if params.offset_directions[(a, b)] == "opposite":
            assert legs.iloc[0] > 0 > legs.iloc[1]
        else:
            assert legs.iloc[0] > 0 and legs.iloc[1] > 0
        margins = legs.abs().to_numpy() * weights[[a, b]].to_numpy()
        if hedge == "equal_risk":
            assert margins[0] == pytest.approx(margins[1], rel=1e-14)
        else:
            assert legs.abs().iloc[0] == legs.abs().iloc[1]
        # both legs matched in full: the pair's offset is the credit on the whole pair
        # (the engine lists only pairs with a credit)
        recognised = offsets.loc[f"{a}/{b}"].sum()
        assert recognised == pytest.approx(credit * margins.sum(), rel=1e-14)
        if credit:
            assert recognised == offsets.loc[f"{a}/{b}", f"{a}/{b}"]
    assert (offsets.loc[built.family == "outright"] == 0.0).all().all()


def test_book_refuses_a_bad_notional() -> None:
    params = MarginParameters(level=0.99, mpor=2, lookback=250, risk_weights={"A": 0.1})
    with pytest.raises(SpecificationError, match="notional"):
        proposal_book(params, notional=-1.0)


def test_frozen_margins_with_the_proposal_only_after_as_of(
    frozen: ProposalBacktest, proposal: MarginParameters
) -> None:
    result = frozen.result
    assert frozen.kind == "frozen"
    assert result.fingerprint == proposal.fingerprint
    assert result.settings["engine"] == f"parameter_set[{proposal.fingerprint}]"
    assert frozen.fingerprints == ((pd.Timestamp(proposal.as_of), proposal.fingerprint),)
    assert result.dates[0] > pd.Timestamp(proposal.as_of)
    assert result.dates[0] == result.dates[result.dates > pd.Timestamp(AS_OF)][0]
    # every day's margin is the proposal's engine on the proposal's book, exactly
    built = proposal_book(proposal)
    expected = proposal.engine().margin_book(built.book, _market(built.book.underlyings))
    for day in result.dates[[0, 57, -1]]:
        assert (result.margin_cross.loc[day] == expected.cross).all()


def test_frozen_refuses_too_little_data_after_as_of(
    proposal: MarginParameters, prices: pd.DataFrame
) -> None:
    short = prices.loc[:"2010-01-15"]
    with pytest.raises(InsufficientDataError, match=r"as of 2009-12-31.*returns end on 2010-01-15"):
        frozen_backtest(proposal, short)
    with pytest.raises(InsufficientDataError, match="250 margin day.*fewer than 260"):
        frozen_backtest(proposal, prices, min_days=260)  # 2010: 252 days less the MPOR


def test_frozen_refuses_missing_underlyings(
    proposal: MarginParameters, prices: pd.DataFrame
) -> None:
    with pytest.raises(InsufficientDataError, match="PEP"):
        frozen_backtest(proposal, prices.drop(columns="PEP"), min_days=1)


def test_coverage_rows_per_underlying_pair_and_family(
    frozen: ProposalBacktest, proposal: MarginParameters
) -> None:
    table = frozen.coverage()
    pairs = [f"{a}/{b}" for a, b in proposal.offset_credits]
    assert len(pairs) == 3
    assert list(table.loc["pair"].index) == [*pairs, "all"]
    assert list(table.loc["outright"].index) == [
        *(f"{u} {side}" for u in proposal.risk_weights for side in ("long", "short")),
        "all",
    ]
    assert (table["fingerprint"] == proposal.fingerprint).all()
    per = frozen.result.per_portfolio()["cross"]
    for name in per.index:
        row = table.xs(name, level="label").iloc[0]
        assert row["test_exceptions"] == per.loc[name, "test_exceptions"]
        assert row["kupiec_pvalue"] == per.loc[name, "kupiec_pvalue"]
        direction = (
            "too many" if row["test_exceptions"] > row["expected"] else "too few"
        )  # no row equals its fractional expectation
        assert row["kupiec_direction"] == direction
        independence = per.loc[name, "independence_pvalue"]
        if np.isnan(independence):
            assert row["independence_pvalue"] == "undefined"
        else:
            assert row["independence_pvalue"] == independence
    # a row without an exception shows its independence test as undefined, not 0 or 1
    calm = table[table["test_exceptions"] == 0]
    assert len(calm) and (calm["independence_pvalue"] == "undefined").all()
    assert (calm["kupiec_direction"] == "too few").all()


def test_rolling_recalibrates_on_past_data_and_spans_the_stress_window(
    rolling: ProposalBacktest,
) -> None:
    refits = rolling.refits
    assert rolling.kind == "rolling" and len(refits) >= 10
    # the refit dates are the last trading days of the quarters, and each set is as of its date
    quarter_ends = rolling.result.loss.index.to_series().groupby(pd.Grouper(freq="QE")).max()
    assert set(refits.index[1:]) <= set(quarter_ends)
    assert rolling.result.fingerprint is None
    assert rolling.result.settings["fingerprints"] == [
        (d.date().isoformat(), f) for d, f in rolling.fingerprints
    ]
    assert refits["fingerprint"].nunique() == len(refits)  # every quarter a new set
    dates = rolling.result.dates
    # each set margins exactly the days after its refit date up to the next refit date
    nxt = [*refits.index[1:], dates[-1]]
    for (as_of, row), stop in zip(refits.iterrows(), nxt, strict=True):
        margined = dates[(dates >= row["first"]) & (dates <= row["last"])]
        assert margined[0] == dates[dates > as_of][0]
        assert row["last"] == stop
    assert dates.is_unique and dates.is_monotonic_increasing
    assert dates[0] <= pd.Timestamp("2008-09-15") and dates[-1] >= pd.Timestamp("2009-03-09")
    assert list(rolling.coverage().loc["pair"].index) == ["CVX/XOM", "KO/PEP", "KO/XOM", "all"]


def test_rolling_has_no_look_ahead(rolling: ProposalBacktest, prices: pd.DataFrame) -> None:
    refit = pd.Timestamp("2008-09-30")  # a quarter-end refit date, fixed by the test
    assert refit in rolling.refits.index
    rng = np.random.default_rng(0)
    later = prices.index > refit
    shocked = prices.copy()
    moves = rng.normal(0, 0.03, (later.sum(), 4))
    moves[0] = [-0.4, 0.4, -0.4, 0.4]  # a crash that breaks both hedges the day after
    shocked.loc[later] *= np.exp(np.cumsum(moves, axis=0))
    again = rolling_backtest(SMALL, shocked, every="QE")
    before = rolling.refits.index <= refit
    assert (again.refits.index == rolling.refits.index).all()
    assert list(again.refits["fingerprint"][before]) == list(rolling.refits["fingerprint"][before])
    # the changed data do reach the later sets, so the comparison can fail
    assert (again.refits["fingerprint"][~before] != rolling.refits["fingerprint"][~before]).all()
    margined = rolling.result.dates <= pd.Timestamp("2008-12-31")  # the next refit date
    pd.testing.assert_frame_equal(
        again.result.margin_cross.loc[margined], rolling.result.margin_cross.loc[margined]
    )
    assert not again.result.margin_cross.loc[~margined].equals(
        rolling.result.margin_cross.loc[~margined]
    )


def test_rolling_refuses_an_unknown_frequency(prices: pd.DataFrame) -> None:
    with pytest.raises(SpecificationError, match="frequency"):
        rolling_backtest(SMALL, prices, every="fortnightly")


def test_rolling_refuses_a_history_too_short(prices: pd.DataFrame) -> None:
    with pytest.raises(InsufficientDataError, match="needs 250 returns"):
        rolling_backtest(SMALL, prices.iloc[:200])


def test_equal_notional_sets_backtest_too(proposal: MarginParameters, prices: pd.DataFrame) -> None:
    other = replace(proposal, offset_hedge="equal_notional")
    result = frozen_backtest(other, prices, min_days=200)
    assert result.result.fingerprint == other.fingerprint != proposal.fingerprint


def test_frozen_backtest_on_hourly_utc_prices_starts_after_the_as_of_day() -> None:
    """An as-of date on hourly UTC data ends with its UTC day (the package's time-zone rule)."""
    rng = np.random.default_rng(4)
    hours = pd.date_range("2025-09-01", periods=24 * 40, freq="h", tz="UTC", unit="us")
    moves = rng.normal(0.0, 0.004, (len(hours), 2))
    prices = pd.DataFrame(100 * np.exp(np.cumsum(moves, axis=0)), index=hours, columns=["A", "B"])
    params = MarginParameters(
        level=0.99,
        mpor="8h",
        period="1h",
        lookback=240,
        risk_weights={"A": 0.05, "B": 0.05},
        as_of="2025-09-20",
    )
    result = frozen_backtest(params, prices, min_days=24).result
    assert result.dates[0] == pd.Timestamp("2025-09-21 00:00", tz="UTC")
    assert result.dates[-1] == hours[-1 - 8]  # the last hour with a realized 8-hour loss
