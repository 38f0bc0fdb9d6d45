"""The values a user may put into a matrix by hand: checked, converted, or refused with a reason.

Accepted: real numbers (int, float, fractions.Fraction, decimal.Decimal, NumPy integers and
floats) whose nearest float64 is finite and within ±limit; an exact rational such as
Fraction(1, 3) becomes its nearest float64, as float() rounds it. Refused, with a ValueError
naming the value: booleans, text, None, complex numbers (even with a zero imaginary part: an
imaginary part is never dropped), numbers beyond the float range (10**400) or beyond ±limit,
NaN and infinities. Qt-free and NumPy only, for Session.set_weight and Session.set_matrix.
"""
from __future__ import annotations

import decimal
import numbers
from typing import Any

import numpy as np

from rnnviz.state.config import short

MAX_WEIGHT = 1e6        # |value| of any parameter or input: hand-set, rescaled or read from a file


def _refuse(value: Any, limit: float) -> ValueError:
    return ValueError(f"a weight must be a finite number within ±{limit:g}; got {short(value)}")


def weight(value: Any, limit: float) -> float:
    """One hand-set entry as a float64; ValueError unless it is a real number within ±limit."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real,
                                                                     decimal.Decimal)):
        raise _refuse(value, limit)
    try:
        x = float(value)
    except (OverflowError, ValueError, decimal.InvalidOperation):
        raise _refuse(value, limit) from None
    if not np.isfinite(x) or abs(x) > limit:
        raise _refuse(value, limit)
    return x


def index(value: Any, size: int, what: str) -> int:
    """A row or column number in 0..size-1; ValueError naming `what` otherwise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) \
            or not 0 <= value < size:
        raise ValueError(f"{what} {short(value)} is outside 0..{size - 1}")
    return int(value)


_NUMERIC_KINDS = "iuf"      # signed and unsigned integers, floats (NumPy dtype kinds)


def matrix(array: Any, shape: tuple[int, ...], name: str, limit: float) -> np.ndarray:
    """A new float64 array of this shape from array-like input, every entry as weight()
    accepts it; ValueError naming the matrix and the problem otherwise."""
    try:
        a = np.asarray(array)
    except (TypeError, ValueError, OverflowError):      # ragged, or not array-like
        raise ValueError(f"{name} must be an array of numbers of shape {shape}") from None
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got {a.shape}")
    kind = a.dtype.kind
    if kind == "c":
        raise ValueError(f"{name} must hold real numbers: a complex array is refused (its "
                         f"imaginary part would be lost)")
    if kind == "O":
        flat = a.ravel()
        out = np.empty(flat.size, dtype=np.float64)
        for i, v in enumerate(flat):
            try:
                out[i] = weight(v, limit)
            except ValueError:
                where = np.unravel_index(i, shape)
                raise ValueError(f"{name}{list(map(int, where))} must be a finite number "
                                 f"within ±{limit:g}; got {short(v)}") from None
        return out.reshape(shape)
    if kind not in _NUMERIC_KINDS:
        what = {"b": "true/false values", "U": "text", "S": "bytes"}.get(kind, str(a.dtype))
        raise ValueError(f"{name} must hold numbers, not {what}")
    with np.errstate(over="ignore", invalid="ignore"):
        M = np.array(a, dtype=np.float64)                # a copy: the caller keeps its array
    if not np.all(np.isfinite(M)) or (M.size and np.max(np.abs(M)) > limit):
        raise ValueError(f"{name} must hold finite numbers within ±{limit:g}")
    return M
