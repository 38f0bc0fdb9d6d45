"""The training loop as a plain generator of per-iteration records, and sampling text from a net.

    trainer = Trainer(params, TrainSettings(task="copy", task_options={"lag": 10}, lr=1e-2))
    for record in trainer.run(500):      # settings may be edited between iterations
        print(record.iteration, record.loss, record.grad_norm)

Iteration k (0-based; k updates done before it) draws its batch from
np.random.default_rng([seed, k]), so batch k depends only on the seed, k and the settings,
not on the history: a run restored at iteration k (parameters, optimizer state, k) continues
exactly as the original did. Each iteration: draw the task's batch, forward from s0 = 0, BPTT,
measure, clip (off / by norm / by value), step the optimiser. Its record describes the
parameters the batch was evaluated with (those of iteration k, before its update).

NaN or Inf in the loss or the gradients stops the run before the update; an update that makes
a parameter or the optimiser's state non-finite is undone. Either way the last record says why
(`stopped`, naming the iteration), the parameters stay the last finite ones and the trainer
can go on after the settings changed (a lower learning rate, clipping switched on).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ._checks import check_choice, check_number, check_rng, check_size, fail
from .cells import get_cell
from .network import backward, forward
from .optim import (
    OPTIMIZERS,
    Optimizer,
    clip_grad_norm,
    clip_grad_value,
    make_optimizer,
    parameter_arrays,
    total_norm,
)
from .parameters import Parameters
from .tasks import TASKS, make_task


def recurrent_matrices(params) -> dict[str, np.ndarray]:
    """The square matrices the recurrence multiplies the state by, as the cell names them
    (vanilla: {"W": W}; a seed-style dict is a vanilla cell's)."""
    if isinstance(params, Parameters):
        return dict(get_cell(params.cell).recurrent_matrices(params.as_dict()))
    return {"W": parameter_arrays(params)["W"]}


def spectral_radius(W: np.ndarray) -> float:
    """rho(W) = max |eigenvalue| (LAPACK geev, no eigenvectors); nan unless W is finite."""
    if not np.isfinite(W).all():
        return math.nan
    return float(np.abs(np.linalg.eigvals(W)).max())


def largest_singular_value(W: np.ndarray) -> float:
    """sigma_max(W) = ||W||_2 (LAPACK gesdd, singular values only); nan unless W is finite."""
    if not np.isfinite(W).all():
        return math.nan
    return float(np.linalg.svd(W, compute_uv=False)[0])


def gradient_profile(ds: np.ndarray) -> np.ndarray:
    """(T,) the batch mean of ||dL_b/ds_t||_2 over examples b, from ds = dL/ds_t (n_s, m, T).

    L = (1/m) sum_b L_b, so dL_b/ds_t[:, b] = m ds[:, b, t] and the mean over b of its norm is
    sum_b ||ds[:, b, t]||: the gradient-through-time profile, in one example's units.
    """
    r = ds.transpose(2, 1, 0)                       # (T, m, n_s): contiguous for the engine's ds
    with np.errstate(all="ignore"):
        return np.sqrt(np.einsum("tmn,tmn->tm", r, r)).sum(axis=1)


CLIP_MODES = ("off", "norm", "value")


@dataclass
class TrainSettings:
    """What a run reads at every iteration; the caller may change any field between iterations.

    optimizer_options: the optimiser's other hyper-parameters (momentum, betas, ...); the ones
    left out take torch's defaults. A change of optimizer starts it from fresh state; a change
    of its hyper-parameters keeps the state. task / task_options may change too as long as the
    task's n_x and n_y still fit the parameters. spectrum_every > 1 records rho and sigma_max
    only every that many iterations (nan in between): their dense solves cost O(n_s^3), 0.7 ms
    at n_s = 64 but ~1.4 s at n_s = 1024 (docs/design.md), more than the iteration itself.
    """

    task: str = "copy"
    task_options: dict = field(default_factory=dict)
    m: int = 32
    optimizer: str = "adam"
    lr: float = 1e-3
    optimizer_options: dict = field(default_factory=dict)
    clip: str = "norm"                 # "off" | "norm" (global 2-norm) | "value" (elementwise)
    clip_threshold: float = 1.0
    seed: int = 0
    spectrum_every: int = 1            # rho and sigma_max at iterations k % spectrum_every == 0

    def check(self) -> None:
        """Raise ValueError naming the first field that is not valid."""
        check_choice("task", self.task, tuple(TASKS))
        if not isinstance(self.task_options, dict):
            raise fail("task_options", "a dict", type(self.task_options).__name__)
        check_size("m", self.m)
        check_choice("optimizer", self.optimizer, tuple(OPTIMIZERS))
        check_number("lr", self.lr, minimum=0.0)
        if not isinstance(self.optimizer_options, dict):
            raise fail("optimizer_options", "a dict", type(self.optimizer_options).__name__)
        check_choice("clip", self.clip, CLIP_MODES)
        threshold = check_number("clip_threshold", self.clip_threshold, minimum=0.0)
        if self.clip != "off" and threshold == 0:
            raise fail("clip_threshold", "a number > 0 when clipping", threshold)
        check_size("seed", self.seed, minimum=0)
        check_size("spectrum_every", self.spectrum_every)


@dataclass(eq=False)
class TrainRecord:
    """What one iteration measured (for the parameters before its update)."""

    iteration: int
    loss: float
    accuracy: float | None             # None where the task has none
    baseline: float                    # the task's memoryless loss at these options
    grad_norm: float                   # global 2-norm of all parameter gradients, before clipping
    grad_norm_clipped: float           # the same after clipping (== grad_norm if it did not fire)
    clipped: bool
    grad_norms: dict[str, float]       # ||dL/dP|| for every parameter P, before clipping
    grad_profile: np.ndarray           # (T,) batch mean of ||dL_b/ds_t|| (gradient_profile)
    rho: float                         # max over the recurrent matrices of rho (vanilla: rho(W))
    sigma_max: float                   # max over them of sigma_max (vanilla: ||W||_2)
    spectra: dict[str, tuple[float, float]]   # (rho, sigma_max) of each recurrent matrix
                                       # (rho, sigma_max nan and spectra {} between spectrum_every)
    lr: float
    stopped: str | None = None         # why the run stopped here (no update was kept); else None


@functools.cache
def _defaults(name: str) -> dict:
    """torch's default hyper-parameters of an optimiser (lr aside)."""
    return {k: v for k, v in make_optimizer(name, 1.0).hyperparameters().items() if k != "lr"}


def _all_finite(arrays) -> bool:
    return all(np.isfinite(a).all() for a in arrays)


class Trainer:
    """Trains params in place, one iteration per step(); run() is the generator of records."""

    def __init__(self, params, settings: TrainSettings | None = None, *,
                 activation: str = "tanh", iteration: int = 0):
        self.params = Parameters.from_dict(params) if isinstance(params, dict) else params
        self.settings = TrainSettings() if settings is None else settings
        self.activation = activation
        self.iteration = check_size("iteration", iteration, minimum=0)
        self.optimizer: Optimizer | None = None
        self.stopped: str | None = None

    # ---- the optimiser follows the settings -----------------------------------------------------
    def _sync_optimizer(self, s: TrainSettings) -> Optimizer:
        if self.optimizer is None or self.optimizer.name != s.optimizer:
            self.optimizer = make_optimizer(s.optimizer, s.lr, **s.optimizer_options)
        else:
            unknown = sorted(set(s.optimizer_options) - set(self.optimizer.HYPER))
            if unknown:
                raise fail("optimizer_options", f"hyper-parameters of {s.optimizer}", ", ".join(unknown))
            for key, value in {**_defaults(s.optimizer), **s.optimizer_options, "lr": s.lr}.items():
                setattr(self.optimizer, key, tuple(value) if isinstance(value, list) else value)
        return self.optimizer

    def state_dict(self) -> dict:
        """{"iteration": k, "optimizer": its state_dict() or None}: with the parameters and the
        settings, all a run needs to continue exactly."""
        return {"iteration": self.iteration,
                "optimizer": None if self.optimizer is None else self.optimizer.state_dict()}

    def load_state_dict(self, d: dict) -> None:
        """Restore what state_dict() returned (the optimiser named in it)."""
        self.iteration = check_size("iteration", d.get("iteration"), minimum=0)
        opt = d.get("optimizer")
        if opt is None:
            self.optimizer = None
        else:
            self.optimizer = make_optimizer(opt.get("optimizer"), 1.0)
            self.optimizer.load_state_dict(opt)
        self.stopped = None

    # ---- one iteration --------------------------------------------------------------------------
    def step(self) -> TrainRecord:
        """Run iteration self.iteration and return its record (see the module docstring)."""
        s = self.settings
        s.check()
        params, k = self.params, self.iteration
        arrays = parameter_arrays(params)
        task = make_task(s.task, np.random.default_rng([s.seed, k]), s.m, dtype=params.dtype,
                         **s.task_options)
        if (task.n_x, task.n_y) != (params.n_x, params.n_y):
            raise fail("task", f"a task with n_x={params.n_x}, n_y={params.n_y} (the network's)",
                       f"{s.task!r} with n_x={task.n_x}, n_y={task.n_y}")
        optimizer = self._sync_optimizer(s)
        s0 = np.zeros((params.n_s, s.m), dtype=params.dtype)
        trace = forward(params, task.x, s0, self.activation, loss=task.loss)
        grads = backward(params, trace, task.targets)
        g = grads.as_dict()
        keys = ["d" + name for name in arrays]
        with np.errstate(all="ignore"):
            norms = {key: float(np.linalg.norm(g[key].ravel())) for key in keys}
        total = total_norm(norms.values())
        spectra = {name: (spectral_radius(M), largest_singular_value(M))
                   for name, M in recurrent_matrices(params).items()} \
            if k % s.spectrum_every == 0 else {}
        record = TrainRecord(
            iteration=k, loss=float(grads.loss), accuracy=task.accuracy(trace.z),
            baseline=task.baseline, grad_norm=total, grad_norm_clipped=total, clipped=False,
            grad_norms={key[1:]: v for key, v in norms.items()},
            grad_profile=gradient_profile(grads.ds),
            rho=max((r for r, _ in spectra.values()), default=math.nan),
            sigma_max=max((v for _, v in spectra.values()), default=math.nan),
            spectra=spectra, lr=float(s.lr))
        if not (math.isfinite(record.loss) and math.isfinite(total)):
            what = f"the loss is {record.loss}" if not math.isfinite(record.loss) \
                else f"the gradient norm is {total}"
            return self._stop(record, f"iteration {k}: {what}; training stopped before the "
                                      f"update, the parameters are those of iteration {k}")
        if s.clip == "norm":
            clip_grad_norm(g, s.clip_threshold, list(arrays), norms=norms)
            record.clipped = s.clip_threshold / (total + 1e-6) < 1.0
        elif s.clip == "value":
            record.clipped = clip_grad_value(g, s.clip_threshold, list(arrays))
        if record.clipped:
            with np.errstate(all="ignore"):
                record.grad_norm_clipped = total_norm(float(np.linalg.norm(g[key].ravel())) for key in keys)
        backup = ({name: a.copy() for name, a in arrays.items()}, optimizer.state_dict())
        optimizer.step(arrays, g)
        state_arrays = [v for st in optimizer.state.values() for v in st.values() if isinstance(v, np.ndarray)]
        if not (_all_finite(arrays.values()) and _all_finite(state_arrays)):
            bad = [name for name, a in arrays.items() if not np.isfinite(a).all()] or ["the optimiser state"]
            for name, a in backup[0].items():
                np.copyto(arrays[name], a)
            optimizer.load_state_dict(backup[1])
            return self._stop(record, f"iteration {k}: the update made {', '.join(bad)} non-finite "
                                      f"(learning rate {s.lr:g} too large?); it was undone, the "
                                      f"parameters are those of iteration {k}")
        self.iteration = k + 1
        self.stopped = None
        return record

    def _stop(self, record: TrainRecord, message: str) -> TrainRecord:
        record.stopped = message
        self.stopped = message
        return record

    def run(self, iterations: int | None = None) -> Iterator[TrainRecord]:
        """Yield one record per iteration, `iterations` of them (None: until stopped or closed);
        a record with `stopped` set is the last."""
        n = None if iterations is None else check_size("iterations", iterations, minimum=0)
        done = 0
        while n is None or done < n:
            record = self.step()
            done += 1
            yield record
            if record.stopped:
                return


def train(params, settings: TrainSettings | None = None, iterations: int | None = None, *,
          activation: str = "tanh") -> Iterator[TrainRecord]:
    """The training loop as a generator: Trainer(params, settings, activation).run(iterations)."""
    return Trainer(params, settings, activation=activation).run(iterations)


def sample_text(params, alphabet: str, rng: np.random.Generator, length: int, *,
                temperature: float = 1.0, prime: str = "", activation: str = "tanh") -> str:
    """Sample length characters from a net trained on the "text" task, each drawn from
    softmax(z_t / temperature) and fed back as the next input (min-char-rnn's sampler).

    prime, characters of the alphabet, is read first (from s0 = 0); without it the first input
    is the alphabet's first character. For the vanilla cell (the state carried is s alone).
    """
    check_rng("rng", rng)
    length = check_size("length", length, minimum=0)
    temperature = check_number("temperature", temperature, minimum=1e-3, maximum=100.0)
    if not isinstance(alphabet, str) or len(alphabet) != params.n_x or params.n_y != params.n_x:
        raise fail("alphabet", f"a string of n_x = n_y = {params.n_x} characters", repr(alphabet)[:40])
    index = {c: i for i, c in enumerate(alphabet)}
    if not isinstance(prime, str) or any(c not in index for c in prime):
        raise fail("prime", "characters of the alphabet", repr(prime)[:40])
    codes = [index[c] for c in prime] or [0]
    x = np.zeros((params.n_x, 1, len(codes)), dtype=params.dtype)
    x[codes, 0, np.arange(len(codes))] = 1
    s = np.zeros((params.n_s, 1), dtype=params.dtype)
    out = []
    for _ in range(length):
        trace = forward(params, x, s, activation)
        s = trace.s[:, :, -1].copy()
        with np.errstate(all="ignore"):
            z = trace.z[:, 0, -1].astype(np.float64) / temperature
            p = np.exp(z - z.max())
            p /= p.sum()
        if not np.isfinite(p).all():
            raise ValueError("params: the network's output is not finite; cannot sample")
        c = int(rng.choice(len(alphabet), p=p))
        out.append(alphabet[c])
        x = np.zeros((params.n_x, 1, 1), dtype=params.dtype)
        x[c, 0, 0] = 1
    return "".join(out)
