"""Independent re-computation of the reference DCC fits with arch + plain numpy/scipy.

This is a deliberately naive peer of ``research.correlation`` (no numba, no analytic
gradients, Nelder-Mead on the likelihood written with ``numpy.linalg.slogdet`` and
``solve`` on R_t): it checks that the reference numbers in ``values.json`` are reproducible
from the data alone. Run from the repository root:

    .venv/bin/python tests/reference/sp500_dcc/generate.py

It writes ``generated.json`` beside this file (16 significant digits) together with the
package versions used. Runtime: about a minute.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import arch
import numpy as np
import scipy
from arch import arch_model
from scipy.optimize import minimize
from skfolio.datasets import load_sp500_dataset

HERE = Path(__file__).resolve().parent


def dcc_loglik(params: np.ndarray, z: np.ndarray, qbar: np.ndarray) -> float:
    """Gaussian DCC correlation log-likelihood: sum_t -0.5 (log|R_t| + z'R^-1 z - z'z)."""
    a, b = params
    if a < 0 or b < 0 or a + b >= 1:
        return -np.inf
    q = qbar.copy()
    total = 0.0
    for zt in z:
        d = np.sqrt(np.diag(q))
        r = q / np.outer(d, d)
        _, logdet = np.linalg.slogdet(r)
        total += -0.5 * (logdet + zt @ np.linalg.solve(r, zt) - zt @ zt)
        q = (1 - a - b) * qbar + a * np.outer(zt, zt) + b * q
    return total


def fit(returns) -> dict[str, float]:
    """Univariate GARCH(1,1) per asset, then DCC(1,1) by Nelder-Mead."""
    results = [
        arch_model(returns[c], mean="Constant", vol="GARCH", p=1, q=1, dist="normal").fit(
            disp="off"
        )
        for c in returns
    ]
    z = np.column_stack([r.std_resid.to_numpy() for r in results])
    qbar = np.corrcoef(z.T)
    opt = minimize(
        lambda p: -dcc_loglik(p, z, qbar),
        x0=[0.02, 0.95],
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-9, "maxiter": 2000},
    )
    ll_uni = float(sum(r.loglikelihood for r in results))
    first = results[0].params
    return {
        "a": float(opt.x[0]),
        "b": float(opt.x[1]),
        "loglikelihood_correlation": float(-opt.fun),
        "loglikelihood_univariate": ll_uni,
        "loglikelihood": ll_uni - float(opt.fun),
        "first_asset_garch": {k: float(v) for k, v in first.items()},
    }


def main() -> None:
    """Fit N=5 and N=20 and write generated.json."""
    prices = load_sp500_dataset()
    returns = (100 * np.log(prices).diff()).dropna().iloc[-2500:]
    out = {
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "arch": arch.__version__,
        },
        "N5": fit(returns.iloc[:, :5]),
        "N20": fit(returns),
    }
    (HERE / "generated.json").write_text(json.dumps(out, indent=2, default=repr))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
