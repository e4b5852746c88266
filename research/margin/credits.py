r"""The package's one definition of an offset credit, and its conversion to a SPAN spread rate.

**Offset credit** (calibration, :class:`~research.margin.ParameterSetEngine`, the backtest):
the credit :math:`c` of a pair of underlyings is the share of the *sum of the two legs'
standalone margins* that holding them as a hedge removes,

.. math:: M_{ab} = (1 - c)\,(M_a + M_b),

for legs matched at the hedge ratio the credit was calibrated for (:data:`Hedge`):
``"equal_risk"`` (each leg carries the same standalone margin) or ``"equal_notional"``. The
calibration (``research.calibration.OffsetCalibrator``) computes
:math:`c = \text{cap}\cdot(1 - s_{ab}/(s_a + s_b))` with the pair's risk :math:`s_{ab}` in the
least favourable correlation regime (then cut by a haircut for a correlation that weakens in
stress), so a credit never exceeds the offset cap and, without a haircut,
:math:`M_{ab} = I - \text{cap}\,(I - s_{ab})` with :math:`I = M_a + M_b`: exactly the EMIR
cap of :class:`~research.margin.OffsetPolicy` on the pair's reduction. Legs that are not
matched (the larger leg's excess) are charged in full.

**SPAN inter-commodity spread credit** (:class:`~research.margin.SpreadCredit`): a rate
:math:`r` applied to the *smaller* of the two matched legs' scan risks,
:math:`M_{ab} = M_a + M_b - r \min(M_a, M_b)`.

**Conversion.** For the same matched legs (margins :math:`R_a, R_b`) the two remove the same
margin when

.. math:: r = c\,\frac{R_a + R_b}{\min(R_a, R_b)}, \qquad c = r\,\frac{\min(R_a, R_b)}{R_a + R_b}.

The ratio depends only on the hedge ratio: 2 for equal-risk legs, :math:`(w_a + w_b)/\min(w_a,
w_b)` for equal-notional legs with risk weights :math:`w`. A SPAN rate is at most 1, so a credit
above :math:`\min(R_a, R_b)/(R_a + R_b)` (one half for equal-risk legs) has no SPAN equivalent.
Example: a 47.8% credit on equal-risk legs of 100,000 margin each leaves
:math:`0.522 \times 200{,}000 = 104{,}400`; read as a SPAN rate it would leave
:math:`200{,}000 - 0.478 \times 100{,}000 = 152{,}200`; the SPAN rate that leaves 104,400 is
:math:`2 \times 0.478 = 0.956`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from research._typing import Float64Array, Float64Array2D
from research.errors import ParameterError
from research.margin.span import SpreadCredit

__all__ = [
    "Direction",
    "Hedge",
    "PairCredit",
    "credit_from_spread_rate",
    "hedge_sign",
    "hedged_pair_margin",
    "matched_notionals",
    "pair_offsets",
    "spread_credit",
    "spread_rate",
]

Hedge = Literal["equal_risk", "equal_notional"]
"""How the two legs of a credited pair are matched: equal standalone margin or equal notional."""
Direction = Literal["opposite", "same"]
"""``"opposite"``: a long against a short (positively correlated underlyings); ``"same"``:
both long or both short (negatively correlated underlyings)."""

HEDGES: tuple[str, ...] = get_args(Hedge)
DIRECTIONS: tuple[str, ...] = get_args(Direction)


def _share(value: float, what: str) -> float:
    number = float(value)
    if not (math.isfinite(number) and 0.0 <= number <= 1.0):
        raise ParameterError(f"{what} is {value!r}; give a share in [0, 1]")
    return number


def hedge_sign(direction: Direction) -> float:
    r"""Sign of the product of two legs' exposures that makes them a hedge.

    The package's one sign convention for the direction of a pair, used by
    :class:`PairCredit`, :class:`research.calibration.OffsetPair` and the backtests: with
    :math:`\sigma` = ``hedge_sign(direction)``, legs of net exposures :math:`E_a, E_b` hedge
    when :math:`\sigma E_a E_b > 0`, the *hedge correlation* (the one a credit needs to be
    high) is :math:`-\sigma\rho`, and matched legs of standalone risks :math:`s_a, s_b` have
    the joint risk :math:`\sqrt{s_a^2 + s_b^2 + 2\sigma\rho s_a s_b}`.

    Parameters
    ----------
    direction : {"opposite", "same"}
        The pair's direction (:data:`Direction`).

    Returns
    -------
    float
        -1.0 for ``"opposite"`` (a long against a short), +1.0 for ``"same"``.

    Raises
    ------
    ParameterError
        For an unknown direction.

    Examples
    --------
    >>> hedge_sign("opposite"), hedge_sign("same")
    (-1.0, 1.0)
    """
    if direction not in DIRECTIONS:
        raise ParameterError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    return -1.0 if direction == "opposite" else 1.0


def check_hedge(hedge: str) -> str:
    """Return ``hedge`` if it is one of :data:`Hedge`, else raise :class:`ParameterError`."""
    if hedge not in HEDGES:
        raise ParameterError(f"offset hedge must be one of {HEDGES}, got {hedge!r}")
    return hedge


@dataclass(frozen=True)
class PairCredit:
    """The offset credit of one pair of underlyings.

    Parameters
    ----------
    first, second : str
        The two underlyings (distinct).
    credit : float
        Share of the matched legs' summed standalone margin removed, in [0, 1].
    direction : {"opposite", "same"}
        Positions that form the hedge: opposite signs (default) or the same sign.

    Raises
    ------
    ParameterError
        Same underlying twice, a credit outside [0, 1] or an unknown direction.
    """

    first: str
    second: str
    credit: float
    direction: Direction = "opposite"

    def __post_init__(self) -> None:
        if self.first == self.second:
            raise ParameterError(f"a credited pair needs two underlyings, got {self.first!r} twice")
        object.__setattr__(
            self, "credit", _share(self.credit, f"credit of {self.first}/{self.second}")
        )
        if self.direction not in DIRECTIONS:
            raise ParameterError(
                f"direction of {self.first}/{self.second} must be one of {DIRECTIONS}, "
                f"got {self.direction!r}"
            )

    @property
    def name(self) -> str:
        """Label ``"first/second"``."""
        return f"{self.first}/{self.second}"

    @property
    def sign(self) -> float:
        """:func:`hedge_sign` of the direction: -1 for opposite legs, +1 for the same."""
        return hedge_sign(self.direction)


def hedged_pair_margin(
    margin_first: float | Float64Array,
    margin_second: float | Float64Array,
    credit: float | Float64Array,
) -> Float64Array:
    r"""Margin of two matched legs after their offset credit: ``(1 - c)(M_a + M_b)``.

    Parameters
    ----------
    margin_first, margin_second : float or ndarray
        Standalone margins of the two matched legs (non-negative).
    credit : float or ndarray
        Offset credit in [0, 1].

    Returns
    -------
    ndarray
        The credited margin, broadcast over the inputs.

    Examples
    --------
    >>> float(hedged_pair_margin(1.0, 1.0, 0.25))  # two legs of unit risk, 25% credit
    1.5
    """
    return (1.0 - np.asarray(credit, dtype=float)) * (
        np.asarray(margin_first, dtype=float) + np.asarray(margin_second, dtype=float)
    )


def _leg_ratios(hedge: str, weight_first: float, weight_second: float) -> tuple[float, float]:
    """Margin each leg carries per matched unit (``k`` of :func:`pair_offsets`)."""
    if check_hedge(hedge) == "equal_risk":
        return 1.0, 1.0
    return float(weight_first), float(weight_second)


def matched_notionals(
    notional: float, hedge: Hedge, weight_first: float, weight_second: float
) -> tuple[float, float]:
    """Absolute notionals of two legs that the offset credit matches in full.

    Parameters
    ----------
    notional : float
        Absolute notional of the first leg.
    hedge : {"equal_risk", "equal_notional"}
        How the credit matches legs (:data:`Hedge`).
    weight_first, weight_second : float
        Risk weights of the two legs.

    Returns
    -------
    (float, float)
        ``(notional, notional * w_a / w_b)`` for equal-risk legs (both carry the margin
        ``w_a * notional``), ``(notional, notional)`` for equal-notional legs; held in the
        pair's direction, :func:`pair_offsets` matches all of both legs.

    Examples
    --------
    >>> matched_notionals(100.0, "equal_risk", 0.1, 0.2)
    (100.0, 50.0)
    """
    k_a, k_b = _leg_ratios(hedge, weight_first, weight_second)
    units = float(notional) * float(weight_first) / k_a
    return float(notional), units * k_b / float(weight_second)


def pair_offsets(
    margins: Float64Array2D,
    exposures: Float64Array2D,
    weights: Float64Array,
    pairs: Sequence[tuple[int, int, PairCredit]],
    hedge: Hedge = "equal_risk",
) -> tuple[Float64Array, Float64Array2D]:
    r"""Offset recognised for every credited pair of every portfolio.

    Parameters
    ----------
    margins : ndarray of shape (n_portfolios, n_underlyings)
        Standalone margin of each underlying's net exposure, ``w_u |E_u|``.
    exposures : ndarray of shape (n_portfolios, n_underlyings)
        Net signed exposure per underlying (its sign decides whether a pair hedges).
    weights : ndarray of shape (n_underlyings,)
        Risk weight per underlying (the hedge ratio of ``"equal_notional"`` legs).
    pairs : sequence of (i, j, PairCredit)
        Column positions of the two legs and the pair's credit, in the order they are applied.
    hedge : {"equal_risk", "equal_notional"}
        How legs are matched (:data:`Hedge`).

    Returns
    -------
    total : ndarray of shape (n_portfolios,)
        Sum of the pair offsets.
    per_pair : ndarray of shape (n_portfolios, n_pairs)
        Offset of each pair, in the order given.

    Notes
    -----
    Pairs are applied in the order given (:class:`ParameterSetEngine` orders them by credit,
    largest first). With ``k_x`` the margin leg ``x`` carries per matched unit (1 for equal
    risk, ``w_x`` for equal notional) and ``R_x`` the margin of leg ``x`` not yet matched,
    a pair whose exposures hedge (opposite signs, or equal signs for ``"same"``) matches
    ``n = min(R_a / k_a, R_b / k_b)`` units, recognises the offset ``c n (k_a + k_b)`` (the
    credit of :func:`hedged_pair_margin` on the matched legs) and uses up ``n k_x`` of each
    leg's margin, so no margin is credited twice and the total offset is at most the largest
    credit times the sum of the margins.
    """
    remaining = np.array(margins, dtype=float, copy=True)
    per_pair = np.zeros((remaining.shape[0], len(pairs)))
    total = np.zeros(remaining.shape[0])
    for p, (i, j, pair) in enumerate(pairs):
        k_i, k_j = _leg_ratios(hedge, weights[i], weights[j])
        hedged = exposures[:, i] * exposures[:, j] * pair.sign > 0
        n = np.where(hedged, np.minimum(remaining[:, i] / k_i, remaining[:, j] / k_j), 0.0)
        per_pair[:, p] = pair.credit * n * (k_i + k_j)
        total += per_pair[:, p]
        remaining[:, i] -= n * k_i
        remaining[:, j] -= n * k_j
    return total, per_pair


def spread_rate(
    credit: float,
    hedge: Hedge = "equal_risk",
    weight_first: float = 1.0,
    weight_second: float = 1.0,
) -> float:
    """SPAN spread rate (on the smaller leg) that removes the same margin as an offset credit.

    Parameters
    ----------
    credit : float
        Offset credit in [0, 1] (share of the matched legs' summed margin).
    hedge : {"equal_risk", "equal_notional"}
        How the legs are matched.
    weight_first, weight_second : float
        Risk weights of the legs (used for ``"equal_notional"``).

    Returns
    -------
    float
        ``credit * (k_a + k_b) / min(k_a, k_b)``.

    Raises
    ------
    ParameterError
        If the rate would exceed 1: the credit removes more than the smaller leg's margin,
        which no SPAN spread credit can.
    """
    k_a, k_b = _leg_ratios(hedge, weight_first, weight_second)
    rate = _share(credit, "offset credit") * (k_a + k_b) / min(k_a, k_b)
    if rate > 1.0:
        raise ParameterError(
            f"an offset credit of {credit:g} on {hedge} legs removes {rate:g} times the smaller "
            "leg's margin; a SPAN spread rate is at most 1, so this credit has no SPAN equivalent"
        )
    return rate


def credit_from_spread_rate(
    rate: float,
    hedge: Hedge = "equal_risk",
    weight_first: float = 1.0,
    weight_second: float = 1.0,
) -> float:
    """Offset credit that removes the same margin as a SPAN spread rate on the smaller leg.

    Parameters
    ----------
    rate : float
        SPAN inter-commodity spread rate in [0, 1].
    hedge, weight_first, weight_second
        As in :func:`spread_rate`.

    Returns
    -------
    float
        ``rate * min(k_a, k_b) / (k_a + k_b)``.
    """
    k_a, k_b = _leg_ratios(hedge, weight_first, weight_second)
    return _share(rate, "spread rate") * min(k_a, k_b) / (k_a + k_b)


def spread_credit(
    pair: PairCredit,
    weight_first: float,
    weight_second: float,
    spot_first: float,
    spot_second: float,
    hedge: Hedge = "equal_risk",
) -> SpreadCredit:
    """Build the :class:`~research.margin.SpreadCredit` equivalent to an offset credit.

    With price scan ranges equal to the risk weights, a
    :class:`~research.margin.ScenarioGridEngine` with this spread margins linear books exactly
    as :class:`~research.margin.ParameterSetEngine` does with the credit.

    Parameters
    ----------
    pair : PairCredit
        The credited pair (``direction="opposite"``: SPAN spreads are long against short).
    weight_first, weight_second : float
        Risk weights (price scan ranges) of the legs.
    spot_first, spot_second : float
        Prices of the legs (the delta ratios are in units of the underlyings).
    hedge : {"equal_risk", "equal_notional"}
        How the credit matches legs.

    Returns
    -------
    SpreadCredit
        Rate from :func:`spread_rate`; delta ratios of one matched unit: ``1 / (S w)`` for
        equal risk, ``1 / S`` for equal notional.

    Raises
    ------
    ParameterError
        A same-direction pair, or a credit with no SPAN equivalent.
    """
    if pair.direction != "opposite":
        raise ParameterError(
            f"{pair.name} is a same-direction hedge; SPAN spread credits need opposite legs"
        )
    rate = spread_rate(pair.credit, hedge, weight_first, weight_second)
    k_a, k_b = _leg_ratios(hedge, weight_first, weight_second)
    return SpreadCredit(
        pair.first,
        pair.second,
        rate,
        delta_ratio_a=k_a / (spot_first * weight_first),
        delta_ratio_b=k_b / (spot_second * weight_second),
    )
