r"""Liquidity-weighted portfolio overlaps and their ICI/ERI-like scores (spec §2.1, derived).

With linear impact ``dP_a = lam_a Q_a``, the first-order mark-to-market loss that the full
liquidation of account ``i`` inflicts on account ``j`` is

.. math:: L_{j \leftarrow i} = \sum_a n_{j,a}\, \lambda_a\, n_{i,a},
    \qquad \Omega = N \Lambda N^\top,

``N`` the account x asset position matrix and ``Lambda = diag(lam_a)`` (a long liquidation is
a sale; a negative entry is a gain). These are crypto **analogues** of Cont and Schaanning's
indices, whose exact formulas the spec did not find: :func:`ici_like` is the Perron
eigenvector of ``|Omega|`` with a zeroed diagonal (the BFS 2018 abstract's definition of the
Indirect Contagion Index), :func:`eri_like` the loss each account takes from the liquidation
of a given set of accounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from research.errors import ParameterError
from research.liquidation.impact import AssetMarket, LinearImpact
from research.liquidation.state import Accounts

__all__ = ["eri_like", "ici_like", "overlap_matrix"]

_MAX_ACCOUNTS = 5_000  # Omega is dense: accounts^2 floats


def overlap_matrix(accounts: Accounts, markets: Mapping[str, AssetMarket]) -> pd.DataFrame:
    """``Omega[j, i] = L_{j <- i}``: loss to ``j`` from the full liquidation of ``i``.

    Parameters
    ----------
    accounts : Accounts
        At most 5,000 accounts (the matrix is dense).
    markets : mapping of asset -> AssetMarket
        Every held asset's market, with linear impact (its depth multiplier applied).

    Raises
    ------
    ParameterError
        A held asset without linear impact, or too many accounts.
    """
    if accounts.n_accounts > _MAX_ACCOUNTS:
        raise ParameterError(
            f"{accounts.n_accounts} accounts: the overlap matrix is dense; give at most "
            f"{_MAX_ACCOUNTS}"
        )
    held = [a for a in accounts.assets if (accounts.quantities[a] != 0).any()]
    lam = []
    for asset in held:
        impact = markets[asset].effective_impact if asset in markets else None
        if not isinstance(impact, LinearImpact):
            raise ParameterError(f"the overlap matrix needs linear impact on {asset!r}")
        lam.append(impact.lam)
    n = accounts.quantities[held].to_numpy()
    omega = (n * np.asarray(lam)) @ n.T
    index = accounts.quantities.index
    return pd.DataFrame(omega, index=index, columns=index)


def ici_like(omega: pd.DataFrame) -> pd.Series:
    """Perron eigenvector of ``|Omega|`` with a zeroed diagonal, scaled to sum to 1."""
    matrix = np.abs(omega.to_numpy(dtype=float))
    np.fill_diagonal(matrix, 0.0)
    values, vectors = np.linalg.eigh(matrix)  # symmetric: Omega = N Lambda N^T
    vector = np.abs(vectors[:, np.argmax(values)])
    total = vector.sum()
    return pd.Series(vector / total if total > 0 else vector, index=omega.index, name="ici_like")


def eri_like(omega: pd.DataFrame, liquidated: Iterable[object]) -> pd.Series:
    """Loss of every account from the full liquidation of the accounts ``liquidated``."""
    columns = list(liquidated)
    missing = sorted(map(str, set(columns) - set(omega.columns)))
    if missing:
        raise ParameterError(f"accounts {missing} are not in the overlap matrix")
    return omega[columns].sum(axis=1).rename("eri_like")
