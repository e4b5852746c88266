import json
from pathlib import Path

import pandas as pd

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
    assert main(["data", "describe", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("research: error:") and "AAA" in err and "2024-01-03" in err


def test_calibrate_prints_and_writes_the_parameter_set(tmp_path, capsys):
    out = tmp_path / "params.json"
    assert main(["calibrate", str(REPO / "configs" / "default.yaml"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Margin parameters" in printed and "offset credit" in printed
    params = json.loads(out.read_text())
    assert params["level"] == 0.99 and params["mpor"] == 2
