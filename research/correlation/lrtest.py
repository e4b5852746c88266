"""Likelihood-ratio tests between nested DCC-family fits (DCC vs CCC, ADCC vs DCC)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from research.correlation.results import DCCResult
from research.errors import SpecificationError

__all__ = ["LikelihoodRatioTest", "lr_test"]

#: Nested pairs (restricted kind, unrestricted kind) that the test accepts.
NESTED = {("ccc", "dcc"), ("ccc", "cdcc"), ("ccc", "adcc"), ("dcc", "adcc"), ("dcc", "dcc")}
#: Tolerance for "the same data" (std residual hashes must match exactly).
_SAME = ("std_resid_sha256", "nobs")


@dataclass(frozen=True)
class LikelihoodRatioTest:
    """Result of a likelihood-ratio test.

    Parameters
    ----------
    statistic : float
        2 (LL_unrestricted - LL_restricted), correlation stage.
    df : int
        Number of restrictions.
    pvalue : float
        Chi-square(df) upper tail probability.
    null : str
        Restricted model.
    alternative : str
        Unrestricted model.
    note : str
        Caveat about the reference distribution.
    """

    statistic: float
    df: int
    pvalue: float
    null: str
    alternative: str
    note: str = ""

    def __str__(self) -> str:
        text = (
            f"Likelihood-ratio test\nH0: {self.null}\nH1: {self.alternative}\n"
            f"Statistic: {self.statistic:.4f}\nP-value: {self.pvalue:.4g}\n"
            f"Distributed: chi2({self.df})"
        )
        return text + (f"\nNote: {self.note}" if self.note else "")


def lr_test(restricted: DCCResult, unrestricted: DCCResult) -> LikelihoodRatioTest:
    """Likelihood-ratio test of a restricted fit against a nesting one on the same data.

    Parameters
    ----------
    restricted : DCCResult
        Null model (e.g. CCC, or DCC against ADCC).
    unrestricted : DCCResult
        Alternative (e.g. DCC, or ADCC), same standardized residuals and distribution.

    Returns
    -------
    LikelihoodRatioTest

    Raises
    ------
    SpecificationError
        If the models are not nested, use different data or distributions, or were
        estimated by composite likelihood (no LR distribution).

    Notes
    -----
    Only the correlation stage differs, so the statistic uses
    ``loglikelihood_correlation``. For CCC against DCC the parameter ``b`` is not
    identified under the null (a = 0), so the chi-square(df) reference is conservative
    (Engle and Sheppard 2001 propose a dedicated test); the note records it.
    """
    for res in (restricted, unrestricted):
        if not isinstance(res, DCCResult):
            raise SpecificationError("lr_test needs two DCCResult objects")
        if res.model.estimation != "full":
            raise SpecificationError(
                "lr_test needs full-likelihood fits; composite likelihoods have no chi-square LR"
            )
    if (restricted.kind, unrestricted.kind) not in NESTED or restricted.kind == unrestricted.kind:
        raise SpecificationError(
            f"{restricted.kind} is not nested in {unrestricted.kind}; valid pairs: "
            "ccc in dcc/cdcc/adcc, dcc in adcc"
        )
    if restricted.distribution != unrestricted.distribution:
        raise SpecificationError("both fits must use the same distribution")
    for key in _SAME:
        if restricted.data_description.get(key) != unrestricted.data_description.get(key):
            raise SpecificationError(
                f"the fits use different data ({key} differs); fit both on the same returns"
            )
    df = int(unrestricted.params.size - restricted.params.size)
    stat = float(
        2 * (unrestricted.loglikelihood_correlation - restricted.loglikelihood_correlation)
    )
    stat = max(stat, 0.0)
    note = ""
    if restricted.kind == "ccc":
        note = "b is unidentified under H0 (a = 0): the chi-square reference is conservative"
    return LikelihoodRatioTest(
        statistic=stat,
        df=df,
        pvalue=float(stats.chi2.sf(stat, df)) if df > 0 else float(np.nan),
        null=f"{restricted.kind.upper()} ({restricted.distribution})",
        alternative=f"{unrestricted.kind.upper()} ({unrestricted.distribution})",
        note=note,
    )
