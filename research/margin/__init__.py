"""Margin engines behind one interface: isolated vs cross margin and the offset between them.

Every engine is a frozen dataclass with ``margin(portfolio, market) -> MarginResult`` and the
vectorised ``margin_book(book, market) -> BookMarginResult`` (see :class:`MarginEngine`):

- :class:`RiskWeightEngine`: risk weight x |notional|;
- :class:`CorrelationEngine`: SIMM-style aggregation of weighted sensitivities;
- :class:`FilteredHistoricalSimulation`: VaR/ES over FHS or simulated MPOR scenarios;
- :class:`ScenarioGridEngine`: SPAN-style 16-scenario risk arrays with spread credits.

:class:`OffsetPolicy` caps the recognised offset (EMIR: at most 80%); :mod:`.accounts` compares
a cross account with isolated sub-accounts along scenario paths.

Every engine margins the same domain: a book with no instruments, a unit notional or holding
exposure that is not finite or above ``MAX_AMOUNT`` (1e100 in the reporting currency) is refused
with a :class:`~research.errors.DataError` before any kernel runs, and a margin that comes out
non-finite or above that bound (absurd parameters or scenarios) with a
:class:`~research.errors.ParameterError`; no engine returns a NaN or infinite margin.
"""

from research.margin import accounts
from research.margin.accounts import (
    AccountComparison,
    AccountPaths,
    CrossAccount,
    IsolatedAccounts,
    compare_accounts,
    position_pnl_paths,
)
from research.margin.aggregation import CorrelationEngine
from research.margin.base import BookMarginResult, MarginEngine, MarginResult
from research.margin.fhs import FilteredHistoricalSimulation, ewma_volatility, fhs_scenarios
from research.margin.isolated import RiskWeightEngine
from research.margin.offsets import EMIR_MAX_OFFSET, OffsetPolicy
from research.margin.span import ScenarioGridEngine, SpreadCredit, risk_array_grid
from research.margin.tail import empirical_var_es, tail_count, var_es, var_es_of_product

__all__ = [
    "AccountComparison",
    "AccountPaths",
    "BookMarginResult",
    "CorrelationEngine",
    "CrossAccount",
    "EMIR_MAX_OFFSET",
    "FilteredHistoricalSimulation",
    "IsolatedAccounts",
    "MarginEngine",
    "MarginResult",
    "OffsetPolicy",
    "RiskWeightEngine",
    "ScenarioGridEngine",
    "SpreadCredit",
    "accounts",
    "compare_accounts",
    "ewma_volatility",
    "fhs_scenarios",
    "position_pnl_paths",
    "risk_array_grid",
    "tail_count",
    "empirical_var_es",
    "var_es",
    "var_es_of_product",
]
