"""The flow plot's legend as a column beside the plot, for a short, wide panel.

A legend above the plot costs a row of height per two or three entries: an LSTM's seven
entries take three rows, and at 1280 x 800 that left the plot ~40 px. Beside the plot the same
entries cost width instead, which such a panel has. The entries are the pyqtgraph legend's
(FlowView keeps that one as the source of names); this widget draws each curve's own pen.
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

SAMPLE = 26      # px of line sample per entry
GAP = 6          # px between the sample and its text
PAD = 6          # px around the entries


class SideLegend(QtWidgets.QWidget):
    """Entries (pen, text), one per line, painted in the plot's colours."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.entries: list[tuple[QtGui.QPen, str]] = []
        self._font = QtGui.QFont()
        self._foreground = QtGui.QColor("#222222")
        self._background = QtGui.QColor("#ffffff")
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed,
                           QtWidgets.QSizePolicy.Policy.Preferred)

    def set_entries(self, entries, font: QtGui.QFont, foreground: str, background: str) -> None:
        """Show these (pen, text) entries, in this font and these colours."""
        entries = [(QtGui.QPen(pen), str(text)) for pen, text in entries]
        same = ([(p.color().name(), p.style(), p.widthF(), t) for p, t in entries]
                == [(p.color().name(), p.style(), p.widthF(), t) for p, t in self.entries])
        if same and font == self._font and QtGui.QColor(foreground) == self._foreground \
                and QtGui.QColor(background) == self._background:
            return
        self.entries = entries
        self._font = QtGui.QFont(font)
        self._foreground, self._background = QtGui.QColor(foreground), QtGui.QColor(background)
        self.updateGeometry()
        self.update()

    def texts(self) -> list[str]:
        """The entries' texts, top to bottom."""
        return [text for _, text in self.entries]

    def _line_height(self) -> int:
        return QtGui.QFontMetrics(self._font).height() + 2

    def width_needed(self) -> int:
        """The width that shows every entry whole."""
        metrics = QtGui.QFontMetrics(self._font)
        widest = max((metrics.horizontalAdvance(text) for _, text in self.entries), default=0)
        return 2 * PAD + SAMPLE + GAP + widest + 2

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(self.width_needed(), 2 * PAD + len(self.entries) * self._line_height())

    def minimumSizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(self.width_needed(), 0)

    def paintEvent(self, event) -> None:
        painter = QtGui.QPainter(self)
        painter.fillRect(self.rect(), self._background)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setFont(self._font)
        line = self._line_height()
        top = max(PAD, (self.height() - len(self.entries) * line) // 2)   # centred on the plot
        for row, (pen, text) in enumerate(self.entries):
            y = top + row * line + line / 2
            painter.setPen(pen)
            painter.drawLine(QtCore.QPointF(PAD, y), QtCore.QPointF(PAD + SAMPLE, y))
            painter.setPen(self._foreground)
            painter.drawText(QtCore.QRectF(PAD + SAMPLE + GAP, top + row * line,
                                           self.width() - PAD - SAMPLE - GAP, line),
                             QtCore.Qt.AlignmentFlag.AlignVCenter | QtCore.Qt.AlignmentFlag.AlignLeft,
                             text)
        painter.end()
