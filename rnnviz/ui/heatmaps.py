"""The two units × time heatmaps: hidden states s_t and the gradient dL/ds_t (log magnitude)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from rnnviz.ui.axes import integer_axes
from rnnviz.ui.plotbase import PlotView, shown_b, time_extent

FIXED_RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}   # the activation's value range
GRADIENT_DECADES = 10.0    # colour scale spans this many powers of ten below the largest |dL/ds|


def state_levels(s: np.ndarray, activation: str) -> tuple[tuple[float, float], str]:
    """Colour levels for hidden states and the colour bar's caption saying how they were chosen."""
    if activation in FIXED_RANGES:
        lo, hi = FIXED_RANGES[activation]
        return (lo, hi), f"s_t   ({activation}: {lo:g} … {hi:g})"
    finite = np.abs(s[np.isfinite(s)])
    top = float(np.percentile(finite, 99)) if finite.size else 1.0
    top = top if top > 0 else 1.0
    return (-top, top), f"s_t   (±{top:.3g}: 99th pct of |s|)"


def log_magnitude(g: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """log10|g| for display (zeros at the bottom of the scale, non-finite as NaN) and its levels."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        logs = np.log10(np.abs(g))
    finite = np.isfinite(logs)
    if finite.any():
        hi = float(logs[finite].max())
        lo = max(float(logs[finite].min()), hi - GRADIENT_DECADES)
    else:
        lo, hi = -1.0, 0.0
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    logs = np.where(np.isfinite(g), np.maximum(logs, lo), np.nan)
    return np.ascontiguousarray(logs), (lo, hi)


class HeatmapView(PlotView):
    """Units × time image with colour bar, cursor, click-to-select and a hover readout."""

    symbol = "s"
    colour_kind = "diverging"

    def __init__(self, session, parent=None):
        super().__init__(session, parent)
        self.plot_item = self.graphics.addPlot(axisItems=integer_axes("left", "bottom"))
        self.plot_item.setMenuEnabled(False)
        self.plot_item.invertY(True)        # unit 1 at the top, as in a matrix
        self.plot_item.setMouseEnabled(x=True, y=False)
        self.set_label(self.plot_item, "bottom", "time step t")
        self.set_label(self.plot_item, "left", "hidden unit i")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setToolTip(self.tooltip)
        self.plot_item.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=self.style_.colormap(self.colour_kind),
                                        interactive=False, width=14, label=" ")
        self.colorbar.setImageItem(self.image, insert_in=self.plot_item)
        self.add_cursor(self.plot_item)
        self._regions: list = []
        self.values: np.ndarray | None = None     # the numbers behind the image (units × T)
        self.graphics.scene().sigMouseMoved.connect(self._hover)
        self.graphics.scene().sigMouseClicked.connect(self._clicked)

    def data(self, result) -> tuple[np.ndarray, np.ndarray, tuple[float, float], str]:
        """(values, image, levels, colour-bar caption) for a result."""
        raise NotImplementedError

    def draw_result(self, result) -> None:
        values, image, levels, caption = self.data(result)
        self.values = values
        n, T = values.shape
        self.image.setImage(image, autoLevels=False, levels=levels)
        self.image.setRect(QtCore.QRectF(0.5, 0.5, T, n))
        self.colorbar.setLevels(levels)
        self.colorbar.axis.setLabel(caption, **{"font-size": f"{self.style_.font_pt}pt",
                                                "color": self.style_.foreground})
        self.plot_item.setLimits(xMin=0.5, xMax=T + 0.5, yMin=0.5, yMax=n + 0.5)
        self.plot_item.setRange(xRange=(0.5, T + 0.5), yRange=(0.5, n + 0.5), padding=0)
        self.shade_nonfinite(self.plot_item, self._regions, result.nonfinite_steps)
        self.set_title(self.plot_item, self.heading(result))

    def heading(self, result) -> str:
        return self.title

    def restyle(self, style) -> None:
        self.colorbar.setColorMap(style.colormap(self.colour_kind))
        self.colorbar.axis.setPen(style.foreground)
        self.colorbar.axis.setTextPen(style.foreground)
        self.colorbar.axis.setTickFont(style.font(style.tick_pt))

    # ----- mouse -----------------------------------------------------------------------------
    def cell_at(self, scene_pos) -> tuple[int, int] | None:
        """(unit, t) 0-based under a scene position, or None outside the image."""
        if self.values is None or not self.plot_item.vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.plot_item.vb.mapSceneToView(scene_pos)
        i, t = int(round(p.y())) - 1, int(round(p.x())) - 1
        n, T = self.values.shape
        return (i, t) if 0 <= i < n and 0 <= t < T else None

    def _hover(self, scene_pos) -> None:
        cell = self.cell_at(scene_pos)
        if cell is None:
            return
        i, t = cell
        self.readout.setText(self.describe(i, t, float(self.values[i, t])))

    def describe(self, i: int, t: int, value: float) -> str:
        return f"unit {i + 1}, t = {t + 1}: {self.symbol} = {value:.4g}"

    def _clicked(self, event) -> None:
        if event.button() != QtCore.Qt.LeftButton:
            return
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.session.set_timestep(cell[1])


class StateHeatmap(HeatmapView):
    """Hidden states s_t of the selected batch element, colour fixed to the activation's range."""

    title = "Hidden state s_t"
    tooltip = ("Hidden state s_t = f(U x_t + W s_{t−1} + b_a) of every unit (rows) at every step "
               "(columns) for the selected batch element. Colour range fixed by the activation "
               "(−1…1 for tanh, 0…1 for sigmoid). Click a column to select t.")
    symbol = "s"

    def data(self, result):
        b = shown_b(self.session, result)
        s = np.ascontiguousarray(result.trace.s[:, b, :])
        levels, caption = state_levels(s, result.trace.activation)
        return s, s, levels, caption

    def heading(self, result):
        b = shown_b(self.session, result)
        return (f"Hidden state s_t = {result.trace.activation}(U x_t + W s_(t−1) + b_a)"
                f"   ·   sequence {b + 1}")


class GradientHeatmap(HeatmapView):
    """Back-propagated gradient dL/ds_t of the selected batch element on a log10 colour scale."""

    title = "Gradient ∂L/∂s_t"
    tooltip = ("Gradient of the loss with respect to each hidden unit at each step, ∂L/∂s_t = "
               "Vᵀ(y_t − onehot_t)/m + Wᵀ diag(f′(a_{t+1})) ∂L/∂s_{t+1}, shown as log₁₀|·|: "
               "each colour step is a factor of ten. Vanishing gradients fade to the left.")
    symbol = "∂L/∂s"
    colour_kind = "magnitude"

    def data(self, result):
        b = shown_b(self.session, result)
        g = np.ascontiguousarray(result.grads.ds[:, b, :])
        logs, levels = log_magnitude(g)
        return g, logs, levels, "log₁₀ |∂L/∂s_t|"

    def heading(self, result):
        T = time_extent(result)
        return f"Gradient ∂L/∂s_t back through time (T = {T}), log₁₀ magnitude"

    def describe(self, i, t, value):
        mag = f"log₁₀|·| = {np.log10(abs(value)):.2f}" if np.isfinite(value) and value else ""
        return f"unit {i + 1}, t = {t + 1}: ∂L/∂s = {value:.3e}  {mag}"
