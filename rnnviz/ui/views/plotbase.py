"""What every plot view shares: a pyqtgraph canvas, styling, the t cursor and coalesced redraws."""
from __future__ import annotations

import time
import types

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6 import QtCore, QtWidgets

from rnnviz.ui.style import NORMAL, Style
from rnnviz.ui.views.steps import runs, shown_t
from rnnviz.ui.widgets.axes import (
    WIDEST_POWER,
    bound_grid,
    colourbar_room,
    plain,
    readable,
    text_width,
    vertical_axis_room,
)
from rnnviz.ui.widgets.readout import Readout


def same_key(a: tuple | None, b: tuple | None) -> bool:
    """Two draw keys name the same drawing: same length, each part the same object, or equal
    numbers, strings or tuples of them."""
    if a is None or b is None or len(a) != len(b):
        return False
    plain_types = (int, float, str, tuple, type(None))
    return all(x is y or (type(x) is type(y) and isinstance(x, plain_types) and x == y)
               for x, y in zip(a, b))


def _ask_no_width(label: pg.LabelItem) -> None:
    """LabelItem.updateMin, but asking the layout for the text's height only (no width)."""
    height = label.itemRect().height()
    label.setMinimumWidth(0)
    label.setMinimumHeight(height)
    label._sizeHint = {QtCore.Qt.SizeHint.MinimumSize: (0, height),
                       QtCore.Qt.SizeHint.PreferredSize: (0, height),
                       QtCore.Qt.SizeHint.MaximumSize: (-1, -1),
                       QtCore.Qt.SizeHint.MinimumDescent: (0, 0)}
    label.updateGeometry()


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


