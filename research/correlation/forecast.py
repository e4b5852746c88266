"""Correlation and covariance forecasts of a fitted DCC-family model.

Two layers:

* array functions (:func:`forecast_correlation`, :func:`forecast_covariance`) that take the
  fitted second-stage pieces (``params``, ``Qbar``, ``Nbar``, ``Q_{T+1}``) as plain arrays and
  never touch pandas;
* :func:`forecast_dcc`, which reads a fitted ``DCCResult`` (its ``kind``, ``params``, ``qbar``,
  ``nbar``, ``q_next`` and the per-asset :mod:`arch` results in ``univariate.results``) and
  returns a labelled :class:`DCCForecast`.

The exact one-step forecast is :math:`R_{T+1}` from :math:`Q_{T+1}`; longer horizons use the
Engle-Sheppard (2001) approximation that R's ``rmgarch`` uses, or the mean over simulated paths
(``method="simulation"``, see :mod:`research.correlation.simulate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from research._typing import Float64Array2D, Float64Array3D, Seed
from research.correlation._kernels import normalize_q
from research.errors import NotPositiveDefiniteError, SpecificationError

__all__ = [
    "DCCForecast",
    "DCCState",
    "dcc_state",
    "forecast_correlation",
    "forecast_covariance",
    "forecast_dcc",
    "horizon_labels",
    "persistence",
    "simulate_correlation_forecast",
    "univariate_forecast",
]

Kind = Literal["dcc", "cdcc", "adcc", "ccc"]
#: Paths simulated at a time by :func:`simulate_correlation_forecast` (bounds the memory of the
#: stored correlation paths: chunk x h x N^2 x 8 bytes).
SIMULATION_CHUNK = 4096
KINDS: tuple[str, ...] = ("dcc", "cdcc", "adcc", "ccc")


def horizon_labels(horizon: int) -> list[str]:
    """Return the horizon labels ``["h.1", ..., "h.H"]`` used by every forecast table.

    Parameters
    ----------
    horizon : int
        Number of steps ahead (>= 1).

    Returns
    -------
    list of str
    """
    return [f"h.{k}" for k in range(1, horizon + 1)]


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise SpecificationError(f"unknown DCC kind {kind!r}; choose one of {', '.join(KINDS)}")
    return kind


def _check_horizon(horizon: int) -> int:
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        raise SpecificationError(f"horizon must be a positive integer, got {horizon!r}")
    return int(horizon)


def _to_correlation(q: np.ndarray) -> np.ndarray:
    """Correlation form of a checked DCC state Q (:func:`~._kernels.normalize_q`)."""
    diag = np.diagonal(q, axis1=-2, axis2=-1)
    if np.any(~np.isfinite(diag)) or np.any(diag <= 0.0):
        raise NotPositiveDefiniteError(
            "Q has a non-positive diagonal entry; it is not a valid DCC state "
            "(check qbar / q_next from the fit)"
        )
    return normalize_q(q)


def _square(name: str, x: Any, n: int | None = None) -> np.ndarray:
    arr = np.ascontiguousarray(np.asarray(x, dtype=np.float64))
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise SpecificationError(f"{name} must be a square matrix, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise SpecificationError(f"{name} must be {n}x{n}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise SpecificationError(f"{name} contains NaN or infinite values")
    return arr


def persistence(kind: str, params: Mapping[str, float]) -> float:
    """Return the decay rate used by the multi-step correlation forecast.

    Parameters
    ----------
    kind : {"dcc", "cdcc", "adcc", "ccc"}
        Model kind.
    params : mapping
        Second-stage parameters with keys ``"a"``, ``"b"`` (absent or zero for ``"ccc"``).

    Returns
    -------
    float
        ``a + b`` (0 for CCC). For ADCC the asymmetric term does not enter, see
        :func:`forecast_correlation`.
    """
    if _check_kind(kind) == "ccc":
        return 0.0
    return float(params.get("a", 0.0)) + float(params.get("b", 0.0))


def forecast_correlation(
    kind: Kind,
    params: Mapping[str, float],
    qbar: Float64Array2D,
    nbar: Float64Array2D | None,
    q_next: Float64Array2D,
    horizon: int,
) -> tuple[Float64Array3D, Float64Array3D]:
    r"""Forecast the conditional correlation matrices :math:`R_{T+1}, \dots, R_{T+h}`.

    Parameters
    ----------
    kind : {"dcc", "cdcc", "adcc", "ccc"}
        Model kind.
    params : mapping
        ``"a"``, ``"b"`` (and ``"g"`` for ADCC); other keys (``"nu"``) are ignored.
    qbar : ndarray, shape (N, N)
        Correlation-targeting intercept :math:`\bar Q`.
    nbar : ndarray, shape (N, N) or None
        :math:`\bar N`, the mean of :math:`n_t n_t'` (ADCC only; ignored otherwise).
    q_next : ndarray, shape (N, N)
        :math:`Q_{T+1}`, built from data through :math:`T`.
    horizon : int
        Number of steps ahead :math:`h \ge 1`.

    Returns
    -------
    R : ndarray, shape (h, N, N)
        Correlation forecasts; ``R[0]`` is the exact one-step :math:`R_{T+1}`.
    Q : ndarray, shape (h, N, N)
        Matching forecasts of :math:`Q`: ``Q[0] = Q_{T+1}`` and
        :math:`E_T[Q_{T+k}] \approx \bar Q + (a+b)^{k-1}(Q_{T+1} - \bar Q)`.

    Raises
    ------
    SpecificationError
        Unknown kind, non-square or mismatched matrices, horizon < 1.
    NotPositiveDefiniteError
        ``q_next`` or ``qbar`` has a non-positive diagonal.

    Notes
    -----
    The one-step forecast is exact:
    :math:`R_{T+1} = \mathrm{diag}(Q_{T+1})^{-1/2} Q_{T+1} \mathrm{diag}(Q_{T+1})^{-1/2}`.
    For :math:`k \ge 2` the Engle-Sheppard (2001) approximation :math:`E_T[z z'] \approx
    E_T[R] \approx E_T[Q]` gives, with :math:`\bar R` the correlation form of :math:`\bar Q`
    and :math:`\phi = a + b`,

    .. math::

        E_T[R_{T+k}] \approx (1 - \phi^{k-1}) \bar R + \phi^{k-1} R_{T+1}.

    This is the formula of ``rmgarch`` (``.dccforecastn``), used for DCC and cDCC alike. For
    ADCC, ``rmgarch`` computes the same decay ``a + b`` but refuses horizons above one; here
    the asymmetric term enters the exact one-step :math:`Q_{T+1}` through :math:`n_T`, and for
    :math:`k \ge 2` the approximation :math:`E_T[n n'] \approx \bar N` makes the
    :math:`g (n n' - \bar N)` term vanish in expectation, so the decay is again :math:`a + b`.
    CCC has :math:`R_{T+k} = \bar R` for every horizon.

    References
    ----------
    Engle, R. F. and Sheppard, K. (2001). Theoretical and empirical properties of dynamic
    conditional correlation multivariate GARCH. NBER Working Paper 8554.

    Examples
    --------
    >>> import numpy as np
    >>> qbar = np.array([[1.0, 0.5], [0.5, 1.0]])
    >>> q_next = np.array([[1.2, 0.9], [0.9, 1.1]])
    >>> r, q = forecast_correlation("dcc", {"a": 0.05, "b": 0.9}, qbar, None, q_next, 3)
    >>> r.shape
    (3, 2, 2)
    """
    _check_kind(kind)
    horizon = _check_horizon(horizon)
    qbar = _square("qbar", qbar)
    n = qbar.shape[0]
    q_next = _square("q_next", q_next, n)
    if kind == "adcc" and nbar is not None:
        _square("nbar", nbar, n)
    rbar = _to_correlation(qbar)
    if kind == "ccc":
        q1 = qbar
        r1 = rbar
    else:
        q1 = q_next
        r1 = _to_correlation(q_next)
    phi = persistence(kind, params)
    weights = phi ** np.arange(horizon, dtype=np.float64)  # phi^(k-1), k = 1..h
    w = weights[:, None, None]
    r = (1.0 - w) * rbar[None] + w * r1[None]
    q = (1.0 - w) * qbar[None] + w * q1[None]
    r[0] = r1
    q[0] = q1
    return r, q


def simulate_correlation_forecast(
    kind: Kind,
    params: Mapping[str, float],
    qbar: Float64Array2D,
    nbar: Float64Array2D | None,
    q_next: Float64Array2D,
    horizon: int,
    simulations: int = 10_000,
    seed: Seed = None,
    nu: float | None = None,
) -> tuple[Float64Array3D, Float64Array3D]:
    r"""Forecast :math:`E_T[R_{T+k}]`, :math:`k = 1..h`, as a mean over simulated paths.

    The multi-step forecast of any kind without approximation (up to Monte Carlo error), ADCC
    included (``rmgarch`` gives only
    :math:`h = 1` for ADCC, and :func:`forecast_correlation` beyond one step replaces
    :math:`E_T[n n']` by :math:`\bar N`). Each path starts from the known :math:`Q_{T+1}` and
    runs the fitted recursion on simulated standardized residuals
    (:func:`research.correlation.simulate.simulate_correlation_paths`, the estimation update).

    Parameters
    ----------
    kind : {"dcc", "cdcc", "adcc", "ccc"}
        Model kind.
    params : mapping
        ``"a"``, ``"b"`` (and ``"g"`` for ADCC).
    qbar : ndarray, shape (N, N)
        Correlation-targeting intercept :math:`\bar Q`.
    nbar : ndarray, shape (N, N) or None
        :math:`\bar N` (required for ADCC).
    q_next : ndarray, shape (N, N)
        :math:`Q_{T+1}`.
    horizon : int
        Steps ahead :math:`h \ge 1`.
    simulations : int, default 10,000
        Paths.
    seed : int, numpy.random.Generator or None
        Randomness; the same integer seed gives the same forecast.
    nu : float, optional
        Joint Student-t innovations with ``nu`` degrees of freedom (> 2); Gaussian by default.

    Returns
    -------
    R : ndarray, shape (h, N, N)
        Mean simulated correlation; ``R[0]`` is the exact :math:`R_{T+1}` (it does not depend
        on the draws).
    standard_error : ndarray, shape (h, N, N)
        Monte Carlo standard error of each entry of ``R`` (zero at ``h.1``).

    Raises
    ------
    SpecificationError
        Unknown kind, bad shapes, horizon or simulations, ADCC without ``nbar``, ``nu <= 2``.
    NotPositiveDefiniteError
        A simulated correlation matrix is not positive definite.

    Examples
    --------
    >>> qbar = np.array([[1.0, 0.5], [0.5, 1.0]])
    >>> nbar = np.array([[0.5, 0.33], [0.33, 0.5]])
    >>> q_next = np.array([[1.2, 0.9], [0.9, 1.1]])
    >>> params = {"a": 0.03, "b": 0.9, "g": 0.05}
    >>> r, se = simulate_correlation_forecast("adcc", params, qbar, nbar, q_next, 5, 2000, 0)
    >>> r.shape, bool(se[0].max() == 0.0)
    ((5, 2, 2), True)
    """
    from research._random import as_generator
    from research.correlation.simulate import parametric_innovations, simulate_correlation_paths

    _check_kind(kind)
    horizon = _check_horizon(horizon)
    if not isinstance(simulations, int | np.integer) or simulations < 2:
        raise SpecificationError(f"simulations must be an integer >= 2, got {simulations!r}")
    qbar = _square("qbar", qbar)
    n = qbar.shape[0]
    q_next = _square("q_next", q_next, n)
    if kind == "adcc":
        if nbar is None:
            raise SpecificationError("ADCC needs nbar, the second moment of the negative parts")
        nbar = _square("nbar", nbar, n)
    _to_correlation(q_next)
    rng = as_generator(seed)
    shift: np.ndarray | None = None  # first path: sums of deviations from it keep precision
    total = np.zeros((horizon, n, n))
    squares = np.zeros((horizon, n, n))
    for start in range(0, int(simulations), SIMULATION_CHUNK):
        paths = min(SIMULATION_CHUNK, int(simulations) - start)
        e = parametric_innovations(rng, paths, horizon, n, nu)
        _, r = simulate_correlation_paths(kind, params, qbar, nbar, q_next, e, True)
        assert r is not None
        if shift is None:
            shift = r[0].copy()
        dev = r - shift
        total += dev.sum(axis=0)
        squares += np.einsum("phij,phij->hij", dev, dev)
    assert shift is not None
    mean_dev = total / simulations
    variance = np.maximum(squares - simulations * mean_dev**2, 0.0) / (simulations - 1)
    return shift + mean_dev, np.sqrt(variance / simulations)


def forecast_covariance(correlation: Float64Array3D, variance: Float64Array2D) -> Float64Array3D:
    r"""Combine correlation and variance forecasts into covariance forecasts.

    Parameters
    ----------
    correlation : ndarray, shape (h, N, N)
        :math:`R_{T+k}` forecasts.
    variance : ndarray, shape (h, N)
        Per-asset conditional variance forecasts :math:`\sigma^2_{i,T+k}`.

    Returns
    -------
    ndarray, shape (h, N, N)
        :math:`H_{T+k} = D_{T+k} R_{T+k} D_{T+k}` with :math:`D = \mathrm{diag}(\sigma)`.

    Raises
    ------
    SpecificationError
        Shapes disagree or a variance is negative / not finite.
    """
    r = np.asarray(correlation, dtype=np.float64)
    v = np.asarray(variance, dtype=np.float64)
    if r.ndim != 3 or v.ndim != 2 or r.shape[0] != v.shape[0] or r.shape[1] != v.shape[1]:
        raise SpecificationError(
            f"correlation must be (h, N, N) and variance (h, N); got {r.shape} and {v.shape}"
        )
    if not np.all(np.isfinite(v)) or np.any(v < 0.0):
        raise SpecificationError("variance forecasts must be finite and non-negative")
    s = np.sqrt(v)
    return r * s[:, :, None] * s[:, None, :]


@dataclass(frozen=True)
class DCCState:
    """The pieces of a fitted DCC model that forecasts and simulations need, as arrays.

    Attributes
    ----------
    kind : str
        ``"dcc"``, ``"cdcc"``, ``"adcc"`` or ``"ccc"``.
    a, b, g : float
        Second-stage parameters (``g`` is 0 unless ADCC; ``a = b = 0`` for CCC).
    nu : float or None
        Joint Student-t degrees of freedom, ``None`` for Gaussian.
    qbar, nbar, q_next : ndarray, shape (N, N)
        Intercept targets and :math:`Q_{T+1}` (``nbar`` is zeros unless ADCC).
    assets : tuple of str
        Asset labels in column order.
    std_resid : pandas.DataFrame
        In-sample standardized residuals (T x N).
    univariate : mapping of asset -> arch ARCHModelResult
        Per-asset univariate fits.
    """

    kind: str
    a: float
    b: float
    g: float
    nu: float | None
    qbar: np.ndarray
    nbar: np.ndarray
    q_next: np.ndarray
    assets: tuple[str, ...]
    std_resid: pd.DataFrame
    univariate: Mapping[str, Any] = field(repr=False)

    @property
    def kind_code(self) -> int:
        """Integer code of ``kind`` (0 dcc, 1 cdcc, 2 adcc, 3 ccc)."""
        return KINDS.index(self.kind)

    @property
    def params(self) -> dict[str, float]:
        """Return the second-stage parameters as a plain dict."""
        out = {"a": self.a, "b": self.b}
        if self.kind == "adcc":
            out["g"] = self.g
        return out


def dcc_state(result: Any) -> DCCState:
    """Extract a :class:`DCCState` from a fitted ``DCCResult``.

    Parameters
    ----------
    result : DCCResult
        Needs ``kind``, ``params`` (Series with ``"a"``, ``"b"``, optional ``"g"``, ``"nu"``),
        ``qbar``, ``nbar``, ``q_next``, ``std_resid`` and ``univariate.results``.

    Returns
    -------
    DCCState

    Raises
    ------
    SpecificationError
        A required attribute is missing or inconsistent.
    """
    missing = [
        name
        for name in ("kind", "params", "qbar", "q_next", "std_resid", "univariate")
        if not hasattr(result, name)
    ]
    if missing:
        raise SpecificationError(
            f"object of type {type(result).__name__} lacks {', '.join(missing)}; "
            "pass a fitted research.correlation.DCCResult"
        )
    kind = _check_kind(str(result.kind).lower())
    params = pd.Series(result.params, dtype=float)
    std_resid = result.std_resid
    if not isinstance(std_resid, pd.DataFrame):
        std_resid = pd.DataFrame(np.asarray(std_resid, dtype=np.float64))
    assets = tuple(str(c) for c in std_resid.columns)
    n = len(assets)
    qbar = _square("qbar", result.qbar, n)
    q_next = _square("q_next", result.q_next, n) if kind != "ccc" else qbar
    nbar_raw = getattr(result, "nbar", None)
    nbar = np.zeros((n, n)) if nbar_raw is None else _square("nbar", nbar_raw, n)
    a = float(params.get("a", 0.0)) if kind != "ccc" else 0.0
    b = float(params.get("b", 0.0)) if kind != "ccc" else 0.0
    g = float(params.get("g", 0.0)) if kind == "adcc" else 0.0
    nu = float(params["nu"]) if "nu" in params.index else None
    uni = getattr(result.univariate, "results", result.univariate)
    return DCCState(
        kind=kind,
        a=a,
        b=b,
        g=g,
        nu=nu,
        qbar=qbar,
        nbar=nbar,
        q_next=q_next,
        assets=assets,
        std_resid=std_resid,
        univariate=dict(uni),
    )


def univariate_forecast(
    results: Mapping[str, Any], horizon: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Analytic mean and variance forecasts of each asset's :mod:`arch` model.

    Parameters
    ----------
    results : mapping of asset -> arch ARCHModelResult
        Fitted univariate models (any mean / volatility / distribution ``arch`` supports).
    horizon : int
        Steps ahead.

    Returns
    -------
    mean, variance : pandas.DataFrame
        Each ``horizon x asset`` indexed ``h.1 .. h.H``, in the units of the data (``arch``'s
        ``rescale`` factor is undone).

    Raises
    ------
    SpecificationError
        The volatility model has no analytic multi-step forecast (e.g. EGARCH with h > 1);
        use ``method="simulation"`` in :func:`forecast_dcc` instead.
    """
    horizon = _check_horizon(horizon)
    means, variances = {}, {}
    for asset, res in results.items():
        try:
            fc = res.forecast(horizon=horizon, reindex=False)
        except ValueError as exc:
            raise SpecificationError(
                f"asset {asset!r}: the univariate model has no analytic {horizon}-step "
                f"forecast ({exc}); use method='simulation'"
            ) from exc
        scale = float(getattr(res, "scale", 1.0) or 1.0)
        means[asset] = np.asarray(fc.mean.values[-1], dtype=np.float64) / scale
        variances[asset] = np.asarray(fc.variance.values[-1], dtype=np.float64) / scale**2
    index = pd.Index(horizon_labels(horizon), name="horizon")
    return pd.DataFrame(means, index=index), pd.DataFrame(variances, index=index)


