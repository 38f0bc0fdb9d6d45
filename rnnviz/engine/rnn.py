"""The fast engine: batched forward pass and full BPTT of the cross-entropy loss.

Arrays are kept in a row layout inside, (T, m, n): step t is one contiguous (m, n) block and
all steps together are one (T*m, n) matrix; the seed layout (n, m, T) handed out is a view.
Everything that does not depend on the recurrence (U x, V s + by, dV, dby, V^T dz, dU, dx) is
one matrix product over all timesteps; only the recurrence itself loops over t.
"""

from __future__ import annotations

import math
import sys
import threading
from dataclasses import dataclass

import numpy as np

from ._checks import check_float_array, check_shape, check_targets, fail
from .activations import Activation, get_activation
from .parameters import Parameters


@dataclass(eq=False)
class Trace:
    """Everything the forward pass computed, in the seed layout."""

    x: np.ndarray        # (n_x, m, T) inputs
    s0: np.ndarray       # (n_s, m) initial state
    a: np.ndarray        # (n_s, m, T) pre-activations U x_t + W s_{t-1} + ba
    s: np.ndarray        # (n_s, m, T) states s_1..s_T (index t holds s_{t+1} in 1-based maths)
    z: np.ndarray        # (n_y, m, T) logits V s_t + by
    y: np.ndarray        # (n_y, m, T) softmax outputs
    activation: str
    nonfinite_steps: np.ndarray   # int indices t where a, s or y is non-finite (any batch element)

    @property
    def m(self) -> int:
        """Batch size."""
        return self.x.shape[1]

    @property
    def T(self) -> int:
        """Number of timesteps."""
        return self.x.shape[2]


@dataclass(eq=False)
class Gradients:
    """The loss, its per-step parts and its gradients for every parameter and input."""

    loss: float            # mean over batch, sum over time
    loss_t: np.ndarray     # (m, T) -log y_t[target] per example and step
    dU: np.ndarray
    dW: np.ndarray
    dV: np.ndarray
    dba: np.ndarray
    dby: np.ndarray
    ds0: np.ndarray        # (n_s, m)
    dx: np.ndarray         # (n_x, m, T)
    ds: np.ndarray         # (n_s, m, T) dL/ds_t, through the output at t and through the future
    nonfinite_steps: np.ndarray   # int indices t where ds is non-finite
    ds_last: np.ndarray | None = None   # (n_s, m, T) dL_T/ds_t, the last step's loss alone
                                        # (backward(..., with_last_loss=True); else None)

    def as_dict(self) -> dict[str, np.ndarray]:
        """The notebook-style dict with keys dU dW dV dba dby ds0 dx."""
        return {"dU": self.dU, "dW": self.dW, "dV": self.dV, "dba": self.dba, "dby": self.dby,
                "ds0": self.ds0, "dx": self.dx}


def rows(a: np.ndarray) -> np.ndarray:
    """Seed layout (n, m, T) -> the engine's row layout (T, m, n), a view."""
    return a.transpose(2, 1, 0)


def seed_layout(r: np.ndarray) -> np.ndarray:
    """Row layout (T, m, n) -> seed layout (n, m, T), a view."""
    return r.transpose(2, 1, 0)


def _flat(r: np.ndarray) -> np.ndarray:
    """(T, m, n) -> (T*m, n): every step's rows stacked (a view when r is contiguous)."""
    return r.reshape(-1, r.shape[-1])


def _nonfinite_steps(*row_arrays: np.ndarray, screen: np.ndarray | None = None) -> np.ndarray:
    """Indices t where any of the (T, m, n) arrays has a non-finite entry (call inside np.errstate).

    The screen, the sum of all the arrays' step-t sums (computed here unless given), is finite
    unless step t holds an inf or a nan or a sum of finite numbers overflowed: only steps with a
    non-finite screen are rechecked.
    """
    if screen is None:
        screen = row_arrays[0].sum(axis=(1, 2))         # cheap: no full-size temporary
        for r in row_arrays[1:]:
            screen += r.sum(axis=(1, 2))                 # inf + -inf is nan: still caught
    suspect = np.flatnonzero(~np.isfinite(screen))
    if not suspect.size:
        return suspect
    return np.array([t for t in suspect if not all(np.isfinite(r[t]).all() for r in row_arrays)],
                    dtype=np.intp)


