"""Independent reference for ``nearest_correlation``: the same convex problem solved by cvxpy.

Run from the repository root with the project venv (cvxpy and the Clarabel SDP solver come
with skfolio)::

    .venv/bin/python tests/stress/reference/generate_nearest.py

It writes ``nearest_cvxpy.json`` next to this file. Each case records the input matrix, the
diagonal weights, the fixed off-diagonal pairs and the solution X of

    min ||W^{1/2} (A - X) W^{1/2}||_F  s.t.  X PSD, diag(X) = 1, X_ij = A_ij for fixed (i, j)

together with the tool versions. Clarabel is an interior-point method whose default
tolerances are tightened to 1e-12; cvxpy then warns that the solution "may be inaccurate"
(Clarabel stops short of 1e-12), but the recorded solutions agree with the closed-form KKT
conditions to about 1e-6 and with Higham's algorithm to about 1e-7 (the test tolerance).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import clarabel
import cvxpy as cp
import numpy as np

HIGHAM = [[2, -1, 0, 0], [-1, 2, -1, 0], [0, -1, 2, -1], [0, 0, -1, 2]]


def _random_invalid(seed: int, n: int) -> list[list[float]]:
    """A symmetric unit-diagonal matrix with entries in [-1, 1] that is not PSD."""
    rng = np.random.default_rng(seed)
    while True:
        upper = np.triu(rng.uniform(-0.95, 0.95, size=(n, n)), 1)
        a = upper + upper.T + np.eye(n)
        if np.linalg.eigvalsh(a)[0] < -0.05:
            return np.round(a, 6).tolist()


CASES = {
    "higham_unweighted": {"matrix": HIGHAM, "weights": None, "fixed": []},
    "higham_weighted": {"matrix": HIGHAM, "weights": [1.0, 2.0, 3.0, 4.0], "fixed": []},
    "random6_fixed": {"matrix": _random_invalid(7, 6), "weights": None, "fixed": [[0, 1], [2, 4]]},
    "random6_weighted_fixed": {
        "matrix": _random_invalid(7, 6),
        "weights": [1.0, 1.0, 4.0, 1.0, 0.5, 2.0],
        "fixed": [[0, 1]],
    },
}


def solve(matrix, weights, fixed) -> np.ndarray:
    a = np.asarray(matrix, dtype=float)
    n = a.shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    sqrt_w = np.sqrt(w)
    x = cp.Variable((n, n), symmetric=True)
    constraints = [x >> 0, cp.diag(x) == 1]
    constraints += [x[i, j] == a[i, j] for i, j in fixed]
    weight_matrix = np.outer(sqrt_w, sqrt_w)
    objective = cp.Minimize(cp.sum_squares(cp.multiply(weight_matrix, a - x)))
    problem = cp.Problem(objective, constraints)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    return np.asarray(x.value)


def main() -> None:
    out = {
        "tool_versions": {"cvxpy": cp.__version__, "clarabel": clarabel.__version__},
        "cases": {},
    }
    for name, case in CASES.items():
        solution = solve(case["matrix"], case["weights"], case["fixed"])
        out["cases"][name] = {**case, "solution": solution.tolist()}
    path = Path(__file__).with_name("nearest_cvxpy.json")
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
