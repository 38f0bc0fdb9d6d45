"""One worker thread for everything: lanes served in order, latest request wins per lane, and a
streaming job that advances between requests without losing a record."""
import threading
import time
from dataclasses import dataclass

from rnnviz.state.jobs import RecordLog, Stream
from rnnviz.ui.worker import ComputeWorker


@dataclass(frozen=True)
class Req:
    id: int


def test_a_connectivity_lane_does_not_cancel_the_compute_lane(qtbot):
    order, results = [], []
    gate = threading.Event()

    def compute(req, should_stop):
        gate.wait(5)
        order.append(("compute", req.id))
        return req.id

    def other(req, should_stop):
        order.append(("other", req.id))
        return req.id

    worker = ComputeWorker(compute)
    worker.add_lane("connectivity", other)
    worker.finished.connect(lambda r: results.append(("compute", r)))
    worker.done.connect(lambda lane, r: results.append((lane, r)))
    try:
        worker.submit(Req(1))
        qtbot.waitUntil(lambda: not worker.is_idle("compute"), timeout=2000)
        worker.submit(Req(10), lane="connectivity")
        worker.submit(Req(11), lane="connectivity")          # replaces 10 before it starts
        gate.set()
        qtbot.waitUntil(lambda: len(results) == 2, timeout=5000)
        assert results == [("compute", 1), ("connectivity", 11)]
        assert order == [("compute", 1), ("other", 11)]
    finally:
        worker.stop()


def test_a_stream_runs_between_requests_and_loses_no_record(qtbot):
    log = RecordLog()
    served = []

    def make(should_stop):
        for i in range(300):
            time.sleep(0.0005)
            yield i

    worker = ComputeWorker(lambda req, should_stop: served.append((req.id, len(log))) or req.id)
    ended = []
    worker.stream_ended.connect(lambda job_id, error: ended.append((job_id, error)))
    try:
        worker.start_stream(Stream(7, make, log))
        qtbot.waitUntil(lambda: len(log) >= 20, timeout=5000)
        worker.submit(Req(1))                                 # an edit while training runs
        qtbot.waitUntil(lambda: bool(served), timeout=5000)
        qtbot.waitUntil(lambda: bool(ended), timeout=10000)
        assert ended == [(7, None)] and log.all() == list(range(300))
        assert 20 <= served[0][1] < 300                       # served in the middle of the run
        assert worker.is_idle()
    finally:
        worker.stop()


def test_stopping_the_stream_ends_it_after_the_current_record(qtbot):
    log = RecordLog()

    def make(should_stop):
        i = 0
        while True:
            time.sleep(0.001)
            yield i
            i += 1

    worker = ComputeWorker(lambda req, should_stop: req.id)
    ended = []
    worker.stream_ended.connect(lambda job_id, error: ended.append(error))
    try:
        worker.start_stream(Stream(8, make, log))
        qtbot.waitUntil(lambda: len(log) >= 5, timeout=5000)
        worker.stop_stream()
        qtbot.waitUntil(lambda: bool(ended), timeout=5000)
        n = len(log)
        assert ended == ["cancelled"] and log.all() == list(range(n)) and worker.is_idle()
    finally:
        worker.stop()


def test_closing_while_a_stream_runs_joins_the_thread(qtbot):
    def make(should_stop):
        while True:
            yield 0
    worker = ComputeWorker(lambda req, should_stop: req.id)
    worker.start_stream(Stream(9, make, RecordLog()))
    qtbot.waitUntil(lambda: not worker.is_idle(), timeout=2000)
    assert worker.stop(timeout_ms=5000) and not worker.is_running()
