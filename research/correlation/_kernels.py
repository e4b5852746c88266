r"""Compiled kernels of the DCC family: quasi-correlation recursions and likelihoods.

Every kernel takes C-contiguous float64 arrays. The quasi-correlation recursion is

.. math::

    Q_{t+1} = (1 - a - b)\bar Q - g \bar N + a\, e_t e_t' + g\, n_t n_t' + b\, Q_t,
    \qquad Q_1 = \bar Q,

with :math:`e_t = z_t` (DCC, ADCC), :math:`e_t = \mathrm{diag}(Q_t)^{1/2} z_t` (cDCC),
:math:`n_t = z_t \odot 1[z_t < 0]` and :math:`g = 0` except for ADCC. CCC keeps
:math:`Q_t = \bar Q`. The conditional correlation is
:math:`R_t = \mathrm{diag}(Q_t)^{-1/2} Q_t \mathrm{diag}(Q_t)^{-1/2}`.

The per-observation correlation log-likelihood is the joint log density of the
standardized residuals minus their independent standard-normal log density, so that
*total = univariate + correlation* holds exactly for Gaussian univariate models:

.. math::

    \ell_t = -\tfrac12\left(\log|R_t| + z_t' R_t^{-1} z_t - z_t' z_t\right)
    \quad\text{(normal)},

and for the multivariate Student-t with ``nu`` degrees of freedom (scaled to
covariance :math:`R_t`)

.. math::

    \ell_t = c(\nu) - \tfrac12\log|R_t|
      - \tfrac{\nu+N}{2}\log\left(1 + \tfrac{z_t'R_t^{-1}z_t}{\nu-2}\right)
      + \tfrac12\left(N\log 2\pi + z_t'z_t\right).

Scores are analytic for every kind: the derivatives :math:`\partial Q_t / \partial\theta`
run alongside the recursion, started at :math:`\partial \bar Q / \partial\theta` (zero except
for cDCC, whose corrected target depends on ``a`` and ``b``; see
:func:`cdcc_target_gradient`).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from research._threads import run_row_blocks
from research._typing import Float64Array1D, Float64Array2D, Float64Array3D

__all__ = [
    "KIND_CODES",
    "DIST_CODES",
    "PARAM_INDEX",
    "dcc_q_path",
    "dcc_q_last",
    "dcc_correlation_path",
    "normalize_q",
    "cdcc_target",
    "cdcc_target_gradient",
    "correlation_loglik",
    "composite_loglik",
    "t_constants",
    "odd_quintic_hermite",
]

#: Integer code of each model kind, as used by every kernel.
KIND_CODES: dict[str, int] = {"dcc": 0, "cdcc": 1, "adcc": 2, "ccc": 3}
#: Integer code of each innovation distribution.
DIST_CODES: dict[str, int] = {"normal": 0, "t": 1}
#: Column of each parameter in the score arrays returned by the likelihood kernels.
PARAM_INDEX: dict[str, int] = {"a": 0, "b": 1, "g": 2, "nu": 3}

#: Composite likelihoods with fewer pair-observations than this run on one thread (thread
#: start-up costs more than it saves on small problems).
PARALLEL_MIN_WORK = 2_000_000
#: Larger composite likelihoods split their pairs into this many chunks, which threads take
#: one at a time (a thread on a busy core takes fewer). The count is fixed, not per core: the
#: chunk sums are added in chunk order, so the result is the same bits on any machine, backend
#: or thread count.
COMPOSITE_CHUNKS = 32

_CDCC = 1
_ADCC = 2
_CCC = 3
_LOG_2PI = math.log(2.0 * math.pi)
#: A running product of determinant factors is folded into its log below this value.
_DET_RENORMALIZE = 1e-250


@nb.njit(cache=True, nogil=True)
def _update_q(q, qnew, zt, a, b, g, qbar, nbar, kind):
    """Write Q_{t+1} into ``qnew`` from Q_t = ``q`` and z_t."""
    n = zt.shape[0]
    if kind == _CCC:
        for i in range(n):
            for j in range(n):
                qnew[i, j] = qbar[i, j]
        return
    c = 1.0 - a - b
    for i in range(n):
        ei = zt[i]
        ni = zt[i] if zt[i] < 0.0 else 0.0
        if kind == _CDCC:
            ei = zt[i] * math.sqrt(q[i, i])
        for j in range(i + 1):
            ej = zt[j]
            if kind == _CDCC:
                ej = zt[j] * math.sqrt(q[j, j])
            v = c * qbar[i, j] + a * ei * ej + b * q[i, j]
            if kind == _ADCC:
                nj = zt[j] if zt[j] < 0.0 else 0.0
                v += g * (ni * nj - nbar[i, j])
            qnew[i, j] = v
            qnew[j, i] = v


@nb.njit(cache=True, nogil=True)
def dcc_q_path(
    z: Float64Array2D,
    a: float,
    b: float,
    g: float,
    qbar: Float64Array2D,
    nbar: Float64Array2D,
    kind_code: int,
) -> Float64Array3D:
    """Quasi-correlation matrices Q_1 .. Q_{T+1} of a DCC-family model.

    Parameters
    ----------
    z : ndarray, shape (T, N)
        Standardized residuals (C-contiguous float64).
    a, b, g : float
        News, persistence and asymmetry parameters (``g`` is used by ADCC only).
    qbar : ndarray, shape (N, N)
        Intercept target (for cDCC the Aielli-corrected target, see :func:`cdcc_target`).
    nbar : ndarray, shape (N, N)
        Target of the negative parts (ADCC; pass zeros otherwise).
    kind_code : int
        One of :data:`KIND_CODES`.

    Returns
    -------
    ndarray, shape (T + 1, N, N)
        ``Q[0]`` is Q_1 = ``qbar``; ``Q[T]`` is Q_{T+1}, the one-step-ahead matrix
        computed from data through T.
    """
    t_obs, n = z.shape
    out = np.empty((t_obs + 1, n, n))
    out[0] = qbar
    for t in range(t_obs):
        _update_q(out[t], out[t + 1], z[t], a, b, g, qbar, nbar, kind_code)
    return out


@nb.njit(cache=True, nogil=True)
def dcc_q_last(
    z: Float64Array2D,
    a: float,
    b: float,
    g: float,
    qbar: Float64Array2D,
    nbar: Float64Array2D,
    kind_code: int,
) -> Float64Array2D:
    """Q_{T+1} of :func:`dcc_q_path` without storing the path (O(N^2) memory).

    Parameters
    ----------
    z : ndarray, shape (T, N)
        Standardized residuals.
    a, b, g : float
        Dynamics parameters.
    qbar, nbar : ndarray, shape (N, N)
        Targets.
    kind_code : int
        One of :data:`KIND_CODES`.

    Returns
    -------
    ndarray, shape (N, N)
    """
    q = qbar.copy()
    qn = np.empty_like(q)
    for t in range(z.shape[0]):
        _update_q(q, qn, z[t], a, b, g, qbar, nbar, kind_code)
        q, qn = qn, q
    return q


@nb.njit(cache=True, nogil=True)
def dcc_correlation_path(
    z: Float64Array2D,
    a: float,
    b: float,
    g: float,
    qbar: Float64Array2D,
    nbar: Float64Array2D,
    kind_code: int,
    sigma: Float64Array2D,
    q: Float64Array2D,
    out: np.ndarray,
) -> None:
    r"""Write :math:`R_t` (or :math:`H_t = D_t R_t D_t`) for every row of ``z`` into ``out``.

    The Q-to-R normalisation of the package: :math:`R_{t,ij} = Q_{t,ij} / (\sqrt{Q_{t,ii}}
    \sqrt{Q_{t,jj}})`, with :math:`Q_t` from the recursion of :func:`dcc_q_path` carried in
    ``q`` (O(N^2) memory: the Q path is never stored, so the output is the only T x N x N
    array). Rows can be processed in consecutive blocks by passing the same ``q``.

    Parameters
    ----------
    z : ndarray, shape (T, N)
        Standardized residuals of the rows to write.
    a, b, g : float
        Dynamics parameters.
    qbar, nbar : ndarray, shape (N, N)
        Targets (see :func:`dcc_q_path`).
    kind_code : int
        One of :data:`KIND_CODES`.
    sigma : ndarray, shape (T, N) or (0, N)
        Conditional volatilities: with T rows the covariances
        :math:`H_{t,ij} = R_{t,ij} \sigma_{t,i} \sigma_{t,j}` are written; with none, the
        correlations.
    q : ndarray, shape (N, N)
        :math:`Q` of the first row on entry (``qbar`` at the start of the sample); on exit,
        :math:`Q` of the row after the last (:math:`Q_{T+1}` after the whole sample).
    out : ndarray, shape (T, N, N), float64 or float32
        Written in place (values computed in float64, rounded once when stored as float32).
    """
    t_obs, n = z.shape
    scaled = sigma.shape[0] > 0
    unscaled = np.empty(0)
    cur = q.copy()
    nxt = np.empty_like(cur)
    d = np.empty(n)
    for t in range(t_obs):
        if scaled:
            _normalize(cur, d, sigma[t], out[t])
        else:
            _normalize(cur, d, unscaled, out[t])
        _update_q(cur, nxt, z[t], a, b, g, qbar, nbar, kind_code)
        cur, nxt = nxt, cur
    q[:, :] = cur


@nb.njit(cache=True, nogil=True)
def _normalize(q, d, scale, out):
    r"""Write :math:`Q_{ij} / (\sqrt{Q_{ii}} \sqrt{Q_{jj}})` of one matrix into ``out``.

    The package's one Q-to-R normalisation. ``d`` (length N) receives the square roots of
    the diagonal; with a non-empty ``scale`` (length N) each entry is then multiplied by
    ``scale[i] * scale[j]`` (covariances :math:`H = D R D`). Values are computed in float64
    and rounded once when ``out`` is float32. The diagonal is :math:`Q_{ii} / \sqrt{Q_{ii}}^2`,
    one within a rounding error (not forced to exactly one, so a stored path and a forecast
    of the same :math:`Q` carry the same bits).
    """
    n = q.shape[0]
    for i in range(n):
        d[i] = math.sqrt(q[i, i])
    scaled = scale.shape[0] > 0
    for i in range(n):
        for j in range(n):
            v = q[i, j] / (d[i] * d[j])
            if scaled:
                v = v * scale[i] * scale[j]
            out[i, j] = v


@nb.njit(cache=True, nogil=True)
def _normalize_stack(q, out):
    d = np.empty(q.shape[1])
    unscaled = np.empty(0)
    for k in range(q.shape[0]):
        _normalize(q[k], d, unscaled, out[k])


def normalize_q(q: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    r"""Correlation form :math:`R = \mathrm{diag}(Q)^{-1/2} Q \mathrm{diag}(Q)^{-1/2}`.

    The Q-to-R normalisation of :func:`dcc_correlation_path`, for one matrix or a stack.

    Parameters
    ----------
    q : ndarray, shape (N, N) or (..., N, N)
        Matrices with a positive diagonal (not checked here: callers validate).
    out : ndarray, optional
        C-contiguous float64 or float32 array of the same shape, written in place.

    Returns
    -------
    ndarray
        ``out`` (a new float64 array when not given).

    Examples
    --------
    >>> normalize_q(np.array([[4.0, 1.0], [1.0, 1.0]]))
    array([[1. , 0.5],
           [0.5, 1. ]])
    """
    q = np.ascontiguousarray(q, dtype=np.float64)
    if out is None:
        out = np.empty_like(q)
    stack = q.reshape((-1, *q.shape[-2:]))
    _normalize_stack(stack, out.reshape(stack.shape))
    return out


@nb.njit(cache=True, nogil=True)
def _cdcc_rescaled(z, a, b, want_grad):
    r"""z*_it = z_it sqrt(q_ii,t) from the unit-target diagonal recursions, and dz*/d(a, b).

    With :math:`q_{t+1} = (1-a-b) + (a z_t^2 + b) q_t`, the derivatives follow
    :math:`\partial_a q_{t+1} = -1 + z_t^2 q_t + (a z_t^2 + b)\,\partial_a q_t` and
    :math:`\partial_b q_{t+1} = -1 + q_t + (a z_t^2 + b)\,\partial_b q_t` from
    :math:`\partial q_1 = 0`; ``dzs`` is empty unless ``want_grad``.
    """
    t_obs, n = z.shape
    zs = np.empty((t_obs, n))
    dzs = np.zeros((2, t_obs if want_grad else 0, n))
    for i in range(n):
        q = 1.0
        qa = 0.0
        qb = 0.0
        for t in range(t_obs):
            root = math.sqrt(q)
            zs[t, i] = z[t, i] * root
            z2 = z[t, i] * z[t, i]
            if want_grad:
                half = 0.5 * z[t, i] / root
                dzs[0, t, i] = half * qa
                dzs[1, t, i] = half * qb
                growth = a * z2 + b
                qa = -1.0 + z2 * q + growth * qa
                qb = -1.0 + q + growth * qb
            q = (1.0 - a - b) + a * z2 * q + b * q
    return zs, dzs


def cdcc_target(z: Float64Array2D, a: float, b: float) -> Float64Array2D:
    r"""Aielli (2013) corrected target of the cDCC model.

    The diagonal recursions :math:`q_{ii,t+1} = (1-a-b) + a z_{it}^2 q_{ii,t} + b q_{ii,t}`
    (unit target, :math:`q_{ii,1} = 1`) rescale the residuals to
    :math:`z^*_{it} = z_{it}\sqrt{q_{ii,t}}`; the target is the sample second-moment matrix
    of :math:`z^*` normalized to unit diagonal.

    Parameters
    ----------
    z : ndarray, shape (T, N)
        Standardized residuals.
    a, b : float
        cDCC parameters.

    Returns
    -------
    ndarray, shape (N, N)
        Correlation matrix used as cDCC intercept target.
    """
    zs, _ = _cdcc_rescaled(z, a, b, False)
    return _unit_diagonal(zs.T @ zs)[0]


def cdcc_target_gradient(
    z: Float64Array2D, a: float, b: float
) -> tuple[Float64Array2D, Float64Array3D]:
    r"""Return the cDCC target :math:`S` (:func:`cdcc_target`) and its derivatives in a and b.

    With :math:`M = \sum_t z^*_t z^{*\prime}_t` and :math:`S_{ij} = M_{ij}/\sqrt{M_{ii}M_{jj}}`,
    :math:`\partial S_{ij} = \partial M_{ij}/\sqrt{M_{ii}M_{jj}}
    - \tfrac12 S_{ij}(\partial M_{ii}/M_{ii} + \partial M_{jj}/M_{jj})`, where
    :math:`\partial M = \sum_t (\partial z^*_t z^{*\prime}_t + z^*_t \partial z^{*\prime}_t)`.

    Parameters
    ----------
    z : ndarray, shape (T, N)
        Standardized residuals.
    a, b : float
        cDCC parameters.

    Returns
    -------
    target : ndarray, shape (N, N)
    gradient : ndarray, shape (3, N, N)
        Derivatives in the order of :data:`PARAM_INDEX` (``a``, ``b``, then zeros for ``g``).
    """
    zs, dzs = _cdcc_rescaled(z, a, b, True)
    target, scale = _unit_diagonal(zs.T @ zs)
    gradient = np.zeros((3, *target.shape))
    for k in range(2):
        cross = dzs[k].T @ zs
        dm = cross + cross.T
        ratio = np.diag(dm) / scale**2
        gradient[k] = dm / np.outer(scale, scale) - 0.5 * target * (ratio[:, None] + ratio[None, :])
    return target, gradient


def _unit_diagonal(m: Float64Array2D) -> tuple[Float64Array2D, Float64Array1D]:
    """``m`` scaled to unit diagonal, and the square roots of its diagonal."""
    return normalize_q(m), np.sqrt(np.diag(m))


@nb.njit(cache=True, nogil=True)
def _cholesky(q, low, dinv):
    """Lower Cholesky factor of ``q`` into ``low`` and 1 / its diagonal into ``dinv``.

    Returns False when ``q`` is not positive definite.
    """
    n = q.shape[0]
    for j in range(n):
        s = q[j, j]
        for k in range(j):
            s -= low[j, k] * low[j, k]
        if not s > 0.0:
            return False
        d = math.sqrt(s)
        r = 1.0 / d
        low[j, j] = d
        dinv[j] = r
        for i in range(j + 1, n):
            s = q[i, j]
            for k in range(j):
                s -= low[i, k] * low[j, k]
            low[i, j] = s * r
        for i in range(j):
            low[i, j] = 0.0
    return True


@nb.njit(cache=True, nogil=True)
def _cdcc_dq_update(q, dq, dqn, zt, a, b, qbar, dqbar):
    r"""Write dQ_{t+1}/d(a, b) of cDCC into ``dqn`` (lower triangle) from Q_t and dQ_t.

    :math:`e_{it} e_{jt} = z_{it} z_{jt}\sqrt{q_{ii,t} q_{jj,t}}` moves with
    :math:`\partial q_{ii,t}` and :math:`\partial q_{jj,t}`, and the target with (a, b).
    """
    n = zt.shape[0]
    c = 1.0 - a - b
    for i in range(n):
        for j in range(i + 1):
            root = math.sqrt(q[i, i] * q[j, j])
            e = zt[i] * zt[j] * root
            half = 0.5 * zt[i] * zt[j] / root
            for p in range(2):
                de = half * (q[j, j] * dq[p, i, i] + q[i, i] * dq[p, j, j])
                v = a * de + c * dqbar[p, i, j] + b * dq[p, i, j] - qbar[i, j]
                dqn[p, i, j] = v + (e if p == 0 else q[i, j])


@nb.njit(cache=True, nogil=True)
def _loglik_core(
    z, a, b, g, qbar, nbar, dqbar, kind, dist, nu, c_nu, dc_nu, want_grad, ll_out, score_out
):
    """Add per-observation log-likelihoods (and scores) of one (sub-)model to the outputs.

    ``dqbar`` (shape (3, N, N)) is the derivative of ``qbar`` in (a, b, g). Returns False if
    some Q_t is not positive definite.
    """
    t_obs, n = z.shape
    q = qbar.copy()
    qn = np.empty((n, n))
    low = np.empty((n, n))
    vinv = np.empty((n, n))
    qinv = np.empty((n, n))
    dinv = np.empty(n)
    u = np.empty(n)
    y = np.empty(n)
    w = np.empty(n)
    dq = dqbar.copy()  # dQ_1 / dtheta
    dqn = np.zeros((3, n, n))
    n_par = 3 if kind == _ADCC else 2
    sp = np.zeros(3)
    for t in range(t_obs):
        zt = z[t]
        if not _cholesky(q, low, dinv):
            return False
        # log|R_t| = sum_i log(L_ii^2 / q_ii): one log per block of factors, each factor
        # in (0, 1], the product renormalized before it can underflow
        logdet_r = 0.0
        det_block = 1.0
        zz = 0.0
        for i in range(n):
            det_block *= low[i, i] * low[i, i] / q[i, i]
            if det_block < _DET_RENORMALIZE:
                logdet_r += math.log(det_block)
                det_block = 1.0
            u[i] = zt[i] * math.sqrt(q[i, i])
            zz += zt[i] * zt[i]
        logdet_r += math.log(det_block)
        # forward solve L y = u ; m = y'y = u' Q^{-1} u
        m = 0.0
        for i in range(n):
            s = u[i]
            for k in range(i):
                s -= low[i, k] * y[k]
            y[i] = s * dinv[i]
            m += y[i] * y[i]
        if dist == 0:
            ll_out[t] += -0.5 * (logdet_r + m - zz)
        else:
            ll_out[t] += (
                c_nu
                - 0.5 * logdet_r
                - 0.5 * (nu + n) * math.log1p(m / (nu - 2.0))
                + 0.5 * (n * _LOG_2PI + zz)
            )
            if want_grad:
                score_out[t, 3] += (
                    dc_nu
                    - 0.5 * math.log1p(m / (nu - 2.0))
                    + 0.5 * (nu + n) * m / ((nu - 2.0) * (nu - 2.0 + m))
                )
        if want_grad and kind != _CCC:
            # back solve L' w = y  ->  w = Q^{-1} u
            for i in range(n - 1, -1, -1):
                s = y[i]
                for k in range(i + 1, n):
                    s -= low[k, i] * w[k]
                w[i] = s * dinv[i]
            # Q^{-1} = L^{-T} L^{-1}, with V = L^{-T} (upper triangular) stored by rows
            # so that both triangular loops run over contiguous memory
            for i in range(n):
                for j in range(i):
                    s = 0.0
                    for k in range(j, i):
                        s -= low[i, k] * vinv[j, k]
                    vinv[j, i] = s * dinv[i]
                vinv[i, i] = dinv[i]
            for i in range(n):
                for j in range(i + 1):
                    s = 0.0
                    for k in range(i, n):
                        s += vinv[i, k] * vinv[j, k]
                    qinv[i, j] = s
            if dist == 0:
                f_m = 0.5
            else:
                f_m = 0.5 * (nu + n) / (nu - 2.0 + m)
            # score_p = sum_ij M_ij dQ_p,ij with M = -Q^{-1}/2 + f_m w w' + diagonal terms
            for i in range(n):
                for j in range(i):
                    mij = 2.0 * (f_m * w[i] * w[j] - 0.5 * qinv[i, j])
                    for p in range(n_par):
                        sp[p] += mij * dq[p, i, j]
                mii = f_m * w[i] * w[i] - 0.5 * qinv[i, i] + (0.5 - f_m * w[i] * u[i]) / q[i, i]
                for p in range(n_par):
                    sp[p] += mii * dq[p, i, i]
            for p in range(n_par):
                score_out[t, p] += sp[p]
                sp[p] = 0.0
        _update_q(q, qn, zt, a, b, g, qbar, nbar, kind)
        if want_grad and kind == _CDCC:
            _cdcc_dq_update(q, dq, dqn, zt, a, b, qbar, dqbar)
            dq, dqn = dqn, dq
        elif want_grad and kind != _CCC:
            for i in range(n):
                ni = zt[i] if zt[i] < 0.0 else 0.0
                for j in range(i + 1):
                    dqn[0, i, j] = zt[i] * zt[j] - qbar[i, j] + b * dq[0, i, j]
                    dqn[1, i, j] = q[i, j] - qbar[i, j] + b * dq[1, i, j]
                    if n_par == 3:
                        nj = zt[j] if zt[j] < 0.0 else 0.0
                        dqn[2, i, j] = ni * nj - nbar[i, j] + b * dq[2, i, j]
            dq, dqn = dqn, dq
        q, qn = qn, q
    return True


def correlation_loglik(
    z: Float64Array2D,
    a: float,
    b: float,
    g: float,
    qbar: Float64Array2D,
    nbar: Float64Array2D,
    kind_code: int,
    dist_code: int,
    nu: float,
    c_nu: float,
    dc_nu: float,
    want_grad: bool,
    dqbar: Float64Array3D | None = None,
) -> tuple[Float64Array1D, Float64Array2D, bool]:
    r"""Per-observation correlation log-likelihood and scores of the full model.

    Parameters
    ----------
    z : ndarray, shape (T, N)
        Standardized residuals.
    a, b, g : float
        Dynamics parameters.
    qbar, nbar : ndarray, shape (N, N)
        Targets (see :func:`dcc_q_path`).
    kind_code, dist_code : int
        Entries of :data:`KIND_CODES` and :data:`DIST_CODES`.
    nu : float
        Student-t degrees of freedom (ignored for the normal).
    c_nu, dc_nu : float
        Student-t normalizing constant :math:`c(\nu)` for dimension N and its derivative
        in ``nu`` (see :func:`t_constants`).
    want_grad : bool
        Compute analytic scores.
    dqbar : ndarray, shape (3, N, N), optional
        Derivatives of ``qbar`` in (a, b, g), used by cDCC (:func:`cdcc_target_gradient`);
        zeros when omitted (a target that does not depend on the parameters).

    Returns
    -------
    ll : ndarray, shape (T,)
        Per-observation correlation log-likelihood.
    scores : ndarray, shape (T, 4)
        Scores in the order of :data:`PARAM_INDEX` (zeros where not computed).
    ok : bool
        False when a Q_t was not positive definite (``ll`` is then incomplete).
    """
    n = z.shape[1]
    dq0 = np.zeros((3, n, n)) if dqbar is None else dqbar
    return _full_loglik(
        z, a, b, g, qbar, nbar, dq0, kind_code, dist_code, nu, c_nu, dc_nu, want_grad
    )


@nb.njit(cache=True, nogil=True)
def _full_loglik(z, a, b, g, qbar, nbar, dqbar, kind_code, dist_code, nu, c_nu, dc_nu, want_grad):
    """Allocate the outputs and run :func:`_loglik_core` on them.

    Compiled together with the core, the outputs are known not to alias the inputs, which
    keeps the score loops about 15% faster than passing arrays allocated in Python.
    """
    t_obs = z.shape[0]
    ll = np.zeros(t_obs)
    sc = np.zeros((t_obs, 4))
    ok = _loglik_core(
        z, a, b, g, qbar, nbar, dqbar, kind_code, dist_code, nu, c_nu, dc_nu, want_grad, ll, sc
    )
    return ll, sc, ok


@nb.njit(cache=True, nogil=True)
def _diagonal_paths(zt, a, b, g, qbar, nbar, dqbar, kind, want_grad):
    """Diagonal q_ii,t (shape (N, T)) of every asset, which do not depend on other assets."""
    n, t_obs = zt.shape
    qd = np.empty((n, t_obs))
    dqd = np.zeros((3, n, t_obs))
    c = 1.0 - a - b
    for i in range(n):
        q = qbar[i, i]
        da = dqbar[0, i, i]
        db = dqbar[1, i, i]
        dg = dqbar[2, i, i]
        target_a = c * dqbar[0, i, i]  # the target's share of each step's derivative
        target_b = c * dqbar[1, i, i]
        for t in range(t_obs):
            qd[i, t] = q
            if want_grad:
                dqd[0, i, t] = da
                dqd[1, i, t] = db
                dqd[2, i, t] = dg
            zi = zt[i, t]
            if kind == _CCC:
                continue
            e2 = zi * zi * q if kind == _CDCC else zi * zi
            n2 = zi * zi if zi < 0.0 else 0.0
            qn = (1.0 - a - b) * qbar[i, i] + a * e2 + b * q
            if kind == _ADCC:
                qn += g * (n2 - nbar[i, i])
            if want_grad:
                # cDCC: e2 = z^2 q moves with q; its target's derivative enters through c
                grow = b + a * zi * zi if kind == _CDCC else b
                da = e2 - qbar[i, i] + target_a + grow * da
                db = q - qbar[i, i] + target_b + grow * db
                dg = n2 - nbar[i, i] + b * dg
            q = qn
    return qd, dqd


@nb.njit(cache=True, nogil=True)
def _scaled_diagonals(qd, dqd, grad):
    """sqrt(q_ii,t), its inverse, and the score ratios dq_ii,t / q_ii,t."""
    n, t_obs = qd.shape
    sq = np.empty((n, t_obs))
    isq = np.empty((n, t_obs))
    rat = np.zeros((3, n, t_obs))
    for i in range(n):
        for t in range(t_obs):
            sq[i, t] = math.sqrt(qd[i, t])
            isq[i, t] = 1.0 / sq[i, t]
            if grad:
                for k in range(3):
                    rat[k, i, t] = dqd[k, i, t] / qd[i, t]
    return sq, isq, rat


@nb.njit(cache=True, nogil=True)
def _pair_chunk(
    zt,
    sq,
    isq,
    rat,
    a,
    b,
    g,
    qbar,
    nbar,
    dqbar,
    kind_code,
    dist_code,
    nu,
    c_nu2,
    dc_nu2,
    want_grad,
    pairs,
    start,
    stop,
    ll_row,
    sc_row,
):
    """Add the log-likelihoods (and scores) of pairs ``start:stop`` to one output row."""
    t_obs = zt.shape[1]
    c = 1.0 - a - b
    for p in range(start, stop):
        i = pairs[p, 0]
        j = pairs[p, 1]
        q = qbar[i, j]
        da = dqbar[0, i, j]
        db = dqbar[1, i, j]
        dg = dqbar[2, i, j]
        target_a = c * dqbar[0, i, j]  # the target's share of each step's derivative
        target_b = c * dqbar[1, i, j]
        for t in range(t_obs):
            zi = zt[i, t]
            zj = zt[j, t]
            s = sq[i, t] * sq[j, t]
            inv_s = isq[i, t] * isq[j, t]
            rho = q * inv_s
            one_m = 1.0 - rho * rho
            if not one_m > 0.0:
                return False
            inv_om = 1.0 / one_m
            zz = zi * zi + zj * zj
            m = (zz - 2.0 * rho * zi * zj) * inv_om
            lg = math.log(one_m)
            if dist_code == 0:
                ll_row[t] += -0.5 * (lg + m - zz)
                f_m = 0.5
            else:
                ll_row[t] += (
                    c_nu2
                    - 0.5 * lg
                    - 0.5 * (nu + 2.0) * math.log1p(m / (nu - 2.0))
                    + 0.5 * (2.0 * _LOG_2PI + zz)
                )
                f_m = 0.5 * (nu + 2.0) / (nu - 2.0 + m)
                if want_grad:
                    sc_row[t, 3] += (
                        dc_nu2
                        - 0.5 * math.log1p(m / (nu - 2.0))
                        + 0.5 * (nu + 2.0) * m / ((nu - 2.0) * (nu - 2.0 + m))
                    )
            if want_grad and kind_code != _CCC:
                dl_drho = (rho - f_m * (2.0 * rho * m - 2.0 * zi * zj)) * inv_om
                sc_row[t, 0] += dl_drho * (da * inv_s - 0.5 * rho * (rat[0, i, t] + rat[0, j, t]))
                sc_row[t, 1] += dl_drho * (db * inv_s - 0.5 * rho * (rat[1, i, t] + rat[1, j, t]))
                if kind_code == _ADCC:
                    sc_row[t, 2] += dl_drho * (
                        dg * inv_s - 0.5 * rho * (rat[2, i, t] + rat[2, j, t])
                    )
            if kind_code == _CCC:
                continue
            de_a = 0.0
            de_b = 0.0
            if kind_code == _CDCC:
                e = zi * zj * s
                if (
                    want_grad
                ):  # d sqrt(q_ii q_jj) = sqrt(q_ii q_jj) (dq_ii / q_ii + dq_jj / q_jj) / 2
                    de_a = 0.5 * e * (rat[0, i, t] + rat[0, j, t])
                    de_b = 0.5 * e * (rat[1, i, t] + rat[1, j, t])
            else:
                e = zi * zj
            qn = c * qbar[i, j] + a * e + b * q
            nn = 0.0
            if kind_code == _ADCC:
                nn = (zi if zi < 0.0 else 0.0) * (zj if zj < 0.0 else 0.0)
                qn += g * (nn - nbar[i, j])
            if want_grad:
                da = e - qbar[i, j] + a * de_a + target_a + b * da
                db = q - qbar[i, j] + a * de_b + target_b + b * db
                dg = nn - nbar[i, j] + b * dg
            q = qn
    return True


def composite_loglik(
    z: Float64Array2D,
    a: float,
    b: float,
    g: float,
    qbar: Float64Array2D,
    nbar: Float64Array2D,
    kind_code: int,
    dist_code: int,
    nu: float,
    c_nu2: float,
    dc_nu2: float,
    want_grad: bool,
    pairs: np.ndarray,
    dqbar: Float64Array3D | None = None,
) -> tuple[Float64Array1D, Float64Array2D, bool]:
    """Per-observation composite log-likelihood summed over bivariate pairs.

    Engle, Shephard and Sheppard (2008): each pair (i, j) runs its own 2 x 2 recursion
    with the pair's block of the targets; the pair log-likelihoods are summed. The
    diagonal recursions are shared by all pairs and computed once per asset.

    Parameters
    ----------
    z : ndarray, shape (T, N)
        Standardized residuals.
    a, b, g : float
        Dynamics parameters.
    qbar, nbar : ndarray, shape (N, N)
        Targets of the full model.
    kind_code, dist_code : int
        Entries of :data:`KIND_CODES` and :data:`DIST_CODES`.
    nu : float
        Student-t degrees of freedom.
    c_nu2, dc_nu2 : float
        :func:`t_constants` for dimension 2.
    want_grad : bool
        Compute analytic scores.
    pairs : ndarray of int64, shape (P, 2)
        The asset pairs.
    dqbar : ndarray, shape (3, N, N), optional
        Derivatives of ``qbar`` in (a, b, g) (cDCC); zeros when omitted.

    Returns
    -------
    ll : ndarray, shape (T,)
    scores : ndarray, shape (T, 4)
    ok : bool
        False when a pair correlation left (-1, 1).
    """
    t_obs, n = z.shape
    n_pairs = pairs.shape[0]
    dq0 = np.zeros((3, n, n)) if dqbar is None else dqbar
    zt = np.ascontiguousarray(z.T)
    qd, dqd = _diagonal_paths(zt, a, b, g, qbar, nbar, dq0, kind_code, want_grad)
    sq, isq, rat = _scaled_diagonals(qd, dqd, want_grad)
    parallel = n_pairs * t_obs >= PARALLEL_MIN_WORK
    n_chunks = max(1, min(COMPOSITE_CHUNKS if parallel else 1, n_pairs))
    ll_c = np.zeros((n_chunks, t_obs))
    sc_c = np.zeros((n_chunks, t_obs, 4))
    ok_c = np.ones(n_chunks, dtype=np.bool_)

    def work(start: int, stop: int, _scratch: dict) -> None:
        for c in range(start, stop):
            ok_c[c] = _pair_chunk(
                zt, sq, isq, rat, a, b, g, qbar, nbar, dq0, kind_code, dist_code, nu, c_nu2,
                dc_nu2, want_grad, pairs, c * n_pairs // n_chunks,
                (c + 1) * n_pairs // n_chunks, ll_c[c], sc_c[c],
            )  # fmt: skip

    run_row_blocks(n_chunks, 1, work, parallel=parallel)
    ll = np.zeros(t_obs)
    sc = np.zeros((t_obs, 4))
    for c in range(n_chunks):  # chunk order: the sum does not depend on which thread ran what
        ll += ll_c[c]
        sc += sc_c[c]
    return ll, sc, bool(ok_c.all())


def t_constants(nu: float, n_assets: int) -> tuple[float, float]:
    r"""Return the standardized multivariate-t log normalizing constant and its ``nu`` derivative.

    Parameters
    ----------
    nu : float
        Degrees of freedom (> 2).
    n_assets : int
        Dimension N.

    Returns
    -------
    c : float
        :math:`\log\Gamma((\nu+N)/2) - \log\Gamma(\nu/2) - \tfrac N2 \log(\pi(\nu-2))`.
    dc : float
        :math:`\partial c / \partial \nu`.
    """
    from scipy.special import digamma

    n = n_assets
    c = (
        math.lgamma(0.5 * (nu + n))
        - math.lgamma(0.5 * nu)
        - 0.5 * n * math.log(math.pi * (nu - 2.0))
    )
    dc = (
        0.5 * float(digamma(0.5 * (nu + n))) - 0.5 * float(digamma(0.5 * nu)) - 0.5 * n / (nu - 2.0)
    )
    return c, dc


@nb.njit(cache=True, nogil=True)
def odd_quintic_hermite(x, step, values, slopes, curvatures, out):
    r"""Evaluate an odd function from its values and two derivatives on a grid of ``|x|``.

    On :math:`[k s, (k + 1) s]` the function is the quintic Hermite interpolant of the
    values, first and second derivatives at the two nodes (``s = step``, nodes
    :math:`0, s, \dots, M s`); negative ``x`` take the negated value at ``|x|``. The error is
    :math:`O(s^6)` times the sixth derivative.

    Parameters
    ----------
    x : ndarray, shape (K,)
        Points with :math:`|x| \le M s` (C-contiguous; the caller routes the rest elsewhere).
    step : float
        Grid spacing ``s``.
    values, slopes, curvatures : ndarray, shape (M + 1,)
        The function and its first and second derivatives at the nodes.
    out : ndarray, shape (K,)
        Receives the interpolated values.
    """
    last = values.shape[0] - 2
    for i in range(x.shape[0]):
        ax = abs(x[i])
        k = min(int(ax / step), last)
        t = ax / step - k
        t2 = t * t
        t3 = t2 * t
        t4 = t3 * t
        t5 = t4 * t
        h5 = 10.0 * t3 - 15.0 * t4 + 6.0 * t5
        h1 = t - 6.0 * t3 + 8.0 * t4 - 3.0 * t5
        h4 = -4.0 * t3 + 7.0 * t4 - 3.0 * t5
        h2 = 0.5 * (t2 - 3.0 * t3 + 3.0 * t4 - t5)
        h3 = 0.5 * (t3 - 2.0 * t4 + t5)
        s2 = step * step
        v = (
            values[k] * (1.0 - h5)
            + values[k + 1] * h5
            + step * (slopes[k] * h1 + slopes[k + 1] * h4)
            + s2 * (curvatures[k] * h2 + curvatures[k + 1] * h3)
        )
        out[i] = -v if x[i] < 0.0 else v
