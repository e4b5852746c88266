"""Venue portfolio-margin methodologies as margin engines (spec: ``../shared/research/venues.md``).

Each engine follows a venue's published methodology with a dated, versioned
:class:`VenueParameters` set and labels its results ``"<venue>-style"``: the engines reproduce
the published formulas and worked examples, not the venues' own systems, and the parts the
sources do not give are parameters with stated defaults.
"""

from research.margin.venues._params import (
    VenueEngine,
    VenueParameters,
    available_parameter_sets,
    check_positions,
    position_name,
)
from research.margin.venues.deribit import DeribitEngine, deribit_requirements
from research.margin.venues.dydx import DydxEngine, LiquidityTier
from research.margin.venues.hyperliquid import HyperliquidEngine, MarginTiers
from research.margin.venues.okx import (
    OkxEngine,
    extreme_move_charge,
    minimum_charge,
    risk_unit_mmr,
)
from research.margin.venues.paradex import ParadexEngine

__all__ = [
    "VenueEngine",
    "VenueParameters",
    "available_parameter_sets",
    "check_positions",
    "position_name",
    "DeribitEngine",
    "DydxEngine",
    "HyperliquidEngine",
    "LiquidityTier",
    "MarginTiers",
    "OkxEngine",
    "ParadexEngine",
    "deribit_requirements",
    "extreme_move_charge",
    "minimum_charge",
    "risk_unit_mmr",
]
