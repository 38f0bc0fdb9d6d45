"""The Training dock's editors that follow the task and the optimiser: one typed editor per task
option (limits from the engine's TaskSpec), the text task's text (typed or opened from a .txt
file), one editor per hyper-parameter of the optimiser (torch's defaults shown)."""
from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.state import files, training_form
from rnnviz.state.training_form import TASKS


def silently(widget, setter) -> None:
    """Run a setter with the widget's signals blocked (the echo of the session's value)."""
    blocker = QtCore.QSignalBlocker(widget)
    try:
        setter()
    finally:
        del blocker


def big_button(action: QtGui.QAction, name: str) -> QtWidgets.QToolButton:
    """A tool button showing an action (text beside its icon), the width it is given."""
    button = QtWidgets.QToolButton()
    button.setDefaultAction(action)
    button.setObjectName(name)
    button.setToolButtonStyle(QtCore.Qt.ToolButtonTextBesideIcon)
    button.setSizePolicy(QtWidgets.QSizePolicy.Expanding, QtWidgets.QSizePolicy.Fixed)
    return button


class TrainingEditors:
    """Mixin of TrainingDock (which provides session, edit() and _refused())."""

    def _clear(self, grid: QtWidgets.QGridLayout, editors: dict) -> None:
        while grid.count():
            item = grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        editors.clear()

    def _build_options(self, task: str | None) -> None:
        self._clear(self.options_grid, self.option_editors)
        self._options_for = task
        if task is None:
            return
        for row, option in enumerate(TASKS[task].options):
            label = QtWidgets.QLabel(option.name)
            label.setToolTip(option.help)
            if option.kind == "text":
                editor = self._text_editor()
                self.options_grid.addWidget(label, row * 2, 0, 1, 2)
                self.options_grid.addWidget(editor, row * 2 + 1, 0, 1, 2)
            else:
                editor = QtWidgets.QSpinBox()
                editor.setRange(option.minimum if option.minimum is not None else 0,
                                option.maximum if option.maximum is not None else 10**6)
                editor.setKeyboardTracking(False)
                limits = f"from {option.minimum}" + (f" to {option.maximum}" if option.maximum
                                                     is not None else "")
                editor.setToolTip(f"{option.help} ({limits})")
                editor.valueChanged.connect(lambda v, n=option.name: self._option_edited(n, int(v)))
                self.options_grid.addWidget(label, row * 2, 0)
                self.options_grid.addWidget(editor, row * 2, 1)
            editor.setObjectName(f"option_{option.name}")
            self.option_editors[option.name] = editor

    def _text_editor(self) -> QtWidgets.QWidget:
        box = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        self.text_edit = QtWidgets.QPlainTextEdit()
        self.text_edit.setObjectName("task_text")
        self.text_edit.setMaximumHeight(120)
        self.text_edit.setToolTip("The text the network learns to continue, one character at a "
                                  "time (its alphabet sets n_x = n_y). Press “Use this text”.")
        column.addWidget(self.text_edit)
        row = QtWidgets.QHBoxLayout()
        use = QtWidgets.QPushButton("Use this text")
        use.setObjectName("use_text")
        use.clicked.connect(lambda: self.use_text(self.text_edit.toPlainText()))
        open_button = QtWidgets.QPushButton("Open .txt…")
        open_button.setObjectName("open_text")
        open_button.setToolTip(f"Read a UTF-8 text file of at most "
                               f"{training_form.MAX_TEXT_CHARS:,} characters")
        open_button.clicked.connect(self.open_text)
        row.addWidget(use)
        row.addWidget(open_button)
        column.addLayout(row)
        return box

    def _build_hypers(self, optimizer: str) -> None:
        self._clear(self.hyper_grid, self.hyper_editors)
        self._hypers_for = optimizer
        for row, hyper in enumerate(training_form.hyperparameters(optimizer)):
            label = QtWidgets.QLabel(hyper.name)
            label.setToolTip(hyper.help)
            if hyper.kind == "bool":
                editor = QtWidgets.QCheckBox()
                editor.toggled.connect(lambda on, n=hyper.name: self._hyper_edited(n, bool(on)))
            else:
                editor = QtWidgets.QLineEdit()
                editor.editingFinished.connect(lambda n=hyper.name, e=editor, k=hyper.kind:
                                               self._hyper_typed(n, k, e.text()))
            default = ", ".join(map(str, hyper.default)) if hyper.kind == "pair" else hyper.default
            editor.setToolTip(f"{hyper.help} (torch's default: {default})")
            editor.setObjectName(f"hyper_{hyper.name}")
            self.hyper_grid.addWidget(label, row, 0)
            self.hyper_grid.addWidget(editor, row, 1)
            self.hyper_editors[hyper.name] = editor

    def _option_edited(self, name: str, value) -> None:
        training = self.session.training
        if training is None or self._syncing:
            return
        options = dict(training.task_options)
        options[name] = value
        self.edit(task_options=options)

    def use_text(self, text: str) -> list:
        """Train the text task on `text` (the window length shrinks to fit a short text)."""
        training = self.session.training
        options = dict(training.task_options) if training is not None and \
            training.task == "text" else {}
        options["text"] = text
        T = options.get("T", TASKS["text"].options[1].default)
        if len(text) >= 2:
            options["T"] = min(T, len(text) - 1)
        if len(text) > training_form.MAX_TEXT_CHARS:
            return self._refused(f"the text holds {len(text):,} characters; at most "
                                 f"{training_form.MAX_TEXT_CHARS:,}")
        return self.edit(task="text", task_options=options)

    def open_text(self) -> None:
        """Open .txt…: read a text file for the text task."""
        name, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open a text for the text task",
                                                        "", "Text files (*.txt);;All files (*)")
        if name:
            self.open_text_file(name)

    def open_text_file(self, path) -> list:
        """Use a text file's content (a message when it cannot be read)."""
        try:
            text = training_form.read_text_file(path)
        except files.FileError as exc:
            return self._refused(f"cannot use {Path(path).name[:60]}: {exc}")
        return self.use_text(text)

    def _hyper_edited(self, name: str, value) -> None:
        training = self.session.training
        if training is None or self._syncing:
            return
        options = dict(training.optimizer_options)
        options[name] = value
        self.edit(optimizer_options=options)

    def _hyper_typed(self, name: str, kind: str, text: str) -> None:
        if self._syncing or self.session.training is None:
            return
        try:
            value = training_form.parse_pair(text, name) if kind == "pair" else \
                training_form.parse_number(text, name)
        except ValueError as exc:
            self._refused(str(exc))
            return
        if training_form.hyper_values(self.session.training)[name] == value:
            return
        self._hyper_edited(name, value)
