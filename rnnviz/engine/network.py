"""A cell and the shared readout over a whole sequence: the forward pass and full BPTT of the loss.

The cell runs the recurrence (engine/cells/), the readout z_t = V h_t + by, the output and the
loss (engine/readout.py); h is the cell's first state part. Arrays are kept in the row layout
inside, handed out in the seed layout (engine/_layout.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import readout
from ._checks import check_float_array, check_shape, fail
from ._layout import buffers, columns, flat, nonfinite_steps, rows, seed_columns, seed_layout
from .cells import get_cell
from .parameters import Parameters


@dataclass(eq=False)
class Trace:
    """Everything the forward pass computed, in the seed layout (the cell's arrays by name:
    trace.a, trace.c, ...; a part named like a field, the GRU's gate z, only as trace.parts["z"])."""

    x: np.ndarray        # (n_x, m, T) inputs
    s0: np.ndarray       # (n_s, m) initial read-out state h_0
    state0: dict         # {part: (n_s, m)} every initial state part (s0 among them)
    s: np.ndarray        # (n_s, m, T) read-out states h_1..h_T (index t holds h_{t+1} in 1-based maths)
    z: np.ndarray        # (n_y, m, T) V h_t + by
    y: np.ndarray        # (n_y, m, T) outputs: softmax(z) for cross-entropy, z itself for mse
    parts: dict          # {name: (n, m, T)} the cell's arrays (vanilla: "a" pre-activations, "s")
    cell: str
    activation: str
    loss: str            # "cross_entropy" | "mse"
    nonfinite_steps: np.ndarray   # int indices t where any array of the step or y is non-finite

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("_") or name == "parts":
            raise AttributeError(name)
        try:
            return self.__dict__["parts"][name]
        except KeyError:
            raise AttributeError(f"the trace of the {self.__dict__.get('cell')!r} cell has no "
                                 f"array {name!r}") from None

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
    """The loss, its per-step parts and its gradients for every parameter (gr.dW, ...) and input."""

    loss: float            # mean over batch, sum over (scored) steps
    loss_t: np.ndarray     # (m, T) each example's loss at each step (0 where not scored)
    dparams: dict          # {"d" + name: array shaped like the parameter}
    ds: np.ndarray         # (n_s, m, T) dL/dh_t, through the output at t and through the future
    ds0: np.ndarray        # (n_s, m) dL/dh_0
    dstate0: dict          # {part: (n_s, m)} gradient of every initial state part
    dx: np.ndarray         # (n_x, m, T)
    nonfinite_steps: np.ndarray   # int indices t where ds is non-finite
    ds_last: np.ndarray | None = None   # (n_s, m, T) dL_T/dh_t, the last step's loss alone
                                        # (backward(..., with_last_loss=True); else None)
    first_part: str = field(default="s", repr=False)    # the read-out state part (ds0 is its gradient)

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("_") or name == "dparams":
            raise AttributeError(name)
        try:
            return self.__dict__["dparams"][name]
        except KeyError:
            raise AttributeError(f"Gradients have no {name!r}") from None

    def as_dict(self) -> dict[str, np.ndarray]:
        """The notebook-style dict: "d" + every parameter name, ds0, dx, and "d" + part + "0"
        for the other state parts (dc0 for the LSTM)."""
        out = {**self.dparams, "ds0": self.ds0, "dx": self.dx}
        for part, g in self.dstate0.items():
            if part != self.first_part:
                out[f"d{part}0"] = g
        return out


def _check_inputs(params, x, s0, activation, c0, loss):
    if not isinstance(params, Parameters):
        raise fail("params", "a Parameters instance", type(params).__name__)
    cell = get_cell(params.cell, activation)
    loss = readout.check_loss(loss)
    x = check_float_array("x", x, 3, params.dtype)
    check_shape("x", x, [("n_x", params.n_x), ("m", None), ("T", None)])
    s0 = check_float_array("s0", s0, 2, params.dtype)
    check_shape("s0", s0, [("n_s", params.n_s), ("m", x.shape[1])])
    state0 = {}
    for part in cell.state_parts:
        if part == cell.state_parts[0]:
            state0[part] = s0
        elif part == "c" and c0 is not None:
            c0 = check_float_array("c0", c0, 2, params.dtype)
            check_shape("c0", c0, [("n_s", params.n_s), ("m", x.shape[1])])
            state0[part] = c0
        else:
            state0[part] = np.zeros_like(s0)
    if c0 is not None and "c" not in cell.state_parts[1:]:
        raise fail("c0", f"None (the {cell.label} cell has no c state)", "an array")
    return cell, loss, x, state0


def forward(params: Parameters, x: np.ndarray, s0: np.ndarray, activation: str = "tanh", *,
            c0: np.ndarray | None = None, loss: str = "cross_entropy") -> Trace:
    """Run the network over x (n_x, m, T) from s0 (n_s, m) (and c0 for a cell with a c state,
    zeros when None); returns the whole Trace. loss picks the output: softmax for
    "cross_entropy", identity for "mse"."""
    cell, loss, x, state0 = _check_inputs(params, x, s0, activation, c0, loss)
    n_x, m, T = x.shape
    n_y = params.n_y
    # z and y are kept as (n_y, T*m), one column per step and example, unlike the cell's arrays:
    # the logit product and the softmax's reductions over n_y run faster that way (at
    # (64,512,64,32,200) 12.0 instead of 14.8 ms for V s_t, 0.7 instead of 1.2 ms for the
    # reductions; 0.04 instead of 0.11 ms for them at (16,128,16,16,100); alternating micro-benchmarks)
    softmax = readout.OUTPUTS[loss] == "softmax"
    shapes = [(T, m, n_x), (n_y, T * m)] + ([(n_y, T * m)] if softmax else [])
    x_r, Z, *Y = buffers.take(params.dtype, *shapes)
    np.copyto(x_r, rows(x))                                    # (T, m, n_x), a private copy
    state0_r = {part: v.T for part, v in state0.items()}
    p = params.as_dict()
    with np.errstate(all="ignore"):
        arrays = cell.forward(p, x_r, state0_r)
        h = arrays[cell.state_parts[0]]
        Yc = readout.outputs(p["V"], p["by"], flat(h), loss, Z, Y[0] if Y else None)
        z, y = seed_columns(Z, m), seed_columns(Yc, m)
        screened = [arrays[n] for n in (cell.finite_from or arrays)]
        # y's step sums from its columns directly (3x faster than over the strided row view)
        screen = Yc.sum(axis=0).reshape(T, m).sum(axis=1)
        for r in screened:
            screen = r.sum(axis=(1, 2)) + screen
        bad = nonfinite_steps(*screened, rows(y), screen=screen)
    parts = {name: seed_layout(r) for name, r in arrays.items()}
    state0_copy = {part: v.copy() for part, v in state0.items()}
    first = cell.state_parts[0]
    trace = Trace(x=seed_layout(x_r), s0=state0_copy[first], state0=state0_copy, s=parts[first],
                  z=z, y=y, parts=parts, cell=params.cell, activation=cell.activation, loss=loss,
                  nonfinite_steps=bad)
    trace._rows = ((trace.x, trace.state0, trace.parts),                          # see row_arrays
                   (x_r, {part: v.T for part, v in state0_copy.items()}, arrays))
    return trace


def check_trace_and_targets(params: Parameters, trace: Trace, targets) -> np.ndarray:
    """Raise unless trace is a Trace of these parameters and targets fit it and its loss; the
    targets validated (int64 classes, or float outputs for mse)."""
    if not isinstance(params, Parameters):
        raise fail("params", "a Parameters instance", type(params).__name__)
    if not isinstance(trace, Trace):
        raise fail("trace", "a Trace from forward()", type(trace).__name__)
    n_s, m, T = trace.s.shape
    if trace.x.dtype != params.dtype or n_s != params.n_s or trace.x.shape[0] != params.n_x \
            or trace.z.shape[0] != params.n_y or trace.cell != params.cell:
        raise fail("trace", f"a Trace computed with these parameters ({params.cell}, n_x={params.n_x}, "
                   f"n_s={params.n_s}, n_y={params.n_y}, {params.dtype.name})",
                   f"{trace.cell}, n_x={trace.x.shape[0]}, n_s={n_s}, n_y={trace.z.shape[0]}, "
                   f"{trace.x.dtype.name}")
    return readout.check_targets(trace.loss, targets, m, T, params.n_y)


def row_arrays(trace: Trace) -> tuple[np.ndarray, dict, dict]:
    """x, state0 and the cell's arrays of a trace in the row layout (views): what the cell takes.

    forward() keeps them with the trace (the same arrays); they are rebuilt where it has not.
    """
    kept = trace.__dict__.get("_rows")
    if kept is not None and all(a is b for a, b in zip(kept[0], (trace.x, trace.state0, trace.parts))):
        return kept[1]
    return (rows(trace.x), {part: v.T for part, v in trace.state0.items()},
            {name: rows(v) for name, v in trace.parts.items()})


def backward(params: Parameters, trace: Trace, targets: np.ndarray,
             with_last_loss: bool = False) -> Gradients:
    """Full BPTT of the trace's loss L (readout.py) through the Trace.

    with_last_loss=True also fills Gradients.ds_last with dL_T/dh_t, the gradient of the last
    step's term L_T alone (as analysis.last_loss_gradient computes it on its own), in the same
    sweep back in time where the cell can (vanilla: reading W once per step for both; n_s = 1024,
    T = 1000, m = 4: 1012 ms for both against 718 + 595 ms apart, benchmarks/bench_stages.py).
    """
    targets = check_trace_and_targets(params, trace, targets)
    cell = get_cell(trace.cell, trace.activation)
    n_s, m, T = trace.s.shape
    x_r, state0_r, arrays = row_arrays(trace)
    Z, Y = columns(trace.z), columns(trace.y)                    # (n_y, T*m), see forward()
    ds_out, dZ = buffers.take(params.dtype, (T, m, n_s), (params.n_y, T * m))
    p = params.as_dict()
    with np.errstate(all="ignore"):
        loss_r = readout.loss_and_gradient(Z, Y, targets, trace.loss, m, dZ)
        np.matmul(dZ.T, p["V"], out=flat(ds_out))                 # dL/dh_t through the output only
        if with_last_loss:
            res, last = cell.backward_with_last_loss(p, x_r, state0_r, arrays, ds_out)
        else:
            res, last = cell.backward(p, x_r, state0_r, arrays, ds_out), None
        bad = res.get("nonfinite_steps")
        if bad is None:
            bad = nonfinite_steps(res["ds"])
        loss = float(loss_r.sum() / m)
        dV, dby = dZ @ flat(arrays[cell.state_parts[0]]), dZ.sum(axis=1)[:, None]
    own = {"dV": dV, "dby": dby}                                  # the readout's, then the cell's
    dparams = {f"d{n}": own[f"d{n}"] if n in readout.NAMES else res[f"d{n}"] for n in params.names}
    dstate0 = {part: g.T for part, g in res["dstate0"].items()}
    first = cell.state_parts[0]
    return Gradients(loss=loss, loss_t=loss_r.T.copy(), dparams=dparams, ds=seed_layout(res["ds"]),
                     ds0=dstate0[first], dstate0=dstate0, dx=seed_layout(res["dx"]),
                     nonfinite_steps=bad, ds_last=None if last is None else seed_layout(last),
                     first_part=first)


def loss_and_gradients(x, s0, parameters: dict, targets, activation: str = "tanh", *,
                       cell: str = "vanilla", c0=None, loss: str = "cross_entropy"):
    """Notebook-style entry point: returns (loss, {"d" + parameter name, "ds0", "dx"} (and "dc0"
    for a cell with a c state))."""
    params = Parameters.from_dict(parameters, cell=cell)
    grads = backward(params, forward(params, x, s0, activation, c0=c0, loss=loss), targets)
    return grads.loss, grads.as_dict()
