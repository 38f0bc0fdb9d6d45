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

from dataclasses import dataclass
from multiprocessing.connection import Connection

from rnnviz.state.child_process import ChildProcess, run_child

AHEAD = 8            # records the child may compute before the parent has taken them


# ----- the child ---------------------------------------------------------------------------------
@dataclass
class _Run:
    """The run a child serves: its id, its trainer, the iterations left (None: until stopped)
    and the records it may still send before the parent has taken more (credits)."""
    sid: int
    trainer: object
    left: int | None
    credits: int = AHEAD


def _child(conn_in: Connection, conn_out: Connection) -> None:
    """Serve runs until the parent's end of the pipe closes."""
    from rnnviz.engine.train import Trainer
    run: _Run | None = None
    while True:
        if run is None or run.credits <= 0 or conn_in.poll():
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
                run = _Run(sid, trainer, iterations)
            elif run is not None and sid == run.sid:
                if kind == "credit":
                    run.credits += msg[2]
                elif kind == "stop":
                    conn_out.send(("end", sid, "cancelled"))
                    run = None
            continue
        trainer = run.trainer
        try:
            record = trainer.step()
            state = trainer.optimizer.state_dict() if trainer.optimizer is not None else {}
            conn_out.send(("record", run.sid, record, trainer.iteration, trainer.params, state))
        except (EOFError, OSError, BrokenPipeError):
            return
        except Exception as exc:        # noqa: BLE001 - the parent shows it as a message
            conn_out.send(("end", run.sid, f"{type(exc).__name__}: {exc}"))
            run = None
            continue
        run.credits -= 1
        if run.left is not None:
            run.left -= 1
        if record.stopped or run.left == 0:
            conn_out.send(("end", run.sid, None))
            run = None


# ----- the parent --------------------------------------------------------------------------------
class TrainingProcessError(RuntimeError):
    """The child process could not be started or ended unexpectedly."""


class TrainingServer(ChildProcess):
    """One child process serving one run at a time (started on first use, kept between runs)."""

    module = "rnnviz.state.training_process"
    name = "training"
    error = TrainingProcessError

    def __init__(self) -> None:
        super().__init__()
        self._running: int | None = None            # the id of the run going, if any

    def start(self, params, settings, activation: str, iteration: int, optimizer_state,
              iterations: int | None) -> int:
        """Begin a run (stopping any other); returns its id, for next() and stop()."""
        self.ensure()
        if self._running is not None:
            self.stop(self._running)
        with self._cond:
            self._running = sid = self._new_id()
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


if __name__ == "__main__":
    run_child(_child)
