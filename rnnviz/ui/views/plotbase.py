"""What every plot view shares: a pyqtgraph canvas, styling, the t cursor and coalesced redraws."""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6 import QtCore, QtWidgets

from rnnviz.ui.style import NORMAL, Style
from rnnviz.ui.views.fitting import FittedLabels
from rnnviz.ui.views.steps import runs, shown_t
from rnnviz.ui.widgets.axes import (
    WIDEST_POWER,
    bound_grid,
    colourbar_room,
    plain,
    readable,
    vertical_axis_room,
)
from rnnviz.ui.widgets.readout import Readout
from rnnviz.ui.widgets.steady import steady
from rnnviz.ui.worker import ui_turn

STEADY_SHARE = 0.05      # a live range's ends move in steps of at least this share of its span


def same_key(a: tuple | None, b: tuple | None) -> bool:
    """Two draw keys name the same drawing: same length, each part the same object, or equal
    numbers, strings or tuples of them."""
    if a is None or b is None or len(a) != len(b):
        return False
    plain_types = (int, float, str, tuple, type(None))
    return all(x is y or (type(x) is type(y) and isinstance(x, plain_types) and x == y)
               for x, y in zip(a, b))


class Canvas(pg.GraphicsLayoutWidget):
    """A view's pyqtgraph canvas, whose paints go before the worker's computation (ui_turn)."""

    def paintEvent(self, event) -> None:
        with ui_turn():
            super().paintEvent(event)


class _ResultDraws:
    """Views with a new result to draw, drawn one per event-loop pass (each paints at once):
    a new result then blocks the event loop for its costliest view, not for all of them."""

    def __init__(self):
        self.queue: list = []
        self.timer = QtCore.QTimer()
        self.timer.setSingleShot(True)
        self.timer.setInterval(0)
        self.timer.timeout.connect(self._next)

    def add(self, view) -> None:
        if view not in self.queue:
            self.queue.append(view)
        if not self.timer.isActive():
            self.timer.start()

    def discard(self, view) -> None:
        """Forget a view (its window is closing: the queue must not keep it alive)."""
        self.queue = [v for v in self.queue if v is not view]
        if not self.queue:
            self.timer.stop()

    def _next(self) -> None:
        while self.queue:
            view = self.queue.pop(0)
            if shiboken6.isValid(view) and view._dirty_result:
                view.flush()
                break
        if self.queue:
            self.timer.start()           # the next view on the next pass


_result_draws: _ResultDraws | None = None


def result_draws() -> _ResultDraws:
    global _result_draws
    if _result_draws is None:
        _result_draws = _ResultDraws()
    return _result_draws


