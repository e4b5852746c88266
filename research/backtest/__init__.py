"""Backtests of margin engines: the rolling offset backtest, test books and coverage tests.

A proposed parameter set is backtested frozen (out of sample) and under rolling
recalibration by :mod:`research.backtest.proposal`.
"""

from research.backtest.conclusions import family_conclusions
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
    day_scenarios,
)
from research.backtest.portfolios import (
    calendar_spreads,
    crypto_books,
    hedged_pairs,
    option_hedges,
    random_books,
    read_positions,
    stack_books,
)
from research.backtest.proposal import (
    ProposalBacktest,
    ProposalBook,
    frozen_backtest,
    proposal_book,
    proposal_coverage,
    rolling_backtest,
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
    "OffsetBacktest",
    "ParametricNormal",
    "ProposalBacktest",
    "ProposalBook",
    "RollingFHS",
    "ScenarioModel",
    "SweepGrid",
    "SweepResult",
    "TrafficLight",
    "acerbi_szekely",
    "calendar_spreads",
    "christoffersen",
    "compare",
    "crypto_books",
    "day_scenarios",
    "family_conclusions",
    "frozen_backtest",
    "hedged_pairs",
    "kupiec",
    "mcneil_frey",
    "option_hedges",
    "proposal_book",
    "proposal_coverage",
    "random_books",
    "read_positions",
    "risk_measure",
    "rolling_backtest",
    "stack_books",
    "sensitivity_sweep",
    "stress_replay",
    "traffic_light",
    "traffic_light_zones",
]
