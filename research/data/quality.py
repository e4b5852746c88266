"""The data-quality report: an immutable record of every finding and every repair."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from research.data._format import stamp_text

__all__ = ["DataQualityReport", "Severity"]

Severity = Literal["error", "warning", "info"]

ISSUE_COLUMNS: tuple[str, ...] = ("step", "rule", "severity", "asset", "date", "detail")
REPAIR_COLUMNS: tuple[str, ...] = ("step", "action", "asset", "count", "detail")
ASSET_COLUMNS: tuple[str, ...] = (
    "first",
    "last",
    "observations",
    "missing",
    "gaps",
    "gap_periods",
    "longest_gap",
    "non_positive",
    "outliers",
    "all_nan",
)
ALL_ASSETS = "*"
"""Asset label of findings and repairs that concern whole rows rather than one asset."""


def issue_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build a tidy issues table with the canonical columns (possibly empty)."""
    frame = pd.DataFrame(list(rows), columns=list(ISSUE_COLUMNS))
    frame["date"] = pd.to_datetime(frame["date"]) if len(frame) else frame["date"]
    return frame.astype(
        {"step": object, "rule": object, "severity": object, "asset": object, "detail": object}
    )


def repair_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build a tidy repairs table with the canonical columns (possibly empty)."""
    frame = pd.DataFrame(list(rows), columns=list(REPAIR_COLUMNS))
    return frame.astype(
        {"step": object, "action": object, "asset": object, "count": "int64", "detail": object}
    )


@dataclass(frozen=True, eq=False)
class DataQualityReport:
    """What validation found in a price panel and what was repaired on the way.

    Attached to every frame returned by :func:`research.data.read_prices`,
    :func:`research.data.load_prices`, :func:`research.data.load_dataset` and
    :func:`research.data.align` as ``frame.attrs["quality"]``, and returned by
    :func:`research.data.validate_prices`.

    Parameters
    ----------
    assets : pandas.DataFrame
        One row per asset (index ``asset``) with columns ``first`` and ``last``
        (first and last valid observation, i.e. the listed range), ``observations``,
        ``missing`` (NaN inside the listed range), ``gaps`` (runs of missing calendar
        periods longer than the tolerance), ``gap_periods`` (calendar periods in those
        runs), ``longest_gap``, ``non_positive`` (prices at or below zero), ``outliers``
        (returns with ``|z|`` above the threshold) and ``all_nan``.
    issues : pandas.DataFrame
        Every finding, one per row: ``step`` (``read``, ``validate``, ``align``, ...),
        ``rule``, ``severity`` (``error``, ``warning`` or ``info``), ``asset`` (``"*"``
        for whole rows), ``date`` and a readable ``detail``.
    repairs : pandas.DataFrame
        Every change made to the data, one per row: ``step``, ``action`` (e.g.
        ``duplicates_dropped``, ``rows_sorted``, ``rows_dropped``, ``values_filled``),
        ``asset``, ``count`` and ``detail``.
    source : str
        Where the data came from (dataset name, file path or ``"DataFrame"``).
    values : {"prices", "rates"}
        Whether the columns are prices (positive, returns are meaningful) or rates
        (funding, yields: any sign allowed).
    calendar : {"equity", "crypto"}
        Trading calendar used for gap detection (5 or 7 days a week).
    frequency : str
        ``"daily"``, ``"intraday"`` (with the step, e.g. ``"intraday 1h"``) or ``"other"``.
    n_rows : int
        Rows (timestamps) of the validated frame.
    first, last : pandas.Timestamp
        First and last timestamp of the validated frame.
    warnings : tuple of str
        Messages of every :class:`~research.errors.DataQualityWarning` emitted while
        producing the data (warnings get filtered, reports get saved).

    Notes
    -----
    The report is a value: it is never modified in place, :meth:`extend` returns a new
    report, and ``copy.deepcopy`` returns the same object (pandas deep-copies
    ``attrs`` on every operation, which must stay cheap). The tables it returns are
    copies.
    """

    assets: pd.DataFrame
    issues: pd.DataFrame = field(default_factory=lambda: issue_frame([]))
    repairs: pd.DataFrame = field(default_factory=lambda: repair_frame([]))
    source: str = "DataFrame"
    values: Literal["prices", "rates"] = "prices"
    calendar: str = "equity"
    frequency: str = "daily"
    n_rows: int = 0
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    warnings: tuple[str, ...] = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> DataQualityReport:
        return self

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain JSON types (stamps as ISO 8601 text).

        Returns
        -------
        dict
            Inverse of :meth:`from_dict`; ``json.dumps`` accepts it.
        """
        assets = self.assets.reset_index() if len(self.assets.columns) else pd.DataFrame()
        return {
            "assets": _records(assets),
            "issues": _records(self.issues),
            "repairs": _records(self.repairs),
            "source": self.source,
            "values": self.values,
            "calendar": self.calendar,
            "frequency": self.frequency,
            "n_rows": int(self.n_rows),
            "first": _iso(self.first),
            "last": _iso(self.last),
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DataQualityReport:
        """Rebuild a report from :meth:`to_dict` output (e.g. after a Parquet round trip).

        Parameters
        ----------
        data : mapping
            As returned by :meth:`to_dict`.

        Returns
        -------
        DataQualityReport
        """
        assets = pd.DataFrame(list(data["assets"]))
        if len(assets.columns):
            for column in ("first", "last"):
                assets[column] = _stamps(assets[column])
            assets = assets.set_index("asset")
            assets.columns.name = None
        issues = issue_frame({**row, "date": _stamp(row["date"])} for row in data["issues"])
        return cls(
            assets=assets,
            issues=issues,
            repairs=repair_frame(data["repairs"]),
            source=data["source"],
            values=data["values"],
            calendar=data["calendar"],
            frequency=data["frequency"],
            n_rows=int(data["n_rows"]),
            first=_stamp(data["first"]),
            last=_stamp(data["last"]),
            warnings=tuple(data["warnings"]),
        )

    @property
    def n_issues(self) -> int:
        """Number of findings of any severity."""
        return len(self.issues)

    @property
    def has_errors(self) -> bool:
        """Whether any finding has severity ``"error"``."""
        return bool((self.issues["severity"] == "error").any())

    def repair_counts(self) -> pd.Series:
        """Count each repair action over all steps and assets.

        Returns
        -------
        pandas.Series
            Indexed by action (e.g. ``duplicates_dropped``), integer counts.
        """
        if self.repairs.empty:
            return pd.Series(dtype="int64", name="count")
        return self.repairs.groupby("action", sort=True)["count"].sum().astype("int64")

    def issue_counts(self) -> pd.Series:
        """Count the findings of each rule.

        Returns
        -------
        pandas.Series
            Indexed by rule name, integer counts.
        """
        if self.issues.empty:
            return pd.Series(dtype="int64", name="count")
        return self.issues.groupby("rule", sort=True).size().rename("count").astype("int64")

    def to_frame(self) -> pd.DataFrame:
        """Per-asset table: listing range, counts of findings and of repairs.

        Returns
        -------
        pandas.DataFrame
            One row per asset; the columns of :attr:`assets` followed by one column per
            repair action that touched a single asset (counts, 0 when none).
        """
        frame = self.assets.copy()
        per_asset = self.repairs[self.repairs["asset"] != ALL_ASSETS]
        if not per_asset.empty:
            counts = per_asset.pivot_table(
                index="asset", columns="action", values="count", aggfunc="sum"
            )
            counts = counts.reindex(frame.index).fillna(0).astype("int64")
            frame = frame.join(counts)
        return frame

    def summary(self) -> pd.DataFrame:
        """Per-asset overview with a status column, for display in a notebook.

        Returns
        -------
        pandas.DataFrame
            :meth:`to_frame` plus ``status``: ``"error"``, ``"warning"``, ``"info"`` or
            ``"ok"``, the worst severity among the asset's findings (findings about
            whole rows, asset ``"*"``, are listed by ``str(report)``).
        """
        frame = self.to_frame()
        rank = {"error": 3, "warning": 2, "info": 1}
        names = {value: key for key, value in rank.items()}
        worst = (
            self.issues.assign(rank=self.issues["severity"].map(rank))
            .groupby("asset")["rank"]
            .max()
        )
        frame["status"] = worst.reindex(frame.index).map(names).fillna("ok").astype(object)
        return frame

    def extend(
        self,
        *,
        issues: pd.DataFrame | None = None,
        repairs: pd.DataFrame | None = None,
        warnings: Iterable[str] = (),
    ) -> DataQualityReport:
        """Return a new report with more findings, repairs and warning messages.

        Parameters
        ----------
        issues, repairs : pandas.DataFrame, optional
            Rows in the layout of :attr:`issues` and :attr:`repairs`.
        warnings : iterable of str
            Messages of warnings emitted by the step.

        Returns
        -------
        DataQualityReport
        """
        new_issues = self.issues
        if issues is not None and not issues.empty:
            new_issues = pd.concat([self.issues, issues], ignore_index=True)
        new_repairs = self.repairs
        if repairs is not None and not repairs.empty:
            new_repairs = pd.concat([self.repairs, repairs], ignore_index=True)
        return dataclasses.replace(
            self,
            issues=new_issues,
            repairs=new_repairs,
            warnings=(*self.warnings, *warnings),
        )

    def __str__(self) -> str:
        span = f"{stamp_text(self.first)} .. {stamp_text(self.last)}"
        lines = [
            f"Data-quality report: {self.source}",
            f"  {self.n_rows:,} rows x {len(self.assets)} assets, {span}; "
            f"{self.values}, {self.frequency}, {self.calendar} calendar",
        ]
        counts = self.issue_counts()
        if counts.empty:
            lines.append("  findings: none")
        else:
            by_severity = self.issues.groupby("severity").size()
            head = ", ".join(
                f"{by_severity[s]} {s}" for s in ("error", "warning", "info") if s in by_severity
            )
            lines.append(f"  findings: {head}")
            lines.extend(f"    {rule}: {count}" for rule, count in counts.items())
        repairs = self.repair_counts()
        if repairs.empty:
            lines.append("  repairs: none")
        else:
            lines.append("  repairs:")
            lines.extend(f"    {action}: {count:,}" for action, count in repairs.items())
        for message in self.warnings:
            lines.append(f"  warning: {message}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"DataQualityReport(source={self.source!r}, rows={self.n_rows}, "
            f"assets={len(self.assets)}, issues={self.n_issues}, "
            f"repairs={int(self.repair_counts().sum())})"
        )

    def _repr_html_(self) -> str:
        head = str(self).splitlines()
        return "<pre>" + "\n".join(head[:2]) + "</pre>" + self.summary().to_html()


def _iso(stamp: Any) -> str | None:
    return None if stamp is None or pd.isna(stamp) else pd.Timestamp(stamp).isoformat()


def _stamp(text: str | None) -> pd.Timestamp | None:
    return None if text is None else pd.Timestamp(text)


def _stamps(texts: pd.Series) -> pd.Series:
    parsed = [pd.NaT if t is None else pd.Timestamp(t) for t in texts]
    return pd.Series(pd.DatetimeIndex(parsed), index=texts.index)


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value if isinstance(value, str | int | float | bool) else str(value)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(key): _plain(value) for key, value in row.items()}
        for row in frame.to_dict(orient="records")
    ]
