"""Axis helpers: integer ticks for steps and units."""
from __future__ import annotations

import pyqtgraph as pg


class IntegerAxis(pg.AxisItem):
    """An axis whose ticks fall on whole numbers only (time steps, unit and class indices)."""

    def tickSpacing(self, minVal, maxVal, size):
        levels = [(s, o) for s, o in super().tickSpacing(minVal, maxVal, size) if s >= 1]
        return levels or [(1.0, 0.0)]


def integer_axes(*sides: str) -> dict[str, IntegerAxis]:
    """axisItems for a PlotItem with integer ticks on the given sides."""
    return {side: IntegerAxis(orientation=side) for side in sides}