class _Recycler:
    """Float buffers for results and scratch, reusing a buffer once every view of it is gone.

    Fresh memory costs a page fault per page on first touch; measured on the 2-core VM this runs
    on, that is as much time as all the arithmetic of a (16, 128, 16, 16, 100) call (14.5 ms per
    call with fresh arrays, 7.3 ms with recycled ones), and ~5-10 % at the largest sizes; glibc
    hands big freed blocks back to the kernel, so every call faults again. Arrays handed out are
    views of one base buffer per request; a base is free again when no view of it is alive
    (numpy views keep their base referenced, so its reference count returns to the pool's own).
    At most KEEP bases per thread are kept (the caller's current results, the next request's,
    scratch), each at most MAX_BYTES; anything else is allocated fresh as before.
    """

    KEEP = 4
    MIN_BYTES = 1 << 17
    MAX_BYTES = 1 << 28

    def __init__(self):
        self._local = threading.local()
        probe = [np.empty(1)]
        self._free_count = sys.getrefcount(probe[0])     # the list's reference + the argument's

    def _is_free(self, pool: list, i: int) -> bool:
        return sys.getrefcount(pool[i]) == self._free_count

    def take(self, dtype, *shapes: tuple[int, ...]) -> list[np.ndarray]:
        """Uninitialised C-contiguous arrays of the given shapes, views of one base buffer."""
        dtype = np.dtype(dtype)
        sizes = [math.prod(shape) for shape in shapes]
        total = sum(sizes)
        if total * dtype.itemsize < self.MIN_BYTES:          # malloc reuses small blocks itself
            return [np.empty(shape, dtype=dtype) for shape in shapes]
        pool = self._local.__dict__.setdefault("pool", [])
        base = None
        if total * dtype.itemsize <= self.MAX_BYTES:
            for i in range(len(pool)):
                if pool[i].dtype == dtype and total <= pool[i].size <= 2 * total + 4096 \
                        and self._is_free(pool, i):
                    base = pool[i]
                    break
        if base is None:
            base = np.empty(total, dtype=dtype)
            if total * dtype.itemsize <= self.MAX_BYTES:
                if len(pool) < self.KEEP:
                    pool.append(base)
                else:                                     # replace a free base, if any
                    free = [i for i in range(len(pool)) if self._is_free(pool, i)]
                    if free:
                        pool[free[0]] = base
        out, start = [], 0
        for shape, size in zip(shapes, sizes):
            out.append(base[start:start + size].reshape(shape))
            start += size
        return out


_buffers = _Recycler()


