"""What the training plots draw, Qt-free: a run's records as growing columns, and the
gradient-through-time profile as a lag x iteration image.

The window redraws its training plots 20-30 times a second while a run appends hundreds of
records a second; rebuilding every column from every record each frame would cost O(run)
per frame. A CurveCache keeps the columns and reads only the records new since the last
frame (the RecordLog is append-only). Every record stays in the columns: the plots decimate
only when they draw (pyqtgraph's peak downsampling, and profile_image's column bins).
"""
from __future__ import annotations

import math

import numpy as np

from rnnviz.engine import tasks as engine_tasks
from rnnviz.state import display

FLOAT_KEYS = ("loss", "accuracy", "grad_norm", "grad_norm_clipped", "rho", "sigma_max", "lr")
MAX_IMAGE_COLUMNS = 600          # the profile image is binned down to at most this many columns


def baseline(training) -> float:
    """The task's memoryless baseline loss (engine units) for a training set-up."""
    return float(engine_tasks.baseline(training.task, **dict(training.task_options)))


class CurveCache:
    """A run's records as numpy columns, updated from the records new since the last call."""

    def __init__(self) -> None:
        self._log = None
        self._reset()

    def _reset(self) -> None:
        self.n = 0
        self._cap = 0
        self._cols: dict[str, np.ndarray] = {}
        self._profile: np.ndarray | None = None      # (T, capacity) log10 of the profiles
        self.T: int | None = None
        self.stopped: str | None = None              # the newest record's stop message

    def update(self, run) -> tuple:
        """Read the run's new records (a new run, a branch or none starts again); returns a key
        that changes whenever the columns did: (id of the record log, number of records)."""
        log = None if run is None else run.records
        if log is not self._log or (log is not None and len(log) < self.n):
            self._log = log
            self._reset()
        if log is not None:
            new = log.since(self.n)
            if new:
                self._append(new)
        return (id(self._log), self.n)

    def _grow(self, need: int) -> None:
        cap = max(256, self._cap)
        while cap < need:
            cap *= 2
        if cap != self._cap:
            def grown(a, fill, dtype):
                out = np.full(cap, fill, dtype=dtype)
                if a is not None:
                    out[:self.n] = a[:self.n]
                return out
            self._cols["iteration"] = grown(self._cols.get("iteration"), 0, np.int64)
            self._cols["clipped"] = grown(self._cols.get("clipped"), False, bool)
            for key in FLOAT_KEYS:
                self._cols[key] = grown(self._cols.get(key), math.nan, np.float64)
            self._cap = cap
        if self.T is not None and (self._profile is None or self._profile.shape[1] != cap):
            profile = np.full((self.T, cap), np.nan)
            if self._profile is not None:
                profile[:, :self.n] = self._profile[:, :self.n]
            self._profile = profile

    def _append(self, records: list) -> None:
        if self.T is None:              # the first record with a profile fixes its length
            sizes = [np.size(r.grad_profile) for r in records if np.size(r.grad_profile)]
            self.T = int(sizes[0]) if sizes else None
        self._grow(self.n + len(records))
        lo, hi = self.n, self.n + len(records)
        c = self._cols
        c["iteration"][lo:hi] = [r.iteration for r in records]
        c["clipped"][lo:hi] = [bool(r.clipped) for r in records]
        for key in FLOAT_KEYS:
            c[key][lo:hi] = [math.nan if getattr(r, key) is None else getattr(r, key)
                             for r in records]
        if self.T is not None:
            for j, r in enumerate(records, start=lo):
                p = np.asarray(r.grad_profile, dtype=np.float64)
                if p.shape == (self.T,):
                    self._profile[:, j] = display.log10_abs(p)
        self.n = hi
        self.stopped = records[-1].stopped

    def column(self, key: str) -> np.ndarray:
        """One column over every record so far (a view: copy it to keep it)."""
        if key not in self._cols:
            return np.zeros(0, dtype=np.int64 if key == "iteration" else np.float64)
        return self._cols[key][:self.n]

    def log_profile(self) -> np.ndarray:
        """(T, records) log10 of the profile ||dL/ds_t|| (rows t = 0..T-1; NaN where a record
        has no profile: records read back from a session file keep none)."""
        if self._profile is None:
            return np.zeros((0, self.n))
        return self._profile[:, :self.n]


def profile_image(cache: CurveCache, max_columns: int = MAX_IMAGE_COLUMNS):
    """(image (T, columns) with row r = lag r = T-1-t, levels, first iteration, iterations per
    column) of log10 ||dL/ds_t||: the columns are means of log10 over bins of consecutive
    records when the run holds more than max_columns. None when there is nothing to show."""
    logs = cache.log_profile()
    T, n = logs.shape
    if T == 0 or n == 0 or not np.isfinite(logs).any():
        return None
    lagged = logs[::-1]                          # row 0: t = T-1 (lag 0), row T-1: t = 0
    k = max(1, math.ceil(n / max_columns))
    if k > 1:
        cols = n // k
        head = lagged[:, :cols * k].reshape(T, cols, k)
        with np.errstate(all="ignore"):
            finite = np.isfinite(head)
            binned = np.where(finite, head, 0.0).sum(axis=2) / finite.sum(axis=2)
        if n > cols * k:                         # the newest, partial bin
            with np.errstate(all="ignore"):
                tail = lagged[:, cols * k:]
                ok = np.isfinite(tail)
                last = np.where(ok, tail, 0.0).sum(axis=1) / ok.sum(axis=1)
            binned = np.concatenate([binned, last[:, None]], axis=1)
        lagged = binned
    levels = display.gradient_levels(lagged)
    image = display.drawable(np.where(lagged == -np.inf, levels[0], lagged), levels)
    iterations = cache.column("iteration")
    return image, levels, int(iterations[0]), float(k)
