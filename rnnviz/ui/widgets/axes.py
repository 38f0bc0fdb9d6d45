"""Axis helpers: integer ticks for steps and units, powers of ten for log10 data, no SI prefixes;
the room axes and colour bars take, and cached axis painting."""
from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets

from rnnviz.ui.style import Style

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
WIDEST_TICK = "−0.25"        # the widest tick label a colour bar or linear axis shows (scaled)
WIDEST_POWER = "10⁻³⁰⁰"      # the widest tick label of a log10 axis
# decade_scale's exponent stays within ±MAX_DECADE: 10**-k of a subnormal top (1e-320, from
# u_scale = 1e-320) would overflow a float, and 10**-k is the factor the ticks are scaled by.
MAX_DECADE = 300
MAX_GRID_LINES = 12          # grid lines per axis (coarsest tick levels; see bound_grid)
COLOURBAR_WIDTH = 14        # the colour strip of a heatmap's colour bar, pixels
# Right of a heatmap's plot area its colour bar takes the strip, pyqtgraph's 5 px gap, the
# margins and spacings of the colour bar's own layout, and its axis; a time plot without a
# colour bar reserves the same room with an empty right axis.  Measured with pyqtgraph 0.14:
# room = axis width + COLOURBAR_EXTRA (tests/ui/test_views_look.py checks the t axes line up).
COLOURBAR_EXTRA = 38


def superscript(k: int) -> str:
    return str(int(k)).translate(_SUPERSCRIPT)


def power_of_ten(k: float) -> str:
    """'10⁻⁶' for k = -6 ('1' and '10' for 0 and 1); never evaluates 10**k (k may be 400)."""
    if abs(k - round(k)) > 1e-9:
        return f"10^{k:.2g}"
    k = int(round(k))
    return "1" if k == 0 else "10" if k == 1 else "10" + superscript(k)


def decade_scale(top: float) -> tuple[float, str]:
    """(factor, caption suffix) that keeps tick labels short when values reach 10^±3 and beyond.

    Values are shown multiplied by factor = 10^-k and the caption says '×10ᵏ'. k is kept within
    ±MAX_DECADE so the factor is a finite float: a subnormal top such as 1e-320 is shown as
    1e-20 ×10⁻³⁰⁰ (10^320 does not exist as a float)."""
    if not math.isfinite(top) or top <= 0:
        return 1.0, ""
    k = math.floor(math.log10(top))
    if -2 <= k <= 2:
        return 1.0, ""
    k = min(max(k, -MAX_DECADE), MAX_DECADE)
    return 10.0 ** -k, f" ×10{superscript(k)}"


def plain(axis: pg.AxisItem) -> pg.AxisItem:
    """No automatic SI prefix ('(x1e+18)') on an axis: captions say the scale themselves."""
    if axis.autoSIPrefix:
        axis.autoSIPrefix = False
        axis.autoSIPrefixScale = 1.0
        axis.labelUnitPrefix = ""
        axis._updateLabel()
    return axis


class IntegerAxis(pg.AxisItem):
    """An axis whose ticks fall on whole numbers only (time steps, unit and class indices)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        plain(self)

    def tickSpacing(self, minVal, maxVal, size):
        levels = [(s, o) for s, o in super().tickSpacing(minVal, maxVal, size) if s >= 1]
        return levels or [(1.0, 0.0)]


class Log10Axis(pg.AxisItem):
    """Axis for data that are already log10 values: ticks on whole decades labelled 10⁻⁶.

    (pyqtgraph's own log mode computes 10**value for its labels and SI prefix, which
    overflows for the exponents an exploding network reaches.)"""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        plain(self)

    def tickSpacing(self, minVal, maxVal, size):
        levels = [(s, o) for s, o in super().tickSpacing(minVal, maxVal, size) if s >= 1]
        return levels or super().tickSpacing(minVal, maxVal, size)

    def tickStrings(self, values, scale, spacing):
        return [power_of_ten(v * scale) for v in values]


def grid_levels(tick_specs: list, limit: int) -> list:
    """The tick specs of the coarsest tick levels, at most `limit` lines (the first level always).

    pyqtgraph lists an axis's tick lines level by level, each level with its own pen object."""
    kept, level_pen = [], None
    for i, spec in enumerate(tick_specs):
        if spec[0] is not level_pen:             # a new, finer level starts here
            level_pen = spec[0]
            level = [s for s in tick_specs[i:] if s[0] is level_pen]
            if kept and len(kept) + len(level) > limit:
                break
            kept.extend(level)
    return kept


