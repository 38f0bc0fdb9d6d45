"""Training in a child process, so that the window's threads keep the interpreter to themselves.

Why. A training iteration at lecture sizes is mostly Python around small NumPy calls, and so
are pyqtgraph's paints: in one process they take turns on the interpreter lock, and live
training at 100 iterations a second left the views about 12 redraws a second. In a child
process the iterations run on the other core and the window's threads only receive results.

The child (`python -m rnnviz.state.training_process IN OUT`, two pipe descriptors) runs the
engine's own Trainer, so its records are bit for bit those of an in-process run: batch k
depends only on the seed and k, and the parameters and the optimiser's state cross the pipe
exactly (pickled arrays). It runs at most AHEAD records ahead of what the parent consumed
(credits), so memory stays bounded when the window is busy. The child ends when the parent's
end of the pipe closes (the window closed, or the parent died).

Messages, parent to child: ("start", sid, params, settings, activation, iteration,
optimizer_state, iterations), ("credit", sid, n), ("stop", sid). New settings restart the run
from the newest state the parent took (TrainingRun), so no record after an edit is stale.
Child to parent: ("record", sid, record, iteration, params, optimizer_state) after each
iteration, ("end", sid, error or None) when a run ends by itself, fails or is stopped.
Only this module's own child is ever unpickled.
"""
from __future__ import annotations

import collections
import os
import subprocess
import sys
import threading
from multiprocessing.connection import Connection

AHEAD = 8            # records the child may compute before the parent has taken them
NICENESS = 5         # added to the child's niceness, as the worker thread's: the UI thread paints
                     # first (quiet machine, train_copy: 188-216 it/s at 19-22 redraws/s, against
                     # 161-174 it/s at 15-16 at +0; under another program's load +5 gives
                     # training less: 48 it/s against 212 in one pair of runs)


# ----- the child ---------------------------------------------------------------------------------
def _child(conn_in: Connection, conn_out: Connection) -> None:
    """Serve runs until the parent's end of the pipe closes."""
    if NICENESS:
        try:
            os.nice(NICENESS)
        except (AttributeError, OSError):
            pass
    from rnnviz.engine.train import Trainer
    run = None                          # [sid, trainer, iterations left or None, credits]
    while True:
        if run is None or run[3] <= 0 or conn_in.poll():
            try:
                msg = conn_in.recv()
            except (EOFError, OSError):
                return
            kind, sid = msg[0], msg[1]
            if kind == "start":
                _, sid, params, settings, activation, iteration, state, iterations = msg
                trainer = Trainer(params, settings, activation=activation, iteration=iteration)
                if state:
                    trainer.load_state_dict({"iteration": iteration, "optimizer": state})
                run = [sid, trainer, iterations, AHEAD]
            elif run is not None and sid == run[0]:
                if kind == "credit":
                    run[3] += msg[2]
                elif kind == "stop":
                    conn_out.send(("end", sid, "cancelled"))
                    run = None
            continue
        sid, trainer = run[0], run[1]
        try:
            record = trainer.step()
            state = trainer.optimizer.state_dict() if trainer.optimizer is not None else {}
            conn_out.send(("record", sid, record, trainer.iteration, trainer.params, state))
        except (EOFError, OSError, BrokenPipeError):
            return
        except Exception as exc:        # noqa: BLE001 - the parent shows it as a message
            conn_out.send(("end", sid, f"{type(exc).__name__}: {exc}"))
            run = None
            continue
        run[3] -= 1
        if run[2] is not None:
            run[2] -= 1
        if record.stopped or run[2] == 0:
            conn_out.send(("end", sid, None))
            run = None


# ----- the parent --------------------------------------------------------------------------------
class TrainingProcessError(RuntimeError):
    """The child process could not be started or ended unexpectedly."""


class TrainingServer:
    """One child process serving one run at a time (started on first use, kept between runs)."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._out: Connection | None = None         # to the child
        self._in: Connection | None = None          # from the child
        self._reader: threading.Thread | None = None
        self._cond = threading.Condition()
        self._queue: collections.deque = collections.deque()
        self._sid = 0                               # the last run id given out
        self._running: int | None = None            # the id of the run going, if any
        self._dead: str | None = None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and self._dead is None

    def ensure(self) -> None:
        if self.alive:
            return
        self.close()
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"}
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "rnnviz.state.training_process",
                 str(to_child_r), str(from_child_w)],
                pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL, env=env,
                close_fds=True)
        except OSError as exc:
            for fd in (to_child_r, to_child_w, from_child_r, from_child_w):
                os.close(fd)
            raise TrainingProcessError(f"the training process could not start: {exc}") from exc
        os.close(to_child_r)
        os.close(from_child_w)
        self._out = Connection(to_child_w, readable=False)
        self._in = Connection(from_child_r, writable=False)
        self._dead = None
        self._reader = threading.Thread(target=self._read, args=(self._in,),
                                        name="rnnviz-training-reader", daemon=True)
        self._reader.start()

    def _read(self, conn: Connection) -> None:
        """Move the child's messages into the queue (a thread: the pipe never fills)."""
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                with self._cond:
                    self._dead = "the training process ended unexpectedly"
                    self._cond.notify_all()
                return
            with self._cond:
                self._queue.append(msg)
                self._cond.notify_all()

    def _send(self, *msg) -> None:
        try:
            self._out.send(msg)
        except (OSError, AttributeError) as exc:
            raise TrainingProcessError("the training process ended unexpectedly") from exc

    def start(self, params, settings, activation: str, iteration: int, optimizer_state,
              iterations: int | None) -> int:
        """Begin a run (stopping any other); returns its id, for next() and stop()."""
        self.ensure()
        if self._running is not None:
            self.stop(self._running)
        with self._cond:
            self._sid += 1
            self._running = sid = self._sid
        self._send("start", sid, params, settings, activation, iteration, optimizer_state or {},
                   iterations)
        return sid

    def next(self, sid: int, timeout: float):
        """The run's next message, ("record", ...) or ("end", error), or None after timeout.
        Raises TrainingProcessError if the child died."""
        with self._cond:
            while True:
                while self._queue:
                    msg = self._queue.popleft()
                    if msg[1] != sid:
                        continue                    # an old run's last messages
                    if msg[0] == "record":
                        self._send("credit", sid, 1)
                        return ("record",) + tuple(msg[2:])
                    return ("end", msg[2])
                if self._dead is not None:
                    raise TrainingProcessError(self._dead)
                if not self._cond.wait(timeout):
                    return None

    def stop(self, sid: int) -> None:
        """Stop the run (its records not yet taken are dropped; later ones are another run's
        id than next() asks for)."""
        with self._cond:
            if sid != self._running:
                return
            self._running = None
            self._queue.clear()
            if self.alive:
                try:
                    self._send("stop", sid)
                except TrainingProcessError:
                    pass

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


if __name__ == "__main__":
    _child(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))
