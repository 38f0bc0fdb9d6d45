"""The one background thread that runs the engine: latest request wins, stale work is abandoned."""
from __future__ import annotations

import ctypes
import inspect
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6 import QtCore

log = logging.getLogger(__name__)

ComputeFn = Callable[[Any, Callable[[], bool]], Any]


def default_compute(request, should_stop, partial=None):
    """The state layer's compute (imported lazily so importing the UI stays cheap)."""
    from rnnviz.state.compute import compute
    return compute(request, should_stop=should_stop, partial=partial)


def _takes_partial(fn) -> bool:
    """Whether a compute function accepts a `partial` callback (intermediate results)."""
    try:
        return "partial" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def limit_blas_threads(n: int) -> bool:
    """Let BLAS calls made from the calling thread use at most n threads (OpenBLAS >= 0.3.27).

    The engine's large matrix products would otherwise take every core, and the UI thread,
    starved, could not paint. False when the BLAS library does not offer it (nothing changed).
    """
    import numpy  # noqa: F401 - loads the BLAS library
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return False
    for path in sorted(paths):
        try:
            setter = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        setter.argtypes, setter.restype = [ctypes.c_int], ctypes.c_int
        setter(int(n))
        return True
    return False


# The worker's thread yields the CPU to the UI thread when they compete for a core (another
# program busy on the other one): nice 5 weighs it at a third of the UI thread, so the UI thread
# paints at once (on a loaded 2-core machine its paints took 2-3 times their CPU time while the
# worker ran at the same priority); with a core free the worker still gets all of it.
WORKER_NICE = 5


def lower_thread_priority(increment: int = WORKER_NICE) -> bool:
    """Raise the calling thread's nice value by `increment` (Linux, where nice is per thread);
    False where that is not offered (nothing changed)."""
    if not sys.platform.startswith("linux") or not hasattr(os, "setpriority"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + increment))
    except OSError:
        return False
    return True


# ----- the UI thread first -----------------------------------------------------------------------
# The interpreter lock passes between threads every switch interval (0.5 ms, app.py), so each of
# the dozens of Qt -> Python calls inside one paint (bounding rects, item paints) could wait that
# long while the worker runs Python: a view's 3 ms paint took 20 ms (train_copy while training,
# 15.7 follows a second). The UI thread marks its draws and paints; the worker's computation
# waits at its next poll (should_stop) until they end, or UI_YIELD_MAX_S at most.
UI_YIELD_MAX_S = 0.05
_ui_idle = threading.Event()
_ui_idle.set()
_ui_depth = [0]                 # nested turns (the UI thread only)


class ui_turn:
    """Context manager around a draw or paint of the UI thread (re-entrant)."""

    __slots__ = ()

    def __enter__(self):
        _ui_depth[0] += 1
        _ui_idle.clear()

    def __exit__(self, *exc):
        _ui_depth[0] -= 1
        if _ui_depth[0] <= 0:
            _ui_depth[0] = 0
            _ui_idle.set()
        return False


def yield_to_ui() -> None:
    """On the worker's thread: wait while the UI thread draws or paints (at most UI_YIELD_MAX_S)."""
    if not _ui_idle.is_set():
        _ui_idle.wait(UI_YIELD_MAX_S)


# ----- workers whose thread outlives its window ------------------------------------------------
# A QThread destroyed while it runs aborts the process (qFatal "QThread: Destroyed while thread
# is still running", SIGABRT), and some stages cannot be interrupted (a 2048-unit backward pass
# runs ~15-22 s in one NumPy sweep). A worker released while its thread still runs is kept
# here, and so alive, until the thread has ended; the UI thread checks every REAP_MS.
_LINGERING: set = set()
_LINGERING_LOCK = threading.Lock()
REAP_MS = 100
RELEASE_GRACE_MS = 500          # how long closing a window waits for its computation to stop


def lingering() -> int:
    """How many released workers still have a running thread (a stage that ignores stopping)."""
    _reap()
    with _LINGERING_LOCK:
        return len(_LINGERING)


def _reap() -> None:
    """Forget released workers whose thread has ended (joined first: then safe to destroy)."""
    with _LINGERING_LOCK:
        ended = [w for w in _LINGERING if w._thread.wait(0)]
        _LINGERING.difference_update(ended)


