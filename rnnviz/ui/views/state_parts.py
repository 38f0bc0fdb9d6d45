"""Tabs on the state heatmap choosing which state part it shows: the LSTM's h (read out) and its
cell state c. Hidden for cells of one state part."""
from __future__ import annotations

from PySide6 import QtWidgets

from rnnviz.state import cell_display, cellinfo


class PartTabs:
    """A tab bar at the top left of a heatmap's canvas, one tab per state part of the cell."""

    def __init__(self, view):
        self.view = view
        self.bar = QtWidgets.QTabBar(view.graphics)
        self.bar.setObjectName("state_parts")
        self.bar.setDrawBase(False)
        self.bar.setExpanding(False)
        self.bar.currentChanged.connect(self._changed)
        self.part: str | None = None
        self._cell: str | None = None
        self.sync()

    def parts(self) -> tuple[str, ...]:
        return cell_display.state_parts(self.view.session.config.cell)

    def sync(self) -> None:
        """Tabs for the session's cell (after a cell change); the first part selected."""
        cell = self.view.session.config.cell
        if cell == self._cell:
            return
        self._cell = cell
        info = cellinfo.describe(cell)
        parts = self.parts()
        self.bar.blockSignals(True)
        while self.bar.count():
            self.bar.removeTab(0)
        for part in parts:
            index = self.bar.addTab(f"{info.parts.get(part, part)}_t")
            self.bar.setTabData(index, part)
            self.bar.setTabToolTip(index, info.part_titles.get(part, part))
        self.bar.blockSignals(False)
        self.part = parts[0]
        self.bar.setVisible(len(parts) > 1)
        self.view.graphics.setToolTip(cellinfo.state_tooltip(cell))
        self.place()

    def choose(self, part: str) -> None:
        """Show this state part (e.g. "c")."""
        for i in range(self.bar.count()):
            if self.bar.tabData(i) == part:
                self.bar.setCurrentIndex(i)
                self._changed(i)

    def _changed(self, index: int) -> None:
        part = self.bar.tabData(index)
        if part is not None and part != self.part:
            self.part = part
            self.view.schedule(result=True)

    def shown(self, result) -> str:
        """The part to draw for a result (its cell's first part if the choice is not one of its)."""
        parts = cell_display.state_parts(result.trace.cell)
        return self.part if self.part in parts else parts[0]

    def place(self) -> None:
        self.bar.adjustSize()
        self.bar.move(4, 2)
        self.bar.raise_()

    def width(self) -> int:
        """Room the tabs take at the top left (0 when hidden)."""
        return self.bar.width() + 8 if not self.bar.isHidden() else 0
