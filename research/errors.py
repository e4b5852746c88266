"""Every exception and warning raised by :mod:`research`.

Errors say what was wrong, where (asset, date) and what to do about it.
Warnings are also recorded on the result objects that emit them, because
warnings get filtered and results get saved.
"""

from __future__ import annotations

__all__ = [
    "ResearchError",
    "DataError",
    "InsufficientDataError",
    "SpecificationError",
    "ConvergenceError",
    "NotPositiveDefiniteError",
    "ParameterError",
    "NotebookExecutionError",
    "ReportError",
    "ResearchWarning",
    "ConvergenceWarning",
    "DataQualityWarning",
    "PSDRepairWarning",
    "UnknownUnderlyingError",
    "ExpiredInstrumentError",
    "OutputError",
]


class ResearchError(Exception):
    """Base class of every error raised by :mod:`research`."""


class DataError(ResearchError, ValueError):
    """Input data are unusable as given (bad price, date, shape or label)."""


class InsufficientDataError(DataError):
    """Too few observations for the requested estimate."""


class SpecificationError(ResearchError, ValueError):
    """A model or engine was configured with an invalid option."""


class ConvergenceError(ResearchError, RuntimeError):
    """An optimizer failed and no usable estimate exists."""


class NotPositiveDefiniteError(ResearchError, ValueError):
    """A matrix that must be positive (semi-)definite is not."""


class ParameterError(ResearchError, ValueError):
    """A margin parameter set is incomplete or out of range."""


class NotebookExecutionError(ResearchError, RuntimeError):
    """A study notebook failed while executing."""


class ReportError(ResearchError, RuntimeError):
    """A report could not be rendered or exported."""


class ResearchWarning(UserWarning):
    """Base class of every warning emitted by :mod:`research`."""


class ConvergenceWarning(ResearchWarning):
    """An optimizer stopped with a usable but doubtful estimate."""


class DataQualityWarning(ResearchWarning):
    """Data were repaired, aligned or flagged; see the data-quality report."""


class PSDRepairWarning(ResearchWarning):
    """A matrix was not positive semi-definite and was repaired."""


class UnknownUnderlyingError(DataError):
    """A position or scenario refers to an underlying the market data do not know."""


class ExpiredInstrumentError(DataError):
    """An instrument is at or past its expiry on the valuation date."""


class OutputError(ResearchError, OSError):
    """An output file or folder cannot be written, or writing would replace a file not ours."""
