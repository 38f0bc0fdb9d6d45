"""The two units × time heatmaps: hidden states s_t and the gradient dL/ds_t (log magnitude).

What they draw is computed by rnnviz.state.display (on the worker, cached on the Result)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from rnnviz.state import display
from rnnviz.state.display import (CLIP_REACH, FIXED_RANGES, GRADIENT_DECADES,  # noqa: F401
                                  GRADIENT_PERCENTILES, MIN_DECADES, drawable, gradient_levels,
                                  log10_abs, log_magnitude, state_levels)
from rnnviz.ui.axes import decade_scale, integer_axes
from rnnviz.ui.plotbase import (COLOURBAR_WIDTH, PlotView, colourbar_axis_width, shown_b,
                                shown_nonfinite,
                                time_extent)

class HeatmapView(PlotView):
    """Units × time image with colour bar, cursor, click-to-select and a hover readout."""

    symbol = "s"
    colour_kind = "diverging"
    colourbar_tooltip = ""

    def __init__(self, session, parent=None):
        super().__init__(session, parent)
        self.plot_item = self.graphics.addPlot(axisItems=integer_axes("left", "bottom"))
        self.plot_item.setMenuEnabled(False)
        self.plot_item.invertY(True)        # unit 1 at the top, as in a matrix
        self.plot_item.setMouseEnabled(x=True, y=False)
        self.set_label(self.plot_item, "bottom", "time step t")
        self.set_label(self.plot_item, "left", "unit i")
        self.image = pg.ImageItem(axisOrder="row-major", autoDownsample=True)   # ≤ the pixels shown
        self.image.setToolTip(self.tooltip)
        self.plot_item.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=self.style_.colormap(self.colour_kind),
                                        interactive=False, width=COLOURBAR_WIDTH, label=" ")
        self.colorbar.axis.setWidth(colourbar_axis_width(self.style_))
        self.colorbar.setImageItem(self.image, insert_in=self.plot_item)
        self.colorbar.setToolTip(self.colourbar_tooltip)
        self.caption = ""
        self._label_shown: tuple | None = None
        self.levels = (0.0, 1.0)
        self.add_cursor(self.plot_item)
        self._regions: list = []
        self.values: np.ndarray | None = None     # the numbers behind the image (units × T)
        self.graphics.scene().sigMouseMoved.connect(self._hover)
        self.graphics.scene().sigMouseClicked.connect(self._clicked)

    def data(self, result) -> tuple[np.ndarray, np.ndarray, tuple[float, float], str]:
        """(values, image, levels, colour-bar caption) for a result."""
        raise NotImplementedError

    def draw_key(self, result):
        """The image (cached per request and element: the same object for every partial
        result) and the shaded steps."""
        return self.data(result)[1], tuple(shown_nonfinite(result).tolist())

    def draw_result(self, result) -> None:
        values, image, levels, caption = self.data(result)
        self.values, self.levels = values, levels
        n, T = values.shape
        self.image.setImage(image, autoLevels=False, levels=levels)
        self.image.setRect(QtCore.QRectF(0.5, 0.5, T, n))
        self.colorbar.setLevels(levels)
        factor, suffix = decade_scale(max(abs(levels[0]), abs(levels[1])))
        self.colorbar.axis.setScale(factor)      # short tick labels; the caption says ×10ᵏ
        base, _, note = caption.partition("  ")
        label = (base + suffix + ("  " + note if note else ""), self.style_.font_pt,
                 self.style_.foreground)
        if label != self._label_shown:          # a new label lays the whole plot out again
            self._label_shown = label
            self.caption = label[0]
            self.colorbar.axis.setLabel(self.caption, **{"font-size": f"{self.style_.font_pt}pt",
                                                         "color": self.style_.foreground})
        self.plot_item.setLimits(xMin=0.5, xMax=T + 0.5, yMin=0.5, yMax=n + 0.5)
        self.plot_item.setRange(xRange=(0.5, T + 0.5), yRange=(0.5, n + 0.5), padding=0)
        self.shade_nonfinite(self.plot_item, self._regions, shown_nonfinite(result))
        self.set_title(self.plot_item, *self.heading(result))

    def heading(self, result) -> tuple[str, ...]:
        """The title, then shorter variants for narrow windows."""
        return (self.title,)

    def axes(self):
        return super().axes() + [self.colorbar.axis]

    def restyle(self, style) -> None:
        self.colorbar.axis.setWidth(colourbar_axis_width(style))
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
        self.readout.show_text(self.describe(i, t, float(self.values[i, t])))

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
    colourbar_tooltip = ("Colour scale of s_t: the activation's whole range for tanh (−1…1) and "
                         "sigmoid (0…1); ± the 99th percentile of |s| for relu and linear. "
                         "Diverging: white is 0, red positive, blue negative.")
    symbol = "s"

    def data(self, result):
        h = display.state_heatmap(result, shown_b(self.session, result))   # cached (worker)
        return h.values, h.image, h.levels, h.caption

    def heading(self, result):
        b = shown_b(self.session, result)
        f = result.trace.activation
        return (f"Hidden state s_t = {f}(U x_t + W s_(t−1) + b_a)   ·   sequence {b + 1}",
                f"s_t = {f}(U x_t + W s_(t−1) + b_a) · seq. {b + 1}",
                f"Hidden state s_t · seq. {b + 1}")


class GradientHeatmap(HeatmapView):
    """Back-propagated gradient dL/ds_t of the selected batch element on a log10 colour scale."""

    title = "Gradient ∂L/∂s_t"
    tooltip = ("Gradient of the loss with respect to each hidden unit at each step, ∂L/∂s_t = "
               "Vᵀ(y_t − onehot_t)/m + Wᵀ diag(f′(a_{t+1})) ∂L/∂s_{t+1}, shown as log₁₀|·|: "
               "each colour step is a factor of ten. Vanishing gradients fade to the left.")
    symbol = "∂L/∂s"
    colour_kind = "magnitude"
    colourbar_tooltip = ("Colour scale of log₁₀|∂L/∂s_t|, the same for every sequence and step: "
                         f"from the {GRADIENT_PERCENTILES[0]:g}th to the "
                         f"{GRADIENT_PERCENTILES[1]:g}th percentile of the finite values "
                         f"(at least {MIN_DECADES:g}, at most {GRADIENT_DECADES:g} decades); "
                         "values outside take the end colours.")

    def data(self, result):
        h = display.gradient_heatmap(result, shown_b(self.session, result))  # cached (worker)
        return h.values, h.image, h.levels, h.caption

    def heading(self, result):
        T = time_extent(result)
        lo, hi = self.levels
        if not np.isfinite(result.grads.ds).any():
            return (f"Gradient ∂L/∂s_t back through time (T = {T}): not finite anywhere",
                    "∂L/∂s_t: not finite anywhere (overflow)")
        return (f"Gradient ∂L/∂s_t back through time (T = {T}): colours span "
                f"{hi - lo:.1f} decades",
                f"Gradient ∂L/∂s_t, colours span {hi - lo:.1f} decades",
                "Gradient ∂L/∂s_t (log₁₀)")

    def describe(self, i, t, value):
        mag = f"log₁₀|·| = {np.log10(abs(value)):.2f}" if np.isfinite(value) and value else ""
        return f"unit {i + 1}, t = {t + 1}: ∂L/∂s = {value:.3e}  {mag}"
