"""The LSTM cell on the protocol: the stepwise oracle, finite differences, its one-step Jacobians,
float32, non-finite numbers, initialisation and argument checks."""

import warnings

import numpy as np
import pytest

from rnnviz.engine import stepwise
from rnnviz.engine.cells import CELLS, get_cell
from rnnviz.engine.cells import lstm as lstm_module
from rnnviz.engine.cells.lstm import LSTMCell

N_X, N_S, M, T = 3, 4, 2, 6


def problem(seed, n_x=N_X, n_s=N_S, m=M, T=T, scale=2.0):
    """A cell, parameters (PyTorch's init times scale: gates well away from 1/2, not saturated),
    x (T, m, n_x), state0 and the loss weights R (T, m, n_s) of L = sum(R * h)."""
    rng = np.random.default_rng(seed)
    cell = LSTMCell()
    p = {k: v * scale for k, v in cell.init_params(rng, n_x, n_s).items()}
    x = rng.normal(size=(T, m, n_x))
    state0 = {"h": rng.normal(scale=0.5, size=(m, n_s)), "c": rng.normal(size=(m, n_s))}
    R = rng.normal(size=(T, m, n_s))
    return cell, p, x, state0, R


def seed_layout(r):
    """(T, m, n) -> (n, m, T), as the stepwise functions take and give."""
    return np.ascontiguousarray(np.transpose(r, (2, 1, 0)))


def oracle(p, x, state0, R):
    """The stepwise forward and backward (V, by unused by the backward: any will do)."""
    n_s = p["W"].shape[1]
    d = dict(p, V=np.ones((2, n_s)), by=np.zeros((2, 1)))
    h, c, _, caches = stepwise.lstm_forward(seed_layout(x), state0["h"].T, d, state0["c"].T)
    return h, c, caches, stepwise.lstm_backward(seed_layout(R), caches)


def numeric_gradient(f, a, eps=1e-6):
    """Central differences of the scalar f() with respect to every entry of a (changed in place)."""
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        keep = a[idx]
        a[idx] = keep + eps
        up = f()
        a[idx] = keep - eps
        down = f()
        a[idx] = keep
        g[idx] = (up - down) / (2 * eps)
    return g


@pytest.fixture(params=[(False, None), (True, None), (False, 1900)],
                ids=["one-product", "per-gate", "chunked"])
def both_products(request, monkeypatch):
    """Run a test with the step's recurrent product done both ways (lstm.per_gate), and with
    backward's derivative factors in chunks of a few steps (3 or 4 here) instead of all at once."""
    blocks, chunk_bytes = request.param
    monkeypatch.setattr(lstm_module, "PER_GATE", blocks)
    if chunk_bytes is not None:
        monkeypatch.setattr(lstm_module, "CHUNK_BYTES", chunk_bytes)


def test_registered_with_the_protocol():
    cell = get_cell("lstm")
    assert isinstance(cell, LSTMCell) and CELLS["lstm"] is LSTMCell
    assert (cell.name, cell.label, cell.state_parts) == ("lstm", "LSTM", ("h", "c"))
    assert cell.param_shapes(3, 5) == {"U": (20, 3), "W": (20, 5), "ba": (20, 1)}
    _, p, *_ = problem(0)
    blocks = cell.recurrent_matrices(p)
    assert list(blocks) == ["W_i", "W_f", "W_g", "W_o"]
    np.testing.assert_array_equal(np.concatenate(list(blocks.values())), p["W"])
    assert cell.jacobian_factors(p, {}, 0) is None and cell.jacobian_bound(p) is None


def test_other_activations_are_refused():
    with pytest.raises(ValueError, match="activation"):
        LSTMCell("relu")
    with pytest.raises(ValueError, match="activation"):
        get_cell("lstm", activation="relu")


