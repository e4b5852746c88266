"""Specification of the univariate (per-asset) stage: one volatility model per asset.

Every ``arch`` model can be specified; the constant-mean GARCH(1,1) with normal or Student-t
errors (the default) is estimated by the package's compiled GARCH(1,1)
(:mod:`research.volatility.garch`, the same estimates as ``arch``) unless ``engine="arch"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from arch import arch_model
from arch.univariate.base import ARCHModel

from research.errors import SpecificationError

__all__ = ["UnivariateSpec", "MEANS", "VOLATILITIES", "DISTRIBUTIONS", "ENGINES", "FAST_OPTIONS"]

#: Mean models accepted by :func:`arch.arch_model` (case-insensitive).
MEANS: tuple[str, ...] = ("constant", "zero", "ar", "arx", "har", "harx", "ls")
#: Volatility processes accepted by :func:`arch.arch_model` (case-insensitive).
VOLATILITIES: tuple[str, ...] = ("garch", "arch", "egarch", "figarch", "aparch", "harch")
#: Innovation distributions accepted by :func:`arch.arch_model` (case-insensitive).
DISTRIBUTIONS: tuple[str, ...] = (
    "normal",
    "gaussian",
    "t",
    "studentst",
    "skewstudent",
    "skewt",
    "ged",
    "generalized error",
)

MeanName = Literal["Constant", "Zero", "AR", "ARX", "HAR", "HARX", "LS"]
VolName = Literal["GARCH", "ARCH", "EGARCH", "FIGARCH", "APARCH", "HARCH"]
DistName = Literal["normal", "gaussian", "t", "studentst", "skewstudent", "skewt", "ged"]
Engine = Literal["auto", "fast", "arch"]

#: Estimation engines of the univariate stage.
ENGINES: tuple[str, ...] = ("auto", "fast", "arch")
#: Optimizer options the compiled engine understands (SLSQP's, as ``arch`` passes them).
FAST_OPTIONS: frozenset[str] = frozenset({"maxiter", "ftol"})
#: Distribution names the compiled engine covers, mapped to its own names.
_FAST_DISTRIBUTIONS = {"normal": "normal", "gaussian": "normal", "t": "t", "studentst": "t"}


@dataclass(frozen=True)
class UnivariateSpec:
    """Specification of the per-asset volatility models (the univariate stage).

    Every asset gets the same :func:`arch.arch_model` specification; the options are
    passed through unchanged, so any mean, volatility process and distribution that
    ``arch`` offers can be used under a DCC model.

    Parameters
    ----------
    mean : str, default "Constant"
        Mean model name (see :data:`MEANS`).
    vol : str, default "GARCH"
        Volatility process (see :data:`VOLATILITIES`).
    p, o, q : int, default 1, 0, 1
        Lag orders of the symmetric, asymmetric and lagged-variance terms.
    power : float, default 2.0
        Power of the volatility process (2 = variance, 1 = absolute-value models).
    dist : str, default "normal"
        Innovation distribution (see :data:`DISTRIBUTIONS`).
    lags : int, default 0
        Autoregressive lags of an ``AR``/``HAR`` mean.
    options : tuple of (str, value) pairs, default ()
        Extra ``scipy`` optimizer options passed to ``ARCHModelResult.fit`` (for example
        ``(("maxiter", 500),)``); a tuple so that the specification stays hashable.
    engine : {"auto", "fast", "arch"}, default "auto"
        Who estimates the models. ``"fast"``: the package's compiled GARCH(1,1)
        (:func:`research.volatility.garch.fit_garch11`: ``arch``'s backcast, variance bounds,
        constraints, starting values and likelihood, analytic gradients), which covers the
        constant mean + GARCH(1,1) (``p=1, o=0, q=1, power=2``) with normal or Student-t
        errors and the options ``maxiter`` and ``ftol``; ``"arch"``: ``arch_model(...).fit``
        for every asset; ``"auto"``: ``"fast"`` where it covers the specification, ``"arch"``
        otherwise. Both engines return ``arch`` result objects and agree to about 1e-6 on
        the bundled equities (see :mod:`research.volatility.garch`).

    Raises
    ------
    SpecificationError
        If a name is not offered by ``arch``, an order is negative, or ``engine="fast"``
        is asked for a specification it does not cover.

    Examples
    --------
    >>> from research.volatility import UnivariateSpec
    >>> spec = UnivariateSpec(vol="GARCH", o=1, dist="t")  # GJR-GARCH(1,1,1) with Student-t
    >>> spec.o, spec.dist
    (1, 't')
    """

    mean: MeanName | str = "Constant"
    vol: VolName | str = "GARCH"
    p: int = 1
    o: int = 0
    q: int = 1
    power: float = 2.0
    dist: DistName | str = "normal"
    lags: int = 0
    options: tuple[tuple[str, Any], ...] = ()
    engine: Engine | str = "auto"

    def __post_init__(self) -> None:
        for name, value, valid in (
            ("mean", self.mean, MEANS),
            ("vol", self.vol, VOLATILITIES),
            ("dist", self.dist, DISTRIBUTIONS),
        ):
            if not isinstance(value, str) or value.lower() not in valid:
                raise SpecificationError(
                    f"UnivariateSpec.{name}={value!r} is not offered by arch; "
                    f"valid choices: {', '.join(valid)}"
                )
        for name in ("p", "o", "q", "lags"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise SpecificationError(
                    f"UnivariateSpec.{name} must be a non-negative integer, got {value!r}"
                )
        if self.p + self.o == 0 and self.vol.lower() in ("garch", "aparch"):
            raise SpecificationError(
                "UnivariateSpec needs p >= 1 or o >= 1 for a GARCH/APARCH process"
            )
        if not self.power > 0:
            raise SpecificationError(f"UnivariateSpec.power must be positive, got {self.power!r}")
        if self.engine not in ENGINES:
            raise SpecificationError(
                f"UnivariateSpec.engine={self.engine!r} is not an engine; "
                f"valid choices: {', '.join(ENGINES)}"
            )
        if self.engine == "fast" and self.fast_distribution is None:
            raise SpecificationError(
                "UnivariateSpec(engine='fast') covers the constant mean + GARCH(1,1) "
                "(p=1, o=0, q=1, power=2) with normal or t errors and the options "
                f"{sorted(FAST_OPTIONS)}; got {self!r}. Use engine='arch' or 'auto'"
            )

    @property
    def fast_distribution(self) -> str | None:
        """The compiled engine's distribution (``"normal"`` / ``"t"``) if it covers this spec.

        ``None`` when the specification needs ``arch`` (another mean, volatility process,
        order, power or distribution, or optimizer options other than :data:`FAST_OPTIONS`).
        """
        covered = (
            self.mean.lower() == "constant"
            and self.vol.lower() == "garch"
            and (self.p, self.o, self.q) == (1, 0, 1)
            and float(self.power) == 2.0
            and {name for name, _ in self.options} <= FAST_OPTIONS
        )
        return _FAST_DISTRIBUTIONS.get(self.dist.lower()) if covered else None

    @property
    def uses_fast_engine(self) -> bool:
        """Whether :func:`research.volatility.fit_univariate` runs the compiled GARCH(1,1)."""
        return self.engine != "arch" and self.fast_distribution is not None

    def build(self, series: pd.Series) -> ARCHModel:
        """Build the ``arch`` model of one asset.

        Parameters
        ----------
        series : pandas.Series
            Returns of one asset (in percent, no missing values).

        Returns
        -------
        arch.univariate.base.ARCHModel
            The unfitted model.
        """
        kwargs: dict[str, Any] = {
            "mean": self.mean,
            "vol": self.vol,
            "p": self.p,
            "o": self.o,
            "q": self.q,
            "power": self.power,
            "dist": self.dist,
            "rescale": False,
        }
        if self.mean.lower() in ("ar", "arx", "har", "harx"):
            kwargs["lags"] = self.lags
        return arch_model(series, **kwargs)
