"""Field bindings for the parameter dock: one Qt editor per Config field, both directions."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6 import QtCore, QtWidgets

ERROR_COLOUR = "#c0392b"
INVALID_STYLE = "background-color: #fde0dd; color: #7b1d12;"


def message_label(name: str, bold: bool = False) -> QtWidgets.QLabel:
    """A hidden, word-wrapped red line for what went wrong (shown with its text)."""
    label = QtWidgets.QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {ERROR_COLOUR};" + (" font-weight: bold;" if bold else ""))
    label.hide()
    return label


def _set_silently(widget: QtCore.QObject, setter: Callable[[], None]) -> None:
    """Run a setter with the widget's signals blocked (the echo back from the session)."""
    blocker = QtCore.QSignalBlocker(widget)
    try:
        setter()
    finally:
        del blocker


class FieldBinding(QtCore.QObject):
    """One Config field: a label, an editor widget and an error message shown under it."""

    def __init__(self, field: str, label: str, tip: str, editor: QtWidgets.QWidget,
                 on_edit: Callable[[str, Any], None]):
        super().__init__(editor)
        self.field = field
        self.editor = editor
        self.on_edit = on_edit
        self.label = QtWidgets.QLabel(label)
        self.label.setToolTip(tip)
        editor.setToolTip(tip)
        editor.setObjectName(f"edit_{field}")
        self.error = message_label(f"error_{field}")
        self.error.setTextFormat(QtCore.Qt.RichText)
        self.invalid = False
        self.guard_wheel(editor)

    def guard_wheel(self, widget: QtWidgets.QWidget) -> None:
        """Let the mouse wheel scroll the dock unless the control has keyboard focus."""
        widget.setFocusPolicy(QtCore.Qt.StrongFocus)
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QtCore.QEvent.Wheel and not obj.hasFocus():
            event.ignore()              # passes on to the scroll area
            return True
        return False

    def add_to(self, grid: QtWidgets.QGridLayout) -> None:
        """Append this field (editor row + error row) to a two-column grid."""
        row = grid.rowCount()
        grid.addWidget(self.label, row, 0)
        grid.addWidget(self.editor, row, 1)
        grid.addWidget(self.error, row + 1, 0, 1, 2)

    def emit(self, value: Any) -> None:
        """Forward a user edit to the dock."""
        self.on_edit(self.field, value)

    def show_problem(self, message: str) -> None:
        """Show a red message under the control and mark the control invalid."""
        self.error.setText(f"⚠ {message}  <a href='revert'>revert</a>")
        self.error.show()

    def mark_invalid(self, invalid: bool) -> None:
        """Visibly mark the control's (unapplied) value as invalid, or clear the mark."""
        self.invalid = invalid
        self.editor.setStyleSheet(INVALID_STYLE if invalid else "")

    def clear_problem(self) -> None:
        """Hide the message and the invalid mark."""
        self.error.clear()
        self.error.hide()
        self.mark_invalid(False)

    def value(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def set_value(self, value: Any) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class IntField(FieldBinding):
    """An integer field as a spin box (applied on Enter, focus loss or the arrows)."""

    def __init__(self, field, label, tip, limits, on_edit):
        spin = QtWidgets.QSpinBox()
        spin.setRange(int(limits[0]), int(limits[1]))
        spin.setKeyboardTracking(False)
        spin.setAccelerated(True)
        super().__init__(field, label, tip, spin, on_edit)
        spin.valueChanged.connect(self.emit)

    def value(self) -> int:
        return self.editor.value()

    def set_value(self, value) -> None:
        _set_silently(self.editor, lambda: self.editor.setValue(int(value)))


class FloatField(FieldBinding):
    """A real-valued field as a spin box."""

    def __init__(self, field, label, tip, limits, on_edit, decimals=3, step=0.05):
        spin = QtWidgets.QDoubleSpinBox()
        spin.setDecimals(decimals)
        spin.setRange(float(limits[0]), float(limits[1]))
        spin.setSingleStep(step)
        spin.setKeyboardTracking(False)
        super().__init__(field, label, tip, spin, on_edit)
        spin.valueChanged.connect(self.emit)

    def value(self) -> float:
        return self.editor.value()

    def set_value(self, value) -> None:
        _set_silently(self.editor, lambda: self.editor.setValue(float(value)))


class ChoiceField(FieldBinding):
    """A field with a fixed set of string values as a combo box."""

    def __init__(self, field, label, tip, choices, on_edit, names=None):
        combo = QtWidgets.QComboBox()
        combo.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(11)      # the longest short name shows whole
        for choice in choices:
            combo.addItem((names or {}).get(choice, choice), choice)
        super().__init__(field, label, tip, combo, on_edit)
        combo.currentIndexChanged.connect(lambda _i: self.emit(combo.currentData()))

    def value(self) -> str:
        return self.editor.currentData()

    def set_value(self, value) -> None:
        index = self.editor.findData(value)
        if index >= 0:
            _set_silently(self.editor, lambda: self.editor.setCurrentIndex(index))


class TextField(FieldBinding):
    """A free-text field as a line edit (applied when editing is finished)."""

    def __init__(self, field, label, tip, on_edit, max_length=None):
        edit = QtWidgets.QLineEdit()
        if max_length:
            edit.setMaxLength(int(max_length))
        super().__init__(field, label, tip, edit, on_edit)
        self._last = None
        edit.editingFinished.connect(self._finished)

    def _finished(self) -> None:
        text = self.editor.text()
        if text != self._last:
            self._last = text
            self.emit(text)

    def value(self) -> str:
        return self.editor.text()

    def set_value(self, value) -> None:
        self._last = str(value)
        _set_silently(self.editor, lambda: self.editor.setText(str(value)))


class SliderField(FieldBinding):
    """A real field as a slider plus spin box; every movement is an edit (live while dragging)."""

    STEPS = 1000

    def __init__(self, field, label, tip, limits, on_edit, decimals=3):
        self.lo, self.hi = float(limits[0]), float(limits[1])
        self.slider = QtWidgets.QSlider(QtCore.Qt.Horizontal)
        self.slider.setRange(0, self.STEPS)
        self.slider.setPageStep(self.STEPS // 20)
        self.slider.setObjectName(f"slider_{field}")
        self.spin = QtWidgets.QDoubleSpinBox()
        self.spin.setDecimals(decimals)
        self.spin.setRange(self.lo, self.hi)
        self.spin.setSingleStep(0.01)
        super().__init__(field, label, tip, self.spin, on_edit)
        self.guard_wheel(self.slider)
        self.slider.setToolTip(tip)
        self.slider.valueChanged.connect(self._slid)
        self.spin.valueChanged.connect(self._typed)

    def _to_tick(self, value: float) -> int:
        return round((value - self.lo) / (self.hi - self.lo) * self.STEPS)

    def _slid(self, tick: int) -> None:
        value = round(self.lo + (self.hi - self.lo) * tick / self.STEPS, self.spin.decimals())
        _set_silently(self.spin, lambda: self.spin.setValue(value))
        self.emit(value)

    def _typed(self, value: float) -> None:
        _set_silently(self.slider, lambda: self.slider.setValue(self._to_tick(value)))
        self.emit(value)

    def add_to(self, grid: QtWidgets.QGridLayout) -> None:
        """Label and spin box on one row, the slider across the full width under them."""
        row = grid.rowCount()
        grid.addWidget(self.label, row, 0)
        grid.addWidget(self.spin, row, 1)
        grid.addWidget(self.slider, row + 1, 0, 1, 2)
        grid.addWidget(self.error, row + 2, 0, 1, 2)

    def value(self) -> float:
        return self.spin.value()

    def set_value(self, value) -> None:
        _set_silently(self.spin, lambda: self.spin.setValue(float(value)))
        _set_silently(self.slider, lambda: self.slider.setValue(self._to_tick(float(value))))
