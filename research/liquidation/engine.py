r"""The round-by-round liquidation cascade (spec §6), vectorised over margin pots.

Accounts are split into *pots*: a cross account is one pot (one equity for all its
positions), an isolated account one pot per position. For every sub-step of the shock path:
temporary impact decays, the exogenous move is applied, then rounds repeat until no pot is
below maintenance:

1. mark every pot, ``E = W + sum n (P - entry)``, and ask the venue's maintenance rule for
   ``MM``; liquidatable pots are those with positions and ``E < MM``;
2. size (full, or the partial rule with its cooldown);
3. with ``pre_trade`` ADL, scale the book quantity of projected-bankrupt pots by the largest
   common ``theta`` whose bad debt the fund can pay (bisection) and send the rest to ADL;
4. net the book flow per asset, apply impact on the step's cumulative flow, fill every order
   of the round at the average price along the flow (batch; ``sequential`` fills pot by pot
   in a seeded order, each moving the price for the next);
5. settle: a fee ``min(phi x filled notional, residual)`` into the fund if the residual is
   >= 0; otherwise the fund pays the bad debt and ``post_trade`` ADL covers the rest;
6. ADL closes opposite-side profitable pots (queue / pro rata by quantity) at the mark, and
   transfers the haircut ``|u| x |P_adl - mark|`` (pro rata P&L: the haircut alone) to the
   bankrupt pot.

Money is conserved: the population's equity plus the fund changes only by the P&L of fills
with the outside world (book fills, ADL closes at the mark) and the marks of what remains open
(checked by :meth:`CascadeResult.conservation_error`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from research._random import as_generator
from research._typing import Float64Array, Float64Array2D
from research.errors import ParameterError, SpecificationError
from research.liquidation.impact import AssetMarket, execute
from research.liquidation.results import CascadeResult
from research.liquidation.state import Accounts, PartialRule, ShockPath, VenueProfile

__all__ = ["CascadeSimulator", "simulate_cascade"]

_FILL_COLUMNS = ("substep", "round", "pot", "asset", "quantity", "price", "mark", "kind")
_SETTLE_COLUMNS = ("substep", "round", "pot", "fee", "bad_debt", "fund_paid", "uncovered")
_ADL_COLUMNS = ("substep", "round", "asset", "counterparty", "quantity", "haircut")
_REQUEST_COLUMNS = ("substep", "round", "pot", "asset", "quantity", "mark", "shortfall", "covered")
_BISECTION_STEPS = 60
_TIE = 1e-12  # relative size of a rounding tie between equity and maintenance


def _row_sum(x: Float64Array2D) -> Float64Array:
    """Sum over the (few) asset columns, column by column: fast, and the same bits per row."""
    out = x[:, 0].copy()
    for j in range(1, x.shape[1]):
        out += x[:, j]
    return out


@dataclass(frozen=True)
class CascadeSimulator:
    """Simulate liquidation cascades of a population of accounts on one venue.

    Parameters
    ----------
    profile : VenueProfile
        Maintenance, fee, partial, insurance-fund and ADL rules.
    markets : mapping of asset -> AssetMarket
        Book, impact and decay of every asset a path moves or an account holds.
    order : {"batch", "sequential"}
        Batch clearing per round (order independent, the default) or pot by pot in a seeded
        random order (``seed``), impact applied after each pot.
    max_rounds : int
        Round budget per sub-step (``R_max``, default 1000); reaching it is flagged.
    seed : int
        Seed of the sequential order (the random ADL ranking has its own, on the profile).

    Examples
    --------
    >>> import pandas as pd
    >>> from research.liquidation import (Accounts, AdlRule, AssetMarket, CascadeSimulator,
    ...     LinearImpact, ShockPath, TieredMaintenance, VenueProfile)
    >>> accounts = Accounts(pd.DataFrame({"X": [1000.0]}), pd.DataFrame({"X": [100.0]}),
    ...                     pd.Series([10_000.0]))
    >>> profile = VenueProfile("test", TieredMaintenance.flat(0.05), 0.01, "full", 0.0,
    ...                        AdlRule())
    >>> sim = CascadeSimulator(profile, {"X": AssetMarket(100.0, LinearImpact(0.005))})
    >>> path = ShockPath.from_returns(pd.DataFrame({"X": [np.log(0.94)]}))
    >>> round(float(sim.run(accounts, path).final_prices["X"]), 10)
    89.0
    """

    profile: VenueProfile
    markets: Mapping[str, AssetMarket]
    order: Literal["batch", "sequential"] = "batch"
    max_rounds: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.profile, VenueProfile):
            raise SpecificationError("profile must be a VenueProfile")
        if self.order not in ("batch", "sequential"):
            raise SpecificationError(f"order must be 'batch' or 'sequential', got {self.order!r}")
        if not self.markets or not all(isinstance(m, AssetMarket) for m in self.markets.values()):
            raise SpecificationError("markets must map every asset to an AssetMarket")
        if int(self.max_rounds) < 1:
            raise ParameterError(f"max_rounds is {self.max_rounds}; give at least 1")
        object.__setattr__(self, "markets", dict(self.markets))

    @property
    def assets(self) -> tuple[str, ...]:
        """Assets with a market, in the order of ``markets``."""
        return tuple(map(str, self.markets))

    def run(self, accounts: Accounts, path: ShockPath | None = None) -> CascadeResult:
        """Run the cascade of ``accounts`` along ``path``.

        Parameters
        ----------
        accounts : Accounts
            The population (cross and/or isolated).
        path : ShockPath, optional
            Exogenous moves; assets it does not list stay put. ``None``: one sub-step with no
            move (the cascade of accounts already below maintenance).

        Returns
        -------
        CascadeResult

        Raises
        ------
        SpecificationError
            A held position or a path asset without a market.
        """
        assets = self.assets
        held = accounts.quantities.columns[(accounts.quantities != 0).any()].astype(str)
        missing = sorted(set(held) - set(assets))
        if missing:
            raise SpecificationError(
                f"positions in {missing} have no market; give an AssetMarket for each"
            )
        if path is None:
            path = ShockPath.from_returns(pd.DataFrame(np.zeros((1, len(assets))), columns=assets))
        extra = sorted(set(path.assets) - set(assets))
        if extra:
            raise SpecificationError(f"the shock path moves {extra}, which have no market")
        returns = path.log_returns.reindex(columns=list(assets)).fillna(0.0).to_numpy()
        return _Run(self, accounts, assets).simulate(returns, path)


def simulate_cascade(
    accounts: Accounts,
    profile: VenueProfile,
    markets: Mapping[str, AssetMarket],
    path: ShockPath | None = None,
    *,
    order: Literal["batch", "sequential"] = "batch",
    seed: int = 0,
) -> CascadeResult:
    """Shortcut for ``CascadeSimulator(profile, markets, order, seed=seed).run(accounts, path)``."""
    return CascadeSimulator(profile, markets, order, seed=seed).run(accounts, path)


@dataclass
class _Pots:
    n: Float64Array2D
    entry: Float64Array2D
    wallet: Float64Array
    account: np.ndarray
    labels: pd.Index

    @classmethod
    def build(cls, accounts: Accounts, assets: tuple[str, ...]) -> _Pots:
        q = accounts.quantities.reindex(columns=list(assets)).fillna(0.0).to_numpy()
        e = accounts.entry.reindex(columns=list(assets)).fillna(0.0).to_numpy()
        w = accounts.collateral.to_numpy(dtype=float)
        isolated = (accounts.mode == "isolated").to_numpy()
        margin = (
            None
            if accounts.isolated_margin is None
            else accounts.isolated_margin.reindex(columns=list(assets)).fillna(0.0).to_numpy()
        )
        rows_n, rows_e, wallets, owner = [], [], [], []
        for i in range(q.shape[0]):
            held = np.flatnonzero(q[i])
            if not isolated[i] or held.size == 0:
                rows_n.append(q[i])
                rows_e.append(e[i])
                wallets.append(w[i])
                owner.append(i)
                continue
            if margin is not None:
                split = margin[i, held]
            else:
                notional = np.abs(q[i, held]) * e[i, held]
                split = w[i] * notional / notional.sum()
            for k, j in enumerate(held):
                row_n, row_e = np.zeros(len(assets)), np.zeros(len(assets))
                row_n[j], row_e[j] = q[i, j], e[i, j]
                rows_n.append(row_n)
                rows_e.append(row_e)
                wallets.append(split[k])
                owner.append(i)
        shape = (len(rows_n), len(assets))
        return cls(
            np.array(rows_n, dtype=float).reshape(shape),
            np.array(rows_e, dtype=float).reshape(shape),
            np.array(wallets, dtype=float),
            np.array(owner, dtype=np.intp),
            accounts.quantities.index,
        )


@dataclass
class _Run:
    sim: CascadeSimulator
    accounts: Accounts
    assets: tuple[str, ...]
    pots: _Pots = field(init=False)
    prices: Float64Array = field(init=False)
    fund: float = field(init=False)
    fills: list[tuple] = field(default_factory=list)
    settlements: list[tuple] = field(default_factory=list)
    adl: list[tuple] = field(default_factory=list)
    floors: list[tuple] = field(default_factory=list)
    requests: list[tuple] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pots = _Pots.build(self.accounts, self.assets)
        self.markets = [self.sim.markets[a] for a in self.assets]
        self.impacts = [m.effective_impact for m in self.markets]
        self.prices = np.array([m.price for m in self.markets], dtype=float)
        self.previous_mark = self.prices.copy()
        self.fund = float(self.sim.profile.insurance_fund)
        self.lowest_fund = self.fund
        self.rng = as_generator(self.sim.seed)
        self.adl_rng = as_generator(self.sim.profile.adl.seed)
        self.cooldown = np.full(len(self.pots.wallet), -1, dtype=np.int64)
        self.active = np.arange(len(self.pots.wallet))
        self.changed = True
        self.round_counter = 0

    # ----------------------------------------------------------------- marking
    def equity(self, rows: np.ndarray | slice = slice(None)) -> Float64Array:
        p = self.pots
        return p.wallet[rows] + _row_sum(p.n[rows] * (self.prices - p.entry[rows]))

    def liquidatable(self) -> np.ndarray:
        p = self.pots
        if self.changed:  # positions only ever shrink: drop the pots that went flat
            self.active = self.active[(p.n[self.active] != 0).any(axis=1)]
            self.changed = False
        active = self.active
        if active.size == 0:
            return active
        whole = active.size == len(p.wallet)
        n = p.n if whole else p.n[active]
        entry = p.entry if whole else p.entry[active]
        wallet = p.wallet if whole else p.wallet[active]
        value = n * self.prices
        mm, _ = self.sim.profile.maintenance.requirement(self.assets, n, self.prices)
        equity = wallet + _row_sum(value - n * entry)
        scale = np.abs(wallet) + _row_sum(np.abs(value))
        # strictly below: a tie within rounding (E == MM in exact arithmetic) is not liquidated
        return active[equity - mm < -_TIE * scale]

    # ------------------------------------------------------------------ sizing
    def sizing(self, rows: np.ndarray, equity: Float64Array) -> Float64Array2D:
        q = self.pots.n[rows].copy()
        rule = self.sim.profile.partial
        if not isinstance(rule, PartialRule):
            return q
        partial = (
            (np.abs(q) * self.prices > rule.threshold)
            & (self.cooldown[rows] < self.round_counter)[:, None]
            & (equity >= 0)[:, None]
        )
        q[partial] *= rule.fraction
        hit = partial.any(axis=1)
        self.cooldown[rows[hit]] = self.round_counter + int(rule.cooldown_rounds)
        return q

    # --------------------------------------------------------------- execution
    def _book(
        self, flow: Float64Array, anchor: Float64Array, cum: Float64Array
    ) -> tuple[Float64Array, Float64Array, np.ndarray]:
        new, avg = self.prices.copy(), self.prices.copy()
        floored = np.zeros(len(flow), dtype=bool)
        for j, impact in enumerate(self.impacts):
            if flow[j] == 0.0 or impact is None:
                continue
            floor = self.markets[j].price_floor or 1e-6 * anchor[j]
            new[j], avg[j], floored[j] = execute(impact, anchor[j], cum[j], cum[j] + flow[j], floor)
        return new, avg, floored

    def _theta(
        self,
        rows: np.ndarray,
        q: Float64Array2D,
        bankrupt: np.ndarray,
        adl_residual: Float64Array,
        anchor: Float64Array,
        cum: Float64Array,
    ) -> float:
        """Largest common book fraction of projected-bankrupt pots the fund can pay for."""
        p = self.pots

        def bad(theta: float) -> float:
            scale = np.where(bankrupt, theta, 1.0)[:, None]
            _, avg, _ = self._book((q * scale).sum(axis=0), anchor, cum)
            book = p.wallet[rows] + (q * (avg - p.entry[rows])).sum(axis=1)
            end = theta * book + (1.0 - theta) * adl_residual
            return float(np.maximum(-end[bankrupt], 0.0).sum())

        if bad(1.0) <= self.fund:
            return 1.0
        if bad(0.0) > self.fund:
            return 0.0
        lo, hi = 0.0, 1.0
        for _ in range(_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if bad(mid) <= self.fund else (lo, mid)
        return lo

    def clear(self, rows: np.ndarray, sub: int, rnd: int, anchor: Float64Array, cum: Float64Array):
        """Liquidate pots ``rows`` together (one batch) at the current prices."""
        p, profile = self.pots, self.sim.profile
        mark = self.prices.copy()
        equity = self.equity(rows)
        q = self.sizing(rows, equity)
        full = (q == p.n[rows]).all(axis=1)
        adl_q = np.zeros_like(q)
        adl_price = np.tile(self.previous_mark, (len(rows), 1))
        if profile.adl.timing == "pre_trade":
            notional = np.abs(q) * mark
            share = notional / np.maximum(notional.sum(axis=1, keepdims=True), 1e-300)
            with np.errstate(divide="ignore", invalid="ignore"):
                bk = np.where(q != 0, mark - equity[:, None] * share / q, mark)
            if profile.adl.price == "bankruptcy":
                adl_price, adl_residual = bk, np.zeros(len(rows))
            else:  # the previous mark: the book price before this sub-step's move [S13f]
                adl_residual = p.wallet[rows] + (q * (self.previous_mark - p.entry[rows])).sum(
                    axis=1
                )
            _, avg, _ = self._book(q.sum(axis=0), anchor, cum)
            projected = p.wallet[rows] + (q * (avg - p.entry[rows])).sum(axis=1)
            bankrupt = full & (projected < 0)
            if bankrupt.any():
                theta = self._theta(rows, q, bankrupt, adl_residual, anchor, cum)
                book = theta * q[bankrupt]
                adl_q[bankrupt] = q[bankrupt] - book  # the exact complement: the pot ends flat
                q[bankrupt] = book
        flow = q.sum(axis=0)
        new, avg, floored = self._book(flow, anchor, cum)
        for j in np.flatnonzero(floored):
            self.floors.append((sub, rnd, self.assets[j]))
        cum += flow
        self.prices = new
        p.wallet[rows] += (q * (avg - p.entry[rows])).sum(axis=1)
        p.n[rows] -= q
        self.changed = True
        for k, j in zip(*np.nonzero(q), strict=True):
            self.fills.append((sub, rnd, rows[k], j, q[k, j], avg[j], mark[j], "book"))
        for j in range(len(self.assets)):
            for side in (1.0, -1.0):
                ks = np.flatnonzero(np.sign(adl_q[:, j]) == side)
                if ks.size:
                    amounts = adl_q[ks, j] * (adl_price[ks, j] - self.prices[j])
                    self.deleverage(
                        sub,
                        rnd,
                        j,
                        side,
                        rows[ks],
                        adl_q[ks, j],
                        np.abs(adl_q[ks, j]),
                        amounts,
                        rows,
                    )
        book_notional = (np.abs(q) * avg).sum(axis=1)
        self.settle(rows, book_notional, q, sub, rnd)

    def settle(self, rows, book_notional, q, sub, rnd) -> None:
        """Fees into the fund, bad debt paid by the fund, post-trade ADL of the rest."""
        p, profile = self.pots, self.sim.profile
        residual = self.equity(rows)
        flat = ~(p.n[rows] != 0).any(axis=1)
        bad = np.where(flat, np.maximum(-residual, 0.0), 0.0)
        paid = np.zeros(len(rows))
        for k in range(len(rows)):
            if residual[k] >= 0:
                fee = min(profile.liquidation_fee * book_notional[k], residual[k])
                p.wallet[rows[k]] -= fee
                self.fund += fee
                if fee:
                    self.settlements.append((sub, rnd, rows[k], fee, 0.0, 0.0, 0.0))
            elif bad[k] > 0:  # flat and negative (else it is liquidated again next round)
                paid[k] = min(bad[k], self.fund)
                self.fund -= paid[k]
                self.lowest_fund = min(self.lowest_fund, self.fund)
        p.wallet[rows] += paid
        shortfall = bad - paid
        covered = np.zeros(len(rows))
        if profile.adl.timing == "post_trade" and (shortfall > 0).any():
            weights = np.abs(q) * self.prices
            weights = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-300)
            for j in range(len(self.assets)):
                for side in (1.0, -1.0):
                    ks = np.flatnonzero((shortfall > 0) & (np.sign(q[:, j]) == side))
                    if ks.size:
                        covered[ks] += self.deleverage(
                            sub,
                            rnd,
                            j,
                            side,
                            rows[ks],
                            np.zeros(ks.size),
                            np.abs(q[ks, j]),
                            shortfall[ks] * weights[ks, j],
                            rows,
                        )
        for k in np.flatnonzero(bad > 0):
            self.settlements.append(
                (sub, rnd, rows[k], 0.0, bad[k], paid[k], shortfall[k] - covered[k])
            )

    # --------------------------------------------------------------------- ADL
    def _scores(self, cands: np.ndarray, j: int) -> Float64Array:
        p, rule = self.pots, self.sim.profile.adl
        mark = self.prices[j]
        pnl = p.n[cands, j] * (mark - p.entry[cands, j])
        if rule.ranking == "pnl":
            return pnl
        if rule.ranking == "random":
            return self.adl_rng.random(len(cands))
        equity = self.equity(cands)
        upnl = (p.n[cands] * (self.prices - p.entry[cands])).sum(axis=1)
        if rule.ranking == "leverage_pnl":
            mm, _ = self.sim.profile.maintenance.requirement(self.assets, p.n[cands], self.prices)
            ratio = np.where(equity > 0, mm / np.where(equity > 0, equity, 1.0), 0.0)
            return np.maximum(upnl, 0.0) / np.maximum(p.wallet[cands], 1.0) * ratio
        long = p.n[cands, j] > 0
        price_ratio = np.where(long, mark / p.entry[cands, j], p.entry[cands, j] / mark)
        notional = np.abs(p.n[cands]) @ self.prices
        return price_ratio * notional / np.where(equity > 0, equity, np.inf)

    def deleverage(
        self,
        sub: int,
        rnd: int,
        j: int,
        side: float,
        pots: np.ndarray,
        close: Float64Array,
        units: Float64Array,
        amounts: Float64Array,
        busy: np.ndarray,
    ) -> Float64Array:
        """ADL on asset ``j`` for bankrupt ``pots`` whose positions are on ``side`` (+1 long).

        Each bankrupt pot closes ``close`` (signed; 0 after a book fill) at the mark; the
        opposite-side profitable pots not in ``busy`` close ``sum(units)`` (queue or pro rata
        by quantity) at the mark and pay ``sum(amounts)`` as haircuts (pro rata P&L: the
        haircut alone), shared back to the bankrupt pots pro rata to ``amounts``. Returns the
        haircut each bankrupt pot received.
        """
        p, rule = self.pots, self.sim.profile.adl
        mark = self.prices[j]
        p.wallet[pots] += close * (mark - p.entry[pots, j])
        p.n[pots, j] -= close
        self.changed = True
        for pot, c in zip(pots, close, strict=True):
            if c:
                self.fills.append((sub, rnd, pot, j, c, mark, mark, "adl"))
        need, amount = float(units.sum()), float(amounts.sum())
        n_j = p.n[:, j]
        mask = (np.sign(n_j) == -side) & (n_j * (mark - p.entry[:, j]) > 0)
        mask[busy] = False
        cands = np.flatnonzero(mask)
        received = np.zeros(len(pots))
        if cands.size and need > 0:
            capacity = np.abs(n_j[cands])
            pnl = n_j[cands] * (mark - p.entry[cands, j])
            if rule.allocation == "pro_rata_pnl":
                close_c = np.zeros(len(cands))
                haircut = min(amount, pnl.sum()) * pnl / pnl.sum() if amount > 0 else 0.0 * pnl
            else:
                if rule.allocation == "queue":
                    ranked = np.argsort(-self._scores(cands, j), kind="stable")
                    before = np.concatenate(([0.0], np.cumsum(capacity[ranked])[:-1]))
                    close_c = np.zeros(len(cands))
                    close_c[ranked] = np.clip(need - before, 0.0, capacity[ranked])
                else:
                    close_c = capacity * min(1.0, need / capacity.sum())
                haircut = close_c * (amount / need)
            y = -side * close_c
            p.wallet[cands] += y * (mark - p.entry[cands, j]) - haircut
            p.n[cands, j] -= y
            for k in np.flatnonzero((close_c > 0) | (haircut != 0)):
                if y[k]:
                    self.fills.append((sub, rnd, cands[k], j, y[k], mark, mark, "adl"))
                self.adl.append((sub, rnd, self.assets[j], cands[k], close_c[k], haircut[k]))
            collected = float(np.sum(haircut))
            share = amounts / amount if amount else units / need
            received = collected * share
            p.wallet[pots] += received
        for k, pot in enumerate(pots):
            self.requests.append((sub, rnd, pot, j, units[k], mark, amounts[k], received[k]))
        return received

    # ---------------------------------------------------------------- the loop
    def simulate(self, returns: Float64Array2D, path: ShockPath) -> CascadeResult:
        sim = self.sim
        initial_prices = self.prices.copy()
        initial_equity = self.equity().copy()
        initial_n = self.pots.n.copy()
        gamma = np.array([m.gamma_perm for m in self.markets])
        kappa = np.array([m.kappa for m in self.markets])
        temp = np.zeros(len(self.assets))
        steps, rounds = [], []
        for sub in range(returns.shape[0]):
            self.previous_mark = self.prices.copy()
            self.prices = self.prices - kappa * temp
            temp = temp * (1.0 - kappa)
            self.prices = self.prices * np.exp(returns[sub])
            anchor = self.prices.copy()
            cum = np.zeros(len(self.assets))
            self.cooldown[:] = -1
            rnd, converged = 0, True
            while True:
                rows = self.liquidatable()
                if rows.size == 0:
                    break
                if rnd >= sim.max_rounds:
                    converged = False
                    break
                rnd += 1
                self.round_counter += 1
                before = len(self.fills)
                if sim.order == "batch":
                    self.clear(rows, sub, rnd, anchor, cum)
                else:
                    for pot in self.rng.permutation(rows):
                        self.clear(np.array([pot]), sub, rnd, anchor, cum)
                rounds.append((sub, rnd, len(rows), len(self.fills) - before, *self.prices))
            temp = temp + (1.0 - gamma) * (self.prices - anchor)
            long_oi = np.clip(self.pots.n, 0.0, None).sum(axis=0)
            steps.append((sub, rnd, converged, self.fund, *self.prices, *long_oi))
        return CascadeResult.build(
            assets=self.assets,
            path=path,
            returns=returns,
            accounts=self.accounts,
            pot_account=self.pots.account,
            initial_prices=initial_prices,
            initial_equity=initial_equity,
            initial_quantities=initial_n,
            final_quantities=self.pots.n.copy(),
            final_equity=self.equity().copy(),
            initial_fund=float(sim.profile.insurance_fund),
            final_fund=self.fund,
            fills=pd.DataFrame(self.fills, columns=list(_FILL_COLUMNS)),
            settlements=pd.DataFrame(self.settlements, columns=list(_SETTLE_COLUMNS)),
            adl=pd.DataFrame(self.adl, columns=list(_ADL_COLUMNS)),
            floors=pd.DataFrame(self.floors, columns=["substep", "round", "asset"]),
            requests=pd.DataFrame(self.requests, columns=list(_REQUEST_COLUMNS)),
            lowest_fund=self.lowest_fund,
            rounds=rounds,
            steps=steps,
            profile=sim.profile.name,
            order=sim.order,
        )
