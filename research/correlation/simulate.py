r"""Monte Carlo simulation of a fitted DCC-family model, vectorised over paths.

The correlation dynamics depend on the standardized residuals :math:`z` only, so a simulation
runs in two stages:

1. **Correlation stage** (compiled, parallel over paths): starting from the known
   :math:`Q_{T+1}`, for :math:`k = 1..h` set :math:`R_{T+k}` from :math:`Q_{T+k}`, draw
   de-correlated innovations :math:`e_{T+k}`, set :math:`z_{T+k} = L_{T+k} e_{T+k}` with
   :math:`L` the lower Cholesky factor of :math:`R_{T+k}`, and update :math:`Q` with
   :math:`z_{T+k}` through the fitted dynamics (the same update as the estimation kernel).
   Innovations are Gaussian or joint Student-t (``method="parametric"``), or whole historical
   days :math:`e_t = L_t^{-1} z_t` drawn with replacement (``method="fhs"``, filtered
   historical simulation), which keeps the cross-sectional dependence of the residuals.
2. **Univariate stage**: each asset's :math:`z` paths are the shocks of its own fitted
   :mod:`arch` model, so returns are :math:`\mu + \sigma_{T+k} z_{T+k}` with the correct
   GARCH feedback. For the default constant-mean (or zero-mean) GARCH(1,1) the recursion runs
   vectorised in numpy; any other ``arch`` model goes through ``arch``'s own
   ``forecast(method="simulation", rng=...)``, which receives the pre-drawn shocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numba as nb
import numpy as np
import pandas as pd

from research._random import as_generator
from research._threads import single_threaded_blas
from research._typing import Float64Array2D, Float64Array3D, Seed
from research.correlation._kernels import KIND_CODES, dcc_correlation_path
from research.correlation.forecast import DCCState, dcc_state, horizon_labels
from research.errors import DataError, NotPositiveDefiniteError, SpecificationError

__all__ = [
    "DCCSimulation",
    "decorrelate_residuals",
    "parametric_innovations",
    "simulate_correlation_paths",
    "simulate_dcc",
    "simulate_univariate",
]

Method = Literal["parametric", "fhs"]
UnivariateEngine = Literal["auto", "fast", "arch"]


_BLOCK = 32  # paths per SIMD block: the innermost loops run over paths
#: Matrix entries per block of days when de-correlating residuals (4M entries: 32 MB of R_t
#: plus as much for its Cholesky factors).
DECORRELATE_BLOCK_ELEMENTS = 4_000_000


@nb.njit(parallel=True, cache=True)
def _correlation_paths_kernel(q0, qbar, nbar, a, b, g, kind, e, store_r):  # pragma: no cover
    """Compiled stage 1: z (P, h, N), optional R (P, h, N, N), per-path failure flags.

    Paths are processed in blocks of ``_BLOCK`` with the path as the innermost (vectorised)
    index; blocks run in parallel. chol(R) = diag(Q)^{-1/2} chol(Q), so Q is factored
    directly. The Q update is the estimation recursion (see ``_kernels.dcc_q_path``).
    """
    n_paths, horizon, n = e.shape
    z = np.empty((n_paths, horizon, n))
    r_out = np.empty((n_paths if store_r else 0, horizon, n, n))
    bad = np.zeros(n_paths, dtype=np.bool_)
    c = 1.0 - a - b
    n_blocks = (n_paths + _BLOCK - 1) // _BLOCK
    for blk in nb.prange(n_blocks):
        p0 = blk * _BLOCK
        m = min(_BLOCK, n_paths - p0)
        q = np.empty((n, n, m))
        low = np.zeros((n, n, m))
        d = np.empty((n, m))
        zt = np.empty((n, m))
        xt = np.empty((n, m))
        nt = np.empty((n, m))
        s = np.empty(m)
        for i in range(n):
            for j in range(n):
                for lane in range(m):
                    q[i, j, lane] = q0[i, j]
        for k in range(horizon):
            # lower Cholesky factor of Q, lane by lane
            for j in range(n):
                for lane in range(m):
                    s[lane] = q[j, j, lane]
                for jj in range(j):
                    for lane in range(m):
                        s[lane] -= low[j, jj, lane] * low[j, jj, lane]
                for lane in range(m):
                    if not s[lane] > 0.0:
                        bad[p0 + lane] = True
                        s[lane] = 1.0
                    low[j, j, lane] = np.sqrt(s[lane])
                for i in range(j + 1, n):
                    for lane in range(m):
                        s[lane] = q[i, j, lane]
                    for jj in range(j):
                        for lane in range(m):
                            s[lane] -= low[i, jj, lane] * low[j, jj, lane]
                    for lane in range(m):
                        low[i, j, lane] = s[lane] / low[j, j, lane]
            for i in range(n):
                for lane in range(m):
                    d[i, lane] = 1.0 / np.sqrt(q[i, i, lane])
            # z = diag(Q)^{-1/2} chol(Q) e
            for i in range(n):
                for lane in range(m):
                    s[lane] = 0.0
                for j in range(i + 1):
                    for lane in range(m):
                        s[lane] += low[i, j, lane] * e[p0 + lane, k, j]
                for lane in range(m):
                    zt[i, lane] = s[lane] * d[i, lane]
                    z[p0 + lane, k, i] = zt[i, lane]
            if store_r:
                for i in range(n):
                    for j in range(n):
                        for lane in range(m):
                            r_out[p0 + lane, k, i, j] = q[i, j, lane] * d[i, lane] * d[j, lane]
                    for lane in range(m):
                        r_out[p0 + lane, k, i, i] = 1.0
            if kind == 3:  # ccc: Q stays at qbar
                continue
            for i in range(n):
                for lane in range(m):
                    xt[i, lane] = zt[i, lane]
                    nt[i, lane] = min(zt[i, lane], 0.0)
                if kind == 1:  # cdcc: Q*^{1/2} z with the current diagonal
                    for lane in range(m):
                        xt[i, lane] = zt[i, lane] / d[i, lane]
            if kind == 2:  # adcc
                for i in range(n):
                    for j in range(i + 1):
                        cij = c * qbar[i, j] - g * nbar[i, j]
                        for lane in range(m):
                            v = (
                                cij
                                + a * xt[i, lane] * xt[j, lane]
                                + g * nt[i, lane] * nt[j, lane]
                                + b * q[i, j, lane]
                            )
                            q[i, j, lane] = v
                            q[j, i, lane] = v
            else:
                for i in range(n):
                    for j in range(i + 1):
                        cij = c * qbar[i, j]
                        for lane in range(m):
                            v = cij + a * xt[i, lane] * xt[j, lane] + b * q[i, j, lane]
                            q[i, j, lane] = v
                            q[j, i, lane] = v
    return z, r_out, bad


def parametric_innovations(
    rng: np.random.Generator, paths: int, horizon: int, n: int, nu: float | None = None
) -> Float64Array3D:
    """De-correlated innovations with identity covariance: Gaussian, or joint Student-t.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    paths, horizon, n : int
        Output shape ``(paths, horizon, n)``.
    nu : float, optional
        Student-t degrees of freedom (> 2): one chi-square mixing variable per path and day,
        scaled to unit variance; ``None`` for Gaussian.

    Returns
    -------
    ndarray, shape (paths, horizon, n)

    Raises
    ------
    SpecificationError
        ``nu`` is not above 2.
    """
    e = rng.standard_normal((paths, horizon, n))
    if nu is not None:
        if not nu > 2.0:
            raise SpecificationError(f"Student-t simulation needs nu > 2, got {nu}")
        w = rng.chisquare(nu, size=(paths, horizon))
        e *= np.sqrt((nu - 2.0) / w)[:, :, None]
    return e


def simulate_correlation_paths(
    kind: str,
    params: Mapping[str, float],
    qbar: Float64Array2D,
    nbar: Float64Array2D | None,
    q_next: Float64Array2D,
    innovations: Float64Array3D,
    store_correlation: bool = False,
) -> tuple[Float64Array3D, np.ndarray | None]:
    r"""Filter de-correlated innovations through the DCC dynamics (stage 1 of a simulation).

    Parameters
    ----------
    kind : {"dcc", "cdcc", "adcc", "ccc"}
        Model kind.
    params : mapping
        ``"a"``, ``"b"`` (and ``"g"`` for ADCC).
    qbar, nbar : ndarray, shape (N, N)
        Targets as used in estimation (``nbar`` may be ``None`` unless ADCC).
    q_next : ndarray, shape (N, N)
        :math:`Q_{T+1}`, the starting state of every path.
    innovations : ndarray, shape (P, h, N)
        De-correlated innovations :math:`e` with identity covariance.
    store_correlation : bool
        Also return the correlation paths.

    Returns
    -------
    z : ndarray, shape (P, h, N)
        Standardized residual paths :math:`z_{T+k} = \mathrm{chol}(R_{T+k})\, e_{T+k}`.
    R : ndarray, shape (P, h, N, N) or None
        :math:`R_{T+1}, \dots, R_{T+h}` per path when ``store_correlation``.

    Raises
    ------
    SpecificationError
        Unknown kind or inconsistent shapes.
    NotPositiveDefiniteError
        Some :math:`R_{T+k}` is not positive definite (parameters outside the valid region).
    """
    if kind not in KIND_CODES:
        raise SpecificationError(
            f"unknown DCC kind {kind!r}; choose one of {', '.join(KIND_CODES)}"
        )
    e = np.ascontiguousarray(innovations, dtype=np.float64)
    qbar = np.ascontiguousarray(qbar, dtype=np.float64)
    n = qbar.shape[0]
    if e.ndim != 3 or e.shape[2] != n:
        raise SpecificationError(
            f"innovations must have shape (paths, horizon, {n}), got {e.shape}"
        )
    q0 = qbar.copy() if kind == "ccc" else np.ascontiguousarray(q_next, dtype=np.float64)
    if q0.shape != (n, n):
        raise SpecificationError(f"q_next must be {n}x{n}, got {q0.shape}")
    nb_ = np.zeros((n, n)) if nbar is None else np.ascontiguousarray(nbar, dtype=np.float64)
    a = float(params.get("a", 0.0))
    b = float(params.get("b", 0.0))
    g = float(params.get("g", 0.0)) if kind == "adcc" else 0.0
    z, r, bad = _correlation_paths_kernel(
        q0, qbar, nb_, a, b, g, KIND_CODES[kind], e, bool(store_correlation)
    )
    if bad.any():
        raise NotPositiveDefiniteError(
            f"{int(bad.sum())} of {bad.size} simulated paths reached a correlation matrix that "
            f"is not positive definite (kind={kind}, params={dict(params)}); check that the "
            "parameters satisfy the stationarity and positivity constraints"
        )
    return z, (r if store_correlation else None)


def decorrelate_residuals(state: DCCState) -> Float64Array2D:
    r"""De-correlate the in-sample standardized residuals: :math:`e_t = L_t^{-1} z_t`.

    Parameters
    ----------
    state : DCCState
        Fitted model pieces (see :func:`research.correlation.forecast.dcc_state`).

    Returns
    -------
    ndarray, shape (T, N)
        :math:`e_t` with :math:`L_t` the lower Cholesky factor of the fitted :math:`R_t`
        (the same factorisation the simulation uses to re-correlate), so a drawn day
        :math:`e_t` re-filtered through :math:`R_t` gives back :math:`z_t` exactly.

    Raises
    ------
    DataError
        The residuals contain NaN.
    NotPositiveDefiniteError
        A fitted :math:`R_t` is not positive definite.

    Notes
    -----
    The days are processed in blocks of about :data:`DECORRELATE_BLOCK_ELEMENTS` matrix
    entries, with :math:`Q_t` carried from block to block, so memory is O(T N + N^2) rather
    than several T x N x N paths. The factorizations run with single-threaded BLAS, so the
    result does not depend on the host's BLAS thread count (with threads it moved by up to
    6e-14).
    """
    z = np.ascontiguousarray(state.std_resid.to_numpy(dtype=np.float64))
    if not np.all(np.isfinite(z)):
        rows = np.flatnonzero(~np.isfinite(z).all(axis=1))
        first = state.std_resid.index[rows[0]]
        raise DataError(
            f"standardized residuals contain {rows.size} rows with NaN (first at {first}); "
            "filtered historical simulation needs a complete residual history"
        )
    n = z.shape[1]
    rows = max(1, DECORRELATE_BLOCK_ELEMENTS // (n * n))
    e = np.empty_like(z)
    with single_threaded_blas():  # tiny factorizations: faster, and independent of the host
        _decorrelate_blocks(z, state, rows, e)
    return e


def _decorrelate_blocks(z: Float64Array2D, state: DCCState, rows: int, e: Float64Array2D) -> None:
    """Write e_t = L_t^{-1} z_t into ``e``, ``rows`` days at a time (see decorrelate_residuals)."""
    t_obs, n = z.shape
    q = np.array(state.qbar, dtype=np.float64, order="C")
    qbar = np.ascontiguousarray(state.qbar, dtype=np.float64)
    nbar = np.ascontiguousarray(state.nbar, dtype=np.float64)
    no_scale = np.empty((0, n))
    r_block = np.empty((min(rows, t_obs), n, n))
    for start in range(0, t_obs, rows):
        stop = min(start + rows, t_obs)
        r = r_block[: stop - start]
        dcc_correlation_path(
            z[start:stop], state.a, state.b, state.g, qbar, nbar, state.kind_code, no_scale, q, r
        )
        try:
            low = np.linalg.cholesky(r)
        except np.linalg.LinAlgError as exc:
            raise NotPositiveDefiniteError(
                "a fitted correlation matrix R_t between "
                f"{state.std_resid.index[start]} and {state.std_resid.index[stop - 1]} is not "
                "positive definite; cannot de-correlate the residuals for filtered historical "
                "simulation"
            ) from exc
        e[start:stop] = np.linalg.solve(low, z[start:stop, :, None])[:, :, 0]


def _is_fast_garch(res: Any) -> bool:
    """Tell whether ``res`` is a constant/zero-mean GARCH(1,1) (power 2, no asymmetry)."""
    from arch.univariate import GARCH, ConstantMean, ZeroMean

    model = getattr(res, "model", None)
    if type(model) not in (ConstantMean, ZeroMean):
        return False
    vol = model.volatility
    return (
        type(vol) is GARCH and vol.p == 1 and vol.o == 0 and vol.q == 1 and float(vol.power) == 2.0
    )


def _garch11_start(res: Any) -> tuple[float, float, float, float, float]:
    """Return ``(mu, omega, alpha, beta, sigma2_{T+1})`` of a GARCH(1,1) arch result."""
    params = res.params
    mu = float(params["mu"]) if "mu" in params.index else 0.0
    omega, alpha, beta = (float(params[k]) for k in ("omega", "alpha[1]", "beta[1]"))
    # sigma^2_{T+1} exactly as arch's own one-step forecast computes it (public
    # VolatilityProcess methods, no pandas): arch re-runs the in-sample recursion with a
    # backcast from the final parameters, which can differ from the stored
    # conditional_volatility by ~1e-10 for persistent fits.
    resids = np.asarray(res.resid, dtype=np.float64)
    resids = np.ascontiguousarray(resids[np.isfinite(resids)])
    if resids.size == 0:
        raise DataError("the univariate fit has no residuals; cannot simulate from it")
    vol = res.model.volatility
    backcast = vol.backcast(resids)
    bounds = np.concatenate((vol.variance_bounds(resids, 2.0), [[0.0, np.inf]]))
    sigma2 = np.zeros(resids.size + 1)
    vol.compute_variance(
        np.array([omega, alpha, beta]), np.append(resids, 0.0), sigma2, backcast, bounds
    )
    s2_next = float(sigma2[-1])
    if not np.isfinite(s2_next):
        raise DataError("the one-step variance forecast is NaN; cannot simulate from it")
    return mu, omega, alpha, beta, s2_next


@nb.njit(cache=True)
def _garch11_kernel(mu, omega, alpha, beta, s2_next, z):  # pragma: no cover
    """Fused GARCH(1,1) recursion over (P, h, n) shocks; same arithmetic order as arch."""
    n_paths, horizon, n = z.shape
    var = np.empty((n_paths, horizon, n))
    ret = np.empty((n_paths, horizon, n))
    s2 = np.empty(n)
    for p in range(n_paths):
        s2[:] = s2_next
        for k in range(horizon):
            for i in range(n):  # independent assets innermost: vectorised
                var[p, k, i] = s2[i]
                eps = np.sqrt(s2[i]) * z[p, k, i]
                ret[p, k, i] = mu[i] + eps
                s2[i] = omega[i] + alpha[i] * (eps * eps) + beta[i] * s2[i]
    return ret, var


def _garch11_paths(coefs: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GARCH(1,1) recursion for several assets at once (compiled).

    ``coefs`` has rows mu, omega, alpha, beta, sigma2_{T+1} and one column per asset;
    ``z`` is (P, h, n). Returns returns and variances, each (P, h, n).
    """
    c = np.ascontiguousarray(coefs, dtype=np.float64)
    return _garch11_kernel(c[0], c[1], c[2], c[3], c[4], np.ascontiguousarray(z))


