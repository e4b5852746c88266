"""A calibration config is checked when it is read: types, lists, empty files, YAML errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from research.calibration.config import CalibrationConfig
from research.errors import SpecificationError

REPO = Path(__file__).resolve().parents[2]


def _read(tmp_path: Path, text: str) -> CalibrationConfig:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return CalibrationConfig.from_yaml(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
        ("# only a comment\n", "is empty"),
        ("{}\n", "is empty"),
        ("- a\n- b\n", "must be a mapping"),
        ('offsets:\n  cap: "0.8"\n', r"offsets\.cap must be a number, got '0\.8'"),
        ("maintenance_fraction: abc\n", "maintenance_fraction must be a number, got 'abc'"),
        ("assets: XOM\n", "assets must be a list, each item a string, got 'XOM'"),
        ("assets: [XOM, 3]\n", "assets must be a list"),
        ("stress:\n  names: covid_2020\n", r"stress\.names must be a list"),
        ("seed: abc\n", "seed must be a whole number, got 'abc'"),
        ("seed: 1.5\n", "seed must be a whole number"),
        ("offsets:\n  dcc: 'yes'\n", r"offsets\.dcc must be true or false"),
        ("offsets:\n  recent: '500'\n", r"offsets\.recent must be a whole number or null"),
        ("version: 1.0\n", "version must be a string"),
        ("data:\n  start: yesterday\n", "ISO date"),
        ("sweep: 3\n", "sweep must map an axis"),
        ("sweep:\n  level: abc\n", r"sweep\.level\[0\] must be a number, got 'abc'"),
        ("sweep:\n  mpor: [1, 0]\n", r"sweep\.mpor\[1\] must be a whole number >= 1"),
        ("risk_weights: 0.1\n", "risk_weights must be a mapping"),
    ],
)
def test_invalid_configs_are_refused_by_name(tmp_path, text, match):
    with pytest.raises(SpecificationError, match=match) as info:
        _read(tmp_path, text)
    assert "config.yaml" in str(info.value)


def test_malformed_yaml_names_file_and_line(tmp_path):
    with pytest.raises(SpecificationError, match=r"config\.yaml is not valid YAML at line 3"):
        _read(tmp_path, "name: x\nassets: [XOM, CVX\nseed: 0\n")


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(SpecificationError, match="does not exist"):
        CalibrationConfig.from_yaml(tmp_path / "nope.yaml")


def test_yaml_dates_and_whole_numbers_where_floats_belong_are_accepted(tmp_path):
    config = _read(tmp_path, "data:\n  start: 2010-01-04\noffsets:\n  cap: 1\n")
    assert config.data.start == "2010-01-04" and config.offsets.cap == 1


@pytest.mark.parametrize("name", ["default.yaml", "crypto.yaml"])
def test_the_shipped_configs_load_and_round_trip(name):
    config = CalibrationConfig.from_yaml(REPO / "configs" / name)
    assert CalibrationConfig.from_yaml(config.to_yaml()) == config
