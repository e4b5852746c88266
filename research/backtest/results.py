"""The immutable result of an offset backtest: margins, losses, exceptions and their tests.

Two *account types* are compared on the same portfolios and days: ``"isolated"`` (every leg
margined on its own, the margins summed) and ``"cross"`` (the portfolio margined as a whole,
after any offset cap). An *exception* is a day whose realized MPOR loss exceeds the margin; an
*offset-caused exception* is one the isolated margin would have covered but the cross margin
did not.

Coverage tests with a horizon ``h > 1`` use every ``h``-th day only (non-overlapping margin
periods), because overlapping ``h``-day losses make consecutive exceptions dependent by
construction; counts and achieved coverage use every day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from research.backtest.coverage import christoffersen, kupiec, traffic_light
from research.data import to_percent
from research.data.timeindex import range_mask, stamp_text
from research.errors import DataError, InsufficientDataError, SpecificationError
from research.portfolio import PortfolioBook

__all__ = ["BacktestResult", "ACCOUNTS", "compare"]

Account = Literal["isolated", "cross"]
ACCOUNTS: tuple[Account, Account] = ("isolated", "cross")
TEST_SIZE = 0.05
"""Size at which per-portfolio coverage tests are counted as rejections."""


def _check_account(account: str) -> Account:
    if account not in ACCOUNTS:
        raise SpecificationError(f"account must be 'isolated' or 'cross', got {account!r}")
    return account  # type: ignore[return-value]


#: The date x portfolio frames of a :class:`BacktestResult`, cut together by its selections.
_DATE_BY_PORTFOLIO = (
    "margin_isolated",
    "margin_cross",
    "margin_cross_engine",
    "loss",
    "isolated_shortfall",
    "position_breaches",
)


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """Margins and realized losses of many portfolios over a test period.

    Attributes
    ----------
    margin_isolated, margin_cross : pandas.DataFrame
        Dates x portfolios: sum of the legs' own margins, and the charged cross margin.
    margin_cross_engine : pandas.DataFrame
        Cross margin before any offset cap.
    loss : pandas.DataFrame
        Realized loss (positive = loss) of the portfolio frozen at ``t`` over ``t .. t+h``.
    isolated_shortfall : pandas.DataFrame
        Sum over holdings of the loss beyond the holding's own margin (no netting).
    position_breaches : pandas.DataFrame
        Number of legs whose loss exceeds their own margin.
    family : pandas.Series
        Portfolio family per portfolio.
    n_legs : pandas.Series
        Legs held per portfolio.
    refit_dates : pandas.DatetimeIndex
        Dates at which the model was refitted.
    settings : mapping
        Engine settings (model, level, measure, horizon, refit_every, lookback, offset policy,
        ``funding``: the funding each perpetual's underlying accrued, ``"none"``,
        ``"<u>: constant x per 8h"`` or ``"<u>: series <file>:<column>"``, and
        ``margin_funding``).
    warnings : tuple of str
        Problems met during the run (e.g. non-converged fits).
    funding : pandas.DataFrame, optional
        Dates x portfolios: funding the portfolio's perpetuals paid over ``t .. t+h``
        (positive = paid), already part of ``loss``; zero without funding. ``None`` for a
        result built without it (see :meth:`funding_contribution`).
    """

    margin_isolated: pd.DataFrame
    margin_cross: pd.DataFrame
    margin_cross_engine: pd.DataFrame
    loss: pd.DataFrame
    isolated_shortfall: pd.DataFrame
    position_breaches: pd.DataFrame
    family: pd.Series
    n_legs: pd.Series
    refit_dates: pd.DatetimeIndex
    settings: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    funding: pd.DataFrame | None = None

    @classmethod
    def from_arrays(
        cls,
        *,
        dates: pd.DatetimeIndex,
        book: PortfolioBook,
        family: pd.Series,
        arrays: Mapping[str, np.ndarray],
        position_breaches: np.ndarray,
        refit_dates: pd.DatetimeIndex,
        settings: Mapping[str, Any],
        warnings: tuple[str, ...],
    ) -> BacktestResult:
        """Label the backtest's arrays (dates x portfolios) with dates and portfolio names."""
        names = book.quantities.index

        def frame(values: np.ndarray) -> pd.DataFrame:
            return pd.DataFrame(values, index=dates, columns=names)

        return cls(
            margin_isolated=frame(arrays["isolated"]),
            margin_cross=frame(arrays["cross"]),
            margin_cross_engine=frame(arrays["cross_engine"]),
            loss=frame(arrays["loss"]),
            isolated_shortfall=frame(arrays["shortfall"]),
            position_breaches=frame(position_breaches),
            family=family,
            n_legs=(book.quantities != 0).sum(axis=1).rename("n_legs"),
            refit_dates=refit_dates,
            settings=dict(settings),
            warnings=warnings,
            funding=frame(arrays["funding"]) if "funding" in arrays else None,
        )

    # ------------------------------------------------------------------ basic views
    @property
    def level(self) -> float:
        """Margin confidence level."""
        return float(self.settings["level"])

    @property
    def fingerprint(self) -> str | None:
        """Fingerprint of the parameter set that was margined (``None`` for other engines)."""
        return self.settings.get("fingerprint")

    @property
    def horizon(self) -> int:
        """Margin period of risk in days."""
        return int(self.settings["horizon"])

    @property
    def dates(self) -> pd.DatetimeIndex:
        """Margin dates of the test period."""
        return pd.DatetimeIndex(self.loss.index)

    def margin(self, account: Account) -> pd.DataFrame:
        """Margin of one account type (dates x portfolios)."""
        return self.margin_isolated if _check_account(account) == "isolated" else self.margin_cross

    def exceptions(self, account: Account = "cross") -> pd.DataFrame:
        """Boolean dates x portfolios: realized loss above the margin."""
        return self.loss > self.margin(account)

    def exceedance(self, account: Account = "cross") -> pd.DataFrame:
        """Loss beyond the margin on exception days, 0 otherwise (dates x portfolios)."""
        return (self.loss - self.margin(account)).clip(lower=0.0)

    def offset_caused(self) -> pd.DataFrame:
        """Exceptions covered by the isolated margin but not by the cross margin."""
        return self.exceptions("cross") & ~self.exceptions("isolated")

    def margin_saved(self) -> pd.DataFrame:
        """Isolated minus charged cross margin (dates x portfolios)."""
        return self.margin_isolated - self.margin_cross

    def _test_rows(self) -> np.ndarray:
        return np.arange(0, len(self.dates), self.horizon)

    # ------------------------------------------------------------------ tables
    def _tests(self, hits: np.ndarray) -> dict[str, Any]:
        n_exc, n_obs = int(hits.sum()), int(hits.size)
        pof = kupiec(n_exc, n_obs, level=self.level)
        cc = christoffersen(hits, level=self.level) if n_obs >= 2 else None
        return {
            "test_exceptions": n_exc,
            "test_observations": n_obs,
            "kupiec_pvalue": pof.pvalue,
            "christoffersen_pvalue": np.nan if cc is None else cc.conditional_coverage.pvalue,
            "independence_pvalue": np.nan if cc is None else cc.independence.pvalue,
            "traffic_light": traffic_light(n_exc, n_obs, level=self.level).zone,
        }

    def per_portfolio(self) -> pd.DataFrame:
        """One row per portfolio, columns ``(account, statistic)``.

        Statistics: exceptions, observations, coverage, largest and average exceedance
        (currency), mean margin, Kupiec / Christoffersen conditional-coverage / independence
        p-values and traffic light on the non-overlapping days; plus, under ``"offset"``, the
        mean margin saved, its ratio to the isolated margin and the offset-caused exceptions.

        Returns
        -------
        pandas.DataFrame
        """
        rows = self._test_rows()
        parts = {}
        for account in ACCOUNTS:
            exc = self.exceptions(account)
            over = self.exceedance(account)
            hits = exc.to_numpy()[rows]
            tests = [self._tests(hits[:, j]) for j in range(hits.shape[1])]
            table = pd.DataFrame(tests, index=self.loss.columns)
            table.insert(0, "exceptions", exc.sum().astype(int))
            table.insert(1, "observations", len(self.dates))
            table.insert(2, "coverage", 1.0 - table["exceptions"] / len(self.dates))
            table.insert(3, "largest_exceedance", over.max())
            table.insert(4, "average_exceedance", (over.where(exc).mean()).fillna(0.0))
            table.insert(5, "mean_margin", self.margin(account).mean())
            parts[account] = table
        saved = self.margin_saved()
        parts["offset"] = pd.DataFrame(
            {
                "mean_margin_saved": saved.mean(),
                "margin_saved_ratio": saved.sum() / self.margin_isolated.sum(),
                "offset_caused_exceptions": self.offset_caused().sum().astype(int),
            }
        )
        out = pd.concat(parts, axis=1)
        out.insert(0, ("portfolio", "family"), self.family)
        return out

    def coverage(self, by: Literal["family", "all"] = "family", wide: bool = True) -> pd.DataFrame:
        """Coverage per portfolio family (or for all portfolios) and account type.

        Columns ``(account, statistic)`` with statistics ``exceptions``, ``observations``
        (pooled portfolio-days), ``coverage``, ``target``, ``kupiec_pvalue`` and
        ``christoffersen_pvalue`` (medians of the per-portfolio p-values),
        ``share_rejected`` (portfolios rejected by Kupiec at 5%) and ``traffic_light`` (zone of
        the mean per-portfolio exception count over the non-overlapping days).

        Notes
        -----
        Portfolios share their dates, so their exceptions are not independent across
        portfolios; a test on pooled counts would over-reject. The tests are therefore run per
        portfolio and summarised.

        Parameters
        ----------
        by : {"family", "all"}
            One row per family, or one for all portfolios.
        wide : bool
            ``True``: columns ``(account, statistic)``; ``False``: rows ``(account, family)``
            and one column per statistic (narrower, for printing).

        Returns
        -------
        pandas.DataFrame
        """
        table = self.per_portfolio()
        groups = (
            table[("portfolio", "family")]
            if by == "family"
            else pd.Series("all", index=table.index)
        )
        parts = {}
        for account in ACCOUNTS:
            t = table[account]
            g = t.groupby(groups.to_numpy(), sort=False)
            exc, obs = g["exceptions"].sum(), g["observations"].sum()
            mean_test = g["test_exceptions"].mean().round().astype(int)
            n_test = g["test_observations"].first()
            parts[account] = pd.DataFrame(
                {
                    "exceptions": exc,
                    "observations": obs,
                    "coverage": 1.0 - exc / obs,
                    "target": self.level,
                    "kupiec_pvalue": g["kupiec_pvalue"].median(),
                    "christoffersen_pvalue": g["christoffersen_pvalue"].median(),
                    "share_rejected": g["kupiec_pvalue"].apply(
                        lambda p: float((p < TEST_SIZE).mean())
                    ),
                    "traffic_light": [
                        traffic_light(int(e), int(n), level=self.level).zone
                        for e, n in zip(mean_test, n_test, strict=True)
                    ],
                }
            )
        if not wide:
            return pd.concat(parts, names=["account", "family"])
        out = pd.concat(parts, axis=1)
        out.index.name = "family" if by == "family" else None
        return out

    def summary(self) -> pd.DataFrame:
        """Aggregate over all portfolio-days, one column per account type plus ``target``.

        Returns
        -------
        pandas.DataFrame
            Rows: portfolios, days, observations, exceptions, coverage, exception_rate,
            largest_exceedance, average_exceedance, mean_margin, share_rejected_kupiec,
            offset_caused_exceptions, mean_margin_saved, margin_saved_ratio.
        """
        n_obs = self.loss.size
        cols = {}
        per = self.per_portfolio()
        for account in ACCOUNTS:
            exc = self.exceptions(account)
            over = self.exceedance(account)
            n_exc = int(exc.to_numpy().sum())
            cols[account] = {
                "portfolios": self.loss.shape[1],
                "days": len(self.dates),
                "observations": n_obs,
                "exceptions": n_exc,
                "coverage": 1 - n_exc / n_obs,
                "exception_rate": n_exc / n_obs,
                "largest_exceedance": float(over.to_numpy().max()),
                "average_exceedance": float(over.to_numpy()[exc.to_numpy()].mean())
                if n_exc
                else 0.0,
                "mean_margin": float(self.margin(account).to_numpy().mean()),
                "share_rejected_kupiec": float(
                    (per[(account, "kupiec_pvalue")] < TEST_SIZE).mean()
                ),
            }
        saved = self.margin_saved().to_numpy()
        offset_rows = {
            "offset_caused_exceptions": int(self.offset_caused().to_numpy().sum()),
            "mean_margin_saved": float(saved.mean()),
            "margin_saved_ratio": float(saved.sum() / self.margin_isolated.to_numpy().sum()),
        }
        out = pd.DataFrame(cols)
        for name, value in offset_rows.items():
            out.loc[name] = [np.nan, value]
        out["target"] = np.nan
        out.loc["coverage", "target"] = self.level
        out.loc["exception_rate", "target"] = 1 - self.level
        out.loc["share_rejected_kupiec", "target"] = TEST_SIZE
        return out

    def disclosure(self, by: Literal["family", "all"] = "all") -> pd.DataFrame:
        """Backtest disclosure in the style of the CPMI-IOSCO public quantitative disclosures.

        One row per account type (and family): observations, number of breaches, size of the
        largest breach, average breach (currency and as a share of the margin called), achieved
        coverage and the target.

        Parameters
        ----------
        by : {"all", "family"}
            Aggregate all portfolios or each family separately.

        Returns
        -------
        pandas.DataFrame

        References
        ----------
        CPMI-IOSCO (2015). Public quantitative disclosure standards for central
        counterparties, items 6.5 (back-testing results).
        """
        groups = (
            {"all": list(self.loss.columns)}
            if by == "all"
            else {fam: list(self.family.index[self.family == fam]) for fam in self.family.unique()}
        )
        rows = []
        for name, cols in groups.items():
            for account in ACCOUNTS:
                exc = self.exceptions(account)[cols].to_numpy()
                over = self.exceedance(account)[cols].to_numpy()
                margin = self.margin(account)[cols].to_numpy()
                n_exc, n_obs = int(exc.sum()), exc.size
                relative = over[exc] / np.where(margin[exc] > 0, margin[exc], np.nan)
                rows.append(
                    {
                        "family": name,
                        "account": account,
                        "observations": n_obs,
                        "breaches": n_exc,
                        "largest_breach": float(over.max()) if n_exc else 0.0,
                        "average_breach": float(over[exc].mean()) if n_exc else 0.0,
                        "largest_breach_pct_margin": to_percent(
                            float(np.nanmax(relative)), "decimal"
                        )
                        if n_exc
                        else 0.0,
                        "achieved_coverage": 1 - n_exc / n_obs,
                        "target_coverage": self.level,
                    }
                )
        out = pd.DataFrame(rows).set_index(["family", "account"])
        return out.droplevel("family") if by == "all" else out

    def funding_contribution(self, account: Account = "cross") -> pd.DataFrame:
        """How much of each portfolio's realized loss was perpetual funding.

        Parameters
        ----------
        account : {"isolated", "cross"}
            Account whose exceptions are split.

        Returns
        -------
        pandas.DataFrame
            One row per portfolio: ``mean_loss`` and ``mean_funding`` (currency, over all
            days; funding paid is positive), ``funding_share`` (funding paid on the days with
            a loss over the sum of those losses; NaN without a loss day), ``largest_loss``
            and ``funding_at_largest_loss``,
            ``exceptions`` and ``exceptions_from_funding`` (exceptions whose loss without the
            funding would have stayed within this result's margin, which already carries the
            known funding under ``margin_funding="trailing"``); negative funding can also hide
            an exception, counted in ``exceptions_hidden_by_funding``.

        Raises
        ------
        DataError
            A result without the funding split (built by hand rather than by
            :class:`~research.backtest.OffsetBacktest`).
        """
        if self.funding is None:
            raise DataError(
                "this result carries no funding split (funding=None); run the backtest with "
                "research.backtest.OffsetBacktest to get one"
            )
        margin = self.margin(account)
        price_loss = self.loss - self.funding
        exc = self.loss > margin
        without = price_loss > margin
        largest = self.loss.idxmax()
        losing = self.loss > 0
        total = self.loss.where(losing, 0.0).sum()
        return pd.DataFrame(
            {
                "mean_loss": self.loss.mean(),
                "mean_funding": self.funding.mean(),
                "funding_share": self.funding.where(losing, 0.0).sum() / total.where(total > 0),
                "largest_loss": self.loss.max(),
                "funding_at_largest_loss": pd.Series(
                    [self.funding.at[d, c] for c, d in largest.items()], index=largest.index
                ),
                "exceptions": exc.sum().astype(int),
                "exceptions_from_funding": (exc & ~without).sum().astype(int),
                "exceptions_hidden_by_funding": (without & ~exc).sum().astype(int),
            }
        )

    def exceptions_over_time(self) -> pd.DataFrame:
        """Per day: number of portfolios with an exception per account type, and offset-caused."""
        return pd.DataFrame(
            {
                "isolated": self.exceptions("isolated").sum(axis=1),
                "cross": self.exceptions("cross").sum(axis=1),
                "offset_caused": self.offset_caused().sum(axis=1),
            }
        )

    # ------------------------------------------------------------------ slicing
    def window(self, start: object, end: object) -> BacktestResult:
        """Restrict the result to margin dates in ``[start, end]``.

        Bounds follow the package's time-zone rule
        (:func:`research.data.timeindex.range_mask`): naive dates work on UTC intraday
        results, and a date as ``end`` covers its whole day.

        Raises
        ------
        InsufficientDataError
            If no margin date falls in the window.
        """
        mask = range_mask(self.dates, start, end)
        if not mask.any():
            raise InsufficientDataError(
                f"no margin date between {stamp_text(start)} and {stamp_text(end)} (test "
                f"period {stamp_text(self.dates[0])} to {stamp_text(self.dates[-1])})"
            )
        frames = {name: getattr(self, name).loc[mask] for name in _DATE_BY_PORTFOLIO}
        refits = self.refit_dates[range_mask(self.refit_dates, start, end)]
        return BacktestResult(
            **frames,
            family=self.family,
            n_legs=self.n_legs,
            refit_dates=refits,
            settings=self.settings,
            warnings=self.warnings,
            funding=None if self.funding is None else self.funding.loc[mask],
        )

    def families(self) -> tuple[str, ...]:
        """Portfolio families in order of first appearance."""
        return tuple(dict.fromkeys(self.family))

    def select(self, family: str) -> BacktestResult:
        """Restrict the result to the portfolios of one family.

        Raises
        ------
        DataError
            If no portfolio belongs to ``family``.
        """
        cols = list(self.family.index[self.family == family])
        if not cols:
            raise DataError(
                f"no portfolio of family {family!r}; families are {list(self.families())}"
            )
        frames = {name: getattr(self, name)[cols] for name in _DATE_BY_PORTFOLIO}
        return BacktestResult(
            **frames,
            family=self.family[cols],
            n_legs=self.n_legs[cols],
            refit_dates=self.refit_dates,
            settings=self.settings,
            warnings=self.warnings,
            funding=None if self.funding is None else self.funding[cols],
        )

    # ------------------------------------------------------------------ plots
    def plot_exceptions(self, freq: str = "ME") -> Figure:
        """Exceptions over time (portfolios with an exception, summed per period) per account.

        Parameters
        ----------
        freq : str
            pandas resampling frequency (default month end).

        Returns
        -------
        matplotlib.figure.Figure
        """
        counts = self.exceptions_over_time().resample(freq).sum()
        fig = Figure(figsize=(9, 3.5))
        ax = fig.subplots()
        ax.plot(counts.index, counts["isolated"], label="isolated", color="tab:blue")
        ax.plot(counts.index, counts["cross"], label="cross", color="tab:red")
        ax.bar(
            counts.index,
            counts["offset_caused"],
            width=20,
            color="tab:orange",
            alpha=0.6,
            label="offset-caused",
        )
        ax.set_ylabel("portfolio exceptions per period")
        ax.legend(frameon=False)
        return fig

    def plot_margins(
        self,
        portfolios: object,
        *,
        names: Mapping[object, str] | None = None,
        unit: str = "currency",
    ) -> Figure:
        """Isolated and cross margin of named portfolios against their realized MPOR loss.

        One panel per portfolio, sharing the date axis; cross-margin exceptions are marked.

        Parameters
        ----------
        portfolios : label or list of labels
            Portfolio(s) of the result.
        names : mapping of label to str, optional
            Panel title per portfolio (default: the label), so that a panel never shows a
            bare number.
        unit : str
            Unit of margin and loss for the y-axis label (e.g. ``"USD per 1m notional"``).

        Returns
        -------
        matplotlib.figure.Figure

        Raises
        ------
        DataError
            If a portfolio is not in the result, or none is given.
        """
        chosen = list(portfolios) if isinstance(portfolios, list | tuple) else [portfolios]
        if not chosen:
            raise DataError("name at least one portfolio to plot")
        unknown = [p for p in chosen if p not in self.loss.columns]
        if unknown:
            raise DataError(f"unknown portfolio(s) {unknown}")
        titles = dict(names or {})
        fig = Figure(figsize=(9, 0.4 + 2.6 * len(chosen)))
        axes = fig.subplots(len(chosen), 1, sharex=True, squeeze=False)[:, 0]
        exceptions = self.exceptions("cross")
        for k, (ax, portfolio) in enumerate(zip(axes, chosen, strict=True)):
            ax.plot(self.dates, self.margin_isolated[portfolio], label="isolated margin", lw=1)
            ax.plot(self.dates, self.margin_cross[portfolio], label="cross margin", lw=1)
            loss = self.loss[portfolio]
            ax.plot(self.dates, loss, label="realized loss", lw=0.6, color="grey")
            exc = exceptions[portfolio].to_numpy()
            ax.scatter(
                self.dates[exc],
                loss[exc],
                color="tab:red",
                s=12,
                zorder=3,
                label="cross exception",
            )
            ax.set_title(titles.get(portfolio, str(portfolio)), fontsize="medium")
            ax.set_ylabel(unit)
            if k == 0:
                ax.legend(frameon=False, ncols=4, fontsize="small")
        return fig

    def __str__(self) -> str:
        notes = "".join(f"\nwarning: {w}" for w in self.warnings[:10])
        return (
            f"Offset backtest: {self.loss.shape[1]} portfolios x {len(self.dates)} days, "
            f"{self.settings.get('model')} {self.settings.get('measure')} at "
            f"{self.level:g}, MPOR {self.horizon}d, funding "
            f"{self.settings.get('funding', 'none')}\n{self.summary().to_string()}{notes}"
        )

    def __repr__(self) -> str:
        return (
            f"BacktestResult(portfolios={self.loss.shape[1]}, days={len(self.dates)}, "
            f"level={self.level:g}, horizon={self.horizon})"
        )


def compare(results: Mapping[str, BacktestResult]) -> pd.DataFrame:
    """Summaries of several backtests side by side (columns ``(name, account)`` plus target).

    Parameters
    ----------
    results : mapping of str to BacktestResult
        Backtests of the same portfolios with different margin models or settings.

    Returns
    -------
    pandas.DataFrame
    """
    if not results:
        raise DataError("give at least one backtest result to compare")
    frames = {name: r.summary()[list(ACCOUNTS)] for name, r in results.items()}
    out = pd.concat(frames, axis=1)
    out[("target", "")] = next(iter(results.values())).summary()["target"]
    return out
