"""Curves over training iterations: the loss with the task's baseline, the gradient norm before and
after clipping, ρ(W) and σ_max(W); drawn from the run's records (state), never from the engine.

Every record is in the curves (state.training_curves.CurveCache); pyqtgraph's peak downsampling
thins only what is painted. A vertical line marks the iteration whose weights the other views
show; dragging it scrubs back through the run (the `iteration_picked` signal).
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from rnnviz.state import training_curves
from rnnviz.state.training_curves import CurveCache
from rnnviz.ui.views.plotbase import PlotView
from rnnviz.ui.widgets.axes import IntegerAxis, plain
from rnnviz.ui.widgets.log_axis import LogValueAxis

MAX_CLIP_MARKS = 400             # clipping ticks drawn: at most one per bin of iterations
NICE_STEPS = (1, 1.5, 2, 3, 4, 5, 6, 8, 10)


def nice_ceiling(n: float, least: float = 10) -> float:
    """The smallest of 1, 1.5, 2, 3, 4, 5, 6, 8 x 10^k at or above n (and at least `least`)."""
    n = max(float(n), least)
    k = 10.0 ** np.floor(np.log10(n))
    return next(m * k for m in NICE_STEPS if m * k >= n)


def held_range(lo: float, hi: float, shown: tuple[float, float] | None,
               step: float) -> tuple[float, float] | None:
    """A y range for data from lo to hi on a grid of `step`, or None to keep `shown`: a range
    changes only when the data leave it or fill less than a quarter of it (so the axes, whose
    painting is cached, stay as they are for most frames)."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    if hi - lo < step:
        middle = 0.5 * (lo + hi)
        lo, hi = middle - step / 2, middle + step / 2
    if shown is not None:
        s_lo, s_hi = shown
        if s_lo <= lo and hi <= s_hi and (hi - lo) >= 0.25 * (s_hi - s_lo):
            return None
    return float(np.floor(lo / step) * step), float(np.ceil(hi / step) * step)


