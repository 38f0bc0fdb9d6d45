"""Softmax bars y_t at the selected step: one bar per class, target and arg max marked, loss at t."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from rnnviz.state import labels
from rnnviz.ui.views.plotbase import PlotView
from rnnviz.ui.views.regression_output import RegressionOutput, is_regression
from rnnviz.ui.views.steps import shown_b, shown_t
from rnnviz.ui.widgets.axes import integer_axes


class SoftmaxView(PlotView):
    """Output distribution y_t = softmax(V s_t + b_y) of the selected sequence at the selected t."""

    always_reads_out = True
    title = "Softmax output y_t"
    tooltip = ("The network's output at the selected step, y_t = softmax(V s_t + b_y): one bar "
               "per class. Green: the target class; orange: the class the network picks (arg max). "
               "Loss at t: −log y_t[target]. With a text input each class is the next "
               "character.")

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
        self.class_names: list[str] | None = None     # characters (text input), else numbers
        # The loss line of a regression output (RegressionOutput writes it); a classifier's
        # loss at t is in the title instead.
        self.loss_text = pg.TextItem("", anchor=(1.0, 0.0))
        self.loss_text.setParentItem(self.plot_item.vb)
        self.loss_text.setVisible(False)
        self.nonfinite_text = pg.TextItem("y_t is not finite here (overflow):\nno bars to show",
                                          anchor=(0.5, 0.5))
        self.nonfinite_text.setPos(0.5 * (1 + 1), 0.5)
        self.plot_item.addItem(self.nonfinite_text, ignoreBounds=True)
        self.nonfinite_text.setVisible(False)
        ticks = [(v / 10, f"{v / 10:.1f}") for v in range(0, 11, 2)]
        self.plot_item.getAxis("left").setTicks([ticks, [(v / 10, "") for v in range(1, 11, 2)]])
        self.heights = np.zeros(0)
        self.shown_t = 0
        self.target: int | None = None
        self.argmax: int | None = None
        self.loss_at_t = float("nan")
        self._n_y = 0
        self.regression = RegressionOutput(self)      # an mse task: z_t against float targets
        self.restyle(self.style_)

    def restyle(self, style) -> None:
        self.loss_text.setColor(style.foreground)
        self.loss_text.setFont(style.font(bold=True))
        self.target_text.setColor(style.target)
        self.argmax_text.setColor(style.argmax)
        self.nonfinite_text.setColor(style.warning)
        self.nonfinite_text.setFont(style.font(bold=True))
        for item in (self.target_text, self.argmax_text):
            item.setFont(style.font(bold=True))
        if hasattr(self, "regression"):
            self.regression.restyle(style)

    def draw_key(self, result):
        # the bars themselves follow t; a regression result is drawn against its own range
        return (int(result.trace.y.shape[0]), result.trace if is_regression(result) else None,
                tuple(self.names()))

    def names(self) -> list[str]:
        """The class names on the axis: characters for a text input, else 1..n_y."""
        return labels.classes(self.session.config) or []

    def draw_result(self, result) -> None:
        if is_regression(result):
            self.loss_text.setVisible(True)         # the regression's own loss line
            return self.regression.draw_result(result)
        if self.regression.active:
            self.regression.deactivate()
            self._n_y = 0
        self.loss_text.setVisible(False)            # the loss at t is in the title
        n_y = int(result.trace.y.shape[0])
        if n_y != self._n_y:
            self._n_y = n_y
            self.plot_item.setLimits(xMin=0.4, xMax=n_y + 0.6)
        names = self.names()
        self.class_names = names if len(names) == n_y else None
        bottom = self.plot_item.getAxis("bottom")
        if self.class_names:
            bottom.setTicks([[(k + 1, c) for k, c in enumerate(self.class_names)]])
            self.set_axis_label(bottom, "next character k", "class k")
        else:
            bottom.setTicks(None)
            self.set_axis_label(bottom, "class k")
        self.plot_item.setRange(xRange=(0.4, n_y + 0.6), yRange=(0, 1.12), padding=0)
        self.nonfinite_text.setPos(0.5 * (n_y + 1), 0.5)
        self.nonfinite_text.setTextWidth(max(60.0, self.plot_item.vb.width() - 12))   # wraps

    def name(self, k: int | None) -> str:
        """How class k (0-based) is written: its character in quotes, or its number."""
        if k is None:
            return "–"
        if self.class_names and 0 <= k < len(self.class_names):
            return f"'{self.class_names[k]}'"
        return str(k + 1)

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
        self.target, self.argmax = target, argmax
        self.heights, self.shown_t = heights, t
        self.place_labels()
        loss = float(result.grads.loss_t[b, t])
        self.loss_at_t = loss
        # The loss at t goes in the title (drawn over the bars it collided with "arg max").
        scored = self._scored(result, b, t)
        said = "not scored" if not scored else f"loss {loss:.3g}" if np.isfinite(loss) \
            else "loss not finite"
        self.set_title(self.plot_item, f"Softmax output y_t at t = {t + 1}:  {said}",
                       f"y_t at t = {t + 1}:  {said}", f"t = {t + 1}: {said}", said)
        self.set_cursors(t + 1)
        where = f"target {self.name(target)}" if target is not None else \
            "no target at this step (not scored)" if not scored else "target unknown"
        picked = f"arg max {self.name(argmax)}" if argmax is not None else \
            "no arg max (not finite)"
        self.readout.show_text(
            f"sequence {b + 1}: {where}, {picked}; loss at t = −log y_t[target] = {loss:.4g}",
            f"target {self.name(target)} · arg max {self.name(argmax)} · loss {loss:.3g}",
            f"target {self.name(target)} · arg max {self.name(argmax)}")   # (the title has the loss)
        self.nonfinite_text.setVisible(not finite.all())

    def place_labels(self) -> None:
        """'target' and 'arg max' over their bars; when their texts would overlap (adjacent or
        the same bar) the arg max sits one text height above the target. The y range grows to
        keep both in view (the lift is worked out for the range it ends with)."""
        heights, target, argmax = self.heights, self.target, self.argmax
        if not len(heights):
            return
        vb = self.plot_item.vb
        (x0, x1), _ = vb.viewRange()
        px_x = (x1 - x0) / max(vb.width(), 1.0)          # data units per pixel
        rect_t, rect_a = self.target_text.boundingRect(), self.argmax_text.boundingRect()
        has_t = target is not None and 0 <= target < heights.size
        has_a = argmax is not None and 0 <= argmax < heights.size
        def centre(item, k):            # centred on its bar, but inside the plot at the ends
            half = 0.5 * item.boundingRect().width() * px_x
            return min(max(k + 1, x0 + half), x1 - half)
        xs = {"target": centre(self.target_text, target) if has_t else 0.0,
              "argmax": centre(self.argmax_text, argmax) if has_a else 0.0}
        top = 1.12
        for _ in range(4):                               # the lift and the range settle
            px_y = top / max(vb.height(), 1.0)
            spots = {}
            if has_t:
                spots["target"] = heights[target] + 2 * px_y
            if has_a:
                spots["argmax"] = heights[argmax] + 2 * px_y
                if has_t:
                    apart = abs(xs["argmax"] - xs["target"]) / px_x   # pixels between the texts
                    overlap_x = apart < 0.5 * (rect_t.width() + rect_a.width()) + 4
                    overlap_y = abs(spots["argmax"] - spots["target"]) < \
                        (rect_t.height() + 2) * px_y
                    if overlap_x and overlap_y:
                        spots["argmax"] = max(spots["argmax"],
                                              spots["target"] + (rect_t.height() + 2) * px_y)
            top = max([1.12] + [y + (rect_a.height() + 4) * px_y for y in spots.values()])
        for item, key in ((self.target_text, "target"), (self.argmax_text, "argmax")):
            item.setVisible(key in spots)
            if key in spots:
                item.setPos(xs[key], spots[key])
        if abs(vb.viewRange()[1][1] - top) > 1e-9:
            self.plot_item.setYRange(0, top, padding=0)

    def _scored(self, result, b: int, t: int) -> bool:
        """False where the step's target is -1 (the task does not score it)."""
        targets = np.asarray(self.session.targets)
        return targets.shape != result.trace.y.shape[1:] or int(targets[b, t]) >= 0

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.nonfinite_text.setTextWidth(max(60.0, self.plot_item.vb.width() - 12))
        if self.regression.active:
            self.loss_text.setPos(self.plot_item.vb.width() - 6, 2)
        else:
            self.place_labels()
