"""Training, Qt-free: the training set-up (task, optimiser, clipping, seed) and a run of it.

A TrainingSetup is part of a set-up: it is what a share code carries, so a student who pastes
it reproduces the run bit for bit (the engine draws batch k from default_rng([seed, k])).
A TrainingRun trains a private copy of the set-up's parameters on the worker, one iteration
per record (engine/train.py), logs every record (jobs.RecordLog), keeps a bounded timeline of
snapshots (timeline.Timeline) and the newest parameters for the views to follow.
Settings edited while the run goes on take effect at the next iteration.
"""
from __future__ import annotations

import dataclasses
import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnviz.engine import tasks as engine_tasks
from rnnviz.engine.optim import OPTIMIZERS, make_optimizer
from rnnviz.engine.train import CLIP_MODES, Trainer, TrainSettings
from rnnviz.state.jobs import RecordLog, Stream
from rnnviz.state.timeline import Snapshot, Timeline, capacity_for

TASKS = engine_tasks.TASKS
LR_LIMITS = (1e-6, 10.0)             # the learning-rate slider's range (log scale)
CLIP_LIMITS = (1e-4, 1e4)
BATCH_LIMITS = (1, 256)
VIEW_BATCH_STREAM = -1               # the batch the views show: default_rng([seed, -1]) ...
KEYS = ("task", "task_options", "m", "optimizer", "lr", "optimizer_options", "clip",
        "clip_threshold", "seed")


class TrainingError(ValueError):
    """A training setting that cannot be used, with a message naming it."""


@dataclass(frozen=True)
class TrainingSetup:
    """Everything that decides a training run (besides the network's own set-up)."""

    task: str = "copy"
    task_options: tuple = ()         # sorted (name, value) pairs of the task's options
    m: int = 32                      # training batch size
    optimizer: str = "adam"
    lr: float = 1e-3
    optimizer_options: tuple = ()    # sorted (name, value) pairs (momentum, betas, ...)
    clip: str = "norm"               # "off" | "norm" | "value"
    clip_threshold: float = 1.0
    seed: int = 0

    @property
    def options(self) -> dict:
        """The task's options, every one, checked, defaults filled in."""
        return engine_tasks.task_options(self.task, **dict(self.task_options))

    def settings(self) -> TrainSettings:
        """The engine's settings object for this set-up (a fresh, mutable one)."""
        return TrainSettings(task=self.task, task_options=dict(self.task_options), m=self.m,
                             optimizer=self.optimizer, lr=self.lr,
                             optimizer_options={k: list(v) if isinstance(v, tuple) else v
                                                for k, v in self.optimizer_options},
                             clip=self.clip, clip_threshold=self.clip_threshold, seed=self.seed)

    def sizes(self) -> tuple[int, int, int]:
        """(n_x, n_y, T) the task sets."""
        return engine_tasks.task_sizes(self.task, **dict(self.task_options))

    def to_dict(self) -> dict:
        """JSON-ready."""
        d = dataclasses.asdict(self)
        d["task_options"] = dict(self.task_options)
        d["optimizer_options"] = {k: list(v) if isinstance(v, tuple) else v
                                  for k, v in self.optimizer_options}
        return d


def _frozen(options: Any, what: str) -> tuple:
    if not isinstance(options, dict) or len(options) > 16:
        raise TrainingError(f"{what} must be an object of at most 16 named options")
    out = []
    for k, v in sorted(options.items()):
        if not isinstance(k, str):
            raise TrainingError(f"{what} names must be text")
        out.append((k, tuple(v) if isinstance(v, list) else v))
    return tuple(out)


