"""Liquidation cascades and cross-margin contagion (spec: ``../shared/research/liquidation.md``).

A population of accounts (:class:`Accounts`, cross or isolated) on a venue
(:class:`VenueProfile`: maintenance from venue tiers or any :mod:`research.margin` engine,
liquidation fee, partial rule, insurance fund, auto-deleveraging) is marked along an
exogenous :class:`ShockPath`; :class:`CascadeSimulator` liquidates whoever is below maintenance
round by round, with price impact on every asset's book (:class:`AssetMarket` with
:class:`LinearImpact`, :class:`SquareRootImpact` or :class:`ExponentialImpact`), until no pot
is below maintenance, and returns a :class:`CascadeResult` (fills, bad debt, fund, ADL,
amplification, open interest, contagion).
"""

from research.liquidation.compare import ModeComparison, compare_modes
from research.liquidation.engine import CascadeSimulator, simulate_cascade
from research.liquidation.experiments import (
    amplification_curve,
    collateral_at_margin,
    hedged_pairs,
)
from research.liquidation.firesale import BankBalanceSheets, FireSaleModel, FireSaleResult
from research.liquidation.impact import (
    AssetMarket,
    ExponentialImpact,
    ImpactModel,
    LinearImpact,
    SquareRootImpact,
)
from research.liquidation.maintenance import (
    EngineMaintenance,
    Maintenance,
    TieredMaintenance,
    bankruptcy_price,
    liquidation_price,
)
from research.liquidation.montecarlo import (
    GeneratorComparison,
    cascade_distribution,
    compare_generators,
    dcc_stress_paths,
    path_statistics,
    paths_from_simulation,
    quantile_bands,
    stress_paths,
)
from research.liquidation.overlap import eri_like, ici_like, overlap_matrix
from research.liquidation.plots import (
    plot_amplification,
    plot_distribution,
    plot_rounds,
    plot_timing,
)
from research.liquidation.population import (
    liquidation_band,
    one_asset_accounts,
    synthetic_accounts,
)
from research.liquidation.replay import (
    OCTOBER_10_2025,
    OCTOBER_10_POPULATION,
    compare_with_facts,
    october_10_accounts,
    replay_markets,
    replay_path,
    replay_timing,
    replay_window,
)
from research.liquidation.results import CascadeResult
from research.liquidation.state import (
    Accounts,
    AdlRule,
    PartialRule,
    ShockPath,
    VenueProfile,
    binance_like,
    dydx_like,
    hl_like,
)

__all__ = [
    "OCTOBER_10_2025",
    "OCTOBER_10_POPULATION",
    "Accounts",
    "AdlRule",
    "AssetMarket",
    "BankBalanceSheets",
    "CascadeResult",
    "CascadeSimulator",
    "EngineMaintenance",
    "ExponentialImpact",
    "FireSaleModel",
    "FireSaleResult",
    "GeneratorComparison",
    "ImpactModel",
    "LinearImpact",
    "Maintenance",
    "ModeComparison",
    "PartialRule",
    "ShockPath",
    "SquareRootImpact",
    "TieredMaintenance",
    "VenueProfile",
    "amplification_curve",
    "bankruptcy_price",
    "binance_like",
    "cascade_distribution",
    "collateral_at_margin",
    "compare_generators",
    "compare_with_facts",
    "compare_modes",
    "dcc_stress_paths",
    "dydx_like",
    "eri_like",
    "hedged_pairs",
    "hl_like",
    "ici_like",
    "liquidation_band",
    "liquidation_price",
    "october_10_accounts",
    "one_asset_accounts",
    "overlap_matrix",
    "path_statistics",
    "paths_from_simulation",
    "plot_amplification",
    "plot_distribution",
    "plot_rounds",
    "plot_timing",
    "quantile_bands",
    "replay_window",
    "replay_markets",
    "replay_path",
    "replay_timing",
    "simulate_cascade",
    "stress_paths",
    "synthetic_accounts",
]
