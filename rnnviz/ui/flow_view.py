"""Gradient flow over time on a log scale: ‖∂L/∂s_t‖, ‖∂L_T/∂s_t‖, ‖∂s_T/∂s_t‖ and the bound."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from rnnviz.ui.axes import IntegerAxis
from rnnviz.ui.plotbase import PlotView, time_extent

# (attribute of GradientFlow, legend text); the Jacobian and the bound use their exact log10.
CURVES = (
    ("grad_norm", "‖∂L/∂s_t‖"),
    ("last_loss_grad_norm", "‖∂L_T/∂s_t‖"),
    ("log10_jacobian_norm", "‖∂s_T/∂s_t‖"),
    ("log10_bound", "bound (γσ_max)^(T−t)"),
)
VANISHING, EXPLODING = 0.98, 1.02


def rate_words(rate: float) -> str:
    """'×0.83 per step: vanishing' and the like."""
    if not np.isfinite(rate):
        return "rate per step: not finite (overflow)"
    kind = "vanishing" if rate < VANISHING else "exploding" if rate > EXPLODING else "near 1: neither"
    return f"×{rate:.3g} per step back in time: {kind}"


def log10_curve(flow, attribute: str) -> np.ndarray:
    """The curve's values as log10 (exact for the Jacobian and the bound, which may overflow)."""
    values = np.asarray(getattr(flow, attribute), dtype=np.float64)
    if attribute.startswith("log10_"):
        return values
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(values)


class FlowView(PlotView):
    """How the gradient shrinks or grows going back in time, against its theoretical bound."""

    title = "Gradient flow"
    tooltip = ("Norms of the back-propagated gradient over t, log scale: ‖∂L/∂s_t‖ (total), "
               "‖∂L_T/∂s_t‖ (only the last step's loss), the Jacobian ‖∂s_T/∂s_t‖₂ = "
               "‖Π diag(f′(a_k)) W‖ and its bound (γ σ_max(W))^(T−t). The rate is the geometric "
               "mean factor per step of the Jacobian norm.")

    def __init__(self, session, parent=None):
        super().__init__(session, parent)
        self.rate_label = self.graphics.addLabel("", row=0, col=0)
        self.legend = pg.LegendItem(colCount=4, labelTextSize=f"{self.style_.font_pt}pt")
        self.graphics.addItem(self.legend, row=1, col=0)
        self.plot_item = self.graphics.addPlot(row=2, col=0, axisItems={"bottom": IntegerAxis("bottom")})
        self.plot_item.setMenuEnabled(False)
        self.plot_item.getAxis("left").setLogMode(False, True)   # data are log10: label 10^k
        self.plot_item.setMouseEnabled(x=True, y=False)
        self.set_label(self.plot_item, "bottom", "time step t")
        self.set_label(self.plot_item, "left", "gradient norm (log scale)")
        self.curves: dict[str, pg.PlotDataItem] = {}
        for attribute, text in CURVES:
            curve = pg.PlotDataItem(connect="finite", name=text)
            curve.setToolTip(self.tooltip)
            self.plot_item.addItem(curve)
            self.legend.addItem(curve, text)
            self.curves[attribute] = curve
        self.add_cursor(self.plot_item)
        self._regions: list = []
        self.rate = float("nan")
        self.restyle(self.style_)

    def restyle(self, style) -> None:
        for (attribute, _), colour in zip(CURVES, style.curves):
            dash = attribute == "log10_bound"
            self.curves[attribute].setPen(style.pen(colour, dash=dash))
        self.legend.setLabelTextColor(style.foreground)
        self.legend.setLabelTextSize(f"{style.font_pt}pt")
        for _, label in self.legend.items:
            label.setText(label.text, size=f"{style.font_pt}pt", color=style.foreground)

    def draw_result(self, result) -> None:
        flow = result.flow
        T = time_extent(result)
        t_axis = np.arange(1, T + 1, dtype=np.float64)
        lows, highs = [], []
        for attribute, _ in CURVES:
            y = log10_curve(flow, attribute)
            self.curves[attribute].setData(t_axis, y)
            finite = y[np.isfinite(y)]
            if finite.size:
                lows.append(finite.min())
                highs.append(finite.max())
        lo, hi = (min(lows), max(highs)) if lows else (-1.0, 1.0)
        pad = max(0.3, 0.05 * (hi - lo))
        self.plot_item.setLimits(xMin=0.5, xMax=T + 0.5)
        self.plot_item.setRange(xRange=(0.5, T + 0.5), yRange=(lo - pad, hi + pad), padding=0)
        self.rate = float(flow.rate_per_step)
        colour = self.style_.warning if self.rate > EXPLODING or not np.isfinite(self.rate) \
            else self.style_.curves[2]
        self.rate_label.setText(f"Gradient flow:  {rate_words(self.rate)}",
                                size=f"{self.style_.title_pt}pt", color=colour, bold=True)
        self.shade_nonfinite(self.plot_item, self._regions, result.nonfinite_steps)

    def curve_data(self, attribute: str) -> tuple[np.ndarray, np.ndarray]:
        """(t, log10 values) of one curve as drawn."""
        x, y = self.curves[attribute].getOriginalDataset()
        return np.asarray(x), np.asarray(y)
