"""The immutable result of a cascade: tidy frames of fills, settlements and ADL, and metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from research._typing import Float64Array, Float64Array2D

__all__ = ["CascadeResult"]


@dataclass(frozen=True, eq=False)
class CascadeResult:
    """What a cascade did (spec §8).

    Attributes
    ----------
    fills : pandas.DataFrame
        One row per fill: ``substep``, ``step``, ``phase``, ``round``, ``pot``, ``account``,
        ``asset``, ``side`` (of the position closed), ``quantity`` (signed, closed),
        ``price`` (execution), ``mark`` (before the round), ``notional`` (``|q| x price``),
        ``kind`` (``"book"``: a liquidation order on the book; ``"adl"``: an off-book close at
        the mark, of a bankrupt pot or of its counterparty).
    settlements : pandas.DataFrame
        Per liquidated pot and round: ``fee`` into the fund, gross ``bad_debt``, ``fund_paid``,
        ``uncovered`` (what neither the fund nor ADL covered).
    adl : pandas.DataFrame
        ADL fills of counterparties: ``quantity`` closed and ``haircut`` paid.
    adl_requests : pandas.DataFrame
        One row per deleveraged position: ``quantity``, ``mark``, ``shortfall`` (what ADL had
        to cover) and ``covered``.
    prices : pandas.DataFrame
        Book price of every asset after each sub-step (``book``) and the exogenous path alone
        (``exogenous``), with a MultiIndex column (kind, asset).
    steps : pandas.DataFrame
        Per sub-step: rounds, ``converged``, insurance ``fund``, long open interest per asset.
    rounds : pandas.DataFrame
        Per round: pots liquidated, fills, prices after the round.
    floors : pandas.DataFrame
        Rounds in which impact was floored (price would have crossed the floor).
    """

    assets: tuple[str, ...]
    fills: pd.DataFrame
    settlements: pd.DataFrame
    adl: pd.DataFrame
    adl_requests: pd.DataFrame
    prices: pd.DataFrame
    steps: pd.DataFrame
    rounds: pd.DataFrame
    floors: pd.DataFrame
    account_labels: pd.Index
    initial_prices: pd.Series
    initial_quantities: pd.DataFrame
    final_quantities: pd.DataFrame
    initial_equity: float
    final_equity: float
    initial_fund: float
    final_fund: float
    lowest_fund: float
    shocked: tuple[str, ...]
    profile: str
    order: str
    _external_pnl: float
    _open_pnl: float

    @classmethod
    def build(
        cls,
        *,
        assets: tuple[str, ...],
        path: Any,
        returns: Float64Array2D,
        accounts: Any,
        pot_account: np.ndarray,
        initial_prices: Float64Array,
        initial_equity: Float64Array,
        initial_quantities: Float64Array2D,
        final_quantities: Float64Array2D,
        final_equity: Float64Array,
        initial_fund: float,
        final_fund: float,
        fills: pd.DataFrame,
        settlements: pd.DataFrame,
        adl: pd.DataFrame,
        floors: pd.DataFrame,
        requests: pd.DataFrame,
        lowest_fund: float,
        rounds: list[tuple],
        steps: list[tuple],
        profile: str,
        order: str,
    ) -> CascadeResult:
        """Assemble the result from the engine's records (internal)."""
        labels = accounts.quantities.index
        step_label = np.asarray(path.step, dtype=object)
        phase = np.asarray(path.phase, dtype=object)
        names = np.asarray(assets, dtype=object)
        fills = fills.copy()
        external = float(
            sum(
                q * (price - initial_prices[j])
                for j, q, price in zip(
                    fills["asset"], fills["quantity"], fills["price"], strict=True
                )
            )
        )
        final_prices = np.array(steps[-1][4 : 4 + len(assets)]) if steps else initial_prices
        open_pnl = float((final_quantities * (final_prices - initial_prices)).sum())
        fills["asset"] = names[fills["asset"].to_numpy(dtype=int)] if len(fills) else []
        for frame in (fills, settlements, requests):
            if len(frame):
                frame.insert(1, "step", step_label[frame["substep"].to_numpy(dtype=int)])
                frame.insert(2, "phase", phase[frame["substep"].to_numpy(dtype=int)])
            else:
                frame.insert(1, "step", [])
                frame.insert(2, "phase", [])
        fills["account"] = (
            labels[pot_account[fills["pot"].to_numpy(dtype=int)]] if len(fills) else []
        )
        fills["side"] = np.where(fills["quantity"].to_numpy(dtype=float) > 0, "long", "short")
        fills["notional"] = fills["quantity"].abs() * fills["price"]
        settlements["account"] = (
            labels[pot_account[settlements["pot"].to_numpy(dtype=int)]] if len(settlements) else []
        )
        if len(requests):
            requests["asset"] = names[requests["asset"].to_numpy(dtype=int)]
            requests["account"] = labels[pot_account[requests["pot"].to_numpy(dtype=int)]]
        if len(adl):
            adl["account"] = labels[pot_account[adl["counterparty"].to_numpy(dtype=int)]]
        exo = initial_prices * np.exp(np.cumsum(returns, axis=0))
        sub_index = pd.MultiIndex.from_arrays([step_label, phase], names=["step", "phase"])
        step_frame = pd.DataFrame(
            steps,
            columns=[
                "substep",
                "rounds",
                "converged",
                "fund",
                *[f"price_{a}" for a in assets],
                *[f"long_oi_{a}" for a in assets],
            ],
        )
        book = step_frame[[f"price_{a}" for a in assets]].to_numpy()
        prices = pd.concat(
            {
                "book": pd.DataFrame(book, index=sub_index, columns=list(assets)),
                "exogenous": pd.DataFrame(exo, index=sub_index, columns=list(assets)),
            },
            axis=1,
        )
        round_frame = pd.DataFrame(
            rounds, columns=["substep", "round", "pots", "fills", *[f"price_{a}" for a in assets]]
        )
        shocked = tuple(a for j, a in enumerate(assets) if np.any(returns[:, j] != 0))
        return cls(
            assets=tuple(assets),
            fills=fills,
            settlements=settlements,
            adl=adl,
            adl_requests=requests,
            prices=prices,
            steps=step_frame.drop(columns=[f"price_{a}" for a in assets]).set_index(sub_index),
            rounds=round_frame,
            floors=floors,
            account_labels=labels,
            initial_prices=pd.Series(initial_prices, index=list(assets), name="initial"),
            initial_quantities=_by_account(initial_quantities, pot_account, labels, assets),
            final_quantities=_by_account(final_quantities, pot_account, labels, assets),
            initial_equity=float(initial_equity.sum()),
            final_equity=float(final_equity.sum()),
            initial_fund=initial_fund,
            final_fund=final_fund,
            lowest_fund=lowest_fund,
            shocked=shocked,
            profile=profile,
            order=order,
            _external_pnl=external,
            _open_pnl=open_pnl,
        )

    # ------------------------------------------------------------------ prices
    @property
    def final_prices(self) -> pd.Series:
        """Book prices at the end of the path."""
        return self.prices["book"].iloc[-1].rename("final")

    # ----------------------------------------------------------------- metrics
    @property
    def book_fills(self) -> pd.DataFrame:
        """The liquidation orders filled on the book."""
        return self.fills[self.fills["kind"] == "book"]

    def liquidated(self, by: str | list[str] = "asset") -> pd.Series:
        """Liquidated notional at fill (book) by ``step``, ``asset``, ``side`` or ``round``."""
        return self.book_fills.groupby(by)["notional"].sum().rename("liquidated_notional")

    @property
    def liquidated_notional(self) -> float:
        """Total notional liquidated on the book, at fill prices."""
        return float(self.book_fills["notional"].sum())

    @property
    def bad_debt(self) -> float:
        """Gross bad debt (negative residuals of flat pots before the fund)."""
        return float(self.settlements["bad_debt"].sum())

    @property
    def fees(self) -> float:
        """Liquidation fees paid into the insurance fund."""
        return float(self.settlements["fee"].sum())

    @property
    def fund_drawdown(self) -> float:
        """``IF_0 - min IF`` over the run."""
        return self.initial_fund - self.lowest_fund

    @property
    def adl_shortfall(self) -> float:
        """What ADL had to cover."""
        return (
            float(self.adl_requests["shortfall"].clip(lower=0).sum())
            if len(self.adl_requests)
            else 0.0
        )

    @property
    def adl_haircut(self) -> float:
        """Haircuts paid by ADL counterparties."""
        return float(self.adl["haircut"].sum()) if len(self.adl) else 0.0

    @property
    def adl_notional(self) -> float:
        """Notional of the bankrupt positions deleveraged, at the mark."""
        r = self.adl_requests
        return float((r["quantity"] * r["mark"]).sum()) if len(r) else 0.0

    @property
    def uncovered(self) -> float:
        """Bad debt neither the fund nor ADL covered (left on the bankrupt pots)."""
        return float(self.settlements["uncovered"].sum())

    @property
    def accounts_liquidated(self) -> pd.Index:
        """Accounts with at least one book or ADL fill as the liquidated side."""
        liquidated = self.fills[self.fills["kind"] == "book"]["account"]
        bankrupt = self.adl_requests["account"] if len(self.adl_requests) else pd.Series([])
        return pd.Index(pd.unique(pd.concat([liquidated, bankrupt]))).rename("account")

    @property
    def accounts_bankrupt(self) -> pd.Index:
        """Accounts with a pot whose residual was negative."""
        s = self.settlements
        return pd.Index(pd.unique(s.loc[s["bad_debt"] > 0, "account"])).rename("account")

    def amplification(self) -> pd.DataFrame:
        """Per asset: cascade move over exogenous move, level and log (spec §8).

        ``(P0 - P_end) / (P0 - P_exo)`` and ``ln(P0/P_end) / ln(P0/P_exo)``; NaN where the
        exogenous path ends where it started.
        """
        p0 = self.initial_prices
        end = self.final_prices
        exo = self.prices["exogenous"].iloc[-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            level = (p0 - end) / (p0 - exo)
            log = np.log(p0 / end) / np.log(p0 / exo)
        frame = pd.DataFrame({"amplification": level, "log_amplification": log})
        return frame.where(np.isfinite(frame))

    def open_interest(self) -> pd.DataFrame:
        """Long open interest (units) per asset before and after, and its change in percent."""
        before = self.initial_quantities.clip(lower=0).sum()
        after = self.final_quantities.clip(lower=0).sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            change = 100.0 * (after / before - 1.0)
        return pd.DataFrame({"before": before, "after": after, "change_pct": change})

    def contagion(self) -> pd.Series:
        """Accounts and notional liquidated without a direct shock to what they hold.

        ``accounts``: liquidated accounts none of whose initial positions is in an asset the
        exogenous path moves; ``notional``: book notional liquidated in unshocked assets.
        """
        held = self.initial_quantities != 0
        shocked = held[list(self.shocked)].any(axis=1) if self.shocked else held.any(axis=1) & False
        liquidated = self.accounts_liquidated
        unshocked_accounts = [a for a in liquidated if not shocked.loc[a]]
        fills = self.book_fills
        spill = float(fills.loc[~fills["asset"].isin(self.shocked), "notional"].sum())
        return pd.Series(
            {"accounts": len(unshocked_accounts), "notional": spill}, name="contagion", dtype=float
        )

    def conservation_error(self) -> float:
        """Money created or lost, relative to the population's initial equity plus the fund.

        ``sum E_end + IF_end - (sum E_0 + IF_0 + P&L of fills with the outside world + P&L of
        what stays open)``, divided by ``max(1, sum E_0 + IF_0)``.
        """
        lhs = self.final_equity + self.final_fund
        rhs = self.initial_equity + self.initial_fund + self._external_pnl + self._open_pnl
        return abs(lhs - rhs) / max(1.0, abs(self.initial_equity + self.initial_fund))

    def summary(self) -> pd.DataFrame:
        """Scalar metrics in one ``value`` column."""
        long_share = (
            self.liquidated("side").get("long", 0.0) / self.liquidated_notional
            if self.liquidated_notional
            else np.nan
        )
        rows = {
            "liquidated notional": self.liquidated_notional,
            "long share of liquidations": long_share,
            "accounts liquidated": len(self.accounts_liquidated),
            "accounts bankrupt": len(self.accounts_bankrupt),
            "bad debt": self.bad_debt,
            "fees to fund": self.fees,
            "fund end": self.final_fund,
            "fund drawdown": self.fund_drawdown,
            "ADL notional": self.adl_notional,
            "ADL shortfall": self.adl_shortfall,
            "ADL haircut": self.adl_haircut,
            "uncovered": self.uncovered,
            "max rounds in a step": int(self.steps["rounds"].max()) if len(self.steps) else 0,
            "all steps converged": bool(self.steps["converged"].all()),
            "floored rounds": len(self.floors),
        }
        return pd.Series(rows, name="value", dtype=object).to_frame()

    def __str__(self) -> str:
        return (
            f"cascade on {self.profile} ({self.order}), {len(self.steps)} sub-steps\n"
            f"{self.summary().to_string()}"
        )

    def _repr_html_(self) -> str:
        return f"<p>cascade on {self.profile} ({self.order})</p>{self.summary().to_html()}"


def _by_account(
    values: Float64Array2D, pot_account: np.ndarray, labels: pd.Index, assets: tuple[str, ...]
) -> pd.DataFrame:
    out = np.zeros((len(labels), len(assets)))
    np.add.at(out, pot_account, values)
    return pd.DataFrame(out, index=labels, columns=list(assets))
