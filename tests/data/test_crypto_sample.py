"""The crypto studies' sample: shared files, or the seeded synthetic path without them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.data import SHARED_DATA_VARIABLE, crypto_hourly_sample, resample_bars
from research.data.crypto_sample import CRASH
from research.errors import DataError, SpecificationError

EXACT = 1e-12
"""Closed forms and identities: agreement to rounding."""


@pytest.fixture
def no_shared_files(monkeypatch, tmp_path):
    """A machine without the shared files (a fresh clone)."""
    monkeypatch.setenv(SHARED_DATA_VARIABLE, str(tmp_path))


def test_the_synthetic_path_is_the_documented_draw(no_shared_files):
    sample = crypto_hourly_sample(assets=["BTC", "ETH", "SOL"], seed=7, hours=500, after=100)
    rng = np.random.default_rng(7)
    chol = np.linalg.cholesky(np.array([[1, 0.4, 0.4], [0.4, 1, 0.4], [0.4, 0.4, 1]]))
    steps = rng.standard_t(4, (500, 3)) * 0.004 @ chol.T
    steps[399] -= [0.10, 0.15, 0.20]
    close = 100 * np.exp(np.cumsum(steps, axis=0))
    np.testing.assert_allclose(sample.hourly.close.to_numpy(), close, rtol=EXACT)
    wick = np.exp(np.abs(rng.normal(0, 0.004, (2, 500, 3))))
    body_low = np.fmin(sample.hourly.open, sample.hourly.close).to_numpy()
    np.testing.assert_allclose(
        body_low[399] / sample.hourly.low.to_numpy()[399],
        wick[0, 399] * [1.3, 1.55, 1.8],
        rtol=EXACT,
    )
    index = sample.hourly.close.index
    assert index[399] == CRASH and index[-1] == CRASH + pd.Timedelta(hours=100)
    assert (np.diff(index.asi8) == 3_600 * 10**6).all()  # hourly, microsecond stamps
    assert sample.synthetic and "synthetic" in sample.source
    assert (sample.funding == 0).all()
    daily = resample_bars(sample.hourly, "1D")
    pd.testing.assert_frame_equal(sample.daily.close, daily.close.dropna())


def test_the_synthetic_path_follows_its_seed(no_shared_files):
    first = crypto_hourly_sample(assets=["BTC", "ETH"], seed=1, hours=200, after=50)
    again = crypto_hourly_sample(assets=["BTC", "ETH"], seed=1, hours=200, after=50)
    other = crypto_hourly_sample(assets=["BTC", "ETH"], seed=2, hours=200, after=50)
    pd.testing.assert_frame_equal(first.hourly.low, again.hourly.low)
    assert not np.allclose(first.hourly.close, other.hourly.close)
    window = crypto_hourly_sample(
        assets=["BTC", "ETH"],
        seed=1,
        hours=200,
        after=50,
        start="2025-10-10 20:00",
        end="2025-10-10 23:00",
    )
    pd.testing.assert_frame_equal(
        window.hourly.close, first.hourly.close.loc["2025-10-10 20:00Z":"2025-10-10 23:00Z"]
    )
    assert len(window.hourly.close) == 4


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"assets": []}, SpecificationError, "at least one asset"),
        ({"hours": 10, "after": 10}, SpecificationError, "after < hours"),
        ({"after": 0}, SpecificationError, "after < hours"),
        ({"start": "2030-01-01"}, DataError, "no hourly bar"),
    ],
)
def test_bad_requests_are_named(no_shared_files, kwargs, error, match):
    with pytest.raises(error, match=match):
        crypto_hourly_sample(**kwargs)


def _write_shared(folder):
    """Tiny files of the shared files' form: ETH misses its low at 2025-10-10 02:00."""
    hours = pd.date_range("2025-10-10", periods=6, freq="h")
    rows = []
    for asset, price in (("BTC", 100.0), ("ETH", 10.0), ("SOL", 1.0)):
        for k, stamp in enumerate(hours):
            low = "" if (asset, k) == ("ETH", 2) else price * 0.99
            rows.append((f"{stamp:%Y-%m-%d %H:%M}", asset, price, price * 1.01, low, price))
    pd.DataFrame(rows, columns=["time_utc", "asset", "open", "high", "low", "close"]).to_csv(
        folder / "crypto_perp_hourly_binance.csv", index=False
    )
    days = [
        (d, a, 5.0, 6.0, 4.0, 5.0) for d in ("2025-10-08", "2025-10-09") for a in ("BTC", "ETH")
    ]
    pd.DataFrame(days, columns=["date", "asset", "open", "high", "low", "close"]).to_csv(
        folder / "crypto_spot_daily_binance.csv", index=False
    )
    pd.DataFrame({"date": ["2025-10-09", "2025-10-10"], "funding_mean": [1e-4, -2e-4]}).to_csv(
        folder / "btc_perp_funding_daily.csv", index=False
    )


def test_the_shared_files_give_complete_bars_and_the_funding(no_shared_files, tmp_path):
    _write_shared(tmp_path)
    sample = crypto_hourly_sample(tmp_path, assets=["BTC", "ETH"], start="2025-10-10 01:00")
    assert not sample.synthetic
    assert sample.source == (
        "crypto_perp_hourly_binance.csv (hourly perpetuals), crypto_spot_daily_binance.csv "
        "(daily spot) and btc_perp_funding_daily.csv (BTC funding)"
    )
    hours = pd.DatetimeIndex(
        ["2025-10-10 01:00", "2025-10-10 03:00", "2025-10-10 04:00", "2025-10-10 05:00"]
    ).tz_localize("UTC")
    np.testing.assert_array_equal(sample.hourly.close.index.asi8, hours.asi8)
    assert str(sample.hourly.close.index.tz) == "UTC"
    assert list(sample.hourly.low.columns) == ["BTC", "ETH"]
    assert sample.daily.close.to_numpy().tolist() == [[5.0, 5.0], [5.0, 5.0]]
    assert sample.funding.to_numpy().tolist() == [1e-4, -2e-4]
    with pytest.raises(DataError, match=r"no prices for \['XRP'\]"):
        crypto_hourly_sample(tmp_path, assets=["BTC", "XRP"])
