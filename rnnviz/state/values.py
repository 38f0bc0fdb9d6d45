"""Checks of hand-typed values (a weight, a whole matrix): a clean number or a message, never an exception."""
from __future__ import annotations

import numbers

import numpy as np


def is_index(value) -> bool:
    """A whole number usable as a row or column index (not a bool)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def weight(value, limit: float) -> tuple[float | None, str | None]:
    """(the value as a float, None) for a finite real number within ±limit, else (None, message)."""
    message = f"a weight must be a finite number within ±{limit:g}; got {value!r:.40}"
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return None, message
    try:
        number = float(value)
    except (OverflowError, ValueError, TypeError):
        return None, message
    if not np.isfinite(number) or abs(number) > limit:
        return None, message
    return number, None


def matrix(name: str, array, shape: tuple[int, ...], limit: float) -> tuple[np.ndarray | None, str | None]:
    """(the array as float64, None) when it has this shape and finite entries within ±limit."""
    try:
        M = np.array(array, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None, f"{name} must be an array of numbers"
    if M.shape != shape:
        return None, f"{name} must have shape {shape}; got {M.shape}"
    if not np.all(np.isfinite(M)) or (M.size and np.max(np.abs(M)) > limit):
        return None, f"{name} must hold finite numbers within ±{limit:g}"
    return M, None
