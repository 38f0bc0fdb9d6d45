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
WIDEST_BAR_POWER = "10⁻³⁰"    # the widest a log colour bar shows (ends on whole decades)
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
    """'10⁻⁶' for k = -6 ('1' and '10' for 0 and 1), '2×10⁻³' for k = log10(0.002), '30' for
    log10(30); never evaluates 10**k for the whole k (k may be 400)."""
    whole = math.floor(k + 1e-9)
    mantissa = 10.0 ** (k - whole)
    if abs(mantissa - round(mantissa)) < 1e-6 * mantissa and round(mantissa) == 1:
        return "1" if whole == 0 else "10" if whole == 1 else "10" + superscript(whole)
    m = f"{mantissa:.2g}"
    if whole == 0:
        return m
    if whole == 1:
        return f"{mantissa * 10:.2g}"
    return f"{m}×10{superscript(whole)}"


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


def readable(axis: pg.AxisItem) -> pg.AxisItem:
    """The axis labels its first tick level no closer than its text allows (pyqtgraph always
    labels that level, however short the axis: a 60 px colour bar got five labels on top of
    each other): a coarser spacing (2, 5, 10 times) where the labels would collide."""
    if getattr(axis, "_readable", False):
        return axis
    axis._readable = True
    own_spacing = axis.tickSpacing

    def tick_spacing(minVal, maxVal, size):
        levels = own_spacing(minVal, maxVal, size)
        span = abs(maxVal - minVal)
        if not levels or size <= 0 or not span or not math.isfinite(span):
            return levels
        metrics = QtGui.QFontMetrics(axis.style["tickFont"] or QtGui.QFont())
        if axis.orientation in ("left", "right"):
            gap = 1.4 * metrics.height()
        else:                   # the widest label of the first level, and half a line
            first, offset = levels[0]
            lo, hi = sorted((minVal, maxVal))
            ends = [math.ceil((lo - offset) / first) * first + offset,
                    math.floor((hi - offset) / first) * first + offset] if first else [lo, hi]
            scale = axis.scale * axis.autoSIPrefixScale
            words = axis.tickStrings([v / axis.scale for v in ends], scale, first or 1.0)
            gap = max(metrics.horizontalAdvance(str(w)) for w in words) + 0.6 * metrics.height()
        least = gap * span / size                  # the smallest spacing that fits, data units
        kept = [(s, o) for s, o in levels if s is None or s >= least]
        if kept:
            return kept
        first, offset = levels[0]
        unit = 10.0 ** math.floor(math.log10(least))      # the next round spacing: 1, 2, 5 ×10ᵏ
        spacing = max(first, next(m * unit for m in (1, 2, 5, 10) if m * unit >= least))
        lo, hi = sorted((minVal, maxVal))
        start = math.ceil((lo - offset) / spacing) * spacing + offset
        if start + spacing > hi and size >= 2 * gap:     # fewer than two labels: the two ends
            if getattr(axis, "whole_decades", False) and math.floor(hi) - math.ceil(lo) >= 1:
                return [(math.floor(hi) - math.ceil(lo), math.ceil(lo))]   # 10⁻⁷ … 10⁻²
            return [(span * (1 - 1e-9), lo)]
        return [(spacing, offset)]
    axis.tickSpacing = tick_spacing
    return axis


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

    whole_decades = True      # readable(): a short axis labels whole decades at its ends

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        plain(self)

    def tickSpacing(self, minVal, maxVal, size):
        levels = [(s, o) for s, o in super().tickSpacing(minVal, maxVal, size) if s >= 1]
        return levels or [(1.0, 0.0)]


