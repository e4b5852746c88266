r"""Scenario models for the rolling backtest: fitted at refit dates, filtered in between.

A scenario model turns the returns known at a refit date into a *fitted* object that gives,
for every later day ``t`` until the next refit, the ``h``-day scenario returns

.. math:: x_{t,s,j} = \mu_j + \sigma_{t,j}\, b_{s,j},

a per-asset location :math:`\mu` and base scenarios :math:`b` (``n_scenarios x n_assets``)
that stay fixed between refits, and a per-asset scale :math:`\sigma_t` that is updated daily
from the returns up to ``t`` only (the *filter*). Filtered historical simulation, plain
historical simulation and a parametric normal model all have this form, which lets the engine
revalue many portfolios at once with one matrix product per day.

All returns are log returns in percent (as :func:`research.data.to_returns` gives them).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from scipy import stats

from research._random import as_generator
from research._threads import single_threaded_blas
from research._typing import Float64Array1D, Float64Array2D, Seed
from research.data import overlapping_sums, to_decimal, to_percent
from research.errors import (
    ConvergenceWarning,
    DataError,
    InsufficientDataError,
    SpecificationError,
)
from research.portfolio import Scenarios
from research.volatility import fit_garch11, garch11_filter
from research.volatility.ewma import ewma_variance

__all__ = [
    "FittedScenarios",
    "ScenarioModel",
    "RollingFHS",
    "ParametricNormal",
    "CalibratedRiskWeights",
    "day_scenarios",
]

MIN_WINDOW = 100
"""Fewest returns a GARCH/EWMA filter is fitted on; fewer give meaningless volatility paths."""
PRICE_FLOOR = 1e-12
"""Smallest price relative a normal simple-return draw is set to (a total loss of a long)."""


@runtime_checkable
class FittedScenarios(Protocol):
    """A scenario model fitted at one refit date.

    Attributes
    ----------
    location : ndarray of shape (n_assets,)
        Per-asset shift of the ``h``-day scenarios (percent log return).
    base : ndarray of shape (n_scenarios, n_assets)
        Base scenarios, multiplied by the daily scale.
    warnings : tuple of str
        Problems met while fitting.
    """

    location: Float64Array1D
    base: Float64Array2D
    warnings: tuple[str, ...]

    def scale(self, new_returns: Float64Array2D) -> Float64Array2D:
        """Scale for the fit date and for each of ``new_returns``' rows.

        Parameters
        ----------
        new_returns : ndarray of shape (m, n_assets)
            Returns of the days after the fit window, in order.

        Returns
        -------
        ndarray of shape (m + 1, n_assets)
            Row 0 is the scale at the last day of the fit window, row ``i`` the scale after
            the ``i``-th new return (it uses returns up to that day only).
        """
        ...


@runtime_checkable
class ScenarioModel(Protocol):
    """Anything the engine can refit: ``fit(returns, seed=, previous=) -> FittedScenarios``."""

    name: str
    horizon: int

    def fit(
        self, returns: pd.DataFrame, *, seed: Seed = None, previous: FittedScenarios | None = None
    ) -> FittedScenarios:
        """Fit on a window of returns (the last row is the refit date)."""
        ...


def day_scenarios(
    location: Float64Array1D,
    base: Float64Array2D,
    scale: Float64Array1D,
    underlyings: tuple[str, ...] | list[str],
    date: pd.Timestamp,
) -> Scenarios:
    """Return the ``h``-day scenarios of one day as :class:`research.portfolio.Scenarios`.

    Parameters
    ----------
    location, base : ndarray
        A fitted model's location ``(n_assets,)`` and base scenarios
        ``(n_scenarios, n_assets)``, percent log returns.
    scale : ndarray of shape (n_assets,)
        The day's scale (a row of :meth:`FittedScenarios.scale`).
    underlyings : sequence of str
        Asset labels, in the column order of ``base``.
    date : pandas.Timestamp
        The margin date (recorded in the description).

    Returns
    -------
    Scenarios
        ``kind="log"`` decimal moves ``(location + scale * base) / 100``.
    """
    moves = to_decimal(location + base * scale, "percent")
    return Scenarios.from_array(
        moves, list(underlyings), kind="log", description=f"model scenarios of {date}"
    )


def _check_window(returns: pd.DataFrame, horizon: int, minimum: int) -> Float64Array2D:
    values = returns.to_numpy(dtype=float)
    if values.ndim != 2 or values.shape[0] < max(minimum, horizon + 1):
        raise InsufficientDataError(
            f"the fit window has {values.shape[0]} returns; at least {max(minimum, horizon + 1)} "
            "are needed (lengthen the lookback or start the test period later)"
        )
    bad = ~np.isfinite(values)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(
            f"{int(bad.sum())} non-finite returns in the fit window (first: asset "
            f"{returns.columns[j]!r} on {returns.index[i]}); align and fill the "
            "price panel before backtesting"
        )
    return values


def _check_horizon(horizon: object) -> None:
    """Raise unless ``horizon`` is a whole number of days >= 1 (``True`` is not a number)."""
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise SpecificationError(f"horizon must be a whole number of days >= 1, got {horizon!r}")


@dataclass(frozen=True)
class _FittedFHS:
    """Fitted filtered historical simulation (GARCH(1,1) or EWMA per asset).

    ``params`` holds ``mu, omega, alpha, beta`` per asset (for EWMA ``0, 0, 1 - decay,
    decay``); ``decay`` is ``None`` for GARCH. The daily filter is the volatility stage's:
    :func:`research.volatility.garch11_filter` or :func:`research.volatility.ewma.ewma_variance`.
    """

    location: Float64Array1D
    base: Float64Array2D
    params: pd.DataFrame
    sigma2_next: Float64Array1D
    decay: float | None = None
    warnings: tuple[str, ...] = ()

    def scale(self, new_returns: Float64Array2D) -> Float64Array2D:
        """Conditional volatility ``sigma_{t+1|t}`` at the fit date and after each new return."""
        return np.sqrt(_filter(new_returns, self.params, self.sigma2_next, self.decay))


def _filter(
    returns: Float64Array2D, params: pd.DataFrame, start: Float64Array1D, decay: float | None
) -> Float64Array2D:
    """Variances from ``start`` over ``returns`` (rows: start, then after each return)."""
    new = np.asarray(returns, dtype=float).reshape(-1, len(params))
    if decay is not None:
        return ewma_variance(new, decay, start=start)
    return garch11_filter(new, params[["mu", "omega", "alpha", "beta"]].to_numpy(), start)


@dataclass(frozen=True)
class RollingFHS:
    r"""Filtered historical simulation (Barone-Adesi et al. 1999) of ``h``-day returns, rolled.

    The rolling counterpart of :class:`research.margin.FilteredHistoricalSimulation`: refitted
    at each refit date of the backtest and filtered daily in between.

    Parameters
    ----------
    horizon : int
        Margin period of risk in days (``h``).
    volatility : {"garch", "ewma"}
        ``"garch"``: a constant-mean GARCH(1,1) with normal quasi-likelihood per asset, refitted
        at each refit (warm-started at the previous estimate) and filtered with fixed
        parameters in between. ``"ewma"``: the
        RiskMetrics recursion with decay ``decay`` and zero mean (nothing is estimated).
    decay : float
        EWMA decay :math:`\lambda` (used when ``volatility="ewma"``).
    name : str
        Label used in results.

    Notes
    -----
    At a refit date the standardized residuals :math:`z_{\tau} = (r_\tau - \mu)/\sigma_\tau`
    of the fit window are summed over every run of ``h`` consecutive days, keeping each day's
    cross-section together (so the empirical dependence between assets is kept). The
    scenarios for day ``t`` are :math:`h\mu + \sigma_{t+1|t} \odot \sum_{i<h} z_{s+i}`: the
    volatility is held at its one-day-ahead forecast over the horizon. The number of scenarios
    is ``len(window) - h + 1``.

    References
    ----------
    Barone-Adesi, G., Giannopoulos, K. and Vosper, L. (1999). VaR without correlations for
    portfolios of derivative securities. *Journal of Futures Markets*, 19(5), 583-602.
    """

    horizon: int = 2
    volatility: Literal["garch", "ewma"] = "garch"
    decay: float = 0.94
    name: str = "FHS"

    def __post_init__(self) -> None:
        _check_horizon(self.horizon)
        if self.volatility not in ("garch", "ewma"):
            raise SpecificationError(
                f"volatility must be 'garch' or 'ewma', got {self.volatility!r}"
            )
        if not 0.0 < self.decay < 1.0:
            raise SpecificationError(
                f"decay must lie in (0, 1) (RiskMetrics uses 0.94), got {self.decay}"
            )

    def fit(
        self, returns: pd.DataFrame, *, seed: Seed = None, previous: FittedScenarios | None = None
    ) -> FittedScenarios:
        """Fit the volatility filter per asset and build the base scenarios.

        Parameters
        ----------
        returns : pandas.DataFrame
            Fit window of daily log returns in percent (dates x assets); the last row is the
            refit date.
        seed : int, Generator or None
            Unused (FHS draws nothing); accepted for the common interface.
        previous : fitted model, optional
            The previous refit; its GARCH parameters start the optimizer (warm start).

        Returns
        -------
        FittedScenarios

        Raises
        ------
        InsufficientDataError
            If the window is shorter than ``MIN_WINDOW`` returns.
        DataError
            If the window holds non-finite returns.
        """
        values = _check_window(returns, self.horizon, MIN_WINDOW)
        n_assets = values.shape[1]
        notes: list[str] = []
        decay = self.decay if self.volatility == "ewma" else None
        if decay is not None:
            omega = np.zeros(n_assets)
            alpha = np.full(n_assets, 1.0 - decay)
            beta = np.full(n_assets, decay)
            mu = np.zeros(n_assets)
            sigma2 = ewma_variance(values, decay)[:-1]
        else:
            omega, alpha, beta, mu = (np.empty(n_assets) for _ in range(4))
            sigma2 = np.empty_like(values)
            starts = previous.params if isinstance(previous, _FittedFHS) else None
            fits = []
            # tiny optimisation problems: BLAS threads only add contention
            with single_threaded_blas():
                for j, asset in enumerate(returns.columns):
                    start = (
                        None
                        if starts is None or asset not in starts.index
                        else starts.loc[asset, ["mu", "omega", "alpha", "beta"]].to_numpy(
                            dtype=float
                        )
                    )
                    fits.append(fit_garch11(values[:, j], starting_values=start))
            for j, (asset, fit) in enumerate(zip(returns.columns, fits, strict=True)):
                sigma2[:, j] = fit.variance
                if not fit.converged:
                    message = (
                        f"GARCH fit of {asset!r} on the window ending "
                        f"{returns.index[-1]} did not converge; its last iterate is "
                        "used"
                    )
                    notes.append(message)
                    warnings.warn(message, ConvergenceWarning, stacklevel=2)
                mu[j], omega[j], alpha[j], beta[j] = fit.params
        z = (values - mu) / np.sqrt(sigma2)
        params = pd.DataFrame(
            {"mu": mu, "omega": omega, "alpha": alpha, "beta": beta}, index=returns.columns
        )
        return _FittedFHS(
            location=self.horizon * mu,
            base=overlapping_sums(z, self.horizon),
            params=params,
            sigma2_next=_filter(values[-1], params, sigma2[-1], decay)[1],
            decay=decay,
            warnings=tuple(notes),
        )


@dataclass(frozen=True)
class _FittedNormal:
    """Fitted parametric normal model: fixed draws, unit scale."""

    location: Float64Array1D
    base: Float64Array2D
    warnings: tuple[str, ...] = ()

    def scale(self, new_returns: Float64Array2D) -> Float64Array2D:
        """Constant unit scale (the model has no dynamics)."""
        new = np.asarray(new_returns, dtype=float).reshape(-1, self.location.size)
        return np.ones((new.shape[0] + 1, self.location.size))


@dataclass(frozen=True)
class ParametricNormal:
    """Multivariate normal ``h``-day returns with a given or estimated daily covariance.

    Parameters
    ----------
    horizon : int
        Margin period of risk in days; the ``h``-day covariance is ``h`` times the daily one.
    covariance : pandas.DataFrame, optional
        Known daily covariance of the percent log returns (assets x assets). ``None`` estimates
        the sample covariance of the fit window at every refit.
    n_scenarios : int
        Monte Carlo draws per refit (redrawn at each refit from the engine's seed).
    name : str
        Label used in results.

    Notes
    -----
    With a known covariance equal to that of an i.i.d. normal data-generating process this is
    a correctly specified model: its exceptions are Bernoulli with probability ``1 - level``
    up to the Monte Carlo error of the quantile. Scaling the covariance down gives a
    deliberately under-margined model (the power checks of the coverage tests use both).
    """

    horizon: int = 1
    covariance: pd.DataFrame | None = None
    n_scenarios: int = 10_000
    name: str = "normal"

    def __post_init__(self) -> None:
        _check_horizon(self.horizon)
        if self.n_scenarios < 100:
            raise SpecificationError(f"n_scenarios is {self.n_scenarios}; use at least 100")
        if self.covariance is not None:
            cov = pd.DataFrame(self.covariance).astype(float)
            if cov.shape[0] != cov.shape[1] or not cov.index.equals(cov.columns):
                raise SpecificationError(
                    "covariance must be square with the same asset labels on both axes"
                )
            object.__setattr__(self, "covariance", cov)

    def fit(
        self, returns: pd.DataFrame, *, seed: Seed = None, previous: FittedScenarios | None = None
    ) -> FittedScenarios:
        """Draw ``n_scenarios`` normal ``h``-day returns for the window's assets.

        Parameters
        ----------
        returns : pandas.DataFrame
            Fit window of daily percent log returns (dates x assets).
        seed : int, Generator or None
            Seed of the draws.
        previous : fitted model, optional
            Ignored.

        Returns
        -------
        FittedScenarios

        Raises
        ------
        SpecificationError
            If a known covariance does not cover the window's assets.
        """
        values = _check_window(returns, self.horizon, 2)
        if self.covariance is None:
            cov = np.cov(values, rowvar=False).reshape(values.shape[1], values.shape[1])
            mean = values.mean(axis=0)
        else:
            missing = [a for a in returns.columns if a not in self.covariance.index]
            if missing:
                raise SpecificationError(
                    f"the covariance has no entry for assets {missing}; "
                    "give one row and column per asset"
                )
            cov = self.covariance.loc[list(returns.columns), list(returns.columns)].to_numpy()
            mean = np.zeros(values.shape[1])
        chol = np.linalg.cholesky(self.horizon * cov)
        draws = as_generator(seed).standard_normal((self.n_scenarios, values.shape[1]))
        return _FittedNormal(
            location=self.horizon * mean, base=np.ascontiguousarray(draws @ chol.T)
        )


@dataclass(frozen=True)
class CalibratedRiskWeights:
    r"""Risk weights recalibrated at each refit; offsets through their correlation.

    At each refit the risk weight of every asset is calibrated on the fit window with
    :func:`research.calibration.calibrate_risk_weights` (the ``level``-quantile or ES of a
    position's loss over ``h`` days, per unit of notional), and the ``h``-day simple returns
    (price relatives minus one) are normal with those risk weights as margins and the window's
    sample correlation. For a linear position the isolated margin is then
    the risk weight times the notional and the cross margin is the correlation aggregation
    :math:`\sqrt{WS^\top \rho\, WS}` of the weighted sensitivities (SIMM-style), up to the
    Monte Carlo error of ``n_scenarios`` draws.

    Parameters
    ----------
    horizon : int
        MPOR in days (the calibration's ``mpor``).
    level : float
        Confidence level of the calibration.
    method : {"var", "es"}
        Quantile or expected shortfall of the moves (match the backtest's ``measure``).
    n_scenarios : int
        Normal draws per refit.
    name : str
        Label used in results.

    Notes
    -----
    With normal ``h``-day simple returns of standard deviation :math:`s`, the VaR of a long or
    short unit position is :math:`z s` and its ES :math:`s\,\varphi(z)/(1-\alpha)`,
    :math:`z = \Phi^{-1}(\alpha)`; :math:`s` is set so that this equals the calibrated risk
    weight. The scenarios are stored as the log moves :math:`100 \log(1 + R)` the engine
    expects. A draw at or below -100% would be a non-positive price; it is set to a total loss
    of a long (the price falls to :data:`PRICE_FLOOR` of its value) and counted in the fit's
    warnings.
    """

    horizon: int = 2
    level: float = 0.99
    method: Literal["var", "es"] = "var"
    n_scenarios: int = 10_000
    name: str = "risk weights"

    def __post_init__(self) -> None:
        _check_horizon(self.horizon)
        if self.method not in ("var", "es"):
            raise SpecificationError(f"method must be 'var' or 'es', got {self.method!r}")
        if self.n_scenarios < 100:
            raise SpecificationError(f"n_scenarios is {self.n_scenarios}; use at least 100")

    def fit(
        self, returns: pd.DataFrame, *, seed: Seed = None, previous: FittedScenarios | None = None
    ) -> FittedScenarios:
        """Calibrate the risk weights on the window and draw correlated normal moves.

        Parameters
        ----------
        returns : pandas.DataFrame
            Fit window of daily percent log returns (dates x assets).
        seed : int, Generator or None
            Seed of the draws.
        previous : fitted model, optional
            Ignored.

        Returns
        -------
        FittedScenarios
            ``params`` holds the calibrated risk weights.
        """
        from research.calibration import calibrate_risk_weights

        values = _check_window(returns, self.horizon, MIN_WINDOW)
        calibration = calibrate_risk_weights(
            returns, level=self.level, mpor=self.horizon, lookback=len(returns), method=self.method
        )
        weights = calibration.risk_weights.reindex(returns.columns).to_numpy(dtype=float)
        z = stats.norm.ppf(self.level)
        unit = z if self.method == "var" else stats.norm.pdf(z) / (1 - self.level)
        # risk weights are losses per unit of notional: the sd of the h-day simple return
        sd = weights / unit
        corr = np.corrcoef(values, rowvar=False).reshape(len(sd), len(sd))
        vals, vecs = np.linalg.eigh(corr)
        root = vecs * np.sqrt(np.clip(vals, 0.0, None))
        draws = as_generator(seed).standard_normal((self.n_scenarios, len(sd)))
        simple = (draws @ root.T) * sd
        notes = list(calibration.warnings)
        wiped_out = simple <= PRICE_FLOOR - 1.0
        if wiped_out.any():
            notes.append(
                f"{int(wiped_out.sum())} of {simple.size} normal draws of the h-day return are "
                f"at or below -100%; they are set to a total loss of a long (price floor "
                f"{PRICE_FLOOR:g})"
            )
            simple = np.maximum(simple, PRICE_FLOOR - 1.0)
        base = np.ascontiguousarray(to_percent(np.log1p(simple), "decimal"))
        return _FittedNormal(location=np.zeros(len(sd)), base=base, warnings=tuple(notes))
