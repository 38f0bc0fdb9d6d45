"""Typing one weight: the parser of a typed value, the inline entry box, and how entries and
the heatmap's cell centres are named (1-based, as the user reads them)."""
from __future__ import annotations

import math

from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.ui.docks.parameter_fields import message_label


def parse_weight(text: str) -> tuple[float | None, str | None]:
    """Read a typed weight: (value, None) or (None, a message saying what is wrong)."""
    cleaned = text.strip().replace("−", "-").replace(",", ".")
    if not cleaned:
        return None, "Type a number, e.g. 0.5 or -1.2e-3."
    try:
        value = float(cleaned)
    except ValueError:
        return None, f"'{text.strip()}' is not a number; type e.g. 0.5 or -1.2e-3."
    if not math.isfinite(value):
        return None, f"'{text.strip()}' is not a finite number; weights must be finite."
    return value, None


def centre_ticks(n: int, max_labels: int = 12) -> list[tuple[float, str]]:
    """Axis ticks at the centres of cells 0..n-1, labelled 1..n, at most about max_labels."""
    step = max(1, math.ceil(n / max_labels))
    if step > 1:
        step = next(s for s in (2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000) if s >= step)
    return [(k + 0.5, str(k + 1)) for k in range(0, n, step)]


def entry_name(name: str, i: int, j: int) -> str:
    """How an entry is written for the user: 1-based row and column."""
    return f"{name}[{i + 1}, {j + 1}]"


class EntryEditor(QtWidgets.QFrame):
    """A small inline box to type one entry's new value (Enter applies, Esc cancels)."""

    def __init__(self, parent, commit):
        super().__init__(parent)
        self.setObjectName("entry_editor")
        self.setFrameShape(QtWidgets.QFrame.StyledPanel)
        self.setAutoFillBackground(True)
        self.commit = commit
        self.target = None
        layout = QtWidgets.QVBoxLayout(self)
        row = QtWidgets.QHBoxLayout()
        self.label = QtWidgets.QLabel()
        self.line = QtWidgets.QLineEdit()
        self.line.setObjectName("entry_value")
        self.line.setMinimumWidth(110)
        self.line.setToolTip("Type the new value and press Enter (Esc cancels); it must be a "
                             "finite number.")
        self.line.returnPressed.connect(self._apply)
        row.addWidget(self.label)
        row.addWidget(self.line)
        layout.addLayout(row)
        self.message = message_label("entry_message")
        layout.addWidget(self.message)
        QtGui.QShortcut(QtGui.QKeySequence(QtCore.Qt.Key_Escape), self, self.hide)
        self.hide()

    def open_at(self, name: str, i: int, j: int, value: float, pos: QtCore.QPoint) -> None:
        """Show the box near pos for entry (i, j), holding its current value, selected."""
        self.target = (name, i, j)
        self.label.setText(f"{entry_name(name, i, j)} =")
        self.line.setText(f"{value:.6g}")
        self.message.hide()
        self.adjustSize()
        area = self.parentWidget().rect()
        x = min(max(0, pos.x()), max(0, area.width() - self.width()))
        y = min(max(0, pos.y()), max(0, area.height() - self.height()))
        self.move(x, y)
        self.show()
        self.raise_()
        self.line.setFocus()
        self.line.selectAll()

    def _apply(self) -> None:
        message = self.commit(*self.target, self.line.text())
        if message:
            self.message.setText(message)
            self.message.show()
            self.adjustSize()
        else:
            self.hide()
