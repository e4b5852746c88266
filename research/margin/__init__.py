"""Margin engines behind one interface: isolated vs cross margin and the offset between them.

Every engine is a frozen dataclass with ``margin(portfolio, market) -> MarginResult`` and the
vectorised ``margin_book(book, market) -> BookMarginResult`` (see :class:`MarginEngine`):

- :class:`RiskWeightEngine`: risk weight x |notional|;
- :class:`CorrelationEngine`: SIMM-style aggregation of weighted sensitivities;
- :class:`FilteredHistoricalSimulation`: VaR/ES over FHS or simulated MPOR scenarios;
- :class:`ScenarioGridEngine`: SPAN-style 16-scenario risk arrays with spread credits;
- :class:`ParameterSetEngine`: a calibrated parameter set
  (``research.calibration.MarginParameters``) as an engine: risk weight x |delta notional|,
  less the set's offset credits; every result's ``engine`` label names the set's fingerprint.

:class:`OffsetPolicy` caps the recognised offset (EMIR: at most 80%); :mod:`.accounts` compares
a cross account with isolated sub-accounts along scenario paths.

Two conventions for a pair credit, side by side (:mod:`.credits` has the formulas and the
converters :func:`spread_rate` / :func:`credit_from_spread_rate`):

- **offset credit** ``c`` (calibration, :class:`ParameterSetEngine`, the backtest; the
  package's definition): share of the *sum* of the matched legs' standalone margins removed,
  ``M_ab = (1 - c)(R_a + R_b)``;
- **SPAN spread rate** ``r`` (:class:`SpreadCredit`, used only by :class:`ScenarioGridEngine`):
  SPAN inter-commodity spread credit, applied to the *smaller* leg's margin,
  ``M_ab = R_a + R_b - r min(R_a, R_b)``.

They remove the same margin when ``r = c (R_a + R_b) / min(R_a, R_b)`` (``r = 2c`` for
equal-risk legs); a credit above ``min(R_a, R_b) / (R_a + R_b)`` has no SPAN equivalent.

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
from research.margin.credits import (
    PairCredit,
    credit_from_spread_rate,
    hedged_pair_margin,
    pair_offsets,
    spread_credit,
    spread_rate,
)
from research.margin.fhs import FilteredHistoricalSimulation, ewma_volatility, fhs_scenarios
from research.margin.isolated import RiskWeightEngine
from research.margin.offsets import EMIR_MAX_OFFSET, OffsetPolicy
from research.margin.parameter_set import ParameterSet, ParameterSetEngine
from research.margin.span import IntraSpread, ScenarioGridEngine, SpreadCredit, risk_array_grid
from research.margin.tail import empirical_var_es, tail_count, var_es, var_es_of_product

__all__ = [
    "AccountComparison",
    "AccountPaths",
    "BookMarginResult",
    "CorrelationEngine",
    "CrossAccount",
    "EMIR_MAX_OFFSET",
    "FilteredHistoricalSimulation",
    "IntraSpread",
    "IsolatedAccounts",
    "MarginEngine",
    "MarginResult",
    "OffsetPolicy",
    "PairCredit",
    "ParameterSet",
    "ParameterSetEngine",
    "RiskWeightEngine",
    "ScenarioGridEngine",
    "SpreadCredit",
    "accounts",
    "compare_accounts",
    "credit_from_spread_rate",
    "ewma_volatility",
    "fhs_scenarios",
    "hedged_pair_margin",
    "pair_offsets",
    "position_pnl_paths",
    "risk_array_grid",
    "spread_credit",
    "spread_rate",
    "tail_count",
    "empirical_var_es",
    "var_es",
    "var_es_of_product",
]
