"""A network's weights: the cell's named arrays and the readout's V, by, checked for shapes and one dtype.

Parameters(U=..., W=..., V=..., ba=..., by=...) (or positionally, in that order) is the vanilla
RNN of the seed notebook; Parameters(cell="lstm", **arrays) any registered cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import readout
from ._checks import check_dtype, check_float_array, check_shape, fail
from .cells import get_cell

VANILLA_ORDER = ("U", "W", "V", "ba", "by")     # the seed's order, for positional arguments
_RESERVED = ("cell", "arrays", "names")


def array_names(cell: str) -> tuple[str, ...]:
    """The arrays of a network with this cell: the cell's, then the readout's V, by (the vanilla
    cell in the seed's order U, W, V, ba, by)."""
    if cell == "vanilla":
        return VANILLA_ORDER
    names = tuple(get_cell(cell).param_shapes(1, 1)) + readout.NAMES
    if any(n in _RESERVED for n in names):
        raise fail("cell", f"parameter names other than {', '.join(_RESERVED)}", names)
    return names


def _dimension(shape_of, name: str, axis: int) -> tuple[int, int, int]:
    """(a, b, c) with shape_of(n_x, n_s)[name][axis] = a n_x + b n_s + c (the cell's shapes are
    affine in the sizes)."""
    base = shape_of(1, 1)[name][axis]
    a = shape_of(2, 1)[name][axis] - base
    b = shape_of(1, 2)[name][axis] - base
    return a, b, base - a - b


def _label(a: int, b: int, c: int) -> str:
    terms = [t for t in (f"{a}*n_x" if a > 1 else "n_x" if a else "",
                         f"{b}*n_s" if b > 1 else "n_s" if b else "") if t]
    if c or not terms:
        terms.append(str(c))
    return " + ".join(terms)


def _sizes(cell, arrays: dict) -> tuple[int, int]:
    """n_x and n_s read off the first of the cell's arrays whose shape holds each on its own."""
    shape_of = lambda n_x, n_s: cell.param_shapes(n_x, n_s)   # noqa: E731
    found = {}
    for name in cell.param_shapes(1, 1):
        for axis in range(2):
            a, b, c = _dimension(shape_of, name, axis)
            for size, coeffs in (("n_x", (1, 0, 0)), ("n_s", (0, 1, 0))):
                if size not in found and (a, b, c) == coeffs:
                    found[size] = arrays[name].shape[axis]
    if "n_s" not in found:
        found["n_s"] = arrays["V"].shape[1]
    if "n_x" not in found:
        raise fail("cell", "a cell with an (n_s, n_x) or (n_x, ...) input array", cell.name)
    return found["n_x"], found["n_s"]


@dataclass(eq=False, init=False, repr=False)
class Parameters:
    """The arrays of one network: the cell's (param_shapes) and the readout's V (n_y, n_s), by (n_y, 1).

    Attribute access by name (params.W); shapes and one float dtype checked on construction.
    Vanilla: a_t = U x_t + W s_{t-1} + ba, s_t = f(a_t), z_t = V s_t + by.
    """

    cell: str
    arrays: dict

    def __init__(self, *positional, cell: str = "vanilla", arrays: dict | None = None, **named):
        if positional:
            if cell != "vanilla" or len(positional) > len(VANILLA_ORDER):
                raise fail("parameters", "positional arrays only for the vanilla cell, in the order "
                           + ", ".join(VANILLA_ORDER), f"{len(positional)} for cell {cell!r}")
            named = {**dict(zip(VANILLA_ORDER, positional)), **named}
        given = {**(arrays or {}), **named}
        model = get_cell(cell)
        names = array_names(cell)
        missing = [n for n in names if n not in given]
        extra = [n for n in given if n not in names]
        if missing or extra:
            got = (f"missing {', '.join(missing)}" if missing else "") + \
                  ("; " if missing and extra else "") + \
                  (f"unknown {', '.join(extra)}" if extra else "")
            raise fail("parameters", f"keys {', '.join(names)}", got)
        checked, dtype = {}, None
        for n in names:
            checked[n] = check_float_array(n, given[n], 2, dtype)
            dtype = checked[n].dtype
        object.__setattr__(self, "cell", cell)
        object.__setattr__(self, "arrays", checked)
        self._check_shapes(model)

    def _check_shapes(self, model) -> None:
        arrays = self.arrays
        n_x, n_s = _sizes(model, arrays)
        n_y = arrays["V"].shape[0]
        if n_s < 1 or n_x < 1:
            first = next(iter(model.param_shapes(1, 1)))
            raise fail(first, "a shape with n_s >= 1, n_x >= 1", arrays[first].shape)
        if n_y < 1:
            raise fail("V", "shape (n_y>=1, n_s)", arrays["V"].shape)
        shape_of = model.param_shapes
        for name, shape in shape_of(n_x, n_s).items():
            expected = []
            for axis, size in enumerate(shape):
                expected.append((_label(*_dimension(shape_of, name, axis)), size))
            check_shape(name, arrays[name], expected)
        check_shape("V", arrays["V"], [("n_y", n_y), ("n_s", n_s)])
        check_shape("by", arrays["by"], [("n_y", n_y), ("1", 1)])
        object.__setattr__(self, "_sizes", (n_x, n_s, n_y))

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("_") or name in _RESERVED:
            raise AttributeError(name)
        try:
            return self.__dict__["arrays"][name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} of the {self.__dict__.get('cell')!r} cell "
                                 f"has no array {name!r}") from None

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"Parameters are checked on construction: replace an array with "
                             f"dataclasses.replace(params, {name}=...) or update it in place")

    def __repr__(self) -> str:
        shapes = ", ".join(f"{n}={a.shape}" for n, a in self.arrays.items())
        return f"Parameters(cell={self.cell!r}, {shapes}, dtype={self.dtype.name})"

    @property
    def names(self) -> tuple[str, ...]:
        """The array names: the cell's, then V, by."""
        return tuple(self.arrays)

    @property
    def n_x(self) -> int:
        """Input size."""
        return self._sizes[0]

    @property
    def n_s(self) -> int:
        """Hidden-state size (of each state part)."""
        return self._sizes[1]

    @property
    def n_y(self) -> int:
        """Number of outputs."""
        return self._sizes[2]

    @property
    def dtype(self) -> np.dtype:
        """The one float dtype of all arrays."""
        return self.arrays["V"].dtype

    def as_dict(self) -> dict[str, np.ndarray]:
        """{name: array} (the same arrays, not copies: updating them in place updates these)."""
        return dict(self.arrays)

    @classmethod
    def from_dict(cls, d: dict, cell: str = "vanilla") -> Parameters:
        """Build from a dict of the cell's arrays and V, by (ValueError on missing keys or bad shapes)."""
        names = array_names(cell)
        if not isinstance(d, dict):
            raise fail("parameters", f"a dict with keys {', '.join(names)}", type(d).__name__)
        return cls(cell=cell, **{n: d[n] for n in names if n in d})    # other keys are ignored

    def copy(self) -> Parameters:
        """An independent copy."""
        return Parameters(cell=self.cell, **{n: a.copy() for n, a in self.arrays.items()})

    def astype(self, dtype) -> Parameters:
        """A copy converted to float32 or float64."""
        dt = check_dtype("dtype", dtype)
        return Parameters(cell=self.cell, **{n: a.astype(dt) for n, a in self.arrays.items()})