@pytest.mark.usefixtures("both_products")
@pytest.mark.parametrize("T, m", [(T, M), (1, 1)])
def test_forward_and_gradients_match_the_stepwise_oracle(T, m):
    cell, p, x, state0, R = problem(1, m=m, T=T)
    trace = cell.forward(p, x, state0)
    g = cell.backward(p, x, state0, trace, R)
    h, c, caches, og = oracle(p, x, state0, R)
    close = dict(rtol=0, atol=1e-12)
    np.testing.assert_allclose(seed_layout(trace["h"]), h, **close)
    np.testing.assert_allclose(seed_layout(trace["c"]), c, **close)
    for k, gate in zip(range(4, 8), "ifgo"):          # the cache holds i, f, g, o at 4..7
        np.testing.assert_allclose(seed_layout(trace[gate]), np.stack([ca[k] for ca in caches], -1),
                                   **close, err_msg=gate)
    for name in ("dU", "dW", "dba"):
        assert g[name].shape == p[name[1:]].shape
        np.testing.assert_allclose(g[name], og[name], **close, err_msg=name)
    np.testing.assert_allclose(seed_layout(g["dx"]), og["dx"], **close)
    np.testing.assert_allclose(g["dstate0"]["h"], og["dh0"].T, **close)
    np.testing.assert_allclose(g["dstate0"]["c"], og["dc0"].T, **close)
    # ds_t, the total dL/dh_t: R_t plus what the oracle sends back to h_t from the steps after t
    for t in range(T - 1):
        _, _, _, later = oracle(p, x[t + 1:], {"h": trace["h"][t], "c": trace["c"][t]}, R[t + 1:])
        np.testing.assert_allclose(g["ds"][t], R[t] + later["dh0"].T, **close, err_msg=f"t={t}")
    np.testing.assert_allclose(g["ds"][T - 1], R[T - 1], **close)


def test_c0_missing_is_zeros_like_the_oracle_default():
    cell, p, x, state0, R = problem(2)
    trace = cell.forward(p, x, {"h": state0["h"]})
    d = dict(p, V=np.ones((2, N_S)), by=np.zeros((2, 1)))
    h, c, _, _ = stepwise.lstm_forward(seed_layout(x), state0["h"].T, d)
    np.testing.assert_allclose(seed_layout(trace["h"]), h, rtol=0, atol=1e-12)


@pytest.mark.usefixtures("both_products")
def test_gradients_match_central_differences():
    cell, p, x, state0, R = problem(3)
    p = {k: v.copy() for k, v in p.items()}
    g = cell.backward(p, x, state0, cell.forward(p, x, state0), R)

    def loss():
        return float(np.sum(R * cell.forward(p, x, state0)["h"]))

    checks = [(p[k], g["d" + k], k) for k in ("U", "W", "ba")]
    checks += [(state0["h"], g["dstate0"]["h"], "h0"), (state0["c"], g["dstate0"]["c"], "c0"),
               (x, g["dx"], "x")]
    for array, analytic, name in checks:
        np.testing.assert_allclose(analytic, numeric_gradient(loss, array), rtol=1e-6, atol=1e-8,
                                   err_msg=name)


def one_step_state(cell, p, x_t, h_prev, c_prev):
    """(h_t, c_t) concatenated per batch row, (m, 2n_s), from one step of forward."""
    tr = cell.forward(p, x_t[None], {"h": h_prev, "c": c_prev})
    return np.concatenate([tr["h"][0], tr["c"][0]], axis=1)


