"""What every plot view shares: a pyqtgraph canvas, styling, the t cursor and coalesced redraws."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from rnnviz.ui.style import NORMAL, Style


def time_extent(result) -> int:
    """T of a result (its number of steps)."""
    return int(result.trace.s.shape[2])


def shown_t(session, result) -> int:
    """The selected timestep (0-based) clamped to the shown result's length."""
    return min(max(int(session.t), 0), time_extent(result) - 1)


def shown_b(session, result) -> int:
    """The selected batch element clamped to the shown result's batch size."""
    return min(max(int(session.b), 0), int(result.trace.s.shape[1]) - 1)


def runs(steps) -> list[tuple[int, int]]:
    """Contiguous runs [first, last] of sorted integer steps."""
    steps = np.unique(np.asarray(steps, dtype=np.int64))
    if steps.size == 0:
        return []
    breaks = np.nonzero(np.diff(steps) > 1)[0]
    starts = np.concatenate(([steps[0]], steps[breaks + 1]))
    ends = np.concatenate((steps[breaks], [steps[-1]]))
    return list(zip(starts.tolist(), ends.tolist()))


class PlotView(QtWidgets.QWidget):
    """Base of every plot: subscribes to the session, redraws at most once per event-loop pass.

    Subclasses implement `draw_result()` (the big, per-result items) and `draw_timestep()`
    (what depends on the selected t: cursors, per-t bars); a slider move only calls the latter.
    """

    title = "plot"
    tooltip = ""
    result_events = ("result", "loaded")
    timestep_events = ("timestep",)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.style_ = NORMAL
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setToolTip(self.tooltip)
        self.readout = QtWidgets.QLabel(" ")
        self.readout.setObjectName("readout")
        self.readout.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.readout.setSizePolicy(QtWidgets.QSizePolicy.Ignored, QtWidgets.QSizePolicy.Fixed)
        self.readout.setFixedHeight(self.readout.fontMetrics().height() + 4)
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
        self._unsubscribe = session.events.subscribe(self._on_event)
        self.destroyed.connect(lambda *_: self._unsubscribe())

    # ----- events ----------------------------------------------------------------------------
    def _on_event(self, name: str, **payload) -> None:
        if name in self.result_events:
            self.schedule(result=True)
        elif name in self.timestep_events:
            self.schedule(result=False)

    def schedule(self, result: bool = False) -> None:
        """Mark the view dirty and draw once when control returns to the event loop."""
        if result:
            self._dirty_result = True
        self._dirty_t = True
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Draw what is dirty now."""
        self._timer.stop()
        result = self.session.result
        if result is None:
            return
        if self._dirty_result:
            self._dirty_result = False
            self.draw_count += 1
            self.draw_result(result)
        if self._dirty_t:
            self._dirty_t = False
            self.draw_timestep(result)

    def refresh(self) -> None:
        """Redraw everything from the session now."""
        self._dirty_result = self._dirty_t = True
        self.flush()

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

    def apply_style(self, style: Style) -> None:
        """Fonts, colours and line widths of the whole view."""
        self.style_ = style
        self.graphics.setBackground(style.background)
        tick_font = style.font(style.tick_pt)
        for item in self.plot_items():
            for name in ("left", "bottom", "right", "top"):
                axis = item.getAxis(name)
                axis.setPen(style.foreground)
                axis.setTextPen(style.foreground)
                axis.setTickFont(tick_font)
                if axis.label is not None and axis.labelText:
                    axis.setLabel(axis.labelText, axis.labelUnits,
                                  **{"font-size": f"{style.font_pt}pt", "color": style.foreground})
            if item.titleLabel.text:
                item.setTitle(item.titleLabel.text, size=f"{style.title_pt}pt",
                              color=style.foreground)
            item.showGrid(x=True, y=True, alpha=style.grid_alpha)
        for line in self.cursors:
            line.setPen(style.pen(style.cursor, max(2.0, style.line_width)))
        self.readout.setFont(style.font())
        self.readout.setFixedHeight(self.readout.fontMetrics().height() + 4)
        self.restyle(style)
        self.refresh()

    def restyle(self, style: Style) -> None:
        """Subclass hook: colours of curves, bars, colour bars."""

    def set_title(self, item: pg.PlotItem, text: str) -> None:
        item.setTitle(text, size=f"{self.style_.title_pt}pt", color=self.style_.foreground)

    def set_label(self, item: pg.PlotItem, side: str, text: str) -> None:
        item.setLabel(side, text, **{"font-size": f"{self.style_.font_pt}pt",
                                     "color": self.style_.foreground})
