"""The one correlation-matrix check, used by the stress estimators and the margin stage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.errors import DataError, NotPositiveDefiniteError
from research.margin import CorrelationEngine
from research.stress import check_correlation_frame, nearest_correlation

LABELS = ["A", "B", "C"]


def _frame(values) -> pd.DataFrame:
    return pd.DataFrame(np.asarray(values, dtype=float), index=LABELS, columns=LABELS)


NOT_PSD = _frame([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]])

BAD = {
    "nan": (_frame([[1.0, np.nan, 0], [np.nan, 1.0, 0], [0, 0, 1.0]]), DataError, "non-finite"),
    "asymmetric": (_frame([[1.0, 0.5, 0], [0.2, 1.0, 0], [0, 0, 1.0]]), DataError, "symmetric"),
    "diagonal": (_frame(np.eye(3) * 2.0), DataError, "unit diagonal"),
    "order": (
        _frame(np.eye(3)).reindex(columns=["B", "A", "C"]),
        DataError,
        "same order",
    ),
    "outside": (
        _frame([[1.0, 1.2, 0], [1.2, 1.0, 0], [0, 0, 1.0]]),
        NotPositiveDefiniteError,
        r"\('A', 'B'\) is 1.2, outside \[-1, 1\].*nearest_correlation",
    ),
    "not_psd": (NOT_PSD, NotPositiveDefiniteError, "eigenvalue .* < 0.*nearest_correlation"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_the_margin_engine_refuses_what_the_check_refuses(case):
    matrix, error, message = BAD[case]
    with pytest.raises(error, match=message):
        check_correlation_frame(matrix, "correlation", psd=True)
    with pytest.raises(error, match=message):
        CorrelationEngine(dict.fromkeys(LABELS, 0.1), matrix)


def test_without_psd_a_non_psd_matrix_passes_and_outside_entries_are_data_errors():
    checked = check_correlation_frame(NOT_PSD, "stressed")
    pd.testing.assert_frame_equal(checked, NOT_PSD)
    with pytest.raises(DataError, match="outside"):
        check_correlation_frame(BAD["outside"][0], "stressed")


def test_rounding_is_symmetrized_and_the_diagonal_made_exact():
    repaired = nearest_correlation(NOT_PSD).matrix
    noisy = repaired + np.triu(np.full((3, 3), 1e-13), 1)
    noisy.iloc[0, 0] += 1e-12
    checked = check_correlation_frame(noisy, psd=True)
    assert np.array_equal(checked.to_numpy(), checked.to_numpy().T)
    assert (np.diag(checked) == 1.0).all()
    engine = CorrelationEngine(dict.fromkeys(LABELS, 0.1), noisy)
    pd.testing.assert_frame_equal(engine.correlation, checked)
