import pytest
from pypdf import PdfReader

from research.errors import NotebookExecutionError, SpecificationError
from research.reporting.review import ReviewConfig, build_review, compare_parameters


def test_compare_parameters_lists_only_changes_with_relative_moves():
    baseline = {"level": 0.99, "mpor": 2, "risk_weights": {"BTC": 0.20, "ETH": 0.25}, "cap": 0.8}
    proposed = {"level": 0.99, "mpor": 2, "risk_weights": {"BTC": 0.22, "SOL": 0.4}, "cap": 0.8}
    diff = compare_parameters(baseline, proposed)
    assert list(diff.index) == ["risk_weights.BTC", "risk_weights.ETH", "risk_weights.SOL"]
    assert diff.loc["risk_weights.BTC", "change"] == "+10.0%"
    assert diff.loc["risk_weights.ETH", "change"] == "removed"
    assert diff.loc["risk_weights.SOL", "change"] == "added"
    assert compare_parameters(baseline, baseline).empty


def test_review_config_rejects_unknown_keys(tmp_path):
    path = tmp_path / "review.yaml"
    path.write_text("review:\n  title: x\n  sede: 3\n")
    with pytest.raises(SpecificationError, match="sede"):
        ReviewConfig.from_yaml(path)


def test_review_config_passes_its_settings_to_every_study(tmp_path):
    path = tmp_path / "review.yaml"
    path.write_text(
        "review:\n  dataset: sp500-nasdaq\n  seed: 7\n  parameters:\n    lookback: 500\n"
    )
    params = ReviewConfig.from_yaml(path).study_parameters(path)
    assert params["dataset"] == "sp500-nasdaq" and params["seed"] == 7 and params["lookback"] == 500
    assert params["review_config"] == str(path.resolve()) and "config" not in params


def test_the_review_pdf_has_summary_sections_and_provenance(fast_review):
    text = "\n".join(page.extract_text() for page in PdfReader(fast_review.pdf).pages)
    for heading in [
        "Contents",
        "Executive summary",
        "Provenance appendix",
        "Configuration as given",
    ]:
        assert heading in text
    assert "data SHA-256" in text and "git commit" in text and "random seed" in text
    assert "requirements.lock SHA-256" in text
    assert f"run id {fast_review.run_id}" in text or fast_review.run_id in text
    assert fast_review.pdf.parent.joinpath("run-manifest.json").is_file()
    assert "Data quality of the price panel" in text
    assert fast_review.html is not None and fast_review.html.stat().st_size > 10_000


def test_a_failing_study_stops_the_review_without_a_pdf(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "01_broken.py").write_text(
        '# %% [markdown]\n# # Broken\n\n# %% tags=["parameters"]\nfast = False\n\n'
        "# %%\nraise ValueError('bad calibration input')\n"
    )
    with pytest.raises(NotebookExecutionError, match="01_broken.py failed in cell"):
        build_review(ReviewConfig(), tmp_path / "out", notebooks=notebooks)
    assert not (tmp_path / "out" / "review.pdf").exists()


def test_recorded_frames_come_back_with_multiindex_labels():
    from research.errors import DataError
    from research.reporting.results import recorded_frame

    record = {
        "columns": [["isolated", "start"], ["cross", "start"]],
        "index": [["rolling", "pair", "A/B"]],
        "data": [["2020-02-20", "2020-02-21"]],
    }
    frame = recorded_frame(record)
    assert frame.columns.nlevels == 2 and frame.index.nlevels == 3
    assert frame.loc[("rolling", "pair", "A/B"), ("cross", "start")] == "2020-02-21"
    with pytest.raises(DataError, match="columns, index and data"):
        recorded_frame({"value": 1})


def test_compare_parameters_keys_lists_of_records_by_pair_or_name():
    baseline = {
        "offset_credits": [
            {"pair": ["BTC", "ETH"], "credit": 0.4},
            {"pair": ["BTC", "SOL"], "credit": 0.3},
        ],
        "stress_windows": [{"name": "ftx", "start": "2022-11-08", "end": "2022-11-14"}],
    }
    proposed = {
        "offset_credits": [
            {"pair": ["BTC", "ETH"], "credit": 0.5},
            {"pair": ["BTC", "SOL"], "credit": 0.3},
        ],
        "stress_windows": [{"name": "ftx", "start": "2022-11-08", "end": "2022-11-21"}],
    }
    diff = compare_parameters(baseline, proposed)
    assert list(diff.index) == ["offset_credits.BTC/ETH.credit", "stress_windows.ftx.end"]
    assert diff.loc["offset_credits.BTC/ETH.credit", "change"] == "+25.0%"


def test_a_failed_run_keeps_the_previous_complete_set(tmp_path):
    """The issue's case: new 01/02 PDFs beside old 03-05 PDFs; now the old set stays whole."""
    from research.reporting import build_reports
    from research.reporting.publish import MANIFEST, read_manifest

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    study = (
        '# %% [markdown]\n# # Study {n}\n\n# %% tags=["parameters"]\nfast = False\n\n# %%\n{body}\n'
    )
    for n in ("01", "02"):
        (notebooks / f"{n}_study.py").write_text(study.format(n=n, body="x = 1"))
    out = tmp_path / "reports"
    first = build_reports(notebooks, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert set(before) == {"01_study.pdf", "02_study.pdf", MANIFEST}
    (notebooks / "02_study.py").write_text(study.format(n="02", body="raise ValueError('x')"))
    with pytest.raises(NotebookExecutionError, match="02_study.py"):
        build_reports(notebooks, out)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in out.iterdir()) == sorted([*before, "_build"])
    assert read_manifest(out)["files"].keys() >= {"01_study.pdf", "02_study.pdf"}
    assert first[0].pdf == out / "01_study.pdf" and first[0].notebook.path.is_file()


def test_the_verdict_names_the_set_it_backtests():
    from research.reporting.memo import decision_memo

    def verdict_text(records):
        return next(
            s.text for s in decision_memo(records).sections if s.title == "Backtest verdict"
        )

    same = {"proposal_fingerprint": "abc123def456", "backtest_fingerprint": "abc123def456"}
    assert "proposal of this review, fingerprint abc123def456." in verdict_text(same)
    other = {**same, "backtest_fingerprint": "0123456789ab"}
    assert verdict_text(other).startswith("Warning") and "abc123def456" in verdict_text(other)
    assert "no fingerprint" in verdict_text({})


def test_the_review_backtests_its_own_proposal(fast_review):
    proposed = fast_review.records["04_margin_calibration"]["proposal_fingerprint"]
    assert fast_review.records["05_offset_backtest"]["backtest_fingerprint"] == proposed
    text = "\n".join(page.extract_text() for page in PdfReader(fast_review.pdf).pages)
    assert f"proposal of this review, fingerprint {proposed}" in " ".join(text.split())
