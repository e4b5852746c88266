"""Backtests of margin models: the rolling offset backtest, test portfolios and coverage tests."""

from research.backtest.conclusions import family_conclusions
from research.backtest.contagion import contagion
from research.backtest.coverage import (
    ChristoffersenTest,
    CoverageTest,
    TrafficLight,
    christoffersen,
    kupiec,
    traffic_light,
    traffic_light_zones,
)
from research.backtest.engine import OffsetBacktest, risk_measure
from research.backtest.expected_shortfall import acerbi_szekely, mcneil_frey
from research.backtest.models import (
    CalibratedRiskWeights,
    FittedScenarios,
    ParametricNormal,
    RollingFHS,
    ScenarioModel,
)
from research.backtest.portfolios import (
    LinearLeg,
    OptionLeg,
    PortfolioSet,
    calendar_spreads,
    hedged_pairs,
    option_hedges,
    random_books,
    read_positions,
)
from research.backtest.replay import stress_replay
from research.backtest.results import ACCOUNTS, BacktestResult, compare
from research.backtest.sweep import SweepGrid, SweepResult, sensitivity_sweep

__all__ = [
    "ACCOUNTS",
    "BacktestResult",
    "CalibratedRiskWeights",
    "ChristoffersenTest",
    "CoverageTest",
    "FittedScenarios",
    "LinearLeg",
    "OffsetBacktest",
    "OptionLeg",
    "ParametricNormal",
    "PortfolioSet",
    "RollingFHS",
    "ScenarioModel",
    "SweepGrid",
    "SweepResult",
    "TrafficLight",
    "acerbi_szekely",
    "calendar_spreads",
    "christoffersen",
    "compare",
    "contagion",
    "family_conclusions",
    "hedged_pairs",
    "kupiec",
    "mcneil_frey",
    "option_hedges",
    "random_books",
    "read_positions",
    "risk_measure",
    "sensitivity_sweep",
    "stress_replay",
    "traffic_light",
    "traffic_light_zones",
]
