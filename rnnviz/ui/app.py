"""The Qt application: pyqtgraph settings, the assembled window (main window + menu actions), a
safe excepthook, running the window, and the headless export behind `rnnviz export`."""
from __future__ import annotations

import logging
import os
import sys
import tempfile
import traceback

log = logging.getLogger(__name__)
GIL_SWITCH_INTERVAL = 0.0005     # seconds


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
    """Close a window for good: stop its workers, delete it, let Qt process the deletion."""
    window.shutdown()
    window.close()
    window.deleteLater()
    app.processEvents()
    app.sendPostedEvents(None, 0)
    app.processEvents()


def build_window(session):
    """The main window on a session with its menu actions installed: live training (its tab,
    dock and menu), File (and its close guard), presentation mode (F5), Help, and every plot's
    export menu."""
    from rnnviz.ui.actions import export, help, presentation, training
    from rnnviz.ui.actions import file as file_actions
    from rnnviz.ui.main_window import MainWindow
    window = MainWindow(session)
    training.install(window)            # first: its plots join window.views for the others
    file_actions.install(window)
    presentation.install(window)
    help.install(window)
    export.install(window)
    return window


def run_window(session=None, argv=None) -> int:
    """Show the main window on a session (the default demo if None) and run until it closes."""
    app = make_app(argv)
    if session is None:
        from rnnviz.state.session import Session
        session = Session.demo()
    window = build_window(session)
    reporter = ErrorReporter(window).install()
    window.show()
    try:
        code = app.exec()
    finally:
        reporter.uninstall()
        close_window(window, app)
    return int(code)


def export_session(session, path, view: str = "window", size=None, theme: str = "light"):
    """Build an offscreen window on a session, export one plot or the whole layout ("window"),
    close it; the path written.

    The window uses the default layout and settings in a temporary folder: an export neither
    depends on nor changes the user's saved window layout."""
    from rnnviz.ui.settings import SETTINGS_DIR_ENV
    previous = os.environ.get(SETTINGS_DIR_ENV)
    with tempfile.TemporaryDirectory(prefix="rnnviz-export-") as folder:
        os.environ[SETTINGS_DIR_ENV] = folder
        try:
            return _export_session(session, path, view, size, theme)
        finally:
            if previous is None:
                os.environ.pop(SETTINGS_DIR_ENV, None)
            else:
                os.environ[SETTINGS_DIR_ENV] = previous


def _export_session(session, path, view, size, theme):
    from rnnviz.ui.actions.export import (
        VIEW_SIZE,
        WHOLE,
        WINDOW_SIZE,
        export_view,
        export_window,
        print_style,
        settle,
    )
    style = print_style(theme)
    app = make_app([])
    if session.needs_compute:
        session.compute_now()
    window = build_window(session)
    try:
        if view == WHOLE:
            window.resize(*(size or WINDOW_SIZE))
        window.show()
        settle(window)
        if view == WHOLE:
            return export_window(window, path, size or WINDOW_SIZE, style)
        return export_view(window, view, path, size or VIEW_SIZE, style)
    finally:
        window.close_guards.clear()
        close_window(window, app)
