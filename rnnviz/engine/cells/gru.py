"""The GRU cell, as PyTorch's nn.GRU defines it (blocks r, z, n); its state s is PyTorch's h.

    r = sigmoid(U_r x_t + ba_r + W_r s_{t-1} + bs_r)       z alike
    n = tanh(U_n x_t + ba_n + r * (W_n s_{t-1} + bs_n))
    s_t = (1 - z) * n + z * s_{t-1}

U (3n_s, n_x) is PyTorch's weight_ih_l0, W (3n_s, n_s) its weight_hh_l0, ba (3n_s, 1) its
bias_ih_l0 (the input side) and bs (3n_s, 1) its bias_hh_l0 (the recurrent side: bs_n sits
inside the reset gate's product, so the two biases are not a sum as in the LSTM).

Inside, the sigmoid blocks r, z of U, W and of both biases are negated, so one exp of the
product gives e^-a for both; each step's r, z, n are kept as contiguous (m, n_s) blocks (see
lstm.py). The state part is called "s", as the vanilla cell's, so the two are interchangeable.
"""
from __future__ import annotations

import numpy as np

from .._checks import check_choice, check_dtype, check_rng, check_size, fail
from .base import Arrays, Cell
from .lstm import (
    INITS,
    check_params,
    check_rows,
    check_state,
    chunk_steps,
    flat,
    orthogonal_blocks,
    per_gate,
    take,
    uniform,
)
from .registry import register_cell
from .step_products import GruStepProducts

SIGN = (-1.0, -1.0, 1.0)     # r and z negated: exp gives e^-a


def _signed_T(M: np.ndarray, n_s: int) -> np.ndarray:
    """M (3n_s, k) -> (k, 3n_s), the r and z blocks negated, transposed (contiguous)."""
    k = M.shape[1]
    out = np.empty((k, 3 * n_s), dtype=M.dtype)
    sign = np.array(SIGN, dtype=M.dtype)[None, :, None]
    np.multiply(M.reshape(3, n_s, k).transpose(2, 0, 1), sign, out=out.reshape(k, 3, n_s))
    return out


