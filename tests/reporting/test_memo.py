"""The decision memo written from hand-made recorded results: every sentence follows the data."""

import json
import math

import pandas as pd
import pytest

from research.calibration import MarginParameters
from research.errors import ParameterError
from research.reporting.memo import (
    SignOff,
    VerdictRule,
    backtest_verdicts,
    binding_constraints,
    decision_memo,
    limitations,
    parameter_changes,
)


def _parameters(xom=0.10, cvx=0.12, credit=0.4, version="1.0.0"):
    return MarginParameters(
        level=0.99,
        mpor=2,
        lookback=500,
        as_of="2021-09-30",
        risk_weights={"XOM": xom, "CVX": cvx},
        offset_credits={("XOM", "CVX"): credit},
        version=version,
    ).to_dict()


def _calibration(**changes):
    record = {
        "profile": "emir-2d-99",
        "source": "sp500",
        "assets": ["XOM", "CVX"],
        "first": "2005-01-04",
        "last": "2021-09-30",
        "rows": 4211,
        "stress_weight": 0.25,
        "stress_windows": {"covid_2020": ["2020-02-20", "2020-04-07"]},
        "stress_windows_outside": {},
        "risk_weights": {
            "XOM": {
                "risk_weight": 0.10,
                "lookback_risk": 0.08,
                "stress_risk": 0.16,
                "side": "long",
                "quantile_date": "2020-03-16",
            },
            "CVX": {
                "risk_weight": 0.12,
                "lookback_risk": 0.13,
                "stress_risk": 0.09,
                "side": "short",
                "quantile_date": "2021-01-05",
            },
        },
        "offsets": {
            "cap": 0.8,
            "recent": 500,
            "min_correlation": 0.3,
            "break_threshold": 0.3,
            "significance": 0.05,
            "dcc_quantile": 0.05,
            "dcc_window": 1000,
            "dcc_kind": "dcc",
        },
        "credits": [
            {
                "pair": "XOM/CVX",
                "first": "XOM",
                "second": "CVX",
                "credit": 0.4,
                "raw_credit": 0.5,
                "binding_regime": "recent",
                "haircut": 0.0,
                "correlation_fall": 0.05,
                "reason": "",
                "hedge_correlation": {"recent": 0.85, "stressed": 0.9, "dcc_q05": 0.8},
            }
        ],
        "apc": {"tool": "combined", "binds_most": "floor", "share": 0.62},
        "warnings": [],
    }
    record.update(changes)
    return record


def _coverage_row(backtest, family, label, exceptions, expected, p, direction, ind, light):
    return {
        "backtest": backtest,
        "family": family,
        "label": label,
        "test_exceptions": exceptions,
        "expected": expected,
        "kupiec_pvalue": p,
        "kupiec_direction": direction,
        "independence_pvalue": ind,
        "traffic_light": light,
        "fingerprint": "abc",
    }


def _coverage(pair_exceptions=1, pair_p=0.7, pair_light="green", pair_ind=0.8):
    return [
        _coverage_row("frozen", "outright", "XOM long", 1, 1.5, 0.7, "too few", 0.9, "green"),
        _coverage_row(
            "frozen", "outright", "XOM short", 0, 1.5, 0.08, "too few", "undefined", "green"
        ),
        _coverage_row(
            "frozen",
            "pair",
            "XOM/CVX",
            pair_exceptions,
            1.5,
            pair_p,
            "too many" if pair_exceptions > 1.5 else "too few",
            pair_ind,
            pair_light,
        ),
        _coverage_row(
            "frozen", "pair", "all", pair_exceptions, 1.5, pair_p, "too few", 0.8, "green"
        ),
    ]


# --- the verdict rule -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "direction", "independence", "light", "verdict"),
    [
        (0.40, "too few", 0.5, "green", "pass"),
        (0.40, "too few", "undefined", "green", "pass"),
        (0.01, "too many", 0.5, "green", "fail"),
        (0.40, "too many", 0.5, "yellow", "fail"),
        (0.40, "too many", 0.01, "green", "fail"),
        (0.01, "too few", "undefined", "green", "too conservative"),
        (math.nan, "as expected", "undefined", "green", "n/a"),
    ],
)
def test_one_rule_gives_every_verdict(p, direction, independence, light, verdict):
    assert VerdictRule().judge(p, direction, independence, light)[0] == verdict


