r"""Monte Carlo of cascades over simulated stress paths, on :func:`research.parallel.map_tasks`.

:func:`stress_paths` draws hourly log-return paths from a stated simple model: a multivariate
Student-t with a stressed correlation matrix (every pair at ``correlation``; the spec gives no
sourced regime parameters for crypto, §11), scaled to per-asset hourly volatilities, plus a
drift. :func:`dcc_stress_paths` draws paths from a DCC fitted to data by filtered historical
simulation (FHS) in a stressed-correlation regime: the correlation dynamics start at and revert
to a stressed matrix (e.g. :func:`research.stress.dcc_correlation` of the fit's own path at an
upper quantile). Any other generator can feed :func:`cascade_distribution` through
:meth:`ShockPath.from_returns` (or :func:`paths_from_simulation`).

:func:`cascade_distribution` runs one cascade per path (tasks carry no randomness of their own:
the paths are drawn once from the seed), serially or on local processes or Dask; the result is
bit-identical for a seed on every backend. :func:`quantile_bands` gives the quantiles of its
metrics with distribution-free (order-statistic) confidence bands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from research._random import as_generator
from research._typing import Seed
from research.correlation.forecast import dcc_state
from research.correlation.simulate import (
    decorrelate_residuals,
    simulate_correlation_paths,
    simulate_univariate,
)
from research.data.units import to_decimal
from research.errors import NotPositiveDefiniteError, ParameterError, SpecificationError
from research.liquidation.engine import CascadeSimulator
from research.liquidation.state import Accounts, ShockPath
from research.parallel import Backend, map_tasks
from research.stress import StressedCorrelation, check_correlation_frame

__all__ = [
    "GeneratorComparison",
    "cascade_distribution",
    "compare_generators",
    "dcc_stress_paths",
    "path_statistics",
    "paths_from_simulation",
    "quantile_bands",
    "stress_paths",
]


def stress_paths(
    hourly_vol: Mapping[str, float] | pd.Series,
    *,
    n_paths: int,
    steps: int,
    correlation: float = 0.9,
    df: float = 4.0,
    drift: float = 0.0,
    seed: Seed = None,
) -> list[ShockPath]:
    r"""Draw multivariate Student-t log-return paths with an equicorrelated stressed matrix.

    Each step's returns are :math:`r = \mu + \sigma \odot L z \sqrt{(\nu - 2) / \chi^2_\nu}`
    (``L`` the Cholesky factor of the correlation matrix, ``z`` standard normal): a Student-t
    with unit variance per asset scaled by ``sigma``, each asset's hourly volatility.

    Parameters
    ----------
    hourly_vol : mapping or pandas.Series
        Hourly log-return volatility per asset (> 0).
    n_paths, steps : int
        Number of paths and hourly steps per path.
    correlation : float
        Common pairwise correlation in stress (in (-1/(N-1), 1)).
    df : float
        Student-t degrees of freedom (> 2).
    drift : float
        Mean log return per step (e.g. negative for a selloff).
    seed : int, numpy.random.Generator or None
        Seed of every draw.

    Returns
    -------
    list of ShockPath
    """
    vol = pd.Series(hourly_vol, dtype=float)
    n = len(vol)
    if n == 0 or (vol <= 0).any() or not np.isfinite(vol.to_numpy()).all():
        raise ParameterError("hourly_vol must be finite and > 0 for every asset")
    if not (-1.0 / max(n - 1, 1) < correlation < 1.0):
        raise ParameterError(f"correlation {correlation} does not give a positive definite matrix")
    if df <= 2:
        raise ParameterError(f"df is {df}; the Student-t needs df > 2 for a variance")
    if n_paths < 1 or steps < 1:
        raise ParameterError("n_paths and steps must be >= 1")
    rng = as_generator(seed)
    corr = np.full((n, n), correlation)
    np.fill_diagonal(corr, 1.0)
    chol = np.linalg.cholesky(corr)
    z = rng.standard_normal((n_paths, steps, n)) @ chol.T
    scale = np.sqrt((df - 2.0) / rng.chisquare(df, (n_paths, steps, 1)))
    returns = drift + z * scale * vol.to_numpy()
    return _shock_paths(returns, list(map(str, vol.index)))


def paths_from_simulation(
    simulation: Any, units: Literal["percent", "decimal"] = "percent"
) -> list[ShockPath]:
    """Shock paths from simulated log returns, e.g. a ``research.correlation`` DCC simulation.

    Parameters
    ----------
    simulation : DCCSimulation or any object with ``returns`` and ``assets``
        ``returns`` of shape (paths, steps, assets) are log returns, one step per row (the
        step of the data the model was fitted on: hourly data give hourly steps).
    units : {"percent", "decimal"}
        Units of ``returns`` (``research.to_returns`` gives percent by default).

    Returns
    -------
    list of ShockPath
    """
    if units not in ("percent", "decimal"):
        raise ParameterError(f"units must be 'percent' or 'decimal', got {units!r}")
    returns = np.asarray(simulation.returns, dtype=float)
    if returns.ndim != 3 or returns.shape[2] != len(simulation.assets):
        raise ParameterError("simulated returns must have shape (paths, steps, assets)")
    return _shock_paths(to_decimal(returns, units), list(map(str, simulation.assets)))


def _shock_paths(decimal: np.ndarray, columns: list[str]) -> list[ShockPath]:
    return [ShockPath.from_returns(pd.DataFrame(r, columns=columns)) for r in decimal]


def dcc_stress_paths(
    result: Any,
    correlation: StressedCorrelation | pd.DataFrame | None,
    *,
    n_paths: int,
    steps: int,
    seed: Seed = None,
    units: Literal["percent", "decimal"] = "percent",
) -> list[ShockPath]:
    r"""Filtered-historical-simulation paths of a fitted DCC in a stressed-correlation regime.

    The fitted model's pieces (:func:`research.correlation.forecast.dcc_state`) are run through
    the correlation stage's simulation kernels: whole in-sample days of de-correlated residuals
    :math:`e_t = L_t^{-1} z_t` are drawn with replacement
    (:func:`~research.correlation.simulate.decorrelate_residuals`), filtered through the DCC
    recursion :math:`Q_{t+1} = (1 - a - b)ar S + a z_t z_t' + b Q_t` that starts at
    :math:`Q_{T+1} = ar S` and reverts to :math:`ar S`, the stressed correlation
    (:func:`~research.correlation.simulate.simulate_correlation_paths`), and through each
    asset's fitted GARCH from its :math:`\sigma_{T+1}`
    (:func:`~research.correlation.simulate.simulate_univariate`). With ``correlation=None``
    the fitted target and :math:`Q_{T+1}` are kept: the paths are then those of
    ``result.simulate(method="fhs")`` for the same seed, bit for bit.

    Parameters
    ----------
    result : DCCResult
        A fitted ``"dcc"``, ``"cdcc"`` or ``"ccc"`` model (ADCC's asymmetric target would move
        the regime's level away from the stressed matrix).
    correlation : StressedCorrelation, pandas.DataFrame or None
        Stressed correlation over (at least) the model's assets, e.g.
        ``research.stress.dcc_correlation(result.correlation, statistic="upper")``; None: the
        fitted regime.
    n_paths, steps : int
        Number of paths and steps per path (a step is one period of the fitted data: hourly
        data give hourly steps).
    seed : int, numpy.random.Generator or None
        Seed of every draw.
    units : {"percent", "decimal"}
        Units of the returns the model was fitted on (``research.to_returns`` gives percent).

    Returns
    -------
    list of ShockPath

    Raises
    ------
    SpecificationError
        An ADCC model, or ``n_paths`` / ``steps`` below 1.
    ParameterError
        The stressed matrix lacks one of the model's assets, or bad ``units``.
    DataError, NotPositiveDefiniteError
        The stressed matrix is not a positive definite correlation matrix.
    """
    if units not in ("percent", "decimal"):
        raise ParameterError(f"units must be 'percent' or 'decimal', got {units!r}")
    if (
        not (isinstance(n_paths, int | np.integer) and isinstance(steps, int | np.integer))
        or min(n_paths, steps) < 1
    ):
        raise SpecificationError(f"n_paths and steps must be integers >= 1, got {n_paths}, {steps}")
    if correlation is None:
        simulation = result.simulate(horizon=steps, paths=n_paths, method="fhs", seed=seed)
        return paths_from_simulation(simulation, units)
    state = dcc_state(result)
    if state.kind == "adcc":
        raise SpecificationError(
            "a stressed-correlation regime needs a 'dcc', 'cdcc' or 'ccc' fit: ADCC's asymmetric "
            "target would move the regime away from the stressed matrix"
        )
    matrix = correlation.matrix if isinstance(correlation, StressedCorrelation) else correlation
    matrix = check_correlation_frame(matrix, "stressed correlation", psd=True)
    missing = [a for a in state.assets if a not in matrix.index]
    if missing:
        raise ParameterError(
            f"the stressed correlation has no row for {missing}; the model's assets are "
            f"{list(state.assets)}"
        )
    stressed = np.ascontiguousarray(matrix.loc[list(state.assets), list(state.assets)].to_numpy())
    try:
        np.linalg.cholesky(stressed)
    except np.linalg.LinAlgError as exc:
        raise NotPositiveDefiniteError(
            "the stressed correlation is singular; the DCC recursion needs a positive definite "
            "target (repair it with research.stress.nearest_correlation and a floor)"
        ) from exc
    rng = as_generator(seed)
    history = decorrelate_residuals(state)
    innovations = history[rng.integers(0, history.shape[0], size=(n_paths, steps))]
    z, _ = simulate_correlation_paths(
        state.kind, state.params, stressed, state.nbar, stressed, innovations
    )
    returns, _, _ = simulate_univariate({a: state.univariate[a] for a in state.assets}, z)
    return _shock_paths(to_decimal(returns, units), list(map(str, state.assets)))


def path_statistics(paths: Sequence[ShockPath]) -> pd.DataFrame:
    """Per-asset moments of a set of shock paths, pooled over paths and steps.

    Parameters
    ----------
    paths : sequence of ShockPath
        Paths over the same assets (e.g. from :func:`stress_paths` or :func:`dcc_stress_paths`).

    Returns
    -------
    pandas.DataFrame
        One row per asset: ``sd per step`` and ``mean per step`` of the log returns (decimal),
        ``mean correlation`` (the average of the asset's pooled correlations with the other
        assets; NaN with one asset) and ``path return 5%`` (the 5% quantile of the cumulative
        log return over a path).

    Raises
    ------
    ParameterError
        No paths, or paths over different assets.
    """
    if not paths:
        raise ParameterError("path_statistics needs at least one path")
    assets = paths[0].assets
    if any(p.assets != assets for p in paths):
        raise ParameterError("the paths move different assets; give paths over the same assets")
    pooled = np.concatenate([p.log_returns.to_numpy() for p in paths])
    totals = np.array([p.log_returns.to_numpy().sum(axis=0) for p in paths])
    n = len(assets)
    if n > 1:
        corr = np.corrcoef(pooled.T)
        mean_corr = (corr.sum(axis=1) - 1.0) / (n - 1)
    else:
        mean_corr = np.full(1, np.nan)
    return pd.DataFrame(
        {
            "sd per step": pooled.std(axis=0, ddof=1),
            "mean per step": pooled.mean(axis=0),
            "mean correlation": mean_corr,
            "path return 5%": np.quantile(totals, 0.05, axis=0),
        },
        index=pd.Index(assets, name="asset"),
    )


def quantile_bands(
    frame: pd.DataFrame,
    quantiles: Sequence[float] = (0.5, 0.9, 0.95, 0.99),
    level: float = 0.9,
) -> pd.DataFrame:
    r"""Quantiles of every column with distribution-free confidence bands (order statistics).

    For ``n`` independent draws and a quantile ``p``, the band is the pair of order statistics
    :math:`[X_{(l)}, X_{(u)}]` with :math:`l = F^{-1}_{B}((1 - 	ext{level})/2)` and
    :math:`u = F^{-1}_{B}((1 + 	ext{level})/2) + 1`, :math:`B \sim 	ext{Binomial}(n, p)`; it
    covers the true quantile with probability ``coverage`` =
    :math:`F_B(u - 1) - F_B(l - 1) \ge 	ext{level}` whatever the distribution. When ``l < 1``
    or ``u > n`` the draws cannot bound the quantile on that side: the bound is NaN (more
    paths are needed), and ``coverage`` is that of the side that exists.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per independent draw (e.g. :func:`cascade_distribution`'s paths), numeric
        columns; NaN rows of a column are left out of that column (counted in ``n``).
    quantiles : sequence of float
        Probabilities in (0, 1).
    level : float
        Nominal two-sided coverage of each band, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        Index (metric, quantile); columns ``estimate`` (``numpy.quantile``, linear),
        ``lower``, ``upper``, ``coverage`` and ``n`` (non-missing draws).

    Raises
    ------
    ParameterError
        A probability or ``level`` outside (0, 1), or an empty frame.
    """
    probs = np.asarray(quantiles, dtype=float)
    if probs.size == 0 or not np.all((probs > 0) & (probs < 1)):
        raise ParameterError(f"quantiles must lie in (0, 1), got {list(quantiles)}")
    if not 0 < level < 1:
        raise ParameterError(f"level must lie in (0, 1), got {level}")
    if frame.empty:
        raise ParameterError("quantile_bands needs at least one draw")
    ranks: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # by draw count
    rows = {}
    for column in frame.columns:
        values = np.sort(frame[column].to_numpy(dtype=float))
        values = values[~np.isnan(values)]
        n = values.size
        if n and n not in ranks:
            lo = stats.binom.ppf((1.0 - level) / 2.0, n, probs).astype(int)
            hi = stats.binom.ppf((1.0 + level) / 2.0, n, probs).astype(int) + 1
            cover = stats.binom.cdf(np.minimum(hi, n + 1) - 1, n, probs) - stats.binom.cdf(
                np.maximum(lo, 1) - 1, n, probs
            )
            ranks[n] = (lo, hi, cover)
        for k, p in enumerate(probs):
            if n == 0:
                rows[(column, p)] = (np.nan, np.nan, np.nan, np.nan, 0)
                continue
            lo, hi, cover = (r[k] for r in ranks[n])
            rows[(column, p)] = (
                float(np.quantile(values, p)),
                values[lo - 1] if lo >= 1 else np.nan,
                values[hi - 1] if hi <= n else np.nan,
                float(cover),
                n,
            )
    index = pd.MultiIndex.from_tuples(rows, names=["metric", "quantile"])
    return pd.DataFrame(
        list(rows.values()), index=index, columns=["estimate", "lower", "upper", "coverage", "n"]
    )


@dataclass(frozen=True)
class _Task:
    simulator: CascadeSimulator
    accounts: Accounts
    path: ShockPath


def _metrics(task: _Task) -> dict[str, float]:
    result = task.simulator.run(task.accounts, task.path)
    amplification = result.amplification()["amplification"]
    return {
        "bad_debt": result.bad_debt,
        "liquidated_notional": result.liquidated_notional,
        "accounts_liquidated": float(len(result.accounts_liquidated)),
        "fund_drawdown": result.fund_drawdown,
        "adl_haircut": result.adl_haircut,
        "uncovered": result.uncovered,
        "max_amplification": float(amplification.max()) if amplification.notna().any() else np.nan,
    }


def cascade_distribution(
    simulator: CascadeSimulator,
    accounts: Accounts,
    paths: Sequence[ShockPath],
    *,
    backend: Backend = "serial",
    cluster: object = None,
    max_workers: int | None = None,
) -> pd.DataFrame:
    """Run the cascade of ``accounts`` on every path and tabulate the metrics.

    Parameters
    ----------
    simulator : CascadeSimulator
        Venue and markets.
    accounts : Accounts
        The population (the same on every path).
    paths : sequence of ShockPath
        E.g. from :func:`stress_paths`.
    backend, cluster, max_workers
        As in :func:`research.parallel.map_tasks` (default serial).

    Returns
    -------
    pandas.DataFrame
        One row per path: ``bad_debt``, ``liquidated_notional``, ``accounts_liquidated``,
        ``fund_drawdown``, ``adl_haircut``, ``uncovered``, ``max_amplification``.
    """
    tasks = [_Task(simulator, accounts, p) for p in paths]
    rows = map_tasks(
        _metrics,
        tasks,
        backend=backend,
        cluster=cluster,
        max_workers=max_workers,
        progress=False,
        description="cascades",
    )
    return pd.DataFrame(rows, index=pd.RangeIndex(len(rows), name="path"))


@dataclass(frozen=True)
class GeneratorComparison:
    """Cascade distributions of one population under several path generators.

    Attributes
    ----------
    distributions : dict of name -> DataFrame
        :func:`cascade_distribution` per generator.
    paths : pandas.DataFrame
        :func:`path_statistics` per generator (index: generator, asset).
    bands : pandas.DataFrame
        :func:`quantile_bands` of ``bad_debt`` and ``max_amplification`` per generator
        (index: generator, metric, quantile).
    means : pandas.DataFrame
        Mean of every metric, one row per generator.
    """

    distributions: dict[str, pd.DataFrame]
    paths: pd.DataFrame
    bands: pd.DataFrame
    means: pd.DataFrame

    def share_with_bad_debt(self) -> pd.Series:
        """Share of each generator's paths that leave bad debt."""
        return pd.Series(
            {name: float((f["bad_debt"] > 0).mean()) for name, f in self.distributions.items()},
            name="share with bad debt",
        )


def compare_generators(
    simulator: CascadeSimulator,
    accounts: Accounts,
    generators: Mapping[str, Sequence[ShockPath]],
    *,
    quantiles: Sequence[float] = (0.5, 0.9, 0.95),
    level: float = 0.9,
    backend: Backend = "serial",
    cluster: object = None,
    max_workers: int | None = None,
) -> GeneratorComparison:
    """Run the same population on the paths of several generators and tabulate the results.

    Parameters
    ----------
    simulator : CascadeSimulator
        Venue and markets.
    accounts : Accounts
        The population.
    generators : mapping of name -> sequence of ShockPath
        E.g. ``{"DCC-FHS": dcc_stress_paths(...), "Student-t": stress_paths(...)}``.
    quantiles, level
        As in :func:`quantile_bands`.
    backend, cluster, max_workers
        As in :func:`cascade_distribution`.

    Returns
    -------
    GeneratorComparison

    Raises
    ------
    ParameterError
        No generators, or a generator without paths.
    """
    if not generators or any(len(p) == 0 for p in generators.values()):
        raise ParameterError("compare_generators needs at least one generator, each with paths")
    runs = {
        name: cascade_distribution(
            simulator, accounts, p, backend=backend, cluster=cluster, max_workers=max_workers
        )
        for name, p in generators.items()
    }
    names = ["generator"]
    return GeneratorComparison(
        distributions=runs,
        paths=pd.concat({n: path_statistics(p) for n, p in generators.items()}, names=names),
        bands=pd.concat(
            {
                n: quantile_bands(f[["bad_debt", "max_amplification"]], quantiles, level)
                for n, f in runs.items()
            },
            names=names,
        ),
        means=pd.DataFrame({n: f.mean() for n, f in runs.items()}).T.rename_axis("generator"),
    )
