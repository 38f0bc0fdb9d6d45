"""The main window: plots in a story from input to output to gradient, docks, menus, status bar."""
from __future__ import annotations

import logging
import time

from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.state import connectivity as connectivity_job
from rnnviz.state import presets
from rnnviz.ui.docks.explanation import ExplanationDock
from rnnviz.ui.docks.parameters import ParameterDock
from rnnviz.ui.docks.weights import WeightEditorDock
from rnnviz.ui.style import NORMAL, Style
from rnnviz.ui.views.connectivity import ConnectivityView
from rnnviz.ui.views.flow import FlowView
from rnnviz.ui.views.gates import GateHeatmaps
from rnnviz.ui.views.heatmaps import GradientHeatmap, StateHeatmap
from rnnviz.ui.views.inputs import InputsView
from rnnviz.ui.views.plotbase import result_draws
from rnnviz.ui.views.softmax import SoftmaxView
from rnnviz.ui.views.spectrum import SpectrumView
from rnnviz.ui.widgets.axes import cache_axes
from rnnviz.ui.widgets.status import StatusBar
from rnnviz.ui.widgets.timebar import TimeBar
from rnnviz.ui.window_layout import WindowLayout
from rnnviz.ui.worker import ComputeWorker

log = logging.getLogger(__name__)

TIME_VIEWS = ("inputs", "states", "gates", "connectivity", "gradients", "flow")   # left, shared t
STEP_VIEWS = ("softmax", "spectrum")                             # right column
COMPUTE_EVENTS = ("config", "params", "batch", "loaded", "view")   # "view": a shown panel may need a stage
# Partial results (the flow filling in) redraw the plots: show at most one per PARTIAL_SHOW_MS,
# and keep the UI thread's share small: wait PARTIAL_DUTY times as long as the last one took.
PARTIAL_SHOW_MS = 250
PARTIAL_DUTY = 8


def _placeholder_dock(title: str, name: str, why: str) -> QtWidgets.QDockWidget:
    """A dock saying why its real content could not be built (instead of no window at all)."""
    dock = QtWidgets.QDockWidget(title)
    dock.setObjectName(name)
    label = QtWidgets.QLabel(f"{title} is unavailable: {why}")
    label.setWordWrap(True)
    dock.setWidget(label)
    return dock


