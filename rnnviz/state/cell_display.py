"""What the cell-specific heatmaps draw, as NumPy (Qt-free): each state part (the LSTM's h and c)
and each gate (i, f, o; r, z), units x time for one batch element, cached per result like
state/display.py's heatmaps."""
from __future__ import annotations

import dataclasses

import numpy as np

from rnnviz.engine.cells import get_cell
from rnnviz.state import cellinfo, display
from rnnviz.state.display import Heatmap
from rnnviz.state.ready_images import ready_image

GATE_LEVELS = (0.0, 1.0)        # a sigmoid gate: 0 closed, 1 open


def state_parts(cell: str) -> tuple[str, ...]:
    """The cell's state parts, the read-out one first (("h", "c") for the LSTM)."""
    return get_cell(cell).state_parts


def gates(cell: str) -> tuple[str, ...]:
    """The gates the gate heatmaps show for a cell (empty for a cell without gates)."""
    return tuple(cellinfo.describe(cell).gates)


def part_heatmap(result, b: int, part: str) -> Heatmap:
    """State part `part` of element b: the read-out part as display.state_heatmap draws it; the
    others (the LSTM's cell state c, not bounded) on ± the 99th percentile of |value|."""
    trace = result.trace
    if part == get_cell(trace.cell).state_parts[0]:
        h = display.state_heatmap(result, b)
        symbol = cellinfo.describe(trace.cell).parts.get(part, part)
        if symbol != "s" and h.caption.startswith("s_t"):      # the LSTM's and GRU's h_t
            h = dataclasses.replace(h, caption=f"{symbol}_t" + h.caption[3:])
        return h

    def make() -> Heatmap:
        v = np.ascontiguousarray(trace.parts[part][:, b, :])
        finite = np.abs(v[np.isfinite(v)]).astype(np.float64)
        top = float(np.percentile(finite, 99)) if finite.size else 1.0
        top = top if 0 < top < np.inf else 1.0
        symbol = cellinfo.describe(trace.cell).parts.get(part, part)
        image = display.drawable(v, (-top, top))
        return Heatmap(v, image, (-top, top), f"{symbol}_t  (99th pct)",
                       display._nonfinite_steps(v), ready=ready_image(image, (-top, top), "mean"))
    return display.cached(result, ("part", part, b), make)


def gate_heatmap(result, b: int, gate: str) -> Heatmap:
    """Gate `gate` of element b on its fixed range 0..1."""
    def make() -> Heatmap:
        v = np.ascontiguousarray(result.trace.parts[gate][:, b, :])
        image = display.drawable(v, GATE_LEVELS)
        return Heatmap(v, image, GATE_LEVELS, f"{gate}_t", display._nonfinite_steps(v),
                       ready=ready_image(image, GATE_LEVELS, "mean"))
    return display.cached(result, ("gate", gate, b), make)