class PlotView(FittedLabels, QtWidgets.QWidget):
    """Base of every plot: subscribes to the session, redraws at most once per event-loop pass.

    Subclasses implement `draw_result()` (the big, per-result items) and `draw_timestep()`
    (what depends on the selected t: cursors, per-t bars); a slider move only calls the latter.
    A view whose `draw_key()` says what its drawing depends on skips draw_result() while that
    stays the same (the partial results of one request share trace, grads and spectrum: only
    the flow changes while it fills in).
    """

    title = "plot"
    tooltip = ""
    always_reads_out = False      # the line under the plot says something from the first draw
    result_events = ("result", "loaded")
    timestep_events = ("timestep",)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.style_ = NORMAL
        self.graphics = Canvas()
        self.graphics.setToolTip(self.tooltip)
        # Qt's default BSP index re-indexes every item whose geometry or data changes, asking
        # each for its bounding rect (pyqtgraph's axes compute theirs in Python): ~a third of
        # a live redraw. A plot holds a few dozen items, so no index at all is cheaper.
        self.graphics.scene().setItemIndexMethod(QtWidgets.QGraphicsScene.ItemIndexMethod.NoIndex)
        # pyqtgraph's 9 px above and below every canvas (and 6 px between its rows) cost a
        # column of stacked time plots a plot's height: 6 and 2 px, and 2 px; the sides stay
        # 9 px (the time axes line up by the same side margins).
        self.graphics.ci.layout.setContentsMargins(9, 6, 9, 2)
        self.graphics.ci.layout.setVerticalSpacing(2)
        self.readout = Readout()
        self.readout.setFixedHeight(self.readout.fontMetrics().height() + 4)
        if not self.always_reads_out:       # a heatmap's line says only what the mouse is over:
            self.readout.setVisible(False)  # hidden until then (a line of height)
            self.readout.shown.connect(lambda: self.readout.isHidden() and self.readout.setVisible(True))
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(steady(self.readout))      # (its new texts lay out nothing)
        self.cursors: list[pg.InfiniteLine] = []
        self._dirty_result = True
        self._dirty_t = True
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.flush)
        self._syncing_cursor = False
        self.draw_count = 0           # full redraws (tests check slider moves do not add any)
        self._drawn_key: tuple | None = None     # draw_key() of what draw_result() last drew
        self.last_draw_ms = 0.0       # what the last result draw took (with its painting)
        self._axes_plain = False
        self._fitted: dict[int, tuple] = {}      # labels shown in the longest variant that fits
        self._titles: dict[int, tuple] = {}      # what set_title last showed, per plot item
        self._fitted_pt: dict[int, float] = {}   # the title size each label was fitted in
        self._axis_labels: dict[int, tuple] = {}  # axis -> (axis, caption variants, shown)
        self.time_caption = True                  # the bottom axis's caption is shown
        self._refitting = False
        self._unsubscribe = session.events.subscribe(self._on_event)
        self.destroyed.connect(lambda *_: self._unsubscribe())

    # ----- events ----------------------------------------------------------------------------
    def _on_event(self, name: str, **payload) -> None:
        if name in self.result_events:
            self.schedule(result=True)
        elif name in self.timestep_events:
            self.schedule(result=False)

    def schedule(self, result: bool = False) -> None:
        """Mark the view dirty and draw once when control returns to the event loop (a hidden
        view, such as one in a tab not shown, draws when it is shown again)."""
        self._dirty_t = True
        if result:
            self._dirty_result = True
        if not self.isVisible():
            return
        if result:
            if not self._timer.isActive():
                result_draws().add(self)        # one view per event-loop pass
        elif not self._timer.isActive():
            self._timer.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty_result or self._dirty_t:
            self.schedule(result=self._dirty_result)

    def flush(self) -> None:
        """Draw what is dirty now."""
        with ui_turn():
            self._flush()

    def _flush(self) -> None:
        self._timer.stop()
        if not self._axes_plain:
            self._axes_plain = True
            for axis in self.axes():
                readable(plain(axis))
        result = self.session.result
        if result is None:
            return
        drawn, start = False, time.perf_counter()
        if self._dirty_result:
            self._dirty_result = False
            key = self.draw_key(result)
            self.last_draw_ms = 0.0
            if key is None or not same_key(key, self._drawn_key):
                self._drawn_key = key
                self.draw_count += 1
                self.draw_result(result)
                drawn = True
        if self._dirty_t:
            self._dirty_t = False
            self.draw_timestep(result)
        if drawn:
            self.last_draw_ms = (time.perf_counter() - start) * 1e3

    def refresh(self) -> None:
        """Redraw everything from the session now."""
        self._dirty_result = self._dirty_t = True
        self._drawn_key = None
        self.flush()

    def detached_copy(self) -> PlotView:
        """A new view of this kind on the same session, wired to no worker (export draws it alone)."""
        return type(self)(self.session)

    def draw_key(self, result) -> tuple | None:
        """What draw_result() depends on (objects compared by identity, numbers and strings by
        value); None: draw every result."""
        return None

    def draw_result(self, result) -> None:       # pragma: no cover - abstract
        raise NotImplementedError

    def draw_timestep(self, result) -> None:
        """Move the cursors to the selected t (displayed 1-based)."""
        self.set_cursors(shown_t(self.session, result) + 1)

    # ----- the timestep cursor ---------------------------------------------------------------
    def add_cursor(self, plot_item: pg.PlotItem) -> pg.InfiniteLine:
        """A draggable vertical line at the selected t; dragging it selects t."""
        line = pg.InfiniteLine(angle=90, movable=True, pen=self.style_.pen(self.style_.cursor, 2),
                               hoverPen=self.style_.pen(self.style_.cursor, 4))
        line.setZValue(50)
        line.setToolTip("The selected time step t: drag it, click a column, or use ← → Home End")
        line.sigPositionChanged.connect(self._cursor_dragged)
        plot_item.addItem(line, ignoreBounds=True)
        self.cursors.append(line)
        return line

    def set_cursors(self, t_shown: float) -> None:
        self._syncing_cursor = True
        try:
            for line in self.cursors:
                if line.value() != t_shown:
                    line.setValue(t_shown)
        finally:
            self._syncing_cursor = False

    def _cursor_dragged(self, line) -> None:
        if self._syncing_cursor:
            return
        self.select_shown_t(line.value())

    def select_shown_t(self, t_shown: float) -> None:
        """Select the displayed step nearest t_shown (1-based) in the session."""
        if not np.isfinite(t_shown):
            return
        self.session.set_timestep(int(round(t_shown)) - 1)

    # ----- non-finite shading --------------------------------------------------------------
    @staticmethod
    def show_range(plot_item: pg.PlotItem, x_range, y_range=None) -> None:
        """setRange(padding=0) of x (and y, if given), unless the view shows exactly that
        already: a range set again re-draws every axis (pyqtgraph re-makes their tick
        pictures), at each live result."""
        shown = plot_item.vb.viewRange()
        wanted = [x_range] if y_range is None else [x_range, y_range]
        if all(tuple(shown[i]) == tuple(map(float, r)) for i, r in enumerate(wanted)):
            return
        plot_item.setRange(xRange=x_range, yRange=y_range, padding=0)

    @staticmethod
    def steady_range(wanted, share: float = STEADY_SHARE) -> tuple[float, float]:
        """`wanted` (lo, hi) rounded outward to a grid of 1, 2 or 5 x 10^k, the first at least
        `share` of its span: a live view (training, a partial flow) then keeps its range while
        its curves move a little (a range set again re-draws the axes and paints the plot
        twice), and the range still depends on what is shown alone (F5 twice restores it)."""
        lo, hi = map(float, wanted)
        span = hi - lo
        if not (np.isfinite(span) and span > 0):
            return lo, hi
        unit = 10.0 ** np.floor(np.log10(span * share))
        step = next(m * unit for m in (1.0, 2.0, 5.0, 10.0) if m * unit >= span * share)
        return float(np.floor(lo / step) * step), float(np.ceil(hi / step) * step)

    def shade_nonfinite(self, plot_item: pg.PlotItem, store: list, steps) -> None:
        """Red regions over the non-finite steps (0-based) of a time axis drawn 1-based."""
        for region in store:
            plot_item.removeItem(region)
        store.clear()
        for first, last in runs(steps):
            region = pg.LinearRegionItem((first + 0.5, last + 1.5), movable=False,
                                         brush=pg.mkBrush(*self.style_.nonfinite),
                                         pen=pg.mkPen(None))
            region.setZValue(40)
            region.setToolTip(f"non-finite values (overflow) at steps {first + 1}..{last + 1}")
            plot_item.addItem(region, ignoreBounds=True)
            store.append(region)

    # ----- style -----------------------------------------------------------------------------
    def plot_items(self) -> list[pg.PlotItem]:
        """The PlotItems of this view (styled and exported together)."""
        return [self.plot_item]

    def axes(self) -> list[pg.AxisItem]:
        """Every axis of the view (plots and colour bars)."""
        return [item.getAxis(name) for item in self.plot_items()
                for name in ("left", "bottom", "right", "top")]

    def apply_style(self, style: Style) -> None:
        """Fonts, colours and line widths of the whole view."""
        self.style_ = style
        self.graphics.setBackground(style.background)
        tick_font = style.font(style.tick_pt)
        for axis in self.axes():
            readable(plain(axis))
        for item in self.plot_items():
            self.fit_side_axes(item, style)
            for name in ("left", "bottom", "right", "top"):
                axis = item.getAxis(name)
                axis.setPen(style.foreground)
                axis.setTextPen(style.foreground)
                axis.setTickFont(tick_font)
                if axis.label is not None and axis.labelText and id(axis) not in self._axis_labels:
                    axis.setLabel(axis.labelText, axis.labelUnits,
                                  **{"font-size": f"{style.font_pt}pt", "color": style.foreground})
            if item.titleLabel.text and id(item.titleLabel) not in self._fitted:
                item.setTitle(item.titleLabel.text, size=f"{style.title_pt}pt",
                              color=style.foreground)
            item.showGrid(x=True, y=True, alpha=style.grid_alpha)
            for name in ("left", "bottom"):
                bound_grid(item.getAxis(name))        # major lines only: cheap to repaint
            for name in ("right", "top"):             # the same lines again (twice the alpha,
                item.getAxis(name).setGrid(False)     # twice the painting): left/bottom only
        for line in self.cursors:
            line.setPen(style.pen(style.cursor, max(2.0, style.line_width)))
        self.readout.setFont(style.font())
        self.readout.setFixedHeight(self.readout.fontMetrics().height() + 4)
        for key, (axis, variants, _) in list(self._axis_labels.items()):
            self._axis_labels[key] = (axis, variants, None)     # set again in the new size
        self.restyle(style)
        self.fit_axis_labels()
        self._keep_caption()
        self.refresh()          # titles and fitted labels are set again in the new sizes

    def restyle(self, style: Style) -> None:
        """Subclass hook: colours of curves, bars, colour bars."""

    def set_right_room(self, px: int) -> None:
        """Leave px more on the canvas's right (the flow plot's legend beside it is wider than
        a colour bar: every time plot then ends at the same x)."""
        self.graphics.ci.layout.setContentsMargins(9, 6, 9 + max(0, int(px)), 2)

    @staticmethod
    def fit_side_axes(item: pg.PlotItem, style: Style) -> None:
        """Axes given a fixed width (to line up the time plots) get the width this style needs.

        Left: room for a '10⁻³⁰⁰' tick and the caption; right (an empty axis standing in for a
        heatmap's colour bar): exactly the room a colour bar takes, so every t axis lines up."""
        left, right = item.getAxis("left"), item.getAxis("right")
        if left.fixedWidth is not None:
            left.setWidth(vertical_axis_room(style.font(style.tick_pt), style.font(), WIDEST_POWER))
        if right.fixedWidth is not None and right.isVisible() and not right.style["showValues"]:
            right.setWidth(colourbar_room(style))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            for label, variants, opts in list(self._fitted.values()):
                self._fit(label, variants, opts)
