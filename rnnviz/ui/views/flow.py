"""Gradient flow over time on a log scale: ‖∂L/∂s_t‖, ‖∂L_T/∂s_t‖, ‖∂s_T/∂s_t‖ and the bound."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from rnnviz.ui.views.flow_gated import GatedCurves
from rnnviz.ui.views.plotbase import PlotView
from rnnviz.ui.views.steps import shown_nonfinite, time_extent
from rnnviz.ui.widgets.axes import IntegerAxis, Log10Axis

# (attribute of GradientFlow, legend text); the Jacobian and the bound use their exact log10.
CURVES = (
    ("grad_norm", "‖∂L/∂s_t‖"),
    ("last_loss_grad_norm", "‖∂L_T/∂s_t‖"),
    ("log10_jacobian_norm", "σ₁ = ‖∂s_T/∂s_t‖"),
    ("log10_bound", "bound (γσ_max)^(T−t)"),
)
EXACT_LOG10 = {"last_loss_grad_norm": "log10_last_loss_grad_norm"}   # exact even past overflow
SINGULAR_VALUES = (1, 2)         # columns of log10_jacobian_top_sv drawn thin: σ₂ and σ₃
SV_LEGEND = "σ₂, σ₃"             # the next singular values of ∂s_T/∂s_t (thin lines)
SV_NOISE_DECADES = 14.0          # σ_k this far below σ₁ is rounding noise (not drawn)
VANISHING, EXPLODING = 0.98, 1.02
# Longer curves are drawn without antialiasing: 1000 steps of six 2-px antialiased curves
# take Qt's raster engine ~6 ms per repaint (about 0.5 ms without), and at a step per pixel
# smoothing shows little.
SMOOTH_MAX_STEPS = 300
LEGEND_SAMPLE = 46               # pixels of a legend entry besides its text (line sample, gaps)


def rate_words(rate: float) -> str:
    """'×0.83 per step: vanishing' and the like."""
    if not np.isfinite(rate):
        return "rate per step: not finite (overflow)"
    kind = "vanishing" if rate < VANISHING else "exploding" if rate > EXPLODING else "near 1: neither"
    return f"×{rate:.3g} per step back in time: {kind}"


def log10_curve(flow, attribute: str) -> np.ndarray:
    """The curve's values as log10, NaN where not finite (exact for the Jacobian and the bound)."""
    exact = EXACT_LOG10.get(attribute)
    if exact is not None:
        attribute = exact
    values = np.asarray(getattr(flow, attribute), dtype=np.float64)
    if not attribute.startswith("log10_"):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            values = np.log10(values)
    return np.where(np.isfinite(values), values, np.nan)