def test_the_rule_is_stated_with_its_size_and_refuses_a_bad_size():
    assert "5%" in VerdictRule().describe() and "1%" in VerdictRule(0.01).describe()
    with pytest.raises(ParameterError, match="significance"):
        VerdictRule(1.5)


def test_a_failing_pair_produces_fail_with_its_reason():
    rows = _coverage(pair_exceptions=6, pair_p=0.002, pair_light="yellow")
    verdicts = backtest_verdicts(pd.DataFrame(rows)).set_index("subject")
    assert verdicts.loc["XOM/CVX", "verdict"] == "fail"
    assert "yellow traffic light" in verdicts.loc["XOM/CVX", "reason"]
    assert "too many exceptions (Kupiec p 0.002)" in verdicts.loc["XOM/CVX", "reason"]


def test_an_underlying_takes_the_worse_side_and_sums_its_exceptions():
    rows = _coverage()
    rows[1] = _coverage_row(
        "frozen", "outright", "XOM short", 5, 1.5, 0.01, "too many", 0.6, "yellow"
    )
    verdicts = backtest_verdicts(pd.DataFrame(rows)).set_index("subject")
    assert verdicts.loc["XOM", "verdict"] == "fail"
    assert verdicts.loc["XOM", "exceptions"] == 6 and verdicts.loc["XOM", "expected"] == 3.0
    assert verdicts.loc["XOM", "reason"].startswith("short: ")
    assert list(verdicts["kind"]) == ["underlying", "pair", "family"]
    assert verdicts.index[-1] == "all pairs"
    rows[0] = _coverage_row(
        "frozen", "outright", "XOM long", 5, 1.5, 0.01, "too many", 0.6, "yellow"
    )
    both = backtest_verdicts(pd.DataFrame(rows)).set_index("subject").loc["XOM", "reason"]
    assert both == "long and short: yellow traffic light; too many exceptions (Kupiec p 0.010)"


# --- proposed against current, binding constraints -------------------------------------------


def test_no_baseline_gives_first_calibration():
    changes = parameter_changes(_parameters(), None)
    assert list(changes.columns) == ["proposed"]
    assert changes.loc["risk weight CVX", "proposed"] == 0.12
    memo = decision_memo({"parameters": _parameters(), "proposal_fingerprint": "f00"})
    assert "first calibration" in memo.sections[0].text


def test_a_baseline_gives_the_relative_change_per_number():
    changes = parameter_changes(_parameters(xom=0.11, credit=0.0), _parameters())
    assert changes.loc["risk weight XOM", "change"] == pytest.approx(0.1)
    assert changes.loc["risk weight CVX", "change"] == 0.0
    assert changes.loc["offset credit CVX/XOM", "change"] == pytest.approx(-1.0)
    grown = parameter_changes(_parameters(), _parameters(credit=0.0))
    assert grown.loc["offset credit CVX/XOM", "note"] == "was zero"
    assert math.isnan(grown.loc["offset credit CVX/XOM", "change"])
    baseline = _parameters()
    baseline["risk_weights"]["BP"] = 0.2
    changes = parameter_changes(_parameters(), baseline)
    assert changes.loc["risk weight BP", "note"] == "dropped"
    assert math.isnan(changes.loc["risk weight BP", "proposed"])


