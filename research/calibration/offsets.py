"""Offset credits for hedged pairs, calibrated under several correlation regimes.

For a pair of underlyings held as a hedge, the credit is the share of the sum of the
standalone risks that the hedge removes: matched legs of standalone margins ``R_a, R_b`` are
charged ``(1 - credit)(R_a + R_b)``, the package's one definition of an offset credit
(:mod:`research.margin.credits`, which :class:`research.margin.ParameterSetEngine` and the
backtest use; SPAN's spread rate on the smaller leg is a different convention, converted
there). It is computed under every correlation regime given
(typically the recent sample, the stress windows and a lower quantile of the DCC path), the
least favourable regime binds, the regulatory cap is applied, and a haircut is taken for a
correlation that weakens in stress. Pairs whose correlation is not significant, changes sign
or breaks in stress get no credit, and the table says why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from research.errors import DataError, ParameterError
from research.margin import EMIR_MAX_OFFSET
from research.margin.credits import DIRECTIONS, Direction, Hedge, hedge_sign

if TYPE_CHECKING:
    from research.correlation import CopulaDCCResult

__all__ = [
    "OffsetPair",
    "OffsetCalibrator",
    "OffsetCredits",
    "copula_regime",
    "hedge_credit",
]

#: Correlations are clipped this far inside (-1, 1) before the Fisher z transform, so that a
#: perfect correlation gives a finite statistic (p-value 0 to machine precision).
_FISHER_CLIP = 1e-12


@dataclass(frozen=True)
class OffsetPair:
    """A pair of underlyings held as a hedge.

    Parameters
    ----------
    first, second : str
        The two underlyings (distinct).
    direction : {"opposite", "same"}
        ``"opposite"``: one leg long, the other short (a hedge of positively correlated
        underlyings; a lower correlation is less favourable). ``"same"``: both legs in the
        same direction (a hedge of negatively correlated underlyings; a higher correlation is
        less favourable).

    Raises
    ------
    ParameterError
        If the two underlyings are the same or the direction is unknown.
    """

    first: str
    second: str
    direction: Direction = "opposite"

    def __post_init__(self) -> None:
        if self.first == self.second:
            raise ParameterError(
                f"an offset pair needs two distinct underlyings, got {self.first!r} twice"
            )
        if self.direction not in DIRECTIONS:
            raise ParameterError(
                f"direction of pair {self.first}/{self.second} must be 'opposite' or 'same', "
                f"got {self.direction!r}"
            )

    @property
    def name(self) -> str:
        """Label ``"first/second"``."""
        return f"{self.first}/{self.second}"

    @property
    def sign(self) -> float:
        """:func:`research.margin.credits.hedge_sign`: -1 for opposite legs, +1 for the same.

        The sign of the product of the legs' exposures that makes a hedge, as in
        :attr:`research.margin.PairCredit.sign` (one convention); the hedge correlation is
        ``-sign * rho``.
        """
        return hedge_sign(self.direction)

    @classmethod
    def coerce(cls, pair: OffsetPair | Sequence[str] | Mapping[str, str]) -> OffsetPair:
        """Build a pair from a pair, a ``(first, second[, direction])`` sequence or a mapping.

        Parameters
        ----------
        pair : OffsetPair, sequence or mapping
            E.g. ``("XOM", "CVX")``, ``["BTC", "ETH", "opposite"]`` or
            ``{"first": "KO", "second": "PEP"}``.

        Returns
        -------
        OffsetPair

        Raises
        ------
        ParameterError
            If the input has another shape.
        """
        if isinstance(pair, OffsetPair):
            return pair
        if isinstance(pair, Mapping):
            try:
                return cls(
                    str(pair["first"]), str(pair["second"]), pair.get("direction", "opposite")
                )
            except KeyError as exc:
                raise ParameterError(
                    f"an offset pair mapping needs 'first' and 'second', got {pair!r}"
                ) from exc
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) not in (2, 3):
            raise ParameterError(
                f"an offset pair is (first, second) or (first, second, direction), got {pair!r}"
            )
        return cls(*(str(p) for p in pair))  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, str]:
        """Plain-data form ``{"first", "second", "direction"}``."""
        return {"first": self.first, "second": self.second, "direction": self.direction}


def hedge_credit(
    correlation: float | np.ndarray,
    risk_first: float | np.ndarray = 1.0,
    risk_second: float | np.ndarray = 1.0,
    direction: Direction = "opposite",
) -> np.ndarray:
    r"""Uncapped credit ``1 - risk(hedged pair) / (risk_first + risk_second)``.

    Parameters
    ----------
    correlation : float or ndarray
        Correlation of the two underlyings' moves, in [-1, 1].
    risk_first, risk_second : float or ndarray
        Standalone risks of the two legs at the target level (non-negative, not both 0).
    direction : {"opposite", "same"}
        Whether the legs are held in opposite directions (long/short) or the same.

    Returns
    -------
    ndarray
        Credit in [0, 1], broadcast over the inputs.

    Raises
    ------
    ParameterError
        If a correlation is outside [-1, 1], a risk is negative or both risks are 0.

    Notes
    -----
    With leg risks :math:`s_1, s_2` and :math:`\sigma` the pair's
    :func:`research.margin.credits.hedge_sign` (-1 for opposite directions, +1 for the same
    direction), the risk of the hedged pair under correlation aggregation (exact for
    elliptical, e.g. normal, moves) is

    .. math:: s_{12} = \sqrt{s_1^2 + s_2^2 + 2\sigma\rho s_1 s_2},
        \qquad c = 1 - \frac{s_{12}}{s_1 + s_2}.

    A perfectly correlated pair of equal risk has :math:`c = 1`; an uncorrelated pair of
    equal risk :math:`c = 1 - 1/\sqrt{2} \approx 0.2929`.

    Examples
    --------
    >>> float(hedge_credit(0.0))
    0.2928932188134524
    """
    rho = np.asarray(correlation, dtype=float)
    s1 = np.asarray(risk_first, dtype=float)
    s2 = np.asarray(risk_second, dtype=float)
    if np.any(~np.isfinite(rho)) or np.any(np.abs(rho) > 1.0 + 1e-12):
        raise ParameterError(f"a correlation must lie in [-1, 1], got {correlation!r}")
    if np.any(~np.isfinite(s1)) or np.any(~np.isfinite(s2)) or np.any(s1 < 0) or np.any(s2 < 0):
        raise ParameterError(
            f"standalone risks must be finite and non-negative, got {risk_first!r}, {risk_second!r}"
        )
    total = s1 + s2
    if np.any(total <= 0):
        raise ParameterError("the two standalone risks are both zero; a credit is undefined")
    sign = hedge_sign(direction)
    pair_var = np.maximum(s1 * s1 + s2 * s2 + 2.0 * sign * np.clip(rho, -1.0, 1.0) * s1 * s2, 0.0)
    return np.clip(1.0 - np.sqrt(pair_var) / total, 0.0, 1.0)


def copula_regime(
    fit: CopulaDCCResult,
    pairs: Iterable[OffsetPair | Sequence[str] | Mapping[str, str]],
    quantile: float = 0.05,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    r"""Tail-dependence regime: each pair's least favourable quantile of a t-copula DCC path.

    A hedge fails when its legs decouple in a crash. Each pair's correlation in this regime is
    the ``quantile`` of its **hedge correlation** :math:`h_t = -\sigma\rho_t` over the copula
    correlation path :math:`\rho_t` of ``fit`` (:math:`\sigma` the pair's
    :attr:`OffsetPair.sign`), mapped back to :math:`\rho`: for a long/short (``"opposite"``)
    pair the lower ``quantile`` of :math:`\rho_t`, for a same-direction pair of negatively
    correlated underlyings the upper ``1 - quantile``. Both are the side on which the hedge
    removes the least risk, so the regime is conservative for every pair, whatever its
    direction. The t copula's correlation is estimated jointly with its degrees of freedom
    :math:`\nu` on the uniforms of the univariate stage, so a few joint extremes are read as
    tail dependence instead of pulling :math:`\rho` as they pull a Gaussian DCC's.

    With the correlation each pair gets the t copula's tail-dependence coefficient at the
    regime's hedge correlation, :math:`\lambda = \lambda_\nu(h)`
    (:func:`research.correlation.tail_dependence`): the limiting probability that, when one leg
    crashes, the other follows into its own extreme tail in the direction that pays the hedge
    (for an opposite pair, that both crash together; for a same pair, that one surges as the
    other crashes). A small :math:`\lambda` says that in a crash the legs move apart: the
    hedge the credit pays for is not there in the tail.

    Parameters
    ----------
    fit : CopulaDCCResult
        A t (or Gaussian, :math:`\lambda = 0`) copula DCC fit whose assets hold every leg.
    pairs : iterable of OffsetPair or (first, second[, direction])
        The hedged pairs.
    quantile : float
        Quantile of the hedge correlation over the path, in (0, 0.5).

    Returns
    -------
    matrix : DataFrame
        Asset x asset correlations of the regime, for :meth:`OffsetCalibrator.fit`: per pair the
        conservative quantile; every other entry the lower ``quantile`` of the path (the
        conservative side of an opposite-direction hedge); unit diagonal. Entry-wise quantiles
        need not form a positive semi-definite matrix; the calibrator reads pairs only.
    table : DataFrame
        One row per pair (index ``"first/second"``): ``first``, ``second``, ``direction``,
        ``rho`` (the regime's correlation), ``hedge_rho``, ``rho_median`` (the path's
        median), ``nu``, ``tail_dependence`` (:math:`\lambda` at ``hedge_rho``),
        ``tail_dependence_median`` (at the median hedge correlation), ``quantile`` and
        ``nobs`` (dates in the path).

    Raises
    ------
    ParameterError
        A quantile outside (0, 0.5), no pairs, or a pair repeated.
    DataError
        A leg missing from the fit.

    Examples
    --------
    >>> from research.correlation import CopulaDCC  # doctest: +SKIP
    >>> fit = CopulaDCC(copula="t", transform="empirical").fit(returns)  # doctest: +SKIP
    >>> matrix, table = copula_regime(fit, [("XOM", "CVX")], 0.05)  # doctest: +SKIP
    """
    from research.correlation import tail_dependence

    q = float(quantile)
    if not 0.0 < q < 0.5:
        raise ParameterError(f"the copula regime's quantile must lie in (0, 0.5), got {quantile!r}")
    checked = [OffsetPair.coerce(p) for p in pairs]
    if not checked:
        raise ParameterError("give at least one pair for the copula regime")
    names = [p.name for p in checked]
    if len(set(names)) != len(names):
        raise ParameterError(f"pairs repeat: {names}")
    assets = fit.assets
    for pair in checked:
        missing = [a for a in (pair.first, pair.second) if a not in assets]
        if missing:
            raise DataError(
                f"the copula fit has no asset {missing} (pair {pair.name}); fit it on data with "
                f"both legs (it has {assets})"
            )
    array = fit.correlation_array
    path = pd.DataFrame(
        array.reshape(-1, len(assets)),
        index=pd.MultiIndex.from_product([fit.dates, assets]),
        columns=assets,
    )
    matrix = hedge_side_quantiles(path, checked, q)
    rows = []
    for pair in checked:
        i, j = assets.index(pair.first), assets.index(pair.second)
        rho = float(matrix.iloc[i, j])
        median = float(np.median(array[:, i, j]))
        hedge, hedge_median = -pair.sign * rho, -pair.sign * median
        rows.append(
            {
                "first": pair.first,
                "second": pair.second,
                "direction": pair.direction,
                "rho": rho,
                "hedge_rho": hedge,
                "rho_median": median,
                "nu": fit.nu,
                "tail_dependence": float(tail_dependence(float(np.clip(hedge, -1, 1)), fit.nu)),
                "tail_dependence_median": float(
                    tail_dependence(float(np.clip(hedge_median, -1, 1)), fit.nu)
                ),
                "quantile": q,
                "nobs": len(array),
            }
        )
    return matrix, pd.DataFrame(rows, index=pd.Index(names, name="pair"))


def hedge_side_quantiles(
    path: pd.DataFrame, pairs: Sequence[OffsetPair | tuple[str, str] | str], quantile: float
) -> pd.DataFrame:
    """Per-pair quantile of a conditional-correlation path on the side that hurts the hedge.

    A long/short pair (``direction="opposite"``) loses its offset when the legs decouple, so its
    entry is the lower ``quantile`` of the path; a same-direction pair (legs negatively
    correlated, held the same way) loses it when the correlation rises towards zero, so its
    entry is the upper ``1 - quantile``. The correlation regimes of a DCC or copula path
    (``dcc_qNN``, ``copula_qNN``) are this matrix.

    Parameters
    ----------
    path : pandas.DataFrame
        Stacked correlation matrices (date x asset rows, asset columns), e.g.
        :attr:`research.correlation.DCCResult.correlation`.
    pairs : sequence of OffsetPair, (first, second) or "first/second"
        The candidate hedges.
    quantile : float
        In (0, 0.5).

    Returns
    -------
    pandas.DataFrame
        Asset x asset: each pair's entry on its hedge side, every other entry the lower
        ``quantile`` (the side of an opposite-direction hedge), unit diagonal. Entry-wise
        quantiles need not form a positive semi-definite matrix; the calibrator reads pairs only.

    Raises
    ------
    ParameterError
        A quantile outside (0, 0.5).
    DataError
        A pair's leg missing from the path.
    """
    from research.stress import dcc_correlation

    q = float(quantile)
    if not 0.0 < q < 0.5:
        raise ParameterError(f"the regime's quantile must lie in (0, 0.5), got {quantile!r}")
    band = dcc_correlation(path, statistic="mean", level=1.0 - 2.0 * q).band
    values = band.lower.to_numpy(copy=True)
    np.fill_diagonal(values, 1.0)
    assets = list(band.lower.columns)
    matrix = pd.DataFrame(values, index=assets, columns=assets)
    for pair in (OffsetPair.coerce(p) for p in pairs):
        missing = [a for a in (pair.first, pair.second) if a not in assets]
        if missing:
            raise DataError(f"the correlation path has no asset {missing} (pair {pair.name})")
        side = band.lower if pair.direction == "opposite" else band.upper
        rho = float(side.loc[pair.first, pair.second])
        matrix.loc[pair.first, pair.second] = matrix.loc[pair.second, pair.first] = rho
    return matrix


@dataclass(frozen=True)
class OffsetCalibrator:
    r"""Calibrate per-pair offset credits from correlation regimes.

    Parameters
    ----------
    cap : float
        Largest share of the reduction that is recognised, in [0, 1] (EMIR: 0.8). The capped
        credit is ``cap * credit``, so a perfect hedge of equal risk earns exactly ``cap``.
    hedge : {"equal_risk", "equal_notional"}
        How the legs are sized: ``"equal_risk"`` (each leg carries the same standalone risk,
        so only the correlation matters) or ``"equal_notional"`` (legs of equal notional,
        their risks are the risk weights; needs ``risk_weights`` in :meth:`fit`).
    significance : float
        Size of the one-sided Fisher z test that the hedge correlation is positive (for a
        same-direction pair: negative), run for every regime with a known number of
        observations. Not significant in any regime: no credit.
    break_threshold : float
        A fall of the hedge correlation from the reference regime to any other regime of at
        least this much counts as a break in stress: no credit.
    break_haircut : float
        Smaller falls ``d`` cut the credit by ``min(1, break_haircut * d)``.
    reference : str or None
        The regime that falls are measured from (default: the first regime given).
    min_correlation : float
        Smallest hedge correlation, in every regime, that supports an offset (in [0, 1));
        below it the pair gets no credit. 0 grants the diversification credit of any
        positive correlation; ``research.stress`` uses 0.3 as the correlation that still
        supports an offset.

    Raises
    ------
    ParameterError
        If a setting is out of range.

    Notes
    -----
    For each pair the credit under regime :math:`k` is :func:`hedge_credit` at that regime's
    correlation. With :math:`c^* = \min_k c_k` (the least favourable regime binds), the
    hedge correlation :math:`\tilde\rho = -\sigma\rho` and
    :math:`d = \max(0, \tilde\rho_{ref} - \min_k \tilde\rho_k)`, the calibrated credit is

    .. math:: \text{credit} = \text{cap}\cdot c^* \cdot (1 - \min(1, h\,d)),

    or 0 when the pair is flagged as breaking, its hedge correlation is not positive in some
    regime, is not significant, is below ``min_correlation``, or falls by at least
    ``break_threshold``.

    References
    ----------
    Commission Delegated Regulation (EU) No 153/2013, Article 27 (portfolio margining).

    Examples
    --------
    >>> import pandas as pd
    >>> def corr(r):
    ...     return pd.DataFrame([[1.0, r], [r, 1.0]], index=["A", "B"], columns=["A", "B"])
    >>> res = OffsetCalibrator().fit({"recent": corr(0.9), "stressed": corr(0.85)}, [("A", "B")])
    >>> round(float(res.credits["A/B"]), 4)  # 0.8 * (1 - sqrt(2 - 2 * 0.85) / 2) * (1 - 0.05)
    0.5519
    """

    cap: float = EMIR_MAX_OFFSET
    hedge: Hedge = "equal_risk"
    significance: float = 0.05
    break_threshold: float = 0.3
    break_haircut: float = 1.0
    reference: str | None = None
    min_correlation: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.cap) and 0.0 <= self.cap <= 1.0):
            raise ParameterError(
                f"cap is {self.cap}; give a share in [0, 1] (EMIR allows at most {EMIR_MAX_OFFSET})"
            )
        if self.hedge not in ("equal_risk", "equal_notional"):
            raise ParameterError(
                f"hedge must be 'equal_risk' or 'equal_notional', got {self.hedge!r}"
            )
        if not 0.0 < self.significance < 1.0:
            raise ParameterError(f"significance must lie in (0, 1), got {self.significance}")
        if not 0.0 < self.break_threshold <= 2.0:
            raise ParameterError(f"break_threshold must lie in (0, 2], got {self.break_threshold}")
        if not 0.0 <= self.min_correlation < 1.0:
            raise ParameterError(f"min_correlation must lie in [0, 1), got {self.min_correlation}")
        if not (math.isfinite(self.break_haircut) and self.break_haircut >= 0.0):
            raise ParameterError(
                f"break_haircut must be finite and non-negative, got {self.break_haircut}"
            )

    def fit(
        self,
        correlations: Mapping[str, pd.DataFrame],
        pairs: Iterable[OffsetPair | Sequence[str] | Mapping[str, str]],
        *,
        nobs: Mapping[str, int] | None = None,
        risk_weights: pd.Series | None = None,
        breaking: Iterable[Sequence[str]] = (),
    ) -> OffsetCredits:
        """Calibrate the credit of every pair.

        Parameters
        ----------
        correlations : mapping of str to DataFrame
            Regime name -> asset x asset correlation matrix, e.g. ``{"recent": ...,
            "stressed": ..., "dcc_q05": ...}``. Order matters only for the default reference.
        pairs : iterable of OffsetPair or (first, second[, direction])
            The candidate hedges.
        nobs : mapping of str to int, optional
            Observations behind each regime's estimate; regimes listed here get the
            significance test (a DCC quantile has no sample size and is left out).
        risk_weights : Series, optional
            Standalone risk per underlying at the target level; required for
            ``hedge="equal_notional"`` and reported in the table when given.
        breaking : iterable of pairs
            Pairs flagged as breaking by a stability diagnostic (e.g. the ``research.stress``
            stability table); they get no credit.

        Returns
        -------
        OffsetCredits

        Raises
        ------
        ParameterError
            If there are no regimes or pairs, a pair repeats, or a needed risk weight is missing.
        DataError
            If a pair's underlying is missing from a regime's matrix or its correlation is
            not a finite number in [-1, 1].
        """
        regimes = self._check_regimes(correlations)
        counts = dict(nobs or {})
        unknown = sorted(set(counts) - set(regimes))
        if unknown:
            raise ParameterError(f"nobs names regimes {unknown} that are not among {list(regimes)}")
        reference = self.reference or next(iter(regimes))
        if reference not in regimes:
            raise ParameterError(f"reference regime {reference!r} is not among {list(regimes)}")
        candidates = [OffsetPair.coerce(p) for p in pairs]
        if not candidates:
            raise ParameterError("give at least one pair to calibrate an offset credit for")
        seen: set[frozenset[str]] = set()
        for pair in candidates:
            key = frozenset((pair.first, pair.second))
            if key in seen:
                raise ParameterError(f"pair {pair.name} is listed twice")
            seen.add(key)
        flagged = {frozenset((q.first, q.second)) for q in map(OffsetPair.coerce, breaking)}
        rows = [
            self._pair_row(
                pair,
                regimes,
                counts,
                reference,
                risk_weights,
                frozenset((pair.first, pair.second)) in flagged,
            )
            for pair in candidates
        ]
        table = pd.DataFrame(rows).set_index("pair")
        return OffsetCredits(
            table=table,
            matrix=_credit_matrix(candidates, table["credit"]),
            regimes=tuple(regimes),
            reference=reference,
            settings=self,
        )

    def _check_regimes(self, correlations: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        if not correlations:
            raise ParameterError("give at least one correlation regime (e.g. {'recent': matrix})")
        out = {}
        for name, matrix in correlations.items():
            if not isinstance(matrix, pd.DataFrame):
                raise DataError(
                    f"regime {name!r}: a correlation matrix must be a labelled DataFrame"
                )
            out[str(name)] = matrix
        return out

    def _pair_row(
        self,
        pair: OffsetPair,
        regimes: Mapping[str, pd.DataFrame],
        nobs: Mapping[str, int],
        reference: str,
        risk_weights: pd.Series | None,
        flagged: bool,
    ) -> dict[str, Any]:
        risk1, risk2 = self._leg_risks(pair, risk_weights)
        row: dict[str, Any] = {
            "pair": pair.name,
            "first": pair.first,
            "second": pair.second,
            "direction": pair.direction,
        }
        if risk_weights is not None:
            row["risk_first"], row["risk_second"] = (
                _risk(pair.first, risk_weights),
                _risk(pair.second, risk_weights),
            )
        rho = {name: _pair_correlation(name, matrix, pair) for name, matrix in regimes.items()}
        raw = {
            name: float(hedge_credit(r, risk1, risk2, pair.direction)) for name, r in rho.items()
        }
        pvalues = {name: _fisher_pvalue(-pair.sign * rho[name], n) for name, n in nobs.items()}
        for name in regimes:
            row[f"rho_{name}"] = rho[name]
        for name in regimes:
            row[f"credit_{name}"] = raw[name]
        for name in nobs:
            row[f"pvalue_{name}"] = pvalues[name]
        binding = min(raw, key=raw.__getitem__)
        hedge_rho = {name: -pair.sign * r for name, r in rho.items()}
        fall = max(0.0, hedge_rho[reference] - min(hedge_rho.values()))
        haircut = min(1.0, self.break_haircut * fall)
        capped = self.cap * raw[binding]
        reason = self._reason(pair, hedge_rho, pvalues, nobs, rho, reference, fall, flagged)
        credit = 0.0 if reason else capped * (1.0 - haircut)
        row.update(
            binding_regime=binding,
            raw_credit=raw[binding],
            cap=self.cap,
            cap_applied=bool(capped < raw[binding]),
            correlation_fall=fall,
            haircut=0.0 if reason else haircut,
            credit=credit,
            reason=reason,
        )
        return row

    def _leg_risks(self, pair: OffsetPair, risk_weights: pd.Series | None) -> tuple[float, float]:
        if self.hedge == "equal_risk":
            return 1.0, 1.0
        if risk_weights is None:
            raise ParameterError(
                "hedge='equal_notional' needs the risk weights: fit(..., risk_weights=...)"
            )
        return _risk(pair.first, risk_weights), _risk(pair.second, risk_weights)

    def _reason(
        self,
        pair: OffsetPair,
        hedge_rho: Mapping[str, float],
        pvalues: Mapping[str, float],
        nobs: Mapping[str, int],
        rho: Mapping[str, float],
        reference: str,
        fall: float,
        flagged: bool,
    ) -> str:
        want = "positive" if pair.direction == "opposite" else "negative"
        if flagged:
            return "flagged as breaking in stress by the stability diagnostics"
        not_hedge = [name for name, r in hedge_rho.items() if r <= 0.0]
        if not_hedge:
            name = not_hedge[0]
            return (
                f"correlation is not {want} in regime {name!r} (rho={rho[name]:.3f}): "
                f"the {pair.direction}-direction legs do not hedge"
            )
        weak = [name for name, p in pvalues.items() if p > self.significance]
        if weak:
            name = weak[0]
            return (
                f"correlation not significant in regime {name!r} (rho={rho[name]:.3f}, "
                f"one-sided p={pvalues[name]:.3g} > {self.significance}, n={nobs[name]})"
            )
        low = [name for name, r in hedge_rho.items() if r < self.min_correlation]
        if low:
            name = low[0]
            return (
                f"correlation too weak for an offset in regime {name!r} "
                f"(rho={rho[name]:.3f}, minimum {self.min_correlation})"
            )
        if fall >= self.break_threshold:
            worst = min(hedge_rho, key=hedge_rho.__getitem__)
            return (
                f"correlation breaks in stress: {reference} {rho[reference]:.3f} -> {worst} "
                f"{rho[worst]:.3f} (fall {fall:.3f} >= threshold {self.break_threshold})"
            )
        return ""


@dataclass(frozen=True, eq=False)
class OffsetCredits:
    """Calibrated offset credits (the result of :meth:`OffsetCalibrator.fit`).

    Parameters
    ----------
    table : DataFrame
        One row per pair (index ``"first/second"``): the legs, direction, per-regime
        correlations ``rho_<regime>`` and uncapped credits ``credit_<regime>``, Fisher
        p-values ``pvalue_<regime>`` where a sample size was given, ``binding_regime`` (the
        least favourable), ``raw_credit``, ``cap``, ``cap_applied``, ``correlation_fall``,
        ``haircut``, the final ``credit`` and the ``reason`` for a zero credit (empty when
        credited).
    matrix : DataFrame
        Symmetric asset x asset matrix of final credits; NaN on the diagonal and for pairs that
        were not candidates.
    regimes : tuple of str
        Regime names, in the order given.
    reference : str
        Regime the correlation fall is measured from.
    settings : OffsetCalibrator
        The calibrator that produced the result.
    """

    table: pd.DataFrame
    matrix: pd.DataFrame
    regimes: tuple[str, ...]
    reference: str
    settings: OffsetCalibrator

    @property
    def credits(self) -> pd.Series:
        """Final credit per pair (Series indexed by ``"first/second"``)."""
        return self.table["credit"].rename("credit")

    @property
    def zero_credit(self) -> pd.DataFrame:
        """Pairs with no credit and the reason for each."""
        zero = self.table[self.table["reason"] != ""]
        return zero[["first", "second", "binding_regime", "raw_credit", "reason"]]

    def tidy(self) -> pd.DataFrame:
        """Exhibit table: pair, credit per regime, binding regime, cap applied, credit, reason."""
        columns = (
            ["first", "second", "direction"]
            + [f"credit_{r}" for r in self.regimes]
            + ["binding_regime", "cap_applied", "haircut", "credit", "reason"]
        )
        return self.table[columns].reset_index()

    def to_dict(self) -> dict[str, float]:
        """Credits as ``{"first/second": credit}`` for a parameter file."""
        return {str(k): float(v) for k, v in self.credits.items()}

    def parameter_fields(self) -> dict[str, Any]:
        """Return the offset fields of a :class:`~research.calibration.MarginParameters`.

        Returns
        -------
        dict
            ``offset_credits`` (:meth:`to_dict`), ``offset_directions`` (each pair's
            direction) and ``offset_hedge`` (how the calibrator matched the legs), so that
            the set's engine applies each credit to the hedge it was calibrated for.
        """
        return {
            "offset_credits": self.to_dict(),
            "offset_directions": {
                str(name): str(direction) for name, direction in self.table["direction"].items()
            },
            "offset_hedge": self.settings.hedge,
        }

    def summary(self) -> pd.DataFrame:
        """Summary with a ``target`` column: per pair the credit against the cap.

        Returns
        -------
        DataFrame
            Columns ``credit``, ``target`` (the cap), ``binding_regime`` and ``reason``.
        """
        out = self.table[["credit", "binding_regime", "reason"]].copy()
        out.insert(1, "target", self.settings.cap)
        return out

    def plot_matrix(self, ax: Any = None) -> Any:
        """Heatmap of the credit matrix.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Axes to draw on (default: a new figure).

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            n = len(self.matrix)
            fig, ax = plt.subplots(figsize=(1.0 + 0.7 * n, 0.6 + 0.6 * n))
        else:
            fig = ax.figure
        sns.heatmap(
            self.matrix.astype(float),
            annot=True,
            fmt=".2f",
            vmin=0.0,
            vmax=self.settings.cap,
            cmap="viridis",
            cbar_kws={"label": "offset credit"},
            ax=ax,
        )
        ax.set_xlabel("")
        ax.set_ylabel("")
        return fig

    def __str__(self) -> str:
        return (
            f"OffsetCredits: {len(self.table)} pairs, "
            f"{int((self.table['credit'] > 0).sum())} credited, "
            f"cap {self.settings.cap}, regimes {', '.join(self.regimes)}\n"
            + self.tidy().to_string()
        )


