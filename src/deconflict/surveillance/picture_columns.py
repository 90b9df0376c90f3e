"""Columns of a picture (one row per track, the traffic library's names and units) read the way
the picture's encoders need them (``cat062_out``, ``picture_text``): numbers as float arrays
with NaN where missing or not a number, identifiers as stripped text with "" where missing.

An integer identifier (a squawk stored as the number whose decimal digits are its octal code,
as OpenSky and ``traffic`` recordings store it) is read as its digits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray


def float_column(frame: pd.DataFrame, column: str) -> NDArray[np.float64]:
    """The column as floats, NaN where missing (or where the column is absent)."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool | np.bool_):
        return ""
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating) and np.isfinite(value) and float(value).is_integer():
        return str(int(value))
    return ""


def text_column(frame: pd.DataFrame, column: str) -> NDArray[np.str_]:
    """The column as stripped strings, "" where missing (or where the column is absent)."""
    if column not in frame.columns:
        return np.full(len(frame), "", dtype="<U1")
    values = frame[column].to_numpy(dtype=object)
    return np.array([v.strip() if isinstance(v, str) else _text(v) for v in values], dtype=str)
