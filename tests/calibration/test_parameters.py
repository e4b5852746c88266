"""MarginParameters: exact JSON/YAML round trips, validation messages, the printed table."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pytest

from research.calibration import APCSettings, MarginParameters
from research.errors import ParameterError


@pytest.fixture
def params() -> MarginParameters:
    return MarginParameters(
        level=0.99,
        mpor=2,
        lookback=250,
        risk_weights={"BTC": 0.1234567890123457, "ETH": 0.15, "SOL": 1e-5 / 3},
        offset_credits={("ETH", "BTC"): 0.5, "BTC/SOL": 0.1},
        correlations={("BTC", "ETH"): 0.8123456789, ("ETH", "SOL"): -0.25},
        offset_cap=0.8,
        maintenance_fraction=0.75,
        stress_windows={
            "covid_2020": ("2020-02-20", "2020-04-07"),
            "ftx": ("2022-11-06", "2022-11-21"),
        },
        stress_weight=0.25,
        apc=APCSettings(tool="combined", buffer=0.3, stress_weight=0.25, floor_years=10),
        version="2024.1",
        as_of="2024-01-02",
        description="crypto test set",
    )


def test_json_round_trip_is_exact(params):
    assert MarginParameters.from_json(params.to_json()) == params


def test_yaml_round_trip_is_exact(params):
    assert MarginParameters.from_yaml(params.to_yaml()) == params


def test_dict_round_trip_is_exact(params):
    back = MarginParameters.from_dict(params.to_dict())
    assert back == params
    assert back.risk_weights["SOL"] == params.risk_weights["SOL"]  # bit-for-bit


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_file_round_trip(params, tmp_path, suffix):
    path = tmp_path / f"params{suffix}"
    if suffix == ".json":
        params.to_json(path)
        assert MarginParameters.from_json(path) == params
        assert MarginParameters.from_json(str(path)) == params
    else:
        params.to_yaml(path)
        assert MarginParameters.from_yaml(path) == params
        assert MarginParameters.from_yaml(str(path)) == params


def test_normalization(params):
    assert params.offset_credits == {("BTC", "ETH"): 0.5, ("BTC", "SOL"): 0.1}
    assert params.credit("ETH", "BTC") == 0.5
    assert params.credit("ETH", "SOL") == 0.0
    assert params.as_of == dt.date(2024, 1, 2)
    assert params.stress_windows["ftx"] == (dt.date(2022, 11, 6), dt.date(2022, 11, 21))
    assert params.underlyings == ("BTC", "ETH", "SOL")


def test_frozen(params):
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.level = 0.95  # type: ignore[misc]


def test_numpy_scalars_accepted():
    p = MarginParameters(
        level=np.float64(0.99),
        mpor=np.int64(2),
        lookback=250,
        risk_weights={"A": np.float32(0.5)},
        as_of="2024-01-02",
    )
    assert p.mpor == 2 and isinstance(p.mpor, int)
    assert MarginParameters.from_json(p.to_json()) == p


def test_stress_windows_from_objects():
    class Window:
        name, start, end = "w", dt.date(2020, 1, 1), dt.date(2020, 2, 1)

    p = MarginParameters(
        level=0.99,
        mpor=1,
        lookback=10,
        risk_weights={"A": 0.1},
        stress_windows=[Window()],
        as_of="2024-01-02",
    )
    assert p.stress_windows == {"w": (dt.date(2020, 1, 1), dt.date(2020, 2, 1))}


def test_table(params):
    table = params.to_frame()
    assert table.loc[("risk weight", "BTC"), "value"] == "12.3457%"
    assert table.loc[("offset credit", "BTC/ETH"), "value"] == "50.00%"
    assert table.loc[("model", "MPOR"), "value"] == "2 days"
    assert table.loc[("stress window", "covid_2020"), "value"] == "2020-02-20 to 2020-04-07"
    assert params.summary().equals(table)
    with_apc = MarginParameters(
        level=0.99, mpor=2, lookback=250, risk_weights={"A": 0.1}, apc=APCSettings()
    ).to_frame()
    assert with_apc.loc[("APC", "enforce_emir_minimum"), "value"] == "yes"  # not "True"
    assert "Margin parameters" in str(params)


def test_require_names_missing_underlyings(params):
    params.require(["BTC", "ETH"])
    with pytest.raises(ParameterError, match=r"\['ADA', 'XRP'\]"):
        params.require(["BTC", "XRP", "ADA"])


APC = APCSettings().to_dict()
BASE = {
    "version": "0.1.0",
    "as_of": "2024-01-02",
    "description": "",
    "level": 0.99,
    "mpor": 2,
    "lookback": 250,
    "stress_weight": None,
    "stress_windows": [],
    "apc": APC,
    "risk_weights": {"A": 0.1, "B": 0.2},
    "offset_cap": 0.8,
    "offset_hedge": "equal_risk",
    "offset_credits": [],
    "correlations": [],
    "maintenance_fraction": 1.0,
}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"level": 0.5}, "level"),
        ({"level": 1.0}, "level"),
        ({"level": "0.99"}, "level"),
        ({"mpor": 0}, "mpor"),
        ({"mpor": 1.5}, "mpor"),
        ({"lookback": 1}, "lookback"),
        ({"risk_weights": {}}, "risk_weights"),
        ({"risk_weights": {"A": -0.1}}, r"risk_weights\[A\]"),
        ({"risk_weights": {"A": float("nan")}}, r"risk_weights\[A\]"),
        ({"offset_credits": {("A", "B"): 1.2}}, r"offset_credits\[A/B\]"),
        ({"offset_credits": {("A", "B"): -0.1}}, r"offset_credits\[A/B\]"),
        ({"offset_credits": {("A", "C"): 0.5}}, r"no risk weight for \['C'\]"),
        ({"offset_credits": {("A", "A"): 0.5}}, "same underlying"),
        ({"offset_credits": {("A", "B"): 0.5, "B/A": 0.4}}, "twice"),
        ({"offset_credits": {("A", "B"): 0.9}}, "exceeds offset_cap"),
        ({"correlations": {("A", "B"): 1.5}}, r"correlations\[A/B\]"),
        ({"correlations": {("A", "Z"): 0.5}}, r"no risk weight for \['Z'\]"),
        ({"offset_cap": 1.5}, "offset_cap"),
        ({"offset_cap": -0.5}, "offset_cap"),
        ({"maintenance_fraction": 0.0}, "maintenance_fraction"),
        ({"stress_weight": 1.5}, "stress_weight"),
        ({"stress_windows": {"w": ("2020-02-01", "2020-01-01")}}, "before it starts"),
        ({"stress_windows": {"w": ("2020-13-01", "2021-01-01")}}, "ISO date"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"apc": {**APC, "buffer": 0.1}}, r"apc.buffer.*EMIR"),
        ({"apc": {**APC, "stress_weight": 0.2}}, r"apc.stress_weight.*EMIR"),
        ({"apc": {**APC, "floor_years": 5}}, "apc.floor_years"),
        ({"apc": {**APC, "tool": "magic"}}, "apc.tool"),
        ({"apc": {**APC, "bufer": 0.3}}, "unknown field"),
        ({"version": 3}, "version"),
    ],
)
def test_validation_errors(change, match):
    data = {**BASE, **change}
    with pytest.raises(ParameterError, match=match):
        MarginParameters.from_dict(data)


def test_unknown_and_missing_fields():
    with pytest.raises(ParameterError, match="unknown field.*'levels'"):
        MarginParameters.from_dict({**BASE, "levels": 0.99})
    data = dict(BASE)
    del data["risk_weights"]
    with pytest.raises(ParameterError, match=r"missing required field.*risk_weights"):
        MarginParameters.from_dict(data)


def test_bad_text_and_files(tmp_path):
    with pytest.raises(ParameterError, match="JSON"):
        MarginParameters.from_json("{not json")
    with pytest.raises(ParameterError, match="YAML"):
        MarginParameters.from_yaml("a: [1, 2")
    with pytest.raises(ParameterError, match="does not exist"):
        MarginParameters.from_json(str(tmp_path / "missing.json"))


def test_loaded_file_is_validated(tmp_path):
    data = {**BASE, "offset_credits": [{"pair": ["A", "B"], "credit": 1.5}]}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ParameterError, match=r"offset_credits\[A/B\]"):
        MarginParameters.from_json(path)


def test_apc_settings_relaxed_for_sweeps():
    relaxed = APCSettings(buffer=0.1, stress_weight=0.1, floor_years=3, enforce_emir_minimum=False)
    assert (relaxed.buffer, relaxed.stress_weight, relaxed.floor_years) == (0.1, 0.1, 3)
    assert APCSettings.from_dict(relaxed.to_dict()) == relaxed


@pytest.mark.parametrize("missing", sorted(BASE))
def test_every_field_of_a_written_set_is_required(missing):
    data = {k: v for k, v in BASE.items() if k != missing}
    with pytest.raises(ParameterError, match=rf"missing required field.*'{missing}'"):
        MarginParameters.from_dict(data)


@pytest.mark.parametrize("missing", sorted(APC))
def test_every_apc_field_of_a_written_set_is_required(missing):
    data = {**BASE, "apc": {k: v for k, v in APC.items() if k != missing}}
    with pytest.raises(ParameterError, match=rf"apc: missing required field.*'{missing}'"):
        MarginParameters.from_dict(data)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_file_cut_at_any_byte_never_loads(params, tmp_path, fmt):
    """Cut a written file at every byte: it raises, or only trailing whitespace was cut."""
    params = dataclasses.replace(params, description="crypto test set: BTC/ETH décalage")
    path = tmp_path / f"params.{fmt}"
    getattr(params, f"to_{fmt}")(path)
    body = path.read_bytes()
    read = getattr(MarginParameters, f"from_{fmt}")
    loaded = 0
    for cut in range(len(body)):
        path.write_bytes(body[:cut])
        try:
            back = read(path)
        except ParameterError:
            continue
        assert body[cut:].strip() == b"", f"a file cut at byte {cut} of {len(body)} loaded"
        assert back == params
        loaded += 1
    assert loaded == len(body) - len(body.rstrip())


def test_half_a_yaml_file_does_not_load(params, tmp_path):
    """The issue's case: half a file kept 3 of 14 weights and a default maintenance fraction."""
    path = tmp_path / "params.yaml"
    params.to_yaml(path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ParameterError, match="cut short"):
        MarginParameters.from_yaml(path)


