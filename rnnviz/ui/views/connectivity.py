"""Input connectivity (Distill): how strongly the output at the selected t depends on each input x_t′."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from rnnviz.state import readouts
from rnnviz.state.connectivity import LANE, ConnectivityRequest
from rnnviz.ui.views.plotbase import PlotView
from rnnviz.ui.views.steps import shown_b, shown_t, time_extent
from rnnviz.ui.widgets.axes import decade_scale, integer_axes, sparse_ticks

MEMO_SIZE = 256
AXIS_CAPTION = "‖∂z/∂x′‖"      # short: this plot is low; the readout has the formula


class ConnectivityView(PlotView):
    """Bars over t′ ≤ t: the sensitivity of the output at t to the input at t′."""

    always_reads_out = True
    title = "Input connectivity"
    tooltip = ("How strongly the output at the selected step t depends on the input at each "
               "earlier step t′: ‖∂z_t[k]/∂x_t′‖₂ with k the arg-max class at t (Distill, "
               "'Visualizing memorization in RNNs'). Zero for t′ > t. Long bars far back mean "
               "long memory.")

    def __init__(self, session, compute: Callable, worker=None, params_for: Callable | None = None,
                 parent=None):
        """compute(request) -> (request.key, bars): run in the worker's connectivity lane when a
        worker is given (the window's; its "connectivity" lane must run compute), else in-line."""
        super().__init__(session, parent)
        self.compute = compute
        self.worker = worker
        self.params_for = params_for or (lambda result: session.params)
        self.plot_item = self.graphics.addPlot(axisItems=integer_axes("bottom"))
        self.plot_item.setMenuEnabled(False)
        self.plot_item.setMouseEnabled(x=True, y=False)
        self.set_label(self.plot_item, "bottom", "input step t′")
        self.set_label(self.plot_item, "left", AXIS_CAPTION)
        self.bars = pg.BarGraphItem(x=[1], height=[0], width=0.85)
        self.bars.setToolTip(self.tooltip)
        self.plot_item.addItem(self.bars)
        self.add_cursor(self.plot_item)
        self.memo: dict[tuple[int, int, int], np.ndarray] = {}
        self.values: np.ndarray | None = None       # bars shown (T,)
        self.shown_key: tuple[int, int, int] | None = None
        self._next_id = 0
        self._asked: tuple[int, int, int] | None = None    # the key last sent to the worker
        self._top = 0.0
        self._suffix = ""
        if worker is not None:
            worker.done.connect(self._arrived)
            worker.failed.connect(self._forget_asked)     # (asked again at the next draw)
        self.restyle(self.style_)

    def detached_copy(self) -> ConnectivityView:
        """A copy computing its bars in-line (no worker)."""
        return ConnectivityView(self.session, self.compute)

    def restyle(self, style) -> None:
        self.bars.setOpts(brush=pg.mkBrush(style.bar), pen=pg.mkPen(None))

    def draw_key(self, result):
        return result.request_id, time_extent(result)    # partial results change no bar

    def draw_result(self, result) -> None:
        T = time_extent(result)
        self.plot_item.setLimits(xMin=0.5, xMax=T + 0.5)
        self.show_range(self.plot_item, (0.5, T + 0.5))

    def schedule(self, result: bool = False) -> None:
        super().schedule(result)
        if result and self.isVisible() and self.worker is not None and \
                self.session.result is not None:
            self._ask(self.session.result)   # now, not at this view's turn to draw: the worker
                                             # computes the bars while the other views draw

    def draw_timestep(self, result) -> None:
        t = shown_t(self.session, result)
        self.set_cursors(t + 1)
        self._ask(result)

    def _ask(self, result) -> None:
        """The bars of the shown step: from the memo, else computed (on the worker, once)."""
        key = (result.request_id, shown_t(self.session, result), shown_b(self.session, result))
        if key in self.memo:
            self._show(key, self.memo[key])
            return
        if key == self._asked:
            return                           # on its way
        request = ConnectivityRequest(self._next_id, key, self.params_for(result), result.trace)
        self._next_id += 1
        if self.worker is None:
            self._store(*self.compute(request))
        else:
            self._asked = key
            self.worker.submit(request, lane=LANE)

    @QtCore.Slot(int, str)
    def _forget_asked(self, *_) -> None:
        self._asked = None

    @QtCore.Slot(str, object)
    def _arrived(self, lane: str, payload) -> None:
        if lane == LANE:
            self._store(*payload)

    def _store(self, key, values) -> None:
        if len(self.memo) >= MEMO_SIZE:
            self.memo.pop(next(iter(self.memo)))
        self.memo[key] = values
        result = self.session.result
        if result is not None and key == (result.request_id, shown_t(self.session, result),
                                           shown_b(self.session, result)):
            self._show(key, values)

    def _show(self, key, values) -> None:
        values = np.asarray(values, dtype=np.float64)
        shown = np.where(np.isfinite(values), values, 0.0)     # float64: no overflow in drawing
        self.bars.setOpts(x=np.arange(1, values.size + 1), height=shown, width=0.85)
        top = float(shown.max()) if shown.size and shown.max() > 0 else 1.0
        if not 0.5 * self._top <= top <= self._top:     # re-range only on big changes
            self._top = top * 1.08
            self.plot_item.setYRange(0, self._top, padding=0)
            factor, suffix = decade_scale(self._top)     # short ticks; the caption says ×10ᵏ
            self.plot_item.getAxis("left").setTicks(sparse_ticks(self._top, factor))
            if suffix != self._suffix:
                self._suffix = suffix
                self.set_label(self.plot_item, "left", AXIS_CAPTION + suffix)
        self.values, self.shown_key = values, key
        self.readout.show_text(*readouts.connectivity_reach(values, key[1]))
