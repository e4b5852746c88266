"""Instruments, positions and portfolios revalued in full under scenarios.

Instruments (spot, linear and inverse perpetuals, dated futures, European options priced with
Black-76) value one long unit in the market's reporting currency; a :class:`Position` holds a
quantity of one instrument in a direction; a :class:`Portfolio` revalues its positions under a
:class:`Scenarios` matrix of underlying moves and gives exposures and Greeks; a
:class:`PortfolioBook` stacks many portfolios as a quantity matrix so that revaluing them all is
one matrix product.
"""

from research.portfolio.book import PortfolioBook
from research.portfolio.funding import FUNDING_INTERVAL, accrued_funding
from research.portfolio.instruments import (
    DatedFuture,
    EuropeanOption,
    Greeks,
    Instrument,
    InversePerpetual,
    LinearPerpetual,
    Spot,
)
from research.portfolio.market import Market, year_fraction
from research.portfolio.positions import Portfolio, Position
from research.portfolio.scenarios import Scenarios
from research.portfolio.valuation import unit_exposures, unit_pnl

__all__ = [
    "FUNDING_INTERVAL",
    "DatedFuture",
    "EuropeanOption",
    "Greeks",
    "Instrument",
    "InversePerpetual",
    "LinearPerpetual",
    "Market",
    "Portfolio",
    "PortfolioBook",
    "Position",
    "Scenarios",
    "Spot",
    "accrued_funding",
    "unit_exposures",
    "unit_pnl",
    "year_fraction",
]
