"""What the analysis modules share: the interruption, the argument checks, 10**x without warnings."""

from __future__ import annotations

import numpy as np

from .._checks import check_size, fail
from ..network import Trace
from ..parameters import Parameters


class Interrupted(Exception):
    """Raised inside a long computation when its should_stop() callback returned True."""


def pow10(log10_values: np.ndarray) -> np.ndarray:
    """10**x, inf or 0 where it leaves the float range (no warnings)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.power(10.0, log10_values)


def check_trace(params: Parameters, trace, b: int | None) -> int | None:
    """Raise unless params are Parameters, trace is of their cell and size, and b (when not None)
    a batch index of it; returns b as an int."""
    if not isinstance(params, Parameters):
        raise fail("params", "a Parameters object", type(params).__name__)
    if not isinstance(trace, Trace):
        raise fail("trace", "a Trace from forward()", type(trace).__name__)
    n_s, m, T = trace.s.shape
    if n_s != params.n_s or trace.cell != params.cell:
        raise fail("trace", f"a trace of a {params.cell} network with n_s={params.n_s}",
                   f"{trace.cell}, n_s={n_s}")
    if b is None:
        return None
    b = check_size("b", b, minimum=0)
    if b >= m:
        raise fail("b", f"a batch index in [0, m-1={m - 1}]", b)
    return b
