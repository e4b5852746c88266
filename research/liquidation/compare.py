"""Cross vs isolated margin on identical accounts and shocks, and the contagion they transmit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from research.liquidation.engine import CascadeSimulator
from research.liquidation.results import CascadeResult
from research.liquidation.state import Accounts, ShockPath

__all__ = ["ModeComparison", "compare_modes"]


def _metrics(result: CascadeResult) -> pd.Series:
    contagion = result.contagion()
    amplification = result.amplification()["amplification"]
    return pd.Series(
        {
            "liquidated notional": result.liquidated_notional,
            "accounts liquidated": float(len(result.accounts_liquidated)),
            "accounts bankrupt": float(len(result.accounts_bankrupt)),
            "bad debt": result.bad_debt,
            "fund drawdown": result.fund_drawdown,
            "ADL haircut": result.adl_haircut,
            "uncovered": result.uncovered,
            "contagion accounts": contagion["accounts"],
            "contagion notional": contagion["notional"],
            "max amplification": float(amplification.max())
            if amplification.notna().any()
            else np.nan,
        }
    )


@dataclass(frozen=True, eq=False)
class ModeComparison:
    """The same accounts and path run all-cross and all-isolated (spec §6, §8).

    Attributes
    ----------
    cross, isolated : CascadeResult
        The two runs.
    """

    cross: CascadeResult
    isolated: CascadeResult

    def summary(self) -> pd.DataFrame:
        """Metrics side by side with ``cross - isolated``."""
        frame = pd.DataFrame({"cross": _metrics(self.cross), "isolated": _metrics(self.isolated)})
        frame["cross - isolated"] = frame["cross"] - frame["isolated"]
        return frame

    def liquidated_by_asset(self) -> pd.DataFrame:
        """Liquidated notional per asset in both runs."""
        return pd.DataFrame(
            {"cross": self.cross.liquidated("asset"), "isolated": self.isolated.liquidated("asset")}
        ).fillna(0.0)

    def __str__(self) -> str:
        return f"cross vs isolated on {self.cross.profile}\n{self.summary().to_string()}"

    def _repr_html_(self) -> str:
        return f"<p>cross vs isolated on {self.cross.profile}</p>{self.summary().to_html()}"


def compare_modes(
    simulator: CascadeSimulator, accounts: Accounts, path: ShockPath | None = None
) -> ModeComparison:
    """Run ``accounts`` all-cross and all-isolated on the same simulator and path.

    Isolated accounts split their collateral across positions pro rata to notional at entry
    (the spec's ``pro_rata_IM`` with one initial-margin rate).

    Returns
    -------
    ModeComparison
    """
    return ModeComparison(
        cross=simulator.run(accounts.with_mode("cross"), path),
        isolated=simulator.run(accounts.with_mode("isolated"), path),
    )
