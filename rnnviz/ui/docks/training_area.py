"""The Training tab beside the time column: Train/Pause with the training timeline, the four
training plots, and (text task) text sampled from the network with a temperature slider."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.state import sampling, timeline
from rnnviz.ui.docks.training_editors import big_button
from rnnviz.ui.views.training_curves import GradNormView, LossView, SpectralView
from rnnviz.ui.views.training_profile import ProfileHeatmap
from rnnviz.ui.widgets.log_slider import LogSlider
from rnnviz.ui.widgets.steady import steady

# name -> class. Their iteration axes are not linked: pyqtgraph lines linked axes up on screen,
# and the heatmap's colour bar makes its plot narrower; each keeps the same range by itself.
TRAINING_VIEWS = {"loss": LossView, "profile": ProfileHeatmap, "grad_norm": GradNormView,
                  "spectral": SpectralView}
TIMELINE_TIP = (f"Scrub back through training: every view shows the weights kept nearest the "
                f"chosen iteration (at or before it). Snapshots are thinned as the run grows so "
                f"that all of them together stay within {timeline.MAX_BYTES // 2**20} MB (and "
                f"at most {timeline.MAX_SNAPSHOTS}): a long run keeps one every few iterations, "
                f"evenly spread. Moving it pauses training.")


class TimelineBar(QtWidgets.QWidget):
    """Train/Pause, the iteration slider over the run and 'Continue from here'."""

    picked = QtCore.Signal(int)

    def __init__(self, actions: dict, parent=None):
        super().__init__(parent)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(2, 2, 2, 2)
        self.train_button = big_button(actions["train"], "timeline_train")
        self.train_button.setSizePolicy(QtWidgets.QSizePolicy.Preferred, QtWidgets.QSizePolicy.Fixed)
        self.train_button.setStyleSheet("font-weight: bold;")   # its size follows the bar's
        row.addWidget(self.train_button)
        label = QtWidgets.QLabel("Iteration")
        label.setToolTip(TIMELINE_TIP)
        row.addWidget(label)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Horizontal)
        self.slider.setObjectName("iteration_slider")
        self.slider.setToolTip(TIMELINE_TIP)
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self._moved)
        self.slider.sliderPressed.connect(self._pressed)     # a grab pauses, even if unmoved
        row.addWidget(self.slider, 1)
        self.label = QtWidgets.QLabel("–")
        self.label.setObjectName("iteration_label")
        self.label.setToolTip(TIMELINE_TIP)
        row.addWidget(steady(self.label, grow_only=True))   # ("999 of 999" -> "1,000 of …")
        self.continue_button = big_button(actions["continue"], "continue_button")
        self.continue_button.setSizePolicy(QtWidgets.QSizePolicy.Preferred,
                                           QtWidgets.QSizePolicy.Fixed)
        row.addWidget(self.continue_button)
        self._syncing = False

    def _moved(self, value: int) -> None:
        if not self._syncing:
            self.picked.emit(int(value))

    def _pressed(self) -> None:
        self.picked.emit(int(self.slider.value()))

    def show_run(self, shown: int | None, latest: int | None) -> None:
        """The slider over 0..latest at the iteration shown."""
        self._syncing = True
        try:
            top = latest or 0
            if self.slider.maximum() != top:
                self.slider.setRange(0, top)
            if shown is not None and self.slider.value() != shown and not self.slider.isSliderDown():
                self.slider.setValue(shown)
        finally:
            self._syncing = False
        self.slider.setEnabled(latest is not None)
        self.label.setText("–" if shown is None else f"{shown:,} of {top:,}")


class SamplePanel(QtWidgets.QWidget):
    """Text sampled from the net (text task), refreshed while it trains, with its temperature."""

    temperature_changed = QtCore.Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        column = QtWidgets.QVBoxLayout(self)
        column.setContentsMargins(2, 2, 2, 2)
        row = QtWidgets.QHBoxLayout()
        self.heading = QtWidgets.QLabel("Text sampled from the network")
        self.heading.setObjectName("sample_heading")
        row.addWidget(self.heading, 1)
        row.addWidget(QtWidgets.QLabel("temperature"))
        lo, hi = sampling.TEMPERATURE_LIMITS
        self.temperature = LogSlider(lo, hi, "temperature",
                                     "Characters are drawn from softmax(z_t / temperature): low "
                                     "is cautious and repetitive, 1 is the model itself, high is "
                                     "wild.", digits=2)
        self.temperature.set_value(sampling.DEFAULT_TEMPERATURE)
        self.temperature.setMaximumWidth(260)
        self.temperature.edited.connect(self.temperature_changed)
        row.addWidget(self.temperature)
        column.addLayout(row)
        self.text = QtWidgets.QPlainTextEdit()
        self.text.setObjectName("sample_text")
        self.text.setReadOnly(True)
        self.text.setToolTip("min-char-rnn's sampler: each character is drawn from the network's "
                             "output and fed back as the next input. Untrained it is noise; "
                             "watch words appear as the loss falls.")
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont)
        self.text.setFont(font)
        self.text.setMaximumHeight(self.text.fontMetrics().lineSpacing() * 5 + 12)
        column.addWidget(self.text)

    def show_sample(self, result: sampling.SampleResult) -> None:
        if result.error:
            self.heading.setText(f"No sample: {result.error}")
            return
        where = "the initial weights" if not result.iteration else f"iteration {result.iteration:,}"
        self.heading.setText(f"Text sampled from the network at {where} "
                             f"(temperature {result.temperature:g})")
        self.text.setPlainText(result.text)

    def apply_style(self, font: QtGui.QFont) -> None:
        fixed = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont)
        fixed.setPointSizeF(font.pointSizeF())
        self.text.setFont(fixed)
        self.heading.setFont(font)
        self.text.setMaximumHeight(self.text.fontMetrics().lineSpacing() * 5 + 12)


class TrainingArea(QtWidgets.QWidget):
    """The Training tab: timeline bar, the 2 x 2 training plots, the sample panel."""

    def __init__(self, session, actions: dict, curves, parent=None):
        super().__init__(parent)
        self.setObjectName("training_area")
        self.timeline = TimelineBar(actions)
        self.views = {name: cls(session, curves) for name, cls in TRAINING_VIEWS.items()}
        for name, view in self.views.items():
            view.setObjectName(name)
        self.left = QtWidgets.QSplitter(QtCore.Qt.Vertical)
        self.left.setObjectName("training_left")
        self.right = QtWidgets.QSplitter(QtCore.Qt.Vertical)
        self.right.setObjectName("training_right")
        for splitter, names in ((self.left, ("loss", "profile")),
                                (self.right, ("grad_norm", "spectral"))):
            for name in names:
                splitter.addWidget(self.views[name])
            splitter.setChildrenCollapsible(False)
        self.columns = QtWidgets.QSplitter(QtCore.Qt.Horizontal)
        self.columns.setObjectName("training_columns")
        self.columns.addWidget(self.left)
        self.columns.addWidget(self.right)
        self.columns.setStretchFactor(0, 3)
        self.columns.setStretchFactor(1, 2)
        self.columns.setChildrenCollapsible(False)
        self.sample = SamplePanel()
        self.sample.setVisible(False)
        column = QtWidgets.QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.timeline)
        column.addWidget(self.columns, 1)
        column.addWidget(self.sample)
        self.splitters = (self.left, self.right, self.columns)

    def sizeHint(self) -> QtCore.QSize:
        """No wider than it must be: the window's splitter shares its width out by size hints,
        and the plots' own hints would take the step column's room."""
        return self.minimumSizeHint().expandedTo(QtCore.QSize(400, 300))