@register_cell
class GRUCell(Cell):
    """Gated recurrent unit (Cho et al. 2014), PyTorch's variant: the reset gate scales W_n s + bs_n."""

    name = "gru"
    label = "GRU"
    state_parts = ("s",)
    activations = ("tanh",)
    carry_gate, carry_part = "z", "s"      # the carousel: s_t = z s_{t-1} + ...
    # where s_t and hn_t are finite so are r, z, n (a non-finite one makes s non-finite); hn can
    # be inf with s finite (tanh(inf) = 1) (for the network's non-finite screen, where it reads this)
    finite_from = ("s", "hn")

    def param_shapes(self, n_x: int, n_s: int) -> dict[str, tuple[int, int]]:
        """U (3n_s, n_x), W (3n_s, n_s), ba and bs (3n_s, 1); blocks r, z, n."""
        return {"U": (3 * n_s, n_x), "W": (3 * n_s, n_s), "ba": (3 * n_s, 1), "bs": (3 * n_s, 1)}

    def init_params(self, rng: np.random.Generator, n_x: int, n_s: int, dtype=np.float64,
                    init: str = "pytorch") -> dict[str, np.ndarray]:
        """PyTorch's default (every array uniform(-1/sqrt(n_s), 1/sqrt(n_s))), or "orthogonal":
        each W_r, W_z, W_n a random orthogonal matrix."""
        check_rng("rng", rng)
        n_x, n_s = check_size("n_x", n_x), check_size("n_s", n_s)
        dt = check_dtype("dtype", dtype)
        kind = check_choice("init", init, INITS)
        U = uniform(rng, n_s, (3 * n_s, n_x))
        W = uniform(rng, n_s, (3 * n_s, n_s)) if kind == "pytorch" else orthogonal_blocks(rng, n_s, 3)
        ba = uniform(rng, n_s, (3 * n_s, 1))
        bs = uniform(rng, n_s, (3 * n_s, 1))
        return {"U": U.astype(dt), "W": W.astype(dt), "ba": ba.astype(dt), "bs": bs.astype(dt)}

    def recurrent_matrices(self, params: Arrays) -> dict[str, np.ndarray]:
        """The blocks of W (views): W_r, W_z, W_n, each (n_s, n_s)."""
        W = params["W"]
        n_s = W.shape[1]
        return {f"W_{k}": W[j * n_s:(j + 1) * n_s] for j, k in enumerate("rzn")}

    # ----- a whole sequence ----------------------------------------------------------------
    def forward(self, params: Arrays, x_r: np.ndarray, state0: Arrays) -> dict[str, np.ndarray]:
        """s, the gates r, z, the candidate n, and hn = W_n s_{t-1} + bs_n, each (T, m, n_s).

        state0: {"s": s0} (m, n_s); missing or None is zeros.
        """
        U, W, ba, bs = check_params(self, params)
        dt, n_s = W.dtype, W.shape[1]
        x_r = check_rows(x_r, U.shape[1], dt)
        T, m, _ = x_r.shape
        s0 = check_state(state0, "s", m, n_s, dt)
        S, G, HN = take(dt, (T, m, n_s), (T, 3, m, n_s), (T, m, n_s))
        A, tmp3, tmp = take(dt, (T, m, 3 * n_s), (m, 3 * n_s), (m, n_s))      # scratch
        UT, WT = _signed_T(U, n_s), _signed_T(W, n_s)
        b = ba[:, 0].copy()
        b[:2 * n_s] += bs[:2 * n_s, 0]                       # r, z: both biases are a sum
        b = _signed_T(b[:, None], n_s)[0]
        bs_n = bs[2 * n_s:, 0]
        if per_gate(m, n_s, 3):                              # s W_k^T per block: (3, m, n_s)
            WT = np.ascontiguousarray(WT.reshape(n_s, 3, n_s).transpose(1, 0, 2))
            prod = tmpv = np.empty((3, m, n_s), dtype=dt)
        else:                                                # s W^T at once: (m, 3 n_s)
            prod = tmp3
            tmpv = tmp3.reshape(m, 3, n_s).transpose(1, 0, 2)
        matmul, add, subtract, multiply, divide, exp, tanh = (np.matmul, np.add, np.subtract,
                                                              np.multiply, np.divide, np.exp, np.tanh)
        with np.errstate(all="ignore"):
            np.matmul(flat(x_r), UT, out=flat(A))          # U x_t for every t in one product
            A += b
            AV = A.reshape(T, m, 3, n_s).transpose(0, 2, 1, 3)      # (T, 3, m, n_s) block views
            s_prev = s0
            for a_t, g_t, hn_t, s_t in zip(AV, G, HN, S):    # only the recurrence loops
                matmul(s_prev, WT, prod)
                rz = g_t[:2]
                add(a_t[:2], tmpv[:2], rz)                   # -a_r, -a_z
                exp(rz, rz)
                add(rz, 1, rz)
                divide(1, rz, rz)                            # r, z = 1 / (1 + e^-a)
                add(tmpv[2], bs_n, hn_t)                     # hn = W_n s_prev + bs_n
                n_t = g_t[2]
                multiply(g_t[0], hn_t, n_t)
                add(n_t, a_t[2], n_t)
                tanh(n_t, n_t)                               # n = tanh(U_n x + ba_n + r hn)
                subtract(s_prev, n_t, tmp)
                multiply(g_t[1], tmp, tmp)
                add(n_t, tmp, s_t)                           # s = n + z (s_prev - n)
                s_prev = s_t
        return {"s": S, "r": G[:, 0], "z": G[:, 1], "n": G[:, 2], "hn": HN}

    def backward(self, params: Arrays, x_r: np.ndarray, state0: Arrays, trace: Arrays,
                 dh_r: np.ndarray) -> dict:
        """BPTT from dL/ds_t (T, m, n_s) of the readout: dU, dW, dba, dbs, ds (the total
        dL/ds_t), dstate0 {"s": dL/ds0}, dx (T, m, n_x)."""
        U, W, ba, bs = check_params(self, params)
        dt, n_s = W.dtype, W.shape[1]
        x_r = check_rows(x_r, U.shape[1], dt)
        T, m, n_x = x_r.shape
        s0 = check_state(state0, "s", m, n_s, dt)
        S, gr, gz, gn, HN = trace["s"], trace["r"], trace["z"], trace["n"], trace["hn"]
        if np.shape(dh_r) != (T, m, n_s) or S.shape != (T, m, n_s):
            raise fail("dh_r", f"shape (T={T}, m={m}, n_s={n_s}) like trace['s']", np.shape(dh_r))
        (DS,) = take(dt, (T, m, n_s))
        # DR: the gradient of the recurrent side W s_{t-1} + bs, blocks [da_r, da_z, da_n r];
        # DN: da_n, which with da_r, da_z is the gradient of the input side U x_t + ba
        DR, DN = take(dt, (T, m, 3 * n_s), (T, m, n_s))
        K = chunk_steps(T, 8 * m * n_s * dt.itemsize)
        F, E, SP, carry, tmp = take(dt, (3, K, m, n_s), (K, m, n_s), (K, m, n_s), (m, n_s), (m, n_s))
        DRV = DR.reshape(T, m, 3, n_s).transpose(0, 2, 1, 3)        # (T, 3, m, n_s) block views
        blocks = per_gate(m, n_s, 3)
        W3 = W.reshape(3, n_s, n_s)
        prod = np.empty((3, m, n_s), dtype=dt) if blocks else None
        multiply, add, matmul, subtract = np.multiply, np.add, np.matmul, np.subtract
        with np.errstate(all="ignore"):
            np.copyto(DS, dh_r)                               # becomes the total dL/ds_t in place
            for t1 in range(T, 0, -K):
                t0 = max(0, t1 - K)
                k = t1 - t0
                r_, z_, n_, hn_ = gr[t0:t1], gz[t0:t1], gn[t0:t1], HN[t0:t1]
                if t0 > 0:
                    sp = S[t0 - 1:t1 - 1]
                else:
                    sp = SP[:k]
                    sp[0] = s0
                    sp[1:] = S[:t1 - 1]
                # the derivative factors of this chunk's steps, all at once:
                # F_r = hn r (1 - r) (da_n -> da_r), F_z = (s_prev - n) z (1 - z) (ds -> da_z),
                # F_n = (1 - z) (1 - n^2) (ds -> da_n)
                f_r, f_z, f_n, e = F[0, :k], F[1, :k], F[2, :k], E[:k]
                subtract(1, r_, f_r)
                multiply(f_r, r_, f_r)
                multiply(f_r, hn_, f_r)
                subtract(1, z_, e)
                multiply(e, z_, f_z)
                subtract(sp, n_, f_n)
                multiply(f_z, f_n, f_z)
                multiply(n_, n_, f_n)
                subtract(1, f_n, f_n)
                subtract(1, z_, e)
                multiply(f_n, e, f_n)
                for t in range(t1 - 1, t0 - 1, -1):           # only the recurrence loops
                    j = t - t0
                    ds = DS[t]
                    if t < T - 1:
                        add(ds, carry, ds)                    # ds_t += z ds_{t+1} + W^T da_{t+1}
                    dn = DN[t]
                    dv = DRV[t]
                    multiply(ds, f_n[j], dn)                  # da_n
                    multiply(ds, f_z[j], dv[1])               # da_z
                    multiply(dn, f_r[j], dv[0])               # da_r
                    multiply(dn, r_[j], dv[2])                # da_n r
                    multiply(ds, z_[j], carry)
                    if blocks:
                        matmul(dv, W3, prod)
                        add(carry, prod[0], carry)
                        add(carry, prod[1], carry)
                        add(carry, prod[2], carry)
                    else:
                        matmul(DR[t], W, tmp)
                        add(carry, tmp, carry)                # ds_{t-1} = z ds_t + W^T da_t
            DR2, DN2, X = flat(DR), flat(DN), flat(x_r)
            if T > 1:
                dW = (flat(S[:-1]).T @ flat(DR[1:])).T       # (S^T DR)^T: faster, see lstm.py
                if s0.any() or not np.isfinite(DR[0].sum()):  # the s0 term is +0 otherwise
                    dW += DR[0].T @ s0
            else:
                dW = DR[0].T @ s0
            dbs = DR2.sum(axis=0)[:, None]
            dba = np.concatenate([dbs[:2 * n_s], DN2.sum(axis=0)[:, None]])  # r, z: the same
            dU = np.concatenate([(X.T @ DR2[:, :2 * n_s]).T, (X.T @ DN2).T])
            dx = DR2[:, :2 * n_s] @ U[:2 * n_s]
            dx += DN2 @ U[2 * n_s:]
        return {"dU": dU, "dW": np.ascontiguousarray(dW), "dba": dba, "dbs": dbs, "ds": DS,
                "dstate0": {"s": carry.copy()}, "dx": dx.reshape(T, m, n_x)}

    # ----- one step ------------------------------------------------------------------------
    def _step_da(self, params, trace, state0, t, b, G):
        """For rows G (k, n_s): da_r, da_z, da_n (each (k, n_s), float64) and z."""
        n_s = params["W"].shape[1]
        G = np.asarray(G, dtype=np.float64)
        if G.ndim != 2 or G.shape[1] != n_s:
            raise fail("G", f"shape (k, n_s = {n_s})", G.shape)
        if not 0 <= t < trace["s"].shape[0]:
            raise fail("t", f"a step in [0, {trace['s'].shape[0]})", t)
        if not 0 <= b < trace["s"].shape[1]:
            raise fail("b", f"a batch element in [0, {trace['s'].shape[1]})", b)
        r, z, n, hn = (np.asarray(trace[k][t, b], dtype=np.float64) for k in ("r", "z", "n", "hn"))
        if t > 0:
            s_prev = np.asarray(trace["s"][t - 1, b], dtype=np.float64)
        else:
            s_prev = check_state(state0, "s", trace["s"].shape[1], n_s, np.float64)[b]
        with np.errstate(all="ignore"):
            da_n = G * ((1 - z) * (1 - n * n))
            da_z = G * ((s_prev - n) * z * (1 - z))
            da_r = da_n * (hn * r * (1 - r))
        return da_r, da_z, da_n, r, z

    def step_vjp(self, params: Arrays, trace: Arrays, x_r: np.ndarray, state0: Arrays,
                 t: int, b: int, G: np.ndarray) -> tuple[np.ndarray, float]:
        """G J_t with J_t = d s_t / d s_{t-1} (n_s x n_s) for batch element b; scale 0 (every
        factor is bounded: gates, tanh', hn is finite where s is).

        G J_t = G z + [da_r, da_z, da_n r] W, the same products as one backward step.
        """
        da_r, da_z, da_n, r, z = self._step_da(params, trace, state0, t, b, G)
        with np.errstate(all="ignore"):
            rows = np.concatenate([da_r, da_z, da_n * r], axis=1)
            return np.asarray(G, dtype=np.float64) * z + rows @ params["W"].astype(np.float64), 0.0

    def input_vjp(self, params: Arrays, trace: Arrays, x_r: np.ndarray, state0: Arrays,
                  t: int, b: int, G: np.ndarray) -> tuple[np.ndarray, float]:
        """G K_t with K_t = d s_t / d x_t (n_s x n_x) for batch element b; scale 0."""
        da_r, da_z, da_n, _, _ = self._step_da(params, trace, state0, t, b, G)
        with np.errstate(all="ignore"):
            return np.concatenate([da_r, da_z, da_n], axis=1) @ params["U"].astype(np.float64), 0.0

    def step_products(self, params: Arrays, trace: Arrays, state0: Arrays, b: int):
        """The products X J_t with the steps' Jacobians of batch element b (float64), from the
        factors saved by forward (step_products.GruStepProducts)."""
        r, z, n, hn, s = (np.asarray(trace[k][:, b], dtype=np.float64) for k in ("r", "z", "n", "hn", "s"))
        s_prev = np.concatenate([check_state(state0, "s", trace["s"].shape[1], s.shape[1],
                                             np.float64)[b:b + 1], s[:-1]])
        return GruStepProducts(np.asarray(params["W"], dtype=np.float64), r, z, n, hn, s_prev)
