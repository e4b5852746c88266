"""Contagion: how often a loss on one position liquidates a whole cross account.

Both account types start each margin period with collateral equal to the margin called at
``t`` and face the same realized losses over ``t .. t+h``:

* a **cross account** holds every leg; when the portfolio loss exceeds the cross margin the
  whole account (all its legs) is liquidated and the excess is a shortfall;
* **isolated accounts** hold one leg each with that leg's own margin; a leg whose loss exceeds
  its margin liquidates only itself, and gains on other legs cannot cover its shortfall.

A *contagion event* is a cross liquidation in which at most one leg would have breached its own
isolated margin: a loss on one position (or on none alone, the offsets failing) takes down
legs that would have survived in isolated accounts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.backtest.results import BacktestResult

__all__ = ["contagion"]


def _rates(result: BacktestResult, cols: list[object]) -> dict[str, float]:
    loss = result.loss[cols].to_numpy()
    cross = result.margin_cross[cols].to_numpy()
    breaches = result.position_breaches[cols].to_numpy()
    legs = np.broadcast_to(result.n_legs[cols].to_numpy(), loss.shape)
    n_obs = loss.size
    liquidated = loss > cross
    iso_any = breaches > 0
    single = liquidated & (breaches == 1) & (legs >= 2)
    none = liquidated & (breaches == 0) & (legs >= 2)
    cross_short = np.maximum(loss - cross, 0.0)
    iso_short = result.isolated_shortfall[cols].to_numpy()
    return {
        "observations": n_obs,
        "cross_liquidation_rate": liquidated.sum() / n_obs,
        "isolated_liquidation_rate": iso_any.sum() / n_obs,
        "contagion_rate": (single.sum() + none.sum()) / n_obs,
        "single_position_contagion_rate": single.sum() / n_obs,
        "offset_only_liquidation_rate": none.sum() / n_obs,
        "legs_dragged": float(np.where(liquidated, legs - breaches, 0).mean()),
        "legs_liquidated_cross": float(legs[liquidated].mean()) if liquidated.any() else 0.0,
        "legs_liquidated_isolated": float(breaches[iso_any].mean()) if iso_any.any() else 0.0,
        "mean_shortfall_cross": float(cross_short.mean()),
        "mean_shortfall_isolated": float(iso_short.mean()),
        "max_shortfall_cross": float(cross_short.max()),
        "max_shortfall_isolated": float(iso_short.max()),
    }


def contagion(result: BacktestResult, by: str = "family") -> pd.DataFrame:
    """Liquidation, contagion and shortfall of cross versus isolated accounts.

    Parameters
    ----------
    result : BacktestResult
        An offset backtest (same portfolios, days and realized losses for both account types).
    by : {"family", "all"}
        One row per portfolio family plus ``"all"``, or only ``"all"``.

    Returns
    -------
    pandas.DataFrame
        Rates are per portfolio-day: ``cross_liquidation_rate`` (loss above the cross margin),
        ``isolated_liquidation_rate`` (at least one leg above its own margin),
        ``contagion_rate`` (cross liquidation with at most one leg breaching alone; split into
        ``single_position_contagion_rate`` and ``offset_only_liquidation_rate``),
        ``legs_dragged`` (mean per portfolio-day of the legs closed by a cross liquidation that
        survive on their own, the count of ``research.margin.accounts.AccountComparison``), the
        mean number of legs liquidated per liquidation under each account type, and mean /
        maximum shortfall beyond collateral (currency).

    Notes
    -----
    Collateral equals the margin called at ``t`` and liquidation is judged on the loss at the
    end of the MPOR; the path-wise accounts of :mod:`research.margin.accounts` (maintenance
    margin below initial margin, liquidation at any step) are stricter.

    Examples
    --------
    >>> contagion(result).loc["all", "contagion_rate"]  # doctest: +SKIP
    """
    rows = {}
    if by == "family":
        for fam in result.families():
            rows[fam] = _rates(result, list(result.family.index[result.family == fam]))
    rows["all"] = _rates(result, list(result.loss.columns))
    out = pd.DataFrame(rows).T
    out["observations"] = out["observations"].astype(int)
    out.index.name = "family"
    return out