@pytest.mark.parametrize("t", [0, 3, T - 1])
def test_step_and_input_vjp_match_finite_difference_jacobians(t):
    cell, p, x, state0, R = problem(4)
    trace = cell.forward(p, x, state0)
    n = N_S
    h_prev = (trace["h"][t - 1] if t else state0["h"]).copy()
    c_prev = (trace["c"][t - 1] if t else state0["c"]).copy()
    x_t = x[t].copy()
    G = np.random.default_rng(5).normal(size=(3, 2 * n))
    eps = 1e-6
    for b in range(M):
        J = np.zeros((2 * n, 2 * n))                  # d (h_t, c_t) / d (h_{t-1}, c_{t-1}), row b
        for j in range(2 * n):
            cols = []
            for sign in (1, -1):
                hp, cp = h_prev.copy(), c_prev.copy()
                (hp if j < n else cp)[b, j % n] += sign * eps
                cols.append(one_step_state(cell, p, x_t, hp, cp)[b])
            J[:, j] = (cols[0] - cols[1]) / (2 * eps)
        K = np.zeros((2 * n, N_X))                    # d (h_t, c_t) / d x_t, row b
        for j in range(N_X):
            cols = []
            for sign in (1, -1):
                xp = x_t.copy()
                xp[b, j] += sign * eps
                cols.append(one_step_state(cell, p, xp, h_prev, c_prev)[b])
            K[:, j] = (cols[0] - cols[1]) / (2 * eps)
        out, scale = cell.step_vjp(p, trace, x, state0, t, b, G)
        assert scale == 0 and out.shape == (3, 2 * n) and out.dtype == np.float64
        np.testing.assert_allclose(out, G @ J, rtol=1e-6, atol=1e-8)
        out, scale = cell.input_vjp(p, trace, x, state0, t, b, G)
        assert scale == 0 and out.shape == (3, N_X)
        np.testing.assert_allclose(out, G @ K, rtol=1e-6, atol=1e-8)