def make_training(**values) -> TrainingSetup:
    """A checked TrainingSetup from plain values (TrainingError naming the first bad one)."""
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise TrainingError(f"training has an unknown setting {unknown[0]!r:.40}; known: "
                            f"{', '.join(KEYS)}")
    d = {**dataclasses.asdict(TrainingSetup()), **values}
    d["task_options"] = _frozen(dict(d["task_options"]), "task options")
    d["optimizer_options"] = _frozen(dict(d["optimizer_options"]), "optimizer options")
    for key in ("m", "seed"):
        if not isinstance(d[key], int) or isinstance(d[key], bool):
            raise TrainingError(f"training {key} must be a whole number, not {d[key]!r:.40}")
    for key in ("lr", "clip_threshold"):
        if not isinstance(d[key], (int, float)) or isinstance(d[key], bool) \
                or not math.isfinite(d[key]):
            raise TrainingError(f"training {key} must be a finite number, not {d[key]!r:.40}")
        d[key] = float(d[key])
    checks = (("m", *BATCH_LIMITS), ("lr", *LR_LIMITS), ("clip_threshold", *CLIP_LIMITS),
              ("seed", 0, 2**31 - 1))
    for key, lo, hi in checks:
        if not lo <= d[key] <= hi:
            raise TrainingError(f"training {key} must be between {lo:g} and {hi:g}; "
                                f"got {d[key]!r:.40}")
    if d["task"] not in TASKS:
        raise TrainingError(f"task must be one of {', '.join(TASKS)}; got {d['task']!r:.40}")
    if d["optimizer"] not in OPTIMIZERS:
        raise TrainingError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; "
                            f"got {d['optimizer']!r:.40}")
    if d["clip"] not in CLIP_MODES:
        raise TrainingError(f"clip must be one of {', '.join(CLIP_MODES)}; got {d['clip']!r:.40}")
    setup = TrainingSetup(**d)
    try:
        engine_tasks.task_options(setup.task, **dict(setup.task_options))   # the task's checks
        setup.settings().check()
        make_optimizer(setup.optimizer, setup.lr, **setup.settings().optimizer_options)
    except (ValueError, TypeError) as exc:
        raise TrainingError(str(exc)) from None
    return setup


def view_batch(training: TrainingSetup, m: int, dtype) -> engine_tasks.Task:
    """The batch the views show for a task: fixed by the training seed, apart from the
    training batches (so every view keeps showing the same examples as the net learns)."""
    rng = np.random.default_rng([training.seed, 2**31 + VIEW_BATCH_STREAM])
    return engine_tasks.make_task(training.task, rng, m, dtype=np.dtype(dtype),
                                  **dict(training.task_options))


