"""Side-by-side comparison of fitted correlation models and likelihood-ratio tests.

:func:`compare` and :func:`lr_tests` cover the DCC family; :func:`compare_dependence` puts a
Gaussian DCC, copula-DCCs and DECO on one scale, the log copula density of the same uniforms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from research.correlation.copula import CopulaDCC, CopulaDCCResult
from research.correlation.deco import DECO, DECOResult
from research.correlation.lrtest import lr_test
from research.correlation.model import DCC
from research.correlation.results import DCCResult
from research.errors import DataError, SpecificationError
from research.volatility import UnivariateFits, UnivariateSpec, univariate_stage

__all__ = ["LR_PAIRS", "compare", "compare_dependence", "fit_dependence", "lr_tests"]

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


def compare_dependence(
    fits: Mapping[str, DCCResult | CopulaDCCResult | DECOResult],
) -> pd.DataFrame:
    r"""One table for Gaussian DCC, copula-DCC and DECO fits on the same univariate stage.

    With normal GARCH margins the uniforms are :math:`u_{it} = \Phi(z_{it})`. The correlation
    log-likelihood of a normal DCC (and of DECO, the same density at the equicorrelation
    matrix), :math:`\sum_t [\log\phi_N(z_t; R_t) - \sum_i \log\phi(z_{it})]`, is the log
    density of the Gaussian copula at those uniforms, and a copula-DCC fitted with the
    parametric transform reports the log density of its copula at the same uniforms. The
    margins' log-likelihood is common to all of them, so these numbers, and information
    criteria built on them, rank the dependence models on equal terms. A row whose number is
    not that density (a DCC with Student-t innovations, whose correlation stage keeps normal
    margins; a copula on rank uniforms; a different univariate stage) keeps its
    log-likelihood but gets no AIC/BIC and says why in ``note``.

    Parameters
    ----------
    fits : mapping of label -> DCCResult, CopulaDCCResult or DECOResult
        The first fit's standardized residuals are the reference margins.

    Returns
    -------
    pandas.DataFrame
        One row per fit: ``model`` (what was fitted), ``a``, ``b``, ``g`` (ADCC), ``nu`` (t
        copula; NaN otherwise), ``copula log-lik.``, ``parameters`` (estimated dependence
        parameters; the correlation target, a moment estimate, is not counted), ``AIC``,
        ``BIC`` (on the copula log-likelihood, lower is better), ``comparable`` and ``note``.

    Raises
    ------
    DataError
        No fit.
    SpecificationError
        A value that is not one of the three result types.

    Examples
    --------
    >>> from research.correlation import DCC, DECO, CopulaDCC  # doctest: +SKIP
    >>> from research.volatility import fit_univariate  # doctest: +SKIP
    >>> stage = fit_univariate(returns)  # doctest: +SKIP
    >>> compare_dependence({"DCC": DCC().fit(univariate=stage),  # doctest: +SKIP
    ...                     "t copula": CopulaDCC().fit(univariate=stage),
    ...                     "DECO": DECO().fit(univariate=stage)})
    """
    if not fits:
        raise DataError("compare_dependence needs at least one fit")
    reference = None
    rows = {}
    for label, res in fits.items():
        if isinstance(res, DCCResult):
            model = f"{res.kind.upper()}, {res.distribution}"
            loglik, params, stage = res.loglikelihood_correlation, res.params, res.univariate
            note = "" if res.distribution == "normal" else "normal margins under a t density"
        elif isinstance(res, CopulaDCCResult):
            spec = res.model
            model = f"{spec.copula} copula, {spec.kind.upper()}, {spec.transform}"
            loglik, params, stage = res.loglikelihood_copula, res.params, res.univariate
            note = "" if spec.transform == "parametric" else "rank uniforms, not Phi(z)"
        elif isinstance(res, DECOResult):
            model = "DECO"
            loglik, params, stage = res.loglikelihood_correlation, res.params, res.univariate
            note = ""
        else:
            raise SpecificationError(
                f"fit {label!r} is a {type(res).__name__}; compare_dependence takes DCCResult, "
                "CopulaDCCResult or DECOResult"
            )
        z = stage.std_resid
        if reference is None:
            reference = z
        elif not (z.shape == reference.shape and np.allclose(z.to_numpy(), reference.to_numpy())):
            note = note or "another univariate stage than the first fit"
        nobs = len(z)
        k = int(params.size)
        row: dict[str, Any] = {"model": model}
        row.update({name: float(params.get(name, np.nan)) for name in ("a", "b", "g", "nu")})
        row["copula log-lik."] = float(loglik)
        row["parameters"] = k
        row["AIC"] = -2.0 * loglik + 2.0 * k if not note else np.nan
        row["BIC"] = -2.0 * loglik + np.log(nobs) * k if not note else np.nan
        row["comparable"] = not note
        row["note"] = note
        rows[label] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    if table["g"].isna().all():
        table = table.drop(columns="g")
    table.index.name = "fit"
    return table


def fit_dependence(
    returns: pd.DataFrame | None = None,
    *,
    univariate: UnivariateFits | None = None,
    spec: UnivariateSpec | None = None,
) -> dict[str, DCCResult | CopulaDCCResult | DECOResult]:
    """Fit a normal DCC, a Student-t copula DCC and DECO on one univariate stage.

    The three share the standardized residuals, so :func:`compare_dependence` ranks them on
    the same copula density.

    Parameters
    ----------
    returns : pandas.DataFrame, optional
        Returns in percent, one column per asset, no missing values.
    univariate : UnivariateFits, optional
        A univariate stage already fitted; then ``returns`` is not needed.
    spec : UnivariateSpec, optional
        The volatility model fitted to ``returns`` (default: constant mean + GARCH(1,1),
        normal innovations, which the copula's parametric transform needs).

    Returns
    -------
    dict
        ``{"DCC": DCCResult, "t copula": CopulaDCCResult, "DECO": DECOResult}`` (the DCC
        without standard errors; the t copula with DCC dynamics and the parametric transform).

    Raises
    ------
    DataError, InsufficientDataError, SpecificationError, ConvergenceError
        As the three models' ``fit``.
    """
    stage = univariate_stage(returns, univariate, spec or UnivariateSpec())
    return {
        "DCC": DCC(kind="dcc", std_errors=False).fit(univariate=stage),
        "t copula": CopulaDCC(copula="t", kind="dcc").fit(univariate=stage),
        "DECO": DECO().fit(univariate=stage),
    }
