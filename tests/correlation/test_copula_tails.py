"""The parametric copula transform keeps the extreme residuals exactly.

Under normal innovations the copula's normal scores are the standardized residuals themselves:
a Gaussian copula through the copula code must give the DCC's correlation-stage likelihood at
the same (a, b) even when residuals lie far in the tails (|z| > 8, where 1 - Phi(z) has no
digits left in double precision and a bounded uniform would pull the residual in).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

from research.correlation import DCC, CopulaDCC
from research.correlation.copula import student_quantiles
from research.volatility import UnivariateFits


def _extreme_fits(seed: int = 3) -> UnivariateFits:
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((900, 1))
    z = 0.6 * common + 0.8 * rng.standard_normal((900, 3))
    z[100, 0], z[400, 1], z[700, 2] = -9.5, 8.7, -12.0  # crash days far in the tails
    index = pd.bdate_range("2015-01-01", periods=len(z))
    return UnivariateFits.from_arrays(pd.DataFrame(z, index=index, columns=["A", "B", "C"]))


def test_gaussian_copula_equals_the_dcc_at_the_same_dynamics_with_extreme_residuals():
    fits = _extreme_fits()
    assert (fits.std_resid.abs() > 8).sum().sum() == 3
    gaussian = CopulaDCC(copula="gaussian").fit(univariate=fits)
    at_same = DCC(std_errors=False).fit(univariate=fits).fix(gaussian.params[["a", "b"]])
    assert gaussian.loglikelihood_copula == pytest.approx(
        at_same.loglikelihood_correlation, abs=1e-8
    )


def test_student_quantiles_from_exact_scores_in_the_far_tails():
    x = np.array([[-12.0, 9.0, -8.5, 10.0]])
    u = special.ndtr(x)  # 1 - u is rounded in the upper tail
    exact = np.sign(x) * -special.stdtrit(6.0, special.ndtr(-np.abs(x)))
    np.testing.assert_allclose(student_quantiles(u, 6.0, x), exact, rtol=1e-12)
    # symmetric: the upper tail from the score equals minus the lower tail
    assert student_quantiles(u, 6.0, x)[0, 1] == pytest.approx(
        -student_quantiles(special.ndtr(-x), 6.0, -x)[0, 1], rel=1e-12
    )