def test_written_yaml_ends_with_the_end_of_document_line(params):
    assert params.to_yaml().rstrip().splitlines()[-1] == "..."
    unterminated = params.to_yaml().rstrip().removesuffix("...")
    with pytest.raises(ParameterError, match="end-of-document"):
        MarginParameters.from_yaml(unterminated)


_FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from research.calibration import MarginParameters
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
params = MarginParameters.from_json(Path(sys.argv[1] + ".new"))
resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))
try:
    getattr(params, "to_" + sys.argv[2])(sys.argv[1])
except OSError as exc:
    print(type(exc).__name__, exc.errno)
    sys.exit(3)
"""


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_write_that_runs_out_of_space_keeps_the_old_file(params, tmp_path, fmt):
    """A file-size limit of 1,024 bytes stands in for a full disk (the issue's 2,080-byte file)."""
    import subprocess
    import sys

    path = tmp_path / f"params.{fmt}"
    old = dataclasses.replace(params, version="old")
    getattr(old, f"to_{fmt}")(path)
    before = path.read_bytes()
    new = dataclasses.replace(params, version="new", description="x" * 2000)
    new.to_json(tmp_path / f"params.{fmt}.new")
    run = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(path), fmt], capture_output=True, text=True
    )
    assert run.returncode == 3, run.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"params.{fmt}", f"params.{fmt}.new"]