def test_the_binding_constraint_names_stress_lookback_quantile_cap_and_refusal():
    refused = dict(_calibration()["credits"][0], reason="correlation breaks in stress", credit=0.0)
    dcc = dict(
        refused,
        pair="KO/PEP",
        first="KO",
        second="PEP",
        reason="",
        binding_regime="dcc_q05",
        haircut=0.02,
    )
    binding = binding_constraints(_calibration(credits=[refused, dcc]))
    assert binding["risk weight XOM"] == "stress windows 16.00% (weight 25%) over lookback 8.00%"
    assert binding["risk weight CVX"].startswith("lookback 13.00% (short tail, move of 2021-01-05)")
    assert binding["offset credit CVX/XOM"] == "no credit: correlation breaks in stress"
    assert binding["offset credit KO/PEP"] == (
        "DCC 5% quantile correlation (last 1,000 days) x 80% cap, less a 2.0% break haircut"
    )
    offsets = dict(_calibration()["offsets"], dcc_kind="adcc")
    adcc = binding_constraints(_calibration(credits=[dcc], offsets=offsets))
    assert adcc["offset credit KO/PEP"].startswith("DCC 5% quantile correlation (ADCC, last 1,000")
    pooled = binding_constraints(_calibration(stress_weight=None))
    assert pooled["risk weight XOM"].startswith("lookback with the stress windows' moves pooled")
    calm = binding_constraints(_calibration(stress_windows={}))
    assert "no stress window in the sample" in calm["risk weight XOM"]


# --- limitations ----------------------------------------------------------------------------


def test_a_window_outside_the_data_produces_its_limitation():
    after = {"rates_2022": ["2022-01-03", "2022-10-12"]}
    periods = {"frozen": {"first": "2021-10-01", "last": "2022-12-28", "days": 313, "sets": 1}}
    notes = limitations(_calibration(stress_windows_outside=after), periods, _no_verdicts())
    assert any(
        n.startswith("Stress window rates_2022 (2022-01-03 to 2022-10-12) lies after")
        and "frozen backtest margins the set through it" in n
        for n in notes
    )
    before = {"gfc_lehman": ["2008-09-15", "2009-03-09"]}
    notes = limitations(
        _calibration(stress_windows_outside=before, first="2015-01-02"), None, _no_verdicts()
    )
    assert any("gfc_lehman" in n and "before the data's first date" in n for n in notes)
    assert not any("Stress window" in n for n in limitations(_calibration(), None, _no_verdicts()))


def test_quantile_credits_near_thresholds_undefined_tests_and_warnings_are_limitations():
    credit = dict(
        _calibration()["credits"][0],
        binding_regime="dcc_q05",
        hedge_correlation={"recent": 0.6, "stressed": 0.5, "dcc_q05": 0.35},
    )
    calibration = _calibration(credits=[credit], warnings=["2 price rows dropped"])
    verdicts = backtest_verdicts(pd.DataFrame(_coverage()))
    notes = " ".join(limitations(calibration, {"frozen": None}, verdicts))
    assert "The credits of XOM/CVX are set by the DCC 5% quantile correlation (last" in notes
    assert "XOM/CVX (least favourable correlation 0.35 against a minimum of 0.30)" in notes
    assert "undefined (no exception, or no two in a row to compare) for 1 of 2 rows" in notes
    assert "No frozen backtest ran" in notes
    assert "raised 1 warning:\n    - 2 price rows dropped" in notes
    quiet = " ".join(limitations(_calibration(), {}, _no_verdicts()))
    for absent in ("quantile", "no-credit threshold", "undefined", "warning", "fast run"):
        assert absent not in quiet


def test_a_fast_run_and_a_foreign_backtested_set_are_stated():
    notes = limitations(None, None, _no_verdicts(), fast=True, fingerprints=("aaa", "bbb"))
    assert notes[0].startswith("This is a fast run")
    assert "margin the set bbb, not the proposal aaa" in notes[1]


# --- the memo as a whole --------------------------------------------------------------------


