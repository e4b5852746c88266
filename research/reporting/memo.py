"""The decision memo: the review's executive summary, written from a run's recorded results.

A risk committee signs off a parameter set on one or two pages: the ask (adopt set X, its
fingerprint and as-of date), the proposed numbers against the current ones with the constraint
that binds each, the backtest verdict of the proposal under one stated rule, the limitations
and model risk of this run, and a sign-off block. Every sentence here is built from what the
studies recorded (:func:`research.reporting.record`), so a run on other data states what that
run found; nothing is re-computed.

The studies record for the memo:

- ``parameters`` and ``proposal_fingerprint`` (the proposed set, study 04);
- ``calibration``: :func:`calibration_record` of the calibration result (study 04);
- ``coverage_proposal``: every row of the frozen and rolling backtests' coverage tables
  (:func:`research.backtest.proposal_coverage`, an outer ``backtest`` level), and
  ``backtest_periods``: :func:`backtest_periods` of the same backtests (study 05), with
  ``backtest_fingerprint``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from research.data import duration_label, period_length, source_label
from research.reporting.calibration_exhibits import credit_reason, regime_label
from research.reporting.results import recorded_frame
from research.reporting.tables import format_pvalue

if TYPE_CHECKING:
    from research.backtest.proposal import ProposalBacktest
    from research.calibration.calibrate import CalibrationResult

__all__ = [
    "FAILURES",
    "NEAR_THRESHOLD",
    "DecisionMemo",
    "MemoSection",
    "SignOff",
    "VerdictRule",
    "backtest_periods",
    "backtest_verdicts",
    "binding_constraints",
    "calibration_record",
    "decision_memo",
    "limitations",
    "parameter_changes",
]

NEAR_THRESHOLD = 0.1
"""A credited pair is near the no-credit threshold when its least favourable hedge correlation is
within this distance of the minimum correlation, or its correlation fall within this distance
of the break threshold."""

#: A Python list of strings and a quoted word, as other modules' messages print them.
_LIST_REPR = re.compile(r"\[((?:'[^']*'(?:, )?)+)\]")
_QUOTED = re.compile(r"(?<![A-Za-z])'([A-Za-z0-9_.\-/]+)'")
#: Most failing rows the recommendation names itself (more: the verdict section names them).
_NAMED_ROWS = 4
#: A warning about one asset: ``"BTC: only 68 moves ..."``.
_ASSET_WARNING = re.compile(r"^([A-Za-z0-9._-]+): (.+)$", re.DOTALL)
_REGIME_TOKEN = re.compile(r"\b(?:dcc|copula)_q\d+\b")

FAILURES = ("a yellow or red traffic light", "too many exceptions", "clustered exceptions")
"""What fails a backtest row under :class:`VerdictRule`, in the order the memo names them."""

#: A blank line to sign on.
_BLANK = "_" * 18

#: Severity of the verdicts, worst last (a row of several positions takes the worst).
_SEVERITY = {"n/a": 0, "pass": 1, "too conservative": 2, "fail": 3}


@dataclass(frozen=True)
class VerdictRule:
    """The one rule that turns a backtest row into a verdict.

    ``fail`` when the Basel traffic light is not green, when the two-sided Kupiec test rejects
    at ``significance`` with more exceptions than expected, or when Christoffersen's
    independence test rejects at ``significance`` (exceptions cluster); ``too conservative``
    when Kupiec rejects with fewer exceptions than expected (and nothing fails); ``pass``
    otherwise. An independence test that cannot be computed (no exception to test) is
    ``n/a``: it neither passes nor fails a row and is listed among the limitations.

    Parameters
    ----------
    significance : float
        Size of both tests, in (0, 1).
    """

    significance: float = 0.05

    def __post_init__(self) -> None:
        from research.errors import ParameterError

        if not 0.0 < self.significance < 1.0:
            raise ParameterError(f"significance must be in (0, 1), got {self.significance!r}")

    def describe(self) -> str:
        """Return the rule as one sentence for the memo."""
        size = f"{self.significance:.0%}"
        return (
            f"A row passes when its Basel traffic light is green, the two-sided Kupiec test does "
            f"not reject at {size} and Christoffersen's independence test does not reject at "
            f"{size} (n/a when it cannot be computed, e.g. without exceptions). It fails on a "
            f"yellow or red light, on a Kupiec rejection with too many exceptions or on "
            f"clustered exceptions; a Kupiec rejection with too few exceptions is 'too "
            f"conservative' (margin above the target)."
        )

    def failures(
        self,
        kupiec_pvalue: float,
        kupiec_direction: str,
        independence_pvalue: float | str,
        traffic_light: str,
    ) -> tuple[str, ...]:
        """Return which of :data:`FAILURES` a backtest row fails (see :meth:`judge`)."""
        out = []
        if traffic_light != "green":
            out.append(FAILURES[0])
        if kupiec_pvalue < self.significance and kupiec_direction == "too many":
            out.append(FAILURES[1])
        if not _undefined(independence_pvalue) and float(independence_pvalue) < self.significance:
            out.append(FAILURES[2])
        return tuple(out)

    def judge(
        self,
        kupiec_pvalue: float,
        kupiec_direction: str,
        independence_pvalue: float | str,
        traffic_light: str,
    ) -> tuple[str, str]:
        """Return the verdict of one backtest row and its reason.

        Parameters
        ----------
        kupiec_pvalue : float
            Two-sided Kupiec p-value (NaN: no test observations).
        kupiec_direction : str
            ``"too many"``, ``"too few"`` or ``"as expected"``.
        independence_pvalue : float or str
            Christoffersen p-value, or ``"undefined"`` (NaN is also undefined).
        traffic_light : str
            ``"green"``, ``"yellow"`` or ``"red"``.

        Returns
        -------
        verdict : str
            ``"pass"``, ``"too conservative"``, ``"fail"`` or ``"n/a"`` (no test observations).
        reason : str
            Why, empty for a pass.
        """
        if _undefined(kupiec_pvalue):
            return "n/a", "no test observations"
        size = self.significance
        failed = self.failures(kupiec_pvalue, kupiec_direction, independence_pvalue, traffic_light)
        failures = []
        if FAILURES[0] in failed:
            failures.append(f"{traffic_light} traffic light")
        if FAILURES[1] in failed:
            failures.append(f"too many exceptions (Kupiec p {format_pvalue(kupiec_pvalue)})")
        if FAILURES[2] in failed:
            failures.append(
                f"exceptions cluster (Christoffersen p {format_pvalue(float(independence_pvalue))})"
            )
        if failures:
            return "fail", "; ".join(failures)
        if kupiec_pvalue < size and kupiec_direction == "too few":
            return (
                "too conservative",
                f"too few exceptions (Kupiec p {format_pvalue(kupiec_pvalue)})",
            )
        return "pass", ""


@dataclass(frozen=True)
class SignOff:
    """Who signs the review off; blank lines to sign when a name is not given.

    Parameters
    ----------
    preparer, reviewer : str, optional
        Names printed in the sign-off block.
    date : str
        Date of the run (``YYYY-MM-DD``).
    """

    preparer: str | None = None
    reviewer: str | None = None
    date: str = ""


@dataclass(frozen=True)
class MemoSection:
    """One section of the memo: a heading, its text and optionally a table.

    Parameters
    ----------
    title : str
        Section heading.
    text : str
        Markdown text (paragraphs and bullet lists).
    table : pandas.DataFrame, optional
        The section's table (numbers as numbers; ``percent`` lists its fraction columns).
    caption : str
        The table's caption.
    percent : tuple of str
        Columns of ``table`` holding fractions to print as percentages.
    """

    title: str
    text: str
    table: pd.DataFrame | None = None
    caption: str = ""
    percent: tuple[str, ...] = ()


@dataclass(frozen=True)
class DecisionMemo:
    """The decision memo: its sections, the verdicts and the limitations it states.

    Parameters
    ----------
    sections : tuple of MemoSection
        In reading order.
    verdicts : pandas.DataFrame
        :func:`backtest_verdicts` of the run (empty without a recorded backtest).
    limitations : tuple of str
        :func:`limitations` of the run.
    profile : str or None
        The calibration profile the proposal was calibrated under.
    """

    sections: tuple[MemoSection, ...]
    verdicts: pd.DataFrame
    limitations: tuple[str, ...]
    profile: str | None = None


# --- what the studies record ----------------------------------------------------------------


def calibration_record(result: CalibrationResult) -> dict[str, Any]:
    """Return what the memo needs from a calibration, as plain JSON data (study 04 records it).

    Parameters
    ----------
    result : CalibrationResult
        From :func:`research.calibration.calibrate`.

    Returns
    -------
    dict
        ``profile``, ``source``, ``assets``, ``first``, ``last``, ``rows`` (the sample),
        ``stress_weight``, ``stress_windows`` (used: name -> [start, end]),
        ``stress_windows_outside`` (named windows of the config's catalog that miss the
        sample), ``risk_weights`` (per underlying: ``risk_weight``, ``lookback_risk``,
        ``stress_risk``, ``side``, ``quantile_date``), ``offsets`` (the credit settings),
        ``credits`` (per pair: legs, ``credit``, ``raw_credit``, ``binding_regime``,
        ``haircut``, ``correlation_fall``, ``reason`` and ``hedge_correlation`` per regime),
        ``apc`` (the tool that binds most often on the APC margin path, or None),
        ``history`` (the late-listing policy: ``policy``, each asset's first return date,
        ``balanced_from``, rows dropped by alignment), ``copula`` (with the tail-dependence
        regime on: its quantile, ``nu`` and per pair the regime's hedge correlation and tail
        dependence; None otherwise) and ``warnings``.
    """
    from research.margin.credits import hedge_sign
    from research.stress import stress_windows

    config = result.config
    desc = result.data_description
    first, last = pd.Timestamp(desc["first"]), pd.Timestamp(desc["last"])
    considered = {}
    if config.stress.asset_class is not None:
        considered.update({w.name: w for w in stress_windows(config.stress.asset_class)})
    considered.update({w.name: w for w in stress_windows() if w.name in config.stress.names})
    outside = {
        name: [f"{w.start:%Y-%m-%d}", f"{w.end:%Y-%m-%d}"]
        for name, w in considered.items()
        if name not in result.stress_windows
    }
    drivers = result.risk_weights.summary()
    risk_weights = {
        str(asset): {
            "risk_weight": float(row["risk_weight"]),
            "lookback_risk": float(row["lookback_risk"]),
            "stress_risk": _float_or_none(row.get("stress_risk")),
            "side": str(row["side"]),
            "quantile_date": _date_or_none(row.get("quantile_date")),
        }
        for asset, row in drivers.iterrows()
    }
    credits = []
    if result.offsets is not None:
        table = result.offsets.table
        regimes = result.offsets.regimes
        for name, row in table.iterrows():
            sign = -hedge_sign(row["direction"])  # the hedge correlation is -sign x rho
            credits.append(
                {
                    "pair": str(name),
                    "first": str(row["first"]),
                    "second": str(row["second"]),
                    "credit": float(row["credit"]),
                    "raw_credit": float(row["raw_credit"]),
                    "binding_regime": str(row["binding_regime"]),
                    "haircut": float(row["haircut"]),
                    "correlation_fall": float(row["correlation_fall"]),
                    "reason": str(row["reason"]),
                    "hedge_correlation": {r: sign * float(row[f"rho_{r}"]) for r in regimes},
                }
            )
    offsets = config.offsets
    apc = None
    if result.apc is not None:
        share = result.apc.binding.value_counts(normalize=True)
        apc = {
            "tool": str(result.apc.settings.tool),
            "binds_most": str(share.idxmax()),
            "share": float(share.max()),
        }
    copula = None
    if result.copula is not None:
        table = result.evidence()["copula_regime"]
        copula = {
            "quantile": float(config.offsets.copula_quantile),
            "nu": float(table["nu"].iloc[0]),
            "pairs": {
                str(pair): {
                    "hedge_correlation": float(row["hedge_rho"]),
                    "tail_dependence": float(row["tail_dependence"]),
                }
                for pair, row in table.iterrows()
            },
        }
    return {
        "profile": config.profile,
        "source": str(desc["source"]),
        "history": _plain_data(desc.get("history")),
        "copula": copula,
        "assets": [str(a) for a in desc["assets"]],
        "first": first.strftime("%Y-%m-%d"),
        "last": last.strftime("%Y-%m-%d"),
        "rows": int(desc["rows"]),
        "stress_weight": result.parameters.stress_weight,
        "stress_windows": {
            n: [f"{a:%Y-%m-%d}", f"{b:%Y-%m-%d}"] for n, (a, b) in result.stress_windows.items()
        },
        "stress_windows_outside": outside,
        "risk_weights": risk_weights,
        "period": str(result.parameters.period),
        "offsets": {
            "cap": float(offsets.cap),
            "recent": offsets.recent or result.parameters.lookback,
            "min_correlation": float(offsets.min_correlation),
            "break_threshold": float(offsets.break_threshold),
            "significance": float(offsets.significance),
            "dcc_quantile": float(offsets.dcc_quantile) if offsets.dcc else None,
            "dcc_window": int(offsets.dcc_window) if offsets.dcc else None,
            "dcc_kind": str(offsets.dcc_kind) if offsets.dcc else None,
        },
        "credits": credits,
        "apc": apc,
        "warnings": list(result.warnings),
    }


def backtest_periods(backtests: Mapping[str, ProposalBacktest | None]) -> dict[str, Any]:
    """Return the margined period of each backtest of a proposal (study 05 records it).

    Parameters
    ----------
    backtests : mapping of str to ProposalBacktest or None
        ``{"frozen": ..., "rolling": ...}``; ``None`` for a backtest that could not run
        (e.g. no day after the as-of date).

    Returns
    -------
    dict
        Per backtest its ``first`` and ``last`` margin day, the number of ``days`` and of
        parameter ``sets``; ``None`` for a backtest that did not run.
    """
    periods: dict[str, Any] = {}
    for name, backtest in backtests.items():
        if backtest is None:
            periods[name] = None
            continue
        dates = backtest.result.dates
        periods[name] = {
            "first": f"{dates[0]:%Y-%m-%d}",
            "last": f"{dates[-1]:%Y-%m-%d}",
            "days": len(dates),
            "sets": len(backtest.refits),
        }
    return periods


# --- the memo's tables ----------------------------------------------------------------------


def binding_constraints(calibration: Mapping[str, Any]) -> pd.Series:
    """Name the constraint that sets every risk weight and offset credit of a calibration.

    A risk weight is set by its lookback quantile, raised (or lowered) by the stress windows at
    the stress weight; with stress moves pooled into the sample the pooled quantile sets it.
    A credit is set by its least favourable correlation regime (the recent sample, the pooled
    stress windows or the DCC lower quantile) times the offset cap, less a break haircut; a
    refused credit by its reason.

    Parameters
    ----------
    calibration : mapping
        :func:`calibration_record` of the calibration.

    Returns
    -------
    pandas.Series
        Indexed ``"risk weight <asset>"`` and ``"offset credit <A/B>"`` (legs in the
        parameter set's order, alphabetical).
    """
    out: dict[str, str] = {}
    weight = calibration.get("stress_weight")
    windows = calibration.get("stress_windows") or {}
    for asset, row in calibration.get("risk_weights", {}).items():
        tail = f"{row['side']} tail" + (
            f", move of {row['quantile_date']}" if row.get("quantile_date") else ""
        )
        stress = row.get("stress_risk")
        if not windows or stress is None or _undefined(stress):
            text = f"lookback quantile ({tail}); no stress window in the sample"
        elif weight is None:
            text = f"lookback with the stress windows' moves pooled ({tail})"
        elif stress > row["lookback_risk"]:
            text = (
                f"stress windows {stress:.2%} (weight {weight:.0%}) over lookback "
                f"{row['lookback_risk']:.2%}"
            )
        else:
            text = (
                f"lookback {row['lookback_risk']:.2%} ({tail}); stress windows' {stress:.2%} "
                f"lower it (weight {weight:.0%})"
            )
        out[f"risk weight {asset}"] = text
    offsets = calibration.get("offsets", {})
    for row in calibration.get("credits", []):
        if row["reason"]:
            text = f"no credit: {_reason_text(row['reason'])}"
        else:
            text = f"{_regime_label(row['binding_regime'], offsets)} x {offsets['cap']:.0%} cap"
            if row["haircut"] > 0:
                text += f", less a {row['haircut']:.1%} break haircut"
        out[f"offset credit {'/'.join(sorted((row['first'], row['second'])))}"] = text
    return pd.Series(out, name="binding constraint", dtype=object)


def parameter_changes(
    proposed: Mapping[str, Any],
    baseline: Mapping[str, Any] | None,
    binding: pd.Series | None = None,
) -> pd.DataFrame:
    """Proposed against current risk weights and offset credits, with the change in percent.

    Parameters
    ----------
    proposed : mapping
        The proposed set (``MarginParameters.to_dict()``).
    baseline : mapping or None
        The current set in the same form; ``None`` for a first calibration (the table then
        has the proposed numbers only).
    binding : pandas.Series, optional
        :func:`binding_constraints`, added as a column.

    Returns
    -------
    pandas.DataFrame
        Indexed ``"risk weight <asset>"`` / ``"offset credit <A/B>"``: ``proposed``; with a
        baseline also ``current`` (fractions; NaN where a set has no such number), ``change``
        (relative change; NaN when undefined) and ``note`` (``"new"``, ``"dropped"``,
        ``"was zero"`` or empty); then ``binding constraint`` when given.
    """
    new = _numbers(proposed)
    if baseline is None:
        frame = pd.DataFrame({"proposed": pd.Series(new, dtype=float)})
    else:
        old = _numbers(baseline)
        rows = {}
        for key in list(new) + [k for k in old if k not in new]:
            after, before = new.get(key, math.nan), old.get(key, math.nan)
            note = "new" if key not in old else "dropped" if key not in new else ""
            if before == 0.0:
                change = 0.0 if after == 0.0 else math.nan
                note = "" if after == 0.0 else "was zero"
            else:
                change = (after - before) / abs(before)
            rows[key] = {"proposed": after, "current": before, "change": change, "note": note}
        frame = pd.DataFrame.from_dict(
            rows, orient="index", columns=["proposed", "current", "change", "note"]
        )
    if binding is not None:
        frame["binding constraint"] = binding.reindex(frame.index).fillna("")
    return frame


def backtest_verdicts(coverage: pd.DataFrame, rule: VerdictRule | None = None) -> pd.DataFrame:
    """Judge the proposal's backtests per underlying, per pair and per family.

    Parameters
    ----------
    coverage : pandas.DataFrame
        Rows of :func:`research.backtest.proposal_coverage` with a ``backtest`` column (or
        index level) naming the backtest (``"frozen"``, ``"rolling"``), and ``family``,
        ``label``, ``test_exceptions``, ``expected``, ``kupiec_pvalue``,
        ``kupiec_direction``, ``independence_pvalue`` and ``traffic_light``.
    rule : VerdictRule, optional
        Default :class:`VerdictRule` ``()``.

    Returns
    -------
    pandas.DataFrame
        One row per (``backtest``, ``subject``): the underlying (its long and short positions
        together, the worse verdict), the pair, or ``"all outright"`` / ``"all pairs"`` for the
        family rows; columns ``kind`` (``"underlying"``, ``"pair"``, ``"family"``),
        ``exceptions``, ``expected``, ``verdict``, ``reason``, ``failures`` (which of
        :data:`FAILURES`) and ``independence`` (``"n/a"`` when undefined, else the p-value).
    """
    rule = rule or VerdictRule()
    frame = coverage.reset_index() if "backtest" not in coverage.columns else coverage.copy()
    rows = []
    for record in frame.to_dict(orient="records"):
        tests = (
            record["kupiec_pvalue"],
            record["kupiec_direction"],
            record["independence_pvalue"],
            record["traffic_light"],
        )
        verdict, reason = rule.judge(*tests)
        failed = () if verdict == "n/a" else rule.failures(*tests)
        family, label = record["family"], str(record["label"])
        if label == "all":
            kind, subject, side = "family", f"all {_family_plural(family)}", ""
        elif family == "outright":
            subject, _, side = label.rpartition(" ")
            kind = "underlying"
        else:
            kind, subject, side = "pair", label, ""
        undefined = _undefined(record["independence_pvalue"])
        rows.append(
            {
                "backtest": record["backtest"],
                "subject": subject,
                "kind": kind,
                "exceptions": int(record["test_exceptions"]),
                "expected": float(record["expected"]),
                "verdict": verdict,
                "side": side,
                "reason": reason,
                "failures": failed,
                "independence": "n/a" if undefined else float(record["independence_pvalue"]),
            }
        )
    columns = ["backtest", "subject", "kind", "exceptions", "expected", "verdict", "reason"]
    if not rows:
        return pd.DataFrame(columns=[*columns, "independence"])
    table = pd.DataFrame(rows)
    merged = []
    for (backtest, subject, kind), part in table.groupby(
        ["backtest", "subject", "kind"], sort=False
    ):
        worst = part.loc[part["verdict"].map(_SEVERITY).idxmax()]
        merged.append(
            {
                "backtest": backtest,
                "subject": subject,
                "kind": kind,
                "exceptions": int(part["exceptions"].sum()),
                "expected": float(part["expected"].sum()),
                "verdict": worst["verdict"],
                "reason": _sided_reasons(part["side"], part["reason"]),
                "failures": tuple(f for f in FAILURES if any(f in r for r in part["failures"])),
                "independence": "n/a"
                if (part["independence"] == "n/a").any()
                else float(part["independence"].astype(float).min()),
            }
        )
    order = {"underlying": 0, "pair": 1, "family": 2}
    out = pd.DataFrame(merged)
    out = out.sort_values(
        ["backtest", "kind"], key=lambda c: c.map(order) if c.name == "kind" else c, kind="stable"
    )
    return out.reset_index(drop=True)


def limitations(
    calibration: Mapping[str, Any] | None,
    periods: Mapping[str, Any] | None,
    verdicts: pd.DataFrame,
    *,
    fast: bool = False,
    fingerprints: tuple[str | None, str | None] = (None, None),
    examined: Sequence[str] | None = None,
) -> list[str]:
    """Limitations and model risk of this run, each sentence stated only when it holds.

    Parameters
    ----------
    calibration : mapping or None
        :func:`calibration_record` (None when study 04 did not record it).
    periods : mapping or None
        :func:`backtest_periods` (None when study 05 did not record it).
    verdicts : pandas.DataFrame
        :func:`backtest_verdicts`.
    fast : bool
        The run used reduced samples.
    fingerprints : (str or None, str or None)
        The proposal's and the backtested set's fingerprints.
    examined : sequence of str, optional
        The assets the data-quality study examined (None: no such study in the run).

    Returns
    -------
    list of str
        Markdown sentences.
    """
    notes = []
    if fast:
        notes.append(
            "This is a fast run on reduced samples (fewer assets, pairs and dates): it checks "
            "the pipeline and is not a basis for adopting the set."
        )
    proposed, backtested = fingerprints
    if proposed and backtested and proposed != backtested:
        notes.append(
            f"The backtests margin the set {backtested}, not the proposal {proposed}: their "
            "verdicts do not apply to the proposal."
        )
    if calibration is None:
        notes.append("The calibration recorded no evidence: binding constraints are not shown.")
    else:
        unchecked = [a for a in calibration["assets"] if examined is not None and a not in examined]
        if unchecked:
            their = "its" if len(unchecked) == 1 else "their"
            notes.append(
                f"The data-quality study does not examine {_listing(unchecked)}, which the "
                f"calibration uses: {their} prices are not checked for gaps, outliers or bad "
                "ticks in this review."
            )
        notes += _calibration_limitations(calibration, periods)
    if periods is None and not len(verdicts):
        notes.append("The studies recorded no backtest of the proposal: it has no verdict.")
    else:
        for name in [n for n, period in (periods or {}).items() if period is None]:
            notes.append(
                f"No {name} backtest ran: there are no margin days for it in the data "
                f"(for a frozen backtest, no day after the as-of date)."
            )
    if len(verdicts):
        undefined = verdicts[verdicts["independence"].eq("n/a") & verdicts["kind"].ne("family")]
        for backtest, part in undefined.groupby("backtest", sort=False):
            rows = verdicts[verdicts["backtest"].eq(backtest) & verdicts["kind"].ne("family")]
            total = len(rows)
            defined = rows["subject"][~rows.index.isin(part.index)]
            notes.append(
                f"Christoffersen's independence test is undefined (no exception, or no two in a "
                f"row to compare) for {len(part)} of {total} rows of the {backtest} backtest "
                f"({_rows_text(part['subject'], defined)}): whether "
                f"{'its' if len(part) == 1 else 'their'} exceptions cluster is untested."
            )
    return notes


def decision_memo(
    records: Mapping[str, Any],
    *,
    baseline: Mapping[str, Any] | None = None,
    baseline_name: str | None = None,
    signoff: SignOff | None = None,
    fast: bool = False,
    rule: VerdictRule | None = None,
    examined: Sequence[str] | None = None,
) -> DecisionMemo:
    """Write the decision memo from the results a review's studies recorded.

    Parameters
    ----------
    records : mapping
        Every study's records merged by name (see the module notes for those used).
    baseline : mapping, optional
        The current parameter set (``MarginParameters.to_dict()``); none for a first
        calibration.
    baseline_name : str, optional
        Where the current set comes from (a file name), for the text.
    signoff : SignOff, optional
        Names and date of the sign-off block (blank lines when not given).
    fast : bool
        The run used reduced samples (stated among the limitations).
    rule : VerdictRule, optional
        The verdict rule (default :class:`VerdictRule` ``()``).
    examined : sequence of str, optional
        The assets the run's data-quality study examined (None: the run has no such study).

    Returns
    -------
    DecisionMemo
    """
    rule = rule or VerdictRule()
    signoff = signoff or SignOff()
    proposed = records.get("parameters")
    calibration = records.get("calibration")
    periods = records.get("backtest_periods")
    fingerprint = records.get("proposal_fingerprint")
    coverage = _coverage_rows(records.get("coverage_proposal"))
    verdicts = backtest_verdicts(coverage, rule)
    notes = limitations(
        calibration,
        periods,
        verdicts,
        fast=fast,
        fingerprints=(fingerprint, records.get("backtest_fingerprint")),
        examined=examined,
    )
    ask = _ask(proposed, fingerprint, calibration, periods, baseline, baseline_name, verdicts, fast)
    sections = [MemoSection("The ask", ask)]
    if proposed is not None:
        binding = binding_constraints(calibration) if calibration is not None else None
        changes = parameter_changes(proposed, baseline, binding)
        sections.append(
            MemoSection(
                "Proposed against current parameters",
                _changes_text(changes, baseline, baseline_name, calibration),
                changes,
                (
                    "Proposed risk weights (share of notional) and offset credits (share of the "
                    "hedged legs' summed margin)"
                    + (", the current set's and the relative change" if baseline else "")
                    + ", and the constraint that sets each proposed number."
                ),
                percent=("proposed", "current", "change"),
            )
        )
    backtested = _backtested_set(fingerprint, records.get("backtest_fingerprint"))
    sections.append(_verdict_section(verdicts, backtested, rule))
    sections.append(
        MemoSection(
            "Limitations and model risk",
            "\n".join(f"- {n}" for n in notes) if notes else "This run raised no limitation.",
        )
    )
    sections.append(_signoff_section(signoff, fingerprint, proposed))
    profile = calibration.get("profile") if calibration else None
    return DecisionMemo(tuple(sections), verdicts, tuple(notes), profile)


# --- text -----------------------------------------------------------------------------------


def _ask(
    proposed: Mapping[str, Any] | None,
    fingerprint: str | None,
    calibration: Mapping[str, Any] | None,
    periods: Mapping[str, Any] | None,
    baseline: Mapping[str, Any] | None,
    baseline_name: str | None,
    verdicts: pd.DataFrame,
    fast: bool,
) -> str:
    if proposed is None:
        return "The studies recorded no proposed parameter set: there is nothing to adopt."
    credits = _numbers(proposed)
    n_credits = sum(k.startswith("offset credit") for k in credits)
    granted = sum(k.startswith("offset credit") and v > 0 for k, v in credits.items())
    profile = f" under profile {calibration['profile']}" if calibration else ""
    period = proposed.get("period") or "1D"
    ask = (
        f"**The committee is asked to adopt parameter set {proposed['version']} "
        f"[{fingerprint or 'fingerprint not recorded'}]**, calibrated as of "
        f"{proposed['as_of']}{profile}: {proposed['level']:.1%} confidence over a margin "
        f"period of risk of {_span(proposed['mpor'], period)}, a lookback of "
        f"{_span(proposed['lookback'], period)}, {len(credits) - n_credits} risk weights and "
        f"{n_credits} candidate offset credits, {granted} of them granted."
    )
    if baseline is None:
        ask += " This is a first calibration: no current set was given, so none is replaced."
    else:
        ask += (
            f" It replaces the current set {baseline['version']} [{_fingerprint(baseline)}] "
            f"as of {baseline['as_of']}" + (f" ({baseline_name})." if baseline_name else ".")
        )
    paragraphs = [ask, _recommendation(verdicts, fast)]
    if calibration is not None:
        paragraphs.append(_window_text(calibration, proposed, periods))
    return "\n\n".join(paragraphs)


def _recommendation(verdicts: pd.DataFrame, fast: bool) -> str:
    prefix = (
        "This fast run is not a basis for adoption; on its numbers the recommendation would be: "
        if fast
        else "**Recommendation:** "
    )
    rows = verdicts[verdicts["kind"].ne("family")] if len(verdicts) else verdicts
    if not len(rows):
        return prefix + (
            "no adoption on this evidence. No backtest of the proposal was recorded, so its "
            "coverage is unknown."
        )
    failing = rows[rows["verdict"].eq("fail")]
    conservative = rows[rows["verdict"].eq("too conservative")]
    if len(failing):
        named = (
            f": {_listing(_subjects(failing))}"
            if len(failing) <= _NAMED_ROWS
            else " (named in the backtest verdict)"
        )
        return prefix + (
            f"do not adopt as proposed. {len(failing)} of {len(rows)} backtest rows "
            f"{'fails' if len(failing) == 1 else 'fail'} the rule below{named}."
        )
    text = f"adopt. None of the {len(rows)} backtest rows fails the rule below"
    if len(conservative):
        text += (
            f"; {_listing(_subjects(conservative))} margin more than the target needs "
            "(too few exceptions), which costs collateral, not coverage"
        )
    return prefix + text + "."


def _window_text(
    calibration: Mapping[str, Any], proposed: Mapping[str, Any], periods: Mapping[str, Any] | None
) -> str:
    assets = calibration["assets"]
    period = proposed.get("period") or "1D"
    text = (
        f"The set is calibrated on {calibration['rows']:,} {_bar_word(period)} returns of "
        f"{len(assets)} "
        f"assets ({', '.join(assets)}) from {calibration['first']} to {calibration['last']} "
        f"({source_label(calibration['source'])})"
    )
    if proposed["as_of"] == calibration["last"]:
        text += "; its as-of date is the last day of that sample."
    else:
        text += f"; its as-of date is {proposed['as_of']}."
    text += _history_text(calibration.get("history"))
    windows = calibration.get("stress_windows") or {}
    if windows:
        weight = calibration.get("stress_weight")
        use = (
            "are pooled into the risk-weight sample"
            if weight is None
            else f"enter the risk weights at a weight of {weight:.0%}"
        )
        text += (
            f" The stress windows inside the sample ({_windows(windows)}) {use} and make the "
            "stressed correlation regime of the credits."
        )
    else:
        text += " No stress window lies inside the sample."
    outside = calibration.get("stress_windows_outside") or {}
    if outside:
        text += f" Outside it: {_windows(outside)} (see the limitations)."
    periods = {n: p for n, p in (periods or {}).items() if p is not None}
    if "frozen" in periods:
        p = periods["frozen"]
        text += (
            f" The frozen backtest margins the set unchanged on the {_count(p['days'], period)} "
            f"after its as-of date ({p['first']} to {p['last']})."
        )
    if "rolling" in periods:
        p = periods["rolling"]
        text += (
            f" The rolling backtest re-runs the same calibration at {p['sets']} refit "
            f"date{'' if p['sets'] == 1 else 's'} on "
            f"past data only, each set margining the {_unit(period)}s to the next refit "
            f"({p['first']} to {p['last']}, {_count(p['days'], period)})."
        )
    return text


def _history_text(history: Mapping[str, Any] | None) -> str:
    """Say how assets listed at different dates share the sample (config ``data.history``)."""
    if not history:
        return ""
    firsts: dict[str, list[str]] = {}
    for asset, first in (history.get("assets") or {}).items():
        firsts.setdefault(str(first)[:10], []).append(str(asset))
    if history.get("policy") == "pairwise" and len(firsts) > 1:
        starts = "; ".join(f"{_listing(a)} from {d}" for d, a in sorted(firsts.items()))
        balanced = history.get("balanced_from")
        return (
            f" History is pairwise: each risk weight uses its asset's own history ({starts}) and "
            "each credit its pair's common dates"
            + (
                f"; the DCC regime and the APC path use the dates from {str(balanced)[:10]} "
                "on which every asset trades."
                if balanced
                else "."
            )
        )
    dropped = int(history.get("rows_dropped") or 0)
    if dropped:
        causes = _listing([str(a) for a in history.get("dropped_by_asset") or {}])
        return (
            f" Only dates on which every asset trades are used: the missing prices of "
            f"{causes or 'some assets'} removed {dropped:,} rows from every asset "
            "(data.history: pairwise would keep them)."
        )
    return ""


def _copula_text(calibration: Mapping[str, Any]) -> str:
    """State the tail-dependence regime when the calibration used it."""
    copula = calibration.get("copula")
    if not copula:
        return ""
    name = f"copula_q{round(100 * copula['quantile']):02d}"
    binding = [c["pair"] for c in calibration.get("credits", []) if c["binding_regime"] == name]
    lam = [p["tail_dependence"] for p in copula["pairs"].values()]
    return (
        f" Credits are also tested under a tail-dependence regime: per pair, the "
        f"{copula['quantile']:.0%} quantile on the hedge's side of a Student-t copula DCC path "
        f"(nu = {copula['nu']:.1f}; tail dependence at that correlation "
        f"{min(lam):.2f} to {max(lam):.2f}); it binds "
        + (f"the credits of {_listing(binding)}." if binding else "no credit.")
    )


def _changes_text(
    changes: pd.DataFrame,
    baseline: Mapping[str, Any] | None,
    baseline_name: str | None,
    calibration: Mapping[str, Any] | None,
) -> str:
    if baseline is None:
        text = (
            "No current set was given (`--baseline` or `baseline:` in the review config): this "
            "is the first calibration, so the table shows the proposed numbers only."
        )
    else:
        moved = changes["change"].dropna()
        text = (
            f"Against the current set{f' ({baseline_name})' if baseline_name else ''}: "
            f"{int((moved > 0).sum())} numbers rise, {int((moved < 0).sum())} fall, "
            f"{int((moved == 0).sum())} are unchanged, {int(changes['note'].eq('new').sum())} "
            f"are new and {int(changes['note'].eq('dropped').sum())} dropped."
        )
        if len(moved) and moved.abs().max() > 0:
            largest = moved.abs().idxmax()
            text += f" The largest move is the {largest} ({moved[largest]:+.1%})."
    text += _copula_text(calibration or {})
    apc = (calibration or {}).get("apc")
    if apc:
        who = (
            "no APC tool raises the margin"
            if apc["binds_most"] == "base"
            else f"the {apc['binds_most'].replace('_', ' ')} tool sets the margin"
        )
        text += (
            " The anti-procyclicality tools act on margins over time, not on these numbers: on "
            f"the sample's equal-weight portfolio {who} on {apc['share']:.0%} of the "
            f"{_unit((calibration or {}).get('period') or '1D')}s "
            f"(configured: {apc['tool'].replace('_', ' ')})."
        )
    return text


def _backtested_set(proposed: str | None, backtested: str | None) -> str:
    """Say which parameter set the backtests margin, and whether it is the proposal."""
    if backtested is None:
        return "The studies recorded no fingerprint for the backtested parameter set."
    if proposed is None:
        return f"The backtests margin the parameter set with fingerprint {backtested}."
    if backtested != proposed:
        return (
            f"Warning: the backtests margin the parameter set with fingerprint {backtested}, "
            f"not the proposal of this review ({proposed})."
        )
    return f"The backtests margin the proposal of this review, fingerprint {proposed}."


def _verdict_section(verdicts: pd.DataFrame, backtested: str, rule: VerdictRule) -> MemoSection:
    title = "Backtest verdict"
    if not len(verdicts):
        return MemoSection(
            title, f"{backtested} {rule.describe()} No backtest of the proposal was recorded."
        )
    counts = []
    for backtest, part in verdicts[verdicts["kind"].ne("family")].groupby("backtest", sort=False):
        tally = part["verdict"].value_counts()
        counts.append(
            f"{backtest}: "
            + ", ".join(
                f"{int(tally[v])} {v}"
                for v in ("pass", "too conservative", "fail", "n/a")
                if v in tally
            )
        )
    text = (
        f"{backtested} {rule.describe()}"
        + " Rows are the set's own test portfolios (each underlying held long and short, each "
        "calibrated pair as a matched hedge) margined with cross margin; a family row pools its "
        "portfolios. Verdicts per backtest: " + "; ".join(counts) + "."
    )
    failing = verdicts[verdicts["verdict"].eq("fail") & verdicts["kind"].ne("family")]
    reasons = []
    for failure in FAILURES:
        rows = failing[[failure in f for f in failing["failures"]]]
        if len(rows):
            reasons.append(f"{failure} for {_listing(_subjects(rows))}")
    if reasons:
        text += (
            f" Rows fail on {'; on '.join(reasons)} (the p-values per position are in the "
            "backtest study's coverage tables)."
        )
    table = {}
    for backtest in dict.fromkeys(verdicts["backtest"]):
        part = verdicts[verdicts["backtest"].eq(backtest)].set_index("subject")
        table[f"{backtest}: exceptions"] = part["exceptions"]
        table[f"{backtest}: expected"] = part["expected"]
        table[f"{backtest}: verdict"] = part["verdict"]
    frame = pd.DataFrame(table)
    frame.index.name = "position"
    caption = (
        "Backtest verdict of the proposal per underlying (long and short together), per pair "
        "and per family: exceptions on non-overlapping margin periods against the number "
        "expected at the confidence level."
    )
    return MemoSection(title, text, frame, caption)


def _signoff_section(
    signoff: SignOff, fingerprint: str | None, proposed: Mapping[str, Any] | None
) -> MemoSection:
    what = (
        f"parameter set {proposed['version']} [{fingerprint}], as of {proposed['as_of']}"
        if proposed is not None
        else "no parameter set (none was recorded)"
    )
    run = f"the review run of {signoff.date}" if signoff.date else "this review run"
    table = pd.DataFrame(
        {
            "name": [signoff.preparer or _BLANK, signoff.reviewer or _BLANK],
            "signature": [_BLANK, _BLANK],
            "date": [_BLANK, _BLANK],
        },
        index=pd.Index(["prepared by", "reviewed by"], name="role"),
    )
    return MemoSection(
        "Sign-off",
        f"Signed off: {what}, on the evidence of {run}.",
        table,
        f"Sign-off of parameter set [{fingerprint}]: preparer and reviewer.",
    )


def _calibration_limitations(
    calibration: Mapping[str, Any], periods: Mapping[str, Any] | None
) -> list[str]:
    notes = []
    first, last = calibration["first"], calibration["last"]
    frozen = (periods or {}).get("frozen")
    before: list[str] = []
    for name, (start, end) in (calibration.get("stress_windows_outside") or {}).items():
        if start > last:
            text = (
                f"Stress window {name} ({start} to {end}) lies after the calibration's last date "
                f"({last}): it enters neither the risk weights nor the credits"
            )
            if frozen and frozen["first"] <= end and frozen["last"] >= start:
                text += "; the frozen backtest margins the set through it"
            notes.append(text + ".")
        else:
            before.append(f"{name} ({start} to {end})")
    if before:
        notes.append(
            f"Stress window{'s' if len(before) > 1 else ''} {_listing(before)} "
            f"{'lie' if len(before) > 1 else 'lies'} before the data's first date ({first}): "
            "the calibration cannot see " + ("them." if len(before) > 1 else "it.")
        )
    if not calibration.get("stress_windows"):
        notes.append(
            "No stress window lies inside the calibration sample: the risk weights and credits "
            "rest on the lookback alone."
        )
    offsets = calibration.get("offsets") or {}
    credited = [c for c in calibration.get("credits", []) if not c["reason"]]
    quantile = [c["pair"] for c in credited if c["binding_regime"].startswith("dcc")]
    if quantile:
        quantile_regime = next(c["binding_regime"] for c in credited if c["pair"] == quantile[0])
        notes.append(
            f"The credits of {_listing(quantile)} are set by the "
            f"{_regime_label(quantile_regime, offsets)}: "
            "another correlation model, window or quantile moves them (model risk)."
        )
    near = []
    for c in credited:
        worst = min(c["hedge_correlation"].values())
        if worst - offsets["min_correlation"] < NEAR_THRESHOLD:
            near.append(
                f"{c['pair']} (least favourable correlation {worst:.2f} against a minimum of "
                f"{offsets['min_correlation']:.2f})"
            )
        elif offsets["break_threshold"] - c["correlation_fall"] < NEAR_THRESHOLD:
            near.append(
                f"{c['pair']} (correlation fall {c['correlation_fall']:.2f} against a break "
                f"threshold of {offsets['break_threshold']:.2f})"
            )
    if near:
        notes.append(
            f"Credits within {NEAR_THRESHOLD:g} of the no-credit threshold, which a small change "
            f"in the data removes: {_listing(near)}."
        )
    warned = calibration.get("warnings") or []
    if warned:
        listed = "".join(f"\n    - {_warning_text(w)}" for w in _grouped_warnings(warned))
        notes.append(
            f"The calibration raised {len(warned)} warning{'' if len(warned) == 1 else 's'}:"
            f"{listed}"
        )
    return notes


# --- small helpers --------------------------------------------------------------------------


def _warning_text(text: str) -> str:
    """Write another stage's warning as prose: no reprs, regimes by their exhibit names."""
    return _REGIME_TOKEN.sub(lambda m: regime_label(m.group(0)), _plain_text(text))


def _grouped_warnings(warned: Sequence[str]) -> list[str]:
    """Merge warnings that differ only in the asset they open with (``BTC: only 68 moves``)."""
    groups: dict[str, list[str]] = {}
    for text in warned:
        match = _ASSET_WARNING.match(text)
        subject, rest = (match.group(1), match.group(2)) if match else ("", text)
        groups.setdefault(rest, []).append(subject)
    return [
        f"{_listing([s for s in subjects if s])}: {rest}" if all(subjects) else rest
        for rest, subjects in groups.items()
    ]


def _sided_reasons(sides: pd.Series, reasons: pd.Series) -> str:
    """Join the reasons of an underlying's long and short rows, naming each side once."""
    by_reason: dict[str, list[str]] = {}
    for side, reason in zip(sides, reasons, strict=True):
        if reason:
            by_reason.setdefault(reason, []).append(side)
    return "; ".join(
        f"{' and '.join(s for s in sided if s)}: {reason}" if any(sided) else reason
        for reason, sided in by_reason.items()
    )


def _coverage_rows(recorded: Any) -> pd.DataFrame:
    """Return the recorded coverage rows with ``backtest``, ``family`` and ``label`` columns."""
    if recorded is None:
        return pd.DataFrame()
    frame = recorded_frame(recorded)
    frame.index.names = ["backtest", "family", "label"]
    return frame.reset_index()


def _numbers(parameters: Mapping[str, Any]) -> dict[str, float]:
    """Risk weights and offset credits of a parameter dictionary, keyed for the memo."""
    out = {f"risk weight {a}": float(w) for a, w in parameters.get("risk_weights", {}).items()}
    for item in parameters.get("offset_credits", []):
        out[f"offset credit {'/'.join(item['pair'])}"] = float(item["credit"])
    return out


def _fingerprint(parameters: Mapping[str, Any]) -> str:
    from research.calibration import MarginParameters

    return MarginParameters.from_dict(parameters).fingerprint


def _regime_label(regime: str, offsets: Mapping[str, Any]) -> str:
    """Name a regime as the exhibits do (:func:`regime_label`), with its sample."""
    period = offsets.get("period") or "1D"
    if regime == "recent":
        sample = f"last {_count(offsets['recent'], period)}"
    elif regime == "stressed":
        sample = "pooled"
    elif regime.startswith(("dcc", "copula")) and offsets.get("dcc_window") is not None:
        sample = f"last {_count(offsets['dcc_window'], period)}"
        if regime.startswith("dcc") and offsets["dcc_kind"] != "dcc":
            sample = f"{offsets['dcc_kind'].upper()}, {sample}"
    else:
        return f"{regime_label(regime)} correlation"
    return f"{regime_label(regime)} correlation ({sample})"


def _unit(period: str) -> str:
    """Name one observation period: ``day``, ``hour`` (else ``period``)."""
    seconds = period_length(period).total_seconds()
    return {86400.0: "day", 3600.0: "hour"}.get(seconds, "period")


def _count(n: int, period: str) -> str:
    """Write a count of observation periods: ``311 days``, ``3,396 hours``."""
    return f"{int(n):,} {_unit(period)}{'' if int(n) == 1 else 's'}"


def _span(n: int, period: str) -> str:
    """Write a number of periods as a duration (``2 days``, ``8 hours``, ``90 days``)."""
    return duration_label(int(n), period)


def _bar_word(period: str) -> str:
    """Name returns by their period: ``daily``, ``hourly`` (else the period)."""
    return {"day": "daily", "hour": "hourly"}.get(_unit(period), f"{period}")


def _windows(windows: Mapping[str, Sequence[str]]) -> str:
    return ", ".join(f"{name} {start} to {end}" for name, (start, end) in windows.items())


def _subjects(rows: pd.DataFrame) -> list[str]:
    return [f"{s} ({b})" for s, b in zip(rows["subject"], rows["backtest"], strict=True)]


def _family_plural(family: str) -> str:
    return {"outright": "outright positions", "pair": "pairs"}.get(family, family)


def _listing(items: Sequence[str] | pd.Series) -> str:
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _rows_text(rows: pd.Series, others: pd.Series) -> str:
    """Name a set of rows, by its complement when that is the shorter list."""
    if not len(others):
        return "all of them"
    if len(others) < len(rows):
        return f"all but {_listing(others)}"
    return _listing(rows)


def _plain_text(text: str) -> str:
    """Write Python reprs inside another module's message as prose (``['a', 'b']`` -> a, b)."""
    text = _LIST_REPR.sub(lambda m: m.group(1).replace("'", ""), text)
    return _QUOTED.sub(r"\1", text)


def _reason_text(reason: str) -> str:
    """Write a refused credit's reason as prose: regimes by their exhibit names, no reprs."""
    return credit_reason(_plain_text(reason))


def _undefined(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return value is None or math.isnan(float(value))


def _float_or_none(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _date_or_none(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d}"


def _plain(value: Any) -> Any:
    """Return a coverage cell as plain JSON data (numpy scalars as Python numbers)."""
    return value.item() if hasattr(value, "item") else value


def _plain_data(value: Any) -> Any:
    """Return nested mappings and lists as JSON data: dates as ISO text, numpy as Python."""
    if isinstance(value, Mapping):
        return {str(k): _plain_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_data(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return _plain(value)
