"""The Qt application: pyqtgraph settings, the assembled window (main window + menu actions), a
safe excepthook, running the window, and the headless export behind `rnnviz export`."""
from __future__ import annotations

import gc
import logging
import os
import sys
import tempfile
import traceback

log = logging.getLogger(__name__)
GIL_SWITCH_INTERVAL = 0.0005     # seconds
EXIT_INTERRUPTED = 130           # the shell's code for a program ended by Ctrl+C (128 + SIGINT)


def make_app(argv=None):
    """The QApplication (created once) with pyqtgraph configured: row-major, antialiased, no GL."""
    import pyqtgraph as pg
    from PySide6 import QtWidgets

    from rnnviz.ui.settings import APPLICATION, ORGANISATION

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True, useOpenGL=False,
                        background="w", foreground="k")
    # The engine runs on a worker thread; with Python's default 5 ms GIL switch interval every
    # Qt call back into Python from the UI thread could wait that long, stretching a 25 ms
    # redraw to 100+ ms while the worker computes.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("rnnviz")
    return app


class ErrorReporter:
    """A sys.excepthook that tells the user about an unexpected error instead of aborting."""

    def __init__(self, window=None):
        self.window = window
        self.previous = sys.excepthook
        self.count = 0
        self._dialog = None

    def __call__(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            self.previous(exc_type, exc, tb)
            return
        self.count += 1
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("unexpected error:\n%s", details)
        text = f"unexpected error ({exc_type.__name__}: {exc}); the window carries on"
        try:
            if self.window is not None and not self.window._shut_down:
                self.window.status.error(text)
                self._show_dialog(text, details)
        except Exception:               # noqa: BLE001 - the hook itself must never raise
            print(details, file=sys.stderr)

    def _show_dialog(self, text: str, details: str) -> None:
        from PySide6 import QtWidgets
        if self._dialog is not None and self._dialog.isVisible():
            return                      # one dialog at a time, not a cascade
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Warning, "rnnviz: unexpected error",
                                    text, QtWidgets.QMessageBox.Ok, self.window)
        box.setDetailedText(details)
        box.setModal(False)
        box.show()                      # non-blocking: the event loop keeps running
        self._dialog = box

    def install(self) -> ErrorReporter:
        sys.excepthook = self
        return self

    def uninstall(self) -> None:
        if sys.excepthook is self:
            sys.excepthook = self.previous


def close_window(window, app) -> None:
    """Close a window for good: stop its worker, delete it and what it holds, now.

    (QObject.deleteLater alone is never carried out outside a running event loop: each
    closed window used to stay, +106 top-level widgets and ~15 MB each.)"""
    import shiboken6
    from PySide6 import QtCore
    if shiboken6.isValid(window):           # not deleted already (closed in the event loop)
        window.shutdown()
        window.close()
        window.deleteLater()
    for _ in range(3):                      # deleting a window may post more deletions
        app.sendPostedEvents(None, QtCore.QEvent.DeferredDelete)
        app.processEvents()


class Interrupts:
    """Ctrl+C in the terminal (SIGINT) closes the window as File > Quit does, unsaved-changes
    question included; a second Ctrl+C while that question is open keeps the unsaved changes
    in a recovery file and quits without asking.

    Python runs a signal handler only when the interpreter gets control, and Qt's event loop
    runs in C++: a timer ticking every TICK_MS gives it control."""

    TICK_MS = 200

    def __init__(self, app, window=None):
        import signal

        from PySide6 import QtCore
        self.window, self.app = window, app
        self.received = 0                   # SIGINTs seen
        self.closing = False                # the first one's close (and question) under way
        self.forced = False                 # a second one quit without asking
        self._signal = signal
        self._timer = QtCore.QTimer()
        self._timer.timeout.connect(lambda: None)
        self._previous = signal.signal(signal.SIGINT, self._on_signal)
        self._timer.start(self.TICK_MS)

    def _on_signal(self, signum, frame) -> None:
        from PySide6 import QtCore
        self.received += 1
        QtCore.QTimer.singleShot(0, self._force_quit if self.closing else self._close)

    def _close(self) -> None:
        import shiboken6
        if self.window is None or not shiboken6.isValid(self.window):
            self.app.quit()
            return
        self.closing = True
        try:
            closed = self.window.close()    # the Quit action's path (close guards ask)
        finally:
            self.closing = False
        if not closed and not self.forced:  # the user chose Cancel: carry on as before
            self.received = 0

    def _force_quit(self) -> None:
        import shiboken6
        self.forced = True
        if self.window is not None and shiboken6.isValid(self.window):
            actions = getattr(self.window, "file_actions", None)
            if actions is not None:
                actions.keep_unsaved()
            self.window.close_guards.clear()
        self.app.quit()

    def uninstall(self) -> None:
        self._timer.stop()
        self._signal.signal(self._signal.SIGINT, self._previous)