def _reap_later() -> None:
    _reap()
    with _LINGERING_LOCK:
        waiting = bool(_LINGERING)
    if waiting:
        QtCore.QTimer.singleShot(REAP_MS, _reap_later)


def _is_interruption(exc: BaseException) -> bool:
    """Whether an exception is the engine's Interrupted (raised when should_stop() said so)."""
    return any(cls.__name__ == "Interrupted" for cls in type(exc).__mro__)


class ComputeWorker(QtCore.QObject):
    """A long-lived QObject in its own QThread: requests in lanes, and one streaming job.

    Lanes. `submit(request, lane)` may be called any number of times from the UI thread; per
    lane only the newest request that has not started is kept, and a running computation is
    asked to stop when a newer request of its lane arrives (latest request wins). The
    "compute" lane runs `compute(request, should_stop[, partial])`; `add_lane(name, fn)` adds
    others (the connectivity). Lanes are served in the order they were added, so a new
    computation goes before a connectivity. Results come back through `finished(result)`
    ("compute") or `done(lane, result)` (other lanes), with the request's id inside; failures
    through `failed(request_id, message)`; never an exception. A compute function with a
    `partial` parameter may hand over intermediate results through `partial(result)`
    (dropped once a newer request is waiting). `offload`, when set, is asked first for
    each "compute" request: its result (computed elsewhere: a child process while a run
    trains, state.compute_process) or None to compute here.

    Stream. `start_stream(stream)` runs a state.jobs.Stream (a training run) one record at a
    time whenever no request is waiting, so edits and redraws of the views interleave with
    training iterations and no record is dropped (they go to the stream's log). A new stream
    replaces the running one; `stream_ended(job_id, error)` tells when it stopped.
    """

    finished = QtCore.Signal(object)
    partial = QtCore.Signal(object)
    done = QtCore.Signal(str, object)
    failed = QtCore.Signal(int, str)
    busy = QtCore.Signal(bool)
    stream_ended = QtCore.Signal(int, object)
    _wake = QtCore.Signal()

    def __init__(self, compute: ComputeFn | None = None, name: str = "rnnviz-compute"):
        super().__init__()
        self._lanes: dict[str, ComputeFn] = {"compute": compute or default_compute}
        self._lock = threading.Lock()
        self._pending: dict[str, object] = {}    # lane -> newest request not yet started
        self._stream = None                      # the streaming job running, if any
        self._scheduled = False         # a wake-up is queued
        self._running_id: int | None = None
        self._running_lane: str | None = None
        self._stopped = False
        self._blas_limited = False
        self.offload = None             # asked first for each "compute": a result, or None
                                        # to compute here (state.compute_process)
        self.last_ms = 0.0              # wall time of the last finished computation
        self.completed = 0              # finished computations (for tests/benchmarks)
        self.interrupted = 0            # abandoned computations
        self._thread = QtCore.QThread()
        self._thread.setObjectName(name)
        self.moveToThread(self._thread)
        self._wake.connect(self._run, QtCore.Qt.QueuedConnection)
        self._thread.start()

    # ----- UI thread ----------------------------------------------------------------------
    def add_lane(self, lane: str, compute: ComputeFn) -> None:
        """Serve requests submitted to `lane` with compute(request, should_stop)."""
        self._lanes[lane] = compute

    def submit(self, request, lane: str = "compute") -> None:
        """Queue a request (an object with an int `id`), replacing any of its lane not started."""
        if self._stopped:
            return
        if lane not in self._lanes:
            raise ValueError(f"unknown lane {lane!r}; known: {', '.join(self._lanes)}")
        with self._lock:
            self._pending[lane] = request
        self._schedule()

    def start_stream(self, stream) -> None:
        """Run a streaming job (replacing, and cancelling, the one running)."""
        if self._stopped:
            return
        with self._lock:
            old, self._stream = self._stream, stream
        if old is not None and old is not stream:
            old.cancel()
        self._schedule()

    def stop_stream(self) -> None:
        """Cancel the running streaming job (it stops after its current record)."""
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.cancel()
            self._schedule()

    def _schedule(self) -> None:
        with self._lock:
            wake = not self._scheduled
            self._scheduled = True
        if wake:
            self._wake.emit()

    @property
    def thread(self) -> QtCore.QThread:
        """The QThread the computations run on."""
        return self._thread

    def is_running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread.isRunning()

    def is_idle(self, lane: str | None = None) -> bool:
        """No computation running and none pending (in `lane`, or at all, stream included)."""
        with self._lock:
            if lane is not None:
                return lane not in self._pending and self._running_lane != lane
            return (not self._pending and self._running_id is None and not self._scheduled
                    and self._stream is None)

    def stop(self, timeout_ms: int = 10000) -> bool:
        """Drop pending work, interrupt the running one, join the thread; True when joined."""
        self._stopped = True
        with self._lock:
            self._pending.clear()
            stream = self._stream
        if stream is not None:
            stream.cancel()
        self._thread.requestInterruption()
        self._thread.quit()
        joined = self._thread.wait(timeout_ms)
        if not joined:
            log.info("compute thread did not stop within %d ms", timeout_ms)
        return joined

    def release(self, grace_ms: int = RELEASE_GRACE_MS) -> bool:
        """Stop, waiting at most grace_ms; True when the thread has ended. Otherwise (a stage
        that cannot be interrupted) the worker is kept alive until its thread ends, so that
        whoever owned it may go: its QThread is never destroyed while it runs."""
        if self.stop(grace_ms):
            return True
        with _LINGERING_LOCK:
            _LINGERING.add(self)
        log.info("the computation in progress cannot be interrupted; it is left to finish "
                 "in the background (%s)", self._thread.objectName())
        _reap_later()
        return False

    # ----- worker thread ------------------------------------------------------------------
    def _should_stop(self) -> bool:
        """For the running request: stop when interrupted or a newer one of its lane waits
        (polled often by the engine: it first lets a draw or paint of the UI thread finish)."""
        yield_to_ui()
        return self._superseded()

    def _superseded(self) -> bool:
        """Interrupted, or a newer request of the running one's lane waits (no yield: for a
        wait that holds no lock, such as the offload's on its child process)."""
        return self._thread.isInterruptionRequested() or self._running_lane in self._pending

    def _emit_partial(self, result) -> None:
        if not self._should_stop():
            self.partial.emit(result)

    def _next(self):
        """(lane, request) of the first lane with a request waiting, or (None, stream or None)."""
        with self._lock:
            if self._stopped:
                self._scheduled = False
                return None, None
            for lane in self._lanes:
                if lane in self._pending:
                    request = self._pending.pop(lane)
                    self._running_id, self._running_lane = int(getattr(request, "id", -1)), lane
                    return lane, request
            self._running_id, self._running_lane = None, None
            if self._stream is None:
                self._scheduled = False
            return None, self._stream

    @QtCore.Slot()
    def _run(self) -> None:
        """Serve waiting requests, lane by lane, and advance the stream while none waits."""
        if not self._blas_limited:          # leave a core to the UI thread, and yield to it
            self._blas_limited = True
            limit_blas_threads(max(1, (os.cpu_count() or 2) - 1))
            lower_thread_priority()
        announced = False
        while True:
            lane, job = self._next()
            if job is None:
                break
            if lane is None:
                self._advance(job)
                continue
            if not announced:
                self.busy.emit(True)
                announced = True
            self._serve(lane, job)
        if announced:
            self.busy.emit(False)

    def _advance(self, stream) -> None:
        """One record of the stream; the stream leaves the worker once it has ended."""
        interrupted = self._thread.isInterruptionRequested
        if stream.step(interrupted):
            return
        with self._lock:
            if self._stream is stream:
                self._stream = None
        if not interrupted():
            self.stream_ended.emit(int(stream.id), stream.error)

    def _serve(self, lane: str, request) -> None:
        compute = self._lanes[lane]
        start = time.perf_counter()
        try:
            offload = self.offload if lane == "compute" else None
            result = None if offload is None else offload(request, self._superseded)
            if result is None and lane == "compute" and _takes_partial(compute):
                result = compute(request, self._should_stop, partial=self._emit_partial)
            elif result is None:
                result = compute(request, self._should_stop)
        except Exception as exc:    # noqa: BLE001 - a failed computation is a message
            if _is_interruption(exc) or self._should_stop():
                self.interrupted += 1
                return
            log.exception("computation %s failed", self._running_id)
            self.failed.emit(int(self._running_id), f"{type(exc).__name__}: {exc}")
            return
        if lane == "compute":
            self.last_ms = (time.perf_counter() - start) * 1000.0
            self.completed += 1
        if self._thread.isInterruptionRequested():
            return
        if lane == "compute":
            self.finished.emit(result)
        else:
            self.done.emit(lane, result)