def bound_grid(axis: pg.AxisItem, limit: int = MAX_GRID_LINES) -> pg.AxisItem:
    """With its grid on, the axis draws grid lines for its coarsest tick levels only: at most
    `limit` (all of the first level), not one per minor tick.

    A faint grid line spans the whole plot, and Qt's raster engine draws such semi-transparent
    lines slowly (~0.05-0.1 ms each at 1600x1000): minor levels (every unit, every decade of a
    log axis) would make every repaint of a changed axis cost several milliseconds more."""
    if getattr(axis, "grid_limit", None) is None:
        generate = axis.generateDrawSpecs

        def draw_specs(painter):
            specs = generate(painter)
            if specs is None or axis.grid is False:
                return specs
            axis_spec, tick_specs, text_specs = specs
            return axis_spec, grid_levels(tick_specs, axis.grid_limit), text_specs
        axis.generateDrawSpecs = draw_specs
    axis.grid_limit = int(limit)
    return axis


def integer_axes(*sides: str) -> dict[str, IntegerAxis]:
    """axisItems for a PlotItem with integer ticks on the given sides."""
    return {side: IntegerAxis(orientation=side) for side in sides}


def text_width(font: QtGui.QFont, text: str) -> int:
    return QtGui.QFontMetrics(font).horizontalAdvance(text)


def vertical_axis_room(tick_font: QtGui.QFont, label_font: QtGui.QFont, widest: str) -> int:
    """Pixels a left/right axis needs for tick labels as wide as `widest` plus a rotated caption."""
    return (text_width(tick_font, widest) + 5 + 5          # tick length, text offset
            + QtGui.QFontMetrics(label_font).height() + 10)   # caption line and its margins


def sparse_ticks(top: float, factor: float = 1.0) -> list[list[tuple[float, str]]]:
    """Ticks for a short axis from 0 to top: 0, a round value near top and its half (no crowding).

    Labels show value × factor (see decade_scale); positions stay in data units."""
    shown_top = top * factor
    if not math.isfinite(shown_top) or shown_top <= 0:
        return [[(0.0, "0")]]
    unit = 10.0 ** math.floor(math.log10(shown_top))
    if unit > shown_top:            # log10 rounded up: 0.09999999999999999 gives -1.0
        unit /= 10.0
    if not unit > 0:                # below the smallest float's decade (5e-324)
        return [[(0.0, "0")]]
    nice = max(m * unit for m in (1, 2, 5) if m * unit <= shown_top)
    return [[(0.0, "0"), (nice / factor, f"{nice:.3g}")], [(nice / 2 / factor, f"{nice / 2:.3g}")]]


def colourbar_axis_width(style: Style) -> int:
    """Width of a colour bar's axis: short tick labels (values scaled by decades) and a caption."""
    return vertical_axis_room(style.font(style.tick_pt), style.font(), WIDEST_TICK)


def colourbar_room(style: Style) -> int:
    """Horizontal room a heatmap's colour bar takes right of its plot (gap, strip, axis)."""
    return colourbar_axis_width(style) + COLOURBAR_EXTRA


def shrink_axes(view) -> None:
    """Let pyqtgraph's axes give back the text room the larger print fonts took (they only grow)."""
    for item in view.plot_items():
        for name in ("left", "right", "top", "bottom"):
            axis = item.getAxis(name)
            axis.textWidth, axis.textHeight = 30, 18      # pyqtgraph's initial values
            axis._updateWidth()
            axis._updateHeight()
            axis.picture = None
            axis.update()


def cache_axes(graphics) -> None:
    """Paint each axis of a pyqtgraph canvas from a pixmap kept until the axis changes.

    An axis with a grid draws its grid lines over the whole plot, and Qt's raster engine draws
    those faint non-antialiased lines slowly (3-17 ms per axis at 1600x1000), so replaying
    them whenever anything in the plot changed dominated a result's redraw.
    """
    for item in graphics.scene().items():
        if isinstance(item, pg.AxisItem):
            item.setCacheMode(QtWidgets.QGraphicsItem.DeviceCoordinateCache)