def log10_positive(values: np.ndarray) -> np.ndarray:
    """log10 of the values, NaN where a value is not a finite positive number."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log10(v)
    return np.where(np.isfinite(out), out, np.nan)


def finite_span(*arrays) -> tuple[float, float]:
    """(min, max) over the finite values of all arrays (nan, nan when there are none)."""
    values = np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays])
    values = values[np.isfinite(values)]
    return (float(values.min()), float(values.max())) if values.size else (np.nan, np.nan)


def colour_word(text: str, colour: str) -> str:
    return f"<span style='color:{colour}'>{text}</span>"


class TrainingPlot(PlotView):
    """Base of the plots over iterations: draws from session.run's records, marks the shown
    iteration, and asks for an iteration when the user drags that mark."""

    iteration_picked = QtCore.Signal(int)
    result_events = ()
    timestep_events = ()
    log_y = False
    y_caption = ""
    empty_message = "Press Train: this plot fills in as the network trains"

    def __init__(self, session, curves: CurveCache | None = None, parent=None):
        super().__init__(session, parent)
        self.curves = curves if curves is not None else CurveCache()
        left = LogValueAxis("left") if self.log_y else pg.AxisItem("left")
        self.plot_item = self.graphics.addPlot(axisItems={"bottom": IntegerAxis("bottom"),
                                                          "left": left})
        self.plot_item.setMenuEnabled(False)
        self.plot_item.setMouseEnabled(x=True, y=False)
        self.plot_item.getAxis("left").setWidth(64)
        plain(left)
        self.set_label(self.plot_item, "bottom", "iteration")
        self.set_label(self.plot_item, "left", self.y_caption)
        self.iteration_line = pg.InfiniteLine(angle=90, movable=True)
        self.iteration_line.setZValue(50)
        self.iteration_line.setToolTip("The iteration whose weights every view shows: drag it "
                                       "to scrub back through training")
        self.iteration_line.sigPositionChangeFinished.connect(self._line_dragged)
        self.iteration_line.setVisible(False)
        self.plot_item.addItem(self.iteration_line, ignoreBounds=True)
        self.cursors.append(self.iteration_line)        # styled like the t cursors
        self.empty_text = pg.TextItem(self.empty_message, anchor=(0.5, 0.5))
        self.empty_text.setParentItem(self.plot_item.vb)
        self.shown_key: tuple | None = None
        self.plot_item.vb.disableAutoRange()
        self.plot_item.hideButtons()
        self._y_range: tuple[float, float] | None = None
        self._x_top: float | None = None
        self._user_range = False        # the user zoomed or panned: leave the range alone
        self._run_key = None
        self.plot_item.vb.sigRangeChangedManually.connect(self._zoomed)

    def _zoomed(self, *_) -> None:
        self._user_range = True

    def hold_range(self, x: np.ndarray, y_lo: float, y_hi: float, y_step: float,
                   sets_x: bool = True) -> None:
        """Keep the data in view, changing the range only in steps (see held_range)."""
        run_key = self.shown_key[0] if self.shown_key else None
        if run_key != self._run_key:            # a new run: manage the range again
            self._run_key, self._user_range = run_key, False
            self._y_range = self._x_top = None
        if self._user_range:
            return
        vb = self.plot_item.vb
        if sets_x and vb.linkedView(0) is None and x.size:
            first, last = float(x[0]), float(x[-1])
            top = nice_ceiling(last - first + 1) + first
            if top != self._x_top:
                self._x_top = top
                vb.setXRange(first, top, padding=0.02)
        y = held_range(y_lo, y_hi, self._y_range, y_step)
        if y is not None:
            self._y_range = y
            vb.setYRange(*y, padding=0.04)

    # ----- drawing -----------------------------------------------------------------------------
    def _on_event(self, name: str, **payload) -> None:
        if name in ("training", "loaded"):
            self.schedule(result=True)

    def flush(self) -> None:
        """Draw what is new in the run's records and move the iteration mark."""
        self._timer.stop()
        if not self._axes_plain:
            self._axes_plain = True
            for axis in self.axes():
                plain(axis)
        start = time.perf_counter()
        key = self.curves.update(self.session.run) + (self.session.training, self.style_.name)
        drawn = False
        if self._dirty_result and key != self.shown_key:
            self.shown_key = key
            self.draw_count += 1
            self.draw_curves()
            drawn = True
        self._dirty_result = self._dirty_t = False
        self._place_iteration_line()
        if drawn:
            self.last_draw_ms = (time.perf_counter() - start) * 1e3

    def refresh(self) -> None:
        self.shown_key = None
        self._dirty_result = True
        self.flush()

    def draw_result(self, result) -> None:          # the base class's hook: not used here
        self.draw_curves()

    def draw_timestep(self, result) -> None:
        pass

    def draw_curves(self) -> None:
        raise NotImplementedError

    def iterations(self) -> np.ndarray:
        return self.curves.column("iteration").astype(np.float64)

    def _place_iteration_line(self) -> None:
        k = self.session.selection_iteration
        self.iteration_line.setVisible(k is not None and self.curves.n > 0)
        if k is not None and self.iteration_line.value() != k:
            blocker = QtCore.QSignalBlocker(self.iteration_line)
            self.iteration_line.setValue(k)
            del blocker
        self.empty_text.setVisible(self.curves.n == 0)
        vb = self.plot_item.vb
        self.empty_text.setPos(vb.width() / 2, vb.height() / 2)

    def _line_dragged(self, line) -> None:
        value = line.value()
        if np.isfinite(value):
            self.iteration_picked.emit(max(0, int(round(value))))

    def set_curve(self, curve: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
        curve.setData(x, y, connect="finite", antialias=curve.opts["antialias"])

    def curve_data(self, curve: pg.PlotDataItem) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of a curve as given to it (log10 values on a log plot): every record."""
        x, y = curve.getOriginalDataset()
        return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))

    def new_curve(self, name: str, antialias: bool = True) -> pg.PlotDataItem:
        # peak downsampling to about 2 points per pixel (min and max of each pixel's records):
        # a long run paints as fast as a short one and no spike is lost; only what is in view
        curve = pg.PlotDataItem(connect="finite", name=name, autoDownsampleFactor=1.0,
                                antialias=antialias)
        self.plot_item.addItem(curve)           # (the plot sets its items' downsampling: after)
        curve.setDownsampling(auto=True, method="peak")
        curve.setClipToView(True)
        return curve

    def restyle(self, style) -> None:
        self.empty_text.setColor(style.foreground)
        self.empty_text.setFont(style.font())
        self.restyle_curves(style)

    def restyle_curves(self, style) -> None:
        pass

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        vb = self.plot_item.vb
        self.empty_text.setPos(vb.width() / 2, vb.height() / 2)


def _horizontal_line(text: str) -> pg.InfiniteLine:
    line = pg.InfiniteLine(angle=0, movable=False, label=text,
                           labelOpts={"position": 0.02, "anchors": [(0, 0), (0, 0)]})
    line.setZValue(20)
    return line


class LossView(TrainingPlot):
    """The training loss over iterations (log scale) against the task's memoryless baseline."""

    title = "Training loss"
    tooltip = ("The loss L of each training batch over the iterations, log scale (mean over the "
               "batch, summed over the scored steps). Dashed: the task's baseline, the loss of "
               "the best strategy without memory (it sees only t and x_t): a net on that line "
               "has learnt nothing that needs memory.")
    log_y = True
    y_caption = "loss L (log scale)"

    def __init__(self, session, curves=None, parent=None):
        super().__init__(session, curves, parent)
        self.loss_curve = self.new_curve("loss")
        self.loss_curve.setToolTip(self.tooltip)
        self.baseline_line = _horizontal_line("baseline")
        self.baseline_line.setVisible(False)
        self.plot_item.addItem(self.baseline_line)
        self.baseline = float("nan")
        self._baseline_of = None
        self.restyle(self.style_)

    def restyle_curves(self, style) -> None:
        right = self.plot_item.getAxis("right")
        if right.isVisible():                   # room kept for the heatmap's colour bar below
            right.setPen(None)
            right.setTextPen(None)
        self.loss_curve.setPen(style.pen(style.curves[0]))
        self.baseline_line.setPen(style.pen(style.foreground, 1.5, dash=True))
        self.baseline_line.label.setColor(style.foreground)
        self.baseline_line.label.setFont(style.font())

    def draw_curves(self) -> None:
        c, training = self.curves, self.session.training
        x = self.iterations()
        y = log10_positive(c.column("loss"))
        self.set_curve(self.loss_curve, x, y)
        if training != self._baseline_of:
            self._baseline_of = training
            self.baseline = training_curves.baseline(training) if training is not None else np.nan
        shown = bool(np.isfinite(self.baseline) and self.baseline > 0)
        self.baseline_line.setVisible(shown)
        if shown:
            self.baseline_line.setValue(np.log10(self.baseline))
            self.baseline_line.label.setFormat(f"memoryless baseline {self.baseline:.3g}")
        self.hold_range(x, *finite_span(y, [np.log10(self.baseline)] if shown else []), 0.5)
        self.set_title(self.plot_item, f"Training loss {colour_word('L', self.style_.curves[0])} "
                       f"vs the memoryless baseline (dashed)", "Training loss (log)")
        if c.n:
            loss = float(c.column("loss")[-1])
            acc = float(c.column("accuracy")[-1])
            acc_text = f", accuracy {100 * acc:.0f} %" if np.isfinite(acc) else ""
            self.readout.show_text(
                f"iteration {int(c.column('iteration')[-1])}: loss {loss:.4g}{acc_text}; "
                f"baseline {self.baseline:.4g}", f"loss {loss:.3g} · baseline {self.baseline:.3g}")
        else:
            self.readout.show_text("")


class GradNormView(TrainingPlot):
    """The global gradient norm over iterations, before and after clipping, with the threshold."""

    title = "Gradient norm"
    tooltip = ("‖g‖₂ over all parameter gradients at each iteration, log scale: before clipping "
               "(blue) and after (green). Dashed: the norm-clipping threshold c (the norm is "
               "scaled down to c when it is larger). Red ticks along the bottom: the iterations "
               "where clipping fired. "
               "A spike of many decades is an exploding gradient.")
    log_y = True
    y_caption = "‖g‖₂ (log scale)"

    def __init__(self, session, curves=None, parent=None):
        super().__init__(session, curves, parent)
        # noisy curves: antialiasing their dense zig-zag costs ~4x the paint time (measured)
        self.before = self.new_curve("before clipping", antialias=False)
        self.after = self.new_curve("after clipping", antialias=False)
        self.marks = pg.PlotCurveItem(connect="pairs")       # one vertical tick per pair
        self.marks.setZValue(10)
        self.plot_item.addItem(self.marks)
        self.threshold_line = _horizontal_line("threshold")
        self.threshold_line.setVisible(False)
        self.plot_item.addItem(self.threshold_line)
        for item in (self.before, self.after, self.marks):
            item.setToolTip(self.tooltip)
        self.clipped_iterations = np.zeros(0, dtype=np.int64)
        self.restyle(self.style_)

    def rug(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Short vertical ticks along the bottom edge at the iterations xs (one per bin of the
        shown iteration range when there are more than MAX_CLIP_MARKS)."""
        if xs.size == 0:
            return np.zeros(0), np.zeros(0)
        (x0, x1), (lo, hi) = self.plot_item.vb.viewRange()
        if xs.size > MAX_CLIP_MARKS:
            width = max((x1 - x0) / MAX_CLIP_MARKS, 1.0)
            xs = np.unique(np.floor((xs - x0) / width)) * width + x0
        ys = np.empty(2 * xs.size)
        ys[0::2], ys[1::2] = lo, lo + 0.06 * (hi - lo)
        return np.repeat(xs, 2), ys

    def restyle_curves(self, style) -> None:
        self.before.setPen(style.pen(style.curves[0]))
        self.after.setPen(style.pen(style.curves[1], max(1.0, style.line_width * 0.75)))
        self.marks.setPen(pg.mkPen(style.warning, width=max(1.0, style.line_width / 2)))
        self.threshold_line.setPen(style.pen(style.foreground, 1.5, dash=True))
        self.threshold_line.label.setColor(style.foreground)
        self.threshold_line.label.setFont(style.font())

    def draw_curves(self) -> None:
        c, training, style = self.curves, self.session.training, self.style_
        x = self.iterations()
        before = log10_positive(c.column("grad_norm"))
        after = log10_positive(c.column("grad_norm_clipped"))
        self.set_curve(self.before, x, before)
        self.set_curve(self.after, x, after)
        mode = training.clip if training is not None else "off"
        line = [np.log10(training.clip_threshold)] if mode == "norm" else []
        self.hold_range(x, *finite_span(before, after, line), 1.0)
        clipped = np.flatnonzero(c.column("clipped"))
        self.clipped_iterations = c.column("iteration")[clipped].copy()
        self.marks.setData(*self.rug(x[clipped]))
        self.threshold_line.setVisible(mode == "norm")
        if mode == "norm":
            self.threshold_line.setValue(np.log10(training.clip_threshold))
            self.threshold_line.label.setFormat(f"threshold c = {training.clip_threshold:g}")
        note = {"norm": f"clipped to c = {training.clip_threshold:g}" if training else "",
                "value": f"clipped by value (each entry to ±{training.clip_threshold:g})"
                if training else "", "off": "no clipping"}[mode]
        self.set_title(self.plot_item,
                       f"Gradient norm: {colour_word('before', style.curves[0])} and "
                       f"{colour_word('after', style.curves[1])} clipping, "
                       f"{colour_word('|', style.warning)} clipped ({note})",
                       f"‖g‖: {colour_word('before', style.curves[0])} / "
                       f"{colour_word('after', style.curves[1])} clipping",
                       "Gradient norm")
        if c.n:
            fired = int(np.count_nonzero(c.column("clipped")))
            self.readout.show_text(
                f"iteration {int(c.column('iteration')[-1])}: ‖g‖ = "
                f"{float(c.column('grad_norm')[-1]):.3g}; clipping fired at {fired} of {c.n} "
                f"iterations", f"‖g‖ {float(c.column('grad_norm')[-1]):.3g} · {fired} clipped")
        else:
            self.readout.show_text("")


class SpectralView(TrainingPlot):
    """ρ(W) and σ_max(W) over iterations, with the line 1 where the linear recurrence turns."""

    title = "ρ(W) and σ_max(W)"
    tooltip = ("The spectral radius ρ(W) = max|λ_i(W)| and the largest singular value σ_max(W) "
               "of the recurrent matrix at each iteration (for gated cells: the largest over their "
               "recurrent matrices). ρ > 1 lets the linearised recurrence grow; γ σ_max < 1 "
               "guarantees that gradients vanish.")
    y_caption = "ρ(W), σ_max(W)"

    def __init__(self, session, curves=None, parent=None):
        super().__init__(session, curves, parent)
        self.rho_curve = self.new_curve("rho")
        self.sigma_curve = self.new_curve("sigma_max")
        self.one_line = _horizontal_line("1")
        self.one_line.setValue(1.0)
        self.plot_item.addItem(self.one_line)
        for item in (self.rho_curve, self.sigma_curve):
            item.setToolTip(self.tooltip)
        self.restyle(self.style_)

    def restyle_curves(self, style) -> None:
        self.rho_curve.setPen(style.pen(style.curves[2]))
        self.sigma_curve.setPen(style.pen(style.curves[3]))
        self.one_line.setPen(style.pen(style.foreground, 1.0, dash=True))
        self.one_line.label.setColor(style.foreground)
        self.one_line.label.setFont(style.font())

    def draw_curves(self) -> None:
        c, style = self.curves, self.style_
        x = self.iterations()
        self.set_curve(self.rho_curve, x, c.column("rho"))
        self.set_curve(self.sigma_curve, x, c.column("sigma_max"))
        self.hold_range(x, *finite_span(c.column("rho"), c.column("sigma_max"), [1.0]), 0.25)
        self.set_title(self.plot_item, f"{colour_word('ρ(W)', style.curves[2])} and "
                       f"{colour_word('σ_max(W)', style.curves[3])} over training",
                       f"{colour_word('ρ', style.curves[2])}, "
                       f"{colour_word('σ_max', style.curves[3])}")
        if c.n:
            rho, sigma = float(c.column("rho")[-1]), float(c.column("sigma_max")[-1])
            self.readout.show_text(f"iteration {int(c.column('iteration')[-1])}: ρ(W) = "
                                   f"{rho:.4g}, σ_max(W) = {sigma:.4g}",
                                   f"ρ {rho:.3g} · σ_max {sigma:.3g}")
        else:
            self.readout.show_text("")
