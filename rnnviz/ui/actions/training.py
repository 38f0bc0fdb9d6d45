"""Live training in the window: Train/Pause (F6, Ctrl+T), Step (F7), Reset, the timeline, the
Training tab beside the time column and the Training dock.

The loop. Train submits the workspace's training stream to the window's worker, which runs
one iteration at a time between compute requests. A timer at screen rate (FRAME_MS) then
(1) calls workspace.follow_training(), so every view follows the newest weights (the worker
recomputes them between iterations; the latest request wins), but only once the views have
caught up with the previous weights, and (2) redraws the training plots from the records
(every record, whatever the frame rate). Pause cancels the stream after its current
iteration. A run that stops on NaN/Inf shows its message in red (status bar and dock) and the
last finite weights stay shown. Nothing here waits for the worker: the UI thread only reads.
"""
from __future__ import annotations

import logging
import time

from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.state import connectivity as connectivity_job
from rnnviz.state import sampling
from rnnviz.state.compute_process import ComputeProcessError, ComputeServer, OffloadedCompute
from rnnviz.state.training_curves import CurveCache
from rnnviz.state.training_process import TrainingProcessError, TrainingServer
from rnnviz.ui.docks.training import TrainingDock
from rnnviz.ui.docks.training_area import TrainingArea
from rnnviz.ui.widgets.axes import cache_axes

FRAME_MS = 40                    # 25 frames a second while a run trains: the training plots,
                                 # and at most one follow of the weights per frame (30 ms, with
                                 # the views computed in a child, followed more often than the
                                 # window could draw: on the Training tab 19.5-22.6 redraws/s
                                 # against 21.0-22.2 in three pairs)
FOLLOW_POLL_MS = 8               # how often to look whether the views caught up (a follow then
                                 # starts as soon as they have, not at the next frame)
FOLLOW_LATE_MS = 500             # follow the weights even if the views have not caught up
FOLLOW_DUTY = 3.0                # follow at most every 3x the views' last computation, so that
                                 # computing them takes at most a third of the worker's time
                                 # when it trains too (in this process)
FOLLOW_DUTY_CHILD = 1.0          # training in a child process: follow once the views caught up
SAMPLE_EVERY_S = 1.0             # text task: a new sample this often while training
RATE_WINDOW_S = 1.0              # iterations per second over about this long
TIME_TAB, TRAINING_TAB = 0, 1
ONE_PROCESS_ITERATIONS = 1       # Step (one iteration) trains in this process: no hand-over
TIME_PANELS = ("states", "connectivity", "gradients", "flow")    # the time-steps tab's plots

log = logging.getLogger(__name__)


