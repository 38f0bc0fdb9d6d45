"""Qt tests run offscreen with settings in a temporary folder; `window` is a live main window."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6 import QtCore  # noqa: E402


@pytest.fixture(autouse=True)
def _settings_dir(tmp_path, monkeypatch):
    """Never read or write the user's settings."""
    monkeypatch.setenv("RNNVIZ_SETTINGS_DIR", str(tmp_path / "settings"))


def flush(window):
    """Let the window finish: pending submissions, results, coalesced redraws."""
    from PySide6 import QtWidgets
    app = QtWidgets.QApplication.instance()
    for _ in range(3):
        app.processEvents()
    for view in window.views.values():
        view.flush()


def wait_for_result(qtbot, window, timeout=10000):
    """Wait until the window shows the result of the session's current state, and what its
    drawing asked the worker for (the connectivity of the selected step) has come back too."""
    qtbot.waitUntil(lambda: not window.session.needs_compute and window.worker.is_idle(),
                    timeout=timeout)
    flush(window)                                   # drawing may submit a connectivity request
    qtbot.waitUntil(window.worker.is_idle, timeout=timeout)
    flush(window)
    return window.session.result


@pytest.fixture
def make_window(qtbot):
    """A factory for shown main windows on a session; every one is closed cleanly afterwards."""
    from rnnviz.ui.app import build_window, make_app
    make_app([])
    windows = []

    def make(session=None):
        from rnnviz.state.session import Session
        w = build_window(session if session is not None else Session())
        windows.append(w)
        w.show()
        qtbot.waitExposed(w)
        wait_for_result(qtbot, w)
        return w

    yield make
    import shiboken6
    for w in windows:
        if shiboken6.isValid(w):        # not closed (and so deleted) by the test itself
            w.close()
    qtbot.wait(10)


@pytest.fixture
def window(make_window):
    """The main window on the default session, shown, with its first result drawn."""
    return make_window()


@pytest.fixture
def session():
    """A default Session with its result computed (a module may override it with its own)."""
    from rnnviz.state.session import Session
    from rnnviz.ui.app import make_app
    make_app([])
    s = Session()
    s.compute_now()
    return s


def shown(qtbot, view, size=(500, 300)):
    """A plot view shown at a size and drawn from its session (as a window would)."""
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    view.refresh()
    return view


def new_view(cls, session):
    """A plot view of class cls on a session, as the window builds it but without workers (the
    connectivity view gets the window's connectivity computation and runs it in-line)."""
    from rnnviz.state.connectivity import compute_connectivity
    from rnnviz.ui.views.connectivity import ConnectivityView
    return cls(session, compute_connectivity) if cls is ConnectivityView else cls(session)


# ----- a user's gestures --------------------------------------------------------------------------
def drag_slider_to(qtbot, slider, value):
    """Press the handle, move the mouse to where `value` sits, release: a user's drag."""
    from PySide6 import QtCore, QtWidgets
    option = QtWidgets.QStyleOptionSlider()
    slider.initStyleOption(option)
    style = slider.style()
    handle = style.subControlRect(QtWidgets.QStyle.CC_Slider, option, QtWidgets.QStyle.SC_SliderHandle, slider)
    groove = style.subControlRect(QtWidgets.QStyle.CC_Slider, option, QtWidgets.QStyle.SC_SliderGroove, slider)
    span = groove.width() - handle.width()
    x = groove.x() + handle.width() // 2 + round(span * value / slider.maximum())
    target = QtCore.QPoint(x, handle.center().y())
    qtbot.mousePress(slider, QtCore.Qt.LeftButton, pos=handle.center())
    for k in range(1, 5):                      # several events mid-drag
        qtbot.mouseMove(slider, handle.center() + (target - handle.center()) * k / 4)
    qtbot.mouseRelease(slider, QtCore.Qt.LeftButton, pos=target)


def click_weight(qtbot, dock, i, j):
    """Click the centre of entry (i, j) of the weight dock's heatmap with the mouse."""
    from PySide6 import QtCore
    scene_pos = dock.image.mapToScene(QtCore.QPointF(j + 0.5, i + 0.5))
    view_pos = dock.graphics.mapFromScene(scene_pos)
    qtbot.mouseClick(dock.graphics.viewport(), QtCore.Qt.LeftButton, pos=view_pos)


def type_weight(qtbot, dock, text):
    """Type over the value in the weight dock's entry box and press Enter."""
    from PySide6 import QtCore
    line = dock.entry_editor.line
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, QtCore.Qt.Key_Return)


class EventCounter(QtCore.QObject):
    """Counts the events of one kind that reach a widget (`count`)."""

    def __init__(self, widget, kind):
        super().__init__()
        self.kind, self.count = kind, 0
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):
        if event.type() == self.kind:
            self.count += 1
        return False

