"""Where the shared files are looked for: the study's data folder, then the shared folder."""

from __future__ import annotations

from pathlib import Path

from research.data import SHARED_DATA_VARIABLE, shared_data_dir, shared_data_file


def test_the_variable_overrides_the_folder_beside_the_checkout(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(SHARED_DATA_VARIABLE, raising=False)
    beside = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    assert shared_data_dir() == beside
    monkeypatch.setenv(SHARED_DATA_VARIABLE, str(tmp_path))
    assert shared_data_dir() == tmp_path


def test_a_file_beside_the_studys_data_comes_first(tmp_path, monkeypatch) -> None:
    shared, mine = tmp_path / "shared", tmp_path / "mine"
    shared.mkdir()
    mine.mkdir()
    monkeypatch.setenv(SHARED_DATA_VARIABLE, str(shared))
    (shared / "bars.csv").write_text("x")
    assert shared_data_file("bars.csv") == shared / "bars.csv"
    assert shared_data_file("bars.csv", mine / "prices.csv") == shared / "bars.csv"
    (mine / "bars.csv").write_text("y")
    assert shared_data_file("bars.csv", mine / "prices.csv") == mine / "bars.csv"
    assert shared_data_file("bars.csv", mine) == mine / "bars.csv"
    assert shared_data_file("absent.csv", mine) is None
