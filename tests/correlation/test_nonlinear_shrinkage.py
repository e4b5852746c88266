r"""Ledoit-Wolf (2020) analytical nonlinear shrinkage and the DCC target that uses it.

The reference is a plain-Python loop written from the paper's formulas (Ledoit and Wolf 2020,
Annals of Statistics 48(5), section 4 and their ``analytical_shrinkage`` code): with the
sample eigenvalues :math:`\lambda_1 \le \dots \le \lambda_p` (the :math:`m = \min(n, p)`
largest kept), bandwidths :math:`h\lambda_j`, :math:`h = n^{-1/3}`, the Epanechnikov kernel
:math:`K(x) = \frac{3}{4\sqrt 5}(1 - x^2/5)^+` and its Hilbert transform
:math:`\mathcal{H}K(x) = -\frac{3x}{10\pi} + \frac{3}{4\sqrt5\pi}(1 - x^2/5)
\log|\frac{\sqrt5 - x}{\sqrt5 + x}|`, one term at a time

.. math::

    \tilde f(\lambda_i) = \frac1m\sum_j \frac{K((\lambda_i - \lambda_j) / h\lambda_j)}{h\lambda_j},
    \qquad
    \mathcal{H}\tilde f(\lambda_i) = \frac1m\sum_j
        \frac{\mathcal{H}K((\lambda_i - \lambda_j) / h\lambda_j)}{h\lambda_j},

and the shrunk eigenvalues of the paper's equations (for :math:`p \le n` and :math:`p > n`).
A simulation checks the point of the estimator: at :math:`p / n = 0.5` its correlation matrix
is closer to the truth in Frobenius norm than the sample correlation.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.correlation import DCC
from research.correlation._likelihood import CorrelationProblem
from research.correlation.covariance import nonlinear_shrinkage
from research.errors import (
    DataError,
    InsufficientDataError,
    NotPositiveDefiniteError,
    SpecificationError,
)
from research.volatility import UnivariateFits

_spec = importlib.util.spec_from_file_location(
    "_dcc_simulator", Path(__file__).with_name("_dcc_simulator.py")
)
_sim = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_sim)

ROOT5 = math.sqrt(5.0)


def _kernel(x: float) -> float:
    return 3.0 / (4.0 * ROOT5) * max(1.0 - x * x / 5.0, 0.0)


def _hilbert_kernel(x: float) -> float:
    if abs(x) == ROOT5:
        return -3.0 * x / (10.0 * math.pi)
    return -3.0 * x / (10.0 * math.pi) + 3.0 / (4.0 * ROOT5 * math.pi) * (
        1.0 - x * x / 5.0
    ) * math.log(abs((ROOT5 - x) / (ROOT5 + x)))


def _loop_shrinkage(x: np.ndarray, demean: bool) -> np.ndarray:
    n, p = x.shape
    if demean:
        x = x - x.mean(axis=0)
        n -= 1
    sample = np.zeros((p, p))
    for row in x:
        sample += np.outer(row, row)
    lam_all, u = np.linalg.eigh(sample / n)
    m = min(n, p)
    lam = list(lam_all[p - m :])
    h = n ** (-1.0 / 3.0)
    f, hf = [], []
    for li in lam:
        f_sum = hf_sum = 0.0
        for lj in lam:
            width = h * lj
            f_sum += _kernel((li - lj) / width) / width
            hf_sum += _hilbert_kernel((li - lj) / width) / width
        f.append(f_sum / m)
        hf.append(hf_sum / m)
    shrunk = []
    if p <= n:
        c = p / n
        for li, fi, hi in zip(lam, f, hf, strict=True):
            shrunk.append(
                li / ((math.pi * c * li * fi) ** 2 + (1.0 - c - math.pi * c * li * hi) ** 2)
            )
    else:
        mean_inverse = sum(1.0 / li for li in lam) / m
        hf0 = (
            (
                (3.0 / (10.0 * h * h))
                + 3.0
                / (4.0 * ROOT5 * h)
                * (1.0 - 1.0 / (5.0 * h * h))
                * math.log((1.0 + ROOT5 * h) / (1.0 - ROOT5 * h))
            )
            * mean_inverse
            / math.pi
        )
        d0 = 1.0 / (math.pi * (p - n) / n * hf0)
        shrunk = [d0] * (p - n)
        for li, fi, hi in zip(lam, f, hf, strict=True):
            shrunk.append(li / (math.pi**2 * li * li * (fi * fi + hi * hi)))
    out = np.zeros((p, p))
    for k in range(p):
        out += shrunk[k] * np.outer(u[:, k], u[:, k])
    return out


def _as_correlation(s: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.diag(s))
    return s / np.outer(d, d)


@pytest.mark.parametrize(
    ("n", "p", "demean"),
    [(200, 30, False), (200, 30, True), (60, 45, True), (40, 70, True), (30, 50, False)],
)
def test_equals_the_loop_reference(n: int, p: int, demean: bool) -> None:
    rng = np.random.default_rng(n + p)
    x = rng.standard_normal((n, p)) @ np.diag(np.linspace(0.5, 2.0, p)) + 0.1
    ours = nonlinear_shrinkage(x, demean=demean)
    ref = _loop_shrinkage(x, demean)
    assert np.abs(ours - ref).max() <= 1e-10 * np.abs(ref).max()
    assert np.linalg.eigvalsh(ours)[0] > 0


def test_rotation_equivariant() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((150, 20))
    q, _ = np.linalg.qr(rng.standard_normal((20, 20)))
    rotated = nonlinear_shrinkage(x @ q)
    assert np.allclose(rotated, q.T @ nonlinear_shrinkage(x) @ q, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beats_the_sample_correlation_at_half_the_sample_size(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p, n = 100, 200
    eigen = np.geomspace(0.2, 5.0, p)
    rotation, _ = np.linalg.qr(rng.standard_normal((p, p)))
    truth = _as_correlation((rotation * eigen) @ rotation.T)
    x = rng.standard_normal((n, p)) @ np.linalg.cholesky(truth).T
    sample_loss = np.linalg.norm(np.corrcoef(x, rowvar=False) - truth)
    shrunk_loss = np.linalg.norm(_as_correlation(nonlinear_shrinkage(x)) - truth)
    assert shrunk_loss < 0.85 * sample_loss


def test_bad_input() -> None:
    with pytest.raises(DataError, match="finite"):
        nonlinear_shrinkage(np.array([[1.0, np.nan]] * 20))
    with pytest.raises(DataError, match="p >= 2"):
        nonlinear_shrinkage(np.ones((20, 1)))
    with pytest.raises(InsufficientDataError, match="effective observations"):
        nonlinear_shrinkage(np.random.default_rng(0).standard_normal((12, 3)))
    with pytest.raises(InsufficientDataError, match="collinear"):
        nonlinear_shrinkage(np.zeros((30, 3)))


def test_problem_target_and_its_perturbation() -> None:
    z = np.random.default_rng(4).standard_normal((300, 6))
    assets = [f"A{i}" for i in range(6)]
    problem = CorrelationProblem.build(
        z, "dcc", "normal", "composite-all", assets, "nonlinear_shrinkage"
    )
    assert problem.target == "nonlinear_shrinkage"
    assert np.allclose(problem.qbar, _as_correlation(_loop_shrinkage(z, True)), atol=1e-12)
    column = z[:, 2] + 0.01 * np.arange(300) / 300
    moved = problem.with_column(2, column)
    z2 = z.copy()
    z2[:, 2] = column
    fresh = CorrelationProblem.build(
        z2, "dcc", "normal", "composite-all", assets, "nonlinear_shrinkage"
    )
    assert np.allclose(moved.qbar, fresh.qbar, atol=1e-12)
    assert not np.allclose(moved.qbar[0, 1], problem.qbar[0, 1], atol=1e-9)  # all entries move
    with pytest.raises(ValueError, match="sample target"):
        problem.involving(0)


def test_dcc_option_validation() -> None:
    with pytest.raises(SpecificationError, match="target"):
        DCC(target="ledoit")  # type: ignore[arg-type]
    with pytest.raises(SpecificationError, match="cdcc"):
        DCC(kind="cdcc", target="nonlinear_shrinkage")


def test_dcc_fit_with_the_shrinkage_target() -> None:
    returns = _sim.simulate_dcc_garch("dcc", {"a": 0.05, "b": 0.9}, 3, 800, seed=6)
    res = DCC(target="nonlinear_shrinkage").fit(returns)
    z = res.univariate.std_resid.to_numpy()
    assert np.allclose(res.qbar, _as_correlation(_loop_shrinkage(z, True)), atol=1e-12)
    sample = DCC(std_errors=False).fit(univariate=res.univariate)
    assert not np.allclose(res.qbar, sample.qbar, atol=1e-6)
    assert abs(res.params["a"] - 0.05) < 0.03 and abs(res.params["b"] - 0.9) < 0.06
    assert res.param_cov is not None and (np.diag(res.param_cov) > 0).all()


def test_composite_fit_with_more_assets_than_days() -> None:
    rng = np.random.default_rng(7)
    z = pd.DataFrame(
        rng.standard_normal((100, 120)),
        index=pd.bdate_range("2020-01-01", periods=100),
        columns=[f"S{i:03d}" for i in range(120)],
    )
    fits = UnivariateFits.from_arrays(z)
    with pytest.raises(NotPositiveDefiniteError):
        DCC(estimation="composite-adjacent", std_errors=False).fit(univariate=fits)
    res = DCC(estimation="composite-adjacent", target="nonlinear_shrinkage", std_errors=False).fit(
        univariate=fits
    )
    assert np.linalg.eigvalsh(res.qbar)[0] > 0
