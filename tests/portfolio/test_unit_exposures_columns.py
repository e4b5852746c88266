"""unit_exposures built from columns: the same frame as one built row by row from the Greeks."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from research.errors import DataError
from research.portfolio import (
    DatedFuture,
    EuropeanOption,
    Greeks,
    InversePerpetual,
    LinearPerpetual,
    Market,
    Spot,
    unit_exposures,
)


def _by_rows(instruments, market: Market) -> pd.DataFrame:
    """Independent reference: one row dict per instrument, straight from its Greeks."""
    rows = []
    for i in instruments:
        g = i.greeks(market)
        spot = market.spot_of(i.underlying)
        rows.append(
            {
                "underlying": i.underlying,
                "notional": g.notional,
                "delta": g.delta,
                "delta_notional": g.delta * spot,
                "gamma": g.gamma,
                "vega": g.vega,
                "theta": g.theta,
            }
        )
    frame = pd.DataFrame(rows, index=[i.label for i in instruments])
    frame["underlying"] = frame["underlying"].astype(object)
    return frame


def test_same_frame_as_rows(market: Market) -> None:
    instruments = (
        Spot("BTC"),
        LinearPerpetual("ETH"),
        InversePerpetual("BTC"),
        DatedFuture("ETH", expiry=0.5, contract_size=2.0),
        EuropeanOption("BTC", strike=65_000.0, expiry=0.25, kind="call"),
        EuropeanOption("ETH", strike=2_500.0, expiry="2026-06-26", kind="put"),
    )
    got = unit_exposures(instruments, market)
    want = _by_rows(instruments, market)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got["underlying"].dtype == object
    assert all(got[c].dtype == np.float64 for c in got.columns[1:])
    # a long call: delta notional = delta x spot, exactly
    call = got.iloc[4]
    assert call["delta_notional"] == call["delta"] * 60_000.0
    assert 0 < call["delta"] < 1 and call["gamma"] > 0 and call["vega"] > 0


@dataclass(frozen=True)
class _IntGreeks:
    """An instrument whose Greeks are Python ints: the columns keep int64, as rows would."""

    underlying: str = "BTC"
    label: str = "int greeks"

    def greeks(self, market: Market) -> Greeks:
        return Greeks(notional=2, delta=1, gamma=0, vega=0, theta=0)


def test_int_greeks_keep_the_dtype_rows_give(market: Market) -> None:
    instruments = (_IntGreeks(), _IntGreeks(label="again"))
    got = unit_exposures(instruments, market)
    pd.testing.assert_frame_equal(got, _by_rows(instruments, market), check_exact=True)
    assert got["notional"].dtype == np.int64


def test_non_finite_delta_notional_is_named() -> None:
    huge = Market(spot={"BTC": 1e300})
    future = DatedFuture("BTC", expiry=1.0, contract_size=1e10)
    with pytest.raises(DataError, match="notional of one unit of 'BTC future"):
        unit_exposures((Spot("BTC"), future), huge)
