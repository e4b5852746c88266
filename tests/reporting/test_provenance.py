import numpy as np
import pandas as pd

from research.reporting import data_hash, file_hash, package_versions, provenance_frame


def _frame():
    index = pd.date_range("2020-01-01", periods=5, name="date")
    return pd.DataFrame({"A": np.arange(5.0), "B": np.arange(5.0) ** 2}, index=index)


def test_data_hash_is_stable_and_sensitive_to_values_and_labels():
    frame = _frame()
    assert data_hash(frame) == data_hash(frame.copy())
    changed = frame.copy()
    changed.iloc[2, 1] += 1e-12
    assert data_hash(changed) != data_hash(frame)
    assert data_hash(frame.rename(columns={"A": "C"})) != data_hash(frame)


def test_file_hash_matches_hashlib(tmp_path):
    import hashlib

    path = tmp_path / "x.csv"
    path.write_bytes(b"date,close\n2020-01-01,1\n")
    assert file_hash(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_provenance_records_data_parameters_and_versions(tmp_path):
    frame = _frame()
    path = tmp_path / "prices.csv"
    frame.to_csv(path)
    table = provenance_frame(
        source=str(path),
        data=frame,
        source_file=path,
        parameters={"seed": 7, "asset_class": "crypto", "fast": True},
    )
    values = table["value"]
    assert values["source"] == "prices.csv"
    assert values["parameter: asset_class"] == "crypto"
    assert values["parameter: fast"] == "yes"
    assert values["data SHA-256"] == data_hash(frame)
    assert values["input file SHA-256"] == file_hash(path)
    assert values["date range"] == "2020-01-01 .. 2020-01-05"
    assert values["parameter: seed"] == "7"
    assert values["version: numpy"] == np.__version__
    assert set(package_versions()) >= {"python", "arch", "pandas"}


def test_lock_hash_names_the_lock_file_or_says_not_found(tmp_path):
    from pathlib import Path

    from research.reporting import lock_hash

    assert lock_hash(tmp_path) == "not found"
    (tmp_path / "requirements.lock").write_text("numpy==2.0.0\n")
    assert lock_hash(tmp_path) == file_hash(tmp_path / "requirements.lock")
    checkout = Path(__file__).resolve().parents[2]
    expected = (
        file_hash(checkout / "requirements.lock")
        if (checkout / "requirements.lock").is_file()
        else "not found"
    )
    assert lock_hash() == expected
    table = provenance_frame(source="x")
    assert table["value"]["requirements.lock SHA-256"] == expected
