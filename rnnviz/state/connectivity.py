"""The input-connectivity job (Distill): ‖∂z_t[k]/∂x_t′‖ for the selected step t, on the worker.

It depends on the selected t, so it is not a stage of the result: the connectivity view asks
for it per (result, t, b) and keeps what came back; the window runs it on its one worker, in
the "connectivity" lane (after any waiting computation), an export in-line.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnviz.engine.analysis import connectivity

LANE = "connectivity"


@dataclass(frozen=True)
class ConnectivityRequest:
    """One connectivity computation: the trace of result `key[0]` at step key[1] for element key[2]."""
    id: int
    key: tuple[int, int, int]         # (result id, t, b)
    params: Any
    trace: Any


def compute_connectivity(request: ConnectivityRequest, should_stop=None):
    """(key, ‖∂z_t[k]/∂x_t′‖ over t′) with k the arg-max class at t."""
    _, t, b = request.key
    return request.key, np.asarray(connectivity(request.params, request.trace, t, b=b))