class PlotView(QtWidgets.QWidget):
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
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setToolTip(self.tooltip)
        # pyqtgraph's 9 px above and below every canvas (and 6 px between its rows) cost a
        # column of stacked time plots a plot's height: 6 and 2 px, and 2 px; the sides stay
        # 9 px (the time axes line up by the same side margins).
        self.graphics.ci.layout.setContentsMargins(9, 6, 9, 2)
        self.graphics.ci.layout.setVerticalSpacing(2)
        self.readout = Readout()
        self.readout.setFixedHeight(self.readout.fontMetrics().height() + 4)
        if not self.always_reads_out:       # a heatmap's line says only what the mouse is over:
            self.readout.setVisible(False)  # hidden until then (a line of height)
            self.readout.shown.connect(lambda: self.readout.setVisible(True))
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.readout)
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

    def set_title(self, item: pg.PlotItem, text: str, *shorter: str) -> None:
        """The plot's title: the first of text, *shorter that fits the view's width."""
        shown = (text, shorter, self.style_.title_pt, self.style_.foreground)
        if self._titles.get(id(item)) == shown:
            return                  # unchanged (re-fitted on resize): no HTML layout again
        self._titles[id(item)] = shown
        item.setTitle(text, size=f"{self.style_.title_pt}pt", color=self.style_.foreground)
        self.fit_label(item.titleLabel, (text,) + shorter, color=self.style_.foreground)

    def fit_label(self, label: pg.LabelItem, variants, **opts) -> None:
        """Show the first variant that fits the canvas width in the style's title size.

        A pyqtgraph label asks its layout for its text's full width, which widens the whole
        plot beyond the window (everything else then sits off-centre and clipped); a fitted
        label asks for no width and shows the longest variant that fits. Re-fitted on resize."""
        if id(label) not in self._fitted:
            label.updateMin = types.MethodType(_ask_no_width, label)   # also called on resize
            for item in self.plot_items():
                self._watch_resizes(item)
        entry = (label, tuple(variants), dict(opts))
        if self._fitted.get(id(label)) == entry and self._fitted_pt.get(id(label)) == \
                self.style_.title_pt:
            return                  # fitted already (and again on every resize)
        self._fitted[id(label)] = entry
        self._fitted_pt[id(label)] = self.style_.title_pt
        self._fit(label, tuple(variants), opts)

    def label_room(self, label: pg.LabelItem | None = None) -> int:
        """Width a fitted label may take (the widest of its placements, see label_rooms)."""
        return max(room for _, room in self.label_rooms(label))

    def label_rooms(self, label: pg.LabelItem | None = None) -> list[tuple[str, int]]:
        """(justification, width) a label may take, in order of preference: a plot's title is
        centred over its plot area when it fits there (as far on either side as the nearer
        edge allows), else it ends at the plot area's right edge, else starts at its left;
        other labels span the canvas."""
        width = self.graphics.width()
        for item in self.plot_items():
            vb = item.vb.sceneBoundingRect()
            if label is item.titleLabel and vb.width() > 1:
                centre = vb.center().x()
                return [("center", int(2 * min(centre, width - centre)) - 8),
                        ("right", int(vb.right()) - 8), ("left", int(width - vb.left()) - 8)]
        return [("center", width - 16)]

    def _text_width(self, text: str, opts) -> float:
        """Width of a title's text (its widest line and the text item's margins) in the title
        size, without laying it out."""
        font = self.style_.font(self.style_.title_pt, bold=bool(opts.get("bold")))
        return max(text_width(font, line) for line in text.split("<br>")) + 8

    def _fit(self, label: pg.LabelItem, variants, opts) -> None:
        """Show the longest variant that fits, placed as label_rooms allows; keep the one shown
        unless it no longer fits or a longer one fits with room to spare (a title's choice
        changes the plot's layout, which changes the room: without the margin two variants
        could take turns forever)."""
        rooms = self.label_rooms(label)
        widths = [self._text_width(v, opts) for v in variants]

        def placed(i, margin=0):
            return next((j for j, room in rooms if widths[i] + margin <= room), None)
        choice = next((i for i in range(len(variants)) if placed(i) is not None),
                      len(variants) - 1)
        shown = label.text if label.text in variants else None
        if shown is not None:
            current = variants.index(shown)
            if placed(current) is not None and choice < current and placed(choice, 12) is None:
                choice = current              # the longer one would only just fit: stay
        justify = placed(choice) or rooms[0][0]
        text = variants[choice]
        look = (self.style_.title_pt, dict(opts), justify)
        if text != label.text or getattr(label, "_fitted_look", None) != look:
            label.setAttr("justify", justify)
            label.setText(text, size=f"{self.style_.title_pt}pt", **opts)
            label._fitted_look = look
            label.updateMin()
        for item in self.plot_items():          # pyqtgraph gives a title row 30 px: too
            if label is item.titleLabel:        # little for two lines in projector fonts
                height = max(30.0, float(np.ceil(label.itemRect().height())))
                label.setMaximumHeight(height)
                item.layout.setRowFixedHeight(0, height)

    def title_fits(self, label: pg.LabelItem) -> bool:
        """The label's text is no wider than the canvas (what tests check)."""
        return label.itemRect().width() <= self.graphics.width()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            for label, variants, opts in list(self._fitted.values()):
                self._fit(label, variants, opts)

    # ----- axis captions that fit their axis ------------------------------------------------
    def set_axis_label(self, axis: pg.AxisItem, *variants: str) -> None:
        """An axis caption: the first variant that fits along the axis (a caption longer than
        a short axis runs into the legend or is cut); re-fitted on resize and restyle."""
        key = id(axis)
        old = self._axis_labels.get(key)
        if old is not None and old[1] == variants:
            return
        self._axis_labels[key] = (axis, variants, None)
        for item in self.plot_items():         # plot areas resize when the layout settles
            self._watch_resizes(item)
        self._fit_axis_label(key)

    def refit_titles(self) -> None:
        """Fit every title again (its plot area moved or changed width)."""
        for label, variants, opts in list(self._fitted.values()):
            self._fit(label, variants, opts)

    def fit_axis_labels(self) -> None:
        """Fit every caption set with set_axis_label to its axis's current length."""
        if not shiboken6.isValid(self):
            return
        for key in list(self._axis_labels):
            self._fit_axis_label(key)

    def axis_length(self, axis: pg.AxisItem) -> float:
        """Pixels along an axis (a colour bar's axis: its strip's height)."""
        g = axis.geometry()
        return g.height() if axis.orientation in ("left", "right") else g.width()

    def _fit_axis_label(self, key: int) -> None:
        axis, variants, shown = self._axis_labels[key]
        room = self.axis_length(axis) - 4
        font = self.style_.font()
        text = next((v for v in variants if text_width(font, v) <= room), variants[-1])
        look = (text, self.style_.font_pt, self.style_.foreground)
        if look == shown:
            return
        self._axis_labels[key] = (axis, variants, look)
        axis.setLabel(text, **{"font-size": f"{self.style_.font_pt}pt",
                               "color": self.style_.foreground})
        self._keep_caption()

    def axis_label_fits(self, axis: pg.AxisItem) -> bool:
        """The caption is no longer than its axis (what tests check)."""
        return text_width(self.style_.font(), axis.labelText) <= self.axis_length(axis)

    def _watch_resizes(self, item: pg.PlotItem) -> None:
        """Re-fit captions and titles when a plot area resizes (the layout settling)."""
        if not getattr(item.vb, "_fits_labels", False):
            item.vb._fits_labels = True
            item.vb.sigResized.connect(lambda *_: self._plot_resized())

    def _plot_resized(self) -> None:
        if not shiboken6.isValid(self) or self._refitting:
            return
        self._refitting = True          # a re-fit resizes the plot once more: not again
        try:
            self.fit_axis_labels()
            self.refit_titles()
        finally:
            self._refitting = False

    def set_label(self, item: pg.PlotItem, side: str, text: str) -> None:
        item.setLabel(side, text, **{"font-size": f"{self.style_.font_pt}pt",
                                     "color": self.style_.foreground})
        self._keep_caption()

    def set_time_caption(self, on: bool) -> None:
        """Show or hide the caption of the bottom (time) axis; its ticks stay."""
        self.time_caption = bool(on)
        bottom = self.plot_item.getAxis("bottom")
        if on and not bottom.label.isVisible() and bottom.labelText:
            bottom.showLabel(True)
        self._keep_caption()

    def _keep_caption(self) -> None:
        """pyqtgraph shows an axis caption again whenever it is set: hide it again if off."""
        if not self.time_caption and hasattr(self, "plot_item"):
            bottom = self.plot_item.getAxis("bottom")
            if bottom.label.isVisible():
                bottom.showLabel(False)
