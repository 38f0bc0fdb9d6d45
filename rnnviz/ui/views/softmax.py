"""Softmax bars y_t at the selected step: one bar per class, target and arg max marked, loss at t."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from rnnviz.ui.views.plotbase import PlotView
from rnnviz.ui.views.regression_output import RegressionOutput, is_regression
from rnnviz.ui.views.steps import shown_b, shown_t
from rnnviz.ui.widgets.axes import integer_axes


class SoftmaxView(PlotView):
    """Output distribution y_t = softmax(V s_t + b_y) of the selected sequence at the selected t."""

    title = "Softmax output y_t"
    tooltip = ("The network's output at the selected step, y_t = softmax(V s_t + b_y): one bar "
               "per class. Green: the target class; orange: the class the network picks (arg max). "
               "Loss at t: −log y_t[target].")

    def __init__(self, session, parent=None):
        super().__init__(session, parent)
        self.plot_item = self.graphics.addPlot(axisItems=integer_axes("bottom"))
        self.plot_item.setMenuEnabled(False)
        self.plot_item.setMouseEnabled(x=False, y=False)
        self.set_label(self.plot_item, "bottom", "class k")
        self.set_label(self.plot_item, "left", "probability y_t[k]")
        self.bars = pg.BarGraphItem(x=[1], height=[0], width=0.8)
        self.bars.setToolTip(self.tooltip)
        self.plot_item.addItem(self.bars)
        self.target_text = pg.TextItem("target", anchor=(0.5, 1.0))
        self.argmax_text = pg.TextItem("arg max", anchor=(0.5, 1.0))
        for item in (self.target_text, self.argmax_text):
            self.plot_item.addItem(item, ignoreBounds=True)
        self.loss_text = pg.TextItem("", anchor=(1.0, 0.0))
        self.loss_text.setParentItem(self.plot_item.vb)
        self.nonfinite_text = pg.TextItem("y_t is not finite here (overflow):\nno bars to show",
                                          anchor=(0.5, 0.5))
        self.nonfinite_text.setPos(0.5 * (1 + 1), 0.5)
        self.plot_item.addItem(self.nonfinite_text, ignoreBounds=True)
        self.nonfinite_text.setVisible(False)
        ticks = [(v / 10, f"{v / 10:.1f}") for v in range(0, 11, 2)]
        self.plot_item.getAxis("left").setTicks([ticks, [(v / 10, "") for v in range(1, 11, 2)]])
        self.heights = np.zeros(0)
        self.target: int | None = None
        self.argmax: int | None = None
        self.loss_at_t = float("nan")
        self._n_y = 0
        self.regression = RegressionOutput(self)      # an mse task: z_t against float targets
        self.restyle(self.style_)

    def restyle(self, style) -> None:
        self.target_text.setColor(style.target)
        self.argmax_text.setColor(style.argmax)
        self.loss_text.setColor(style.foreground)
        self.nonfinite_text.setColor(style.warning)
        self.nonfinite_text.setFont(style.font(bold=True))
        for item in (self.target_text, self.argmax_text, self.loss_text):
            item.setFont(style.font(bold=True))
        if hasattr(self, "regression"):
            self.regression.restyle(style)

    def draw_key(self, result):
        # the bars themselves follow t; a regression result is drawn against its own range
        return (int(result.trace.y.shape[0]), result.trace if is_regression(result) else None)

    def draw_result(self, result) -> None:
        if is_regression(result):
            return self.regression.draw_result(result)
        if self.regression.active:
            self.regression.deactivate()
            self._n_y = 0
        self.set_title(self.plot_item, "Softmax output y_t")
        n_y = int(result.trace.y.shape[0])
        if n_y != self._n_y:
            self._n_y = n_y
            self.plot_item.setLimits(xMin=0.4, xMax=n_y + 0.6)
        self.plot_item.setRange(xRange=(0.4, n_y + 0.6), yRange=(0, 1.12), padding=0)
        self.nonfinite_text.setPos(0.5 * (n_y + 1), 0.5)

    def _target_at(self, result, b: int, t: int) -> int | None:
        targets = np.asarray(self.session.targets)
        if targets.shape != result.trace.y.shape[1:]:
            return None                    # the targets belong to a newer set-up
        target = int(targets[b, t])
        return target if target >= 0 else None     # -1: this step is not scored

    def draw_timestep(self, result) -> None:
        if is_regression(result):
            return self.regression.draw_timestep(result)
        t, b = shown_t(self.session, result), shown_b(self.session, result)
        y = np.asarray(result.trace.y[:, b, t], dtype=np.float64)
        n_y = y.size
        target = self._target_at(result, b, t)
        finite = np.isfinite(y)
        argmax = int(np.argmax(np.where(finite, y, -np.inf))) if finite.any() else None
        style = self.style_
        brushes = [pg.mkBrush(style.bar)] * n_y
        pens = [pg.mkPen(style.foreground, width=0.5)] * n_y
        if argmax is not None:
            brushes[argmax] = pg.mkBrush(style.argmax)
        if target is not None and 0 <= target < n_y:
            brushes[target] = pg.mkBrush(style.target)
            if target == argmax:       # right answer: green bar with an orange outline
                pens[target] = pg.mkPen(style.argmax, width=4)
        heights = np.where(finite, y, 0.0)
        self.bars.setOpts(x=np.arange(1, n_y + 1), height=heights, width=0.8,
                          brushes=brushes, pens=pens)
        self.heights, self.target, self.argmax = y, target, argmax
        self._place(self.target_text, target, heights, 0.0)
        self._place(self.argmax_text, argmax, heights, 0.07 if target == argmax else 0.0)
        loss = float(result.grads.loss_t[b, t])
        self.loss_at_t = loss
        scored = self._scored(result, b, t)
        self.loss_text.setText(f"t = {t + 1}: not scored" if not scored else
                               f"t = {t + 1}: loss = {loss:.3g}" if np.isfinite(loss)
                               else f"t = {t + 1}: loss not finite")
        self.loss_text.setPos(self.plot_item.vb.width() - 6, 2)
        self.set_cursors(t + 1)
        where = f"target class {target + 1}" if target is not None else \
            "no target at this step (not scored)" if not scored else "target unknown"
        picked = f"arg max class {argmax + 1}" if argmax is not None else "no arg max (not finite)"
        self.readout.show_text(
            f"sequence {b + 1}: {where}, {picked}; loss at t = −log y_t[target] = {loss:.4g}",
            f"target {target + 1 if target is not None else '–'} · arg max "
            f"{argmax + 1 if argmax is not None else '–'} · loss {loss:.3g}")
        self.nonfinite_text.setVisible(not finite.all())

    def _scored(self, result, b: int, t: int) -> bool:
        """False where the step's target is -1 (the task does not score it)."""
        targets = np.asarray(self.session.targets)
        return targets.shape != result.trace.y.shape[1:] or int(targets[b, t]) >= 0

    @staticmethod
    def _place(item: pg.TextItem, k: int | None, heights: np.ndarray, lift: float) -> None:
        item.setVisible(k is not None and 0 <= k < heights.size)
        if item.isVisible():
            item.setPos(k + 1, heights[k] + 0.02 + lift)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.loss_text.setPos(self.plot_item.vb.width() - 6, 2)