def test_writing_without_overwrite_keeps_an_existing_file(params, tmp_path):
    from research.errors import OutputError

    path = tmp_path / "params.json"
    path.write_text("someone else's file")
    with pytest.raises(OutputError, match="exists"):
        params.to_json(path, overwrite=False)
    assert path.read_text() == "someone else's file"
    assert [p.name for p in tmp_path.iterdir()] == ["params.json"]
    fresh = tmp_path / "fresh.json"
    params.to_json(fresh, overwrite=False)
    assert MarginParameters.from_json(fresh) == params


# ---------------------------------------------------------------------- fingerprint


def test_fingerprint_is_sha256_of_the_canonical_json(params):
    import hashlib

    text = params.canonical_json()
    assert params.fingerprint_full == hashlib.sha256(text.encode("ascii")).hexdigest()
    assert len(params.fingerprint_full) == 64 and params.fingerprint == params.fingerprint_full[:12]
    assert json.loads(text) == json.loads(json.dumps(params.to_dict())) | {
        "stress_windows": sorted(params.to_dict()["stress_windows"], key=lambda w: w["name"])
    }
    assert " " not in text.replace("crypto test set", "") and "\n" not in text


@pytest.mark.parametrize("fmt", ["json", "yaml", "dict", "file"])
def test_round_trips_keep_the_fingerprint(params, fmt, tmp_path):
    if fmt == "json":
        back = MarginParameters.from_json(params.to_json(indent=4))
    elif fmt == "yaml":
        back = MarginParameters.from_yaml(params.to_yaml())
    elif fmt == "dict":
        back = MarginParameters.from_dict(params.to_dict())
    else:
        params.to_yaml(tmp_path / "p.yaml")
        back = MarginParameters.from_yaml(tmp_path / "p.yaml")
    assert back.fingerprint_full == params.fingerprint_full