def _risk(asset: str, risk_weights: pd.Series) -> float:
    if asset not in risk_weights.index:
        raise ParameterError(
            f"no risk weight for {asset!r}; calibrate or give one for every leg of a pair"
        )
    value = float(risk_weights[asset])
    if not math.isfinite(value) or value < 0:
        raise ParameterError(
            f"risk weight of {asset!r} is {value}; it must be finite and non-negative"
        )
    return value


def _pair_correlation(regime: str, matrix: pd.DataFrame, pair: OffsetPair) -> float:
    for asset in (pair.first, pair.second):
        if asset not in matrix.index or asset not in matrix.columns:
            raise DataError(
                f"regime {regime!r} has no correlation for {asset!r} (pair {pair.name}); "
                "estimate it on data that include both legs"
            )
    values = (
        float(matrix.loc[pair.first, pair.second]),
        float(matrix.loc[pair.second, pair.first]),
    )
    if not all(math.isfinite(v) and abs(v) <= 1.0 + 1e-12 for v in values):
        raise DataError(
            f"regime {regime!r}: correlation of {pair.name} is {values[0]}; "
            "it must be a finite number in [-1, 1]"
        )
    if abs(values[0] - values[1]) > 1e-10:
        raise DataError(
            f"regime {regime!r}: the matrix is not symmetric for {pair.name} "
            f"({values[0]} vs {values[1]})"
        )
    return float(np.clip(values[0], -1.0, 1.0))


def _fisher_pvalue(hedge_rho: float, nobs: int) -> float:
    """One-sided p-value of H0: hedge correlation <= 0 (Fisher z with n - 3 degrees)."""
    if int(nobs) < 4:
        raise ParameterError(f"a significance test needs at least 4 observations, got {nobs}")
    z = math.atanh(float(np.clip(hedge_rho, -1.0 + _FISHER_CLIP, 1.0 - _FISHER_CLIP))) * math.sqrt(
        int(nobs) - 3
    )
    return float(stats.norm.sf(z))


def _credit_matrix(pairs: Sequence[OffsetPair], credits: pd.Series) -> pd.DataFrame:
    assets = list(dict.fromkeys(a for p in pairs for a in (p.first, p.second)))
    matrix = pd.DataFrame(np.nan, index=assets, columns=assets)
    for pair in pairs:
        matrix.loc[pair.first, pair.second] = credits[pair.name]
        matrix.loc[pair.second, pair.first] = credits[pair.name]
    return matrix
