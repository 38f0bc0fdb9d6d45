"""The two units × time heatmaps: hidden states s_t and the gradient dL/ds_t or dL_T/ds_t (log10).

What they draw is computed by rnnviz.state.display (on the worker, cached on the Result)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.state import cell_display, cellinfo, display
from rnnviz.state.display import GRADIENT_DECADES, GRADIENT_PERCENTILES, LEVEL_STEP, MIN_DECADES
from rnnviz.ui.views.heatmap_image import HeatmapImage
from rnnviz.ui.views.plotbase import PlotView
from rnnviz.ui.views.state_parts import PartTabs
from rnnviz.ui.views.steps import GRADIENT_CHOICE_KEYS, gradient_choice, shown_b, time_extent
from rnnviz.ui.widgets.axes import (
    COLOURBAR_WIDTH,
    colourbar_axis_width,
    decade_scale,
    integer_axes,
    log10_ticks,
)


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
        # ≤ the pixels shown: pyqtgraph downsamples a small float image, the worker a large one
        self.image = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
        self.image.setToolTip(self.tooltip)
        self.plot_item.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=self.style_.colormap(self.colour_kind),
                                        interactive=False, width=COLOURBAR_WIDTH, label=" ")
        self.colorbar.axis.setWidth(colourbar_axis_width(self.style_))
        self.colorbar.setImageItem(self.image, insert_in=self.plot_item)
        self.colorbar.setToolTip(self.colourbar_tooltip)
        self.shown_image = HeatmapImage(self.image, self.colorbar, self.plot_item.vb)
        self.caption = ""
        self.shown_colour = self.colour_kind
        self.hovered: tuple[int, int] | None = None     # the cell the readout describes
        self.levels = (0.0, 1.0)
        self.add_cursor(self.plot_item)
        self._regions: list = []
        self.values: np.ndarray | None = None     # the numbers behind the image (units × T)
        self.graphics.scene().sigMouseMoved.connect(self._hover)
        self.graphics.scene().sigMouseClicked.connect(self._clicked)

    def data(self, result) -> tuple[np.ndarray, np.ndarray, tuple[float, float], str]:
        """(values, image, levels, colour-bar caption) for a result: its heatmap's."""
        h = self.heatmap(result)
        return h.values, h.image, h.levels, h.caption

    def draw_key(self, result):
        """The image (cached per request and element: the same object for every partial
        result) and the shaded steps."""
        return self.data(result)[1], tuple(self.marked_steps(result).tolist())

    def draw_result(self, result) -> None:
        values, image, levels, caption = self.data(result)
        self.values, self.levels = values, levels
        n, T = values.shape
        kind = self.colour(result)
        if kind != self.shown_colour:
            self.shown_colour = kind
            self.colorbar.setColorMap(self.style_.colormap(kind))
        heatmap = self.heatmap(result)
        self.shown_image.show(image, levels, self.style_.colormap(kind), (0.5, 0.5, T, n),
                              heatmap.ready)
        if tuple(map(float, self.colorbar.levels())) != tuple(map(float, levels)):
            self.colorbar.setLevels(levels)      # (set again, it re-draws its axis)
        factor, suffix = self.colourbar_scale(levels)
        self.colorbar.axis.setScale(factor)      # short tick labels; the caption says ×10ᵏ
        base, _, note = caption.partition("  ")
        self.caption = base + suffix + ("  " + note if note else "")
        # the whole caption where the colour bar is tall enough, else its symbol alone, else
        # none (the title says what the colours are); never without its scale (×10³⁷)
        self.set_axis_label(self.colorbar.axis, self.caption, base + suffix, suffix.strip())
        self.plot_item.setLimits(xMin=0.5, xMax=T + 0.5, yMin=0.5, yMax=n + 0.5)
        self.show_range(self.plot_item, (0.5, T + 0.5), (0.5, n + 0.5))
        self.shade_nonfinite(self.plot_item, self._regions, self.marked_steps(result))
        self.set_title(self.plot_item, *self.heading(result))
        if self.hovered is not None:             # the readout describes the new numbers
            i, t = self.hovered
            if i < n and t < T:
                self.readout.show_text(self.describe(i, t, float(values[i, t])))

    def colour(self, result) -> str:
        """The colour map kind for a result: its heatmap's."""
        return self.heatmap(result).colour

    def colourbar_scale(self, levels) -> tuple[float, str]:
        """(tick factor, caption suffix) of the colour bar (see axes.decade_scale)."""
        return decade_scale(max(abs(levels[0]), abs(levels[1])))

    def heading(self, result) -> tuple[str, ...]:
        """The title, then shorter variants for narrow windows."""
        return (self.title,)

    def marked_steps(self, result) -> np.ndarray:
        """0-based steps shaded as non-finite: where the numbers this heatmap shows are (of
        the shown sequence; an overflow late in the forward pass leaves earlier states fine)."""
        return self.heatmap(result).nonfinite_steps

    def heatmap(self, result) -> display.Heatmap:  # pragma: no cover - abstract
        raise NotImplementedError

    def axes(self):
        return super().axes() + [self.colorbar.axis]

    def restyle(self, style) -> None:
        self.colorbar.axis.setWidth(colourbar_axis_width(style))
        self.colorbar.setColorMap(style.colormap(self.shown_colour))
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
        self.hovered = cell
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
                         "sigmoid (0…1); 0 to the 99th percentile for ReLU; ± the 99th "
                         "percentile of |s| for linear. White is 0, red positive, blue negative "
                         "(sigmoid and ReLU states are never negative: white to red).")
    symbol = "s"

    def __init__(self, session, parent=None):
        super().__init__(session, parent)
        self.parts = PartTabs(self)         # h and c for the LSTM (hidden for one-part cells)

    def _on_event(self, name: str, **payload) -> None:
        if name in ("config", "loaded"):
            self.parts.sync()
        super()._on_event(name, **payload)

    def label_rooms(self, label=None) -> list[tuple[str, int]]:
        """With the part tabs at the top left (LSTM), the title ends at the plot area's right
        edge, clear of them."""
        vb = self.plot_item.vb.sceneBoundingRect()
        if label is not self.plot_item.titleLabel or not self.parts.width() or vb.width() <= 1:
            return super().label_rooms(label)
        return [("right", int(max(40.0, vb.right() - self.parts.width() - 4)))]

    def heatmap(self, result) -> display.Heatmap:
        part = self.parts.shown(result)
        self.symbol = cellinfo.describe(result.trace.cell).parts.get(part, part)
        return cell_display.part_heatmap(result, shown_b(self.session, result), part)   # cached

    def heading(self, result):
        b = shown_b(self.session, result)
        titles = cellinfo.state_heading(result.trace.cell, result.trace.activation,
                                        self.parts.shown(result))
        return (f"{titles[0]}   ·   sequence {b + 1}", f"{titles[1]} · seq. {b + 1}",
                f"{titles[-1]} · seq. {b + 1}")


