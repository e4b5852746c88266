"""Type aliases shared across :mod:`research`."""

from __future__ import annotations

import datetime as dt
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

Float64Array: TypeAlias = npt.NDArray[np.float64]
Float64Array1D: TypeAlias = npt.NDArray[np.float64]
Float64Array2D: TypeAlias = npt.NDArray[np.float64]
Float64Array3D: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
ArrayLike1D: TypeAlias = npt.ArrayLike | pd.Series
ArrayLike2D: TypeAlias = npt.ArrayLike | pd.DataFrame
DateLike: TypeAlias = str | dt.date | dt.datetime | pd.Timestamp | np.datetime64
Seed: TypeAlias = int | np.random.Generator | None