class TrainingController(QtCore.QObject):
    """Runs the window's training loop and keeps the Training tab and dock in step."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.worker = window.worker
        self.job: int | None = None          # the id of the stream running, if any
        self.stopped_message: str | None = None
        self._rate_marks: list[tuple[float, int]] = []
        self.rate: float | None = None
        self._last_follow = 0.0
        self._sample_id = 0
        self._sample_at = 0.0
        self._had_training = None
        self.server: TrainingServer | None = None    # the child process training runs in
        self.offload = OffloadedCompute()    # the views' computations while it trains: another
        self.worker.offload = self.offload   # child, so this process only draws
        self._duty = FOLLOW_DUTY
        self._fonts = None
        self.actions = self._make_actions()
        self.curves = CurveCache()
        self.area = TrainingArea(self.session, self.actions, self.curves)
        self.dock = TrainingDock(self.session, self.actions, window)
        self.views = self.area.views
        for view in self.views.values():
            view.iteration_picked.connect(self.scrub)
        self.area.timeline.picked.connect(self.scrub)
        self.area.sample.temperature_changed.connect(lambda _t: self.request_sample())
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self.tick)
        self.follow_timer = QtCore.QTimer(self)
        self.follow_timer.setInterval(FOLLOW_POLL_MS)
        self.follow_timer.timeout.connect(self._maybe_follow)
        self.worker.stream_ended.connect(self._stream_ended)
        self.worker.add_lane(sampling.LANE, sampling.sample)
        self.worker.done.connect(self._lane_done)
        self.worker.finished.connect(self._caught_up_now)   # (after the window's: it accepts first)
        self._unsubscribe = self.session.events.subscribe(self._on_event)
        window.destroyed.connect(lambda *_: self._unsubscribe())
        window.centre_tabs.currentChanged.connect(self._tab_changed)

    # ----- actions -------------------------------------------------------------------------------
    def _make_actions(self) -> dict[str, QtGui.QAction]:
        style = self.window.style()
        sp = QtWidgets.QStyle
        train = QtGui.QAction(style.standardIcon(sp.SP_MediaPlay), "Train / pause training",
                              self.window)
        train.setIconText("Train")
        train.setObjectName("train")
        train.setCheckable(True)
        train.setShortcuts([QtGui.QKeySequence(QtCore.Qt.Key_F6), QtGui.QKeySequence("Ctrl+T")])
        train.setShortcutContext(QtCore.Qt.WindowShortcut)
        train.setToolTip("Train / pause the network on its task (F6 or Ctrl+T; Space plays the "
                         "time steps)")
        train.triggered.connect(self.toggle)
        step = QtGui.QAction("Train one iteration", self.window)
        step.setIconText("Step")
        step.setObjectName("train_step")
        step.setShortcut(QtGui.QKeySequence(QtCore.Qt.Key_F7))
        step.setShortcutContext(QtCore.Qt.WindowShortcut)
        step.setToolTip("Train one iteration (F7)")
        step.triggered.connect(self.step)
        reset = QtGui.QAction("Reset training", self.window)
        reset.setIconText("Reset")
        reset.setObjectName("train_reset")
        reset.setToolTip("Back to the weights before training (the run and its curves go)")
        reset.triggered.connect(self.reset)
        continue_ = QtGui.QAction("Continue from here", self.window)
        continue_.setObjectName("train_continue")
        continue_.setToolTip("Start a branch at the iteration shown: the later records go and "
                             "training goes on from these weights")
        continue_.triggered.connect(self.continue_from_here)
        for action in (train, step):
            self.window.addAction(action)
        return {"train": train, "step": step, "reset": reset, "continue": continue_}

    @property
    def running(self) -> bool:
        return self.job is not None

    def toggle(self) -> None:
        """Train / Pause."""
        if self.running:
            self.pause()
        else:
            self.train()

    def train(self, iterations: int | None = None) -> bool:
        """Start training on the worker (None: until paused); False when there is no task."""
        if self.session.training is None:
            self.window.status.showMessage("Choose a training task in the Training dock first",
                                           8000)
            self._update_actions()
            return False
        if self.running:
            return True
        self._show_stopped(None)
        server = self._server(iterations)
        self._duty = FOLLOW_DUTY if server is None else FOLLOW_DUTY_CHILD
        self.offload.enabled = server is not None and self._compute_server()
        stream = self.session.start_training(iterations, server=server)
        self.job = stream.id
        self._rate_marks = [(time.perf_counter(), len(self.session.run.records))]
        self.rate = None
        self.worker.start_stream(stream)
        self.timer.start()
        self.follow_timer.start()
        self._update_actions()
        return True

    def pause(self) -> None:
        """Stop after the current iteration (the weights then shown are its result)."""
        if self.running:
            self.worker.stop_stream()

    def step(self) -> None:
        """One iteration."""
        if not self.running:
            self.train(1)

    def reset(self) -> None:
        """Back to the initialisation: the run and its curves go."""
        self._halt()
        self.session.reset_training()

    def scrub(self, iteration: int) -> None:
        """Show the weights kept nearest `iteration` (pauses a running run first)."""
        if self.session.run is None:
            return
        if self.running:
            self._halt()
        self.session.show_iteration(iteration)

    def continue_from_here(self) -> None:
        """Branch at the iteration shown and train on from it."""
        if self.session.run is None:
            return
        self._halt()
        problems = self.session.branch_training()
        if not problems:
            self.train()

    def _halt(self) -> None:
        """Stop the stream now (its last iteration may still finish on the worker, on a run the
        workspace no longer shows or that the next follow picks up)."""
        if self.running:
            self.worker.stop_stream()
            self.job = None
            self.offload.enabled = False
            self.timer.stop()
            self.follow_timer.stop()
            self.session.follow_training()
            self._refresh_views()
            self._update_actions()

    # ----- the loop --------------------------------------------------------------------------------
    def tick(self) -> None:
        """One frame: redraw the training plots and counters (follow_timer follows the weights)."""
        if self.window._shut_down:
            self.shutdown()
            return
        now = time.perf_counter()
        self._measure_rate(now)
        self._refresh_views()
        if now - self._sample_at > SAMPLE_EVERY_S:
            self.request_sample()

    def _maybe_follow(self) -> None:
        """Follow the newest weights once the views caught up with the last ones (at most once
        a frame, and at most every duty x the views' computation), or when they are late."""
        if self.window._shut_down:
            return
        now = time.perf_counter()
        since_ms = (now - self._last_follow) * 1e3
        late = since_ms > FOLLOW_LATE_MS
        due = since_ms >= max(FRAME_MS - FOLLOW_POLL_MS / 2, self._duty * self.worker.last_ms)
        if (due and self._caught_up()) or late:
            self._last_follow = now
            self.session.follow_training()

    def _caught_up(self) -> bool:
        """The views have the last weights followed: computed, and the connectivity bars (their
        own worker lane, asked for as the result arrives) computed too; else a newer
        computation would always go first and the bars never catch up. The views may still be
        drawing: the worker computes the next weights meanwhile, and each view draws the
        newest result when its turn comes."""
        return not self.session.needs_compute and self.worker.is_idle(connectivity_job.LANE)

    def _measure_rate(self, now: float) -> None:
        run = self.session.run
        if run is None:
            return
        self._rate_marks.append((now, len(run.records)))
        while len(self._rate_marks) > 2 and now - self._rate_marks[1][0] > RATE_WINDOW_S:
            self._rate_marks.pop(0)
        (t0, n0), (t1, n1) = self._rate_marks[0], self._rate_marks[-1]
        if t1 - t0 > 0.2:
            self.rate = (n1 - n0) / (t1 - t0)

    def _refresh_views(self) -> None:
        for view in self.views.values():
            view.schedule(result=True)
        run = self.session.run
        latest = None if run is None else run.iteration
        self.area.timeline.show_run(self.session.selection_iteration, latest)
        self.dock.show_progress(latest, self.rate, self.running)

    @QtCore.Slot(int, object)
    def _stream_ended(self, job_id: int, error) -> None:
        if job_id != self.job:
            return
        self.job = None
        self.offload.enabled = False
        self.timer.stop()
        self.follow_timer.stop()
        self.session.follow_training()
        run = self.session.run
        last = None if run is None else run.records.latest()
        if last is not None and last.stopped:
            self._show_stopped(last.stopped)
        elif error not in (None, "cancelled"):
            self._show_stopped(f"the training failed: {error}")
        self._refresh_views()
        self._update_actions()
        self.request_sample()

    def _show_stopped(self, message: str | None) -> None:
        self.stopped_message = message
        self.dock.show_stopped(message)
        if message:
            self.window.status.error(f"training stopped: {message}")

    def _update_actions(self) -> None:
        train = self.actions["train"]
        blocker = QtCore.QSignalBlocker(train)
        train.setChecked(self.running)
        del blocker
        icon = QtWidgets.QStyle.SP_MediaPause if self.running else QtWidgets.QStyle.SP_MediaPlay
        train.setIcon(self.window.style().standardIcon(icon))
        train.setIconText("Pause" if self.running else "Train")
        has_task = self.session.training is not None
        train.setEnabled(has_task)
        self.actions["step"].setEnabled(has_task and not self.running)
        self.actions["reset"].setEnabled(self.session.run is not None)
        run = self.session.run
        self.actions["continue"].setEnabled(run is not None and not self.running)

    # ----- text samples ------------------------------------------------------------------------------
    def request_sample(self) -> None:
        """Ask the worker for text sampled from the weights shown (text task only)."""
        self._sample_at = time.perf_counter()
        shown = self.session.training is not None and self.session.training.task == "text"
        self.area.sample.setVisible(shown)
        if not shown:
            return
        self._sample_id += 1
        request = sampling.sample_request(self.session, self._sample_id,
                                          self.area.sample.temperature.value)
        if request is None:
            self.area.sample.heading.setText(f"No sample: {sampling.why_not(self.session)}")
            return
        self.worker.submit(request, sampling.LANE)

    @QtCore.Slot(str, object)
    def _lane_done(self, lane: str, result) -> None:
        if lane == sampling.LANE and result.request_id == self._sample_id:
            self.area.sample.show_sample(result)
        elif lane == connectivity_job.LANE:
            self._caught_up_now()

    def _caught_up_now(self, *_) -> None:
        """A computation or the bars just came back: follow at once if that was the last
        thing waited for (not at the next poll, up to FOLLOW_POLL_MS later)."""
        if self.running:
            self._maybe_follow()

    # ----- the session ---------------------------------------------------------------------------------
    def _on_event(self, name: str, **payload) -> None:
        if self.window._shut_down:          # the session may outlive its window
            return
        if name == "training" and payload.get("what") in ("reset", "branch"):
            if self.running and payload.get("what") == "reset":
                self._halt()
                self.window.status.showMessage("The training run ended (the task, its options, "
                                               "the seed or the network changed): Train starts "
                                               "a new one", 10000)
            self._show_stopped(None)
            self._refresh_views()
        elif name == "loaded":
            if self.running:
                self._halt()
            self._show_stopped(None)
            self._refresh_views()
        elif name == "result" and self.stopped_message:
            self.window.status.error(f"training stopped: {self.stopped_message}")
        if name in ("loaded", "config") or (name == "training" and payload.get("what") != "iteration"):
            self._update_actions()
            self.show_area()
            if not self.running:
                self.request_sample()

    def _tab_changed(self, index: int) -> None:
        """The plots of the time-steps tab out of sight need no gradient flow: following the
        weights then costs the worker a fraction of the time (the flow is ~85 % of a computation
        at n_s = 64, T = 40); it is computed again when the tab comes back."""
        self.session.set_out_of_sight(TIME_PANELS if index == TRAINING_TAB else ())
        self.window.schedule_compute()

    def show_area(self) -> None:
        """The Training tab is there while the set-up has a training task; it comes to the front
        when a task appears."""
        has = self.session.training is not None
        tabs = self.window.centre_tabs
        tabs.setTabVisible(TRAINING_TAB, has)
        tabs.tabBar().setVisible(has)
        if has and not self._had_training:
            tabs.setCurrentIndex(TRAINING_TAB)
            self.dock.show()
            self.dock.raise_()
        elif not has:
            tabs.setCurrentIndex(TIME_TAB)
            if self._had_training:           # the task went: its dock has nothing to offer
                self.window.docks["editors"].raise_()
        self._had_training = has

    def apply_style(self, style) -> None:
        """The window's look (presentation mode) for the Training tab's own widgets too."""
        widgets = (self.area.timeline, self.area.sample.heading, self.window.centre_tabs.tabBar())
        if self._fonts is None:
            self._fonts = [(w, QtGui.QFont(w.font())) for w in widgets]
        if style.name == "normal":
            for w, font in self._fonts:
                w.setFont(font)
            self.area.sample.apply_style(self._fonts[0][1])
        else:
            for w in widgets:
                w.setFont(style.font())
            self.area.sample.apply_style(style.font())

    def _server(self, iterations: int | None):
        """The child process to train in (None: in this process, for Step, or when the child
        cannot start). Started on the first Train, kept until the window closes."""
        if iterations is not None and iterations <= ONE_PROCESS_ITERATIONS:
            return None
        if self.server is None:
            self.server = TrainingServer()
        try:
            self.server.ensure()
        except TrainingProcessError as exc:
            self.window.status.showMessage(f"{exc}; training in the window's process", 8000)
            return None
        return self.server

    def _compute_server(self) -> bool:
        """Whether the child process for the views' computations runs (started on the first
        Train that trains in a child; without it they are computed in this process)."""
        if self.offload.server is None:
            self.offload.server = ComputeServer()
        try:
            self.offload.server.ensure()
        except ComputeProcessError as exc:
            log.info("the views are computed in the window's process: %s", exc)
            return False
        return True

    def shutdown(self) -> None:
        self.timer.stop()
        self.follow_timer.stop()
        if self.running:
            self.worker.stop_stream()
            self.job = None
        self.offload.close()
        if self.server is not None:
            self.server.close()
            self.server = None


def install(window) -> TrainingController:
    """The Training tab (beside the time column), the Training dock (with Parameters and Weights),
    Train/Pause (F6, Ctrl+T) and Step (F7); the training plots join window.views."""
    controller = TrainingController(window)
    window.centre_tabs.addTab(controller.area, "Training")
    for name, view in controller.views.items():
        window.views[name] = view
        cache_axes(view.graphics)
        view.apply_style(window.style_)
    dock = controller.dock
    window.docks["training"] = dock
    window.tabifyDockWidget(window.docks["weights"], dock)
    window.docks["editors"].raise_()        # Parameters in front until there is a task
    menu = QtWidgets.QMenu("&Training", window)
    window.menuBar().insertMenu(window.menus["help"].menuAction(), menu)
    for key in ("train", "step", "reset", "continue"):
        menu.addAction(controller.actions[key])
    menu.addSeparator()
    menu.addAction(dock.toggleViewAction())
    window.menus["training"] = menu
    window.training = controller
    apply_window_style = window.apply_style

    def apply_style(style) -> None:          # the window's restyling reaches the Training tab
        apply_window_style(style)
        controller.apply_style(style)
    window.apply_style = apply_style
    controller._update_actions()
    controller.show_area()
    controller._refresh_views()
    controller.request_sample()
    return controller