# What the gradient heatmap can show (the session's view entry "gradient").
# key -> (combo text, right-click menu text, symbol)
GRADIENT_CHOICES = {
    "total": ("all losses", "Show ∂L/∂s_t (all losses)", "∂L/∂s"),
    "last": ("last loss only", "Show ∂L_T/∂s_t (the last step's loss only)", "∂L_T/∂s"),
}
assert tuple(sorted(GRADIENT_CHOICES)) == tuple(sorted(GRADIENT_CHOICE_KEYS))
GRADIENT_CHOICE_TIP = (
    "Which gradient the heatmap shows (also in the plot's right-click menu):\n"
    "• ∂L/∂s_t, all losses (L = Σ_t L_t): ∂L/∂s_t = Vᵀ(y_t − onehot_t)/m + Wᵀ diag(f′(a_{t+1})) "
    "∂L/∂s_{t+1}. Every step's own loss adds in, so it need not fade going back.\n"
    "• ∂L_T/∂s_t, the last step's loss alone: ∂L_T/∂s_T = Vᵀ(y_T − onehot_T)/m, "
    "∂L_T/∂s_t = Wᵀ diag(f′(a_{t+1})) ∂L_T/∂s_{t+1} = (∂s_T/∂s_t)ᵀ ∂L_T/∂s_T. It fades "
    "(vanishing) or blows up (exploding) going back in time, as the Jacobian ∂s_T/∂s_t does.")