@pytest.mark.parametrize(
    "change",
    [
        {"risk_weights": {"BTC": 0.1234567890123458, "ETH": 0.15, "SOL": 1e-5 / 3}},
        {"offset_credits": {("ETH", "BTC"): 0.5, "BTC/SOL": 0.11}},
        {"offset_directions": {("BTC", "SOL"): "same"}},
        {"offset_hedge": "equal_notional"},
        {"offset_cap": 0.7},
        {"apc": APCSettings(tool="buffer", buffer=0.3)},
        {"as_of": "2024-01-03"},
        {"version": "2024.2"},
        {"description": "crypto test set, reviewed"},
    ],
)
def test_any_change_changes_the_fingerprint(params, change):
    assert dataclasses.replace(params, **change).fingerprint != params.fingerprint


def test_fingerprint_ignores_order_and_signed_zero(params):
    reordered = dataclasses.replace(
        params,
        risk_weights=dict(reversed(list(params.risk_weights.items()))),
        stress_windows=dict(reversed(list(params.stress_windows.items()))),
    )
    assert reordered == params and reordered.fingerprint_full == params.fingerprint_full
    zero = dataclasses.replace(params, offset_credits={("ETH", "BTC"): 0.5, "BTC/SOL": 0.0})
    negative_zero = dataclasses.replace(
        params, offset_credits={("ETH", "BTC"): 0.5, "BTC/SOL": -0.0}
    )
    assert zero.fingerprint_full == negative_zero.fingerprint_full


def test_fingerprint_is_printed(params):
    assert f"[{params.fingerprint}]" in str(params).splitlines()[0]
    assert params.summary().loc[("set", "fingerprint"), "value"] == params.fingerprint


