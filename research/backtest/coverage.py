"""Coverage tests of a margin (VaR) model: Kupiec, Christoffersen and the Basel traffic light.

An *exception* is a day on which the realized loss over the margin period of
risk exceeded the margin. Under a correctly specified model at confidence
``level`` exceptions are independent Bernoulli draws with probability
``1 - level``; the tests below check the count (Kupiec), the clustering
(Christoffersen) and the regulatory zone (Basel traffic light).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from research._typing import ArrayLike1D, BoolArray
from research.errors import DataError, InsufficientDataError, SpecificationError

__all__ = [
    "CoverageTest",
    "ChristoffersenTest",
    "TrafficLight",
    "kupiec",
    "christoffersen",
    "traffic_light",
    "traffic_light_zones",
]

Zone = Literal["green", "yellow", "red"]

GREEN_BOUNDARY = 0.95
"""Basel: the green zone holds exception counts whose binomial CDF is below 95%."""
RED_BOUNDARY = 0.9999
"""Basel: the red zone starts where the binomial CDF reaches 99.99%."""


def check_level(level: float, name: str = "level") -> float:
    """Validate a confidence level in the open interval (0, 1) and return it as float."""
    if isinstance(level, bool) or not isinstance(level, int | float | np.floating | np.integer):
        raise SpecificationError(f"{name} must be a number in (0, 1), got {level!r}")
    value = float(level)
    if not 0.0 < value < 1.0:
        raise SpecificationError(
            f"{name} must lie strictly between 0 and 1 (e.g. 0.99 for a 99% margin), got {value}"
        )
    return value


def check_counts(exceptions: int, observations: int) -> tuple[int, int]:
    """Validate an exception count against a number of observations."""
    counts = []
    for name, value in (("exceptions", exceptions), ("observations", observations)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer | float | np.floating):
            raise DataError(f"{name} must be a whole number, got {value!r}")
        if not float(value).is_integer():
            raise DataError(f"{name} must be a whole number, got {value!r}")
        counts.append(int(value))
    n_exc, n_obs = counts
    if n_obs <= 0:
        raise InsufficientDataError(
            f"observations must be positive, got {n_obs}; a coverage test needs at least one day"
        )
    if n_exc < 0:
        raise DataError(f"exceptions must be non-negative, got {n_exc}")
    if n_exc > n_obs:
        raise DataError(
            f"exceptions ({n_exc}) exceed observations ({n_obs}); check that the counts are "
            "taken over the same test period"
        )
    return n_exc, n_obs


def check_hits(hits: ArrayLike1D) -> tuple[BoolArray, pd.Index | None]:
    """Validate a boolean exception indicator and return it as a numpy bool array.

    Accepts a boolean Series/array, or a 0/1 integer one. Missing values raise
    a :class:`~research.errors.DataError` naming the first date concerned.
    """
    index = hits.index if isinstance(hits, pd.Series) else None
    values = hits.to_numpy() if isinstance(hits, pd.Series) else np.asarray(hits)
    if values.ndim != 1:
        raise DataError(f"hits must be one-dimensional, got shape {values.shape}")
    if values.size == 0:
        raise InsufficientDataError("hits is empty; a coverage test needs at least one day")
    if values.dtype == object or isinstance(getattr(hits, "dtype", None), pd.BooleanDtype):
        missing = pd.isna(values)
        if missing.any():
            where = index[int(np.argmax(missing))] if index is not None else int(np.argmax(missing))
            raise DataError(
                f"hits has {int(missing.sum())} missing value(s), the first at {where}; "
                "drop or fill the days without a margin before testing"
            )
        values = values.astype(object)
        if not all(isinstance(v, bool | np.bool_) for v in values):
            raise DataError("hits must be boolean (True on exception days), got mixed values")
        return values.astype(bool), index
    if values.dtype == bool:
        return values, index
    if np.issubdtype(values.dtype, np.integer) and np.isin(values, (0, 1)).all():
        return values.astype(bool), index
    raise DataError(
        f"hits must be boolean (True on exception days) or 0/1 integers, got dtype {values.dtype}"
    )


@dataclass(frozen=True)
class CoverageTest:
    """Result of a coverage test, printed like arch's ``WaldTestStatistic``.

    Parameters
    ----------
    name : str
        Name of the test, e.g. ``"Kupiec POF"``.
    statistic : float
        Test statistic.
    pvalue : float
        P-value of the statistic under the null.
    df : int or None
        Degrees of freedom of the asymptotic chi-squared distribution, ``None``
        when the p-value is simulated.
    null, alternative : str
        Statements of the null and alternative hypotheses.
    exceptions, observations : int
        Exception count and number of days tested.
    level : float
        Confidence level of the tested margin.
    size : float
        Test size used by :attr:`decision` (the default of :meth:`reject`).
    distribution : str
        Distribution of the statistic under the null, e.g. ``"chi2(1)"``.
    critical_values : mapping of str -> float
        Rejection thresholds of the statistic at sizes ``"10%"``, ``"5%"``, ``"1%"``
        (upper tail for chi-squared and McNeil-Frey tests, lower tail for Z2).
    undefined : str or None
        Why the test cannot be computed on these data (e.g. no exception day, so the
        exception-after-exception rate of the independence test is not estimable), ``None``
        when it is defined. An undefined test has NaN ``statistic`` and ``pvalue``, never
        rejects, and its :attr:`decision` says ``"undefined: <reason>"``; it is not a pass.
    """

    name: str
    statistic: float
    pvalue: float
    df: int | None
    null: str
    alternative: str
    exceptions: int
    observations: int
    level: float
    size: float = 0.05
    distribution: str = ""
    critical_values: Mapping[str, float] = field(default_factory=dict, compare=False)
    undefined: str | None = None

    def __post_init__(self) -> None:
        check_level(self.size, "size")
        if self.undefined is not None and not (
            math.isnan(self.statistic) and math.isnan(self.pvalue)
        ):
            raise SpecificationError("an undefined test has NaN statistic and p-value")

    @property
    def defined(self) -> bool:
        """Whether the test could be computed on these data."""
        return self.undefined is None

    @property
    def expected(self) -> float:
        """Expected number of exceptions, ``observations * (1 - level)``."""
        return self.observations * (1.0 - self.level)

    @property
    def direction(self) -> str:
        """Which way the exception count departs from its expectation.

        ``"too many"`` (the margin is too low), ``"too few"`` (the margin is too high, or
        the sample too short to show an exception) or ``"as expected"`` (equal counts).
        The tests are two-sided: a rejection in either direction is a finding.
        """
        if self.exceptions > self.expected:
            return "too many"
        if self.exceptions < self.expected:
            return "too few"
        return "as expected"

    def reject(self, size: float | None = None) -> bool:
        """Whether the null is rejected at ``size`` (default: the result's ``size``).

        Parameters
        ----------
        size : float, optional
            Test size in (0, 1), e.g. 0.05.

        Returns
        -------
        bool
        """
        threshold = self.size if size is None else check_level(size, "size")
        return self.defined and bool(self.pvalue < threshold)

    @property
    def decision(self) -> str:
        """The verdict at the result's ``size``.

        ``"reject H0 (too many exceptions)"``, ``"reject H0 (too few exceptions)"``,
        ``"do not reject H0"``, or ``"undefined: <reason>"``.
        """
        if not self.defined:
            return f"undefined: {self.undefined}"
        if self.reject():
            return f"reject H0 ({self.direction} exceptions)"
        return "do not reject H0"

    @property
    def coverage(self) -> float:
        """Achieved coverage: the share of days without an exception."""
        return 1.0 - self.exceptions / self.observations

    def to_series(self) -> pd.Series:
        """Return the result as a labelled Series (one row of a coverage table).

        Returns
        -------
        pandas.Series
        """
        return pd.Series(
            {
                "statistic": self.statistic,
                "pvalue": self.pvalue,
                "df": self.df,
                "exceptions": self.exceptions,
                "observations": self.observations,
                "level": self.level,
                "coverage": self.coverage,
                "expected": self.expected,
                "direction": self.direction,
                "size": self.size,
                "decision": self.decision,
            },
            name=self.name,
            dtype=object,
        )

    def __str__(self) -> str:
        crit = ", ".join(f"{k}: {v:0.4f}" for k, v in self.critical_values.items()) or "n/a"
        return (
            f"{self.name}\n"
            f"H0: {self.null}\n"
            f"H1: {self.alternative}\n"
            f"Statistic: {_shown(self.statistic)}\n"
            f"P-value: {_shown(self.pvalue)}\n"
            f"Distributed: {self.distribution}\n"
            f"Critical values: {crit}\n"
            f"Exceptions: {self.exceptions} of {self.observations} "
            f"(expected {self.expected:0.2f} at level {self.level:g}: {self.direction})\n"
            f"Decision at {self.size:g}: {self.decision}"
        )


def _shown(value: float) -> str:
    return "undefined" if math.isnan(value) else f"{value:0.4f}"


SIZES = (0.10, 0.05, 0.01)
"""Sizes at which critical values are reported."""


def chi2_critical_values(df: int) -> dict[str, float]:
    """Upper-tail chi-squared critical values at the sizes in :data:`SIZES`."""
    return {f"{size:.0%}": float(stats.chi2.isf(size, df)) for size in SIZES}


def _bernoulli_loglik(successes: float, failures: float, prob: float) -> float:
    """Log-likelihood of Bernoulli counts with ``0 * log(0) = 0``."""
    return float(special.xlogy(successes, prob) + special.xlog1py(failures, -prob))


def _pof_statistic(n_exc: int, n_obs: int, level: float) -> float:
    p = 1.0 - level
    observed = n_exc / n_obs
    lr = -2.0 * (
        _bernoulli_loglik(n_exc, n_obs - n_exc, p)
        - _bernoulli_loglik(n_exc, n_obs - n_exc, observed)
    )
    return max(lr, 0.0)


def kupiec(
    exceptions: int, observations: int, level: float = 0.99, size: float = 0.05
) -> CoverageTest:
    r"""Kupiec (1995) proportion-of-failures likelihood-ratio test.

    Parameters
    ----------
    exceptions : int
        Number of days on which the loss exceeded the margin.
    observations : int
        Number of days tested.
    level : float, default 0.99
        Confidence level of the margin; the expected exception rate is ``1 - level``.
    size : float, default 0.05
        Test size for the recorded decision.

    Returns
    -------
    CoverageTest
        ``statistic`` is the LR statistic, asymptotically :math:`\chi^2(1)`.

    Raises
    ------
    DataError
        Negative or fractional counts, or more exceptions than observations.
    InsufficientDataError
        No observations.
    SpecificationError
        ``level`` or ``size`` outside (0, 1).

    Notes
    -----
    With :math:`x` exceptions in :math:`N` days, :math:`p = 1 - \text{level}` and
    :math:`\hat p = x / N`,

    .. math::

        LR_{POF} = -2 \ln\frac{(1-p)^{N-x} p^x}{(1-\hat p)^{N-x} \hat p^x}.

    References
    ----------
    Kupiec, P. (1995). Techniques for verifying the accuracy of risk measurement
    models. *Journal of Derivatives*, 3(2), 73-84.

    Examples
    --------
    >>> from research.backtest import kupiec
    >>> round(kupiec(0, 250, level=0.99).statistic, 4)
    5.0252
    """
    level = check_level(level)
    n_exc, n_obs = check_counts(exceptions, observations)
    statistic = _pof_statistic(n_exc, n_obs, level)
    return CoverageTest(
        name="Kupiec POF",
        statistic=statistic,
        pvalue=float(stats.chi2.sf(statistic, 1)),
        df=1,
        null=f"exception rate = {1 - level:g}",
        alternative=f"exception rate != {1 - level:g}",
        exceptions=n_exc,
        observations=n_obs,
        level=level,
        size=check_level(size, "size"),
        distribution="chi2(1)",
        critical_values=chi2_critical_values(1),
    )


@dataclass(frozen=True)
class ChristoffersenTest:
    r"""Christoffersen (1998) interval-forecast tests on one exception series.

    Parameters
    ----------
    unconditional : CoverageTest
        Kupiec proportion-of-failures test on all days.
    independence : CoverageTest
        First-order Markov independence LR test, :math:`\chi^2(1)`.
    conditional_coverage : CoverageTest
        Joint test ``unconditional + independence``, :math:`\chi^2(2)`.
    transitions : pandas.DataFrame
        2x2 transition counts ``n_ij`` (rows: state yesterday, columns: today).
    """

    unconditional: CoverageTest
    independence: CoverageTest
    conditional_coverage: CoverageTest
    transitions: pd.DataFrame = field(compare=False)

    def summary(self) -> pd.DataFrame:
        """Return the three tests as rows of a table.

        Returns
        -------
        pandas.DataFrame
            Columns ``statistic, pvalue, df, exceptions, observations, level,
            coverage, size, decision``.
        """
        return pd.DataFrame(
            [
                t.to_series()
                for t in (self.unconditional, self.independence, self.conditional_coverage)
            ]
        )

    def __str__(self) -> str:
        return "\n\n".join(
            str(t) for t in (self.unconditional, self.independence, self.conditional_coverage)
        )


def _transition_counts(hits: BoolArray) -> np.ndarray:
    prev, curr = hits[:-1].astype(np.intp), hits[1:].astype(np.intp)
    counts = np.zeros((2, 2), dtype=np.int64)
    np.add.at(counts, (prev, curr), 1)
    return counts


def _independence_undefined(n00: int, n01: int, n10: int, n11: int) -> str | None:
    """Why the Markov independence test is not estimable, or ``None``."""
    if n01 + n11 == 0:
        return "no exception after the first day, so clustering cannot be tested"
    if n10 + n11 == 0:
        return "no day follows an exception, so the rate after an exception is not estimable"
    if n00 + n01 == 0:
        return "every day is an exception, so the rate after a calm day is not estimable"
    return None


def christoffersen(
    hits: ArrayLike1D, level: float = 0.99, size: float = 0.05
) -> ChristoffersenTest:
    r"""Christoffersen (1998) independence and conditional-coverage tests.

    Parameters
    ----------
    hits : boolean Series or array, shape (n_days,)
        ``True`` on exception days, in time order. 0/1 integers are accepted.
    level : float, default 0.99
        Confidence level of the margin.
    size : float, default 0.05
        Test size for the recorded decisions.

    Returns
    -------
    ChristoffersenTest
        With ``unconditional`` (Kupiec), ``independence`` and
        ``conditional_coverage`` :class:`CoverageTest` results.

    Raises
    ------
    DataError
        Non-boolean or missing hits.
    InsufficientDataError
        Fewer than two days (no transition to test).
    SpecificationError
        ``level`` or ``size`` outside (0, 1).

    Notes
    -----
    With transition counts :math:`n_{ij}` (state :math:`i` yesterday, :math:`j`
    today), :math:`\pi_{01} = n_{01}/(n_{00}+n_{01})`,
    :math:`\pi_{11} = n_{11}/(n_{10}+n_{11})` and
    :math:`\pi = (n_{01}+n_{11})/\sum n_{ij}`,

    .. math::

        LR_{ind} = -2\ln\frac{(1-\pi)^{n_{00}+n_{10}}\pi^{n_{01}+n_{11}}}
        {(1-\pi_{01})^{n_{00}}\pi_{01}^{n_{01}}(1-\pi_{11})^{n_{10}}\pi_{11}^{n_{11}}},
        \qquad LR_{cc} = LR_{POF} + LR_{ind}.

    :math:`LR_{POF}` is Kupiec's statistic on all days. When :math:`\pi_{01}` or
    :math:`\pi_{11}` is not estimable (no exception after the first day, no day after an
    exception, or no calm day) the independence and conditional-coverage tests are
    *undefined* (NaN statistic and p-value, ``undefined`` gives the reason), not passed.

    References
    ----------
    Christoffersen, P. (1998). Evaluating interval forecasts.
    *International Economic Review*, 39(4), 841-862.

    Examples
    --------
    >>> import numpy as np
    >>> from research.backtest import christoffersen
    >>> hits = np.zeros(250, dtype=bool)
    >>> hits[100:102] = True
    >>> christoffersen(hits).independence.reject(0.01)
    True
    """
    level = check_level(level)
    size = check_level(size, "size")
    values, _ = check_hits(hits)
    if values.size < 2:
        raise InsufficientDataError(
            "christoffersen needs at least two days of hits to count transitions"
        )
    n_obs, n_exc = int(values.size), int(values.sum())
    counts = _transition_counts(values)
    (n00, n01), (n10, n11) = counts.tolist()
    pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    restricted = _bernoulli_loglik(n01 + n11, n00 + n10, pi)
    unrestricted = _bernoulli_loglik(n01, n00, pi01) + _bernoulli_loglik(n11, n10, pi11)
    lr_ind = max(-2.0 * (restricted - unrestricted), 0.0)
    lr_pof = _pof_statistic(n_exc, n_obs, level)
    lr_cc = lr_pof + lr_ind
    undefined = _independence_undefined(n00, n01, n10, n11)
    if undefined is not None:
        lr_ind = lr_cc = math.nan
    common = dict(exceptions=n_exc, observations=n_obs, level=level, size=size)
    unconditional = kupiec(n_exc, n_obs, level=level, size=size)
    independence = CoverageTest(
        name="Christoffersen independence",
        statistic=lr_ind,
        pvalue=float(stats.chi2.sf(lr_ind, 1)),
        df=1,
        null="exceptions are independent (pi01 = pi11)",
        alternative="exceptions cluster or repel (first-order Markov, pi01 != pi11)",
        distribution="chi2(1)",
        critical_values=chi2_critical_values(1),
        undefined=undefined,
        **common,
    )
    conditional = CoverageTest(
        name="Christoffersen conditional coverage",
        statistic=lr_cc,
        pvalue=float(stats.chi2.sf(lr_cc, 2)),
        df=2,
        null=f"independent exceptions at rate {1 - level:g}",
        alternative="wrong exception rate or dependent exceptions",
        distribution="chi2(2)",
        critical_values=chi2_critical_values(2),
        undefined=undefined,
        **common,
    )
    transitions = pd.DataFrame(
        counts,
        index=pd.Index(["no exception", "exception"], name="yesterday"),
        columns=pd.Index(["no exception", "exception"], name="today"),
    )
    return ChristoffersenTest(unconditional, independence, conditional, transitions)


def _zone_bounds(n_obs: int, level: float) -> tuple[int, int]:
    """First exception counts of the yellow and red zones."""
    cdf = stats.binom.cdf(np.arange(n_obs + 1), n_obs, 1.0 - level)
    yellow_from = int(np.argmax(cdf >= GREEN_BOUNDARY))
    red_from = int(np.argmax(cdf >= RED_BOUNDARY))
    return yellow_from, red_from


@dataclass(frozen=True, eq=False)
class TrafficLight:
    """Basel traffic-light zone of an exception count; compares equal to its zone string.

    Parameters
    ----------
    zone : {"green", "yellow", "red"}
        The zone of ``exceptions``.
    exceptions, observations : int
        Exception count and number of days tested.
    level : float
        Confidence level of the margin.
    yellow_from, red_from : int
        First exception counts of the yellow and red zones (green is
        ``0 .. yellow_from - 1``).
    cumulative_probability : float
        Binomial probability of at most ``exceptions`` exceptions under the null.

    Examples
    --------
    >>> from research.backtest import traffic_light
    >>> traffic_light(3, 250) == "green"
    True
    """

    zone: Zone
    exceptions: int
    observations: int
    level: float
    yellow_from: int
    red_from: int
    cumulative_probability: float

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.zone == other
        if isinstance(other, TrafficLight):
            return (self.zone, self.exceptions, self.observations, self.level) == (
                other.zone,
                other.exceptions,
                other.observations,
                other.level,
            )
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.zone)

    def __str__(self) -> str:
        return self.zone

    @property
    def zones(self) -> dict[str, tuple[int, int | None]]:
        """Exception-count ranges ``(first, last)`` of each zone; red is open-ended."""
        return {
            "green": (0, self.yellow_from - 1),
            "yellow": (self.yellow_from, self.red_from - 1),
            "red": (self.red_from, None),
        }


def traffic_light(exceptions: int, observations: int, level: float = 0.99) -> TrafficLight:
    r"""Basel traffic-light zone for any number of days and any confidence level.

    Parameters
    ----------
    exceptions : int
        Number of days on which the loss exceeded the margin.
    observations : int
        Number of days tested.
    level : float, default 0.99
        Confidence level of the margin.

    Returns
    -------
    TrafficLight
        Compares equal to ``"green"``, ``"yellow"`` or ``"red"`` and carries the
        zone boundaries.

    Raises
    ------
    DataError, InsufficientDataError, SpecificationError
        As for :func:`kupiec`.

    Notes
    -----
    With :math:`F` the Binomial(:math:`N`, 1 - level) CDF, a count :math:`x` is
    green when :math:`F(x) < 95\%`, red when :math:`F(x) \ge 99.99\%` and yellow
    otherwise. At :math:`N = 250`, level 99% this gives green 0-4, yellow 5-9,
    red from 10.

    References
    ----------
    Basel Committee on Banking Supervision (1996). Supervisory framework for
    the use of "backtesting" in conjunction with the internal models approach
    to market risk capital requirements.

    Examples
    --------
    >>> from research.backtest import traffic_light
    >>> traffic_light(5, 250).zone
    'yellow'
    """
    level = check_level(level)
    n_exc, n_obs = check_counts(exceptions, observations)
    yellow_from, red_from = _zone_bounds(n_obs, level)
    zone: Zone = "green" if n_exc < yellow_from else "yellow" if n_exc < red_from else "red"
    return TrafficLight(
        zone=zone,
        exceptions=n_exc,
        observations=n_obs,
        level=level,
        yellow_from=yellow_from,
        red_from=red_from,
        cumulative_probability=float(stats.binom.cdf(n_exc, n_obs, 1.0 - level)),
    )


def traffic_light_zones(
    observations: int, level: float = 0.99, max_exceptions: int | None = None
) -> pd.DataFrame:
    """Tabulate the Basel traffic-light zones: zone and cumulative probability per exception count.

    Parameters
    ----------
    observations : int
        Number of days tested.
    level : float, default 0.99
        Confidence level of the margin.
    max_exceptions : int, optional
        Last exception count listed; defaults to the first red count.

    Returns
    -------
    pandas.DataFrame
        Indexed by exception count, columns ``zone`` and ``cumulative_probability``.

    Raises
    ------
    InsufficientDataError, SpecificationError
        Non-positive ``observations``; ``level`` outside (0, 1).

    Examples
    --------
    >>> from research.backtest import traffic_light_zones
    >>> traffic_light_zones(250).loc[4, "zone"]
    'green'
    """
    level = check_level(level)
    _, n_obs = check_counts(0, observations)
    yellow_from, red_from = _zone_bounds(n_obs, level)
    last = red_from if max_exceptions is None else min(int(max_exceptions), n_obs)
    counts = np.arange(last + 1)
    zones = np.where(counts < yellow_from, "green", np.where(counts < red_from, "yellow", "red"))
    return pd.DataFrame(
        {"zone": zones, "cumulative_probability": stats.binom.cdf(counts, n_obs, 1.0 - level)},
        index=pd.Index(counts, name="exceptions"),
    )
