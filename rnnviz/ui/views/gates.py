"""Gate heatmaps, units x time: the LSTM's i, f and o, the GRU's r and z (one row each).

Shown only for a gated cell (the window's View menu choice is kept for when one is picked); the
numbers come from result.trace.parts via state/cell_display.py."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from rnnviz.state import cell_display, cellinfo
from rnnviz.ui.views.plotbase import PlotView
from rnnviz.ui.views.steps import shown_b, shown_nonfinite
from rnnviz.ui.widgets.axes import COLOURBAR_WIDTH, colourbar_axis_width, integer_axes


class GateRow:
    """One gate's plot: image, colour bar, cursor and non-finite shading."""

    def __init__(self, view: GateHeatmaps, row: int):
        self.gate = ""
        self.plot_item = view.graphics.addPlot(row=row, col=0, axisItems=integer_axes("left", "bottom"))
        self.plot_item.setMenuEnabled(False)
        self.plot_item.invertY(True)
        self.plot_item.setMouseEnabled(x=True, y=False)
        view.set_label(self.plot_item, "left", "unit i")
        self.image = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
        self.plot_item.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=cell_display.GATE_LEVELS, interactive=False,
                                        colorMap=view.style_.colormap("magnitude"),
                                        width=COLOURBAR_WIDTH, label=" ")
        self.colorbar.axis.setWidth(colourbar_axis_width(view.style_))
        self.colorbar.setImageItem(self.image, insert_in=self.plot_item)
        self.cursor = view.add_cursor(self.plot_item)
        self.regions: list = []
        self.values: np.ndarray | None = None


class GateHeatmaps(PlotView):
    """Each gate of the selected batch element: how open it is at every unit and step."""

    title = "Gates"
    tooltip = "The gated cells' gates (LSTM: i, f, o; GRU: r, z): shown for a gated cell."
    result_events = ("result", "loaded")

    def __init__(self, session, parent=None):
        super().__init__(session, parent)
        self.rows: list[GateRow] = [GateRow(self, 0)]
        self.plot_item = self.rows[0].plot_item
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
        """Rows for the cell's gates, tooltips from its formulas, shown only for a gated cell."""
        cell = self.session.config.cell
        if cell == self._cell:
            return
        self._cell = cell
        gates = self.gates()
        while len(self.rows) < max(1, len(gates)):
            row = GateRow(self, len(self.rows))
            row.plot_item.setXLink(self.rows[0].plot_item)
            row.plot_item.getAxis("left").setWidth(self.rows[0].plot_item.getAxis("left").width())
            self.rows.append(row)
            self._axes_plain = False
            self.apply_style(self.style_)
        for i, row in enumerate(self.rows):
            row.gate = gates[i] if i < len(gates) else ""
            row.plot_item.setVisible(i < len(gates) or i == 0)
        self.graphics.setToolTip(cellinfo.gate_tooltip(cell) if gates else self.tooltip)
        super().setVisible(self._wanted and bool(gates))
        self._drawn_key = None

    # ----- drawing ---------------------------------------------------------------------------
    def plot_items(self):
        return [row.plot_item for row in self.rows]

    def axes(self):
        return super().axes() + [row.colorbar.axis for row in self.rows]

    def restyle(self, style) -> None:
        for row in self.rows:
            row.colorbar.axis.setWidth(colourbar_axis_width(style))
            row.colorbar.setColorMap(style.colormap("magnitude"))
            row.colorbar.axis.setPen(style.foreground)
            row.colorbar.axis.setTextPen(style.foreground)
            row.colorbar.axis.setTickFont(style.font(style.tick_pt))

    def draw_key(self, result):
        return (result.trace, shown_b(self.session, result), self._cell)

    def draw_result(self, result) -> None:
        cell = result.trace.cell
        info = cellinfo.describe(cell)
        b = shown_b(self.session, result)
        for row in self.rows:
            if not row.gate or row.gate not in result.trace.parts:
                row.values = None
                row.image.clear()
                continue
            h = cell_display.gate_heatmap(result, b, row.gate)
            row.values = h.values
            n, T = h.values.shape
            row.image.setImage(h.image, autoLevels=False, levels=h.levels)
            row.image.setRect(QtCore.QRectF(0.5, 0.5, T, n))
            row.colorbar.setLevels(h.levels)
            row.plot_item.setLimits(xMin=0.5, xMax=T + 0.5, yMin=0.5, yMax=n + 0.5)
            row.plot_item.setRange(xRange=(0.5, T + 0.5), yRange=(0.5, n + 0.5), padding=0)
            name, what = info.gates.get(row.gate, (row.gate, ""))
            self.set_title(row.plot_item, f"{row.gate}_t: {name} ({what}) · sequence {b + 1}",
                           f"{row.gate}_t: {name} · seq. {b + 1}", f"{row.gate}_t")
            self.shade_nonfinite(row.plot_item, row.regions, shown_nonfinite(result))

    def values(self) -> dict[str, np.ndarray]:
        """The numbers behind each gate's image (units x T), by gate."""
        return {row.gate: row.values for row in self.rows if row.gate and row.values is not None}

    # ----- mouse -----------------------------------------------------------------------------
    def cell_at(self, scene_pos) -> tuple[GateRow, int, int] | None:
        """(row, unit, t) 0-based under a scene position, or None outside every image."""
        for row in self.rows:
            vb = row.plot_item.vb
            if row.values is None or not vb.sceneBoundingRect().contains(scene_pos):
                continue
            p = vb.mapSceneToView(scene_pos)
            i, t = int(round(p.y())) - 1, int(round(p.x())) - 1
            n, T = row.values.shape
            if 0 <= i < n and 0 <= t < T:
                return row, i, t
        return None

    def _hover(self, scene_pos) -> None:
        found = self.cell_at(scene_pos)
        if found is not None:
            row, i, t = found
            self.readout.show_text(f"unit {i + 1}, t = {t + 1}: {row.gate} = {row.values[i, t]:.4g}")

    def _clicked(self, event) -> None:
        if event.button() != QtCore.Qt.LeftButton:
            return
        found = self.cell_at(event.scenePos())
        if found is not None:
            self.session.set_timestep(found[2])