def singular_value_curve(flow, k: int) -> np.ndarray | None:
    """log10 σ_{k+1}(∂s_T/∂s_t) over t, NaN where it is rounding noise; None if the flow holds
    fewer than k + 1 singular values (n_s ≤ k)."""
    sv = np.asarray(flow.log10_jacobian_top_sv, dtype=np.float64)
    if sv.shape[1] <= k:
        return None
    top = np.asarray(flow.log10_jacobian_norm, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        keep = np.isfinite(sv[:, k]) & ~(sv[:, k] < top - SV_NOISE_DECADES)
    return np.where(keep, sv[:, k], np.nan)


def flow_progress(result) -> float:
    """How much of the gradient flow is computed, 0..1."""
    progress = float(result.flow_progress)
    return min(max(progress, 0.0), 1.0) if np.isfinite(progress) else 1.0


class FlowView(PlotView):
    """How the gradient shrinks or grows going back in time, against its theoretical bound."""

    title = "Gradient flow"
    tooltip = ("Norms of the back-propagated gradient over t, log scale: ‖∂L/∂s_t‖ (total), "
               "‖∂L_T/∂s_t‖ (only the last step's loss), the Jacobian ‖∂s_T/∂s_t‖₂ = "
               "‖Π diag(f′(a_k)) W‖ (its largest singular value σ₁; the thin lines are σ₂ and "
               "σ₃, which decay faster) and its bound (γ σ_max(W))^(T−t). The rate is the "
               "geometric mean factor per step of the Jacobian norm.")

    def __init__(self, session, parent=None):
        super().__init__(session, parent)
        self.rate_label = self.graphics.addLabel("", row=0, col=0)
        self.legend = pg.LegendItem(colCount=5, labelTextSize=f"{self.style_.tick_pt + 1}pt",
                                    verSpacing=-4)
        self.graphics.addItem(self.legend, row=1, col=0)
        self.plot_item = self.graphics.addPlot(
            row=2, col=0, axisItems={"bottom": IntegerAxis("bottom"), "left": Log10Axis("left")})
        self.plot_item.setMenuEnabled(False)
        self.plot_item.setMouseEnabled(x=True, y=False)
        self.set_label(self.plot_item, "bottom", "time step t")
        self.set_label(self.plot_item, "left", "norm (log scale)")
        self.curves: dict[str, pg.PlotDataItem] = {}
        for attribute, text in CURVES:
            curve = pg.PlotDataItem(connect="finite", name=text)
            curve.setToolTip(self.tooltip)
            self.plot_item.addItem(curve)
            self.legend.addItem(curve, text)
            self.curves[attribute] = curve
        self.sv_curves: dict[int, pg.PlotDataItem] = {}
        for k in SINGULAR_VALUES:
            curve = pg.PlotDataItem(connect="finite", name=SV_LEGEND)
            curve.setToolTip(self.tooltip)
            curve.setZValue(-1)         # under the main curves
            self.plot_item.addItem(curve)
            self.sv_curves[k] = curve
        self.legend.addItem(self.sv_curves[SINGULAR_VALUES[0]], SV_LEGEND)
        self.progress_label = pg.TextItem("", anchor=(0.0, 0.0))
        self.progress_label.setParentItem(self.plot_item.vb)
        self.progress_label.setPos(8, 6)
        self.progress_label.setZValue(60)
        self.progress_label.setVisible(False)
        self.progress = 1.0
        self.add_cursor(self.plot_item)
        self._regions: list = []
        self.rate = float("nan")
        self.gated = GatedCurves(self, dict(CURVES)["log10_bound"])   # LSTM / GRU curves
        self.restyle(self.style_)
        self.gated.sync(session.config.cell)

    def _on_event(self, name: str, **payload) -> None:
        if name in ("config", "loaded"):
            self.gated.sync(self.session.config.cell)
        super()._on_event(name, **payload)

    def restyle(self, style) -> None:
        for (attribute, _), colour in zip(CURVES, style.curves):
            dash = attribute == "log10_bound"
            self.curves[attribute].setPen(style.pen(colour, dash=dash))
        for curve in self.sv_curves.values():
            curve.setPen(style.pen(style.curves[2], max(1.0, style.line_width / 2.5)))
        if hasattr(self, "gated"):
            self.gated.restyle(style)
        size = f"{style.tick_pt + 1}pt"        # a little smaller than captions: fewer rows
        self.legend.setLabelTextColor(style.foreground)
        self.legend.setLabelTextSize(size)
        for _, label in self.legend.items:
            label.setText(label.text, size=size, color=style.foreground)
        self.fit_legend()
        self.progress_label.setColor(style.warning)
        self.progress_label.setFont(style.font(style.font_pt, bold=True))
        self.progress_label.fill = pg.mkBrush(style.background)

    def fit_legend(self) -> None:
        """As many legend columns as fit the canvas width (the legend never widens the plot)."""
        widths = [label.itemRect().width() + LEGEND_SAMPLE for _, label in self.legend.items]
        room = self.graphics.width() - 16
        for columns in range(len(widths), 0, -1):      # grid columns: the widest entry each
            if sum(max(widths[j::columns]) for j in range(columns)) <= room:
                break
        if columns != self.legend.columnCount:
            self.legend.setColumnCount(columns)
            # the canvas may have been sized while the legend was wider (its layout then clamps
            # to the old minimum width): give it the canvas's width again
            self.graphics.centralWidget.setGeometry(self.graphics.range)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_legend()

    def draw_result(self, result) -> None:
        flow = result.flow
        T = time_extent(result)
        t_axis = np.arange(1, T + 1, dtype=np.float64)
        lows, highs = [], []

        smooth = T <= SMOOTH_MAX_STEPS

        def show(curve, y):
            curve.setData(t_axis, y, antialias=smooth)
            finite = y[np.isfinite(y)]
            if finite.size:
                lows.append(finite.min())
                highs.append(finite.max())

        for attribute, _ in CURVES:
            show(self.curves[attribute], log10_curve(flow, attribute))
        for k, curve in self.sv_curves.items():
            y = singular_value_curve(flow, k)
            curve.setVisible(y is not None)
            show(curve, y if y is not None else np.full(T, np.nan))
        for curve, y in self.gated.curves_of(result):
            show(curve, y)
        lo, hi = (min(lows), max(highs)) if lows else (-1.0, 1.0)
        pad = max(0.3, 0.05 * (hi - lo))
        self.plot_item.setLimits(xMin=0.5, xMax=T + 0.5)
        self.plot_item.setRange(xRange=(0.5, T + 0.5), yRange=(lo - pad, hi + pad), padding=0)
        self.progress = flow_progress(result)
        self.rate = float(flow.rate_per_step)
        computing = self.progress < 1.0
        if computing:
            words = "computing the Jacobian ∂s_T/∂s_t …"
        else:
            words = rate_words(self.rate)
        colour = self.style_.warning if not computing and (
            self.rate > EXPLODING or not np.isfinite(self.rate)) else self.style_.curves[2]
        note = self.gated.note()            # gated cells: why no bound is drawn
        variants = ((f"Gradient flow:  {words}  ·  {note}", f"{words}  ·  {note}") if note else ())
        self.fit_label(self.rate_label, variants + (f"Gradient flow:  {words}", words),
                       color=colour, bold=True)
        self.progress_label.setText(f"computing ∂s_T/∂s_t … {100 * self.progress:.0f} %"
                                    if computing else "")
        self.progress_label.setVisible(computing)
        self.shade_nonfinite(self.plot_item, self._regions, shown_nonfinite(result))

    def curve_data(self, attribute: str) -> tuple[np.ndarray, np.ndarray]:
        """(t, log10 values) of one curve as drawn."""
        curve = self.sv_curves[attribute] if isinstance(attribute, int) else self.curves[attribute]
        x, y = curve.getOriginalDataset()
        return np.asarray(x), np.asarray(y)

    def drawn_steps(self, attribute) -> np.ndarray:
        """The 1-based steps where a curve has a finite point (what is actually drawn)."""
        x, y = self.curve_data(attribute)
        return x[np.isfinite(y)].astype(int)