class GradientHeatmap(HeatmapView):
    """Back-propagated gradient of the selected batch element on a log10 colour scale: the total
    dL/ds_t, or dL_T/ds_t of the last step's loss alone (a combo in the title row switches)."""

    title = "Gradient ∂L/∂s_t"
    tooltip = ("Gradient of the loss with respect to each hidden unit at each step, shown as "
               "log₁₀|·|: each colour step is a factor of ten. ∂L/∂s_t (all losses) = "
               "Vᵀ(y_t − onehot_t)/m + Wᵀ diag(f′(a_{t+1})) ∂L/∂s_{t+1}; ∂L_T/∂s_t (the last "
               "step's loss only) = (∂s_T/∂s_t)ᵀ ∂L_T/∂s_T fades to the left when gradients "
               "vanish. Switch with the box at the top left.")
    symbol = "∂L/∂s"
    colour_kind = "magnitude"
    colourbar_tooltip = ("Colour scale of log₁₀ of the gradient's magnitude, the same for every "
                         f"sequence and step: from the {GRADIENT_PERCENTILES[0]:g}th to the "
                         f"{GRADIENT_PERCENTILES[1]:g}th percentile of the finite values, "
                         f"rounded out to {LEVEL_STEP:g} of a decade (at least {MIN_DECADES:g}, "
                         f"at most {GRADIENT_DECADES:g} decades); "
                         "values outside take the end colours.")

    def __init__(self, session, parent=None):
        super().__init__(session, parent)
        # The colour bar's axis labels its log10 values as powers of ten (10⁻³), as the flow
        # plot's axis does.
        log10_ticks(self.colorbar.axis)
        self.choice = QtWidgets.QComboBox(self.graphics)
        self.choice.setObjectName("gradient_choice")
        for key, (label, _, _) in GRADIENT_CHOICES.items():
            self.choice.addItem(label, key)
        self.choice.setToolTip(GRADIENT_CHOICE_TIP)
        self.choice.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToContents)
        self.choice.activated.connect(lambda i: self.choose(self.choice.itemData(i)))
        self.choice_actions: dict[str, QtGui.QAction] = {}
        group = QtGui.QActionGroup(self)
        for key, (_, label, _) in GRADIENT_CHOICES.items():     # the right-click menu, first
            action = QtGui.QAction(label, self.graphics, checkable=True)
            action.setObjectName(f"gradient_{key}")
            action.setToolTip(GRADIENT_CHOICE_TIP)
            action.triggered.connect(lambda _=False, k=key: self.choose(k))
            group.addAction(action)
            self.graphics.addAction(action)
            self.choice_actions[key] = action
        separator = QtGui.QAction(self.graphics)
        separator.setSeparator(True)
        self.graphics.addAction(separator)
        self.shown_choice = gradient_choice(session)
        self._sync_choice()

    def choose(self, key: str) -> None:
        """Show this gradient ("total" or "last"); saved in the session's view state."""
        if key != gradient_choice(self.session):
            self.session.set_view(gradient=key)

    def _sync_choice(self) -> None:
        key = self.shown_choice
        self.choice.setCurrentIndex(self.choice.findData(key))
        self.choice_actions[key].setChecked(True)
        self.symbol = GRADIENT_CHOICES[key][2]
        self._place_choice()

    def _on_event(self, name: str, **payload) -> None:
        super()._on_event(name, **payload)
        if name in ("view", "loaded") and gradient_choice(self.session) != self.shown_choice:
            self.shown_choice = gradient_choice(self.session)
            self._sync_choice()
            self.schedule(result=True)

    def _place_choice(self) -> None:
        self.choice.adjustSize()
        self.choice.move(4, 2)
        self.choice.raise_()

    def label_rooms(self, label=None) -> list[tuple[str, int]]:
        """The title ends at the plot area's right edge, clear of the box at the top left."""
        vb = self.plot_item.vb.sceneBoundingRect()
        if label is not self.plot_item.titleLabel or vb.width() <= 1:
            return super().label_rooms(label)
        return [("right", int(max(40.0, vb.right() - (self.choice.x() + self.choice.width() + 8))))]

    def restyle(self, style) -> None:
        super().restyle(style)
        self.choice.setFont(style.font())
        self._place_choice()

    def colourbar_scale(self, levels) -> tuple[float, str]:
        return 1.0, ""      # log10 values, labelled as powers of ten

    def gradient(self, result) -> np.ndarray:
        """The shown gradient of the whole batch, (n_s, m, T)."""
        return display.shown_gradient(result, self.shown_choice)

    def heatmap(self, result) -> display.Heatmap:
        """The shown gradient's heatmap of the selected element (cached, made on the worker)."""
        return display.gradient_heatmap(result, shown_b(self.session, result), self.shown_choice)

    def heading(self, result):
        T = time_extent(result)
        lo, hi = self.levels
        if self.shown_choice == "last":
            name, short = "∂L_T/∂s_t, last step's loss only", "∂L_T/∂s_t, last loss only"
        else:
            name, short = "∂L/∂s_t, all losses", "∂L/∂s_t, all losses"
        if not np.isfinite(self.gradient(result)).any():
            return (f"Gradient {name} (T = {T}): not finite anywhere",
                    f"{short}: not finite anywhere (overflow)", f"{short}: not finite",
                    "not finite anywhere (overflow)", short)
        symbol = short.partition(",")[0]
        return (f"Gradient {name}, back through time (T = {T}): colours span "
                f"{hi - lo:.1f} decades",
                f"Gradient {name}: {hi - lo:.1f} decades",
                f"{short}: {hi - lo:.1f} decades", short, f"{symbol}: {hi - lo:.1f} decades",
                symbol)

    def describe(self, i, t, value):
        mag = f"log₁₀|·| = {np.log10(abs(value)):.2f}" if np.isfinite(value) and value else ""
        return f"unit {i + 1}, t = {t + 1}: {self.symbol} = {value:.3e}  {mag}"