class TrainingRun:
    """One run: trains a copy of the parameters, logs every record, keeps snapshots.

    The worker advances the run's stream (one record per step): in this process, or in a
    child process (training_process.TrainingServer) that keeps the window's threads free. The
    UI thread reads `records`, `latest()`, `latest_state()` and the timeline; both sides touch
    shared state only under the lock, and `_latest` is the state a save or the next stream
    starts from (iteration, parameters, the optimiser's state after it), whoever trained it.
    """

    def __init__(self, params, training: TrainingSetup, *, activation: str = "tanh",
                 records: RecordLog | None = None, timeline: Timeline | None = None,
                 iteration: int = 0, optimizer_state: dict | None = None):
        self.training = training
        self.activation = activation
        self.trainer = Trainer(params.copy(), training.settings(), activation=activation,
                               iteration=iteration)        # the in-process iterations
        if optimizer_state:
            self.trainer.load_state_dict({"iteration": iteration, "optimizer": optimizer_state})
        self.records = RecordLog() if records is None else records
        size = sum(a.nbytes for a in params.as_dict().values())
        self.timeline = Timeline(capacity_for(2 * size)) if timeline is None else timeline
        self._lock = threading.Lock()
        opt = self.trainer.optimizer
        self._latest = (iteration, self.trainer.params.copy(), opt.state_dict() if opt else {})
        self._trainer_at = iteration        # where self.trainer is (behind once a child trained)
        self._retuned = False               # settings changed: a child's records ahead are stale
        if not len(self.timeline):
            self.timeline.add(Snapshot(*self._latest))
        self.stopped: str | None = None

    @property
    def iteration(self) -> int:
        """Updates done so far."""
        with self._lock:
            return self._latest[0]

    def latest(self):
        """(iteration, parameters after that many updates): a private copy."""
        with self._lock:
            return self._latest[:2]

    def latest_state(self):
        """(iteration, parameters, the optimiser's state_dict or {}) after the newest update."""
        with self._lock:
            return self._latest

    def retune(self, training: TrainingSetup) -> None:
        """New settings for the next iteration (the network's sizes stay)."""
        if training.sizes()[:2] != self.training.sizes()[:2]:
            raise TrainingError("the new task has other input or output sizes than the network; "
                                "reset the training to change the task")
        self.training = training
        self.trainer.settings = training.settings()          # one assignment: read per step
        self._retuned = True        # a child's run restarts from the newest state it handed over

    def stream(self, job_id: int, iterations: int | None = None, server=None) -> Stream:
        """The worker's job: `iterations` records (None: until paused or stopped), trained in
        this process or, given a training_process.TrainingServer, in its child process."""
        if server is None:
            make = lambda should_stop: self._iterate(should_stop, iterations)  # noqa: E731
        else:
            make = lambda should_stop: self._iterate_remote(should_stop, iterations, server)  # noqa: E731
        return Stream(job_id, make, self.records)

    def _take(self, record, iteration: int, params, state: dict) -> None:
        """Keep a record's outcome: the newest state, and a snapshot when the timeline wants one."""
        with self._lock:
            if not record.stopped:
                self._latest = (iteration, params, state)
            k = self._latest[0]
            if not record.stopped and self.timeline.wants(k):
                self.timeline.add(Snapshot(k, self._latest[1], self._latest[2]))
        if record.stopped:
            self.stopped = record.stopped

    def _iterate(self, should_stop, iterations):
        done = 0
        trainer = self.trainer
        with self._lock:
            k, params, state = self._latest
        if self._trainer_at != k:           # a child trained since: go on from its state
            trainer.params = params.copy()
            trainer.load_state_dict({"iteration": k, "optimizer": state or None})
            trainer.settings = self.training.settings()
        while (iterations is None or done < iterations) and not should_stop():
            record = trainer.step()
            done += 1
            state = trainer.optimizer.state_dict() if trainer.optimizer else {}
            self._take(record, trainer.iteration, trainer.params.copy(), state)
            self._trainer_at = trainer.iteration
            yield record
            if record.stopped:
                return

    def _iterate_remote(self, should_stop, iterations, server):
        """Records from a child process. Settings edited meanwhile restart its run from the
        newest state handed over, so every record after an edit has the new settings (the
        up to AHEAD records it computed ahead with the old ones are dropped)."""
        done, sid = 0, None
        try:
            while not should_stop():
                if sid is None or self._retuned:
                    self._retuned = False
                    if sid is not None:
                        server.stop(sid)
                    with self._lock:
                        k, params, state = self._latest
                    left = None if iterations is None else iterations - done
                    sid = server.start(params, self.training.settings(), self.activation, k,
                                       state, left)
                msg = server.next(sid, timeout=0.005)
                if msg is None:
                    yield None                      # nothing yet: the worker may serve requests
                    continue
                if msg[0] == "end":
                    if msg[1] not in (None, "cancelled"):
                        raise TrainingError(msg[1])
                    return
                _, record, k, params, state = msg
                if self._retuned:
                    continue                        # computed with the old settings
                self._take(record, k, params, state)
                done += 1
                yield record
                if record.stopped:
                    return
        finally:
            if sid is not None:
                server.stop(sid)

    def snapshot_at(self, iteration: int) -> Snapshot:
        """The kept parameters nearest `iteration` at or before it."""
        with self._lock:
            return self.timeline.at(iteration)

    def branch(self, iteration: int) -> TrainingRun:
        """A new run continuing from the snapshot at `iteration` (the records after it dropped).

        Not while a stream of this run is going: pause first.
        """
        with self._lock:
            snap = self.timeline.at(iteration)
            timeline = self.timeline.truncated(snap.iteration)
        records = RecordLog()
        for r in self.records.all():
            if r.iteration < snap.iteration:
                records.append(r)
        run = TrainingRun(snap.params, self.training, activation=self.activation,
                          records=records, timeline=timeline, iteration=snap.iteration,
                          optimizer_state=snap.optimizer_state or None)
        return run


def curves(records: list) -> dict[str, np.ndarray]:
    """The records as columns (iteration, loss, accuracy, grad_norm, grad_norm_clipped,
    clipped, rho, sigma_max, lr): what the plots draw and the CSV holds."""
    def col(name, default=math.nan):
        return np.array([default if getattr(r, name) is None else getattr(r, name)
                         for r in records], dtype=np.float64)
    return {"iteration": np.array([r.iteration for r in records], dtype=np.int64),
            "loss": col("loss"), "accuracy": col("accuracy"), "grad_norm": col("grad_norm"),
            "grad_norm_clipped": col("grad_norm_clipped"),
            "clipped": np.array([r.clipped for r in records], dtype=bool),
            "rho": col("rho"), "sigma_max": col("sigma_max"), "lr": col("lr")}


