"""Filtered historical simulation: h-day scenarios at current volatility, and a VaR/ES engine."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import pandas as pd

from research._typing import Float64Array, Float64Array2D
from research.data import ReturnUnits, overlapping_sums, to_decimal, validate_units
from research.errors import (
    DataError,
    DataQualityWarning,
    InsufficientDataError,
    ParameterError,
    SpecificationError,
)
from research.margin._engine import BookEngine
from research.margin.offsets import OffsetPolicy
from research.margin.tail import tail_count, var_es_of_product
from research.portfolio import Market, PortfolioBook, Scenarios, unit_pnl
from research.volatility.ewma import (
    ewma_volatility,  # the package's one EWMA, re-exported
    finite_values,
)

__all__ = ["FilteredHistoricalSimulation", "fhs_scenarios", "ewma_volatility"]


def fhs_scenarios(
    returns: pd.DataFrame,
    mpor: int,
    volatility: Literal["ewma"] | pd.DataFrame = "ewma",
    current: pd.Series | None = None,
    decay: float = 0.94,
    units: ReturnUnits = "percent",
) -> Scenarios:
    """Filtered-historical-simulation scenarios of ``mpor``-day log returns.

    Parameters
    ----------
    returns : pandas.DataFrame
        Date x underlying daily **log** returns (``research.data.to_returns`` gives percent).
        Rows with a missing value are dropped, counted and reported (warning + on the result).
    mpor : int
        Margin period of risk ``h`` in days (>= 1).
    volatility : "ewma" or pandas.DataFrame
        ``"ewma"``: RiskMetrics filter with ``decay``. A DataFrame: conditional volatilities
        ``sigma_t`` in the units of ``returns`` with the same labels (e.g. a fitted GARCH's
        conditional volatility).
    current : pandas.Series, optional
        Current volatility per underlying to rescale to; default the EWMA one-step forecast, or
        the last row of a given ``volatility``.
    decay : float
        EWMA decay.
    units : {"percent", "decimal"}
        Units of ``returns`` (and of ``volatility`` / ``current``).

    Returns
    -------
    Scenarios
        ``kind="log"`` decimal ``h``-day returns, one scenario per overlapping window,
        labelled by its last date.

    Notes
    -----
    Each daily return is devolatilised and rescaled to today's volatility,
    ``r~_t = r_t sigma_now / sigma_t``, and scenarios are the overlapping sums
    ``sum_{j=0}^{h-1} r~_{t-j}``.

    References
    ----------
    Barone-Adesi, G., Giannopoulos, K., Vosper, L. (1999). VaR without correlations for
    portfolios of derivative securities. *Journal of Futures Markets*, 19, 583-602.
    """
    if not isinstance(mpor, int | np.integer) or mpor < 1:
        raise ParameterError(f"mpor is {mpor!r}; give a whole number of days >= 1")
    validate_units(units)
    notes: list[str] = []
    clean = returns.dropna(how="any")
    dropped = len(returns) - len(clean)
    if dropped:
        per_asset = returns.isna().sum()
        detail = ", ".join(f"{a}: {int(n)}" for a, n in per_asset[per_asset > 0].items())
        notes.append(
            f"fhs_scenarios dropped {dropped} of {len(returns)} dates with missing "
            f"returns ({detail})"
        )
        warnings.warn(notes[-1], DataQualityWarning, stacklevel=2)
    finite_values(clean, "return")
    if len(clean) < mpor + 1:
        raise InsufficientDataError(
            f"{len(clean)} complete dates for an MPOR of {mpor} days; give a longer history"
        )
    if isinstance(volatility, str):
        if volatility != "ewma":
            raise SpecificationError(
                f"volatility must be 'ewma' or a DataFrame, got {volatility!r}"
            )
        sigma, forecast = ewma_volatility(clean, decay)
        method = f"EWMA(lambda={decay})"
    else:
        sigma = pd.DataFrame(volatility).reindex(index=clean.index, columns=clean.columns)
        if sigma.isna().any().any():
            raise DataError("volatility does not cover every (date, underlying) of the returns")
        finite_values(sigma, "volatility")
        forecast = sigma.iloc[-1]
        method = "given volatility paths"
    if current is not None:
        forecast = pd.Series(current, dtype=float).reindex(clean.columns)
        if forecast.isna().any():
            raise DataError(
                f"current volatility missing for {list(forecast.index[forecast.isna()])}"
            )
    s = sigma.to_numpy(dtype=float)
    now = forecast.to_numpy(dtype=float)
    if not np.isfinite(now).all():
        k = int(np.argmax(~np.isfinite(now)))
        raise DataError(
            f"current volatility of {forecast.index[k]!r} is {now[k]}; give a finite one"
        )
    if (s <= 0).any() or (now <= 0).any():
        raise DataError("volatilities must be > 0 to filter the returns")
    with np.errstate(over="ignore"):
        filtered = to_decimal(clean.to_numpy(dtype=float) / s * now, units)
    finite_values(
        pd.DataFrame(filtered, index=clean.index, columns=clean.columns),
        "return rescaled to the current volatility",
    )
    windows = overlapping_sums(filtered, mpor)
    frame = pd.DataFrame(windows, index=clean.index[mpor - 1 :], columns=clean.columns)
    description = (
        f"FHS {mpor}-day log returns, {len(frame)} overlapping windows "
        f"{clean.index[0]} .. {clean.index[-1]}, filter: {method}"
    )
    return Scenarios(frame, kind="log", description=description, warnings=tuple(notes))


def _label(scenario: object) -> str:
    if isinstance(scenario, pd.Timestamp) and scenario == scenario.normalize():
        return str(scenario.date())
    return str(scenario)


@dataclass(frozen=True)
class _Prep:
    losses: Float64Array2D  # instruments x scenarios, loss of one long unit
    labels: np.ndarray


@dataclass(frozen=True)
class FilteredHistoricalSimulation(BookEngine):
    """VaR or ES of the full-revaluation P&L over a scenario set (FHS or simulated).

    Parameters
    ----------
    scenarios : Scenarios
        ``h``-day moves: from :func:`fhs_scenarios`, or any simulated set (e.g. DCC
        simulations via :meth:`Scenarios.from_array`).
    level : float
        Confidence level, e.g. 0.99.
    measure : {"es", "var"}
        Margin measure.
    offset_policy : OffsetPolicy, optional
        Cap on the offset between isolated and cross margin.

    Notes
    -----
    Losses ``L = -Q U`` where ``U`` is the instruments x scenarios unit P&L; VaR is the
    ``m``-th largest loss and ES the mean of the ``m`` largest, ``m = ceil((1 - level) n)``.
    Margins are floored at zero. For a book the cross margin is one matrix product, computed
    in cache-sized blocks of portfolios that are reduced to VaR/ES as they are produced
    (:func:`research.margin.tail.var_es_of_product`). The driver is the scenario at the VaR.
    """

    scenarios: Scenarios
    level: float = 0.99
    measure: Literal["es", "var"] = "es"
    offset_policy: OffsetPolicy | None = None
    name: ClassVar[str] = "fhs"

    def __post_init__(self) -> None:
        if self.measure not in ("es", "var"):
            raise SpecificationError(f"measure must be 'es' or 'var', got {self.measure!r}")
        tail_count(self.scenarios.n_scenarios, self.level)

    def settings(self) -> dict[str, object]:
        """Level, measure, number and description of the scenarios, offset policy."""
        return {
            "level": self.level,
            "measure": self.measure,
            "n_scenarios": self.scenarios.n_scenarios,
            "scenarios": self.scenarios.description,
            "kind": self.scenarios.kind,
            "offset_policy": None if self.offset_policy is None else self.offset_policy.to_dict(),
        }

    def _prepare(self, book: PortfolioBook, market: Market) -> _Prep:
        losses = -unit_pnl(book.instruments, market, self.scenarios)
        return _Prep(
            np.ascontiguousarray(losses),
            np.array([_label(s) for s in self.scenarios.moves.index], dtype=object),
        )

    def _cross(self, q: Float64Array2D, prep: _Prep) -> tuple[Float64Array, np.ndarray]:
        var, es, scenario = var_es_of_product(q, prep.losses, self.level)
        margin = es if self.measure == "es" else var
        return np.maximum(margin, 0.0), prep.labels[scenario]

    def _warnings(self, prep: _Prep) -> tuple[str, ...]:
        return self.scenarios.warnings