def test_the_memo_recommends_from_the_verdicts():
    records = {
        "parameters": _parameters(),
        "proposal_fingerprint": "f00",
        "backtest_fingerprint": "f00",
        "calibration": _calibration(),
        "coverage_proposal": _recorded(_coverage()),
    }
    passing = decision_memo(records)
    assert (
        "**Recommendation:** adopt. None of the 2 backtest rows fails" in passing.sections[0].text
    )
    assert passing.profile == "emir-2d-99"
    failing_rows = _coverage(pair_exceptions=6, pair_p=0.002, pair_light="yellow")
    failing = decision_memo({**records, "coverage_proposal": _recorded(failing_rows)})
    assert (
        "do not adopt as proposed. 1 of 2 backtest rows fails the rule" in failing.sections[0].text
    )
    assert "XOM/CVX (frozen)" in failing.sections[0].text
    verdict = failing.sections[2].text
    assert "Rows fail on a yellow or red traffic light for XOM/CVX (frozen); on too many" in verdict
    titles = [s.title for s in passing.sections]
    assert titles == [
        "The ask",
        "Proposed against current parameters",
        "Backtest verdict",
        "Limitations and model risk",
        "Sign-off",
    ]


def test_the_sign_off_block_has_names_or_blank_lines():
    records = {"parameters": _parameters(), "proposal_fingerprint": "f00"}
    named = decision_memo(records, signoff=SignOff("A. Preparer", "B. Reviewer", "2026-12-04"))
    section = named.sections[-1]
    assert section.table.loc["prepared by", "name"] == "A. Preparer"
    assert section.table.loc["reviewed by", "name"] == "B. Reviewer"
    assert (
        "[f00], as of 2021-09-30, on the evidence of the review run of 2026-12-04" in section.text
    )
    blank = decision_memo(records).sections[-1].table
    assert set(blank["name"]) == set(blank["signature"]) == {"_" * 18}


def test_without_records_the_memo_says_what_is_missing():
    memo = decision_memo({})
    assert memo.sections[0].text.startswith("The studies recorded no proposed parameter set")
    assert "no backtest of the proposal was recorded" in memo.sections[1].text.lower()
    assert any("recorded no evidence" in n for n in memo.limitations)


def _recorded(rows):
    """Coverage rows as study 05 records them (research.reporting.record: split orient)."""
    frame = pd.DataFrame(rows).set_index(["backtest", "family", "label"])
    return json.loads(frame.to_json(orient="split"))


def _no_verdicts():
    return backtest_verdicts(pd.DataFrame())


def test_assets_the_data_quality_study_does_not_examine_are_a_limitation():
    notes = limitations(_calibration(), None, _no_verdicts(), examined=["XOM", "BP"])
    assert any(n.startswith("The data-quality study does not examine CVX,") for n in notes)
    assert not any("data-quality" in n for n in limitations(_calibration(), None, _no_verdicts()))


def test_other_modules_reprs_are_written_as_prose():
    warning = "stress windows ['covid_2020', 'rates_2022'] lie outside the data"
    refused = dict(_calibration()["credits"][0], reason="too weak in regime 'recent' (rho=0.178)")
    notes = " ".join(limitations(_calibration(warnings=[warning]), None, _no_verdicts()))
    assert "stress windows covid_2020, rates_2022 lie outside" in notes
    binding = binding_constraints(_calibration(credits=[refused]))
    assert binding["offset credit CVX/XOM"] == (
        "no credit: too weak in the recent sample regime (rho=0.178)"
    )
    quantile = dict(refused, reason="too weak in regime 'dcc_q05' (rho=0.298)")
    binding = binding_constraints(_calibration(credits=[quantile]))
    assert binding["offset credit CVX/XOM"] == (
        "no credit: too weak in the DCC 5% quantile regime (rho=0.298)"
    )


