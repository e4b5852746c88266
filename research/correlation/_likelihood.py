"""The second-stage estimation problem: targets, parameter vector and likelihood calls."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from research._typing import Float64Array1D, Float64Array2D
from research.correlation import _kernels as kern
from research.correlation.covariance import nonlinear_shrinkage
from research.errors import NotPositiveDefiniteError

__all__ = [
    "TARGETS",
    "CorrelationProblem",
    "correlation_target",
    "negative_target",
    "pairs_for",
]

#: Smallest eigenvalue accepted for the correlation target (below it Qbar is singular).
MIN_TARGET_EIGENVALUE = 1e-8
#: Estimators of the correlation target.
TARGETS = ("sample", "nonlinear_shrinkage")


def correlation_target(
    z: Float64Array2D, assets: list[str], target: str = "sample"
) -> Float64Array2D:
    """Correlation target of the standardized residuals.

    Parameters
    ----------
    z : ndarray, shape (T, N)
        Standardized residuals.
    assets : list of str
        Asset names, for the error message.
    target : {"sample", "nonlinear_shrinkage"}
        The sample (mean-centred) correlation matrix, or the correlation matrix of the
        Ledoit-Wolf (2020) nonlinear shrinkage of the (mean-centred) sample covariance
        (:func:`research.correlation.covariance.nonlinear_shrinkage`), for large N.

    Returns
    -------
    ndarray, shape (N, N)

    Raises
    ------
    NotPositiveDefiniteError
        If the target is singular (perfectly collinear assets); names the most
        correlated pair.
    """
    qbar = _target(z, target)
    check_positive_definite(qbar, assets, "the correlation target Qbar")
    return qbar


def _target(z: Float64Array2D, target: str) -> Float64Array2D:
    if target == "nonlinear_shrinkage":
        return kern.normalize_q(nonlinear_shrinkage(z, demean=True))
    zc = z - z.mean(axis=0)
    return kern.normalize_q(zc.T @ zc)


def negative_target(z: Float64Array2D) -> Float64Array2D:
    """Second-moment matrix of the negative parts n_t = z_t * 1[z_t < 0] (ADCC target).

    Parameters
    ----------
    z : ndarray, shape (T, N)
        Standardized residuals.

    Returns
    -------
    ndarray, shape (N, N)
    """
    n = np.minimum(z, 0.0)
    return n.T @ n / z.shape[0]


def check_positive_definite(matrix: Float64Array2D, assets: list[str], what: str) -> None:
    """Raise :class:`NotPositiveDefiniteError` when ``matrix`` is (near) singular.

    Parameters
    ----------
    matrix : ndarray, shape (N, N)
        Symmetric matrix with unit diagonal.
    assets : list of str
        Asset names.
    what : str
        Description used in the message.
    """
    eig = np.linalg.eigvalsh(matrix)
    if not eig[0] > MIN_TARGET_EIGENVALUE:
        off = np.abs(matrix - np.diag(np.diag(matrix)))
        i, j = np.unravel_index(np.argmax(off), off.shape)
        raise NotPositiveDefiniteError(
            f"{what} is singular (smallest eigenvalue {eig[0]:.2e}); assets {assets[i]!r} and "
            f"{assets[j]!r} have correlation {matrix[i, j]:.6f}. Drop duplicated or "
            "collinear assets"
        )


def pairs_for(estimation: str, n_assets: int) -> np.ndarray | None:
    """Asset pairs of a composite likelihood (``None`` for the full likelihood).

    Parameters
    ----------
    estimation : {"full", "composite-adjacent", "composite-all"}
        Estimation method.
    n_assets : int
        Number of assets N.

    Returns
    -------
    ndarray of int64, shape (P, 2) or None
    """
    if estimation == "full":
        return None
    if estimation == "composite-adjacent":
        idx = np.arange(n_assets - 1)
        return np.ascontiguousarray(np.column_stack([idx, idx + 1]), dtype=np.int64)
    i, j = np.triu_indices(n_assets, k=1)
    return np.ascontiguousarray(np.column_stack([i, j]), dtype=np.int64)


@dataclass(frozen=True)
class CorrelationProblem:
    """Standardized residuals plus the model choices: everything the likelihood needs.

    Parameters
    ----------
    z : ndarray, shape (T, N)
        Standardized residuals (C-contiguous float64).
    kind : {"dcc", "cdcc", "adcc", "ccc"}
        Correlation dynamics.
    distribution : {"normal", "t"}
        Innovation distribution.
    qbar : ndarray, shape (N, N)
        Correlation target (for cDCC it is recomputed from the parameters).
    nbar : ndarray, shape (N, N)
        Target of the negative parts (zeros unless ADCC).
    pairs : ndarray or None
        Pairs of a composite likelihood; ``None`` for the full likelihood.
    target : {"sample", "nonlinear_shrinkage"}
        How ``qbar`` was estimated (:func:`correlation_target`).
    """

    z: Float64Array2D
    kind: str
    distribution: str
    qbar: Float64Array2D
    nbar: Float64Array2D
    pairs: np.ndarray | None = None
    target: str = "sample"

    @classmethod
    def build(
        cls,
        z: Float64Array2D,
        kind: str,
        distribution: str,
        estimation: str,
        assets: list[str],
        target: str = "sample",
    ) -> CorrelationProblem:
        """Compute the targets and pairs of a problem.

        Parameters
        ----------
        z : ndarray, shape (T, N)
            Standardized residuals.
        kind, distribution, estimation : str
            Model choices (validated by :class:`research.correlation.DCC`).
        assets : list of str
            Asset names (error messages).
        target : {"sample", "nonlinear_shrinkage"}
            Estimator of the correlation target (:func:`correlation_target`).

        Returns
        -------
        CorrelationProblem
        """
        z = np.ascontiguousarray(z, dtype=np.float64)
        qbar = correlation_target(z, assets, target)
        nbar = negative_target(z) if kind == "adcc" else np.zeros_like(qbar)
        return cls(
            z=z,
            kind=kind,
            distribution=distribution,
            qbar=qbar,
            nbar=nbar,
            pairs=pairs_for(estimation, z.shape[1]),
            target=target,
        )

    @property
    def param_names(self) -> list[str]:
        """Names of the free parameters in optimizer order."""
        names = {"dcc": ["a", "b"], "cdcc": ["a", "b"], "adcc": ["a", "b", "g"], "ccc": []}
        out = list(names[self.kind])
        if self.distribution == "t":
            out.append("nu")
        return out

    @property
    def delta(self) -> float:
        """Largest eigenvalue of Qbar^{-1/2} Nbar Qbar^{-1/2} (ADCC stationarity weight)."""
        if self.kind != "adcc":
            return 0.0
        low = np.linalg.cholesky(self.qbar)
        li = np.linalg.inv(low)
        return float(np.linalg.eigvalsh(li @ self.nbar @ li.T)[-1])

    def unpack(self, theta: Float64Array1D) -> tuple[float, float, float, float]:
        """Split a parameter vector into (a, b, g, nu) with zeros/defaults for absent ones.

        Parameters
        ----------
        theta : ndarray
            Parameters in :attr:`param_names` order.

        Returns
        -------
        tuple of float
        """
        values = dict(zip(self.param_names, np.asarray(theta, dtype=float), strict=True))
        return (
            float(values.get("a", 0.0)),
            float(values.get("b", 0.0)),
            float(values.get("g", 0.0)),
            float(values.get("nu", 0.0)),
        )

    def targets(self, theta: Float64Array1D) -> tuple[Float64Array2D, Float64Array2D]:
        """Intercept targets at ``theta`` (cDCC: the Aielli-corrected target).

        Parameters
        ----------
        theta : ndarray
            Parameters.

        Returns
        -------
        qbar, nbar : ndarray, shape (N, N)
        """
        if self.kind == "cdcc":
            a, b, _, _ = self.unpack(theta)
            return kern.cdcc_target(self.z, a, b), self.nbar
        return self.qbar, self.nbar

    def loglik(
        self, theta: Float64Array1D, want_grad: bool = False, full: bool | None = None
    ) -> tuple[Float64Array1D, Float64Array2D, bool]:
        """Per-observation log-likelihood (and analytic scores) of the estimation objective.

        Parameters
        ----------
        theta : ndarray
            Parameters in :attr:`param_names` order.
        want_grad : bool, default False
            Also return the scores. For cDCC they include the dependence of the corrected
            target on ``a`` and ``b`` (:func:`research.correlation._kernels.cdcc_target_gradient`).
        full : bool, optional
            Force the full (True) likelihood; default: the problem's own objective
            (composite when ``pairs`` is set).

        Returns
        -------
        ll : ndarray, shape (T,)
        scores : ndarray, shape (T, K)
            Scores in :attr:`param_names` order (zeros when ``want_grad`` is False).
        ok : bool
            False when the recursion left the positive-definite region.
        """
        theta = np.asarray(theta, dtype=float)
        a, b, g, nu = self.unpack(theta)
        dqbar = None
        if want_grad and self.kind == "cdcc":
            qbar, dqbar = kern.cdcc_target_gradient(self.z, a, b)
            nbar = self.nbar
        else:
            qbar, nbar = self.targets(theta)
        dist = kern.DIST_CODES[self.distribution]
        kind = kern.KIND_CODES[self.kind]
        use_full = self.pairs is None if full is None else full
        n = 2 if not use_full else self.z.shape[1]
        c_nu, dc_nu = kern.t_constants(nu, n) if self.distribution == "t" else (0.0, 0.0)
        if use_full:
            ll, sc, ok = kern.correlation_loglik(
                self.z, a, b, g, qbar, nbar, kind, dist, nu, c_nu, dc_nu, want_grad, dqbar
            )
        else:
            ll, sc, ok = kern.composite_loglik(
                self.z, a, b, g, qbar, nbar, kind, dist, nu, c_nu, dc_nu, want_grad, self.pairs,
                dqbar,
            )  # fmt: skip
        cols = [kern.PARAM_INDEX[p] for p in self.param_names]
        return ll, np.ascontiguousarray(sc[:, cols]), ok

    def involving(self, i: int) -> tuple[CorrelationProblem, int]:
        """Return the composite sub-problem of the pairs that contain asset ``i``.

        Only the assets of those pairs are kept (targets restricted to them), so the
        sub-problem's log-likelihood is exactly the part of the composite likelihood that
        depends on asset ``i``'s residuals.

        Parameters
        ----------
        i : int
            Asset position in this problem.

        Returns
        -------
        problem : CorrelationProblem
            The sub-problem.
        position : int
            Position of asset ``i`` in the sub-problem.
        """
        if self.pairs is None:
            raise ValueError("involving() applies to composite likelihoods only")
        if self.target != "sample":
            raise ValueError(
                f"involving() needs the sample target: every entry of the {self.target} "
                "target depends on every asset"
            )
        keep = (self.pairs[:, 0] == i) | (self.pairs[:, 1] == i)
        sub_pairs = self.pairs[keep]
        assets = np.unique(sub_pairs)
        block = np.ix_(assets, assets)
        sub = CorrelationProblem(
            z=np.ascontiguousarray(self.z[:, assets]),
            kind=self.kind,
            distribution=self.distribution,
            qbar=np.ascontiguousarray(self.qbar[block]),
            nbar=np.ascontiguousarray(self.nbar[block]),
            pairs=np.ascontiguousarray(np.searchsorted(assets, sub_pairs), dtype=np.int64),
        )
        return sub, int(np.searchsorted(assets, i))

    def with_column(self, i: int, column: Float64Array1D) -> CorrelationProblem:
        """Return the problem with asset ``i``'s residuals replaced (targets updated).

        With the sample target only row and column ``i`` change, so the update costs
        O(T N); a shrinkage target is recomputed whole. No positive-definiteness check is
        made (used for small perturbations).

        Parameters
        ----------
        i : int
            Asset position.
        column : ndarray, shape (T,)
            New standardized residuals of that asset.

        Returns
        -------
        CorrelationProblem
        """
        z = self.z.copy()
        z[:, i] = column
        if self.target == "sample":
            zc = z - z.mean(axis=0)
            cross = zc.T @ zc[:, i]
            d = np.sqrt(np.einsum("ti,ti->i", zc, zc))
            qbar = self.qbar.copy()
            qbar[:, i] = cross / (d * d[i])
            qbar[i, :] = qbar[:, i]
        else:
            qbar = _target(z, self.target)
        nbar = self.nbar
        if self.kind == "adcc":
            neg = np.minimum(z, 0.0)
            nbar = self.nbar.copy()
            nbar[:, i] = neg.T @ neg[:, i] / z.shape[0]
            nbar[i, :] = nbar[:, i]
        return CorrelationProblem(
            z=z,
            kind=self.kind,
            distribution=self.distribution,
            qbar=qbar,
            nbar=nbar,
            pairs=self.pairs,
            target=self.target,
        )
