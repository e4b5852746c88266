"""Side-by-side comparison of fitted DCC-family models and their likelihood-ratio tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from research.correlation.lrtest import lr_test

__all__ = ["LR_PAIRS", "compare", "lr_tests"]

#: Nested (restricted, unrestricted) pairs reported by :func:`lr_tests`, in this order.
LR_PAIRS: tuple[tuple[str, str], ...] = (
    ("ccc", "dcc"),
    ("ccc", "cdcc"),
    ("ccc", "adcc"),
    ("dcc", "adcc"),
)


def compare(fits: Mapping[str, Any]) -> pd.DataFrame:
    """Side-by-side table of fitted DCC-family models.

    Parameters
    ----------
    fits : mapping of label -> DCCResult
        The fitted models (e.g. ``{"dcc": ..., "cdcc": ..., "adcc": ..., "ccc": ...}``).

    Returns
    -------
    pandas.DataFrame
        One row per model: each parameter and its standard error (``se(a)`` ...), total and
        correlation-stage log-likelihood, number of parameters, AIC, BIC and convergence.

    See Also
    --------
    lr_tests : the likelihood-ratio tests between the nested models of the same mapping.

    Examples
    --------
    >>> from research.correlation import DCC, compare  # doctest: +SKIP
    >>> fits = {k: DCC(kind=k).fit(returns) for k in ("ccc", "dcc", "adcc")}  # doctest: +SKIP
    >>> compare(fits)[["a", "b", "loglik", "BIC"]]  # doctest: +SKIP
    """
    rows = {}
    for label, res in fits.items():
        row: dict[str, Any] = {}
        se = res.std_errors
        for name, value in res.params.items():
            row[name] = float(value)
            row[f"se({name})"] = float(se.get(name, np.nan))
        row["loglik"] = float(res.loglikelihood)
        row["loglik corr."] = float(res.loglikelihood_correlation)
        row["params"] = int(res.n_params)
        row["AIC"] = float(res.aic)
        row["BIC"] = float(res.bic)
        row["converged"] = bool(res.converged)
        rows[label] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    order = [c for c in ("a", "se(a)", "b", "se(b)", "g", "se(g)", "nu", "se(nu)") if c in table]
    rest = [c for c in table.columns if c not in order]
    table = table[order + rest]
    table.index.name = "model"
    return table


def lr_tests(fits: Mapping[str, Any]) -> pd.DataFrame:
    """Likelihood-ratio tests between the nested models present in ``fits``.

    Parameters
    ----------
    fits : mapping of kind -> DCCResult
        Keys are model kinds (``"ccc"``, ``"dcc"``, ``"cdcc"``, ``"adcc"``); pairs of
        :data:`LR_PAIRS` with both kinds present are tested.

    Returns
    -------
    pandas.DataFrame
        One row per test: null, alternative, statistic, degrees of freedom, p-value, note.
    """
    rows = []
    for null, alternative in LR_PAIRS:
        if null in fits and alternative in fits:
            test = lr_test(fits[null], fits[alternative])
            rows.append(
                {
                    "null": null,
                    "alternative": alternative,
                    "statistic": test.statistic,
                    "df": test.df,
                    "p-value": test.pvalue,
                    "note": test.note,
                }
            )
    return pd.DataFrame(rows, columns=["null", "alternative", "statistic", "df", "p-value", "note"])
