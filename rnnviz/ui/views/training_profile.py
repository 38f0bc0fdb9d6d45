"""How far back in time the gradient reaches as the net trains: ‖∂L/∂s_t‖ over lag T−t × iteration.

Each column is one iteration's gradient-through-time profile (the batch mean of ‖∂L_b/∂s_t‖,
recorded by the engine at every iteration), log colour scale, lag T−t upwards: lag 0 is the
last step. A column dark above some lag means the loss at the end does not reach the inputs
that far back: the vanishing gradient, iteration by iteration.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from rnnviz.state import training_curves
from rnnviz.ui.views.training_plot import TrainingPlot
from rnnviz.ui.widgets.axes import COLOURBAR_WIDTH, colourbar_axis_width
from rnnviz.ui.widgets.log_axis import make_log_axis


class ProfileHeatmap(TrainingPlot):
    """log10 ‖∂L/∂s_t‖ over lag (T − t, rows) and iteration (columns)."""

    title = "Gradient through time over training"
    tooltip = ("Colour: log10 of ‖∂L/∂s_t‖ (batch mean of each example's norm) at lag T − t "
               "(up: further back in time) for every training iteration (across). Where the "
               "colour fades going up, the gradient of the loss does not reach that far back: "
               "the network cannot learn dependencies longer than that lag.")
    y_caption = "lag T − t (steps back)"
    empty_message = "Press Train: one column per iteration"

    def __init__(self, session, curves=None, parent=None):
        super().__init__(session, curves, parent)
        self.image = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
        self.image.setToolTip(self.tooltip)
        self.plot_item.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=self.style_.colormap("magnitude"),
                                        interactive=False, width=COLOURBAR_WIDTH, label=" ")
        self.colorbar.axis.setWidth(colourbar_axis_width(self.style_))
        self.colorbar.setImageItem(self.image, insert_in=self.plot_item)
        self._log_colour_axis()
        self.levels = (0.0, 1.0)
        self.shown_image: np.ndarray | None = None     # what the image shows (rows: lag)
        self.extent: tuple[float, float] = (0.0, 0.0)  # (first iteration, iterations per column)
        self.graphics.scene().sigMouseMoved.connect(self._hover)
        self.restyle(self.style_)

    def _log_colour_axis(self) -> None:
        """The colour bar's ticks read as powers of ten (the image holds log10 values)."""
        make_log_axis(self.colorbar.axis)

    def axes(self):
        return super().axes() + [self.colorbar.axis]

    def restyle_curves(self, style) -> None:
        self.colorbar.axis.setWidth(colourbar_axis_width(style))
        self.colorbar.setColorMap(style.colormap("magnitude"))
        self.colorbar.axis.setPen(style.foreground)
        self.colorbar.axis.setTextPen(style.foreground)
        self.colorbar.axis.setTickFont(style.font(style.tick_pt))
        self.colorbar.axis.setLabel("‖∂L/∂s_t‖", **{"font-size": f"{style.font_pt}pt",
                                                     "color": style.foreground})

    def draw_curves(self) -> None:
        made = training_curves.profile_image(self.curves)
        heading = ("Gradient through time over training: ‖∂L/∂s_t‖ by lag T − t",
                   "‖∂L/∂s_t‖ by lag × iteration", "‖∂L/∂s_t‖ by lag", "‖∂L/∂s_t‖")
        self.set_title(self.plot_item, *heading)
        if made is None:
            self.image.clear()
            self.shown_image = None
            saved = self.curves.n > 0
            self.empty_text.setText("The profiles over t are not kept in session files: train "
                                    "on to see them" if saved else self.empty_message)
            self.readout.show_text("")
            return
        image, levels, first, per_column = made
        self.shown_image, self.levels, self.extent = image, levels, (first, per_column)
        T, cols = image.shape
        self.image.setImage(image, autoLevels=False, levels=levels)
        self.image.setRect(QtCore.QRectF(first - 0.5, -0.5, cols * per_column, T))
        if tuple(map(float, self.colorbar.levels())) != tuple(map(float, levels)):
            self.colorbar.setLevels(levels)      # (set again, it re-draws its axis: every frame)
        self.plot_item.setLimits(yMin=-0.5, yMax=T - 0.5)
        self.hold_range(self.iterations(), np.nan, np.nan, 1.0)
        if self._y_range != (-0.5, T - 0.5) and not self._user_range:
            self._y_range = (-0.5, T - 0.5)
            self.plot_item.vb.setYRange(-0.5, T - 0.5, padding=0)
        self.empty_text.setText(self.empty_message)
        binned = f" (columns: means of {per_column:g} iterations)" if per_column > 1 else ""
        self.readout.show_text(f"{self.curves.n} iterations × lags 0..{T - 1}{binned}; "
                               f"hover for a value", f"{self.curves.n} iterations")

    def _place_iteration_line(self) -> None:
        super()._place_iteration_line()
        self.empty_text.setVisible(self.shown_image is None)

    def value_at(self, iteration: float, lag: float) -> float | None:
        """log10 ‖∂L/∂s_t‖ drawn at (iteration, lag), or None outside the image."""
        if self.shown_image is None:
            return None
        first, per_column = self.extent
        T, cols = self.shown_image.shape
        j, r = int((iteration - first + 0.5) // per_column), int(round(lag))
        if not (0 <= j < cols and 0 <= r < T):
            return None
        return float(self.shown_image[r, j])

    def _hover(self, scene_pos) -> None:
        if self.shown_image is None or not self.plot_item.vb.sceneBoundingRect().contains(scene_pos):
            return
        p = self.plot_item.vb.mapSceneToView(scene_pos)
        value = self.value_at(p.x(), p.y())
        if value is not None:
            shown = f"10^{value:.2f}" if np.isfinite(value) else "not recorded"
            self.readout.show_text(f"iteration ≈ {int(round(p.x()))}, lag T − t = "
                                   f"{int(round(p.y()))}: ‖∂L/∂s_t‖ = {shown}")
