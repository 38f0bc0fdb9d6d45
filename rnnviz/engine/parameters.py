"""A network's weights: the cell's named arrays and the readout's V, by, checked for shapes and one dtype.

Parameters(U=..., W=..., V=..., ba=..., by=...) (or positionally, in that order) is the vanilla
RNN of the seed notebook; Parameters(cell="lstm", **arrays) any registered cell.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from . import readout
from ._checks import check_dtype, check_float_array, check_shape, fail
from .cells.registry import get_cell

VANILLA_ORDER = ("U", "W", "V", "ba", "by")     # the seed's order, for positional arguments
_RESERVED = ("cell", "arrays", "names")


def array_names(cell: str) -> tuple[str, ...]:
    """The arrays of a network with this cell: the cell's, then the readout's V, by (the vanilla
    cell in the seed's order U, W, V, ba, by)."""
    return _layout(type(get_cell(cell)))[0]


def network_shapes(cell: str, n_x: int, n_s: int, n_y: int) -> dict[str, tuple[int, int]]:
    """Every array of a network with this cell and sizes, in array_names' order."""
    shapes = {**get_cell(cell).param_shapes(n_x, n_s), **readout.param_shapes(n_y, n_s)}
    return {name: shapes[name] for name in array_names(cell)}


@functools.lru_cache(maxsize=64)
def _layout(cls) -> tuple[tuple[str, ...], dict, dict]:
    """A cell class's array names; where n_x and n_s are read ({size: (name, axis)}: the first
    array with an axis of that size alone); and each array's axes as (a, b, c), the axis being
    a n_x + b n_s + c long (a cell's shapes are affine in the sizes)."""
    shape_of = cls(cls.activations[0]).param_shapes
    base, more_x, more_s = shape_of(1, 1), shape_of(2, 1), shape_of(1, 2)
    names = VANILLA_ORDER if cls.name == "vanilla" else tuple(base) + readout.NAMES
    if any(n in _RESERVED for n in names):
        raise fail("cell", f"parameter names other than {', '.join(_RESERVED)}", names)
    axes, where = {}, {}
    for name, shape in base.items():
        axes[name] = []
        for axis, size in enumerate(shape):
            a, b = more_x[name][axis] - size, more_s[name][axis] - size
            axes[name].append((a, b, size - a - b))
            for label, pure in (("n_x", (1, 0, 0)), ("n_s", (0, 1, 0))):
                if axes[name][-1] == pure:
                    where.setdefault(label, (name, axis))
    where.setdefault("n_s", ("V", 1))
    if "n_x" not in where:
        raise fail("cell", "a cell with an array of n_x columns or rows", cls.name)
    return names, where, axes


def _label(a: int, b: int, c: int) -> str:
    """The size a n_x + b n_s + c, written out: "n_s", "4*n_s", "1", ..."""
    terms = [t for t in (f"{a}*n_x" if a > 1 else "n_x" if a else "",
                         f"{b}*n_s" if b > 1 else "n_s" if b else "") if t]
    if c or not terms:
        terms.append(str(c))
    return " + ".join(terms)


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
        names, where, axes = _layout(type(model))
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
        n_x, n_s = (checked[name].shape[axis] for name, axis in (where["n_x"], where["n_s"]))
        n_y = checked["V"].shape[0]
        if n_s < 1 or n_x < 1:
            raise fail(names[0], "a shape with n_s >= 1, n_x >= 1", checked[names[0]].shape)
        if n_y < 1:
            raise fail("V", "shape (n_y>=1, n_s)", checked["V"].shape)
        for name, dims in axes.items():
            check_shape(name, checked[name], [(_label(a, b, c), a * n_x + b * n_s + c) for a, b, c in dims])
        check_shape("V", checked["V"], [("n_y", n_y), ("n_s", n_s)])
        check_shape("by", checked["by"], [("n_y", n_y), ("1", 1)])
        object.__setattr__(self, "cell", cell)
        object.__setattr__(self, "arrays", checked)
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
