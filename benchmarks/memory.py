"""Benchmark: peak memory of correlation paths and of FHS simulation (issue 13, item 7).

Cases (each in a fresh Python process, so that every number is that case's own peak):

* ``correlation_array`` and ``covariance`` of a DCC result at N=200, T=10,000 (a 3.2 GB path);
* ``correlation_array`` with ``dtype=float32`` (when the result offers ``correlation_path``);
* FHS ``simulate`` with 10 paths of 10 days at N=200 from T=5,000 in-sample days.

The results are built from synthetic standardized residuals at known DCC parameters
(a=0.02, b=0.97) without estimation; the FHS case fits the 200 GARCH(1,1) models (the
simulation needs them). Peak memory is the process's peak resident set size during the call
(``VmHWM`` of ``/proc/self/status``, reset through ``/proc/self/clear_refs`` just before the
call, so that the setup's own peak, e.g. compiling the GARCH kernels, is not counted; it sees
numba's allocations, which ``tracemalloc`` does not) above the resident size just before the
call. Target (issue 13): below 2x the returned array.

Run: ``.venv/bin/python benchmarks/memory.py`` (about two minutes);
``--case NAME [--n N --t T]`` runs one case in this process.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from research.correlation import DCC
from research.correlation._kernels import KIND_CODES, dcc_q_last
from research.correlation._likelihood import CorrelationProblem
from research.correlation.results import DCCResult
from research.volatility import UnivariateFits, UnivariateSpec, fit_univariate

PARAMS = {"a": 0.02, "b": 0.97}
CASES = [
    ("correlation_array", 200, 10_000),
    ("correlation_array_float32", 200, 10_000),
    ("covariance", 200, 10_000),
    ("fhs_simulate", 200, 5_000),
]
PATHS, HORIZON = 10, 10
TARGET_RATIO = 2.0


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # resets VmHWM to the current resident size (Linux >= 4.0)


def _peak_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    raise SystemExit("/proc/self/status has no VmHWM line")


def _residuals(n: int, t: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(0.5 * np.eye(n) + 0.5)
    z = rng.standard_normal((t, n)) @ chol.T
    return pd.DataFrame(
        z, index=pd.bdate_range("1990-01-01", periods=t), columns=[f"A{i:03d}" for i in range(n)]
    )


def _result(univariate: UnivariateFits) -> DCCResult:
    """A DCC result at PARAMS on the given first stage, without estimation."""
    assets = univariate.assets
    problem = CorrelationProblem.build(
        univariate.std_resid.to_numpy(dtype=np.float64), "dcc", "normal", "full", assets
    )
    theta = np.array([PARAMS["a"], PARAMS["b"]])
    q_next = dcc_q_last(problem.z, *theta, 0.0, problem.qbar, problem.nbar, KIND_CODES["dcc"])
    return DCCResult(
        model=DCC(kind="dcc", std_errors=False),
        params=pd.Series(theta, index=["a", "b"], name="params"),
        param_cov=None,
        loglikelihood_correlation=float("nan"),
        objective=float("nan"),
        univariate=univariate,
        qbar=problem.qbar,
        nbar=None,
        q_next=q_next,
        optimization=None,
        converged=True,
        warnings=(),
        data_description={},
        problem=problem,
    )


def _setup(case: str, n: int, t: int) -> DCCResult:
    z = _residuals(n, t)
    if case == "fhs_simulate":
        returns = 1.2 * z + 0.05
        return _result(fit_univariate(returns, UnivariateSpec()))
    sigma = pd.DataFrame(
        np.linspace(0.8, 1.5, n)[None, :].repeat(t, axis=0), index=z.index, columns=z.columns
    )
    return _result(UnivariateFits.from_arrays(z, sigma))


def _call(case: str, res: DCCResult) -> int:
    """Run the case and return the bytes of what it returns."""
    if case == "correlation_array":
        return res.correlation_array.nbytes
    if case == "correlation_array_float32":
        return res.correlation_path(dtype=np.float32).nbytes
    if case == "covariance":
        frame = res.covariance
        return int(frame.memory_usage(index=False, deep=False).sum())
    if case == "fhs_simulate":
        sim = res.simulate(horizon=HORIZON, paths=PATHS, method="fhs", seed=0)
        return sum(x.nbytes for x in (sim.returns, sim.variance, sim.std_resid, sim.draw_index))
    raise SystemExit(f"unknown case {case!r}")


def run_case(case: str, n: int, t: int) -> dict[str, float]:
    """Run one case in this process and measure it."""
    res = _setup(case, n, t)
    gc.collect()
    _reset_peak()
    base = _rss_bytes()
    start = time.perf_counter()
    nbytes = _call(case, res)
    seconds = time.perf_counter() - start
    peak = _peak_bytes() - base
    return {
        "case": case,
        "n": n,
        "t": t,
        "seconds": seconds,
        "peak": peak,
        "returned": nbytes,
        "path": t * n * n * 8,  # one float64 T x N x N path, for scale
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--t", type=int, default=10_000)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.n, args.t)))
        return
    gb = 1024.0**3
    print(
        f"{'case':<28}{'N':>5}{'T':>8}{'peak GiB':>10}{'returned GiB':>14}"
        f"{'peak/returned':>15}{'peak/path':>11}{'s':>7}"
    )
    for case, n, t in CASES:
        cmd = [sys.executable, __file__, "--case", case, "--n", str(n), "--t", str(t)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(f"{case:<28}{n:>5}{t:>8}  failed: {out.stderr.strip().splitlines()[-1]}")
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{case:<28}{n:>5}{t:>8}{row['peak'] / gb:>10.3f}{row['returned'] / gb:>14.4f}"
            f"{row['peak'] / row['returned']:>15.2f}{row['peak'] / row['path']:>11.2f}"
            f"{row['seconds']:>7.1f}"
        )
    print(
        f"target: peak below {TARGET_RATIO:.0f}x the returned array for the paths; path = one "
        "float64 T x N x N array (FHS returns little, so it is measured against the path)"
    )


if __name__ == "__main__":
    main()