def test_the_calibration_record_explains_every_number_of_a_real_calibration():
    from research.calibration.calibrate import calibrate, load_config_prices
    from research.calibration.config import (
        CalibrationConfig,
        DataConfig,
        OffsetConfig,
        StressConfig,
    )
    from research.reporting.memo import calibration_record

    config = CalibrationConfig(
        name="small",
        profile="emir-2d-99",
        data=DataConfig(source="sp500", start="2007-01-01", end="2010-12-31"),
        assets=("XOM", "CVX", "KO", "PEP"),
        pairs=(("XOM", "CVX"), ("KO", "PEP")),
        risk_weights={"lookback": 250, "stress_weight": 0.25},
        stress=StressConfig(names=("gfc_lehman", "covid_2020")),
        offsets=OffsetConfig(recent=250, dcc=False),
    )
    with pytest.warns(UserWarning):
        result = calibrate(config, load_config_prices(config))
    record = json.loads(json.dumps(calibration_record(result)))  # plain JSON, as recorded
    assert record["profile"] == "emir-2d-99" and record["last"] == "2010-12-31"
    assert record["stress_windows"] == {"gfc_lehman": ["2008-09-15", "2009-03-09"]}
    assert record["stress_windows_outside"] == {"covid_2020": ["2020-02-20", "2020-04-07"]}
    assert record["warnings"] == list(result.warnings)
    params = result.parameters.to_dict()
    changes = parameter_changes(params, None, binding_constraints(record))
    assert len(changes) == 6 and changes["binding constraint"].str.len().gt(0).all()
    for pair in record["credits"]:
        row = result.offsets.table.loc[pair["pair"]]
        assert pair["hedge_correlation"]["recent"] == pytest.approx(row["rho_recent"])
    notes = " ".join(limitations(record, {}, _no_verdicts()))
    assert "Stress window covid_2020 (2020-02-20 to 2020-04-07) lies after" in notes


def test_long_lists_of_rows_are_named_once_and_by_the_shorter_side():
    rows = [
        _coverage_row("rolling", "outright", f"A{i} long", 9, 2.0, 0.001, "too many", 0.9, "red")
        for i in range(6)
    ]
    rows += [
        _coverage_row("rolling", "outright", f"A{i} short", 0, 2.0, 0.2, "too few", None, "green")
        for i in range(6)
    ]
    rows.append(_coverage_row("rolling", "pair", "A0/A1", 0, 1.0, 0.4, "too few", 0.5, "green"))
    records = {
        "parameters": _parameters(),
        "proposal_fingerprint": "f00",
        "backtest_fingerprint": "f00",
        "calibration": _calibration(),
        "coverage_proposal": _recorded(rows),
    }
    memo = decision_memo(records)
    ask = memo.sections[0].text
    assert "6 of 7 backtest rows fail the rule below (named in the backtest verdict)." in ask
    assert "A0 (rolling)" not in ask
    assert "A0 (rolling), A1 (rolling)" in memo.sections[2].text
    undefined = [n for n in memo.limitations if "independence test is undefined" in n]
    assert undefined == [
        "Christoffersen's independence test is undefined (no exception, or no two in a row to "
        "compare) for 6 of 7 rows of the rolling backtest (all but A0/A1): whether their "
        "exceptions cluster is untested."
    ]


def test_the_ask_states_the_history_policy_of_late_listings():
    records = {
        "parameters": _parameters(),
        "proposal_fingerprint": "f00",
        "calibration": _calibration(
            history={
                "policy": "pairwise",
                "assets": {"XOM": "2019-01-02", "CVX": "2020-08-12T00:00:00"},
                "balanced_from": "2020-08-12",
            }
        ),
    }
    ask = decision_memo(records).sections[0].text
    assert (
        "History is pairwise: each risk weight uses its asset's own history (XOM from "
        "2019-01-02; CVX from 2020-08-12) and each credit its pair's common dates; the DCC "
        "regime and the APC path use the dates from 2020-08-12 on which every asset trades."
    ) in ask
    common = {"policy": "common", "rows_dropped": 588, "dropped_by_asset": {"CVX": 588}}
    records["calibration"] = _calibration(history=common)
    assert "the missing prices of CVX removed 588 rows from every asset" in (
        decision_memo(records).sections[0].text
    )
    records["calibration"] = _calibration(history={"policy": "common", "rows_dropped": 0})
    assert "History" not in decision_memo(records).sections[0].text


