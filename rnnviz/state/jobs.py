"""Streaming jobs: a generator of records run on the worker, sampled by the UI at screen rate (Qt-free).

A training run yields one record per iteration, hundreds per second: far more than a screen
shows, and none may be lost (the loss curve and the saved session hold every one). So a
Stream appends every record to its RecordLog, which the worker writes and the UI reads: the
UI asks `since(k)` at screen rate and draws what is new. Cancellation is polled between
records (Stream.cancel), and the generator's own long stages may poll `should_stop`.

    log = RecordLog()
    stream = Stream(job_id, lambda should_stop: train(...), log)
    worker.start_stream(stream)          # ui/worker.py advances it between other requests
    ... every frame:  new = log.since(shown); shown += len(new)
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any


class RecordLog:
    """An append-only, thread-safe list of records (one stream after another may write it)."""

    def __init__(self) -> None:
        self._records: list = []
        self._lock = threading.Lock()

    def append(self, record: Any) -> None:
        with self._lock:
            self._records.append(record)

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def since(self, k: int) -> list:
        """The records from index k on (a new list)."""
        with self._lock:
            return self._records[k:]

    def latest(self) -> Any | None:
        """The newest record, or None."""
        with self._lock:
            return self._records[-1] if self._records else None

    def all(self) -> list:
        """Every record so far (a new list)."""
        return self.since(0)


class Stream:
    """A cancellable generator of records, advanced one record at a time by the worker."""

    def __init__(self, job_id: int, make: Callable[[Callable[[], bool]], Iterator], log: RecordLog):
        self.id = job_id
        self.log = log
        self.finished = False             # it ran out, failed or was cancelled
        self.error: str | None = None     # what stopped it, when it did not end by itself
        self._make = make
        self._records: Iterator | None = None
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Stop at the next record (from any thread)."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def step(self, should_stop: Callable[[], bool] = lambda: False) -> bool:
        """Compute and log the next record; False once the stream has ended (self.finished)."""
        if self.finished:
            return False
        def stop() -> bool:
            return self._cancelled.is_set() or should_stop()

        if self._cancelled.is_set():
            return self._end("cancelled")
        try:
            if self._records is None:
                self._records = iter(self._make(stop))
            record = next(self._records)
            if record is None:            # nothing ready yet (a record computed elsewhere)
                return True
        except StopIteration:
            return self._end(None)
        except Exception as exc:          # noqa: BLE001 - a failed stream is a message, not a crash
            return self._end(f"{type(exc).__name__}: {exc}")
        self.log.append(record)
        return True

    def _end(self, error: str | None) -> bool:
        if self._records is not None and hasattr(self._records, "close"):
            self._records.close()         # runs the generator's clean-up (a child's run stops)
        self.error = error
        self.finished = True
        return False
