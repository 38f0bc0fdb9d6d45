"""Curves over training iterations: the loss with the task's baseline, the gradient norm before and
after clipping with the threshold and the iterations where clipping fired, ρ(W) and σ_max(W)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from rnnviz.state import training_curves
from rnnviz.ui.views.training_plot import (
    TrainingPlot,
    colour_word,
    finite_span,
    horizontal_line,
    log10_positive,
)

MAX_CLIP_MARKS = 400             # clipping ticks drawn: at most one per bin of iterations


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
        self.baseline_line = horizontal_line("baseline")
        self.baseline_line.setVisible(False)
        self.plot_item.addItem(self.baseline_line)
        self.baseline = float("nan")
        self._baseline_of = None
        self.restyle(self.style_)

    def restyle_curves(self, style) -> None:
        self.loss_curve.setPen(style.pen(style.curves[0]))
        self.baseline_line.setPen(style.pen(style.foreground, 1.5, dash=True))
        self.baseline_line.label.setColor(style.foreground)
        self.baseline_line.label.setFont(style.font(style.tick_pt))

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
            self.baseline_line.label.setFormat(f"baseline {self.baseline:.3g}")
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
               "scaled down to c when it is larger, so the green curve then lies on it). Red "
               "ticks along the bottom: the iterations where clipping fired. A spike of many "
               "decades is an exploding gradient.")
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
        self.threshold_line = horizontal_line("threshold")
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
        ys[0::2], ys[1::2] = lo, lo + 0.035 * (hi - lo)
        return np.repeat(xs, 2), ys

    def restyle_curves(self, style) -> None:
        self.before.setPen(style.pen(style.curves[0]))
        self.after.setPen(style.pen(style.curves[1], max(1.0, style.line_width * 0.75)))
        self.marks.setPen(pg.mkPen(style.warning, width=1))
        self.threshold_line.setPen(style.pen(style.foreground, 1.5, dash=True))
        self.threshold_line.label.setColor(style.foreground)
        self.threshold_line.label.setFont(style.font(style.tick_pt))

    def draw_curves(self) -> None:
        c, training, style = self.curves, self.session.training, self.style_
        x = self.iterations()
        before = log10_positive(c.column("grad_norm"))
        after = log10_positive(c.column("grad_norm_clipped"))
        self.set_curve(self.before, x, before)
        self.set_curve(self.after, x, after)
        mode = training.clip if training is not None else "off"
        self.after.setVisible(mode != "off")          # without clipping it is the same curve
        line = [np.log10(training.clip_threshold)] if mode == "norm" else []
        self.hold_range(x, *finite_span(before, after, line), 1.0)
        clipped = np.flatnonzero(c.column("clipped"))
        self.clipped_iterations = c.column("iteration")[clipped].copy()
        self.marks.setData(*self.rug(x[clipped]))
        self.threshold_line.setVisible(mode == "norm")
        if mode == "norm":
            self.threshold_line.setValue(np.log10(training.clip_threshold))
            self.threshold_line.label.setFormat(f"c = {training.clip_threshold:g}")
        note = {"norm": f"clipped to c = {training.clip_threshold:g}" if training else "",
                "value": f"clipped by value (each entry to ±{training.clip_threshold:g})"
                if training else "", "off": "no clipping"}[mode]
        self.set_title(self.plot_item,
                       f"Gradient norm: {colour_word('before', style.curves[0])} and "
                       f"{colour_word('after', style.curves[1])} clipping, "
                       f"{colour_word('|', style.warning)} clipped ({note})",
                       f"‖g‖: {colour_word('before', style.curves[0])} / "
                       f"{colour_word('after', style.curves[1])} clipping",
                       f"‖g‖ {colour_word('before', style.curves[0])} / "
                       f"{colour_word('after', style.curves[1])}",
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
        self.one_line = horizontal_line("1")
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
        self.one_line.label.setFont(style.font(style.tick_pt))

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
