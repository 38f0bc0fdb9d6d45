"""Starting and ending the Qt application: pyqtgraph settings, the window, a safe excepthook."""
from __future__ import annotations

import logging
import os
import sys
import traceback

log = logging.getLogger(__name__)
GIL_SWITCH_INTERVAL = 0.0005     # seconds


def has_display() -> bool:
    """Whether a window can be shown (a display, or a Qt platform chosen explicitly)."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


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
            if self.window is not None and not getattr(self.window, "_shut_down", True):
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


def run_window(session=None, argv=None) -> int:
    """Show the main window on a session (the default demo if None) and run until it closes."""
    app = make_app(argv)
    from rnnviz.ui.main_window import MainWindow
    if session is None:
        from rnnviz.state.session import Session
        session = Session.demo()
    window = MainWindow(session)
    reporter = ErrorReporter(window).install()
    window.show()
    try:
        code = app.exec()
    finally:
        reporter.uninstall()
        close_window(window, app)
    return int(code)
