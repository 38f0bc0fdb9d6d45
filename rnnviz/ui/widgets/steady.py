"""A label whose new text lays the window out again only when it needs a different size.

QLabel.setText always calls updateGeometry(), and each layout that activates asks its own
parent to lay out again ("ideally only if sizeHint() has changed", says Qt's source): a
number in a plot's readout or in the status bar, changed 25 times a second while a run
trains, re-laid out the main window, its docks, splitters and tabs at every change (counted:
~70 layout requests a second reached the main window). Held in a SteadyBox, the label's
request stops there unless its size hints (or its minimum and maximum) have changed.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets


class SteadyBox(QtWidgets.QWidget):
    """Holds one label at its own size; stands in for it in its parent's layout.

    The label fills the box. The box takes the label's size policy, minimum and maximum and
    answers with its size hints; it is shown and hidden with the label (label.setVisible(...)
    works as before). grow_only: the hints are the largest the label has asked for (a number
    whose width goes up and down by a digit keeps its room: the layout stays put)."""

    def __init__(self, label: QtWidgets.QLabel, parent=None, grow_only: bool = False):
        super().__init__(parent)
        self.label, self._hints, self.grow_only = label, None, grow_only
        self._peak = (QtCore.QSize(0, 0), QtCore.QSize(0, 0))     # (hint, minimum hint)
        self.setObjectName(f"{label.objectName() or 'label'}_box")
        hidden = label.isHidden() and label.testAttribute(QtCore.Qt.WA_WState_ExplicitShowHide)
        label.setParent(self)
        label.setVisible(not hidden)
        self.setVisible(not hidden)
        self._follow()
        label.installEventFilter(self)

    def _measure(self) -> tuple:
        """What the parent's layout reads of the label: its policy, minimum and maximum, and its
        hints in the directions where these leave it free (an Ignored direction, or a fixed
        one, reads no hint: a readout's new text then costs no text layout here)."""
        label = self.label
        policy, low, high = label.sizePolicy(), label.minimumSize(), label.maximumSize()
        ignored = QtWidgets.QSizePolicy.Ignored
        free = (policy.horizontalPolicy() != ignored and low.width() != high.width(),
                policy.verticalPolicy() != ignored and low.height() != high.height())
        if not any(free):
            return (policy, low, high)

        def read(size: QtCore.QSize) -> tuple[int, int]:
            return (size.width() if free[0] else 0, size.height() if free[1] else 0)
        height = label.heightForWidth(self.width()) if free[1] and label.hasHeightForWidth() else -1
        return (policy, low, high, read(self.sizeHint()), read(self.minimumSizeHint()), height)

    def _follow(self) -> bool:
        """Take the label's constraints; whether any changed (then the parent lays out again)."""
        if self.parentWidget() is None:        # (a window's minimum goes to the platform)
            return False
        hints = self._measure()
        if hints == self._hints:
            return False
        self._hints = hints
        label = self.label
        if self.sizePolicy() != label.sizePolicy():
            self.setSizePolicy(label.sizePolicy())
        if self.minimumSize() != label.minimumSize():
            self.setMinimumSize(label.minimumSize())
        if self.maximumSize() != label.maximumSize():
            self.setMaximumSize(label.maximumSize())
        return True

    def sizeHint(self) -> QtCore.QSize:
        if not self.grow_only:
            return self.label.sizeHint()
        hint = self.label.sizeHint().expandedTo(self._peak[0])
        self._peak = (hint, self._peak[1])
        return hint

    def minimumSizeHint(self) -> QtCore.QSize:
        if not self.grow_only:
            return self.label.minimumSizeHint()
        hint = self.label.minimumSizeHint().expandedTo(self._peak[1])
        self._peak = (self._peak[0], hint)
        return hint

    def hasHeightForWidth(self) -> bool:
        return self.label.hasHeightForWidth()

    def heightForWidth(self, width: int) -> int:
        return self.label.heightForWidth(width)

    def event(self, event) -> bool:
        kind = event.type()
        if kind == QtCore.QEvent.LayoutRequest:   # posted by the label's updateGeometry
            if self._follow():
                self.updateGeometry()
            return True
        if kind == QtCore.QEvent.ParentChange:    # (added to its layout)
            self._follow()
        return super().event(event)

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if obj is self.label:
            if kind == QtCore.QEvent.FontChange:        # (presentation mode and back: its
                self._peak = (QtCore.QSize(0, 0), QtCore.QSize(0, 0))   # room starts anew)
            if kind == QtCore.QEvent.ShowToParent and self.isHidden():
                self.show()
            elif kind == QtCore.QEvent.HideToParent and not self.isHidden():
                self.hide()
        return False

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.label.setGeometry(self.rect())
        if self._follow():                     # (a wrapped label's height follows its width)
            self.updateGeometry()


def steady(label: QtWidgets.QLabel, grow_only: bool = False) -> SteadyBox:
    """The label in a SteadyBox: add the box to the layout where the label would go."""
    return SteadyBox(label, grow_only=grow_only)