class VanillaCell:
    """s_t = f(U x_t + W s_{t-1} + ba): the recurrence, forward and backward over a whole sequence.

    Works in the row layout (T, m, n): step t is the contiguous block [t] holding s_t^T, so
    s_t = f(...) reads s_t^T = f(x_t^T U^T + s_{t-1}^T W^T + ba^T). Gated cells (LSTM, GRU)
    would be siblings with the same two methods.
    """

    def __init__(self, activation: str | Activation = "tanh"):
        self.act = activation if isinstance(activation, Activation) else get_activation(activation)

    def forward(self, params: Parameters, x_r: np.ndarray, s0_r: np.ndarray, out=None,
                WT: np.ndarray | None = None):
        """Return (a, s), each (T, m, n_s), from x (T, m, n_x) and s0 (m, n_s) (into out=(A, S)).

        WT (n_s, n_s), when given, is the scratch space for the contiguous copy of W^T.
        """
        T, m, _ = x_r.shape
        n_s = params.n_s
        if out is None:
            out = (np.empty((T, m, n_s), dtype=params.dtype), np.empty((T, m, n_s), dtype=params.dtype))
        A, S = out
        np.matmul(_flat(x_r), params.U.T, out=_flat(A))     # U x_t for every t in one product
        A += params.ba.T
        if WT is None:
            WT = np.empty((n_s, n_s), dtype=params.dtype)
        np.copyto(WT, params.W.T)                            # s W^T runs faster on a contiguous copy
        f, tmp = self.act.f, np.empty((m, n_s), dtype=params.dtype)
        matmul, add = np.matmul, np.add
        # The step blocks a_t, s_t come from iterating over A, S, and out is passed by position:
        # at (16, 128, 16, 16, 100) that made this loop ~10 % faster than A[t] and out=A[t].
        s_prev = s0_r
        for a_t, s_t in zip(A, S):                           # only the recurrence loops
            matmul(s_prev, WT, tmp)
            add(a_t, tmp, a_t)
            f(a_t, out=s_t)
            s_prev = s_t
        return A, S

    def backward(self, params: Parameters, x_r, s0_r, a_r, s_r, ds_out_r, overwrite=False,
                 scratch=None, dx_out=None, last_out=None) -> dict:
        """BPTT given dL/ds_t from the outputs alone; returns ds (total), dU, dW, dba, ds0, dx and
        nonfinite_steps (the steps t where ds is non-finite; call inside np.errstate).

        Arrays in row layout: x (T, m, n_x), s0 (m, n_s), a, s, ds_out (T, m, n_s); ds and dx come
        back in row layout, ds0 as (m, n_s). With overwrite=True ds_out becomes ds (no copy).
        scratch (T, m, n_s) and dx_out (n_x, T*m), when given, are written instead of fresh arrays.
        last_out (T, m, n_s), when given, receives dL_T/ds_t (the last step's loss alone: its
        recurrence g_{t-1} = W^T (f'(a_t) * g_t) from g_{T-1} = ds_out_{T-1} shares each step's
        product with ds's, one (2m, n_s) x (n_s, n_s) product: W is read once for both).
        """
        T, m, n_s = a_r.shape
        DS = ds_out_r if overwrite else ds_out_r.copy()     # becomes the total dL/ds_t in place
        DA = self.act.df(a_r, s_r, out=scratch)              # f'(a_t) for all t, then * ds_t in place
        W, tmp = params.W, np.empty((m, n_s), dtype=params.dtype)
        multiply, matmul, add = np.multiply, np.matmul, np.add
        if last_out is None:
            # blocks by iteration, out by position: see forward (~15 % faster here)
            for da_t, ds_t, ds_prev in zip(DA[:0:-1], DS[:0:-1], DS[-2::-1]):   # t = T-1 .. 1
                multiply(da_t, ds_t, da_t)                   # da_t = f'(a_t) * ds_t
                matmul(da_t, W, tmp)
                add(ds_prev, tmp, ds_prev)                   # ds_{t-1} += W^T da_t
        else:
            G, copyto = last_out, np.copyto
            copyto(G[T - 1], DS[T - 1])                      # at T-1 only L_T's own term
            both, out = np.empty((2, m, n_s), dtype=params.dtype), np.empty((2, m, n_s), dtype=params.dtype)
            both2, out2 = both.reshape(2 * m, n_s), out.reshape(2 * m, n_s)
            for t in range(T - 1, 0, -1):
                multiply(DA[t], G[t], both[1])               # f'(a_t) * g_t
                multiply(DA[t], DS[t], DA[t])                # da_t = f'(a_t) * ds_t
                copyto(both[0], DA[t])
                matmul(both2, W, out2)
                add(DS[t - 1], out[0], DS[t - 1])            # ds_{t-1} += W^T da_t
                copyto(G[t - 1], out[1])                     # g_{t-1} = W^T (f'(a_t) * g_t)
        np.multiply(DA[0], DS[0], out=DA[0])
        # screened now, while ds is still in cache: after the products below it cost 0.15 ms more
        # at (16, 128, 16, 16, 100), ~1 ms more at (64, 512, 64, 32, 200)
        bad = _nonfinite_steps(DS)
        DA2 = _flat(DA)
        if T > 1:
            dW = np.matmul(_flat(DA[1:]).T, _flat(s_r[:-1]))
            # the s0 term is +0 when s0 = 0 and da_0 is finite (the usual case): skip its product
            if s0_r.any() or not np.isfinite(DA[0].sum()):
                dW += DA[0].T @ s0_r
        else:
            dW = DA[0].T @ s0_r
        # the skinny products run ~1.2-1.5x faster with the long dimension T*m last (measured)
        dU = (_flat(x_r).T @ DA2).T.copy()                   # (X^T DA)^T = DA^T X
        dx = np.matmul(params.U.T, DA2.T, out=dx_out)         # (n_x, T*m): U^T da_t for all t
        dx = dx.reshape(params.n_x, T, m).transpose(1, 2, 0)  # a row-layout view
        return {"ds": DS, "dU": dU, "dW": dW, "dba": DA2.sum(axis=0)[:, None], "ds0": DA[0] @ W,
                "dx": dx, "nonfinite_steps": bad}


