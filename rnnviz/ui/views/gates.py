"""Gate heatmaps, units x time: the LSTM's i, f and o, the GRU's r and z, stacked in one image
(a block of n_s rows per gate, separated and labelled), on the gates' fixed range 0..1.

Shown only for a gated cell (the View menu's choice is kept for when one is picked); the numbers
come from result.trace.parts via state/cell_display.py."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from rnnviz.state import cell_display, cellinfo
from rnnviz.state.ready_images import ReadyImage
from rnnviz.ui.views.heatmap_image import HeatmapImage
from rnnviz.ui.views.plotbase import PlotView
from rnnviz.ui.views.steps import shown_b, shown_nonfinite
from rnnviz.ui.widgets.axes import COLOURBAR_WIDTH, colourbar_axis_width, integer_axes


class GateHeatmaps(PlotView):
    """Each gate of the selected batch element: how open it is at every unit and step."""

    title = "Gates"
    tooltip = "The gated cells' gates (LSTM: i, f, o; GRU: r, z): shown for a gated cell."

    def __init__(self, session, parent=None):
        super().__init__(session, parent)
        self.plot_item = self.graphics.addPlot(axisItems=integer_axes("bottom"))
        self.plot_item.setMenuEnabled(False)
        self.plot_item.invertY(True)
        self.plot_item.setMouseEnabled(x=True, y=False)
        self.set_label(self.plot_item, "bottom", "time step t")
        # (the full caption where the strip is tall enough: in presentation mode a 3-gate strip
        # is ~55 px high and "unit, per gate" was cut to "it, per gate")
        self.set_axis_label(self.plot_item.getAxis("left"), "unit, per gate", "unit", "")
        self.image = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
        self.plot_item.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=cell_display.GATE_LEVELS, interactive=False,
                                        colorMap=self.style_.colormap("magnitude"),
                                        width=COLOURBAR_WIDTH, label=" ")
        self.colorbar.axis.setWidth(colourbar_axis_width(self.style_))
        self.colorbar.setImageItem(self.image, insert_in=self.plot_item)
        # As the heatmaps': a blank label left of the bar (pyqtgraph puts a colour bar's label
        # there; its room is part of the bar's width, which lines up the t axes) and the caption
        # right of the ticks, whole where the bar is tall enough, else a word (on a short bar the
        # whole caption ran up into the title; the tooltip says what 0 and 1 mean).
        self.set_axis_label(self.colorbar.axis, "gate (0 closed, 1 open)", "gate")
        self.shown_image = HeatmapImage(self.image, self.colorbar, self.plot_item.vb)
        self.add_cursor(self.plot_item)
        self._regions: list = []
        self._marks: list = []
        self.gate_values: dict[str, np.ndarray] = {}    # gate -> units x T, as drawn
        self._wanted = True                 # the View menu's choice (shown when a gated cell is)
        self._cell = None
        self.graphics.scene().sigMouseMoved.connect(self._hover)
        self.graphics.scene().sigMouseClicked.connect(self._clicked)
        self._sync_cell()

    # ----- which cell ------------------------------------------------------------------------
    def gates(self) -> tuple[str, ...]:
        """The gates of the session's cell (empty for the vanilla cell)."""
        return cell_display.gates(self.session.config.cell)

    def applies(self) -> bool:
        return bool(self.gates())

    def setVisible(self, visible: bool) -> None:        # noqa: N802 - Qt's name
        """Shown when asked and the cell has gates; a hide asked while it has none (the window
        restoring a layout, presentation mode) keeps the wish to see them for a gated cell."""
        if visible or self.applies():
            self._wanted = bool(visible)
        super().setVisible(self._wanted and self.applies())

    def _on_event(self, name: str, **payload) -> None:
        if name in ("config", "loaded"):
            self._sync_cell()
        super()._on_event(name, **payload)

    def _sync_cell(self) -> None:
        """Tooltip from the cell's formulas; shown only for a gated cell."""
        cell = self.session.config.cell
        if cell == self._cell:
            return
        self._cell = cell
        gates = self.gates()
        self.graphics.setToolTip(cellinfo.gate_tooltip(cell) if gates else self.tooltip)
        super().setVisible(self._wanted and bool(gates))
        self._drawn_key = None

    # ----- drawing ---------------------------------------------------------------------------
    def axes(self):
        return super().axes() + [self.colorbar.axis]

    def restyle(self, style) -> None:
        self.colorbar.axis.setWidth(colourbar_axis_width(style))
        self.colorbar.setColorMap(style.colormap("magnitude"))
        self.colorbar.axis.setPen(style.foreground)
        self.colorbar.axis.setTextPen(style.foreground)
        self.colorbar.axis.setTickFont(style.font(style.tick_pt))

    def draw_key(self, result):
        return (result.trace, shown_b(self.session, result))

    def draw_result(self, result) -> None:
        trace = result.trace
        info = cellinfo.describe(trace.cell)
        b = shown_b(self.session, result)
        gates = [g for g in cell_display.gates(trace.cell) if g in trace.parts]
        self.gate_values = {g: cell_display.gate_heatmap(result, b, g).values for g in gates}
        for item in self._marks:
            self.plot_item.removeItem(item)
        self._marks = []
        if not gates:
            self.image.clear()
            return
        n, T = trace.s.shape[0], trace.s.shape[2]
        maps = [cell_display.gate_heatmap(result, b, g) for g in gates]
        image = ready = None
        if all(h.ready is not None for h in maps):     # large: the worker's images, stacked
            first = maps[0].ready
            pyramid = tuple(tuple(np.concatenate([h.ready.pyramid[i][j] for h in maps])
                                  for j in range(len(row))) for i, row in enumerate(first.pyramid))
            ready = ReadyImage(pyramid, first.base, first.reduction)
        else:
            image = np.concatenate([h.image for h in maps])
        # each gate's rows of a ready image stretched (by less than a block) to its n units
        self.shown_image.show(image, cell_display.GATE_LEVELS, self.style_.colormap("magnitude"),
                              (0.5, 0.5, T, len(gates) * n), ready, len(gates) * n)
        self.colorbar.setLevels(cell_display.GATE_LEVELS)
        for k in range(1, len(gates)):         # a line between the gates; named on the axis
            line = pg.InfiniteLine(pos=k * n + 0.5, angle=0,
                                   pen=pg.mkPen(self.style_.foreground, width=2))
            self.plot_item.addItem(line, ignoreBounds=True)
            self._marks.append(line)
        ticks = [(k * n + n / 2 + 0.5, g) for k, g in enumerate(gates)]
        self.plot_item.getAxis("left").setTicks([ticks, []])
        rows = len(gates) * n
        self.plot_item.setLimits(xMin=0.5, xMax=T + 0.5, yMin=0.5, yMax=rows + 0.5)
        self.plot_item.setRange(xRange=(0.5, T + 0.5), yRange=(0.5, rows + 0.5), padding=0)
        names = ", ".join(f"{g} {info.gates[g][0]}" for g in gates)
        self.set_title(self.plot_item, f"Gates ({info.label}): {names} · sequence {b + 1}",
                       f"Gates {', '.join(gates)} ({info.label}) · seq. {b + 1}",
                       f"Gates {', '.join(gates)}")
        self.shade_nonfinite(self.plot_item, self._regions, shown_nonfinite(result))

    def values(self) -> dict[str, np.ndarray]:
        """The numbers behind each gate's block of the image (units x T), by gate."""
        return dict(self.gate_values)

    # ----- mouse -----------------------------------------------------------------------------
    def cell_at(self, scene_pos) -> tuple[str, int, int] | None:
        """(gate, unit, t) 0-based under a scene position, or None outside the image."""
        vb = self.plot_item.vb
        if not self.gate_values or not vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = vb.mapSceneToView(scene_pos)
        row, t = int(round(p.y())) - 1, int(round(p.x())) - 1
        gates = list(self.gate_values)
        n, T = self.gate_values[gates[0]].shape
        if 0 <= row < n * len(gates) and 0 <= t < T:
            return gates[row // n], row % n, t
        return None

    def _hover(self, scene_pos) -> None:
        found = self.cell_at(scene_pos)
        if found is not None:
            gate, i, t = found
            value = self.gate_values[gate][i, t]
            self.readout.show_text(f"unit {i + 1}, t = {t + 1}: {gate} = {value:.4g}")

    def _clicked(self, event) -> None:
        if event.button() != QtCore.Qt.LeftButton:
            return
        found = self.cell_at(event.scenePos())
        if found is not None:
            self.session.set_timestep(found[2])
