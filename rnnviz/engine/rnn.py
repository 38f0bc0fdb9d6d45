"""The fast engine: batched forward pass and full BPTT of the cross-entropy loss.

Arrays are kept time-major inside, (n, T, m), so that one step is a (n, m) block and all steps
together are one (n, T*m) matrix; the seed layout (n, m, T) handed out is a view of that.
Everything that does not depend on the recurrence (U x, V s + by, dV, dby, V^T dz, dU, dx) is
one matrix product over all timesteps; only the recurrence itself loops over t.
"""

from __future__ import annotations

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

    def as_dict(self) -> dict[str, np.ndarray]:
        """The notebook-style dict with keys dU dW dV dba dby ds0 dx."""
        return {"dU": self.dU, "dW": self.dW, "dV": self.dV, "dba": self.dba, "dby": self.dby,
                "ds0": self.ds0, "dx": self.dx}


def _time_major(a: np.ndarray) -> np.ndarray:
    """(n, m, T) -> (n, T, m) view."""
    return a.swapaxes(1, 2)


def _flat(a_tm: np.ndarray) -> np.ndarray:
    """(n, T, m) -> (n, T*m) (a view when the array is time-major contiguous)."""
    return a_tm.reshape(a_tm.shape[0], -1)


def _nonfinite_steps(*arrays_tm: np.ndarray) -> np.ndarray:
    """Indices t where any of the time-major arrays has a non-finite entry."""
    bad = np.zeros(arrays_tm[0].shape[1], dtype=bool)
    for arr in arrays_tm:
        bad |= ~np.isfinite(arr).all(axis=(0, 2))
    return np.flatnonzero(bad)


class VanillaCell:
    """s_t = f(U x_t + W s_{t-1} + ba): the recurrence, forward and backward over a whole sequence.

    Gated cells (LSTM, GRU) would be siblings with the same two methods.
    """

    def __init__(self, activation: str | Activation = "tanh"):
        self.act = activation if isinstance(activation, Activation) else get_activation(activation)

    def forward(self, params: Parameters, x_tm: np.ndarray, s0: np.ndarray):
        """Return time-major (a, s), each (n_s, T, m), from time-major x (n_x, T, m)."""
        n_s, T, m = params.n_s, x_tm.shape[1], x_tm.shape[2]
        A = np.empty((n_s, T, m), dtype=params.dtype)
        S = np.empty((n_s, T, m), dtype=params.dtype)
        A2 = _flat(A)
        np.matmul(params.U, _flat(x_tm), out=A2)          # U x_t for every t at once
        A2 += params.ba
        W, f, tmp = params.W, self.act.f, np.empty((n_s, m), dtype=params.dtype)
        s_prev = s0
        for t in range(T):                                  # only the recurrence loops
            a_t, s_t = A[:, t], S[:, t]
            np.matmul(W, s_prev, out=tmp)
            np.add(a_t, tmp, out=a_t)
            f(a_t, out=s_t)
            s_prev = s_t
        return A, S

    def backward(self, params: Parameters, x_tm, s0, a_tm, s_tm, ds_out_tm) -> dict:
        """BPTT given dL/ds_t from the outputs alone (n_s, T, m); returns ds (total), dU, dW, dba, ds0, dx.

        All inputs time-major; ds, dx come back time-major (n, T, m).
        """
        n_s, T, m = a_tm.shape
        DS = ds_out_tm.copy()                        # becomes the total dL/ds_t in place
        DA = self.act.df(a_tm, s_tm)                 # f'(a_t) for every t, then times ds_t in place
        WT, tmp = params.W.T, np.empty((n_s, m), dtype=params.dtype)
        for t in range(T - 1, 0, -1):                # ds_{t-1} += W^T (f'(a_t) * ds_t)
            da_t = DA[:, t]
            np.multiply(da_t, DS[:, t], out=da_t)
            np.matmul(WT, da_t, out=tmp)
            ds_prev = DS[:, t - 1]
            np.add(ds_prev, tmp, out=ds_prev)
        np.multiply(DA[:, 0], DS[:, 0], out=DA[:, 0])
        DA2 = _flat(DA)
        dW = DA[:, 0] @ s0.T
        if T > 1:
            dW += _flat(DA[:, 1:]) @ _flat(s_tm[:, :-1]).T
        return {"ds": DS, "dU": DA2 @ _flat(x_tm).T, "dW": dW,
                "dba": DA2.sum(axis=1, keepdims=True), "ds0": WT @ DA[:, 0],
                "dx": (params.U.T @ DA2).reshape(params.n_x, T, m)}


