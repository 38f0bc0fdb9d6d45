"""The vanilla RNN's weights U, W, V, ba, by, checked for consistent shapes and one float dtype."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_dtype, check_float_array, check_shape, fail

NAMES = ("U", "W", "V", "ba", "by")


@dataclass(eq=False)
class Parameters:
    """a_t = U x_t + W s_{t-1} + ba,  z_t = V s_t + by  (shapes checked on construction)."""

    U: np.ndarray    # (n_s, n_x)
    W: np.ndarray    # (n_s, n_s)
    V: np.ndarray    # (n_y, n_s)
    ba: np.ndarray   # (n_s, 1)
    by: np.ndarray   # (n_y, 1)

    def __post_init__(self) -> None:
        self.U = check_float_array("U", self.U, 2)
        dtype = self.U.dtype
        for name in NAMES[1:]:
            setattr(self, name, check_float_array(name, getattr(self, name), 2, dtype))
        n_s, n_x = self.U.shape
        n_y = self.V.shape[0]
        if n_s < 1 or n_x < 1:
            raise fail("U", "shape (n_s>=1, n_x>=1)", self.U.shape)
        if n_y < 1:
            raise fail("V", "shape (n_y>=1, n_s)", self.V.shape)
        check_shape("W", self.W, [("n_s", n_s), ("n_s", n_s)])
        check_shape("V", self.V, [("n_y", n_y), ("n_s", n_s)])
        check_shape("ba", self.ba, [("n_s", n_s), ("1", 1)])
        check_shape("by", self.by, [("n_y", n_y), ("1", 1)])

    @property
    def n_x(self) -> int:
        """Input size."""
        return self.U.shape[1]

    @property
    def n_s(self) -> int:
        """Hidden-state size."""
        return self.W.shape[0]

    @property
    def n_y(self) -> int:
        """Number of output classes."""
        return self.V.shape[0]

    @property
    def dtype(self) -> np.dtype:
        """The one float dtype of all five arrays."""
        return self.U.dtype

    def as_dict(self) -> dict[str, np.ndarray]:
        """The notebook's dict {"U", "W", "V", "ba", "by"} (the same arrays, not copies)."""
        return {name: getattr(self, name) for name in NAMES}

    @classmethod
    def from_dict(cls, d: dict) -> Parameters:
        """Build from a dict with keys U, W, V, ba, by (ValueError on missing keys or bad shapes)."""
        if not isinstance(d, dict):
            raise fail("parameters", "a dict with keys U, W, V, ba, by", type(d).__name__)
        missing = [name for name in NAMES if name not in d]
        if missing:
            raise fail("parameters", "keys U, W, V, ba, by", f"missing {', '.join(missing)}")
        return cls(**{name: d[name] for name in NAMES})

    def copy(self) -> Parameters:
        """An independent copy."""
        return Parameters(**{name: getattr(self, name).copy() for name in NAMES})

    def astype(self, dtype) -> Parameters:
        """A copy converted to float32 or float64."""
        dt = check_dtype("dtype", dtype)
        return Parameters(**{name: getattr(self, name).astype(dt) for name in NAMES})
