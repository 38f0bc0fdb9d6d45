"""A Python child process of rnnviz's own, spoken to through two pipes (pickled messages).

The child is `python -m MODULE IN OUT` with the two pipe descriptors; it ends when the
parent's end of the pipe closes (the window closed, or the parent died). A reader thread moves
the child's messages into a queue, so the pipe never fills. Only rnnviz's own children are
ever unpickled. The training run (training_process) and the views' computations while it runs
(compute_process) each have one.
"""
from __future__ import annotations

import collections
import os
import subprocess
import sys
import threading
from multiprocessing.connection import Connection

NICENESS = 5         # added to a child's niceness, as the worker thread's: the UI thread paints
                     # first (quiet machine, train_copy: 188-216 it/s at 19-22 redraws/s, against
                     # 161-174 it/s at 15-16 at +0; under another program's load +5 gives
                     # training less: 48 it/s against 212 in one pair of runs)


def run_child(serve, niceness: int = NICENESS) -> None:
    """The child's main: serve(conn_in, conn_out) on the descriptors of its command line."""
    if niceness:
        try:
            os.nice(niceness)
        except (AttributeError, OSError):
            pass
    serve(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))


class ChildProcess:
    """The parent's side: start on first use (ensure), send, a queue of what came back, close."""

    module = ""                  # the child's module (python -m module IN OUT)
    name = "child"               # for messages: "the <name> process ended unexpectedly"
    error: type[Exception] = RuntimeError

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._out: Connection | None = None         # to the child
        self._in: Connection | None = None          # from the child
        self._reader: threading.Thread | None = None
        self._cond = threading.Condition()
        self._queue: collections.deque = collections.deque()
        self._dead: str | None = None
        self._last_id = 0                           # the last run or request id given out

    def _new_id(self) -> int:
        """A fresh id for a run or a request (call with _cond held): replies carry it."""
        self._last_id += 1
        return self._last_id

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and self._dead is None

    def ensure(self) -> None:
        """Start the child if it is not running."""
        if self.alive:
            return
        self.close()
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"}
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", self.module, str(to_child_r), str(from_child_w)],
                pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL, env=env,
                close_fds=True)
        except OSError as exc:
            for fd in (to_child_r, to_child_w, from_child_r, from_child_w):
                os.close(fd)
            raise self.error(f"the {self.name} process could not start: {exc}") from exc
        os.close(to_child_r)
        os.close(from_child_w)
        self._out = Connection(to_child_w, readable=False)
        self._in = Connection(from_child_r, writable=False)
        self._dead = None
        self._reader = threading.Thread(target=self._read, args=(self._in,),
                                        name=f"rnnviz-{self.name}-reader", daemon=True)
        self._reader.start()

    def _read(self, conn: Connection) -> None:
        """Move the child's messages into the queue (a thread: the pipe never fills)."""
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                with self._cond:
                    self._dead = f"the {self.name} process ended unexpectedly"
                    self._cond.notify_all()
                return
            with self._cond:
                self._queue.append(msg)
                self._cond.notify_all()

    def _send(self, *msg) -> None:
        try:
            self._out.send(msg)
        except (OSError, AttributeError) as exc:
            raise self.error(f"the {self.name} process ended unexpectedly") from exc

    def close(self) -> None:
        """End the child: closing its pipe ends it (killed if it does not end at once)."""
        self._out = _close(self._out)
        if self._proc is not None:
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=2)
            self._proc = None
        if self._reader is not None:
            self._reader.join(timeout=2)            # the child's end closed: it reads EOF
            self._reader = None
        self._in = _close(self._in)


def _close(conn: Connection | None) -> None:
    """Close a pipe end if open (one already broken is closed all the same); None to forget it."""
    if conn is not None:
        try:
            conn.close()
        except OSError:
            pass
    return None
