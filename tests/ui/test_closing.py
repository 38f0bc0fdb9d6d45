"""Issue 10, closing: a stage that ignores stopping (item 6), Ctrl+C (item 11), closed windows
freed (item 13). The process tests run a real window offscreen and send it real signals."""
import gc
import json
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
import weakref
from pathlib import Path

import pytest
from conftest import wait_for_result
from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.state.session import Session
from rnnviz.ui import worker as worker_module
from rnnviz.ui.app import build_window, export_session, make_app
from rnnviz.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]


def main_windows() -> int:
    """MainWindow objects Python still tracks."""
    gc.collect()
    return sum(isinstance(o, MainWindow) for o in gc.get_objects())


def open_window(qtbot, session=None):
    window = build_window(session if session is not None else Session())
    window.show()
    qtbot.waitExposed(window)
    wait_for_result(qtbot, window)
    return window


def quit_action(window) -> QtGui.QAction:
    return window.findChild(QtGui.QAction, "quit")


# ----- item 13: closed windows are freed --------------------------------------------------------------
def settle_earlier_windows(qtbot):
    """Carry out the deletions earlier tests left queued (their windows' deleteLater), so the
    counts below are of this test's windows alone."""
    for _ in range(3):
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.DeferredDelete)
        gc.collect()
        qtbot.wait(10)


def test_windows_opened_and_closed_in_one_process_are_freed(qtbot):
    """Each open/close cycle left +106 top-level widgets and ~15 MB: a closed window was never
    deleted (deleteLater outside a running event loop is never carried out), and the shared
    one-view-per-pass redraw queue kept its views."""
    app = make_app([])
    settle_earlier_windows(qtbot)
    start_widgets, start_windows = len(app.topLevelWidgets()), main_windows()
    refs = []
    for k in range(10):
        window = open_window(qtbot)
        window.session.set_timestep(k)              # a redraw queued as the window closes
        window.session.apply(seed=k)
        refs.append(weakref.ref(window))
        quit_action(window).trigger()               # File > Quit
        del window
        qtbot.wait(20)                              # back in the event loop
    gc.collect()                # (views and actions refer to their window: cycles)
    assert [r for r in refs if r() is not None] == []
    assert main_windows() == start_windows
    assert len(app.topLevelWidgets()) == start_widgets


def test_exports_in_one_process_leave_no_window_behind(qtbot, tmp_path):
    """`rnnviz export` (and the test suite) build and close a window per image."""
    app = make_app([])
    settle_earlier_windows(qtbot)
    start_widgets, start_windows = len(app.topLevelWidgets()), main_windows()
    for k in range(4):
        export_session(Session(), tmp_path / f"{k}.png", view="states", size=(320, 200))
    assert main_windows() == start_windows
    assert len(app.topLevelWidgets()) == start_widgets


# ----- item 6: a stage that cannot be interrupted ------------------------------------------------------
def test_closing_while_a_stage_ignores_stopping_neither_waits_for_it_nor_aborts(qtbot):
    """Closing used to join the thread for up to 10 s, then destroy it still running (qFatal:
    "QThread: Destroyed while thread 'rnnviz-compute' is still running", SIGABRT). The stand-in
    stage ignores should_stop until the test lets it go, like a 15-22 s backward pass."""
    window = open_window(qtbot)
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def stubborn(request, should_stop, partial=None):
        started.set()
        release.wait(60)                    # never looks at should_stop
        finished.set()
        raise RuntimeError("a result nobody should receive")
    window.worker.add_lane("compute", stubborn)
    window.session.apply(seed=11)
    qtbot.waitUntil(started.is_set, timeout=10000)
    ref, thread = weakref.ref(window), window.worker.thread
    try:
        assert window.close() is True
        assert not finished.is_set()        # closed while the stage still ran
        assert thread.isRunning() and worker_module.lingering() == 1
        del window
        qtbot.wait(20)
        gc.collect()
        assert ref() is None                # the window is freed; only its worker waits
    finally:
        release.set()
    qtbot.waitUntil(lambda: worker_module.lingering() == 0, timeout=10000)
    assert finished.is_set() and thread.isFinished()