class MainWindow(WindowLayout, QtWidgets.QMainWindow):
    """Everything on one screen; talks only to the Session, runs the engine only on the worker.

    rnnviz.ui.app.build_window installs the menu actions (file, presentation, help, export)."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.setObjectName("rnnviz_main")
        self.setAttribute(QtCore.Qt.WA_DeleteOnClose)    # a closed window is freed
        self.setWindowTitle("rnnviz — a recurrent network, step by step")
        self.session = session
        self.style_ = NORMAL
        self.close_guards: list = []        # callables returning False to veto closing
        self._shut_down = False

        self.worker = ComputeWorker(name="rnnviz-compute")
        self.worker.finished.connect(self._result_arrived)
        self.worker.partial.connect(self._partial_arrived)
        self._partial = None                # newest partial result not shown yet
        self._partial_shown = (-1, 0.0)     # (request id, time) of the last partial shown
        self._partial_gap_ms = PARTIAL_SHOW_MS
        self._partial_timer = QtCore.QTimer(self)
        self._partial_timer.setSingleShot(True)
        self._partial_timer.timeout.connect(self._show_partial)
        self.worker.failed.connect(self._computation_failed)
        self.worker.busy.connect(self._busy)
        self.worker.add_lane(connectivity_job.LANE, connectivity_job.compute_connectivity)
        try:
            self._build(session)
        except BaseException:
            self.worker.release()           # never leave a running thread to be destroyed
            raise

    def _build(self, session) -> None:
        self.timebar = TimeBar(session)
        self.timebar.setObjectName("timebar")
        self.views: dict[str, QtWidgets.QWidget] = {
            "inputs": InputsView(session),
            "states": StateHeatmap(session),
            "gates": GateHeatmaps(session),         # shown for a gated cell only
            "connectivity": ConnectivityView(session, connectivity_job.compute_connectivity,
                                             self.worker, self.params_for),
            "gradients": GradientHeatmap(session),
            "flow": FlowView(session),
            "softmax": SoftmaxView(session),
            "spectrum": SpectrumView(session),
        }
        for name, view in self.views.items():
            view.setObjectName(name)
            cache_axes(view.graphics)
        self._link_time_axes()
        self._build_central()
        self._caption_time_axes()
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.docks: dict[str, QtWidgets.QDockWidget] = {}
        self._build_docks()
        self.menus: dict[str, QtWidgets.QMenu] = {}
        self._build_menus()
        self._build_shortcuts()

        self._submit_timer = QtCore.QTimer(self)
        self._submit_timer.setSingleShot(True)
        self._submit_timer.setInterval(0)
        self._submit_timer.timeout.connect(self.submit_now)
        self._unsubscribe = session.events.subscribe(self._on_event)
        self.apply_style(NORMAL)

        if not self.restore_layout():
            self.fit_to_screen()
        self.apply_panels(session.view.get("panels", {}), hide_only=True)
        if session.result is not None:
            self._show_result(session.result)
        self.schedule_compute()

    # ----- construction -----------------------------------------------------------------------
    def _link_time_axes(self) -> None:
        states = self.views["states"].plot_item
        for name in ("inputs", "gates", "connectivity", "gradients", "flow"):
            self.views[name].plot_item.setXLink(states)
        for name in TIME_VIEWS:         # same left-axis width so the t axes line up
            self.views[name].plot_item.getAxis("left").setWidth(64)
        for name in ("connectivity", "flow"):   # room where the heatmaps have their colour bar
            right = self.views[name].plot_item.getAxis("right")
            self.views[name].plot_item.showAxis("right")
            right.setStyle(showValues=False)
            right.setWidth(86)
            right.setPen(None)
        for name in TIME_VIEWS:
            if name != "flow":
                self.views["flow"].right_room_changed.connect(self.views[name].set_right_room)

    def _build_central(self) -> None:
        self.time_splitter = QtWidgets.QSplitter(QtCore.Qt.Vertical)
        self.time_splitter.setObjectName("time_splitter")
        # the flow plot carries a legend and a rate line: it gets the largest share
        for name, stretch in zip(TIME_VIEWS, (3, 4, 4, 2, 4, 7), strict=True):
            self.time_splitter.addWidget(self.views[name])
            self.time_splitter.setStretchFactor(self.time_splitter.count() - 1, stretch)
        self.step_splitter = QtWidgets.QSplitter(QtCore.Qt.Vertical)
        self.step_splitter.setObjectName("step_splitter")
        for name in STEP_VIEWS:
            self.step_splitter.addWidget(self.views[name])
        self.main_splitter = QtWidgets.QSplitter(QtCore.Qt.Horizontal)
        self.main_splitter.setObjectName("main_splitter")
        # the time column is the first tab; live training adds its own (actions/training.py)
        self.centre_tabs = QtWidgets.QTabWidget()
        self.centre_tabs.setObjectName("centre_tabs")
        self.centre_tabs.setDocumentMode(True)
        self.centre_tabs.addTab(self.time_splitter, "Time steps")
        self.centre_tabs.tabBar().setVisible(False)
        self.main_splitter.addWidget(self.centre_tabs)
        self.main_splitter.addWidget(self.step_splitter)
        self.main_splitter.setStretchFactor(0, 2)
        self.main_splitter.setStretchFactor(1, 1)
        self.splitters = (self.main_splitter, self.time_splitter, self.step_splitter)
        for splitter in self.splitters:
            splitter.setChildrenCollapsible(False)
        central = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(central)
        column.setContentsMargins(2, 2, 2, 0)
        column.setSpacing(2)
        column.addWidget(self.timebar)
        column.addWidget(self.main_splitter, 1)
        self.setCentralWidget(central)

    def _build_docks(self) -> None:
        builders = (("editors", "Parameters", ParameterDock),
                    ("weights", "Weights", WeightEditorDock),
                    ("explanation", "Explanation", ExplanationDock))
        for name, title, cls in builders:
            try:
                dock = cls(self.session, self)
            except Exception as exc:    # noqa: BLE001 - a broken dock must not stop the window
                log.exception("cannot build the %s dock", name)
                dock = _placeholder_dock(title, name, str(exc))
            dock.setObjectName(name)
            self.docks[name] = dock
        left = QtCore.Qt.LeftDockWidgetArea
        self.addDockWidget(left, self.docks["editors"])
        self.addDockWidget(left, self.docks["explanation"])
        self.tabifyDockWidget(self.docks["editors"], self.docks["weights"])
        self.docks["editors"].raise_()
        self.resizeDocks([self.docks["editors"], self.docks["explanation"]], [640, 260],
                         QtCore.Qt.Vertical)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        for key, title in (("file", "&File"), ("edit", "&Edit"), ("view", "&View"),
                           ("presets", "&Presets"), ("help", "&Help")):
            self.menus[key] = bar.addMenu(title)
        quit_action = self.menus["file"].addAction("&Quit", self.close)
        quit_action.setShortcut(QtGui.QKeySequence.Quit)
        quit_action.setObjectName("quit")

        edit = self.menus["edit"]
        edit.addAction("Reset weights to initialisation", self.session.reinitialise)
        edit.addAction("Re-draw with a new random seed", self.session.redraw_seed)

        view = self.menus["view"]
        self.view_actions: dict[str, QtGui.QAction] = {}
        for name, w in self.views.items():
            action = QtGui.QAction(w.title, self, checkable=True, checked=True)
            action.setObjectName(f"show_{name}")
            action.toggled.connect(lambda on, n=name: self.set_view_visible(n, on))
            view.addAction(action)
            self.view_actions[name] = action
        view.addSeparator()
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        view.addAction("Reset layout", self.reset_layout)

        try:
            for preset in presets.list_presets():
                action = self.menus["presets"].addAction(preset.title)
                action.setToolTip(preset.summary)
                action.setStatusTip(preset.summary)
                action.triggered.connect(lambda _=False, n=preset.name: self.load_preset(n))
            self.menus["presets"].setToolTipsVisible(True)
        except Exception as exc:        # noqa: BLE001
            self.menus["presets"].addAction(f"presets unavailable: {exc}").setEnabled(False)
        self.menus["help"].addAction("About rnnviz", self._about)

    def _build_shortcuts(self) -> None:
        keys = ((QtCore.Qt.Key_Left, self.timebar.step_back, "step_back"),
                (QtCore.Qt.Key_Right, self.timebar.step_forward, "step_forward"),
                (QtCore.Qt.Key_Home, self.timebar.first, "first_step"),
                (QtCore.Qt.Key_End, self.timebar.last, "last_step"),
                (QtCore.Qt.Key_Space, self.timebar.toggle_play, "play_pause"))
        self.shortcut_actions: dict[str, QtGui.QAction] = {}
        for key, slot, name in keys:
            action = QtGui.QAction(name.replace("_", " "), self)
            action.setObjectName(name)
            action.setShortcut(QtGui.QKeySequence(key))
            action.setShortcutContext(QtCore.Qt.WindowShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
            self.shortcut_actions[name] = action

    # ----- computing ----------------------------------------------------------------------------
    def schedule_compute(self) -> None:
        """Submit the session's state to the worker once control returns to the event loop."""
        if not self._submit_timer.isActive() and not self._shut_down:
            self._submit_timer.start()

    def submit_now(self) -> None:
        """Submit the session's current state to the worker if its result is not shown yet."""
        self._submit_timer.stop()
        if self._shut_down or not self.session.needs_compute:
            return
        self.worker.submit(self.session.request())

    def params_for(self, result):
        """The parameters a result was computed from (the session's may be newer)."""
        return result.params if result.params is not None else self.session.params

    @QtCore.Slot(object)
    def _result_arrived(self, result) -> None:
        self._partial = None
        self._partial_timer.stop()
        if self._shut_down:
            return
        self.session.accept(result)

    @QtCore.Slot(object)
    def _partial_arrived(self, result) -> None:
        """Show a partial result now, or the newest one PARTIAL_SHOW_MS after the last shown."""
        if self._shut_down or result.request_id != self.session.request_id:
            return
        self._partial = result
        rid, when = self._partial_shown
        wait = 0 if rid != result.request_id else \
            self._partial_gap_ms - (time.perf_counter() - when) * 1e3
        if wait <= 0:
            self._show_partial()
        elif not self._partial_timer.isActive():
            self._partial_timer.start(int(wait) + 1)

    def _show_partial(self) -> None:
        result, self._partial = self._partial, None
        if result is None or self._shut_down:
            return
        start = time.perf_counter()
        self.session.accept(result)         # the views draw it, one per event-loop pass
        # What the last partial cost to draw (views whose data did not change skip drawing).
        took_ms = (time.perf_counter() - start) * 1e3 + sum(
            view.last_draw_ms for view in self.views.values() if view.isVisible())
        self._partial_gap_ms = max(PARTIAL_SHOW_MS, PARTIAL_DUTY * took_ms)
        self._partial_shown = (result.request_id, time.perf_counter())

    @QtCore.Slot(int, str)
    def _computation_failed(self, request_id: int, message: str) -> None:
        if not self._shut_down and self.session.reject(request_id, message) is False:
            log.info("stale computation %d failed: %s", request_id, message)

    @QtCore.Slot(bool)
    def _busy(self, busy: bool) -> None:
        self.status.set_busy(busy)

    # ----- session events -------------------------------------------------------------------------
    def _on_event(self, name: str, **payload) -> None:
        if name in COMPUTE_EVENTS:
            self.schedule_compute()
        if name == "result":
            self._show_result(payload["result"])
        elif name in ("error", "message"):
            text = payload.get("text", "")
            if name == "error":
                self.status.error(text)
            else:
                self.status.showMessage(text, 10000)
        elif name == "problems" and payload.get("problems"):
            self.status.showMessage("; ".join(p.message for p in payload["problems"]), 10000)
        elif name in ("view", "loaded"):
            self.apply_panels(self.session.view.get("panels", {}))

    def _show_result(self, result) -> None:
        self.status.show_result(result)
        self.status.set_progress(1.0 if result.complete else result.flow_progress)

    # ----- panels, layout, style ------------------------------------------------------------------
    def set_view_visible(self, name: str, visible: bool) -> None:
        """Show or hide one plot (the View menu's check follows)."""
        self.views[name].setVisible(visible)
        action = self.view_actions.get(name)
        if action is not None and action.isChecked() != visible:
            action.setChecked(visible)
        self._caption_time_axes()

    def _caption_time_axes(self) -> None:
        """Only the lowest shown plot of the time column captions its t axis (the column
        shares it; every caption would cost each plot a line of height)."""
        shown = [n for n in TIME_VIEWS if not self.views[n].isHidden()]
        for name in TIME_VIEWS:
            self.views[name].set_time_caption(bool(shown) and name == shown[-1])

    def apply_panels(self, panels: dict, hide_only: bool = False) -> None:
        """Show the plots and docks a session's view state asks for (missing keys: shown).

        hide_only (at start-up): only hide what the session hides, keep the remembered layout.
        """
        for name in self.views:
            visible = bool(panels.get(name, True))
            if not (hide_only and visible):
                self.set_view_visible(name, visible)
        for name, dock in self.docks.items():
            if name in panels and not (hide_only and panels[name]):
                dock.setVisible(bool(panels[name]))

    def apply_style(self, style: Style) -> None:
        """Apply a look to every plot, the time bar and the status bar."""
        self.style_ = style
        for view in self.views.values():
            view.apply_style(style)
        self.timebar.setFont(style.font())
        self.status.apply_style(style)
        weights = self.docks["weights"]
        if isinstance(weights, WeightEditorDock):      # not the placeholder of a failed build
            weights.apply_style(style)

    def load_preset(self, name: str) -> None:
        try:
            self.session.load_preset(name)
        except Exception as exc:        # noqa: BLE001 - a broken preset is a message
            self.status.error(f"cannot load preset {name!r}: {exc}")

    def _about(self) -> None:
        QtWidgets.QMessageBox.about(
            self, "About rnnviz",
            "rnnviz shows a vanilla recurrent network's forward pass and its gradient flow "
            "back through time (BPTT), live.\n\ns_t = f(U x_t + W s_(t−1) + b_a),  "
            "y_t = softmax(V s_t + b_y)")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not getattr(self, "_sizes_pinned", False):
            # A plot hidden from the start (the gate heatmaps of the vanilla cell) has no size
            # in its splitter until one is set: set the laid-out sizes once, so that saving and
            # restoring a layout (presentation mode) gives it back exactly.
            self._sizes_pinned = True
            QtCore.QTimer.singleShot(0, self, lambda: [s.setSizes(s.sizes()) for s in self.splitters
                                                       if self.isVisible() and sum(s.sizes())])

    # ----- closing ----------------------------------------------------------------------------
    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        for guard in list(self.close_guards):
            try:
                if guard() is False:
                    event.ignore()
                    return
            except Exception:           # noqa: BLE001 - a failing guard must not trap the user
                log.exception("close guard failed")
        try:
            self.save_layout()
        except Exception:               # noqa: BLE001
            log.exception("cannot save the window layout")
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop playing, stop and join the worker thread, stop listening (idempotent)."""
        if self._shut_down:
            return
        self._shut_down = True
        self._submit_timer.stop()
        self._partial_timer.stop()
        self._partial = None
        self.timebar.pause()
        self._unsubscribe()
        self.timebar._unsubscribe()
        for view in self.views.values():
            view._unsubscribe()
            view._timer.stop()
            result_draws().discard(view)
        training = getattr(self, "training", None)
        if training is not None:
            training.shutdown()             # stops the stream and ends the training process
        # A stage that cannot be interrupted may outlive the window: the worker then stays
        # alive (worker.lingering) until its thread ends, instead of aborting the process.
        self.worker.release()
