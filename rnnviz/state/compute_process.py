"""The views' computations in a child process while a run trains, so that the window's
process only draws.

Why. Live training follows the newest weights ~25 times a second; each follow is one
computation of the views (forward, BPTT, spectrum, flow, heatmap images: ~9 ms of Python and
small NumPy calls at train_copy's size). In the window's process that computation takes turns
with the draws and paints on the interpreter lock, so the frame rate was bounded by their sum
(~50 ms a frame: 18-21 redraws a second). In a child it runs on the other core, beside the
training child, and the window's worker thread only waits on the pipe (the lock released).

What goes there. Only requests whose whole flow is quick (n_s^3 T below
compute.PARTIAL_MIN_WORK: no partial results, ~0.1 s at most) and whose result is small
(QUICK_MAX_STATES), and only while `enabled` (the
window's training controller turns it on while a run trains). Everything else, and anything the
child cannot do, is computed in the window's process as before: the result is the same either
way (state.compute.compute on the same pickled request; a test checks bit for bit).

Messages, parent to child: ("compute", rid, request). Child to parent: ("result", rid, Result)
or ("error", rid, message). The child computes only the newest request waiting (latest request
wins: older ones are dropped unanswered); the parent takes only the reply it waits for.
"""
from __future__ import annotations

import logging
import pickle
import time
from multiprocessing.connection import Connection

from rnnviz.engine.analysis import Interrupted
from rnnviz.state.child_process import ChildProcess, run_child
from rnnviz.state.compute import PARTIAL_MIN_WORK, compute

log = logging.getLogger(__name__)

WAIT_S = 0.005          # how often a wait for the child's reply asks whether to stop
NICENESS = 0            # as the window's UI thread, above the training child (+5): a follow's
                        # views then wait less for a core (two pairs of runs at +0 and +5:
                        # 18.3-20.9 redraws/s against 17.0-19.4)


# ----- the child ---------------------------------------------------------------------------------
def _child(conn_in: Connection, conn_out: Connection) -> None:
    """Compute the newest request waiting until the parent's end of the pipe closes."""
    while True:
        try:
            msg = conn_in.recv()
            while conn_in.poll():          # latest request wins
                msg = conn_in.recv()
        except (EOFError, OSError):
            return
        _, rid, request = msg
        try:
            reply = pickle.dumps(("result", rid, compute(request)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:        # noqa: BLE001 - the parent computes it itself then
            reply = pickle.dumps(("error", rid, f"{type(exc).__name__}: {exc}"))
        try:
            conn_out.send_bytes(reply)
        except (EOFError, OSError):
            return


# ----- the parent --------------------------------------------------------------------------------
class ComputeProcessError(RuntimeError):
    """The child process could not be started, ended unexpectedly, or could not compute."""


class ComputeServer(ChildProcess):
    """One child process computing one request at a time."""

    module = "rnnviz.state.compute_process"
    name = "computation"
    error = ComputeProcessError

    def __init__(self) -> None:
        super().__init__()
        self.retired = False          # closed for good (the window closing): no new child

    def compute(self, request, should_stop=None):
        """compute(request) in the child (started, or started again, if it is not running).
        Raises the engine's Interrupted when should_stop() says so while waiting (the reply,
        when it comes, is dropped), ComputeProcessError when the child died or failed (its
        message) or the server is retired."""
        if self.retired:
            raise ComputeProcessError("the computation process was closed")
        self.ensure()
        with self._cond:
            rid = self._new_id()
        self._send("compute", rid, request)
        while True:
            with self._cond:
                msg = self._take(rid)
                if msg is None and self._dead is None:
                    self._cond.wait(WAIT_S)
                    msg = self._take(rid)
                dead = self._dead
            if msg is not None:
                if msg[0] == "result":
                    return msg[2]
                raise ComputeProcessError(msg[2])
            if dead is not None:
                raise ComputeProcessError(dead)
            if should_stop is not None and should_stop():
                raise Interrupted("a newer request is waiting")

    def retire(self) -> None:
        """End the child for good: a computation asked for afterwards (one that was on its way
        while the window closed) starts no new one."""
        self.retired = True
        self.close()

    def _take(self, rid: int):
        """The reply to rid if it came (older replies are dropped); call with _cond held."""
        while self._queue:
            msg = self._queue.popleft()
            if msg[1] == rid:
                return msg
        return None


class OffloadedCompute:
    """What the window's worker asks first for each computation: the result from the child
    process while `enabled` and the request is quick, or None (compute it in this process,
    as when the child fails: the failure is logged, the user sees the same result)."""

    def __init__(self):
        self.server: ComputeServer | None = None
        self.enabled = False
        self.offloaded = 0            # results computed in the child (tests, benchmarks)

    def __call__(self, request, should_stop):
        server = self.server
        if server is None or not self.enabled or not quick(request):
            return None
        start = time.perf_counter()
        try:
            result = server.compute(request, should_stop)
        except ComputeProcessError as exc:
            log.info("computing in the window's process: %s", exc)
            return None
        self.offloaded += 1
        result.compute_ms = (time.perf_counter() - start) * 1e3     # as the user waited
        return result

    def close(self) -> None:
        """End the child; nothing is offloaded until a server is set again."""
        self.enabled = False
        if self.server is not None:
            self.server.retire()
            self.server = None


QUICK_MAX_STATES = 1 << 18   # n_s m T at most: a result of a few MB (the training presets':
                             # 0.3-1.7 MB, pickled in ~1 ms); a larger one's unpickling would
                             # hold the window's interpreter lock as long as a paint


def quick(request) -> bool:
    """Whether the request's whole computation is quick enough to leave no partial result, and
    its result small enough to cross the pipe in about a millisecond."""
    config = request.config
    return (float(config.n_s) ** 3 * config.T < PARTIAL_MIN_WORK
            and config.n_s * config.m * config.T <= QUICK_MAX_STATES)


if __name__ == "__main__":
    run_child(_child, niceness=NICENESS)
