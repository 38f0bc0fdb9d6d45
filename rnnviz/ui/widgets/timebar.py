"""The timestep bar: slider and spin box over t = 1..T, play/pause, step, speed, loop, batch element."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

SPEEDS = (1, 2, 5, 10, 20, 50)       # steps per second
DEFAULT_SPEED = 10


class TimeBar(QtWidgets.QWidget):
    """Selects the timestep and batch element through the session; follows its events."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self._syncing = False
        style = self.style()

        def button(icon, tip, slot, name):
            b = QtWidgets.QToolButton()
            b.setIcon(style.standardIcon(icon))
            b.setToolTip(tip)
            b.setObjectName(name)
            b.setAutoRaise(True)
            b.clicked.connect(slot)
            return b

        sp = QtWidgets.QStyle
        self.first_button = button(sp.SP_MediaSkipBackward, "First step (Home)", self.first, "first")
        self.back_button = button(sp.SP_MediaSeekBackward, "Step back (←)", self.step_back, "back")
        self.play_button = button(sp.SP_MediaPlay, "Play / pause (Space)", self.toggle_play, "play")
        self.forward_button = button(sp.SP_MediaSeekForward, "Step forward (→)", self.step_forward,
                                     "forward")
        self.last_button = button(sp.SP_MediaSkipForward, "Last step (End)", self.last, "last")

        self.slider = QtWidgets.QSlider(QtCore.Qt.Horizontal)
        self.slider.setObjectName("t_slider")
        self.slider.setToolTip("The selected time step t (1..T): the red cursor in every plot. "
                               "The softmax bars and the connectivity show this step.")
        self.slider.valueChanged.connect(self._slider_moved)
        self.spin = QtWidgets.QSpinBox()
        self.spin.setObjectName("t_spin")
        self.spin.setToolTip(self.slider.toolTip())
        self.spin.setKeyboardTracking(False)
        self.spin.valueChanged.connect(self._slider_moved)
        self.of_label = QtWidgets.QLabel()

        self.speed = QtWidgets.QComboBox()
        self.speed.setObjectName("speed")
        for v in SPEEDS:
            self.speed.addItem(f"{v} steps/s", v)
        self.speed.setCurrentIndex(SPEEDS.index(DEFAULT_SPEED))
        self.speed.setToolTip("Playback speed in time steps per second")
        self.speed.currentIndexChanged.connect(self._speed_changed)
        self.loop = QtWidgets.QCheckBox("Loop")
        self.loop.setObjectName("loop")
        self.loop.setChecked(True)
        self.loop.setToolTip("When playing reaches T, start again at t = 1")

        self.batch = QtWidgets.QSpinBox()
        self.batch.setObjectName("batch")
        self.batch.setToolTip("Which sequence b of the batch the plots show (1..m); the loss is "
                              "the mean over all of them")
        self.batch.valueChanged.connect(self._batch_changed)
        self.batch_of = QtWidgets.QLabel()

        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        t_label = QtWidgets.QLabel("Time step t")
        t_label.setToolTip(self.slider.toolTip())
        for w in (t_label, self.first_button, self.back_button, self.play_button,
                  self.forward_button, self.last_button):
            row.addWidget(w)
        row.addWidget(self.slider, 1)
        for w in (self.spin, self.of_label, self.speed, self.loop):
            row.addWidget(w)
        row.addSpacing(12)
        seq = QtWidgets.QLabel("Sequence b")
        seq.setToolTip(self.batch.toolTip())
        for w in (seq, self.batch, self.batch_of):
            row.addWidget(w)

        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self._tick)
        self._speed_changed()
        self.sync()
        self._unsubscribe = session.events.subscribe(self._on_event)
        self.destroyed.connect(lambda *_: self._unsubscribe())

    # ----- following the session ------------------------------------------------------------
    def _on_event(self, name: str, **payload) -> None:
        if name in ("timestep", "config", "batch", "loaded"):
            self.sync()

    def sync(self) -> None:
        """Show the session's T, t, m and b without writing back."""
        c = self.session.config
        self._syncing = True
        try:
            for w in (self.slider, self.spin):
                w.setRange(1, c.T)
                w.setValue(self.session.t + 1)
            self.of_label.setText(f"of {c.T}")
            self.batch.setRange(1, c.m)
            self.batch.setValue(self.session.b + 1)
            self.batch_of.setText(f"of {c.m}")
            self.slider.setPageStep(max(1, c.T // 10))
        finally:
            self._syncing = False

    # ----- user actions -----------------------------------------------------------------------
    def _slider_moved(self, value: int) -> None:
        if not self._syncing:
            self.session.set_timestep(value - 1)

    def _batch_changed(self, value: int) -> None:
        if not self._syncing:
            self.session.set_batch(value - 1)

    def step_forward(self) -> None:
        self.session.set_timestep(self.session.t + 1)

    def step_back(self) -> None:
        self.session.set_timestep(self.session.t - 1)

    def first(self) -> None:
        self.session.set_timestep(0)

    def last(self) -> None:
        self.session.set_timestep(self.session.config.T - 1)

    def is_playing(self) -> bool:
        return self.timer.isActive()

    def toggle_play(self) -> None:
        self.pause() if self.is_playing() else self.play()

    def play(self) -> None:
        """Advance t at the chosen speed (from t = 1 again when already at the end)."""
        if self.session.t >= self.session.config.T - 1:
            self.session.set_timestep(0)
        self.timer.start()
        self.play_button.setIcon(self.style().standardIcon(QtWidgets.QStyle.SP_MediaPause))

    def pause(self) -> None:
        self.timer.stop()
        self.play_button.setIcon(self.style().standardIcon(QtWidgets.QStyle.SP_MediaPlay))

    def _speed_changed(self, *_) -> None:
        self.timer.setInterval(int(1000 / self.speed.currentData()))

    def _tick(self) -> None:
        T = self.session.config.T
        if self.session.t < T - 1:
            self.session.set_timestep(self.session.t + 1)
        elif self.loop.isChecked():
            self.session.set_timestep(0)
        else:
            self.pause()