def _softmax_columns(Z: np.ndarray) -> np.ndarray:
    """Softmax over axis 0, safe for huge logits (nan only where a column holds nan or +inf)."""
    Y = Z - Z.max(axis=0, keepdims=True)
    np.exp(Y, out=Y)
    Y /= Y.sum(axis=0, keepdims=True)
    return Y


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
    x_tm = np.ascontiguousarray(_time_major(x))                 # (n_x, T, m), a private copy
    with np.errstate(all="ignore"):
        A, S = VanillaCell(act).forward(params, x_tm, s0)
        Z = np.matmul(params.V, _flat(S)).reshape(params.n_y, *S.shape[1:])  # all steps at once
        Z += params.by[:, :, None]
        Y = _softmax_columns(Z)
        bad = _nonfinite_steps(A, S, Y)
    return Trace(x=_time_major(x_tm), s0=s0.copy(), a=_time_major(A), s=_time_major(S),
                 z=_time_major(Z), y=_time_major(Y), activation=act.name, nonfinite_steps=bad)


def backward(params: Parameters, trace: Trace, targets: np.ndarray) -> Gradients:
    """Full BPTT of L = (1/m) sum_b sum_t -log y_t[targets[b, t], b] through the Trace."""
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
    targets = check_targets("targets", targets, m, T, params.n_y)
    x_tm, a_tm, s_tm = _time_major(trace.x), _time_major(trace.a), _time_major(trace.s)
    Z, Y = _time_major(trace.z), _time_major(trace.y)
    tgt = targets.T[None]                                          # (1, T, m)
    with np.errstate(all="ignore"):
        zmax = Z.max(axis=0)                                       # loss by log-sum-exp of logits
        lse = zmax + np.log(np.exp(Z - zmax).sum(axis=0))
        loss_tm = lse - np.take_along_axis(Z, tgt, axis=0)[0]      # (T, m)
        dZ = Y.copy()                                              # dL/dz_t = (y_t - onehot) / m
        np.put_along_axis(dZ, tgt, np.take_along_axis(dZ, tgt, axis=0) - 1, axis=0)
        dZ /= m
        dZ2, S2 = _flat(dZ), _flat(s_tm)
        ds_out = (params.V.T @ dZ2).reshape(n_s, T, m)
        cell = VanillaCell(trace.activation).backward(params, x_tm, trace.s0, a_tm, s_tm, ds_out)
        bad = _nonfinite_steps(cell["ds"])
        loss = float(loss_tm.sum() / m)
        dV, dby = dZ2 @ S2.T, dZ2.sum(axis=1, keepdims=True)
    return Gradients(loss=loss, loss_t=loss_tm.T.copy(), dU=cell["dU"], dW=cell["dW"], dV=dV,
                     dba=cell["dba"], dby=dby, ds0=cell["ds0"], dx=_time_major(cell["dx"]),
                     ds=_time_major(cell["ds"]), nonfinite_steps=bad)


def loss_and_gradients(x, s0, parameters: dict, targets, activation: str = "tanh"):
    """Notebook-style entry point: returns (loss, {"dU", "dW", "dV", "dba", "dby", "ds0", "dx"})."""
    params = Parameters.from_dict(parameters)
    grads = backward(params, forward(params, x, s0, activation), targets)
    return grads.loss, grads.as_dict()