def _stack_frame(arr: np.ndarray, assets: tuple[str, ...]) -> pd.DataFrame:
    h, n, _ = arr.shape
    index = pd.MultiIndex.from_product(
        [horizon_labels(h), list(assets)], names=["horizon", "asset"]
    )
    return pd.DataFrame(arr.reshape(h * n, n), index=index, columns=pd.Index(assets, name="asset"))


@dataclass(frozen=True)
class DCCForecast:
    """Labelled forecasts of a DCC-family model for horizons ``h.1 .. h.H``.

    Attributes
    ----------
    correlation : pandas.DataFrame
        ``(horizon, asset) x asset`` correlation forecasts :math:`R_{T+k}`.
    covariance : pandas.DataFrame
        ``(horizon, asset) x asset`` covariance forecasts :math:`H_{T+k}`.
    variance : pandas.DataFrame
        ``horizon x asset`` univariate variance forecasts.
    mean : pandas.DataFrame
        ``horizon x asset`` univariate mean forecasts.
    kind : str
        Model kind.
    method : str
        ``"analytic"`` (exact one step, Engle-Sheppard beyond) or ``"simulation"``.
    origin : object
        Last in-sample date (the forecast origin ``T``), ``None`` if unknown.
    simulations : int
        Number of paths behind a simulation forecast (0 for analytic).
    """

    correlation: pd.DataFrame
    covariance: pd.DataFrame
    variance: pd.DataFrame
    mean: pd.DataFrame
    kind: str
    method: str
    origin: Any = None
    simulations: int = 0

    @property
    def horizon(self) -> int:
        """Number of forecast steps."""
        return int(self.variance.shape[0])

    @property
    def assets(self) -> list[str]:
        """Asset labels."""
        return [str(c) for c in self.variance.columns]

    def correlation_matrix(self, step: int = 1) -> pd.DataFrame:
        """Return the ``asset x asset`` correlation forecast ``step`` days ahead.

        Parameters
        ----------
        step : int
            Horizon in ``1 .. horizon``.

        Returns
        -------
        pandas.DataFrame
        """
        return self.correlation.xs(self._label(step), level="horizon")

    def covariance_matrix(self, step: int = 1) -> pd.DataFrame:
        """Return the ``asset x asset`` covariance forecast ``step`` days ahead.

        Parameters
        ----------
        step : int
            Horizon in ``1 .. horizon``.

        Returns
        -------
        pandas.DataFrame
        """
        return self.covariance.xs(self._label(step), level="horizon")

    def _label(self, step: int) -> str:
        if not 1 <= step <= self.horizon:
            raise SpecificationError(f"step must be in 1..{self.horizon}, got {step}")
        return f"h.{step}"

    def summary(self) -> pd.DataFrame:
        """Per-horizon overview: mean pairwise correlation and average volatility.

        Returns
        -------
        pandas.DataFrame
            Indexed by horizon with columns ``mean_correlation``, ``min_correlation``,
            ``max_correlation`` and ``mean_volatility``.
        """
        n = len(self.assets)
        iu = np.triu_indices(n, 1)
        rows = {}
        for k in range(1, self.horizon + 1):
            r = self.correlation_matrix(k).to_numpy()[iu]
            vol = np.sqrt(self.variance.iloc[k - 1].to_numpy())
            rows[f"h.{k}"] = {
                "mean_correlation": float(r.mean()) if r.size else np.nan,
                "min_correlation": float(r.min()) if r.size else np.nan,
                "max_correlation": float(r.max()) if r.size else np.nan,
                "mean_volatility": float(vol.mean()),
            }
        out = pd.DataFrame.from_dict(rows, orient="index")
        out.index.name = "horizon"
        return out


