"""Gradient flow over time on a log scale: ‖∂L/∂s_t‖, ‖∂L_T/∂s_t‖, ‖∂s_T/∂s_t‖ and the bound."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from rnnviz.state import display, readouts
from rnnviz.ui.views.flow_gated import GatedCurves
from rnnviz.ui.views.flow_legend import LegendLayout, short_name
from rnnviz.ui.views.plotbase import PlotView
from rnnviz.ui.views.steps import gradient_choice, pending_steps, shown_b, time_extent
from rnnviz.ui.widgets.axes import IntegerAxis, Log10Axis, power_of_ten

# (attribute of GradientFlow, legend text); the Jacobian and the bound use their exact log10.
CURVES = (
    ("grad_norm", "‖∂L/∂s_t‖"),
    ("last_loss_grad_norm", "‖∂L_T/∂s_t‖"),
    ("log10_jacobian_norm", "σ₁ = ‖∂s_T/∂s_t‖"),
    ("log10_bound", "bound (γσ_max)^(T−t)"),
)
MEASURED = ("grad_norm", "last_loss_grad_norm", "log10_jacobian_norm")   # the y range follows these
BOUND_LABEL = "bound"      # written on the dashed line itself (the legend gives its formula)
# The gradient heatmap's choice is drawn bold here too; the other gradient curve thin.
CHOSEN_CURVE = {"last": "last_loss_grad_norm", "total": "grad_norm"}
TIME_CAPTIONS = ("time step t        ← back-propagation runs back in time, from t = T to t = 1",
                 "time step t      ← BPTT runs back in time",
                 "t    ← back in time")
EXACT_LOG10 = {"last_loss_grad_norm": "log10_last_loss_grad_norm"}   # exact even past overflow
SINGULAR_VALUES = (1, 2)         # columns of log10_jacobian_top_sv drawn thin: σ₂ and σ₃
SV_LEGEND = "σ₂, σ₃"             # the next singular values of ∂s_T/∂s_t (thin lines)
SV_NOISE_DECADES = 14.0          # σ_k this far below σ₁ is rounding noise (not drawn)
VANISHING, EXPLODING = readouts.VANISHING, readouts.EXPLODING
# Longer curves are drawn without antialiasing: 1000 steps of six 2-px antialiased curves
# take Qt's raster engine ~6 ms per repaint (about 0.5 ms without), and at a step per pixel
# smoothing shows little.
SMOOTH_MAX_STEPS = 300
def rate_words(rate: float, T: int | None = None, overflowed: bool | None = None) -> str:
    """'×0.83 per step back in time: vanishing' and the like (see state.readouts)."""
    return readouts.rate_words(rate, T, overflowed)


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


class FlowView(LegendLayout, PlotView):
    """How the gradient shrinks or grows going back in time, against its theoretical bound."""

    right_room_changed = QtCore.Signal(int)     # right_room: the main window lines the t axes up

    title = "Gradient flow"
    tooltip = ("Norms of the back-propagated gradient over t, log scale: ‖∂L/∂s_t‖ (total), "
               "‖∂L_T/∂s_t‖ (only the last step's loss), the Jacobian ‖∂s_T/∂s_t‖₂ = "
               "‖Π diag(f′(a_k)) W‖ (its largest singular value σ₁; the thin lines are σ₂ and "
               "σ₃, which decay faster) and its bound (γ σ_max(W))^(T−t). The rate is the "
               "geometric mean factor per step of the Jacobian norm.")

    def __init__(self, session, parent=None):
        super().__init__(session, parent)
        self.rate_label = self.graphics.addLabel("", row=0, col=0)
        self.build_legend()                       # row 1, and the column beside the canvas
        self.plot_item = self.graphics.addPlot(
            row=2, col=0, axisItems={"bottom": IntegerAxis("bottom"), "left": Log10Axis("left")})
        self.plot_item.setMenuEnabled(False)
        self.plot_item.setMouseEnabled(x=True, y=False)
        self.set_axis_label(self.plot_item.getAxis("bottom"), *TIME_CAPTIONS)
        self.set_axis_label(self.plot_item.getAxis("left"), "norm (log scale)", "norm")
        self.curves: dict[str, pg.PlotDataItem] = {}
        for attribute, text in CURVES:
            curve = pg.PlotDataItem(connect="finite", name=text)
            curve.setToolTip(self.tooltip)
            self.plot_item.addItem(curve)
            self.legend.addItem(curve, text)
            self.legend_names[id(curve)] = (text, short_name(text), "")
            self.curves[attribute] = curve
        self.bound_label = pg.TextItem(BOUND_LABEL, anchor=(0.0, 1.0))
        self.bound_label.setZValue(45)
        self.plot_item.addItem(self.bound_label, ignoreBounds=True)
        self.bound_label.setVisible(False)
        self.bound_t = np.zeros(0)
        self.bound_y = np.zeros(0)
        self.plot_item.vb.sigXRangeChanged.connect(lambda *_: self.place_bound_label())
        self.plot_item.vb.sigResized.connect(lambda *_: self.fit_y())
        self.measured = (-1.0, 1.0)          # log10 range of the measured curves
        self.emphasis = gradient_choice(session)
        self.sv_curves: dict[int, pg.PlotDataItem] = {}
        for k in SINGULAR_VALUES:
            curve = pg.PlotDataItem(connect="finite", name=SV_LEGEND)
            curve.setToolTip(self.tooltip)
            curve.setZValue(-1)         # under the main curves
            self.plot_item.addItem(curve)
            self.sv_curves[k] = curve
        self.legend.addItem(self.sv_curves[SINGULAR_VALUES[0]], SV_LEGEND)
        self.legend_names[id(self.sv_curves[SINGULAR_VALUES[0]])] = (SV_LEGEND, SV_LEGEND, "")
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

    def restyle(self, style) -> None:
        thin = CHOSEN_CURVE["total" if self.emphasis == "last" else "last"]
        for (attribute, _), colour in zip(CURVES, style.curves):
            dash = attribute == "log10_bound"
            width = max(1.25, 0.6 * style.line_width) if attribute == thin else None
            self.curves[attribute].setPen(style.pen(colour, width, dash=dash))
        self.bound_label.setColor(style.curves[3])
        self.bound_label.setFont(style.font(style.tick_pt))
        self.bound_label.fill = pg.mkBrush(pg.mkColor(style.background).red(),
                                           pg.mkColor(style.background).green(),
                                           pg.mkColor(style.background).blue(), 200)
        for curve in self.sv_curves.values():
            curve.setPen(style.pen(style.curves[2], max(1.0, style.line_width / 2.5)))
        if hasattr(self, "gated"):
            self.gated.restyle(style)
        self.restyle_legend(style)
        self.progress_label.setColor(style.warning)
        self.progress_label.setFont(style.font(style.font_pt, bold=True))
        self.progress_label.fill = pg.mkBrush(style.background)

    def _on_event(self, name: str, **payload) -> None:
        if name in ("config", "loaded"):
            self.gated.sync(self.session.config.cell)
        super()._on_event(name, **payload)
        if name in ("view", "loaded") and gradient_choice(self.session) != self.emphasis:
            self.emphasis = gradient_choice(self.session)
            self.restyle(self.style_)

    def fit_y(self) -> None:
        """The y range: the measured curves (never the bound, which may reach 10³⁰), with a
        band above them for the bound's label when the bound runs off the top."""
        lo, hi = self.measured
        pad = max(0.3, 0.05 * (hi - lo))
        top = hi + pad
        y = self.bound_y
        if y.size and np.isfinite(y).any() and np.nanmax(y) > top and \
                self.curves["log10_bound"].isVisible():
            height = max(self.plot_item.vb.height(), 40.0)
            band = QtGui.QFontMetrics(self.style_.font(self.style_.tick_pt)).height() + 4
            top += (top - (lo - pad)) * band / max(height - band, 1.0)
        y_range = self.steady_range((lo - pad, top))
        self.show_range(self.plot_item, tuple(self.plot_item.vb.viewRange()[0]), y_range)
        self.place_bound_label()

    def place_bound_label(self) -> None:
        """Write the bound's name on its dashed line: at its left end when that is in view,
        else where the line leaves the top of the plot (the y range follows the measured
        curves, so a bound of 10¹⁹ runs off the top), with its value at the left edge."""
        t, y = self.bound_t, self.bound_y
        if not t.size or not np.isfinite(y).any() or not self.curves["log10_bound"].isVisible():
            self.bound_label.setVisible(False)      # (a gated cell draws no bound)
            return
        (x0, x1), (y0, y1) = self.plot_item.vb.viewRange()
        shown = (t >= x0) & (t <= x1) & np.isfinite(y)
        inside = shown & (y <= y1) & (y >= y0)
        if not inside.any():
            self.bound_label.setVisible(False)
            return
        first = int(np.flatnonzero(inside)[0])
        left = int(np.flatnonzero(shown)[0])
        if first == left:                       # the line starts in view: name it there,
            self.bound_label.setText(BOUND_LABEL)   # above it, or under it at the top edge
            height = self.bound_label.boundingRect().height() * (y1 - y0) / max(
                self.plot_item.vb.height(), 1.0)
            above = y[first] + height <= y1
            self.bound_label.setAnchor((0.0, 1.0) if above else (0.0, 0.0))
            self.bound_label.setPos(t[first], y[first])
        else:                   # it comes in over the top edge at t[first]: say how high it is
            self.bound_label.setText(f"{BOUND_LABEL} ↑ {power_of_ten(round(float(y[left])))} "
                                     f"at t = {int(t[left])}")
            room = (t[first] - x0) * self.plot_item.vb.width() / max(x1 - x0, 1e-9)
            fits_left = room >= self.bound_label.boundingRect().width() + 4
            self.bound_label.setAnchor((1.0, 0.0) if fits_left else (0.0, 0.0))
            self.bound_label.setPos(t[first], y1)
        self.bound_label.setVisible(True)

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
            y = log10_curve(flow, attribute)
            if attribute in MEASURED:
                show(self.curves[attribute], y)
                none = not np.isfinite(y).any() and flow_progress(result) >= 1.0
                self.set_legend_note(self.curves[attribute], ": not finite" if none else "")
            else:                               # the bound: drawn, but not fitted
                self.curves[attribute].setData(t_axis, y, antialias=smooth)
                self.bound_t, self.bound_y = t_axis, y
        for k, curve in self.sv_curves.items():   # σ₂, σ₃ may run off the bottom
            y = singular_value_curve(flow, k)
            curve.setVisible(y is not None)
            curve.setData(t_axis, y if y is not None else np.full(T, np.nan), antialias=smooth)
        for curve, y in self.gated.curves_of(result):
            show(curve, y)
        self.measured = (min(lows), max(highs)) if lows else (-1.0, 1.0)
        self.plot_item.setLimits(xMin=0.5, xMax=T + 0.5)
        self.show_range(self.plot_item, (0.5, T + 0.5))
        self.fit_y()
        self.progress = flow_progress(result)
        self.rate = float(flow.rate_per_step)
        computing = self.progress < 1.0
        marked = self.marked_steps(result)
        overflowed = bool(marked.size)
        if computing:
            words = "computing the Jacobian ∂s_T/∂s_t …"
        else:
            words = rate_words(self.rate, T, overflowed)
        alarming = not computing and readouts.rate_is_alarming(self.rate, T, overflowed)
        colour = self.style_.warning if alarming else self.style_.curves[2]
        note = self.gated.note()            # gated cells: why no bound is drawn
        variants = ((f"Gradient flow:  {words}  ·  {note}", f"{words}  ·  {note}") if note else ())
        shorter = tuple(dict.fromkeys(words.replace(" in time", "").replace(" per step back", short)
                                      for short in (" per step back", " a step")))
        self.fit_label(self.rate_label,
                       tuple(dict.fromkeys(variants + (f"Gradient flow:  {words}", words) + shorter)),
                       color=colour, bold=True)
        self.progress_label.setText(f"computing ∂s_T/∂s_t … {100 * self.progress:.0f} %"
                                    if computing else "")
        self.progress_label.setVisible(computing)
        self.shade_nonfinite(self.plot_item, self._regions, marked)

    def marked_steps(self, result) -> np.ndarray:
        """0-based steps shaded as non-finite: where the states of the shown sequence or the
        Jacobian ∂s_T/∂s_t overflowed (not the steps still being computed)."""
        b = shown_b(self.session, result)
        states = display.state_heatmap(result, b).nonfinite_steps
        jacobian = np.flatnonzero(~np.isfinite(np.asarray(result.flow.log10_jacobian_norm,
                                                          dtype=np.float64)))
        return np.union1d(states, np.setdiff1d(jacobian, pending_steps(result)))

    def curve_data(self, attribute: str) -> tuple[np.ndarray, np.ndarray]:
        """(t, log10 values) of one curve as drawn."""
        curve = self.sv_curves[attribute] if isinstance(attribute, int) else self.curves[attribute]
        x, y = curve.getOriginalDataset()
        return np.asarray(x), np.asarray(y)

    def drawn_steps(self, attribute) -> np.ndarray:
        """The 1-based steps where a curve has a finite point (what is actually drawn)."""
        x, y = self.curve_data(attribute)
        return x[np.isfinite(y)].astype(int)