def log10_ticks(axis: pg.AxisItem) -> pg.AxisItem:
    """Make an axis label data that are already log10 values (see Log10Axis); works on any
    AxisItem, e.g. a colour bar's own."""
    spacing, values = axis.tickSpacing, axis.tickValues

    def tick_spacing(minVal, maxVal, size):
        levels = [(s, o) for s, o in spacing(minVal, maxVal, size) if s >= 1]
        return levels or [(1.0, 0.0)]

    def tick_values(minVal, maxVal, size):
        ticks = values(minVal, maxVal, size)
        lo, hi = sorted((minVal * axis.scale, maxVal * axis.scale))
        shown = sum(len(v) for _, v in ticks)
        if shown >= 2 or not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo > 3:
            return ticks
        # Less than two decades in view: add 2 and 5 (then every) times a power of ten.
        for mantissas in ((2, 5), (2, 3, 4, 5, 6, 7, 8, 9)):
            extra = [math.log10(m) + k for k in range(math.floor(lo), math.ceil(hi) + 1)
                     for m in mantissas if lo <= math.log10(m) + k <= hi]
            if shown + len(extra) >= 2:
                break
        return ticks + [(None, [v / axis.scale for v in extra])]

    axis.tickSpacing, axis.tickValues = tick_spacing, tick_values
    axis.tickStrings = lambda values, scale, spacing: [power_of_ten(v * scale) for v in values]
    axis.whole_decades = True       # readable(): a short axis labels whole decades at its ends
    return plain(axis)


class Log10Axis(pg.AxisItem):
    """Axis for data that are already log10 values: ticks on whole decades labelled 10⁻⁶, and
    within a decade on 2 and 5 times a power of ten ('2×10⁻³'): one format, never '10^-0.5'.

    (pyqtgraph's own log mode computes 10**value for its labels and SI prefix, which
    overflows for the exponents an exploding network reaches.)"""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        log10_ticks(self)


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
    """Width of a colour bar's axis: short tick labels (values scaled by decades, or powers of
    ten on whole decades) and a caption."""
    font = style.font(style.tick_pt)
    widest = max((WIDEST_TICK, WIDEST_BAR_POWER), key=lambda t: text_width(font, t))
    return vertical_axis_room(font, style.font(), widest)


def colourbar_room(style: Style) -> int:
    """Horizontal room a heatmap's colour bar takes right of its plot (gap, strip, axis)."""
    return colourbar_axis_width(style) + COLOURBAR_EXTRA


def _view_axes(view) -> list[pg.AxisItem]:
    """Every axis of a view: its plots' four sides and any colour bar's."""
    axes = view.axes() if hasattr(view, "axes") else []
    for item in view.plot_items():
        axes.extend(item.getAxis(name) for name in ("left", "right", "top", "bottom"))
    return list(dict.fromkeys(axes))


def _readjust(axis: pg.AxisItem) -> None:
    """Re-derive the axis's room from its text room (only its own dimension: a left or right
    axis its width, a top or bottom axis its height) and repaint it."""
    axis._adjustSize()
    axis.picture = None
    axis.update()


def axis_room(view) -> list[tuple[pg.AxisItem, float, float]]:
    """The text room every axis of a view has grown to (pyqtgraph keeps the widest and tallest
    tick text it has drawn: larger fonts widen axes for good), to put back with restore_axis_room."""
    return [(axis, axis.textWidth, axis.textHeight) for axis in _view_axes(view)]


def restore_axis_room(saved) -> None:
    """Put back the text room axis_room() saved (after a change of fonts and back)."""
    for axis, width, height in saved:
        axis.textWidth, axis.textHeight = width, height
        _readjust(axis)


def shrink_axes(view) -> None:
    """Let pyqtgraph's axes give back the text room the larger print fonts took (they only grow).

    A left or right axis gets back its width, a top or bottom one its height: never the other
    way round (pinning a time axis's width to a tick label's pins every tick into its corner)."""
    for axis in _view_axes(view):
        axis.textWidth, axis.textHeight = 30, 18      # pyqtgraph's initial values
        _readjust(axis)


def cache_axes(graphics) -> None:
    """Paint each axis of a pyqtgraph canvas from a pixmap kept until the axis changes.

    An axis with a grid draws its grid lines over the whole plot, and Qt's raster engine draws
    those faint non-antialiased lines slowly (3-17 ms per axis at 1600x1000), so replaying
    them whenever anything in the plot changed dominated a result's redraw.
    """
    for item in graphics.scene().items():
        if isinstance(item, pg.AxisItem):
            item.setCacheMode(QtWidgets.QGraphicsItem.DeviceCoordinateCache)
