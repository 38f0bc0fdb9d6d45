"""The vanilla RNN cell of the seed notebook: s_t = f(a_t), a_t = U x_t + W s_{t-1} + ba.

Works in the row layout (T, m, n): step t is the contiguous block [t] holding s_t^T, so
s_t = f(...) reads s_t^T = f(x_t^T U^T + s_{t-1}^T W^T + ba^T). Everything that does not
depend on the recurrence (U x, dU, dx, dba) is one matrix product over all steps; only the
recurrence itself loops over t. Step Jacobian J_t = diag(f'(a_t)) W, input Jacobian
K_t = diag(f'(a_t)) U.
"""

from __future__ import annotations

import numpy as np

from .._layout import buffers, flat, nonfinite_steps
from ..activations import ACTIVATIONS, Activation, get_activation
from ..draws import bias, input_matrix, recurrent_matrix
from .base import Arrays, Cell
from .registry import register_cell

LN10 = np.log(10.0)


@register_cell
class VanillaCell(Cell):
    """s_t = f(U x_t + W s_{t-1} + ba), f one of tanh, relu, sigmoid, linear."""

    name = "vanilla"
    label = "vanilla RNN"
    state_parts = ("s",)
    activations = tuple(ACTIVATIONS)
    finite_from = ("a",)                 # f maps finite a to finite s

    def __init__(self, activation: str | Activation = "tanh"):
        self.act = activation if isinstance(activation, Activation) else get_activation(activation)
        self.activation = self.act.name

    # ----- parameters ----------------------------------------------------------------------
    def param_shapes(self, n_x: int, n_s: int) -> dict[str, tuple[int, int]]:
        """U (n_s, n_x), W (n_s, n_s), ba (n_s, 1)."""
        return {"U": (n_s, n_x), "W": (n_s, n_s), "ba": (n_s, 1)}

    def init_params(self, rng: np.random.Generator, n_x: int, n_s: int, dtype=np.float64, *,
                    kind: str = "gaussian", spectral_radius: float = 1.0, u_scale: float = 1.0,
                    ba_scale: float = 0.0, sparse_k: int = 15) -> dict[str, np.ndarray]:
        """W, U, ba drawn in that order by engine/init.py's rules (W rescaled to the spectral
        radius). init.init_parameters draws the readout's V between U and ba (the seed's order)."""
        W = recurrent_matrix(rng, n_s, kind, spectral_radius, sparse_k)
        U = input_matrix(rng, n_s, n_x, u_scale)
        ba = bias(rng, n_s, ba_scale)
        return {"U": U.astype(dtype), "W": W.astype(dtype), "ba": ba.astype(dtype)}

    def recurrent_matrices(self, params: Arrays) -> dict[str, np.ndarray]:
        """{"W": W}."""
        return {"W": params["W"]}

    # ----- a whole sequence ----------------------------------------------------------------
    def forward(self, params: Arrays, x_r: np.ndarray, state0: Arrays) -> dict[str, np.ndarray]:
        """{"a": pre-activations, "s": states}, each (T, m, n_s), from x (T, m, n_x), s0 (m, n_s)."""
        U, W, ba = params["U"], params["W"], params["ba"]
        T, m, _ = x_r.shape
        n_s = W.shape[0]
        A, S, WT = buffers.take(W.dtype, (T, m, n_s), (T, m, n_s), (n_s, n_s))   # WT: scratch
        np.matmul(flat(x_r), U.T, out=flat(A))              # U x_t for every t in one product
        A += ba.T
        np.copyto(WT, W.T)                                   # s W^T runs faster on a contiguous copy
        f, tmp = self.act.f, np.empty((m, n_s), dtype=W.dtype)
        matmul, add = np.matmul, np.add
        # The step blocks a_t, s_t come from iterating over A, S, and out is passed by position:
        # at (16, 128, 16, 16, 100) that made this loop ~10 % faster than A[t] and out=A[t].
        s_prev = state0["s"]
        for a_t, s_t in zip(A, S):                           # only the recurrence loops
            matmul(s_prev, WT, tmp)
            add(a_t, tmp, a_t)
            f(a_t, out=s_t)
            s_prev = s_t
        return {"a": A, "s": S}

    def backward(self, params: Arrays, x_r: np.ndarray, state0: Arrays, trace: Arrays,
                 dh_r: np.ndarray) -> dict:
        """BPTT from dL/ds_t through the readout alone (dh_r, overwritten with the total ds)."""
        return self._backward(params, x_r, state0, trace, dh_r, None)

    def backward_with_last_loss(self, params: Arrays, x_r: np.ndarray, state0: Arrays,
                                trace: Arrays, dh_r: np.ndarray) -> tuple[dict, np.ndarray]:
        """backward() and dL_T/ds_t in the same sweep back in time: the last loss's recurrence
        g_{t-1} = W^T (f'(a_t) * g_t) from g_{T-1} = dh_{T-1} shares each step's product with
        ds's, one (2m, n_s) x (n_s, n_s) product that reads W once for both (n_s = 1024,
        T = 1000, m = 4: 1012 ms for both against 718 + 595 ms apart, bench_stages.py)."""
        T, m, n_s = dh_r.shape
        (last,) = buffers.take(dh_r.dtype, (T, m, n_s))
        return self._backward(params, x_r, state0, trace, dh_r, last), last

    def _backward(self, params, x_r, state0, trace, dh_r, last_out) -> dict:
        U, W = params["U"], params["W"]
        a_r, s_r, s0_r = trace["a"], trace["s"], state0["s"]
        T, m, n_s = a_r.shape
        n_x = x_r.shape[2]
        dtype = W.dtype
        (dx_out,) = buffers.take(dtype, (n_x, T * m))
        (scratch,) = buffers.take(dtype, (T, m, n_s))
        DS = dh_r                                            # becomes the total dL/ds_t in place
        DA = self.act.df(a_r, s_r, out=scratch)              # f'(a_t) for all t, then * ds_t in place
        tmp = np.empty((m, n_s), dtype=dtype)
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
            both, out = np.empty((2, m, n_s), dtype=dtype), np.empty((2, m, n_s), dtype=dtype)
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
        bad = nonfinite_steps(DS)
        DA2 = flat(DA)
        if T > 1:
            dW = np.matmul(flat(DA[1:]).T, flat(s_r[:-1]))
            # the s0 term is +0 when s0 = 0 and da_0 is finite (the usual case): skip its product
            if s0_r.any() or not np.isfinite(DA[0].sum()):
                dW += DA[0].T @ s0_r
        else:
            dW = DA[0].T @ s0_r
        # the skinny products run ~1.2-1.5x faster with the long dimension T*m last (measured)
        dU = (flat(x_r).T @ DA2).T.copy()                    # (X^T DA)^T = DA^T X
        dx = np.matmul(U.T, DA2.T, out=dx_out)               # (n_x, T*m): U^T da_t for all t
        dx = dx.reshape(n_x, T, m).transpose(1, 2, 0)        # a row-layout view
        return {"dU": dU, "dW": dW, "dba": DA2.sum(axis=0)[:, None], "ds": DS,
                "dstate0": {"s": DA[0] @ W}, "dx": dx, "nonfinite_steps": bad}

    def last_loss_backward(self, params: Arrays, x_r: np.ndarray, state0: Arrays, trace: Arrays,
                           g_last: np.ndarray) -> np.ndarray:
        """dL_T/ds_t by its own recurrence g_{t-1} = W^T (f'(a_t) * g_t): O(T n_s^2 m)."""
        a_r, s_r, W = trace["a"], trace["s"], params["W"]
        T, m, n_s = a_r.shape
        G = np.empty((T, m, n_s), dtype=W.dtype)              # row layout: G[t] = g_t^T
        G[T - 1] = g_last
        DF = self.act.df(a_r, s_r)                            # f'(a_t), (T, m, n_s)
        tmp = np.empty((m, n_s), dtype=W.dtype)
        for t in range(T - 2, -1, -1):                        # g_t^T = (f'(a_{t+1}) * g_{t+1})^T W
            np.multiply(DF[t + 1], G[t + 1], out=tmp)
            np.matmul(tmp, W, out=G[t])
        return G

    # ----- one step, for the flow analysis and connectivity --------------------------------
    def _scaled_df(self, trace: Arrays, t: int, b: int) -> tuple[np.ndarray, float]:
        """f'(a_t) of element b as (exp(log f' - top), top / ln 10)."""
        ld = self.act.log_df(trace["a"][t, b])
        top = float(np.max(ld))
        if np.isnan(top):
            return np.full(ld.shape, np.nan), np.nan
        if top == -np.inf:                                  # f' = 0: the Jacobian vanishes
            return np.zeros(ld.shape), 0.0
        return np.exp(ld - top), top / LN10

    def step_vjp(self, params: Arrays, trace: Arrays, x_r: np.ndarray, state0: Arrays,
                 t: int, b: int, G: np.ndarray) -> tuple[np.ndarray, float]:
        """G diag(f'(a_t)) W, f' scaled by its largest entry."""
        d, c = self._scaled_df(trace, t, b)
        return (G * d) @ params["W"].astype(np.float64, copy=False), c

    def input_vjp(self, params: Arrays, trace: Arrays, x_r: np.ndarray, state0: Arrays,
                  t: int, b: int, G: np.ndarray) -> tuple[np.ndarray, float]:
        """G diag(f'(a_t)) U, f' scaled by its largest entry."""
        d, c = self._scaled_df(trace, t, b)
        return (G * d) @ params["U"].astype(np.float64, copy=False), c

    def jacobian_factors(self, params: Arrays, trace: Arrays, b: int):
        """(W, log f'(a_t) of element b for every t), float64."""
        return (params["W"].astype(np.float64),
                self.act.log_df(trace["a"][:, b, :].T.astype(np.float64)))

    def input_factor(self, params: Arrays) -> np.ndarray:
        """U: K_t = diag(f'(a_t)) U."""
        return params["U"].astype(np.float64)

    def jacobian_bound(self, params: Arrays, sigma_max: float | None = None) -> float:
        """gamma sigma_max(W) >= ||diag(f') W||_2 (sigma_max, when given, spares the SVD); nan
        where W is not finite."""
        W = params["W"]
        if not np.all(np.isfinite(W)):
            return float("nan")
        if sigma_max is None:
            sigma_max = np.linalg.norm(W.astype(np.float64), 2)
        return float(self.act.gamma * sigma_max)

    def recurrent_gradient_factors(self, params: Arrays, trace: Arrays, state0: Arrays,
                                   ds_r: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(da, s_prev)]: dW = sum_t da_t s_{t-1}^T, da_t = f'(a_t) * ds_t (float64)."""
        a, s = trace["a"].astype(np.float64), trace["s"].astype(np.float64)
        da = ds_r.astype(np.float64) * self.act.df(a, s)
        s_prev = np.concatenate([state0["s"].astype(np.float64)[None], s[:-1]], axis=0)
        return [(da, s_prev)]
