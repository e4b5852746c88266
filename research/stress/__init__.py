"""Stress windows, stressed correlation matrices and the nearest correlation matrix.

Named windows are data (:func:`stress_windows`), detected windows come from a stress score
(:func:`detect_stress_windows`). Every estimator returns a :class:`StressedCorrelation`
(labelled matrix, window, nobs, band, PSD-repair record, warnings); any matrix that is not
positive semi-definite is repaired with :func:`nearest_correlation` (Higham 2002) and the
repair is reported. :func:`correlation_stability` compares calm and stressed correlations.
"""

from research.stress._checks import check_correlation_frame
from research.stress.conservative import conservative_correlation
from research.stress.dcc import dcc_correlation
from research.stress.detection import (
    DetectedWindows,
    detect_stress_windows,
    stress_score,
    window_statistics,
)
from research.stress.estimators import (
    EMIR_STRESSED_WEIGHT,
    RISKMETRICS_DECAY,
    blend_correlation,
    ewma_correlation,
    sample_correlation,
    shrunk_correlation,
)
from research.stress.exceedance import (
    exceedance_correlation,
    exceedance_curve,
    gaussian_exceedance_correlation,
)
from research.stress.heteroskedasticity import (
    forbes_rigobon,
    forbes_rigobon_correlation,
    loretan_english,
    loretan_english_correlation,
)
from research.stress.nearest import NearestCorrelation, nearest_correlation
from research.stress.paths import window_contrast
from research.stress.result import CorrelationBand, PSDRepair, StressedCorrelation
from research.stress.stability import (
    CorrelationStability,
    EqualityTest,
    correlation_stability,
    fisher_z_test,
    jennrich_test,
)
from research.stress.windows import StressWindow, busiest_span, stress_windows, window_mask

__all__ = [
    "EMIR_STRESSED_WEIGHT",
    "RISKMETRICS_DECAY",
    "CorrelationBand",
    "CorrelationStability",
    "DetectedWindows",
    "EqualityTest",
    "NearestCorrelation",
    "PSDRepair",
    "StressWindow",
    "StressedCorrelation",
    "blend_correlation",
    "busiest_span",
    "check_correlation_frame",
    "conservative_correlation",
    "correlation_stability",
    "dcc_correlation",
    "detect_stress_windows",
    "ewma_correlation",
    "exceedance_correlation",
    "exceedance_curve",
    "fisher_z_test",
    "forbes_rigobon",
    "forbes_rigobon_correlation",
    "gaussian_exceedance_correlation",
    "jennrich_test",
    "loretan_english",
    "loretan_english_correlation",
    "nearest_correlation",
    "sample_correlation",
    "shrunk_correlation",
    "stress_score",
    "stress_windows",
    "window_contrast",
    "window_mask",
    "window_statistics",
]
