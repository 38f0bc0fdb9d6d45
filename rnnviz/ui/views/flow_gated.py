"""The flow plot's curves for gated cells: the carousel (the product of the carrying gate, for
the unit that keeps the most) and the LSTM's Jacobian blocks ‖∂c_T/∂c_t‖, ‖∂h_T/∂h_t‖; the
vanilla bound's curve leaves the legend (no bound applies to a gated cell: cellinfo says why)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from rnnviz.state import cellinfo

# key -> (legend text for the LSTM, for the GRU): None where the cell has no such curve
GATED = {
    "carousel": ("carousel Π f (top unit)", "direct path Π z (top unit)"),
    "c": ("‖∂c_T/∂c_t‖", None),
    "h": ("‖∂h_T/∂h_t‖", None),
}
CELL_COLOUR, HIDDEN_COLOUR = "#8c564b", "#e377c2"    # apart from the flow's four curves
VANILLA_LEGEND = {"grad_norm": "‖∂L/∂s_t‖", "last_loss_grad_norm": "‖∂L_T/∂s_t‖",
                  "log10_jacobian_norm": "σ₁ = ‖∂s_T/∂s_t‖"}
GATED_LEGEND = {"grad_norm": "‖∂L/∂h_t‖", "last_loss_grad_norm": "‖∂L_T/∂h_t‖",
                "log10_jacobian_norm": "σ₁ = ‖∂state_T/∂state_t‖"}


def _finite(values) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)


class GatedCurves:
    """The gated curves of one FlowView: in the legend only while the session's cell has them."""

    def __init__(self, view, bound_text: str):
        self.view, self.bound_text = view, bound_text
        self.curves: dict[str, pg.PlotDataItem] = {}
        for key in GATED:
            curve = pg.PlotDataItem(connect="finite")
            curve.setZValue(-0.5)
            view.plot_item.addItem(curve)
            curve.setVisible(False)
            self.curves[key] = curve
        self.shown: dict[str, str] = {}            # key -> legend text, for the current cell
        self._bound_in_legend = True
        self._cell = None

    def sync(self, cell: str) -> None:
        """The legend and tooltip for a cell: its gated curves in, the bound out for gated cells."""
        if cell == self._cell:
            return
        self._cell = cell
        view, legend = self.view, self.view.legend
        for key in self.shown:
            legend.removeItem(self.curves[key])
            self.curves[key].setVisible(False)
        info = cellinfo.describe(cell)
        column = 0 if "f" in info.gates else 1 if "z" in info.gates else None
        self.shown = {}
        if column is not None:
            for key, texts in GATED.items():
                if texts[column] is not None:
                    self.shown[key] = texts[column]
        bound = view.curves["log10_bound"]
        gated = bool(self.shown)
        if gated and self._bound_in_legend:
            legend.removeItem(bound)
            self._bound_in_legend = False
        elif not gated and not self._bound_in_legend:
            legend.addItem(bound, self.bound_text)
            self._bound_in_legend = True
        bound.setVisible(not gated)
        labels = GATED_LEGEND if gated else VANILLA_LEGEND
        for sample, label in legend.items:
            for attribute, text in labels.items():
                if sample.item is view.curves[attribute]:
                    label.setText(text, size=label.opts.get("size"), color=label.opts.get("color"))
        for key, text in self.shown.items():
            self.curves[key].setVisible(True)
            legend.addItem(self.curves[key], text)
        view.graphics.setToolTip(cellinfo.flow_tooltip(cell))
        self.restyle(view.style_)
        view.fit_legend()

    def restyle(self, style) -> None:
        colours = {"carousel": style.argmax, "c": CELL_COLOUR, "h": HIDDEN_COLOUR}
        for key, curve in self.curves.items():
            pen = style.pen(colours[key], dash=key == "carousel")
            curve.setPen(pen)

    def note(self) -> str:
        """A few words for the plot's title line: why a gated cell has no bound curve ("" else)."""
        return "no bound drawn: the gates set each step's Jacobian" if self.shown else ""

    def curves_of(self, result) -> list[tuple[pg.PlotDataItem, np.ndarray]]:
        """(curve, log10 values) to draw for a result; NaN curves where the result has none."""
        gated = getattr(result, "gated", None)
        T = int(result.trace.s.shape[2])
        out = []
        for key in self.shown:
            if gated is None:
                y = np.full(T, np.nan)
            elif key == "carousel":
                y = _finite(gated.log10_carousel_max)
            else:
                y = _finite(gated.log10_block_norms.get(key, np.full(T, np.nan)))
            out.append((self.curves[key], y))
        return out

    def values(self, key: str) -> np.ndarray:
        """The log10 values drawn for one gated curve ("carousel", "c", "h")."""
        return np.asarray(self.curves[key].getOriginalDataset()[1])
