"""Every study notebook runs end to end in fast mode; the PDF export is exercised on the first."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from research.reporting import execute_notebook, export_pdf, list_studies

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

STUDIES = list_studies(NOTEBOOKS)


@pytest.mark.parametrize("study", STUDIES, ids=[s.stem for s in STUDIES])
def test_study_runs_in_fast_mode(study, tmp_path):
    executed = execute_notebook(study, tmp_path / f"{study.stem}.ipynb", {"fast": True, "seed": 0})
    assert executed.path.is_file()
    assert executed.title and executed.title != study.stem


def test_data_quality_study_exports_a_report_pdf(tmp_path):
    study = NOTEBOOKS / "01_data_quality.py"
    executed = execute_notebook(study, tmp_path / "01.ipynb", {"fast": True})
    pdf = export_pdf(executed.path, tmp_path / "01.pdf", subtitle="Data: sp500 -- fast mode")
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Data quality of the price panel" in text
    assert "Figure 1" in text and "Table 1" in text
    assert "Provenance" in text and "data SHA-256" in text
    assert "import " not in text  # no code cells in a report


def test_data_quality_study_runs_on_the_crypto_file(shared_data_dir, tmp_path):
    study = NOTEBOOKS / "01_data_quality.py"
    path = shared_data_dir / "crypto_spot_daily_binance.csv"
    executed = execute_notebook(study, tmp_path / "01c.ipynb", {"fast": True, "data_path": str(path)})
    assert executed.parameters["data_path"] == str(path)
