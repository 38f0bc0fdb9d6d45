"""Cells that exist only for the tests: other parameter names, two state parts, no factor form.

They check that nothing in the engine (or, reused, in state and UI) assumes the vanilla cell.
Written plainly, one step at a time, straight from their formulas. Register them only while a
test runs: `with registered(SymmetricCell, CoupledCell): ...` (or the `with_test_cells` fixture:
`from tests.cells_for_tests import with_test_cells` in a test module or conftest).

SymmetricCell ("test_symmetric"), one state part s:
    a_t = A s_{t-1} + B x_t + d,   A = Q diag(lam) Q^T,   s_t = f(a_t)   (f: tanh or linear)
    J_t = diag(f'(a_t)) A, K_t = diag(f'(a_t)) B: it gives factors, like the vanilla cell.
SymmetricVjpCell ("test_symmetric_vjp"): the same cell without factors (the VJP paths).
CoupledCell ("test_coupled"), two state parts (h, c), h read out:
    c_t = R c_{t-1} + B x_t + d,   a_t = c_t + K h_{t-1},   h_t = tanh(a_t)
    J_t = [[D K, D R], [0, R]] (rows h_t, c_t; columns h_{t-1}, c_{t-1}), D = diag(f'(a_t)),
    K_t = [D B; B]; no factor form, no bound.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest

from rnnviz.engine.cells import CELLS, Cell, register_cell

LN10 = np.log(10.0)


def _df(act: str, a: np.ndarray, s: np.ndarray) -> np.ndarray:
    return 1.0 - s * s if act == "tanh" else np.ones_like(a)


class SymmetricCell(Cell):
    """s_t = f(Q diag(lam) Q^T s_{t-1} + B x_t + d)."""

    name = "test_symmetric"
    label = "symmetric test RNN"
    state_parts = ("s",)
    activations = ("tanh", "linear")

    def _f(self, a):
        return np.tanh(a) if self.activation == "tanh" else a.copy()

    def param_shapes(self, n_x, n_s):
        return {"Q": (n_s, n_s), "lam": (n_s, 1), "B": (n_s, n_x), "d": (n_s, 1)}

    def init_params(self, rng, n_x, n_s, dtype=np.float64, *, radius=0.9):
        Q = np.linalg.qr(rng.standard_normal((n_s, n_s)))[0] + 0.1 * rng.standard_normal((n_s, n_s))
        return {"Q": Q.astype(dtype), "lam": rng.uniform(-radius, radius, (n_s, 1)).astype(dtype),
                "B": (rng.standard_normal((n_s, n_x)) / np.sqrt(n_x)).astype(dtype),
                "d": (0.1 * rng.standard_normal((n_s, 1))).astype(dtype)}

    @staticmethod
    def matrix(params):
        """A = Q diag(lam) Q^T."""
        return (params["Q"] * params["lam"].T) @ params["Q"].T

    def recurrent_matrices(self, params):
        return {"A": self.matrix(params)}

    def forward(self, params, x_r, state0):
        A, B, d = self.matrix(params), params["B"], params["d"]
        T, m, _ = x_r.shape
        a, s = np.empty((T, m, A.shape[0]), A.dtype), np.empty((T, m, A.shape[0]), A.dtype)
        prev = state0["s"]
        for t in range(T):
            a[t] = prev @ A.T + x_r[t] @ B.T + d.T
            s[t] = self._f(a[t])
            prev = s[t]
        return {"a": a, "s": s}

    def backward(self, params, x_r, state0, trace, dh_r):
        A, B, Q, lam = self.matrix(params), params["B"], params["Q"], params["lam"]
        a, s = trace["a"], trace["s"]
        T, m, n_s = a.shape
        ds, dx = np.empty_like(dh_r), np.empty(x_r.shape, dh_r.dtype)
        dA, dB, dd = np.zeros_like(A), np.zeros_like(B), np.zeros((n_s, 1), dh_r.dtype)
        carry = np.zeros((m, n_s), dh_r.dtype)
        for t in reversed(range(T)):
            ds[t] = dh_r[t] + carry
            da = ds[t] * _df(self.activation, a[t], s[t])
            prev = state0["s"] if t == 0 else s[t - 1]
            dA += da.T @ prev
            dB += da.T @ x_r[t]
            dd += da.sum(axis=0)[:, None]
            dx[t] = da @ B
            carry = da @ A
        QL = Q * lam.T                                     # dL/dQ = G Q L + G^T Q L, dL/dlam = diag(Q^T G Q)
        return {"dQ": dA @ QL + dA.T @ QL, "dlam": np.einsum("ij,ik,kj->j", Q, dA, Q)[:, None],
                "dB": dB, "dd": dd, "ds": ds, "dstate0": {"s": carry}, "dx": dx}

    def _scaled_df(self, trace, t, b):
        a = trace["a"][t, b].astype(np.float64)
        if self.activation == "linear":
            return np.where(np.isnan(a), np.nan, 1.0), (np.nan if np.isnan(a).any() else 0.0)
        ld = 2.0 * (np.log(2.0) - np.abs(a) - np.log1p(np.exp(-2.0 * np.abs(a))))   # log sech^2
        top = float(np.max(ld))
        return np.exp(ld - top), top / LN10

    def step_vjp(self, params, trace, x_r, state0, t, b, G):
        d, c = self._scaled_df(trace, t, b)
        return (G * d) @ self.matrix(params).astype(np.float64), c

    def input_vjp(self, params, trace, x_r, state0, t, b, G):
        d, c = self._scaled_df(trace, t, b)
        return (G * d) @ params["B"].astype(np.float64), c

    def jacobian_factors(self, params, trace, b):
        a = trace["a"][:, b, :].T.astype(np.float64)
        if self.activation == "linear":
            return self.matrix(params).astype(np.float64), np.where(np.isnan(a), np.nan, 0.0)
        return (self.matrix(params).astype(np.float64),
                2.0 * (np.log(2.0) - np.abs(a) - np.log1p(np.exp(-2.0 * np.abs(a)))))

    def input_factor(self, params):
        return params["B"].astype(np.float64)

    def jacobian_bound(self, params):
        return float(np.linalg.norm(self.matrix(params).astype(np.float64), 2))   # gamma = 1

    def recurrent_gradient_factors(self, params, trace, state0, ds_r):
        a, s = trace["a"].astype(np.float64), trace["s"].astype(np.float64)
        da = ds_r.astype(np.float64) * _df(self.activation, a, s)
        prev = np.concatenate([state0["s"].astype(np.float64)[None], s[:-1]])
        return [(da, prev)]


class SymmetricVjpCell(SymmetricCell):
    """SymmetricCell without its factors: the flow and connectivity go through the VJPs."""

    name = "test_symmetric_vjp"

    def jacobian_factors(self, params, trace, b):
        return None

    def input_factor(self, params):
        return None


class CoupledCell(Cell):
    """c_t = R c_{t-1} + B x_t + d, h_t = tanh(c_t + K h_{t-1}); h read out."""

    name = "test_coupled"
    label = "coupled test RNN"
    state_parts = ("h", "c")
    activations = ("tanh",)

    def param_shapes(self, n_x, n_s):
        return {"R": (n_s, n_s), "K": (n_s, n_s), "B": (n_s, n_x), "d": (n_s, 1)}

    def init_params(self, rng, n_x, n_s, dtype=np.float64, *, scale=0.8):
        draw = lambda *shape: rng.standard_normal(shape)   # noqa: E731
        return {"R": (scale * draw(n_s, n_s) / np.sqrt(n_s)).astype(dtype),
                "K": (scale * draw(n_s, n_s) / np.sqrt(n_s)).astype(dtype),
                "B": (draw(n_s, n_x) / np.sqrt(n_x)).astype(dtype),
                "d": (0.1 * draw(n_s, 1)).astype(dtype)}

    def recurrent_matrices(self, params):
        return {"R": params["R"], "K": params["K"]}

    def forward(self, params, x_r, state0):
        R, K, B, d = params["R"], params["K"], params["B"], params["d"]
        T, m, _ = x_r.shape
        n_s = R.shape[0]
        h, c, a = (np.empty((T, m, n_s), R.dtype) for _ in range(3))
        h_prev, c_prev = state0["h"], state0["c"]
        for t in range(T):
            c[t] = c_prev @ R.T + x_r[t] @ B.T + d.T
            a[t] = c[t] + h_prev @ K.T
            h[t] = np.tanh(a[t])
            h_prev, c_prev = h[t], c[t]
        return {"h": h, "c": c, "a": a}

    def _deltas(self, params, trace, ds_r):
        """da_t = f'(a_t) dL/dh_t and the total dL/dc_t = da_t + R^T dL/dc_{t+1}, from ds (total dL/dh)."""
        h, R = trace["h"], params["R"]
        da = ds_r * (1.0 - h * h)
        dc = np.empty_like(da)
        carry = np.zeros_like(da[0])
        for t in reversed(range(da.shape[0])):
            dc[t] = da[t] + carry
            carry = dc[t] @ R
        return da, dc

    def backward(self, params, x_r, state0, trace, dh_r):
        R, K, B = params["R"], params["K"], params["B"]
        h, c = trace["h"], trace["c"]
        T, m, n_s = h.shape
        ds = np.empty_like(dh_r)
        grads = {n: np.zeros_like(params[n]) for n in ("R", "K", "B", "d")}
        dx = np.empty(x_r.shape, dh_r.dtype)
        dh_carry, dc_carry = np.zeros((m, n_s), dh_r.dtype), np.zeros((m, n_s), dh_r.dtype)
        for t in reversed(range(T)):
            ds[t] = dh_r[t] + dh_carry
            da = ds[t] * (1.0 - h[t] * h[t])
            dc = da + dc_carry
            h_prev = state0["h"] if t == 0 else h[t - 1]
            c_prev = state0["c"] if t == 0 else c[t - 1]
            grads["K"] += da.T @ h_prev
            grads["R"] += dc.T @ c_prev
            grads["B"] += dc.T @ x_r[t]
            grads["d"] += dc.sum(axis=0)[:, None]
            dx[t] = dc @ B
            dh_carry, dc_carry = da @ K, dc @ R
        return {**{"d" + n: g for n, g in grads.items()}, "ds": ds,
                "dstate0": {"h": dh_carry, "c": dc_carry}, "dx": dx}

    def step_vjp(self, params, trace, x_r, state0, t, b, G):
        n_s = params["R"].shape[0]
        D = 1.0 - trace["h"][t, b].astype(np.float64) ** 2
        Gh, Gc = G[:, :n_s] * D, G[:, n_s:]
        R, K = params["R"].astype(np.float64), params["K"].astype(np.float64)
        return np.hstack([Gh @ K, Gh @ R + Gc @ R]), 0.0

    def input_vjp(self, params, trace, x_r, state0, t, b, G):
        n_s = params["R"].shape[0]
        D = 1.0 - trace["h"][t, b].astype(np.float64) ** 2
        return (G[:, :n_s] * D + G[:, n_s:]) @ params["B"].astype(np.float64), 0.0

    def recurrent_gradient_factors(self, params, trace, state0, ds_r):
        p64 = {n: v.astype(np.float64) for n, v in params.items()}
        t64 = {n: v.astype(np.float64) for n, v in trace.items()}
        da, dc = self._deltas(p64, t64, ds_r.astype(np.float64))
        h_prev = np.concatenate([state0["h"].astype(np.float64)[None], t64["h"][:-1]])
        c_prev = np.concatenate([state0["c"].astype(np.float64)[None], t64["c"][:-1]])
        return [(dc, c_prev), (da, h_prev)]               # dR_t = dc_t^T c_{t-1}, dK_t = da_t^T h_{t-1}


TEST_CELLS = (SymmetricCell, SymmetricVjpCell, CoupledCell)


@contextmanager
def registered(*cells):
    """Register the cells (all test cells by default) for the duration of the block."""
    cells = cells or TEST_CELLS
    before = dict(CELLS)
    for cls in cells:
        register_cell(cls)
    try:
        yield cells
    finally:
        CELLS.clear()
        CELLS.update(before)


@pytest.fixture
def with_test_cells():
    """The test cells registered while one test runs."""
    with registered() as cells:
        yield cells
