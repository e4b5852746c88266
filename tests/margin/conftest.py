import numpy as np
import pandas as pd
import pytest

from research.margin import (
    CorrelationEngine,
    FilteredHistoricalSimulation,
    RiskWeightEngine,
    ScenarioGridEngine,
    SpreadCredit,
)
from research.portfolio import Market, Scenarios

RISK_WEIGHTS = {"BTC": 0.15, "ETH": 0.20, "SOL": 0.30}
RHO = pd.DataFrame(
    [[1.0, 0.8, 0.6], [0.8, 1.0, 0.7], [0.6, 0.7, 1.0]],
    index=list(RISK_WEIGHTS),
    columns=list(RISK_WEIGHTS),
)


@pytest.fixture
def market() -> Market:
    return Market(
        spot={"BTC": 60_000.0, "ETH": 3_000.0, "SOL": 150.0},
        valuation_date="2026-01-02",
        volatility={"BTC": 0.6, "ETH": 0.7, "SOL": 0.9},
        rate=0.03,
    )


@pytest.fixture(scope="module")
def scenario_set() -> Scenarios:
    rng = np.random.default_rng(11)
    vol = np.array([0.04, 0.05, 0.07])
    cov = RHO.to_numpy() * np.outer(vol, vol)
    return Scenarios.from_array(
        rng.multivariate_normal(np.zeros(3), cov, 4_000),
        list(RISK_WEIGHTS),
        description="seeded normal, 4000 draws",
    )


def all_engines(scenario_set):
    return {
        "risk_weight": RiskWeightEngine(RISK_WEIGHTS),
        "correlation": CorrelationEngine(RISK_WEIGHTS, RHO),
        "fhs_es": FilteredHistoricalSimulation(scenario_set, level=0.99, measure="es"),
        "fhs_var": FilteredHistoricalSimulation(scenario_set, level=0.99, measure="var"),
        "scenario_grid": ScenarioGridEngine(
            {"BTC": 0.15, "ETH": 0.2, "SOL": 0.3},
            vol_scan=0.1,
            intra_spread_charge=0.02,
            spreads=[
                SpreadCredit("BTC", "ETH", 0.5, 1.0, 20.0, priority=1),
                SpreadCredit("ETH", "SOL", 0.4, 1.0, 20.0, priority=2),
            ],
        ),
    }


@pytest.fixture(
    scope="module", params=["risk_weight", "correlation", "fhs_es", "fhs_var", "scenario_grid"]
)
def engine(request, scenario_set):
    return all_engines(scenario_set)[request.param]
