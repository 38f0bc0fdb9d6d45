"""The parameter dock: grouped editors for every Config field, a preset chooser, seed and reset."""
from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.state import config as cfg
from rnnviz.state import presets, schema
from rnnviz.ui.docks.parameter_fields import (
    ChoiceField,
    FieldBinding,
    FloatField,
    IntField,
    SliderField,
    TextField,
)
from rnnviz.ui.widgets.steady import steady

GROUPS = schema.GROUPS
NO_PRESET = "Custom set-up"
NOTE_COLOUR = "#9a5b00"


def preset_modified(session, preset) -> bool:
    """Whether the session differs from the preset it came from (settings or hand edits)."""
    return session.config != preset.config or bool(session.edited)


def _problems_for(config, changes: dict) -> list:
    """Validate changes against a config without applying them."""
    return list(cfg.replace(config, **changes)[1])


class ParameterDock(QtWidgets.QDockWidget):
    """Dock holding every parameter editor; writes only through the Session, follows its events."""

    def __init__(self, session, parent=None):
        super().__init__("Parameters", parent)
        self.setObjectName("editors")
        self.setFeatures(QtWidgets.QDockWidget.DockWidgetClosable
                         | QtWidgets.QDockWidget.DockWidgetMovable
                         | QtWidgets.QDockWidget.DockWidgetFloatable)
        self.setToolTip("Every setting of the network: s_t = f(U x_t + W s_{t−1} + b_a), "
                        "y_t = softmax(V s_t + b_y).")
        self.session = session
        self.fields: dict[str, FieldBinding] = {}
        self._pending: dict[str, Any] = {}    # user values the session refused (shown invalid)
        self._applying = False

        body = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(body)
        column.setContentsMargins(4, 4, 4, 4)
        column.addLayout(self._build_preset_row())
        for title, names in GROUPS:
            column.addWidget(self._build_group(title, names))
        self._build_actions(column)
        column.addStretch(1)
        label_width = max(b.label.sizeHint().width() for b in self.fields.values())
        for binding in self.fields.values():
            binding.label.setMinimumWidth(label_width)

        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self.setWidget(scroll)
        # As narrow as the controls allow, so the plots keep the room at 1280 x 800.
        scroll.setMinimumWidth(body.minimumSizeHint().width()
                               + scroll.verticalScrollBar().sizeHint().width() + 4)

        self._sync_all()
        self.update_radius_note()
        unsubscribe = session.events.subscribe(self._on_event)
        self.destroyed.connect(lambda *_: unsubscribe())

    # ----- construction -------------------------------------------------------------------
    def _build_preset_row(self) -> QtWidgets.QLayout:
        row = QtWidgets.QHBoxLayout()
        label = QtWidgets.QLabel("Preset")
        self.preset_combo = QtWidgets.QComboBox()
        self.preset_combo.setObjectName("preset_combo")
        self.preset_combo.setSizeAdjustPolicy(
            QtWidgets.QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.preset_combo.setMinimumContentsLength(16)   # long titles must not widen the dock
        self.preset_combo.addItem(NO_PRESET, None)
        for preset in presets.list_presets():
            self.preset_combo.addItem(preset.title, preset.name)
            index = self.preset_combo.count() - 1
            self.preset_combo.setItemData(index, preset.summary, QtCore.Qt.ToolTipRole)
        tip = ("Ready-made scenarios for a lecture (vanishing and exploding gradients, the edge "
               "of chaos, IRNN...). Choosing one replaces every setting below.")
        label.setToolTip(tip)
        self.preset_combo.setToolTip(tip)
        self.preset_combo.currentIndexChanged.connect(self._preset_chosen)
        self.preset_combo.activated.connect(self._preset_chosen)   # re-choosing reloads it
        row.addWidget(label)
        row.addWidget(self.preset_combo, 1)
        return row

    def _build_group(self, title: str, names) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox(title)
        grid = QtWidgets.QGridLayout(box)
        grid.setContentsMargins(6, 6, 6, 6)
        grid.setColumnStretch(1, 1)
        for name in names:
            binding = self._make_field(name)
            binding.add_to(grid)
            binding.error.linkActivated.connect(lambda _link, n=name: self.revert(n))
            self.fields[name] = binding
            if name == "spectral_radius":      # says when W no longer has this radius
                self.radius_note = QtWidgets.QLabel()
                self.radius_note.setObjectName("radius_note")
                self.radius_note.setWordWrap(True)
                self.radius_note.setStyleSheet(f"color: {NOTE_COLOUR};")
                self.radius_note.hide()
                grid.addWidget(steady(self.radius_note), grid.rowCount(), 0, 1, 2)
            if name == "seed":
                self.redraw_button = QtWidgets.QPushButton("Re-draw")
                self.redraw_button.setObjectName("redraw_seed")
                self.redraw_button.setToolTip("Pick a new random seed and draw new weights, "
                                              "inputs and targets with it.")
                self.redraw_button.clicked.connect(lambda: self.session.redraw_seed())
                grid.addWidget(self.redraw_button, grid.rowCount(), 1)
        return box

    def _make_field(self, name: str) -> FieldBinding:
        field = schema.FIELDS[name]
        label, tip = field.label, field.help
        if field.kind == "choice":
            return ChoiceField(name, label, tip, field.options, self._edit, field.option_names)
        if field.kind == "text":
            return TextField(name, label, tip, self._edit, int(field.limits[1]))
        if field.widget == "slider":
            return SliderField(name, label, tip, field.limits, self._edit)
        if field.kind == "int":
            return IntField(name, label, tip, field.limits, self._edit)
        return FloatField(name, label, tip, field.limits, self._edit)

    def _build_actions(self, column: QtWidgets.QVBoxLayout) -> None:
        self.reset_weights_action = QtGui.QAction("Reset weights to initialisation", self)
        self.reset_weights_action.setToolTip(
            "Throw away hand-edited weights and draw U, W, V, b_a, b_y again from the current "
            "settings and seed.")
        self.reset_weights_action.triggered.connect(lambda: self.session.reinitialise())
        self.reset_button = QtWidgets.QPushButton(self.reset_weights_action.text())
        self.reset_button.setObjectName("reset_weights")
        self.reset_button.setToolTip(self.reset_weights_action.toolTip())
        self.reset_button.clicked.connect(self.reset_weights_action.trigger)
        column.addWidget(self.reset_button)

    # ----- user edits ---------------------------------------------------------------------
    def _edit(self, field: str, value: Any) -> None:
        """Apply one edit (together with earlier refused edits, which may now fit)."""
        changes = dict(self._pending)
        changes[field] = value
        self._applying = True
        try:
            problems = self.session.apply(**changes)
            if problems and len(changes) > 1 and not self.session.apply(**{field: value}):
                # The new edit fits on its own; the earlier refused ones stay pending.
                self._pending.pop(field, None)
                problems = _problems_for(self.session.config, self._pending)
                if not problems:        # cannot happen unless validation is path dependent
                    self._pending.clear()
            elif problems:
                self._pending[field] = value
            else:
                self._pending.clear()
        finally:
            self._applying = False
        self._show_problems(problems, edited=field)
        self._sync_all()

    def revert(self, field: str) -> None:
        """Drop a refused value and show the session's value again."""
        self._pending.pop(field, None)
        problems = _problems_for(self.session.config, self._pending) if self._pending else []
        self._show_problems(problems, edited=None)
        self._sync_all()

    def _show_problems(self, problems, edited: str | None) -> None:
        for binding in self.fields.values():
            binding.clear_problem()
        placed = set()
        for problem in problems:
            binding = self.fields.get(problem.field)
            if binding is None:
                binding = self.fields.get(edited)
            if binding is not None:
                binding.show_problem(problem.message)
                placed.add(binding.field)
        if problems and edited in self.fields and edited not in placed:
            self.fields[edited].show_problem(problems[0].message)
        for name in self._pending:
            if name in self.fields:
                self.fields[name].mark_invalid(True)

    def _preset_chosen(self, index: int) -> None:
        """Load the chosen preset (again, if the user changed the set-up since)."""
        name = self.preset_combo.itemData(index)
        if name is None:
            return
        if name == self.session.preset_name and \
                not preset_modified(self.session, presets.get_preset(name)):
            return
        self.session.load_preset(name)

    # ----- session -> editors -------------------------------------------------------------
    def _on_event(self, name: str, *args, **payload) -> None:
        if name in ("params", "result", "config", "loaded"):
            # a trained W's ρ comes with its result: until then the note keeps the last one
            # (it vanished and came back at every followed iteration: the dock jumped by two lines)
            self.update_radius_note(keep_unmeasured=name == "params")
        if name not in ("config", "loaded") or self._applying:
            return
        # A change from elsewhere (preset, file, paste, re-draw): refused edits no longer apply.
        self._pending.clear()
        self._show_problems([], edited=None)
        self._sync_all()

    def _sync_all(self) -> None:
        """Show the session's config in every control that holds no refused user value."""
        config = self.session.config
        for name, binding in self.fields.items():
            if name not in self._pending:
                binding.set_value(getattr(config, name))
        self._update_enabled({**{n: getattr(config, n) for n in self.fields}, **self._pending})
        preset = self.session.preset_name
        index = max(0, self.preset_combo.findData(preset)) if preset else 0
        blocker = QtCore.QSignalBlocker(self.preset_combo)
        self.preset_combo.setCurrentIndex(index)
        del blocker

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.update_radius_note()

    def update_radius_note(self, keep_unmeasured: bool = False) -> None:
        """Under the ρ field: whether it still describes the W in use (a hand edit changes ρ).
        keep_unmeasured: leave the note as it is while ρ(W) is not measured yet and the W was
        not edited by hand."""
        if not self.isVisible():      # (behind the Training dock while a run trains: ρ(W)
            return                    # changes at every followed iteration; shown again,
                                      # showEvent brings the note up to date)
        note = self.session.radius_note() or None
        if note is None and keep_unmeasured and not self.session.radius_measured:
            return
        if note == (None if self.radius_note.isHidden() else self.radius_note.text()):
            return                    # (every result while training: nothing to lay out again)
        self.radius_note.setVisible(bool(note))
        self.radius_note.setText(note or "")
        field = self.fields["spectral_radius"]
        for widget in (field.spin, field.slider, field.label):
            widget.setToolTip(f"{note}\n\n{schema.FIELDS['spectral_radius'].help}" if note
                              else schema.FIELDS["spectral_radius"].help)

    def _update_enabled(self, values: dict) -> None:
        """Grey out the fields that do not matter for the current choices."""
        self.fields["sparse_k"].editor.setEnabled(values["init"] == "sparse")
        self.fields["copy_delay"].editor.setEnabled(values["target_pattern"] == "copy")
        self.fields["text"].editor.setEnabled(values["input_pattern"] == "text")
        vanilla = values["cell"] == "vanilla"
        # a gated cell's W stacks its gate blocks: no spectral-radius knob; it is always tanh
        for name, on in (("spectral_radius", vanilla), ("activation", vanilla),
                         ("forget_bias", values["cell"] == "lstm")):
            binding = self.fields[name]
            for widget in (binding.editor, getattr(binding, "slider", None)):
                if widget is not None:
                    widget.setEnabled(on)