def test_a_window_that_fails_to_build_stops_its_worker(qtbot, monkeypatch):
    """An exception while building the window used to leave the worker's thread running, to be
    destroyed with the half-built window (the abort after a bad settings file's TypeError)."""
    threads = []
    real = worker_module.ComputeWorker.__init__

    def record(self, *args, **kwargs):
        real(self, *args, **kwargs)
        threads.append(self.thread)
    monkeypatch.setattr(worker_module.ComputeWorker, "__init__", record)
    monkeypatch.setattr(MainWindow, "_build_central", lambda self: 1 / 0)
    make_app([])
    with pytest.raises(ZeroDivisionError):
        MainWindow(Session())
    assert len(threads) == 1 and threads[0].isFinished()


# ----- items 6 and 11 through a real process -----------------------------------------------------------
DRIVER = """
import sys, time
from rnnviz.ui import worker
from rnnviz.ui.actions import file as file_actions
real = worker.default_compute
STUCK_FOR = float(sys.argv[1])

def stubborn(request, should_stop, partial=None):
    if request.config.seed == 99 and STUCK_FOR:   # the session's computation: cannot be stopped
        print("STUCK", flush=True)
        time.sleep(STUCK_FOR)
        print("UNSTUCK", flush=True)
    return real(request, should_stop, partial)
worker.default_compute = stubborn

if sys.argv[2] == "nobody-answers":       # a user who leaves the question open
    from PySide6 import QtCore, QtWidgets
    file_actions.can_ask = lambda: True

    def question(*args, **kwargs):
        print("ASKED", flush=True)
        QtCore.QEventLoop().exec()          # until the application quits
        return QtWidgets.QMessageBox.StandardButton.Cancel
    QtWidgets.QMessageBox.question = staticmethod(question)

from PySide6 import QtCore
from rnnviz.state.session import Session
from rnnviz.ui.app import run_window
session = Session()
session.apply(seed=99, T=17)              # an unsaved change
import gc
QtCore.QTimer.singleShot(0, lambda: print(f"FROZEN {gc.get_freeze_count()}", flush=True))
QtCore.QTimer.singleShot(0, lambda: print("RUNNING", flush=True))
sys.exit(run_window(session))
"""


