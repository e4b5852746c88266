"""Plain-language conclusions of an offset backtest, one paragraph per portfolio family.

The sentences are built from the numbers of the result (never typed by hand in a notebook),
so that a study re-run on other data states what that run found.
"""

from __future__ import annotations

import pandas as pd

from research.backtest.results import BacktestResult

__all__ = ["family_conclusions"]

REJECT_SHARE = 0.5
"""A family is called under-margined when Kupiec rejects at 5% for at least half its portfolios
with more exceptions than expected."""


def _verdict(exceptions: int, observations: int, level: float, share_rejected: float) -> str:
    expected = (1 - level) * observations
    if share_rejected >= REJECT_SHARE and exceptions > expected:
        return "is under-margined (too many exceptions)"
    if share_rejected >= REJECT_SHARE:
        return "is over-margined (too few exceptions to be consistent with the target)"
    return "is consistent with the target coverage"


def family_conclusions(result: BacktestResult) -> pd.Series:
    """One paragraph per portfolio family comparing cross with isolated margin.

    Parameters
    ----------
    result : BacktestResult
        The backtest.

    Returns
    -------
    pandas.Series
        Paragraph per family (index: family).
    """
    coverage = result.coverage()
    per = result.per_portfolio()
    out = {}
    for family in result.families():
        row = coverage.loc[family]
        cols = per[("portfolio", "family")] == family
        saved = per.loc[cols, ("offset", "margin_saved_ratio")].mean()
        caused = int(per.loc[cols, ("offset", "offset_caused_exceptions")].sum())
        members = list(result.family.index[result.family == family])
        short_cross = float(result.exceedance("cross")[members].to_numpy().mean())
        short_iso = float(result.isolated_shortfall[members].to_numpy().mean())
        iso_exc, cross_exc = int(row[("isolated", "exceptions")]), int(row[("cross", "exceptions")])
        obs = int(row[("cross", "observations")])
        cross_verdict = _verdict(cross_exc, obs, result.level, row[("cross", "share_rejected")])
        iso_verdict = _verdict(iso_exc, obs, result.level, row[("isolated", "share_rejected")])
        out[family] = (
            f"{family}: cross margin is on average {saved:.0%} below the sum of isolated "
            f"margins. Over {obs:,} portfolio-days it was exceeded {_times(cross_exc)} "
            f"(coverage {row[('cross', 'coverage')]:.2%} against a {result.level:.0%} target; "
            f"Kupiec rejects for {row[('cross', 'share_rejected')]:.0%} of the portfolios, "
            f"typical traffic light {row[('cross', 'traffic_light')]}), against "
            f"{_count(iso_exc, 'exception')} of isolated margin (coverage "
            f"{row[('isolated', 'coverage')]:.2%}). {_count(caused, 'exception')} "
            f"{'was' if caused == 1 else 'were'} offset-caused: covered by isolated but not by "
            f"cross margin. Cross margin {cross_verdict}; isolated margin {iso_verdict}. "
            f"The mean loss beyond the margin was {short_cross:,.0f} per portfolio-day for "
            f"cross margin against {short_iso:,.0f} for the holdings margined on their own."
        )
    return pd.Series(out, name="conclusion")


def _count(n: int, noun: str) -> str:
    """``1 exception``, ``3 exceptions``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _times(n: int) -> str:
    """``once``, ``twice``, ``3 times``, ``0 times``."""
    return {1: "once", 2: "twice"}.get(n, f"{n:,} times")