def test_step_vjp_carries_backward_through_time():
    """Chained step_vjp from (R_{T-1}, 0) back to the start, adding R_t on the way, is backward's
    ds and dstate0."""
    n, m, steps = 24, 3, 4
    cell, p, x, state0, R = problem(6, n_s=n, m=m, T=steps)
    trace = cell.forward(p, x, state0)
    g = cell.backward(p, x, state0, trace, R)
    for b in range(m):
        G = np.concatenate([R[-1, b], np.zeros(n)])[None]         # dL/d(h, c) at the last step
        for t in range(steps - 1, 0, -1):
            G, _ = cell.step_vjp(p, trace, x, state0, t, b, G)
            G[0, :n] += R[t - 1, b]
            np.testing.assert_allclose(G[0, :n], g["ds"][t - 1, b], rtol=1e-12, atol=1e-14)
        G, _ = cell.step_vjp(p, trace, x, state0, 0, b, G)
        np.testing.assert_allclose(G[0, :n], g["dstate0"]["h"][b], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(G[0, n:], g["dstate0"]["c"][b], rtol=1e-12, atol=1e-14)


def test_float32_runs_in_float32_and_agrees_with_float64():
    cell, p, x, state0, R = problem(7, n_s=16, m=3, T=20)
    ref_trace = cell.forward(p, x, state0)
    ref = cell.backward(p, x, state0, ref_trace, R)
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    s32 = {k: v.astype(np.float32) for k, v in state0.items()}
    x32, R32 = x.astype(np.float32), R.astype(np.float32)
    trace = cell.forward(p32, x32, s32)
    g = cell.backward(p32, x32, s32, trace, R32)
    for k in ("h", "c", "i", "f", "g", "o"):
        assert trace[k].dtype == np.float32
        np.testing.assert_allclose(trace[k], ref_trace[k], rtol=0, atol=2e-5, err_msg=k)
    for k in ("dU", "dW", "dba", "ds", "dx"):
        assert g[k].dtype == np.float32
        scale = np.abs(ref[k]).max()
        np.testing.assert_allclose(g[k], ref[k], rtol=0, atol=1e-5 * scale, err_msg=k)
    for part in ("h", "c"):
        assert g["dstate0"][part].dtype == np.float32
        np.testing.assert_allclose(g["dstate0"][part], ref["dstate0"][part], rtol=0,
                                   atol=1e-5 * np.abs(ref["dstate0"][part]).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nonfinite_numbers_never_raise_or_warn(dtype):
    cell, p, x, state0, R = problem(8, T=8)
    p = {k: v.astype(dtype) for k, v in p.items()}
    p["W"][0, 0] = 1e38 if dtype == np.float32 else 1e300      # exp and products overflow
    x = x.astype(dtype)
    x[5, 0, 0] = np.nan                                          # batch row 0 from step 5 on
    x[6, 1, 1] = np.inf
    state0 = {k: v.astype(dtype) for k, v in state0.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = cell.forward(p, x, state0)
        g = cell.backward(p, x, state0, trace, R.astype(dtype))
        cell.step_vjp(p, trace, x, state0, 6, 0, np.ones((1, 2 * N_S)))
        cell.input_vjp(p, trace, x, state0, 6, 1, np.ones((1, 2 * N_S)))
    assert np.isnan(trace["h"][5:, 0]).all()
    assert np.isfinite(trace["h"][:5, 0]).all()
    assert not np.isfinite(g["dW"]).all()
    # finite_from: wherever its arrays are finite, every array of the trace is
    assert cell.finite_from == ("h", "c")
    shown = np.logical_and.reduce([np.isfinite(trace[k]) for k in cell.finite_from])
    for k in ("h", "c", "i", "f", "g", "o"):
        assert np.isfinite(trace[k][shown]).all(), k
    assert not shown.all()


def test_init_params_pytorch_default_and_forget_bias():
    cell = LSTMCell()
    n_x, n_s = 5, 16
    k = 1 / np.sqrt(n_s)
    p = cell.init_params(np.random.default_rng(0), n_x, n_s)
    assert {name: a.shape for name, a in p.items()} == cell.param_shapes(n_x, n_s)
    assert all(a.dtype == np.float64 for a in p.values())
    assert np.abs(p["U"]).max() <= k and np.abs(p["W"]).max() <= k
    ba = p["ba"][:, 0]
    forget = slice(n_s, 2 * n_s)
    assert np.abs(np.delete(ba, np.r_[forget])).max() <= 2 * k      # bias_ih + bias_hh
    assert np.abs(ba[forget] - 1.0).max() <= 2 * k                 # + forget_bias = 1 by default
    q = cell.init_params(np.random.default_rng(0), n_x, n_s, forget_bias=0.0)
    np.testing.assert_allclose(q["ba"][forget, 0] + 1.0, ba[forget], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(q["U"], p["U"])                  # same stream, same draws
    p32 = cell.init_params(np.random.default_rng(0), n_x, n_s, dtype=np.float32)
    assert all(a.dtype == np.float32 for a in p32.values())
    np.testing.assert_allclose(p32["W"], p["W"], rtol=1e-7)


def test_init_params_orthogonal_blocks():
    cell = LSTMCell()
    p = cell.init_params(np.random.default_rng(1), 3, 8, init="orthogonal")
    for name, Wk in cell.recurrent_matrices(p).items():
        np.testing.assert_allclose(Wk @ Wk.T, np.eye(8), atol=1e-12, err_msg=name)
    blocks = list(cell.recurrent_matrices(p).values())
    assert not np.allclose(blocks[0], blocks[1])                    # independent draws


def test_bad_arguments_name_themselves():
    cell, p, x, state0, R = problem(9)
    with pytest.raises(ValueError, match="init"):
        cell.init_params(np.random.default_rng(0), 3, 4, init="xavier")
    with pytest.raises(ValueError, match="forget_bias"):
        cell.init_params(np.random.default_rng(0), 3, 4, forget_bias=float("nan"))
    with pytest.raises(ValueError, match="'ba'"):
        cell.forward(dict(p, ba=p["ba"][:-1]), x, state0)
    with pytest.raises(ValueError, match="x_r"):
        cell.forward(p, x[:, :, :2], state0)
    with pytest.raises(ValueError, match="'c'"):
        cell.forward(p, x, dict(state0, c=state0["c"][:1]))
    with pytest.raises(ValueError, match="dh_r"):
        cell.backward(p, x, state0, cell.forward(p, x, state0), R[:-1])
    with pytest.raises(ValueError, match="G"):
        cell.step_vjp(p, cell.forward(p, x, state0), x, state0, 0, 0, np.ones((1, N_S)))
