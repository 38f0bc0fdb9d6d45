"""A slider on a log scale with a number box beside it (learning rate, temperature)."""
from __future__ import annotations

import math

from PySide6 import QtCore, QtWidgets


class LogSlider(QtWidgets.QWidget):
    """A horizontal slider over [lo, hi] on a log scale and a box to type the number exactly.

    `edited(value)` fires for every slider movement and for a typed number (a typed text that
    is not a number goes out as `typed_text(text)` for the owner to refuse with a message)."""

    edited = QtCore.Signal(float)
    typed_text = QtCore.Signal(str)
    STEPS = 1000

    def __init__(self, lo: float, hi: float, name: str, tip: str, parent=None,
                 digits: int = 3):
        super().__init__(parent)
        if not 0 < lo < hi:
            raise ValueError(f"a log slider needs 0 < lo < hi, not {lo}, {hi}")
        self.lo, self.hi, self.digits = float(lo), float(hi), digits
        self.slider = QtWidgets.QSlider(QtCore.Qt.Horizontal)
        self.slider.setRange(0, self.STEPS)
        self.slider.setPageStep(self.STEPS // 20)
        self.slider.setObjectName(f"slider_{name}")
        self.box = QtWidgets.QLineEdit()
        self.box.setObjectName(f"edit_{name}")
        self.box.setMaximumWidth(self.box.fontMetrics().horizontalAdvance("0.000000") + 16)
        for w in (self, self.slider, self.box):
            w.setToolTip(tip)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.slider, 1)
        row.addWidget(self.box)
        self.value = self.lo
        self.slider.valueChanged.connect(self._slid)
        self.box.editingFinished.connect(self._typed)

    def to_tick(self, value: float) -> int:
        v = min(max(value, self.lo), self.hi)
        return round(math.log(v / self.lo) / math.log(self.hi / self.lo) * self.STEPS)

    def from_tick(self, tick: int) -> float:
        value = self.lo * (self.hi / self.lo) ** (tick / self.STEPS)
        return float(f"{value:.{self.digits}g}")          # round numbers on the slider

    def _slid(self, tick: int) -> None:
        value = self.from_tick(tick)
        self.value = value
        self._show_text(value)
        self.edited.emit(value)

    def _typed(self) -> None:
        text = self.box.text().strip()
        try:
            value = float(text.replace("−", "-"))
        except ValueError:
            self.typed_text.emit(text)
            return
        if value == self.value:
            return
        if not (math.isfinite(value) and self.lo <= value <= self.hi):
            self.typed_text.emit(text)
            return
        self.value = value
        blocker = QtCore.QSignalBlocker(self.slider)
        self.slider.setValue(self.to_tick(value))
        del blocker
        self.edited.emit(value)

    def _show_text(self, value: float) -> None:
        self.box.setText(f"{value:.4g}")

    def set_value(self, value: float) -> None:
        """Show a value (no signal)."""
        self.value = float(value)
        blocker = QtCore.QSignalBlocker(self.slider)
        self.slider.setValue(self.to_tick(self.value))
        del blocker
        self._show_text(self.value)