def forecast_dcc(
    result: Any,
    horizon: int = 1,
    method: Literal["analytic", "simulation"] = "analytic",
    simulations: int = 1000,
    seed: Seed = None,
) -> DCCForecast:
    r"""Forecast correlations, variances and covariances of a fitted DCC-family model.

    Parameters
    ----------
    result : DCCResult
        A fitted model (see :func:`dcc_state` for the attributes used).
    horizon : int
        Steps ahead (default 1).
    method : {"analytic", "simulation"}
        ``"analytic"``: exact :math:`R_{T+1}`, Engle-Sheppard approximation beyond
        (:func:`forecast_correlation`), and each ``arch`` model's analytic variance forecast.
        ``"simulation"``: means over ``simulations`` parametric paths of
        :func:`research.correlation.simulate.simulate_dcc` (:math:`E_T[R_{T+k}]`,
        :math:`E_T[H_{T+k}]`, :math:`E_T[\sigma^2_{T+k}]`); needed for univariate models
        without analytic multi-step forecasts.
    simulations : int
        Paths for ``method="simulation"``.
    seed : int, numpy.random.Generator or None
        Seed for ``method="simulation"``.

    Returns
    -------
    DCCForecast

    Raises
    ------
    SpecificationError
        Unknown method, bad horizon, or a univariate model without analytic forecasts.

    Examples
    --------
    >>> fc = forecast_dcc(res, horizon=10)  # doctest: +SKIP
    >>> fc.correlation_matrix(1)  # doctest: +SKIP
    """
    horizon = _check_horizon(horizon)
    state = dcc_state(result)
    origin = state.std_resid.index[-1] if len(state.std_resid.index) else None
    if method == "analytic":
        r, _ = forecast_correlation(
            state.kind, state.params, state.qbar, state.nbar, state.q_next, horizon
        )
        mean, variance = univariate_forecast(state.univariate, horizon)
        variance = variance[list(state.assets)]
        mean = mean[list(state.assets)]
        h = forecast_covariance(r, variance.to_numpy())
        n_sim = 0
    elif method == "simulation":
        from research.correlation.simulate import simulate_dcc

        sim = simulate_dcc(
            result,
            horizon=horizon,
            paths=simulations,
            method="parametric",
            seed=seed,
            store_correlation=True,
        )
        r = sim.correlation.mean(axis=0)
        h = sim.covariance.mean(axis=0)
        index = pd.Index(horizon_labels(horizon), name="horizon")
        variance = pd.DataFrame(sim.variance.mean(axis=0), index=index, columns=list(state.assets))
        mean = pd.DataFrame(sim.returns.mean(axis=0), index=index, columns=list(state.assets))
        n_sim = int(simulations)
    else:
        raise SpecificationError(f"method must be 'analytic' or 'simulation', got {method!r}")
    variance.columns.name = "asset"
    mean.columns.name = "asset"
    return DCCForecast(
        correlation=_stack_frame(r, state.assets),
        covariance=_stack_frame(h, state.assets),
        variance=variance,
        mean=mean,
        kind=state.kind,
        method=method,
        origin=origin,
        simulations=n_sim,
    )
