"""The compute worker: latest request wins, stale work is dropped, interruption, failures.

No test depends on how fast anything runs: a request can carry a gate that holds its
computation until the test opens it."""
import threading
from dataclasses import dataclass

from PySide6 import QtCore

from rnnviz.ui.worker import ComputeWorker


@dataclass(frozen=True)
class Req:
    id: int
    gate: threading.Event | None = None   # the computation waits for it (none: returns at once)
    polls: bool = True                    # while waiting, give up when should_stop() says so


class Interrupted(Exception):
    """Stands in for rnnviz.engine.analysis.Interrupted."""


class Recorder(QtCore.QObject):
    """Receives the worker's signals on the UI thread (a QObject, so the connection is queued)."""

    def __init__(self):
        super().__init__()
        self.results, self.failures, self.busy, self.threads = [], [], [], []

    @QtCore.Slot(object)
    def on_finished(self, result):
        self.threads.append(threading.current_thread())
        self.results.append(result)

    @QtCore.Slot(int, str)
    def on_failed(self, request_id, message):
        self.failures.append((request_id, message))

    @QtCore.Slot(bool)
    def on_busy(self, busy):
        self.busy.append(busy)


def make(compute):
    worker = ComputeWorker(compute)
    rec = Recorder()
    worker.finished.connect(rec.on_finished)
    worker.failed.connect(rec.on_failed)
    worker.busy.connect(rec.on_busy)
    return worker, rec


def gated_compute(started, computed):
    """A computation held by its request's gate; like the engine, it raises Interrupted when
    should_stop() says so (while it waits if the request polls, and once the gate opens)."""
    def compute(req, should_stop):
        started.append(req.id)
        if req.gate is not None:
            while not req.gate.wait(0.002):
                if req.polls and should_stop():
                    raise Interrupted()
            if should_stop():
                raise Interrupted()
        computed.append(req.id)
        return ("result", req.id, threading.current_thread())
    return compute


def test_results_come_back_on_the_ui_thread_from_another_thread(qtbot):
    started, computed = [], []
    worker, rec = make(gated_compute(started, computed))
    try:
        worker.submit(Req(1))
        qtbot.waitUntil(lambda: len(rec.results) == 1, timeout=5000)
        assert rec.results[0][1] == 1
        assert rec.results[0][2] is not threading.main_thread()     # computed off the UI thread
        assert rec.threads[0] is threading.main_thread()            # delivered on the UI thread
        qtbot.waitUntil(lambda: rec.busy[-1:] == [False], timeout=5000)
        assert rec.busy[0] is True
    finally:
        assert worker.stop()
    assert not worker.is_running()


def test_latest_request_wins_and_pending_ones_are_replaced(qtbot):
    started, computed = [], []
    worker, rec = make(gated_compute(started, computed))
    try:
        gate = threading.Event()
        worker.submit(Req(1, gate, polls=False))    # held until the whole storm is submitted
        qtbot.waitUntil(lambda: started == [1], timeout=5000)
        for i in range(2, 200):                 # a storm while 1 runs
            worker.submit(Req(i))
        gate.set()
        qtbot.waitUntil(lambda: [r[1] for r in rec.results] == [199], timeout=5000)
        qtbot.waitUntil(worker.is_idle, timeout=5000)
        assert started == [1, 199]              # 2..198 were replaced before they started
        assert computed == [199]                # 1 gave up: a newer request was waiting
        assert worker.interrupted == 1
    finally:
        worker.stop()


def test_a_failure_is_a_message_and_the_worker_goes_on(qtbot):
    def compute(req, should_stop):
        if req.id == 1:
            raise ValueError("W must be square")
        return req.id
    worker, rec = make(compute)
    try:
        worker.submit(Req(1))
        qtbot.waitUntil(lambda: bool(rec.failures), timeout=5000)
        assert rec.failures == [(1, "ValueError: W must be square")]
        worker.submit(Req(2))
        qtbot.waitUntil(lambda: rec.results == [2], timeout=5000)
    finally:
        worker.stop()


def test_stop_interrupts_a_long_computation_and_joins(qtbot):
    started, computed = [], []
    worker, rec = make(gated_compute(started, computed))
    worker.submit(Req(1, threading.Event()))  # a gate nobody opens: runs until stopped
    qtbot.waitUntil(lambda: started == [1], timeout=5000)
    assert worker.stop(timeout_ms=5000)         # True: joined, so the computation gave up
    assert computed == [] and not worker.is_running() and worker.interrupted == 1
    worker.submit(Req(2))                       # ignored after stop, no crash
    qtbot.wait(20)
    assert rec.results == []