def _arch_paths(res: Any, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Any arch model: its own simulation forecast with ``z`` (P, h) as the shocks."""
    n_paths, horizon = z.shape

    def rng(size: int | tuple[int, ...]) -> np.ndarray:
        if tuple(np.atleast_1d(size)) != (n_paths, horizon):
            raise SpecificationError(
                f"arch requested shocks of size {size}, expected {(n_paths, horizon)}"
            )
        return z

    fc = res.forecast(
        horizon=horizon, method="simulation", simulations=n_paths, rng=rng, reindex=False
    )
    return (
        np.asarray(fc.simulations.values[-1], dtype=np.float64),
        np.asarray(fc.simulations.variances[-1], dtype=np.float64),
    )


def simulate_univariate(
    results: Mapping[str, Any],
    std_resid: Float64Array3D,
    engine: UnivariateEngine = "auto",
) -> tuple[Float64Array3D, Float64Array3D, str]:
    r"""Turn standardized residual paths into return paths through each asset's arch model.

    Parameters
    ----------
    results : mapping of asset -> arch ARCHModelResult
        Fitted univariate models, in the column order of ``std_resid``.
    std_resid : ndarray, shape (P, h, N)
        Shocks :math:`z` (unit variance) for every path, step and asset.
    engine : {"auto", "fast", "arch"}
        ``"fast"``: numpy GARCH(1,1) recursion (only constant/zero-mean GARCH(1,1));
        ``"arch"``: ``arch``'s ``forecast(method="simulation", rng=...)`` for every asset;
        ``"auto"``: fast where possible, arch otherwise. Both give the same paths.

    Returns
    -------
    returns : ndarray, shape (P, h, N)
        :math:`r_{T+k} = \mu_{T+k} + \sigma_{T+k} z_{T+k}`, in the units of the data
        (``arch``'s ``rescale`` factor is undone).
    variance : ndarray, shape (P, h, N)
        :math:`\sigma^2_{T+k}` per path.
    engine : str
        ``"fast"``, ``"arch"`` or ``"mixed"``: what was used.

    Raises
    ------
    SpecificationError
        ``engine="fast"`` for a model that is not GARCH(1,1), or shapes disagree.
    """
    z = np.asarray(std_resid, dtype=np.float64)
    assets = list(results)
    if z.ndim != 3 or z.shape[2] != len(assets):
        raise SpecificationError(
            f"std_resid must have shape (paths, horizon, {len(assets)}), got {z.shape}"
        )
    if engine not in ("auto", "fast", "arch"):
        raise SpecificationError(f"engine must be 'auto', 'fast' or 'arch', got {engine!r}")
    fast = [_is_fast_garch(results[a]) and engine != "arch" for a in assets]
    if engine == "fast" and not all(fast):
        bad = assets[fast.index(False)]
        raise SpecificationError(
            f"asset {bad!r}: engine='fast' supports constant/zero-mean GARCH(1,1) only; "
            "use engine='arch' or 'auto'"
        )
    used = set()
    idx = [i for i, f in enumerate(fast) if f]
    if len(idx) == len(assets):
        coefs = np.array([_garch11_start(results[a]) for a in assets]).T
        returns, variance = _garch11_paths(coefs, z)
        used.add("fast")
    else:
        returns = np.empty_like(z)
        variance = np.empty_like(z)
    if idx and len(idx) < len(assets):
        coefs = np.array([_garch11_start(results[assets[i]]) for i in idx]).T
        returns[:, :, idx], variance[:, :, idx] = _garch11_paths(coefs, z[:, :, idx])
        used.add("fast")
    for i, asset in enumerate(assets):
        if fast[i]:
            continue
        ret, var = _arch_paths(results[asset], np.ascontiguousarray(z[:, :, i]))
        returns[:, :, i], variance[:, :, i] = ret, var
        used.add("arch")
    scale = np.array([float(getattr(results[a], "scale", 1.0) or 1.0) for a in assets])
    if np.any(scale != 1.0):
        returns /= scale
        variance /= scale**2
    label = used.pop() if len(used) == 1 else "mixed"
    return returns, variance, label


def _freeze(x: np.ndarray | None) -> np.ndarray | None:
    if x is not None:
        x.flags.writeable = False
    return x


@dataclass(frozen=True)
class DCCSimulation:
    r"""Simulated paths of a DCC-family model (immutable arrays).

    Attributes
    ----------
    returns : ndarray, shape (paths, horizon, n_assets)
        Simulated one-day returns :math:`r_{T+1..T+h}` (units of the input data).
    variance : ndarray, shape (paths, horizon, n_assets)
        Conditional variances :math:`\sigma^2_{T+k}` along each path.
    std_resid : ndarray, shape (paths, horizon, n_assets)
        Standardized residuals :math:`z_{T+k}`.
    correlation : ndarray, shape (paths, horizon, n_assets, n_assets) or None
        :math:`R_{T+k}` along each path (``store_correlation=True`` only).
    assets : tuple of str
        Asset labels.
    kind, method, distribution : str
        Model kind, ``"parametric"`` / ``"fhs"``, and ``"normal"`` / ``"t"``
        (``"empirical"`` for FHS).
    seed : int or None
        The integer seed given (``None`` when a Generator or no seed was passed).
    origin : object
        Last in-sample date.
    draw_index : ndarray of int, shape (paths, horizon) or None
        FHS only: row of the in-sample residual history drawn for each path and day.
    univariate_engine : str
        ``"fast"`` (compiled GARCH(1,1)), ``"arch"`` or ``"mixed"``.
    """

    returns: np.ndarray
    variance: np.ndarray
    std_resid: np.ndarray
    correlation: np.ndarray | None
    assets: tuple[str, ...]
    kind: str
    method: str
    distribution: str
    seed: int | None
    origin: Any = None
    draw_index: np.ndarray | None = None
    univariate_engine: str = "fast"

    def __post_init__(self) -> None:
        for name in ("returns", "variance", "std_resid", "correlation", "draw_index"):
            _freeze(getattr(self, name))

    def __repr__(self) -> str:
        return (
            f"DCCSimulation(kind={self.kind!r}, method={self.method!r}, "
            f"distribution={self.distribution!r}, paths={self.paths:,}, horizon={self.horizon}, "
            f"assets={self.n_assets}, origin={self.origin}, seed={self.seed})"
        )

    @property
    def paths(self) -> int:
        """Number of simulated paths."""
        return int(self.returns.shape[0])

    @property
    def horizon(self) -> int:
        """Number of simulated days."""
        return int(self.returns.shape[1])

    @property
    def n_assets(self) -> int:
        """Number of assets."""
        return int(self.returns.shape[2])

    @property
    def covariance(self) -> np.ndarray:
        """Conditional covariance paths :math:`H = D R D`, shape (paths, horizon, N, N).

        Raises
        ------
        SpecificationError
            The correlation paths were not stored.
        """
        if self.correlation is None:
            raise SpecificationError(
                "correlation paths were not stored; simulate with store_correlation=True"
            )
        s = np.sqrt(self.variance)
        h = self.correlation * s[..., :, None]
        h *= s[..., None, :]
        return h

    @property
    def cumulative_returns(self) -> pd.DataFrame:
        """Return the h-day returns per path (sum of the daily log returns), ``paths x asset``."""
        return pd.DataFrame(
            self.returns.sum(axis=1),
            columns=pd.Index(self.assets, name="asset"),
            index=pd.RangeIndex(self.paths, name="path"),
        )

    def returns_at(self, step: int) -> pd.DataFrame:
        """Return the simulated returns of day ``step`` (1-based), ``paths x asset``.

        Parameters
        ----------
        step : int
            Day in ``1 .. horizon``.

        Returns
        -------
        pandas.DataFrame
        """
        if not 1 <= step <= self.horizon:
            raise SpecificationError(f"step must be in 1..{self.horizon}, got {step}")
        return pd.DataFrame(
            self.returns[:, step - 1, :],
            columns=pd.Index(self.assets, name="asset"),
            index=pd.RangeIndex(self.paths, name="path"),
        )

    def portfolio_returns(self, weights: Mapping[str, float] | Sequence[float]) -> pd.DataFrame:
        """Daily and cumulative returns of a fixed-weight portfolio along every path.

        Parameters
        ----------
        weights : mapping asset -> weight, or sequence in asset order
            Portfolio weights (positions in return units; not normalized).

        Returns
        -------
        pandas.DataFrame
            ``paths x horizon`` of cumulative portfolio returns after 1..h days.
        """
        if isinstance(weights, Mapping):
            unknown = set(weights) - set(self.assets)
            if unknown:
                raise SpecificationError(f"unknown assets in weights: {sorted(unknown)}")
            w = np.array([float(weights.get(a, 0.0)) for a in self.assets])
        else:
            w = np.asarray(weights, dtype=np.float64)
            if w.shape != (self.n_assets,):
                raise SpecificationError(f"weights must have {self.n_assets} entries")
        daily = self.returns @ w
        return pd.DataFrame(
            np.cumsum(daily, axis=1),
            columns=pd.Index(horizon_labels(self.horizon), name="horizon"),
            index=pd.RangeIndex(self.paths, name="path"),
        )

    def correlation_quantiles(
        self, asset_i: str, asset_j: str, levels: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95)
    ) -> pd.DataFrame:
        """Quantiles over paths of one pair's simulated correlation, per horizon (a fan).

        Parameters
        ----------
        asset_i, asset_j : str
            The pair.
        levels : sequence of float
            Quantile levels in (0, 1).

        Returns
        -------
        pandas.DataFrame
            ``horizon x level``.
        """
        if self.correlation is None:
            raise SpecificationError(
                "correlation paths were not stored; simulate with store_correlation=True"
            )
        try:
            i, j = self.assets.index(asset_i), self.assets.index(asset_j)
        except ValueError as exc:
            raise SpecificationError(f"unknown asset in pair ({asset_i!r}, {asset_j!r})") from exc
        q = np.quantile(self.correlation[:, :, i, j], list(levels), axis=0).T
        return pd.DataFrame(
            q,
            index=pd.Index(horizon_labels(self.horizon), name="horizon"),
            columns=pd.Index(list(levels), name="level"),
        )

    def summary(self) -> pd.DataFrame:
        """Per-asset overview of the h-day simulated returns.

        Returns
        -------
        pandas.DataFrame
            ``asset x [mean, std, q01, q99]`` of the cumulative h-day returns.
        """
        cum = self.cumulative_returns
        return pd.DataFrame(
            {
                "mean": cum.mean(),
                "std": cum.std(),
                "q01": cum.quantile(0.01),
                "q99": cum.quantile(0.99),
            }
        )


def simulate_dcc(
    result: Any,
    horizon: int = 1,
    paths: int = 1000,
    method: Method = "parametric",
    seed: Seed = None,
    store_correlation: bool = False,
    univariate_engine: UnivariateEngine = "auto",
) -> DCCSimulation:
    r"""Simulate ``paths`` scenarios of ``horizon`` days from a fitted DCC-family model.

    Parameters
    ----------
    result : DCCResult
        A fitted model (see :func:`research.correlation.forecast.dcc_state`).
    horizon : int
        Days to simulate (>= 1).
    paths : int
        Number of paths (>= 1).
    method : {"parametric", "fhs"}
        ``"parametric"``: Gaussian innovations, or joint Student-t with the fitted ``nu``
        (one chi-square mixing variable per path and day, scaled to unit variance).
        ``"fhs"``: filtered historical simulation, drawing whole in-sample days of
        de-correlated residuals :math:`e_t = L_t^{-1} z_t` with replacement.
    seed : int, numpy.random.Generator or None
        Randomness; the same integer seed reproduces the same paths.
    store_correlation : bool
        Keep the correlation paths (memory: ``paths * horizon * N^2 * 8`` bytes).
    univariate_engine : {"auto", "fast", "arch"}
        See :func:`simulate_univariate`.

    Returns
    -------
    DCCSimulation

    Raises
    ------
    SpecificationError
        Bad horizon, paths or method.
    NotPositiveDefiniteError
        A simulated correlation matrix is not positive definite.

    Notes
    -----
    The first simulated day uses the exact :math:`R_{T+1}` and :math:`\sigma_{T+1}`, so its
    returns have covariance :math:`H_{T+1}` exactly (up to Monte Carlo error). Later days feed
    back through both the correlation and the univariate dynamics.

    References
    ----------
    Barone-Adesi, G., Giannopoulos, K. and Vosper, L. (1999). VaR without correlations for
    portfolios of derivative securities. Journal of Futures Markets 19(5), 583-602.

    Examples
    --------
    >>> sim = simulate_dcc(res, horizon=10, paths=10_000, method="fhs", seed=0)  # doctest: +SKIP
    >>> sim.cumulative_returns.quantile(0.01)  # doctest: +SKIP
    """
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        raise SpecificationError(f"horizon must be a positive integer, got {horizon!r}")
    if not isinstance(paths, int | np.integer) or paths < 1:
        raise SpecificationError(f"paths must be a positive integer, got {paths!r}")
    if method not in ("parametric", "fhs"):
        raise SpecificationError(f"method must be 'parametric' or 'fhs', got {method!r}")
    state = dcc_state(result)
    rng = as_generator(seed)
    n = len(state.assets)
    draw_index = None
    if method == "parametric":
        e = parametric_innovations(rng, paths, horizon, n, state.nu)
        distribution = "normal" if state.nu is None else "t"
    else:
        history = decorrelate_residuals(state)
        draw_index = rng.integers(0, history.shape[0], size=(paths, horizon))
        e = history[draw_index]
        distribution = "empirical"
    z, r = simulate_correlation_paths(
        state.kind, state.params, state.qbar, state.nbar, state.q_next, e, store_correlation
    )
    uni = {asset: state.univariate[asset] for asset in state.assets}
    returns, variance, engine = simulate_univariate(uni, z, univariate_engine)
    origin = state.std_resid.index[-1] if len(state.std_resid.index) else None
    return DCCSimulation(
        returns=returns,
        variance=variance,
        std_resid=z,
        correlation=r,
        assets=state.assets,
        kind=state.kind,
        method=method,
        distribution=distribution,
        seed=int(seed) if isinstance(seed, int | np.integer) else None,
        origin=origin,
        draw_index=draw_index,
        univariate_engine=engine,
    )
