"""The cell protocol: what every recurrent cell (vanilla, LSTM, GRU, ...) gives the rest of rnnviz.

A cell is the recurrence alone. The readout (z_t = V h_t + by, softmax or identity, the loss)
is shared by all cells and lives in engine/readout.py; engine/network.py runs a cell and the
readout together. Nothing outside engine/ spells out a cell's formula: it asks the cell.

Layouts. The engine works in the row layout (T, m, n): step t is the contiguous block [t] of
shape (m, n), one row per batch element, so h_t = f(...) is computed as h_t^T. The seed layout
(n, m, T) handed out to users is a transposed view of it (_layout.rows / _layout.seed_layout);
_layout.buffers recycles large arrays (no page faults on every call).

State. A cell's recurrent state is one or more parts of n_s units each, named in
`state_parts`: ("s",) for the vanilla cell and the GRU, ("h", "c") for the LSTM. The first part
is the one the readout reads (the "hidden state" h_t the heatmap shows). The state vector the
flow analysis differentiates is the concatenation of all parts, n_state = len(state_parts) n_s.

Parameters. A cell names its own arrays and their shapes (`param_shapes`); the readout adds
V (n_y, n_s) and by (n_y, 1). Gradients are the same names with a "d" in front.

What a cell must give: the abstract methods below. What it may give, for speed or for more of
the analysis (each has a default that is correct for every cell): backward_with_last_loss and
last_loss_backward (fused or cheaper sweeps), jacobian_factors and input_factor (the fast flow
and connectivity paths), jacobian_bound (the bound curve), recurrent_gradient_factors (step
shares of the recurrent gradient), finite_from (a cheaper non-finite screen).
Calls: params are {name: array} in the parameters' dtype (Parameters.as_dict()); x_r, state0
and trace are in row layout; the sequence and step methods are called inside
np.errstate(all="ignore") and must not raise on non-finite numbers.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar

import numpy as np

Arrays = Mapping[str, np.ndarray]


class Cell(ABC):
    """One recurrent cell: its parameters, forward and BPTT over a whole sequence, step Jacobians.

    An instance holds nothing but its activation (get_cell shares one per cell and activation).
    """

    name: ClassVar[str]                        # registry key: "vanilla", "lstm", "gru", ...
    label: ClassVar[str]                       # for people: "vanilla RNN", "LSTM", "GRU"
    state_parts: ClassVar[tuple[str, ...]] = ("s",)
    activations: ClassVar[tuple[str, ...]] = ("tanh",)   # the activations this cell accepts
    # the forward arrays whose finiteness at a step implies every other array's there (vanilla:
    # ("a",), as s = f(a) is finite where a is): the non-finite screen reads these alone; None: all
    finite_from: ClassVar[tuple[str, ...] | None] = None
    # the gate g whose product prod_k g_k is a state part's direct path back in time, and that
    # part (LSTM: "f" and "c", as c_t = f c_{t-1} + i g; GRU: "z" and "s", as s_t = z s_{t-1} +
    # (1 - z) n): the gated analysis draws it (analysis/gated.py); None for cells without one
    carry_gate: ClassVar[str | None] = None
    carry_part: ClassVar[str | None] = None

    def __init__(self, activation: str = "tanh"):
        if activation not in self.activations:
            raise ValueError(f"activation: the {self.label} cell takes "
                             f"{' or '.join(repr(a) for a in self.activations)}; got {activation!r}")
        self.activation = activation

    # ----- parameters ----------------------------------------------------------------------
    @abstractmethod
    def param_shapes(self, n_x: int, n_s: int) -> dict[str, tuple[int, int]]:
        """The cell's own arrays and their shapes, in a fixed order (e.g. U, W, ba)."""

    @abstractmethod
    def init_params(self, rng: np.random.Generator, n_x: int, n_s: int, dtype=np.float64,
                    **options) -> dict[str, np.ndarray]:
        """Draw the cell's arrays from rng (options are the cell's own: init kind, scales, ...)."""

    @abstractmethod
    def recurrent_matrices(self, params: Arrays) -> dict[str, np.ndarray]:
        """The square (n_s, n_s) matrices the recurrence multiplies the state by, labelled
        (vanilla: {"W": W}; LSTM: {"W_i": ..., "W_f": ..., "W_g": ..., "W_o": ...}). The
        spectrum view shows their eigenvalues."""

    # ----- a whole sequence ----------------------------------------------------------------
    @abstractmethod
    def forward(self, params: Arrays, x_r: np.ndarray, state0: Arrays) -> dict[str, np.ndarray]:
        """Run the recurrence over x (T, m, n_x) from state0 ({part: (m, n_s)}).

        Returns named row-layout arrays, (T, m, n_s) each unless the cell says otherwise: at
        least every state part (its value after each step), plus whatever backward and the views
        need (vanilla: "a", the pre-activations; LSTM: the gates "i", "f", "g", "o" and "c").
        Non-finite numbers never raise or warn (call inside np.errstate).
        """

    @abstractmethod
    def backward(self, params: Arrays, x_r: np.ndarray, state0: Arrays, trace: Arrays,
                 dh_r: np.ndarray) -> dict:
        """BPTT given dL/dh_t from the readout alone (T, m, n_s), h the first state part.

        Returns {"d" + name: array shaped like the parameter} for every cell parameter, and
        "ds": (T, m, n_s) the total dL/dh_t (through the readout at t and through the future),
        "dstate0": {part: (m, n_s)} the gradient of every initial state part,
        "dx": (T, m, n_x), dL/dx_t,
        and optionally "nonfinite_steps": the steps t where ds is non-finite, when the cell
        screened them itself (else the network does).
        dh_r is the cell's to overwrite (the vanilla cell accumulates ds in it); trace is what
        forward returned, x_r and state0 what it was given.
        """

    def backward_with_last_loss(self, params: Arrays, x_r: np.ndarray, state0: Arrays,
                                trace: Arrays, dh_r: np.ndarray) -> tuple[dict, np.ndarray]:
        """backward(...) and dL_T/dh_t (T, m, n_s), the gradient of the last step's loss alone.

        At the last step only L_T reaches h, so dL_T/dh_{T-1} = dh_r[T-1]. The default runs the
        two sweeps one after the other; a cell may fuse them (vanilla: one product per step
        reads W once for both).
        """
        last = self.last_loss_backward(params, x_r, state0, trace, np.array(dh_r[-1]))
        return self.backward(params, x_r, state0, trace, dh_r), last

    def last_loss_backward(self, params: Arrays, x_r: np.ndarray, state0: Arrays, trace: Arrays,
                           g_last: np.ndarray) -> np.ndarray:
        """dL_T/dh_t for every step (T, m, n_s) from g_last = dL_T/dh_{T-1} (m, n_s) alone.

        The default is backward() with dL/dh zero but at the last step; a cell may run the
        state recurrence alone (no parameter gradients).
        """
        dh = np.zeros(np.shape(trace[self.state_parts[0]]), dtype=g_last.dtype)
        dh[-1] = g_last
        return self.backward(params, x_r, state0, trace, dh)["ds"]

    # ----- one step, for the flow analysis and connectivity --------------------------------
    @abstractmethod
    def step_vjp(self, params: Arrays, trace: Arrays, x_r: np.ndarray, state0: Arrays,
                 t: int, b: int, G: np.ndarray) -> tuple[np.ndarray, float]:
        """Rows times the step Jacobian: (G J_t / 10**c, c) for batch element b.

        J_t = d state_t / d state_{t-1} (n_state x n_state, state the concatenated parts, step t
        0-based, state_{-1} = state0), G (k, n_state) float64; returns float64. The scale c lets
        a cell keep factors that under- or overflow float out of the product (vanilla: f'(a) as
        log f'). c must depend on the step alone (params, trace, t, b), not on G: the analysis
        multiplies several blocks of rows by one step and relies on one scale. c = nan (or nan
        in the product) where the step is not finite.
        """

    @abstractmethod
    def input_vjp(self, params: Arrays, trace: Arrays, x_r: np.ndarray, state0: Arrays,
                  t: int, b: int, G: np.ndarray) -> tuple[np.ndarray, float]:
        """(G K_t / 10**c, c) with K_t = d state_t / d x_t (n_state x n_x): for connectivity."""

    def jacobian_factors(self, params: Arrays, trace: Arrays, b: int):
        """(M, log_df) when every step's Jacobian is diag(exp(log_df[:, t])) M, else None.

        M (n_state, n_state) and log_df (n_state, T) float64, for batch element b. The flow
        analysis then keeps the diagonal in log scale (exact where f' underflows) and uses its
        fast product path; cells whose Jacobian is not of that form return None and are
        multiplied through step_vjp.
        """
        return None

    def step_products(self, params: Arrays, trace: Arrays, state0: Arrays, b: int):
        """None, or the products with the step Jacobians J_t = d state_t / d state_{t-1} of batch
        element b formed from the steps' saved values, for the flow analysis (one product with
        J_t costs less than n_state rows of step_vjp). An object with n (= n_state) and
        form(t, scale=1.0) -> bool: makes step t current (its factors times scale, formed in
        the object's one buffer), False where the step is not finite; and rows(X, out) -> out:
        out = X (scale J_t) for rows X (k, n_state) float64, the current step's, out (k, n_state)
        not sharing memory with X. The factors must be bounded (the scale is 0, as step_vjp's).
        See step_products.py (LSTM, GRU).
        """
        return None

    def input_factor(self, params: Arrays) -> np.ndarray | None:
        """M_x (n_state, n_x) float64 when every step's input Jacobian is K_t = d state_t / d x_t
        = diag(exp(log_df[:, t])) M_x with jacobian_factors' log_df (vanilla: U), else None.
        Connectivity then runs as one vector recurrence and one product; else via input_vjp."""
        return None

    def recurrent_gradient_factors(self, params: Arrays, trace: Arrays, state0: Arrays,
                                   ds_r: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]] | None:
        """Each step's term of the gradient of the recurrent matrices, as pairs (D, H) of float64
        (T, m, n) arrays, one per recurrent matrix M: dM = sum_t D[t]^T H[t] (vanilla: D the
        dL/da_t, H the states s_{t-1}). ds_r is the total dL/dh_t (T, m, n_s). None when the
        cell does not give them (step_shares then refuses)."""
        return None

    def jacobian_bound(self, params: Arrays) -> float | None:
        """A number q with ||J_t||_2 <= q at every step, when the cell has one (vanilla:
        gamma sigma_max(W)); None when no simple bound applies (gated cells). A cell whose bound
        needs an SVD may take sigma_max= too (vanilla): gradient_flow(sigma_max=...) hands on a
        known value."""
        return None
