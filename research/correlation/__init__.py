"""The DCC family of conditional-correlation models (DCC, cDCC, ADCC, CCC)."""

from research.correlation.lrtest import LikelihoodRatioTest, lr_test
from research.correlation.model import DCC
from research.correlation.results import DCCResult

__all__ = ["DCC", "DCCResult", "LikelihoodRatioTest", "lr_test"]
