import json
from pathlib import Path

import pandas as pd
import pytest

from research.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_datasets_lists_the_bundled_data(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "sp500" in out and "sp500-nasdaq" in out


def test_data_describe_prints_the_quality_report(tmp_path, capsys):
    path = tmp_path / "prices.csv"
    pd.DataFrame(
        {"date": pd.bdate_range("2024-01-01", periods=30).strftime("%Y-%m-%d"), "AAA": range(1, 31)}
    ).to_csv(path, index=False)
    assert main(["data", "describe", str(path)]) == 0
    assert "AAA" in capsys.readouterr().out


def test_bad_input_is_a_one_line_error_not_a_traceback(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("date,AAA\n2024-01-02,10\n2024-01-03,-1\n2024-01-04,11\n")
    assert main(["data", "describe", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("research: error:") and "AAA" in err and "2024-01-03" in err


def test_calibrate_prints_and_writes_the_parameter_set(tmp_path, capsys):
    out = tmp_path / "params.json"
    assert main(["calibrate", str(REPO / "configs" / "default.yaml"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Margin parameters" in printed and "offset credit" in printed
    params = json.loads(out.read_text())
    assert params["level"] == 0.99 and params["mpor"] == 2


def _no_calibration(monkeypatch):
    import research.calibration

    def fail(*args, **kwargs):
        raise AssertionError("the calibration ran although the run could not write its result")

    monkeypatch.setattr(research.calibration, "calibrate_from_config", fail)


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("research: error:") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_calibrate_checks_the_output_folder_before_calibrating(tmp_path, monkeypatch, capsys):
    _no_calibration(monkeypatch)
    out = tmp_path / "missing_dir" / "x.json"
    assert main(["calibrate", str(REPO / "configs" / "default.yaml"), "--out", str(out)]) == 2
    assert "missing_dir does not exist" in _one_line_error(capsys)


def test_calibrate_refuses_to_overwrite_without_force(tmp_path, monkeypatch, capsys):
    _no_calibration(monkeypatch)
    out = tmp_path / "params.json"
    out.write_text("an earlier parameter set")
    assert main(["calibrate", str(REPO / "configs" / "default.yaml"), "--out", str(out)]) == 2
    assert "--force" in _one_line_error(capsys)
    assert out.read_text() == "an earlier parameter set"


def test_calibrate_with_force_replaces_the_file(tmp_path, monkeypatch, capsys):
    from types import SimpleNamespace

    import research.calibration
    from research.calibration import MarginParameters

    params = MarginParameters(level=0.99, mpor=2, lookback=250, risk_weights={"A": 0.1})
    monkeypatch.setattr(
        research.calibration,
        "calibrate_from_config",
        lambda config, data=None: SimpleNamespace(parameters=params),
    )
    out = tmp_path / "params.json"
    out.write_text("an earlier parameter set")
    config = str(REPO / "configs" / "default.yaml")
    assert main(["calibrate", config, "--out", str(out), "--force"]) == 0
    assert MarginParameters.from_json(out) == params


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
        ('offsets:\n  cap: "0.8"\n', "offsets.cap must be a number"),
        ("maintenance_fraction: abc\n", "maintenance_fraction must be a number"),
        ("assets: XOM\n", "assets must be a list"),
        ("assets: [XOM\n", "not valid YAML at line 2"),
    ],
)
def test_calibrate_refuses_a_bad_config_in_one_line(tmp_path, monkeypatch, capsys, text, match):
    _no_calibration(monkeypatch)
    config = tmp_path / "config.yaml"
    config.write_text(text)
    assert main(["calibrate", str(config), "--out", str(tmp_path / "p.json")]) == 2
    assert match in _one_line_error(capsys)


def _no_study(monkeypatch):
    import research.reporting.review

    def fail(*args, **kwargs):
        raise AssertionError("a study ran although the review's inputs are invalid")

    monkeypatch.setattr(research.reporting.review, "run_studies", fail)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
        ("review:\n  seed: abc\n", "review.seed must be a whole number, got 'abc'"),
        ("review:\n  studies: '01'\n", "review.studies must be a list"),
        ("review:\n  fast: 'no'\n", "review.fast must be true or false"),
        ("review:\n  profile: emir-9d\n", "review.profile 'emir-9d' is unknown"),
        ("review:\n  start: 2020-13-01\n", "invalid value: month must be in 1..12"),
        ("review:\n  start: 1st of May\n", "ISO date"),
        ("review:\n  title: [x\n", "not valid YAML at line 3"),
        ("review:\n  studies: ['09']\n", "no study matches ['09']"),
        ("review:\n  data_path: nowhere.csv\n", "data file nowhere.csv does not exist"),
        ("review:\n  baseline: nowhere.json\n", "nowhere.json does not exist"),
        ("review:\n  reviewer: 5\n", "review.reviewer must be a string or null, got 5"),
    ],
)
def test_review_refuses_a_bad_config_before_any_study(tmp_path, monkeypatch, capsys, text, match):
    _no_study(monkeypatch)
    config = tmp_path / "review.yaml"
    config.write_text(text)
    args = ["review", str(config), "--out", str(tmp_path / "reports")]
    assert main([*args, "--notebooks", str(REPO / "notebooks")]) == 2
    assert match in _one_line_error(capsys)
    assert not (tmp_path / "reports").exists() or not list((tmp_path / "reports").iterdir())


def test_review_reads_the_baseline_before_any_study(tmp_path, monkeypatch, capsys):
    from research.calibration import MarginParameters

    _no_study(monkeypatch)
    baseline = tmp_path / "baseline.json"
    text = MarginParameters(
        level=0.99, mpor=2, lookback=250, risk_weights={"A": 0.1}, as_of="2024-01-02"
    ).to_json()
    baseline.write_text(text[: len(text) // 2])
    args = ["review", str(REPO / "configs" / "review.yaml"), "--baseline", str(baseline)]
    args += ["--out", str(tmp_path / "reports"), "--notebooks", str(REPO / "notebooks")]
    assert main(args) == 2
    assert "baseline.json is not valid JSON" in _one_line_error(capsys)


def test_the_review_calibrates_under_the_config_profile_unless_it_sets_one(tmp_path):
    from research.reporting.review import ReviewConfig

    config = tmp_path / "review.yaml"
    config.write_text("review:\n  preparer: A. Preparer\n")
    assert ReviewConfig.from_yaml(config).study_parameters(config)["profile"] is None
    shipped = ReviewConfig.from_yaml(REPO / "configs" / "review.yaml")
    assert shipped.profile is None and shipped.baseline is None
    config.write_text("review:\n  profile: crypto-1d-99\n")
    assert ReviewConfig.from_yaml(config).study_parameters(config)["profile"] == "crypto-1d-99"


def test_review_refuses_a_report_folder_holding_files_of_another_origin(
    tmp_path, monkeypatch, capsys
):
    _no_study(monkeypatch)
    out = tmp_path / "reports"
    out.mkdir()
    (out / "review.pdf").write_text("not from this command")
    args = ["review", str(REPO / "configs" / "review.yaml"), "--out", str(out)]
    assert main([*args, "--notebooks", str(REPO / "notebooks")]) == 2
    assert "review.pdf" in _one_line_error(capsys)
    assert (out / "review.pdf").read_text() == "not from this command"


def test_an_unexpected_error_is_one_line_and_its_traceback_needs_debug(monkeypatch, capsys):
    import research.data

    def broken(*args, **kwargs):
        raise TypeError("Invalid comparison between dtype=datetime64[us, UTC] and Timestamp")

    monkeypatch.setattr(research.data, "list_datasets", broken)
    assert main(["datasets"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("research: internal error: TypeError: Invalid comparison")
    assert "--debug" in err
    with pytest.raises(TypeError, match="Invalid comparison"):
        main(["--debug", "datasets"])


def test_a_user_error_keeps_its_traceback_behind_debug(tmp_path, capsys):
    from research.errors import DataError

    missing = tmp_path / "missing.csv"
    assert main(["data", "describe", str(missing)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    with pytest.raises(DataError, match="missing.csv"):
        main(["--debug", "data", "describe", str(missing)])


@pytest.mark.shared_data
def test_calibrate_crypto_on_hourly_data_ends_in_one_line(shared_data_dir, tmp_path, capsys):
    # Issue 16: this ended in an uncaught TypeError traceback. The daily config's calibration
    # range holds no hourly data, which is a user error: one line, status 2.
    hourly = shared_data_dir / "crypto_perp_hourly_binance.csv"
    config = REPO / "configs" / "crypto.yaml"
    status = main(
        ["calibrate", str(config), "--data", str(hourly), "--out", str(tmp_path / "p.json")]
    )
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert "0 row(s) between 2019-01-01 and 2025-06-30" in err
