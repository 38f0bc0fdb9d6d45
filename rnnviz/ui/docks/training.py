"""The Training dock: Train/Pause, Step, Reset, the task and its options, the optimiser, the
learning rate, the batch, clipping and the seed; every edit goes through Workspace.set_training.

Edits made while a run trains reach its next iteration; a change of task (or of its options,
which decide the data) starts a new run. A refused value shows a red message naming what is
wrong and the control shows the set-up's value again: nothing changes.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from rnnviz.state import sampling, training_form
from rnnviz.state.training_form import TASKS
from rnnviz.ui.docks.parameter_fields import message_label
from rnnviz.ui.docks.training_editors import TrainingEditors, big_button, silently
from rnnviz.ui.widgets.log_slider import LogSlider
from rnnviz.ui.widgets.steady import steady

NO_TASK = "—  no training task  —"


class TrainingDock(TrainingEditors, QtWidgets.QDockWidget):
    """Every setting of the training run, and the buttons that run it (the controller's actions)."""

    def __init__(self, session, actions: dict, parent=None):
        super().__init__("Training", parent)
        self.setObjectName("training")
        self.setToolTip("Train the network on a task and watch it learn (or fail to).")
        self.session = session
        self._syncing = False
        self.option_editors: dict[str, QtWidgets.QWidget] = {}
        self.hyper_editors: dict[str, QtWidgets.QWidget] = {}

        body = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(body)
        column.setContentsMargins(4, 4, 4, 4)
        column.addLayout(self._build_buttons(actions))
        self.progress = QtWidgets.QLabel("not trained yet")
        self.progress.setObjectName("training_progress")
        self.progress.setToolTip("Iterations done (each one a fresh batch, BPTT, clipping and an "
                                 "optimiser step) and how many per second the worker trains")
        column.addWidget(steady(self.progress, grow_only=True))  # (the rate's digits come and go)
        self.stopped = message_label("training_stopped", bold=True)
        column.addWidget(self.stopped)
        self.error = message_label("training_error")
        column.addWidget(self.error)
        column.addWidget(self._build_task_group())
        column.addWidget(self._build_optimiser_group())
        column.addWidget(self._build_clip_group())
        column.addStretch(1)

        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self.setWidget(scroll)
        self.sync()
        unsubscribe = session.events.subscribe(self._on_event)
        self.destroyed.connect(lambda *_: unsubscribe())

    # ----- construction -------------------------------------------------------------------
    def _build_buttons(self, actions: dict) -> QtWidgets.QLayout:
        row = QtWidgets.QHBoxLayout()
        self.train_button = big_button(actions["train"], "train_button")
        font = self.train_button.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.train_button.setFont(font)
        self.train_button.setMinimumHeight(self.train_button.fontMetrics().height() * 2)
        self.step_button = big_button(actions["step"], "step_button")
        self.reset_button = big_button(actions["reset"], "reset_training_button")
        row.addWidget(self.train_button, 3)
        row.addWidget(self.step_button, 1)
        row.addWidget(self.reset_button, 1)
        return row

    def _grid_group(self, title: str) -> tuple[QtWidgets.QGroupBox, QtWidgets.QGridLayout]:
        box = QtWidgets.QGroupBox(title)
        grid = QtWidgets.QGridLayout(box)
        grid.setContentsMargins(6, 6, 6, 6)
        grid.setColumnStretch(1, 1)
        return box, grid

    def _build_task_group(self) -> QtWidgets.QGroupBox:
        box, grid = self._grid_group("Task")
        self.task_combo = QtWidgets.QComboBox()
        self.task_combo.setObjectName("task_combo")
        self.task_combo.addItem(NO_TASK, None)
        for name, spec in TASKS.items():
            self.task_combo.addItem(spec.title, name)
            self.task_combo.setItemData(self.task_combo.count() - 1,
                                        f"{spec.description} ({spec.source})", QtCore.Qt.ToolTipRole)
        self.task_combo.setToolTip("The task the network learns; it sets the input and output "
                                   "sizes and the sequence length. A new task starts a new run.")
        self.task_combo.currentIndexChanged.connect(self._task_chosen)
        grid.addWidget(QtWidgets.QLabel("Task"), 0, 0)
        grid.addWidget(self.task_combo, 0, 1)
        self.task_about = QtWidgets.QLabel()
        self.task_about.setWordWrap(True)
        self.task_about.setObjectName("task_about")
        grid.addWidget(self.task_about, 1, 0, 1, 2)
        self.options_box = QtWidgets.QWidget()
        self.options_grid = QtWidgets.QGridLayout(self.options_box)
        self.options_grid.setContentsMargins(0, 0, 0, 0)
        self.options_grid.setColumnStretch(1, 1)
        grid.addWidget(self.options_box, 2, 0, 1, 2)
        self._options_for: str | None = None
        return box

    def _build_optimiser_group(self) -> QtWidgets.QGroupBox:
        box, grid = self._grid_group("Optimiser")
        self.optimizer_combo = QtWidgets.QComboBox()
        self.optimizer_combo.setObjectName("optimizer_combo")
        for name, title in training_form.OPTIMIZER_TITLES.items():
            self.optimizer_combo.addItem(title, name)
        self.optimizer_combo.setToolTip("torch.optim's update rules and defaults; a new optimiser "
                                        "starts from fresh state (moments, buffers)")
        self.optimizer_combo.currentIndexChanged.connect(
            lambda _i: self.edit(optimizer=self.optimizer_combo.currentData(), optimizer_options={}))
        grid.addWidget(QtWidgets.QLabel("Optimiser"), 0, 0)
        grid.addWidget(self.optimizer_combo, 0, 1)
        lo, hi = training_form.LR_LIMITS
        self.lr = LogSlider(lo, hi, "lr", f"Learning rate η, log scale from {lo:g} to {hi:g}; "
                            "type an exact value in the box. Takes effect at the next iteration.")
        self.lr.edited.connect(lambda v: self.edit(lr=v))
        self.lr.typed_text.connect(lambda text: self._typed("lr", "learning rate", text))
        grid.addWidget(QtWidgets.QLabel("Learning rate"), 1, 0)
        grid.addWidget(self.lr, 1, 1)
        self.batch = QtWidgets.QSpinBox()
        self.batch.setObjectName("edit_train_m")
        self.batch.setRange(*training_form.BATCH_LIMITS)
        self.batch.setKeyboardTracking(False)
        self.batch.setToolTip("Sequences per training batch (each iteration draws a fresh one)")
        self.batch.valueChanged.connect(lambda v: self.edit(m=int(v)))
        grid.addWidget(QtWidgets.QLabel("Batch size"), 2, 0)
        grid.addWidget(self.batch, 2, 1)
        self.hyper_box = QtWidgets.QWidget()
        self.hyper_grid = QtWidgets.QGridLayout(self.hyper_box)
        self.hyper_grid.setContentsMargins(0, 0, 0, 0)
        self.hyper_grid.setColumnStretch(1, 1)
        grid.addWidget(self.hyper_box, 3, 0, 1, 2)
        self._hypers_for: str | None = None
        return box

    def _build_clip_group(self) -> QtWidgets.QGroupBox:
        box, grid = self._grid_group("Gradient clipping and seed")
        self.clip_combo = QtWidgets.QComboBox()
        self.clip_combo.setObjectName("clip_combo")
        for mode, title in training_form.CLIP_TITLES.items():
            self.clip_combo.addItem(title, mode)
        self.clip_combo.setToolTip("By norm: scale all gradients by c/‖g‖₂ when ‖g‖₂ > c "
                                   "(torch's clip_grad_norm_). By value: clip each entry to ±c.")
        self.clip_combo.currentIndexChanged.connect(
            lambda _i: self.edit(clip=self.clip_combo.currentData()))
        grid.addWidget(QtWidgets.QLabel("Clipping"), 0, 0)
        grid.addWidget(self.clip_combo, 0, 1)
        self.threshold = QtWidgets.QLineEdit()
        self.threshold.setObjectName("edit_clip_threshold")
        lo, hi = training_form.CLIP_LIMITS
        self.threshold.setToolTip(f"The clipping threshold c, from {lo:g} to {hi:g}")
        self.threshold.editingFinished.connect(
            lambda: self._typed("clip_threshold", "clipping threshold", self.threshold.text()))
        grid.addWidget(QtWidgets.QLabel("Threshold c"), 1, 0)
        grid.addWidget(self.threshold, 1, 1)
        self.seed = QtWidgets.QSpinBox()
        self.seed.setObjectName("edit_train_seed")
        self.seed.setRange(*training_form.SEED_LIMITS)
        self.seed.setKeyboardTracking(False)
        self.seed.setToolTip("Batch k is drawn from this seed and k alone: the same seed gives "
                             "the same curve, bit for bit. A new seed starts a new run.")
        self.seed.valueChanged.connect(lambda v: self.edit(seed=int(v)))
        grid.addWidget(QtWidgets.QLabel("Training seed"), 2, 0)
        grid.addWidget(self.seed, 2, 1)
        return box

    # ----- user edits ------------------------------------------------------------------------
    def edit(self, **changes) -> list:
        """Apply training changes; a refusal shows its message and the set-up's values again."""
        if self._syncing:
            return []
        if self.session.training is None and "task" not in changes:
            return self._refused("choose a task first")
        problems = self.session.set_training(**changes)
        if problems:
            self._refused("; ".join(p.message for p in problems))
        else:
            self.error.hide()
        self.sync()
        return problems

    def _refused(self, message: str) -> list:
        self.error.setText(f"⚠ {message}; nothing was changed")
        self.error.show()
        self.sync()
        return [message]

    def _typed(self, key: str, what: str, text: str) -> None:
        if self._syncing:
            return
        try:
            value = training_form.parse_number(text, what)
        except ValueError as exc:
            self._refused(str(exc))
            return
        if self.session.training is not None and getattr(self.session.training, key) == value:
            return
        self.edit(**{key: value})

    def _task_chosen(self, _index: int) -> None:
        task = self.task_combo.currentData()
        if task is None or self._syncing:
            self.sync()
            return
        self.edit(task=task, task_options={})

    # ----- session -> controls --------------------------------------------------------------------
    def _on_event(self, name: str, **payload) -> None:
        # not on every followed iteration: a box the user is typing in must keep its text
        if name in ("loaded", "config") or (name == "training" and
                                            payload.get("what") != "iteration"):
            if name == "loaded":
                self.error.hide()
            self.sync()

    def sync(self) -> None:
        """Show the session's training set-up in every control."""
        self._syncing = True
        try:
            self._sync()
        finally:
            self._syncing = False

    def _sync(self) -> None:
        training = self.session.training
        task = None if training is None else training.task
        index = max(0, self.task_combo.findData(task))
        silently(self.task_combo, lambda: self.task_combo.setCurrentIndex(index))
        if task != self._options_for:
            self._build_options(task)
        for widget in (self.optimizer_combo, self.lr, self.batch, self.hyper_box, self.clip_combo,
                       self.threshold, self.seed, self.options_box):
            widget.setEnabled(training is not None)
        if training is None:
            self.task_about.setText("Choose a task to train this network on it: the task sets "
                                    "the input and output sizes and the sequence length.")
            return
        spec = TASKS[task]
        self.task_about.setText(f"{spec.description} <i>({spec.source})</i>")
        options = training.options
        for name, editor in self.option_editors.items():
            value = options.get(name)
            if isinstance(editor, QtWidgets.QSpinBox):
                silently(editor, lambda e=editor, v=value: e.setValue(int(v)))
        if task == "text" and "text" in self.option_editors:
            text = sampling.task_text(training)
            if self.text_edit.toPlainText() != text:
                silently(self.text_edit, lambda: self.text_edit.setPlainText(text))
        silently(self.optimizer_combo, lambda: self.optimizer_combo.setCurrentIndex(
            max(0, self.optimizer_combo.findData(training.optimizer))))
        if training.optimizer != self._hypers_for:
            self._build_hypers(training.optimizer)
        for name, value in training_form.hyper_values(training).items():
            editor = self.hyper_editors.get(name)
            if isinstance(editor, QtWidgets.QCheckBox):
                silently(editor, lambda e=editor, v=value: e.setChecked(bool(v)))
            elif editor is not None:
                text = ", ".join(training_form.format_number(v) for v in value) \
                    if isinstance(value, (tuple, list)) else training_form.format_number(value)
                editor.setText(text)
        self.lr.set_value(training.lr)
        silently(self.batch, lambda: self.batch.setValue(training.m))
        silently(self.clip_combo, lambda: self.clip_combo.setCurrentIndex(
            max(0, self.clip_combo.findData(training.clip))))
        self.threshold.setText(training_form.format_number(training.clip_threshold))
        self.threshold.setEnabled(training.clip != "off")
        silently(self.seed, lambda: self.seed.setValue(training.seed))

    # ----- the controller's reports ---------------------------------------------------------------
    def show_progress(self, iteration: int | None, rate: float | None, running: bool) -> None:
        """The iteration counter and the iterations per second."""
        if iteration is None:
            self.progress.setText("not trained yet")
            return
        speed = f" · {rate:,.0f} iterations/s" if running and rate is not None else \
            (" · paused" if not running else "")
        self.progress.setText(f"iteration {iteration:,}{speed}")

    def show_stopped(self, message: str | None) -> None:
        """Why the run stopped (NaN / Inf), in red; None hides it."""
        self.stopped.setText(f"⚠ training stopped: {message}" if message else "")
        self.stopped.setVisible(bool(message))