class Child:
    """A child process whose stdout lines are collected by a thread (reads never block)."""

    def __init__(self, args, tmp_path):
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env.update(QT_QPA_PLATFORM="offscreen", RNNVIZ_SETTINGS_DIR=str(tmp_path / "settings"),
                   PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen([sys.executable, *args], env=env, cwd=tmp_path, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: queue.Queue = queue.Queue()
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [threading.Thread(target=self._read, daemon=True),
                         threading.Thread(target=lambda: self.err.extend(self.proc.stderr),
                                          daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def wait_for_line(self, text: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self.proc.kill()
                raise AssertionError(f"no {text!r} from the process; it wrote {self.out}")
            self.out.append(line)
            if line == text:
                return

    def finish(self, timeout: float = 60.0) -> tuple[int, str, str]:
        """Wait for the exit: (exit code, the rest of stdout, stderr); killed after timeout."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"still running after {timeout} s") from None
        for reader in self._readers:
            reader.join(10)
        while not self.lines.empty():
            line = self.lines.get()
            if line is not None:
                self.out.append(line)
        return self.proc.returncode, "\n".join(self.out), "".join(self.err)


@pytest.fixture
def child(tmp_path):
    """Start children that are killed at the end of the test whatever happened."""
    started = []

    def make(args):
        started.append(Child(args, tmp_path))
        return started[-1]
    yield make
    for c in started:
        if c.proc.poll() is None:
            c.proc.kill()
            c.proc.wait(10)


def recovered(stderr: str, tmp_path) -> dict:
    """The recovery file a closing process named on stderr, and its content."""
    line = next(line for line in stderr.splitlines() if "unsaved changes kept in" in line)
    path = Path(line.split("kept in ", 1)[1].split(" (open it", 1)[0])
    assert path.parent == tmp_path / "settings" / "recovery"
    return json.loads(path.read_text(encoding="utf-8"))


def test_ctrl_c_closes_the_window_during_a_stuck_stage_and_keeps_unsaved_work(tmp_path, child):
    """SIGINT used to be ignored (5 of 5 runs). Now it closes the window as File > Quit does;
    offscreen nobody can answer "save the changes?", so they go to a recovery file; the stage
    that ignores stopping is left behind and the process exits without the thread abort."""
    (tmp_path / "driver.py").write_text(textwrap.dedent(DRIVER))
    proc = child(["driver.py", "120", "offscreen"])
    proc.wait_for_line("STUCK")
    proc.proc.send_signal(signal.SIGINT)
    code, out, err = proc.finish()
    assert code == 130, err                       # 128 + SIGINT, not -6 (SIGABRT)
    assert "UNSTUCK" not in out                   # it did not wait for the stage
    assert "Destroyed while thread" not in err and "Traceback" not in err, err
    assert "exiting without waiting" in err
    doc = recovered(err, tmp_path)
    assert doc["config"]["seed"] == 99 and doc["config"]["T"] == 17


def test_a_second_ctrl_c_while_the_question_is_open_keeps_the_work_and_quits(tmp_path, child):
    """With a display the first Ctrl+C asks "save the changes?"; a second one while nobody
    answers keeps the changes in a recovery file and quits instead of waiting for an answer."""
    (tmp_path / "driver.py").write_text(textwrap.dedent(DRIVER))
    proc = child(["driver.py", "0", "nobody-answers"])
    proc.wait_for_line("RUNNING")
    frozen = [int(line.split()[1]) for line in proc.out if line.startswith("FROZEN ")]
    assert frozen and frozen[0] > 20000       # the built window is out of the collector's passes
    proc.proc.send_signal(signal.SIGINT)
    proc.wait_for_line("ASKED")
    proc.proc.send_signal(signal.SIGINT)
    code, out, err = proc.finish()
    assert code == 130, err
    assert "Destroyed while thread" not in err and "Traceback" not in err, err
    assert recovered(err, tmp_path)["config"]["seed"] == 99


def compute_thread_started(pid: int) -> bool:
    """Whether the process runs a thread named rnnviz-compute (its window has been built)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for task in tasks:
        try:
            if Path(f"/proc/{pid}/task/{task}/comm").read_text().strip() == "rnnviz-compute":
                return True
        except OSError:
            pass
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_ends_rnnviz_started_from_the_terminal(tmp_path, child):
    """`rnnviz` itself (the default demo, nothing unsaved): Ctrl+C ends it, exit code 130."""
    proc = child(["-m", "rnnviz"])
    deadline = time.monotonic() + 60
    while not compute_thread_started(proc.proc.pid):
        assert proc.proc.poll() is None and time.monotonic() < deadline, proc.finish()
        time.sleep(0.05)
    proc.proc.send_signal(signal.SIGINT)
    code, out, err = proc.finish()
    assert code == 130, err
    assert "Traceback" not in err and "Destroyed while thread" not in err, err
    assert "unsaved" not in err                   # nothing to keep
    assert not (tmp_path / "settings" / "recovery").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_rnnviz_starts_with_a_corrupted_settings_file(tmp_path, child):
    """Issue 10 item 7 from the terminal: `geometry=garbage` made every start end in a
    TypeError, then the thread abort (exit 134)."""
    (tmp_path / "settings").mkdir()
    (tmp_path / "settings" / "rnnviz.ini").write_text("[window]\nversion=1\ngeometry=garbage\n")
    proc = child(["-m", "rnnviz"])
    deadline = time.monotonic() + 60
    while not compute_thread_started(proc.proc.pid):
        assert proc.proc.poll() is None and time.monotonic() < deadline, proc.finish()
        time.sleep(0.05)
    proc.proc.send_signal(signal.SIGINT)
    code, out, err = proc.finish()
    assert code == 130, err
    assert "Traceback" not in err and "TypeError" not in err, err
    assert "garbage" not in (tmp_path / "settings" / "rnnviz.ini").read_text()


# ----- item 11: closing offscreen with unsaved changes --------------------------------------------------
def test_closing_offscreen_with_unsaved_changes_keeps_them_in_a_recovery_file(qtbot, capsys):
    from rnnviz.ui.actions import file as file_actions
    window = open_window(qtbot)
    window.session.apply(seed=42)
    assert window.session.dirty
    quit_action(window).trigger()
    err = capsys.readouterr().err
    folder = Path(os.environ["RNNVIZ_SETTINGS_DIR"]) / "recovery"
    (path,) = folder.iterdir()
    assert str(path) in err
    assert Session().load_file(path) is None        # a session file that opens
    assert file_actions.recent_files()[0] == str(path.resolve())   # File > Open recent lists it
    other = open_window(qtbot)
    other.session.apply(seed=43)
    other.session.save_file(folder.parent / "saved.json")
    quit_action(other).trigger()                    # nothing unsaved: no recovery file
    assert list(folder.iterdir()) == [path]
    QtWidgets.QApplication.processEvents()
