"""Every study notebook runs end to end in fast mode, reproducibly, and exports to PDF.

The consolidated review (session fixture ``fast_review``) executes every study once; each
study is executed a second time here with the same parameters and seed, and its recorded
results must be identical.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from research.reporting import execute_notebook, export_pdf, list_studies, read_records

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
STUDIES = list_studies(NOTEBOOKS)


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


@pytest.mark.parametrize("study", STUDIES, ids=[s.stem for s in STUDIES])
def test_study_pdf_is_a_report(study, fast_review, tmp_path):
    executed = next(p for p in fast_review.notebooks if p.stem == study.stem)
    text = pdf_text(export_pdf(executed, tmp_path / f"{study.stem}.pdf"))
    assert "Figure 1" in text and "Table 1" in text
    assert "import " not in text  # no code cells in a report


@pytest.mark.parametrize("study", STUDIES, ids=[s.stem for s in STUDIES])
def test_study_is_reproducible_with_the_same_seed(
    study, fast_review, fast_study_parameters, tmp_path
):
    executed = execute_notebook(study, tmp_path / f"{study.stem}.ipynb", fast_study_parameters)
    assert executed.title and executed.title != study.stem
    assert read_records(executed.path) == fast_review.records[study.stem]


def test_data_quality_study_runs_on_the_crypto_file(shared_data_dir, tmp_path):
    study = NOTEBOOKS / "01_data_quality.py"
    path = shared_data_dir / "crypto_spot_daily_binance.csv"
    executed = execute_notebook(
        study, tmp_path / "01c.ipynb", {"fast": True, "data_path": str(path)}
    )
    records = read_records(executed.path)
    assert records["data_summary"]["source"] == str(path)