def test_the_copula_regime_is_stated_with_the_credits_it_binds():
    credit = dict(_calibration()["credits"][0], binding_regime="copula_q05")
    copula = {
        "quantile": 0.05,
        "nu": 6.04,
        "pairs": {"XOM/CVX": {"hedge_correlation": 0.61, "tail_dependence": 0.2345}},
    }
    calibration = _calibration(credits=[credit], copula=copula)
    memo = decision_memo({"parameters": _parameters(), "calibration": calibration})
    text = memo.sections[1].text
    assert (
        "Credits are also tested under a tail-dependence regime: per pair, the 5% quantile on "
        "the hedge's side of a Student-t copula DCC path (nu = 6.0; tail dependence at that "
        "correlation 0.23 to 0.23); it binds the credits of XOM/CVX."
    ) in text
    binding = binding_constraints(calibration)
    assert binding["offset credit CVX/XOM"].startswith(
        "t-copula 5% quantile correlation (last 1,000 days) x 80% cap"
    )
    assert (
        "tail-dependence"
        not in decision_memo({"parameters": _parameters(), "calibration": _calibration()})
        .sections[1]
        .text
    )


def test_warnings_about_several_assets_are_merged_and_regimes_named():
    warned = [
        "BTC: only 68 moves in the stress windows; the worst move is used",
        "ETH: only 68 moves in the stress windows; the worst move is used",
        "SOL: only 56 moves in the stress windows; the worst move is used",
        "history pairwise: the dcc_q05 regime needs a balanced panel",
    ]
    notes = limitations(_calibration(warnings=warned), None, _no_verdicts())
    (text,) = [n for n in notes if n.startswith("The calibration raised")]
    assert text == (
        "The calibration raised 4 warnings:"
        "\n    - BTC and ETH: only 68 moves in the stress windows; the worst move is used"
        "\n    - SOL: only 56 moves in the stress windows; the worst move is used"
        "\n    - history pairwise: the DCC 5% quantile regime needs a balanced panel"
    )


def test_an_untested_independence_of_every_row_says_all_of_them():
    rows = [
        _coverage_row("frozen", "outright", f"A{i} {side}", 0, 1.0, 0.3, "too few", None, "green")
        for i in range(3)
        for side in ("long", "short")
    ]
    records = {"parameters": _parameters(), "coverage_proposal": _recorded(rows)}
    (note,) = [n for n in decision_memo(records).limitations if "independence" in n]
    assert "for 3 of 3 rows of the frozen backtest (all of them)" in note


def test_an_hourly_set_is_described_in_hours():
    hourly = dict(_parameters(), mpor=8, lookback=2160, period="1h")
    periods = {
        "frozen": {"first": "2026-02-01", "last": "2026-03-19", "days": 1104, "sets": 1},
        "rolling": {"first": "2026-01-01", "last": "2026-03-19", "days": 1860, "sets": 1},
    }
    calibration = _calibration(offsets=dict(_calibration()["offsets"], period="1h"), period="1h")
    records = {"parameters": hourly, "calibration": calibration, "backtest_periods": periods}
    ask = decision_memo(records).sections[0].text
    assert "over a margin period of risk of 8 hours, a lookback of 90 days" in ask
    assert "4,211 hourly returns" in ask
    assert "on the 1,104 hours after its as-of date" in ask
    assert "at 1 refit date on past data only, each set margining the hours" in ask
    assert "of the hours (configured: combined)" in decision_memo(records).sections[1].text
    binding = binding_constraints(
        _calibration(
            offsets=calibration["offsets"],
            credits=[dict(_calibration()["credits"][0], binding_regime="dcc_q05")],
        )
    )
    assert "(last 1,000 hours)" in binding["offset credit CVX/XOM"]
    daily = decision_memo({"parameters": _parameters(), "calibration": _calibration()})
    assert "over a margin period of risk of 2 days" in daily.sections[0].text


def test_windows_before_the_data_are_one_limitation():
    before = {"gfc_lehman": ["2008-09-15", "2009-03-09"], "aug_2011": ["2011-08-01", "2011-08-31"]}
    calibration = _calibration(stress_windows_outside=before, first="2015-01-02")
    notes = [n for n in limitations(calibration, None, _no_verdicts()) if "before the data" in n]
    assert notes == [
        "Stress windows gfc_lehman (2008-09-15 to 2009-03-09) and aug_2011 (2011-08-01 to "
        "2011-08-31) lie before the data's first date (2015-01-02): the calibration cannot see "
        "them."
    ]
