"""Backtests of margin models: coverage tests and expected-shortfall tests."""

from research.backtest.coverage import (
    ChristoffersenTest,
    CoverageTest,
    TrafficLight,
    christoffersen,
    kupiec,
    traffic_light,
    traffic_light_zones,
)
from research.backtest.expected_shortfall import acerbi_szekely, mcneil_frey

__all__ = [
    "ChristoffersenTest",
    "CoverageTest",
    "TrafficLight",
    "acerbi_szekely",
    "christoffersen",
    "kupiec",
    "mcneil_frey",
    "traffic_light",
    "traffic_light_zones",
]
