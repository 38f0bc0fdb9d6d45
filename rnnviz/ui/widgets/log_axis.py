"""Axes of the training plots: log10 data that reads as plain numbers when the range is narrow (a
loss going from 80 to 20) and as powers of ten when it spans decades; iteration counts whose
labels never run into each other, whatever the font."""
from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6 import QtGui

from rnnviz.ui.widgets.axes import IntegerAxis, plain, power_of_ten

MANTISSAS = (1, 2, 5)


def value_label(log10_value: float) -> str:
    """The number at a log10 position, short: 0.002, 20, 5e+04."""
    value = 10.0 ** log10_value
    return f"{value:.3g}" if 1e-3 <= value < 1e4 else f"{value:.0e}".replace("e+0", "e").replace("e-0", "e-")


def log_ticks(minVal: float, maxVal: float):
    """(tick levels, wide) for log10 data shown from minVal to maxVal, or None (use the default):
    wide ranges tick whole decades, narrow ones 1, 2, 5 (or every 1..9) x 10^k."""
    if not (math.isfinite(minVal) and math.isfinite(maxVal)) or maxVal <= minVal:
        return None
    if maxVal - minVal > 2.5:                       # decades, every step-th labelled
        step = max(1, math.ceil((maxVal - minVal) / 8))
        decades = range(math.ceil(minVal), math.floor(maxVal) + 1)
        return [(float(step), [float(k) for k in decades if k % step == 0]),
                (1.0, [float(k) for k in decades if k % step])], True
    lo, hi = math.floor(minVal), math.ceil(maxVal)
    major, minor = [], []
    for k in range(lo, hi + 1):
        for m in MANTISSAS:
            v = k + math.log10(m)
            if minVal <= v <= maxVal:
                (major if m == 1 or maxVal - minVal < 1.2 else minor).append(v)
    if len(major) < 2:            # a narrow range: every 1..9 x 10^k inside it
        major = [k + math.log10(m) for k in range(lo - 1, hi + 1) for m in range(1, 10)
                 if minVal <= k + math.log10(m) <= maxVal]
        minor = []
    return [(1.0, major), (0.5, minor)], False


def log_labels(values, wide: bool) -> list[str]:
    return [power_of_ten(v) for v in values] if wide else [value_label(v) for v in values]


def make_log_axis(axis: pg.AxisItem) -> pg.AxisItem:
    """Give an existing axis (a colour bar's) the log ticks of LogValueAxis."""
    default = axis.tickValues
    state = {"wide": False}

    def tick_values(minVal, maxVal, size):
        made = log_ticks(minVal, maxVal)
        if made is None:
            state["wide"] = False
            return default(minVal, maxVal, size)
        levels, state["wide"] = made
        return levels

    axis.tickValues = tick_values
    axis.tickStrings = lambda values, scale, spacing: log_labels(values, state["wide"])
    plain(axis)
    return axis


class LogValueAxis(pg.AxisItem):
    """Ticks of log10 data: whole decades labelled 10ⁿ over wide ranges; 1, 2, 5 × 10ⁿ labelled
    with their values when the shown range spans less than about two decades."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        make_log_axis(self)


class IterationAxis(IntegerAxis):
    """Whole-number ticks (1, 2, 5 x 10^k apart) no closer than their widest label allows."""

    def tickSpacing(self, minVal, maxVal, size):
        if not (math.isfinite(minVal) and math.isfinite(maxVal)) or maxVal <= minVal or size <= 0:
            return super().tickSpacing(minVal, maxVal, size)
        font = self.style["tickFont"] or QtGui.QFont()
        widest = max(abs(int(minVal)), abs(int(maxVal)), 10)
        room = QtGui.QFontMetrics(font).horizontalAdvance(f"{widest}") * 1.4 + 6
        most = max(2, int(size // room))
        want = max(1.0, (maxVal - minVal) / most)
        k = 10.0 ** math.floor(math.log10(want))
        major = next(m * k for m in (1, 2, 5, 10) if m * k >= want)
        return [(major, 0.0)]
