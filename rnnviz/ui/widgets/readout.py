"""One line of text under a plot (or in the status bar) that never runs past its edge."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets


class Readout(QtWidgets.QLabel):
    """One line under a plot that never runs past its edge: the full text when it fits, else the
    first shorter form that fits, else the shortest cut with '…'. The full text is always the
    tooltip.
    `shown` is emitted when it is given a text that is not blank."""

    shown = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(" ", parent)
        self.setObjectName("readout")
        self.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.setSizePolicy(QtWidgets.QSizePolicy.Ignored, QtWidgets.QSizePolicy.Fixed)
        self.full, self.shorter = " ", ()

    def show_text(self, full: str, *shorter: str | None) -> None:
        """Show full, or where it does not fit the first of the shorter forms that does."""
        shorter = tuple(text for text in shorter if text)
        if (full, shorter) != (self.full, self.shorter):
            self.full, self.shorter = full, shorter
            self.setToolTip(full)
            self._fit()
        if full.strip():
            self.shown.emit()

    def _fit(self) -> None:
        metrics, room = self.fontMetrics(), max(self.contentsRect().width() - 2, 0)
        text = self.full
        for shorter in self.shorter:
            if metrics.horizontalAdvance(text) <= room:
                break
            text = shorter
        if metrics.horizontalAdvance(text) > room:
            text = metrics.elidedText(text, QtCore.Qt.ElideRight, room)
        if text != self.text():
            self.setText(text)

    def fits(self) -> bool:
        """The shown text fits the label's width (what tests check)."""
        return self.fontMetrics().horizontalAdvance(self.text()) <= self.contentsRect().width()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.FontChange:
            self._fit()