def profile_matrix(records: list) -> np.ndarray:
    """(T, iterations) the gradient-through-time profiles side by side: lag x iteration."""
    if not records:
        return np.zeros((0, 0))
    return np.stack([np.asarray(r.grad_profile, dtype=np.float64) for r in records], axis=1)


# ----- a run in a session file -----------------------------------------------------------------
CURVE_KEYS = ("iteration", "loss", "accuracy", "grad_norm", "grad_norm_clipped", "clipped", "rho",
              "sigma_max", "lr")


@dataclass(eq=False)
class SavedRecord:
    """A record read back from a session file: the curves' numbers (no profile over t)."""

    iteration: int
    loss: float
    accuracy: float | None
    grad_norm: float
    grad_norm_clipped: float
    clipped: bool
    rho: float
    sigma_max: float
    lr: float
    grad_profile: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    stopped: str | None = None


def run_doc(run: TrainingRun, latest=None) -> dict:
    """What a session file keeps of a run (documented in sessionfile.py): the iteration, the
    optimiser's state (so training continues exactly) and the curves of the iterations before
    it; not the snapshots of the timeline nor the profiles over t. `latest`: the run's
    latest_state() to describe (default: read now)."""
    iteration, _params, state = run.latest_state() if latest is None else latest
    state = state or None
    if state is not None:
        state = {**state, "state": {n: {k: v.tolist() if isinstance(v, np.ndarray) else v
                                        for k, v in s.items()} for n, s in state["state"].items()}}
    cols = curves([r for r in run.records.all() if r.iteration < iteration or r.stopped])
    return {"iteration": iteration, "optimizer": state,
            "curves": {k: [None if isinstance(v, float) and not math.isfinite(v) else v
                           for v in cols[k].tolist()] for k in CURVE_KEYS}}


def restore_run(params, setup: TrainingSetup, doc: dict, *, activation: str = "tanh") -> TrainingRun:
    """A run continuing from a session file's run entry (checked by sessionfile.parse)."""
    records = RecordLog()
    cols = doc["curves"]
    for i in range(len(cols["iteration"])):
        row = {k: cols[k][i] for k in CURVE_KEYS}
        row = {k: (math.nan if v is None and k != "accuracy" else v) for k, v in row.items()}
        records.append(SavedRecord(**row))
    return TrainingRun(params, setup, activation=activation, records=records,
                       iteration=doc["iteration"], optimizer_state=doc["optimizer"])


def check_run_doc(doc, iteration_limit: int = 10**9) -> dict:
    """A session file's run entry, checked (TrainingError naming what is wrong)."""
    if not isinstance(doc, dict) or set(doc) != {"iteration", "optimizer", "curves"}:
        raise TrainingError("run must hold iteration, optimizer and curves")
    k = doc["iteration"]
    if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k <= iteration_limit:
        raise TrainingError("run.iteration must be a whole number of iterations")
    cols = doc["curves"]
    if not isinstance(cols, dict) or set(cols) != set(CURVE_KEYS):
        raise TrainingError(f"run.curves must hold exactly {', '.join(CURVE_KEYS)}")
    n = len(cols["iteration"]) if isinstance(cols["iteration"], list) else -1
    for key in CURVE_KEYS:
        column = cols[key]
        if not isinstance(column, list) or len(column) != n:
            raise TrainingError(f"run.curves.{key} must be a list as long as the iterations")
        for v in column:
            ok = (isinstance(v, bool) if key == "clipped" else
                  isinstance(v, int) and not isinstance(v, bool) if key == "iteration" else
                  v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)))
            if not ok:
                raise TrainingError(f"run.curves.{key} holds {v!r:.40}, not a number")
    if doc["optimizer"] is not None and not isinstance(doc["optimizer"], dict):
        raise TrainingError("run.optimizer must be an optimiser's state or null")
    return doc