def exit_now(code: int) -> None:
    """End the process at once with `code`, output flushed: a computation that cannot be
    interrupted still runs on its thread, and Python's normal exit would destroy that running
    QThread (qFatal, SIGABRT) or wait for it."""
    log.warning("a computation that cannot be interrupted was still running: exiting "
                "without waiting for it")
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:               # noqa: BLE001 - a closed stream
            pass
    os._exit(code)


def build_window(session):
    """The main window on a session with its menu actions installed: live training (its tab,
    dock and menu), File (and its close guard, and weight import/export), presentation mode
    (F5), Help, and every plot's export menu."""
    from rnnviz.ui.actions import export, help, presentation, training
    from rnnviz.ui.actions import file as file_actions
    from rnnviz.ui.actions import weights as weight_actions
    from rnnviz.ui.main_window import MainWindow
    window = MainWindow(session)
    training.install(window)            # first: its plots join window.views for the others
    file_actions.install(window)
    weight_actions.install(window)       # File > Import weights…, Export weights…
    presentation.install(window)
    help.install(window)
    export.install(window)
    return window


def freeze_startup_objects() -> None:
    """Leave the objects of the built window (~80,000: modules, widgets, plot items) out of the
    cyclic garbage collector's later passes (gc.freeze). A full pass over them took 33-41 ms on
    the UI thread, a stall beside a draw while training redraws 20+ times a second; after the
    freeze a pass scans only what came since (a few thousand objects: well under a millisecond)."""
    gc.collect()
    gc.freeze()


def run_window(session=None, argv=None) -> int:
    """Show the main window on a session (the default demo if None) and run until it closes."""
    app = make_app(argv)
    interrupts = Interrupts(app)        # a Ctrl+C while the window is built closes it at once
    if session is None:
        from rnnviz.state.session import Session
        session = Session.demo()
    try:
        window = build_window(session)
    except BaseException:
        interrupts.uninstall()
        raise
    interrupts.window = window
    reporter = ErrorReporter(window).install()
    window.show()
    freeze_startup_objects()
    try:
        code = app.exec()
    finally:
        interrupts.uninstall()
        reporter.uninstall()
        close_window(window, app)
    code = EXIT_INTERRUPTED if interrupts.received and not code else int(code)
    from rnnviz.ui.worker import lingering
    if lingering():
        exit_now(code)
    return code


def export_session(session, path, view: str = "window", size=None, theme: str = "light",
                   progress=None):
    """Build an offscreen window on a session, export one plot or the whole layout ("window"),
    close it; the path written.

    The window uses the default layout and settings in a temporary folder: an export neither
    depends on nor changes the user's saved window layout. `progress`, when given, hears of
    each step: progress.stage(text) as a step starts, progress.flow(fraction) as the gradient
    flow fills in (rnnviz.cli.ExportProgress prints them)."""
    from rnnviz.ui.settings import SETTINGS_DIR_ENV
    previous = os.environ.get(SETTINGS_DIR_ENV)
    with tempfile.TemporaryDirectory(prefix="rnnviz-export-") as folder:
        os.environ[SETTINGS_DIR_ENV] = folder
        try:
            return _export_session(session, path, view, size, theme, progress)
        finally:
            if previous is None:
                os.environ.pop(SETTINGS_DIR_ENV, None)
            else:
                os.environ[SETTINGS_DIR_ENV] = previous


class _Silent:
    def stage(self, text: str) -> None:
        pass

    def flow(self, fraction: float) -> None:
        pass


def _compute_for_export(session, progress) -> None:
    """The session's result, computed here (no worker), telling `progress` about each stage."""
    from rnnviz.state.compute import STAGE_NAMES, compute
    result = compute(session.request(), partial=lambda r: progress.flow(r.flow_progress),
                     stage=lambda name: progress.stage(STAGE_NAMES.get(name, name)))
    session.accept(result)


def _export_session(session, path, view, size, theme, progress=None):
    from rnnviz.ui.actions.export import (
        VIEW_SIZE,
        WHOLE,
        WINDOW_SIZE,
        export_view,
        export_window,
        print_style,
        settle,
    )
    progress = progress or _Silent()
    style = print_style(theme)
    app = make_app([])
    if session.needs_compute:
        _compute_for_export(session, progress)
    progress.stage("laying out the window (and the input connectivity)")
    window = build_window(session)
    try:
        if view == WHOLE:
            window.resize(*(size or WINDOW_SIZE))
        window.show()
        settle(window)
        w, h = size or (WINDOW_SIZE if view == WHOLE else VIEW_SIZE)
        progress.stage(f"drawing and writing the {w}x{h} image")
        if view == WHOLE:
            return export_window(window, path, size or WINDOW_SIZE, style)
        return export_view(window, view, path, size or VIEW_SIZE, style)
    finally:
        window.close_guards.clear()
        close_window(window, app)