def _softmax_columns(Z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Softmax over axis 0 (one distribution per column), safe for huge logits (nan only where a
    column holds nan or +inf)."""
    Y = np.subtract(Z, Z.max(axis=0), out=out)
    np.exp(Y, out=Y)
    Y /= Y.sum(axis=0)
    return Y


def _columns(v: np.ndarray) -> np.ndarray:
    """Seed layout (n, m, T) -> (n, T*m), column t*m + b holding step t of example b (a view when
    v came from _seed_columns, else a copy)."""
    return v.transpose(0, 2, 1).reshape(v.shape[0], -1)


def _seed_columns(c: np.ndarray, m: int) -> np.ndarray:
    """(n, T*m) with column t*m + b for step t of example b -> seed layout (n, m, T), a view."""
    return c.reshape(c.shape[0], -1, m).transpose(0, 2, 1)


def _check_inputs(params, x, s0, activation):
    if not isinstance(params, Parameters):
        raise fail("params", "a Parameters instance", type(params).__name__)
    act = get_activation(activation)
    x = check_float_array("x", x, 3, params.dtype)
    check_shape("x", x, [("n_x", params.n_x), ("m", None), ("T", None)])
    s0 = check_float_array("s0", s0, 2, params.dtype)
    check_shape("s0", s0, [("n_s", params.n_s), ("m", x.shape[1])])
    return act, x, s0


def forward(params: Parameters, x: np.ndarray, s0: np.ndarray, activation: str = "tanh") -> Trace:
    """Run the RNN over x (n_x, m, T) from s0 (n_s, m); returns the whole Trace."""
    act, x, s0 = _check_inputs(params, x, s0, activation)
    n_x, m, T = x.shape
    n_s, n_y = params.n_s, params.n_y
    # z and y are kept as (n_y, T*m), one column per step and example, unlike a and s: the logit
    # product and the softmax's reductions over n_y run faster that way (at (64,512,64,32,200)
    # 12.0 instead of 14.8 ms for V s_t, 0.7 instead of 1.2 ms for the reductions; 0.04 instead
    # of 0.11 ms for them at (16,128,16,16,100); alternating micro-benchmarks)
    x_r, A, S, Z, Y, WT = _buffers.take(params.dtype, (T, m, n_x), (T, m, n_s), (T, m, n_s),
                                        (n_y, T * m), (n_y, T * m), (n_s, n_s))   # WT: scratch
    np.copyto(x_r, rows(x))                                    # (T, m, n_x), a private copy
    with np.errstate(all="ignore"):
        VanillaCell(act).forward(params, x_r, s0.T, out=(A, S), WT=WT)
        np.matmul(params.V, _flat(S).T, out=Z)                 # V s_t for all steps at once
        Z += params.by
        _softmax_columns(Z, out=Y)
        z, y = _seed_columns(Z, m), _seed_columns(Y, m)
        # f maps finite a to finite s: s needs no check; y's step sums from its columns directly
        # (3x faster than over the strided row view)
        screen = A.sum(axis=(1, 2)) + Y.sum(axis=0).reshape(T, m).sum(axis=1)
        bad = _nonfinite_steps(A, rows(y), screen=screen)
    return Trace(x=seed_layout(x_r), s0=s0.copy(), a=seed_layout(A), s=seed_layout(S), z=z, y=y,
                 activation=act.name, nonfinite_steps=bad)


def _loss_terms(Z: np.ndarray, Y: np.ndarray, pick) -> np.ndarray:
    """-log y[target] for every column of Y (n_y, k): from y where it is a normal number (y has
    relative error of a few ulp, so -log y is exact to a few 1e-16 absolute), else by log-sum-exp
    of the logits Z."""
    y = Y[pick]
    loss = -np.log(y)
    redo = ~(y >= np.finfo(Y.dtype).tiny)                  # underflowed, subnormal or nan
    if np.any(redo):
        Zr = Z[:, pick[1][redo]]                            # (n_y, k) columns of the rare cases
        zmax = Zr.max(axis=0)
        lse = zmax + np.log(np.exp(Zr - zmax).sum(axis=0))
        loss[redo] = lse - Z[pick][redo]
    return loss


def check_trace_and_targets(params: Parameters, trace: Trace, targets) -> np.ndarray:
    """Raise unless trace is a Trace of these parameters and targets fit it; the targets as int64."""
    if not isinstance(params, Parameters):
        raise fail("params", "a Parameters instance", type(params).__name__)
    if not isinstance(trace, Trace):
        raise fail("trace", "a Trace from forward()", type(trace).__name__)
    n_s, m, T = trace.s.shape
    if trace.x.dtype != params.dtype or n_s != params.n_s or trace.x.shape[0] != params.n_x \
            or trace.z.shape[0] != params.n_y:
        raise fail("trace", f"a Trace computed with these parameters (n_x={params.n_x}, "
                   f"n_s={params.n_s}, n_y={params.n_y}, {params.dtype.name})",
                   f"n_x={trace.x.shape[0]}, n_s={n_s}, n_y={trace.z.shape[0]}, {trace.x.dtype.name}")
    return check_targets("targets", targets, m, T, params.n_y)


def backward(params: Parameters, trace: Trace, targets: np.ndarray,
             with_last_loss: bool = False) -> Gradients:
    """Full BPTT of L = (1/m) sum_b sum_t -log y_t[targets[b, t], b] through the Trace.

    with_last_loss=True also fills Gradients.ds_last with dL_T/ds_t, the gradient of the last
    step's term L_T alone (as analysis.last_loss_gradient computes it on its own), in the same
    sweep back in time, reading W once per step for both (n_s = 1024, T = 1000, m = 4: 1012 ms
    for both against 718 + 595 ms apart, benchmarks/bench_stages.py).
    """
    targets = check_trace_and_targets(params, trace, targets)
    n_s, m, T = trace.s.shape
    x_r, a_r, s_r = (rows(v) for v in (trace.x, trace.a, trace.s))
    Z, Y = _columns(trace.z), _columns(trace.y)                  # (n_y, T*m), see forward()
    pick = (targets.T.ravel(), np.arange(T * m))                 # [target[b, t], t*m + b]
    n_x, n_y = params.n_x, params.n_y
    if with_last_loss:
        ds_out, dx_out, last = _buffers.take(params.dtype, (T, m, n_s), (n_x, T * m), (T, m, n_s))
    else:
        (ds_out, dx_out), last = _buffers.take(params.dtype, (T, m, n_s), (n_x, T * m)), None
    DA, dZ = _buffers.take(params.dtype, (T, m, n_s), (n_y, T * m))             # scratch
    with np.errstate(all="ignore"):
        loss_r = _loss_terms(Z, Y, pick).reshape(T, m)
        np.copyto(dZ, Y)                                           # dL/dz_t = (y_t - onehot) / m
        dZ[pick] -= 1
        dZ /= m
        np.matmul(dZ.T, params.V, out=_flat(ds_out))              # dL/ds_t through the output only
        cell = VanillaCell(trace.activation).backward(params, x_r, trace.s0.T, a_r, s_r, ds_out,
                                                      overwrite=True, scratch=DA, dx_out=dx_out,
                                                      last_out=last)
        bad = cell["nonfinite_steps"]
        loss = float(loss_r.sum() / m)
        dV, dby = dZ @ _flat(s_r), dZ.sum(axis=1)[:, None]
    return Gradients(loss=loss, loss_t=loss_r.T.copy(), dU=cell["dU"], dW=cell["dW"], dV=dV,
                     dba=cell["dba"], dby=dby, ds0=cell["ds0"].T, dx=seed_layout(cell["dx"]),
                     ds=seed_layout(cell["ds"]), nonfinite_steps=bad,
                     ds_last=None if last is None else seed_layout(last))


def loss_and_gradients(x, s0, parameters: dict, targets, activation: str = "tanh"):
    """Notebook-style entry point: returns (loss, {"dU", "dW", "dV", "dba", "dby", "ds0", "dx"})."""
    params = Parameters.from_dict(parameters)
    grads = backward(params, forward(params, x, s0, activation), targets)
    return grads.loss, grads.as_dict()
