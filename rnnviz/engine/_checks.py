"""Argument validation shared by the engine modules: every failure is a ValueError naming the argument."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def fail(name: str, expected: str, got: object) -> ValueError:
    """Build the engine's standard error: '<name>: expected <expected>, got <got>'."""
    return ValueError(f"{name}: expected {expected}, got {got}")


def check_size(name: str, value: object, minimum: int = 1) -> int:
    """Return value as an int, or raise if it is not an integer >= minimum (bools are refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise fail(name, f"an integer >= {minimum}", repr(value))
    if value < minimum:
        raise fail(name, f"an integer >= {minimum}", value)
    return int(value)


def check_number(name: str, value: object, minimum: float | None = None,
                 maximum: float | None = None) -> float:
    """Return value as a finite float within [minimum, maximum], or raise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise fail(name, "a real number", repr(value))
    value = float(value)
    if not np.isfinite(value):
        raise fail(name, "a finite number", value)
    if minimum is not None and value < minimum:
        raise fail(name, f"a number >= {minimum}", value)
    if maximum is not None and value > maximum:
        raise fail(name, f"a number <= {maximum}", value)
    return value


def check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """Return value if it is one of choices, or raise listing them."""
    if not isinstance(value, str) or value not in choices:
        raise fail(name, "one of " + ", ".join(repr(c) for c in choices), repr(value))
    return value


def check_rng(name: str, rng: object) -> np.random.Generator:
    """Return rng if it is a numpy.random.Generator, or raise."""
    if not isinstance(rng, np.random.Generator):
        raise fail(name, "a numpy.random.Generator", type(rng).__name__)
    return rng


def check_dtype(name: str, dtype: object) -> np.dtype:
    """Return dtype as np.dtype if it is float32 or float64, or raise."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise fail(name, "float32 or float64", repr(dtype)) from None
    if dt not in FLOAT_DTYPES:
        raise fail(name, "float32 or float64", dt.name)
    return dt


def check_float_array(name: str, value: object, ndim: int,
                      dtype: np.dtype | None = None) -> np.ndarray:
    """Return value as an ndarray of ndim dimensions and float32/float64 dtype (== dtype if given)."""
    if not isinstance(value, np.ndarray):
        try:
            value = np.asarray(value)
        except (TypeError, ValueError):
            raise fail(name, f"a {ndim}-d float array", type(value).__name__) from None
        if value.dtype.kind in "iuf":   # plain Python lists of numbers: take the wanted dtype
            value = value.astype(np.float64 if dtype is None else dtype)
    if value.ndim != ndim:
        raise fail(name, f"a {ndim}-d array", f"{value.ndim}-d array of shape {value.shape}")
    if dtype is not None:
        if value.dtype != dtype:
            raise fail(name, f"dtype {np.dtype(dtype).name} (the parameters' dtype)", value.dtype.name)
    elif value.dtype not in FLOAT_DTYPES:
        raise fail(name, "dtype float32 or float64", value.dtype.name)
    return value


def check_shape(name: str, array: np.ndarray, expected: Sequence[tuple[str, int | None]]) -> None:
    """Raise unless array.shape matches expected, a list of (label, size or None for 'any >= 1')."""
    ok = array.ndim == len(expected) and all(
        (size is None and got >= 1) or got == size
        for (_, size), got in zip(expected, array.shape))
    if not ok:
        dims = ", ".join(label if size is None or label == str(size) else f"{label}={size}"
                         for label, size in expected)
        raise fail(name, f"shape ({dims})", tuple(array.shape))
