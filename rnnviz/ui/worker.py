"""The one background thread that runs the engine: latest request wins, stale work is abandoned."""
from __future__ import annotations

import ctypes
import inspect
import logging
import os
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


def _is_interruption(exc: BaseException) -> bool:
    """Whether an exception is the engine's Interrupted (raised when should_stop() said so)."""
    return any(cls.__name__ == "Interrupted" for cls in type(exc).__mro__)


class ComputeWorker(QtCore.QObject):
    """A long-lived QObject in its own QThread running `compute(request, should_stop)`.

    `submit` may be called any number of times from the UI thread; only the newest request
    that has not started is kept, and a running computation is asked to stop when a newer
    request arrives. Results come back through `finished(result)` with the request's id
    inside; failures through `failed(request_id, message)`; never an exception. A compute
    function with a `partial` parameter may hand over intermediate results, which come through
    `partial(result)` (dropped once a newer request is waiting).
    """

    finished = QtCore.Signal(object)
    partial = QtCore.Signal(object)
    failed = QtCore.Signal(int, str)
    busy = QtCore.Signal(bool)
    _wake = QtCore.Signal()

    def __init__(self, compute: ComputeFn | None = None, name: str = "rnnviz-compute"):
        super().__init__()
        self._compute = compute or default_compute
        self._lock = threading.Lock()
        self._pending = None            # newest request not yet started
        self._scheduled = False         # a wake-up is queued
        self._running_id: int | None = None
        self._stopped = False
        self._blas_limited = False
        self.last_ms = 0.0              # wall time of the last finished computation
        self.completed = 0              # finished computations (for tests/benchmarks)
        self.interrupted = 0            # abandoned computations
        self._thread = QtCore.QThread()
        self._thread.setObjectName(name)
        self.moveToThread(self._thread)
        self._wake.connect(self._run, QtCore.Qt.QueuedConnection)
        self._thread.start()

    # ----- UI thread ----------------------------------------------------------------------
    def submit(self, request) -> None:
        """Queue a request (an object with an int `id`), replacing any that has not started."""
        if self._stopped:
            return
        with self._lock:
            self._pending = request
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

    def is_idle(self) -> bool:
        """No computation running and none pending."""
        with self._lock:
            return self._pending is None and self._running_id is None and not self._scheduled

    def stop(self, timeout_ms: int = 10000) -> bool:
        """Drop pending work, interrupt the running one, join the thread; True when joined."""
        self._stopped = True
        with self._lock:
            self._pending = None
        self._thread.requestInterruption()
        self._thread.quit()
        joined = self._thread.wait(timeout_ms)
        if not joined:
            log.error("compute thread did not stop within %d ms", timeout_ms)
        return joined

    # ----- worker thread ------------------------------------------------------------------
    def _should_stop(self) -> bool:
        return self._thread.isInterruptionRequested() or self._pending is not None

    def _emit_partial(self, result) -> None:
        if not self._should_stop():
            self.partial.emit(result)

    @QtCore.Slot()
    def _run(self) -> None:
        """Run pending requests until none is left (each newer one replaces the last)."""
        if not self._blas_limited:          # leave a core to the UI thread
            self._blas_limited = True
            limit_blas_threads(max(1, (os.cpu_count() or 2) - 1))
        while True:
            with self._lock:
                request, self._pending = self._pending, None
                if request is None or self._stopped:
                    self._scheduled = False
                    self._running_id = None
                    break
                self._running_id = getattr(request, "id", -1)
            self.busy.emit(True)
            start = time.perf_counter()
            try:
                if _takes_partial(self._compute):
                    result = self._compute(request, self._should_stop, partial=self._emit_partial)
                else:
                    result = self._compute(request, self._should_stop)
            except Exception as exc:    # noqa: BLE001 - a failed computation is a message
                if _is_interruption(exc) or self._should_stop():
                    self.interrupted += 1
                    continue
                log.exception("computation %s failed", self._running_id)
                self.failed.emit(int(self._running_id), f"{type(exc).__name__}: {exc}")
                continue
            self.last_ms = (time.perf_counter() - start) * 1000.0
            self.completed += 1
            if not self._thread.isInterruptionRequested():
                self.finished.emit(result)
        self.busy.emit(False)
