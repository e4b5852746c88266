import pytest

from research.portfolio import Market


@pytest.fixture
def market() -> Market:
    return Market(
        spot={"BTC": 60_000.0, "ETH": 3_000.0},
        valuation_date="2026-01-02",
        volatility={"BTC": 0.6, "ETH": 0.7},
        rate=0.03,
        carry={"ETH": 0.05},
    )
