"""The output panel for a regression task (loss "mse", e.g. the adding problem): z_t = V s_t + b_y
drawn as bars (there is no softmax) against the float targets; a step that is not scored (a
NaN target) shows no target marker. Used by SoftmaxView in place of its probability bars."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from rnnviz.ui.views.steps import shown_b, shown_t


def is_regression(result) -> bool:
    """Whether a result scores its outputs by squared error (identity output, float targets)."""
    return getattr(result.trace, "loss", "cross_entropy") == "mse"


class RegressionOutput:
    """Draws z_t and the target into a SoftmaxView's plot (its bars, texts and readout)."""

    title = "Output z_t = V s_t + b_y (regression: no softmax)"

    def __init__(self, view):
        self.view = view
        self.markers = pg.ScatterPlotItem(symbol="_", size=46)
        self.markers.setZValue(30)
        self.markers.setToolTip("The target output at this step (the adding problem scores "
                                "the last step only: elsewhere there is no target)")
        view.plot_item.addItem(self.markers, ignoreBounds=True)
        self.markers.setVisible(False)
        self.active = False
        self.z = np.zeros(0)
        self.target = np.zeros(0)               # NaN where the step is not scored
        self._range_key = None

    def restyle(self, style) -> None:
        self.markers.setPen(pg.mkPen(style.target, width=4 + style.line_width))

    def targets(self, result) -> np.ndarray | None:
        """The session's float targets (n_y, m, T) when they belong to this result, else None."""
        targets = np.asarray(self.view.session.targets)
        return targets if targets.shape == result.trace.y.shape else None

    def activate(self) -> None:
        v = self.view
        if not self.active:
            self.active = True
            v.set_label(v.plot_item, "bottom", "output k")
            v.set_label(v.plot_item, "left", "z_t[k]")
            v.plot_item.getAxis("left").setTicks(None)
            v.argmax_text.setVisible(False)
        self.markers.setVisible(True)

    def deactivate(self) -> None:
        """Back to the softmax look (labels and ticks of probabilities)."""
        if not self.active:
            return
        self.active = False
        v = self.view
        self.markers.setVisible(False)
        v.set_label(v.plot_item, "bottom", "class k")
        v.set_label(v.plot_item, "left", "probability y_t[k]")
        ticks = [(k / 10, f"{k / 10:.1f}") for k in range(0, 11, 2)]
        v.plot_item.getAxis("left").setTicks([ticks, [(k / 10, "") for k in range(1, 11, 2)]])
        self._range_key = None

    def draw_result(self, result) -> None:
        v = self.view
        self.activate()
        v.set_title(v.plot_item, self.title, "Output z_t (no softmax)")
        n_y = int(result.trace.y.shape[0])
        v.plot_item.setLimits(xMin=0.4, xMax=n_y + 0.6)
        v._n_y = n_y
        self._range_key = None

    def _fit_range(self, result, b: int, n_y: int) -> None:
        """A y range holding z and the targets of the whole sequence (steady while t moves)."""
        key = (id(result.trace), b)
        if key == self._range_key:
            return
        self._range_key = key
        z = np.asarray(result.trace.y[:, b, :], dtype=np.float64)
        targets = self.targets(result)
        values = [z[np.isfinite(z)], np.zeros(1)]
        if targets is not None:
            t = targets[:, b, :]
            values.append(t[np.isfinite(t)])
        values = np.concatenate(values)
        lo, hi = float(values.min()), float(values.max())
        pad = 0.12 * max(hi - lo, 1e-6)
        self.view.plot_item.setRange(xRange=(0.4, n_y + 0.6), yRange=(lo - pad, hi + pad),
                                     padding=0)

    def draw_timestep(self, result) -> None:
        v, style = self.view, self.view.style_
        t, b = shown_t(v.session, result), shown_b(v.session, result)
        z = np.asarray(result.trace.y[:, b, t], dtype=np.float64)
        n_y = z.size
        self._fit_range(result, b, n_y)
        targets = self.targets(result)
        target = np.full(n_y, np.nan) if targets is None else np.asarray(targets[:, b, t], float)
        finite = np.isfinite(z)
        v.bars.setOpts(x=np.arange(1, n_y + 1), height=np.where(finite, z, 0.0), width=0.8,
                       brushes=[pg.mkBrush(style.bar)] * n_y,
                       pens=[pg.mkPen(style.foreground, width=0.5)] * n_y)
        scored = np.isfinite(target)
        ks = np.flatnonzero(scored)
        self.markers.setData(x=ks + 1.0, y=target[ks])
        self.z, self.target = z, target
        v.heights, v.argmax = z, None
        v.target = int(ks[0]) if ks.size else None
        v.target_text.setVisible(bool(ks.size))
        if ks.size:
            v.target_text.setText("target")
            v.target_text.setPos(ks[0] + 1, target[ks[0]] + 0.02 * _span(v))
        v.argmax_text.setVisible(False)
        loss = float(result.grads.loss_t[b, t])
        v.loss_at_t = loss
        if ks.size:
            v.loss_text.setText(f"t = {t + 1}: (z − target)² = {loss:.3g}")
            what = ", ".join(f"z = {z[k]:.4g} vs target {target[k]:.4g}" for k in ks[:3])
            v.readout.show_text(f"sequence {b + 1}, t = {t + 1}: {what}; squared error "
                                f"{loss:.4g}", f"z {z[ks[0]]:.3g} · target {target[ks[0]]:.3g}")
        else:
            v.loss_text.setText(f"t = {t + 1}: not scored")
            shown = ", ".join(f"{value:.4g}" for value in z[:3])
            v.readout.show_text(f"sequence {b + 1}, t = {t + 1}: z = {shown}; this step is not "
                                f"scored (no target here)", f"z {z[0]:.3g} · not scored")
        v.loss_text.setPos(v.plot_item.vb.width() - 6, 2)
        v.set_cursors(t + 1)
        v.nonfinite_text.setVisible(not finite.all())


def _span(view) -> float:
    lo, hi = view.plot_item.vb.viewRange()[1]
    return hi - lo
