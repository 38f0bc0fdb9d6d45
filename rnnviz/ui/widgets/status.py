"""The status bar: loss, ρ(W), σ_max(W), compute time, a busy indicator and a coloured warning."""
from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from rnnviz.ui.style import NORMAL, Style
from rnnviz.ui.widgets.readout import Readout
from rnnviz.ui.widgets.steady import steady

BUSY_DELAY_MS = 400      # a computation shorter than this shows no busy indicator: dragging a
                         # slider at the default size (each edit computed in ~10-40 ms) flashed
                         # it on and off at every step (23 times in 20 steps, counted)

LOSS_TIPS = {
    None: "L = −(1/m) Σ_b Σ_t log y_t[target]: cross-entropy, mean over the batch, summed over "
          "time (a target of −1 is not scored)",
    "mse": "L = (1/m) Σ_b Σ_t Σ_k (z_t[k] − target_t[k])²: squared error of the outputs "
           "z_t = V s_t + b_y, mean over the batch, summed over the scored steps (NaN: not scored)",
}


class StatusBar(QtWidgets.QStatusBar):
    """Permanent numbers of the shown result plus transient messages; never raises."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.style_ = NORMAL
        # One line that takes the room left and never asks for more (a long warning used to
        # demand ~1500 px): cut with '…' when it does not fit, the whole sentence as tooltip.
        self.warning = Readout()
        self.warning.setObjectName("warning")
        self.warning.setVisible(False)
        self.warning_text: str | None = None
        self.busy = QtWidgets.QProgressBar()
        self.busy.setObjectName("busy")
        self.busy.setRange(0, 0)               # indeterminate: "computing…"
        self.busy.setMaximumWidth(110)
        self.busy.setMaximumHeight(14)
        self.busy.setTextVisible(False)
        self.busy.setToolTip("The background worker is computing the new result")
        self.busy.setVisible(False)
        self._busy_delay = QtCore.QTimer(self)
        self._busy_delay.setSingleShot(True)
        self._busy_delay.setInterval(BUSY_DELAY_MS)
        self._busy_delay.timeout.connect(self._show_busy)
        self.loss = QtWidgets.QLabel("loss –")
        self.loss.setToolTip(LOSS_TIPS[None])
        self.rho = QtWidgets.QLabel("ρ(W) –")
        self.rho.setToolTip("Spectral radius ρ(W) = max |λ_i(W)|")
        self.sigma = QtWidgets.QLabel("σ_max(W) –")
        self.sigma.setToolTip("Largest singular value of W: ‖∂s_T/∂s_t‖ ≤ (γ σ_max(W))^(T−t)")
        self.ms = QtWidgets.QLabel("– ms")
        self.ms.setToolTip("Time the last computation took on the background worker")
        # (the labels in SteadyBoxes: a new number lays out the bar, not the whole window)
        self.addWidget(steady(self.warning), 1)
        self.addPermanentWidget(self.busy)
        for w in (self.loss, self.rho, self.sigma, self.ms):
            self.addPermanentWidget(steady(w, grow_only=True))
        # One message at a time: Qt hides the warning while a transient message shows, but a
        # warning set meanwhile would be drawn over it; it waits until the message has gone.
        self.messageChanged.connect(self._message_changed)

    def show_result(self, result) -> None:
        """The numbers of a newly shown result, and its warning if any."""
        loss = float(result.grads.loss)
        self.loss.setText(f"loss L = {loss:.4g}")
        _tip(self.loss, LOSS_TIPS.get(getattr(result.trace, "loss", None), LOSS_TIPS[None]))
        name = getattr(result, "spectrum_label", "W") or "W"
        self.rho.setText(f"ρ({name}) = {float(result.spectrum.spectral_radius):.3g},")
        self.sigma.setText(f"σ_max({name}) = {float(result.spectrum.sigma_max):.3g}")
        gated = getattr(result.trace, "cell", "vanilla") != "vanilla"
        _tip(self.rho, f"Spectral radius ρ({name}) = max |λ_i({name})|"
             + (" (the recurrent block of the largest ρ)" if gated else ""))
        _tip(self.sigma, f"Largest singular value of {name}" + (
            "" if gated else ": ‖∂s_T/∂s_t‖ ≤ (γ σ_max(W))^(T−t)"))
        if not result.complete:              # (a result without the flow stage is complete)
            self.ms.setText(f"gradient flow {100 * result.flow_progress:.0f} % …")
        else:
            self.ms.setText(f"computed in {float(result.compute_ms):.1f} ms")
        for label in (self.loss, self.rho, self.sigma, self.ms):
            # room for the widest number shown so far: while training changes them at 20 a
            # second, the bar keeps its places (a label grown by a digit was drawn cut for a
            # frame, 'ρ(W) = 1.5⁝', until the bar laid itself out again)
            label.setMinimumWidth(max(label.minimumWidth(), label.sizeHint().width()))
        text = result.warning
        if text is None and not np.isfinite(loss):
            text = "the loss is not finite: values overflowed"
        self.set_warning(text)

    def set_warning(self, text: str | None) -> None:
        """A red warning that stays until the next result (None clears it)."""
        self.warning_text = text or None
        self.warning.setVisible(bool(text) and not self.currentMessage())
        self.warning.show_text(f"⚠ {text}" if text else "")
        _tip(self.warning, text or "")
        sheet = f"color: {self.style_.warning}; font-weight: bold;"
        if self.warning.styleSheet() != sheet:         # (a new sheet polishes and lays out)
            self.warning.setStyleSheet(sheet)

    def _message_changed(self, text: str) -> None:
        if text:
            self.warning.setVisible(False)
        elif self.warning_text:
            self.warning.setVisible(True)

    def shown_texts(self) -> list[str]:
        """What the left part of the bar shows now: the transient message or the warning."""
        texts = [self.currentMessage()] if self.currentMessage() else []
        if self.warning.isVisible():
            texts.append(self.warning.text())
        return texts

    def set_busy(self, busy: bool) -> None:
        """Show the indicator (indeterminate until a partial result says how far it is) once a
        computation has taken BUSY_DELAY_MS; hide it when the worker is idle again."""
        if not busy:
            self._busy_delay.stop()
            self.busy.setVisible(False)
        elif self.busy.isVisible():
            self._show_busy()
        elif not self._busy_delay.isActive():
            self._busy_delay.start()

    def _show_busy(self) -> None:
        self.busy.setRange(0, 0)
        self.busy.setToolTip("The background worker is computing the new result")
        self.busy.setVisible(True)

    def set_progress(self, progress: float) -> None:
        """How much of the gradient-flow curve the shown result holds (1.0: all, bar hidden)."""
        if not progress < 1.0:
            return
        self.busy.setRange(0, 100)
        self.busy.setValue(int(100 * max(0.0, progress)))
        self.busy.setToolTip(f"Gradient flow: {100 * progress:.0f} % of the steps computed "
                             f"(filling in from t = T back to t = 1)")
        self._busy_delay.stop()
        self.busy.setVisible(True)

    def error(self, text: str) -> None:
        """A failure the user should read, in the warning colour until the next result."""
        self.set_warning(text)

    def apply_style(self, style: Style) -> None:
        self.style_ = style
        self.setFont(style.font())
        for w in (self.warning, self.loss, self.rho, self.sigma, self.ms):
            w.setFont(style.font())
        for label in (self.loss, self.rho, self.sigma, self.ms):
            label.setMinimumWidth(label.sizeHint().width())    # (measured again in this font)
        self.set_warning(self.warning_text)


def _tip(widget: QtWidgets.QWidget, text: str) -> None:
    """Set a tooltip only when it changes (every result while a run trains sets them all)."""
    if widget.toolTip() != text:
        widget.setToolTip(text)