def test_directions_round_trip_and_checks(params):
    same = dataclasses.replace(params, offset_directions={"SOL/BTC": "same"})
    assert same.offset_directions == {("BTC", "ETH"): "opposite", ("BTC", "SOL"): "same"}
    back = MarginParameters.from_json(same.to_json())
    assert back == same and back.offset_directions[("BTC", "SOL")] == "same"
    assert same.to_frame().loc[("offset credit", "BTC/SOL"), "value"] == "10.00% (same direction)"
    with pytest.raises(ParameterError, match="no offset credit"):
        dataclasses.replace(params, offset_directions={("ETH", "SOL"): "same"})
    fewer = dataclasses.replace(params, offset_credits={("ETH", "BTC"): 0.5})
    assert fewer.offset_directions == {("BTC", "ETH"): "opposite"}
    with pytest.raises(ParameterError, match="must be one of"):
        dataclasses.replace(params, offset_directions={("BTC", "ETH"): "sideways"})
    with pytest.raises(ParameterError, match="offset_hedge"):
        dataclasses.replace(params, offset_hedge="equal_vega")


def test_the_set_is_an_engine(params):
    engine = params.engine()
    assert engine.parameters == params and engine.name == f"parameter_set[{params.fingerprint}]"
    params.risk_weights["BTC"] = 0.5  # the engine margins the set it was built from
    assert engine.parameters.risk_weights["BTC"] == 0.1234567890123457
    assert engine.fingerprint == engine.parameters.fingerprint != params.fingerprint


def test_research_calibrate_prints_the_fingerprint(params, tmp_path, monkeypatch, capsys):
    from pathlib import Path
    from types import SimpleNamespace

    import research.calibration
    from research.cli import main

    monkeypatch.setattr(
        research.calibration,
        "calibrate_from_config",
        lambda config, data=None: SimpleNamespace(parameters=params),
    )
    config = Path(__file__).resolve().parents[2] / "configs" / "default.yaml"
    out = tmp_path / "params.json"
    assert main(["calibrate", str(config), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"Margin parameters {params.version} [{params.fingerprint}]" in printed
    assert f"parameters {params.fingerprint} (sha256 {params.fingerprint_full})" in printed
    assert MarginParameters.from_json(out).fingerprint_full == params.fingerprint_full


def test_mpor_as_a_duration_is_stored_as_periods_of_the_data():
    # Issue 16: MarginParameters(mpor=0.5) was refused ("whole number of days") and an hourly
    # set had no way to say its MPOR is 8 hours.
    base = {"level": 0.99, "lookback": 720, "risk_weights": {"BTC": 0.05}, "as_of": "2025-06-30"}
    hourly = MarginParameters(mpor="8h", period="1h", **base)
    assert hourly.mpor == 8 and hourly.mpor_label == "8 hours (8 x 1h)"
    assert MarginParameters(mpor="1D", period="60min", **base).mpor == 24
    assert hourly.to_frame().loc[("model", "MPOR"), "value"] == "8 hours (8 x 1h)"
    again = MarginParameters.from_json(hourly.to_json())
    assert again == hourly and again.fingerprint == hourly.fingerprint
    assert json.loads(hourly.to_json())["period"] == "1h"
    daily = MarginParameters(mpor="2D", **base)
    assert daily.mpor == 2 and daily.mpor_label == "2 days"
    assert "period" not in daily.to_dict()  # daily files (and fingerprints) are unchanged
    assert daily == MarginParameters(mpor=2, **base)
    with pytest.raises(ParameterError, match="not a whole number of 1D periods"):
        MarginParameters(mpor="8h", **base)
    with pytest.raises(ParameterError, match=r"give a duration for part of a day \(e.g. '12h'"):
        MarginParameters(mpor=0.5, **base)
    with pytest.raises(ParameterError, match="cannot read 'soon' as a duration"):
        MarginParameters(mpor="soon", **base)
