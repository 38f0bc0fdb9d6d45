"""The fast engine against central finite differences, the stepwise oracle and an independent loop."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnviz.engine import (
    ACTIVATIONS,
    Gradients,
    Parameters,
    Trace,
    VanillaCell,
    backward,
    forward,
    loss_and_gradients,
    stepwise,
)
from rnnviz.engine.rnn import rows, seed_layout

ACTS = sorted(ACTIVATIONS)
F = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0), "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
     "linear": lambda a: a}
DF = {"tanh": lambda a: 1 - np.tanh(a) ** 2, "relu": lambda a: (a > 0) * 1.0,
      "sigmoid": lambda a: np.exp(-a) / (1 + np.exp(-a)) ** 2, "linear": lambda a: np.ones_like(a)}


def reference(p, x, s0, targets, act):
    """An independent step-by-step forward and loss backward (plain loops, one example per column)."""
    n_x, m, T = x.shape
    a, s = np.zeros((p.n_s, m, T)), np.zeros((p.n_s, m, T))
    y, loss_t = np.zeros((p.n_y, m, T)), np.zeros((m, T))
    prev = s0
    for t in range(T):
        a[:, :, t] = p.U @ x[:, :, t] + p.W @ prev + p.ba
        s[:, :, t] = F[act](a[:, :, t])
        z = p.V @ s[:, :, t] + p.by
        e = np.exp(z - z.max(axis=0))
        y[:, :, t] = e / e.sum(axis=0)
        loss_t[:, t] = -np.log(y[targets[:, t], np.arange(m), t])
        prev = s[:, :, t]
    g = {k: np.zeros_like(getattr(p, k[1:])) for k in ("dU", "dW", "dV", "dba", "dby")}
    dx, ds_total = np.zeros_like(x), np.zeros((p.n_s, m, T))
    carry = np.zeros((p.n_s, m))
    for t in reversed(range(T)):
        dz = y[:, :, t].copy()
        dz[targets[:, t], np.arange(m)] -= 1
        dz /= m
        g["dV"] += dz @ s[:, :, t].T
        g["dby"] += dz.sum(axis=1, keepdims=True)
        ds = p.V.T @ dz + carry
        ds_total[:, :, t] = ds
        da = DF[act](a[:, :, t]) * ds
        prev = s0 if t == 0 else s[:, :, t - 1]
        g["dU"] += da @ x[:, :, t].T
        g["dW"] += da @ prev.T
        g["dba"] += da.sum(axis=1, keepdims=True)
        dx[:, :, t] = p.U.T @ da
        carry = p.W.T @ da
    g.update(ds0=carry, dx=dx)
    return a, s, y, loss_t, g, ds_total


def loss_of(p, x, s0, targets, act):
    return backward(p, forward(p, x, s0, act), targets).loss


def central_difference(array, objective, eps):
    """d objective / d array by central differences, perturbing array in place."""
    grad = np.zeros_like(array)
    for idx in np.ndindex(array.shape):
        keep = array[idx]
        array[idx] = keep + eps
        plus = objective()
        array[idx] = keep - eps
        minus = objective()
        array[idx] = keep
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


@pytest.mark.parametrize("act", ACTS)
def test_gradients_match_central_differences(make_problem, act):
    pr = make_problem(seed=11, n_x=3, n_s=4, n_y=3, m=3, T=6, w_scale=0.8)
    p, x, s0, tg = pr.params, pr.x, pr.s0, pr.targets
    tr = forward(p, x, s0, act)
    if act == "relu":    # keep clear of the kink: no pre-activation within 1e-3 of 0
        assert np.abs(tr.a).min() > 1e-3
    g = backward(p, tr, tg)
    eps = 1e-5
    arrays = {"dU": p.U, "dW": p.W, "dV": p.V, "dba": p.ba, "dby": p.by, "ds0": s0, "dx": x}
    for name, array in arrays.items():
        num = central_difference(array, lambda: loss_of(p, x, s0, tg, act), eps)
        analytic = getattr(g, name)
        err = np.abs(num - analytic).max() / np.abs(analytic).max()
        assert err < 1e-7, f"{act} {name}: relative error {err:.2e}"


@pytest.mark.parametrize("act", ACTS)
def test_matches_independent_loop(make_problem, act):
    pr = make_problem(seed=5, n_x=4, n_s=6, n_y=5, m=3, T=7, w_scale=0.9)
    tr = forward(pr.params, pr.x, pr.s0, act)
    g = backward(pr.params, tr, pr.targets)
    a, s, y, loss_t, ref, ds = reference(pr.params, pr.x, pr.s0, pr.targets, act)
    for name, got, want in [("a", tr.a, a), ("s", tr.s, s), ("y", tr.y, y), ("loss_t", g.loss_t, loss_t),
                            ("ds", g.ds, ds)] + [(k, getattr(g, k), v) for k, v in ref.items()]:
        assert got.shape == want.shape, name
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, err_msg=f"{act} {name}")
    assert g.loss == pytest.approx(loss_t.sum() / 3, rel=1e-13)


def test_matches_stepwise_forward_and_upstream_backward(make_problem):
    pr = make_problem(seed=2, n_x=3, n_s=5, n_y=4, m=4, T=9, w_scale=1.5)
    p = pr.params
    tr = forward(p, pr.x, pr.s0, "tanh")
    s, y, caches = stepwise.rnn_forward(pr.x, pr.s0, p.as_dict())
    np.testing.assert_allclose(tr.s, s, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tr.y, y, rtol=1e-12, atol=1e-15)
    ds_up = np.random.default_rng(0).normal(size=s.shape)
    want = stepwise.rnn_backward(ds_up, caches)
    dh = rows(ds_up).copy()                                   # the cell's to overwrite
    got = VanillaCell("tanh").backward(p.as_dict(), rows(tr.x), {"s": tr.s0.T},
                                       {"a": rows(tr.a), "s": rows(tr.s)}, dh)
    got["ds0"], got["dx"] = got["dstate0"]["s"].T, seed_layout(got["dx"])
    for name in ("dU", "dW", "dba", "ds0", "dx"):
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12, atol=1e-14, err_msg=name)
    assert got["ds"] is dh                                    # ds accumulated in place


def test_loss_and_gradients_dict(make_problem):
    pr = make_problem(seed=4)
    loss, grads = loss_and_gradients(pr.x, pr.s0, pr.params.as_dict(), pr.targets, activation="relu")
    g = backward(pr.params, forward(pr.params, pr.x, pr.s0, "relu"), pr.targets)
    assert set(grads) == {"dU", "dW", "dV", "dba", "dby", "ds0", "dx"}
    assert loss == g.loss
    for k, v in grads.items():
        np.testing.assert_array_equal(v, getattr(g, k))


def test_trace_and_gradients_layout(make_problem):
    pr = make_problem(seed=1, n_x=2, n_s=3, n_y=4, m=5, T=6)
    tr = forward(pr.params, pr.x, pr.s0)
    assert isinstance(tr, Trace) and tr.activation == "tanh" and (tr.m, tr.T) == (5, 6)
    assert tr.x.shape == (2, 5, 6) and tr.a.shape == tr.s.shape == (3, 5, 6)
    assert tr.z.shape == tr.y.shape == (4, 5, 6) and tr.s0.shape == (3, 5)
    np.testing.assert_array_equal(tr.x, pr.x)
    g = backward(pr.params, tr, pr.targets)
    assert isinstance(g, Gradients) and isinstance(g.loss, float)
    assert g.loss_t.shape == (5, 6) and g.ds.shape == (3, 5, 6) and g.dx.shape == (2, 5, 6)
    assert g.ds0.shape == (3, 5) and g.dba.shape == (3, 1) and g.dby.shape == (4, 1)
    assert tr.nonfinite_steps.size == 0 and g.nonfinite_steps.size == 0
    pr.x[:] = 0      # the trace keeps its own copy of the inputs
    assert np.any(tr.x != 0)


def test_float32_path(make_problem):
    pr64 = make_problem(seed=8, m=3, T=8)
    pr32 = make_problem(seed=8, m=3, T=8, dtype=np.float32)
    tr = forward(pr32.params, pr32.x, pr32.s0, "sigmoid")
    g = backward(pr32.params, tr, pr32.targets)
    for arr in (tr.a, tr.s, tr.z, tr.y, g.dU, g.dW, g.dV, g.dba, g.dby, g.ds0, g.dx, g.ds):
        assert arr.dtype == np.float32
    g64 = backward(pr64.params, forward(pr64.params, pr64.x, pr64.s0, "sigmoid"), pr64.targets)
    np.testing.assert_allclose(g.dW, g64.dW, rtol=1e-4, atol=1e-5)
    assert g.loss == pytest.approx(g64.loss, rel=1e-5)


def test_huge_logits_give_finite_softmax_and_loss(make_problem, recwarn):
    pr = make_problem(seed=3, n_y=3)
    p = pr.params
    p.V[:] = 0
    p.by[:] = [[1e308], [0.0], [-1e308]]
    tr = forward(p, pr.x, pr.s0)
    np.testing.assert_array_equal(tr.y[:, 0, 0], [1.0, 0.0, 0.0])
    g = backward(p, tr, np.zeros_like(pr.targets))
    assert g.loss == 0.0 and tr.nonfinite_steps.size == 0
    g = backward(p, tr, np.full_like(pr.targets, 2))       # log y = -2e308: the loss is inf, no nan
    assert g.loss == np.inf
    assert len(recwarn) == 0


# ---- numbers that leave the float range ----

def test_overflow_exact_case_reports_the_right_steps():
    """Linear, W = 2 I, no input, V = I: s_t = 2^(t+1) s0 exactly, so the first bad step is known."""
    n, T, c = 4, 1000, 1e20
    p = Parameters(U=np.zeros((n, 2)), W=2 * np.eye(n), V=np.eye(n), ba=np.zeros((n, 1)),
                   by=np.zeros((n, 1)))
    x, s0 = np.ones((2, 1, T)), np.full((n, 1), c)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = forward(p, x, s0, "linear")
        g = backward(p, tr, np.zeros((1, T), dtype=int))
        loss, _ = loss_and_gradients(x, s0, p.as_dict(), np.zeros((1, T), dtype=int), "linear")
    with np.errstate(over="ignore"):
        expected = [t for t in range(T) if not np.isfinite(np.ldexp(c, t + 1))]
    assert 900 < expected[0] < T - 1
    np.testing.assert_array_equal(tr.nonfinite_steps, expected)
    np.testing.assert_array_equal(tr.s[0, 0, :expected[0]], np.ldexp(c, np.arange(1, expected[0] + 1)))
    assert g.nonfinite_steps.size > 0
    np.testing.assert_array_equal(g.nonfinite_steps, np.flatnonzero(~np.isfinite(g.ds).all(axis=(0, 1))))
    assert not np.isfinite(g.loss) and not np.isfinite(loss)


@pytest.mark.parametrize("dtype, s0_scale", [(np.float64, 1e12), (np.float32, 1.0)])
def test_overflow_random_radius_two_never_warns(dtype, s0_scale):
    rng = np.random.default_rng(0)
    n_s, m, T = 8, 2, 1000
    Q, _ = np.linalg.qr(rng.normal(size=(n_s, n_s)))
    p = Parameters(U=rng.normal(size=(n_s, 3)), W=2 * Q, V=rng.normal(size=(5, n_s)),
                   ba=rng.normal(size=(n_s, 1)), by=rng.normal(size=(5, 1))).astype(dtype)
    x = rng.normal(size=(3, m, T)).astype(dtype)
    s0 = (s0_scale * rng.normal(size=(n_s, m))).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = forward(p, x, s0, "linear")
        g = backward(p, tr, rng.integers(0, 5, size=(m, T)))
    bad = ~(np.isfinite(tr.a) & np.isfinite(tr.s)).all(axis=(0, 1)) | ~np.isfinite(tr.y).all(axis=(0, 1))
    assert bad.any()
    np.testing.assert_array_equal(tr.nonfinite_steps, np.flatnonzero(bad))
    np.testing.assert_array_equal(g.nonfinite_steps, np.flatnonzero(~np.isfinite(g.ds).all(axis=(0, 1))))


def test_steps_where_only_y_is_nonfinite_are_reported(recwarn):
    """a_1 = 1e300 is finite, but z_1 = V s_1 overflows and y_1 is nan: step 1 is non-finite."""
    p = Parameters(U=np.ones((1, 1)), W=np.zeros((1, 1)), V=np.array([[1e10], [0.0]]),
                   ba=np.zeros((1, 1)), by=np.zeros((2, 1)))
    x = np.array([[[1.0, 1e300, 1.0]]])
    tr = forward(p, x, np.zeros((1, 1)), "linear")
    assert np.all(np.isfinite(tr.a)) and np.all(np.isfinite(tr.s))
    np.testing.assert_array_equal(tr.nonfinite_steps, [1])
    g = backward(p, tr, np.zeros((1, 3), dtype=int))
    np.testing.assert_array_equal(g.nonfinite_steps, np.flatnonzero(~np.isfinite(g.ds).all(axis=(0, 1))))
    assert len(recwarn) == 0


def test_nonfinite_first_step_gradient_reaches_dW_through_a_zero_s0():
    """dW's s0 term da_0 s0^T is nan, not 0, where da_0 is infinite (inf * 0), as in the loop
    version, though the other term (da_1 s_0^T with s_0 = 0) is finite."""
    p = Parameters(U=np.zeros((2, 1)), W=np.full((2, 2), 1.7e308), V=10 * np.array([[1.0, 1], [-1, -1]]),
                   ba=np.zeros((2, 1)), by=np.zeros((2, 1)))
    x, s0, targets = np.zeros((1, 1, 2)), np.zeros((2, 1)), np.zeros((1, 2), dtype=int)
    g = backward(p, forward(p, x, s0, "tanh"), targets)   # ds_0 = V^T dz_0 + W^T da_1 = -inf
    with np.errstate(all="ignore"):
        expected = reference(p, x, s0, targets, "tanh")[4]["dW"]
    assert np.isnan(expected).all() and np.isinf(g.ds[:, 0, 0]).all()
    np.testing.assert_array_equal(g.dW, expected)
    np.testing.assert_array_equal(g.nonfinite_steps, [0])


# ---- bad arguments ----

def _bad_calls(pr):
    p, x, s0, tg = pr.params, pr.x, pr.s0, pr.targets
    tr = forward(p, x, s0)
    return [
        (lambda: forward(p, x[:2], s0), "x: expected shape (n_x=3, m, T), got (2, 2, 5)"),
        (lambda: forward(p, x[:, :, 0], s0), "x: expected a 3-d array"),
        (lambda: forward(p, x.astype(np.float32), s0), "x: expected dtype float64"),
        (lambda: forward(p, x.astype(int), s0), "x: expected dtype float64"),
        (lambda: forward(p, x[:, :, :0], s0), "x: expected shape (n_x=3, m, T)"),
        (lambda: forward(p, x, s0[:, :1]), "s0: expected shape (n_s=4, m=2), got (4, 1)"),
        (lambda: forward(p, x, s0, "softplus"), "activation: expected one of"),
        (lambda: forward(p.as_dict(), x, s0), "params: expected a Parameters instance"),
        (lambda: backward(p, tr, tg[:, :3]), "targets: expected shape (m=2, T=5), got (2, 3)"),
        (lambda: backward(p, tr, tg + 0.5), "targets: expected an integer array"),
        (lambda: backward(p, tr, tg + 3), "targets: expected class indices in [0, n_y=3)"),
        (lambda: backward(p, tr, tg - 2), "targets: expected class indices in [0, n_y=3)"),
        (lambda: backward(p.astype(np.float32), tr, tg), "trace: expected a Trace computed with"),
        (lambda: Parameters(p.U, p.W[:3], p.V, p.ba, p.by), "W: expected shape (n_s=4, n_s=4), got (3, 4)"),
        (lambda: Parameters(p.U, p.W, p.V, p.ba.ravel(), p.by), "ba: expected a 2-d array"),
        (lambda: Parameters(p.U, p.W.astype(np.float32), p.V, p.ba, p.by), "W: expected dtype float64"),
        (lambda: Parameters(p.U.astype(complex), p.W, p.V, p.ba, p.by), "U: expected dtype float32 or float64"),
        (lambda: Parameters.from_dict({"U": p.U}), "parameters: expected keys U, W, V, ba, by"),
        (lambda: loss_and_gradients(x, s0, {**p.as_dict(), "by": p.by[:1]}, tg), "by: expected shape (n_y=3, 1)"),
        (lambda: p.astype(np.int32), "dtype: expected float32 or float64, got int32"),
    ]


def test_bad_arguments_raise_value_error_naming_them(make_problem):
    pr = make_problem(seed=0)
    for call, message in _bad_calls(pr):
        with pytest.raises(ValueError) as info:
            call()
        assert message in str(info.value), (message, str(info.value))


# ---- properties over sizes, activations and seeds ----

@settings(max_examples=40, deadline=None)
@given(n_x=st.integers(1, 6), n_s=st.integers(1, 8), n_y=st.integers(1, 6), m=st.integers(1, 4),
       T=st.integers(1, 12), act=st.sampled_from(ACTS), seed=st.integers(0, 2**32 - 1))
def test_properties(make_problem, n_x, n_s, n_y, m, T, act, seed):
    pr = make_problem(seed, n_x, n_s, n_y, m, T, w_scale=0.9)
    tr = forward(pr.params, pr.x, pr.s0, act)
    g = backward(pr.params, tr, pr.targets)
    assert tr.s.shape == (n_s, m, T) and tr.y.shape == (n_y, m, T) and g.ds.shape == (n_s, m, T)
    assert g.dx.shape == (n_x, m, T) and g.ds0.shape == (n_s, m) and g.dW.shape == (n_s, n_s)
    for arr in (tr.a, tr.s, tr.y, g.loss_t, g.dU, g.dW, g.dV, g.dba, g.dby, g.ds0, g.dx, g.ds):
        assert np.all(np.isfinite(arr))
    np.testing.assert_allclose(tr.y.sum(axis=0), 1.0, rtol=1e-12)
    assert np.all(g.loss_t >= 0) and g.loss == pytest.approx(g.loss_t.sum() / m, rel=1e-12)
    again = backward(pr.params, forward(pr.params, pr.x, pr.s0, act), pr.targets)
    for name in ("dU", "dW", "dV", "dba", "dby", "ds0", "dx", "ds", "loss_t"):
        np.testing.assert_array_equal(getattr(again, name), getattr(g, name))
    p32 = pr.params.astype(np.float32)
    tr32 = forward(p32, pr.x.astype(np.float32), pr.s0.astype(np.float32), act)
    g32 = backward(p32, tr32, pr.targets)
    np.testing.assert_allclose(tr32.s, tr.s, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(g32.dW, g.dW, rtol=1e-3, atol=1e-4 * max(1, np.abs(g.dW).max()))


def test_huge_but_finite_states_are_not_reported_nonfinite(recwarn):
    """Two entries of 1e308 overflow a sum, not the float range: no step is non-finite."""
    p = Parameters(U=np.zeros((2, 1)), W=np.zeros((2, 2)), V=np.zeros((2, 2)),
                   ba=np.full((2, 1), 1e308), by=np.zeros((2, 1)))
    tr = forward(p, np.ones((1, 3, 4)), np.zeros((2, 3)), "linear")
    assert np.all(np.isfinite(tr.s)) and tr.nonfinite_steps.size == 0
    assert backward(p, tr, np.zeros((3, 4), dtype=int)).nonfinite_steps.size == 0
    assert len(recwarn) == 0


def _arrays(trace, grads):
    return [trace.x, trace.a, trace.s, trace.z, trace.y, grads.ds, grads.dx, grads.dU, grads.dW,
            grads.dV, grads.loss_t]


def test_recycled_buffers_never_overwrite_live_results(make_problem):
    pr = make_problem(seed=21, n_x=3, n_s=40, n_y=4, m=3, T=150)
    first = forward(pr.params, pr.x, pr.s0)
    first_g = backward(pr.params, first, pr.targets)
    kept = [a.copy() for a in _arrays(first, first_g)]
    view = first.s[:, 1, :]                     # a derived view alone must keep its buffer too
    view_copy = view.copy()
    pr2 = make_problem(seed=22, n_x=3, n_s=40, n_y=4, m=3, T=150)
    for _ in range(6):                          # more requests than the pool keeps
        tr = forward(pr2.params, pr2.x, pr2.s0)
        g = backward(pr2.params, tr, pr2.targets)
        for old in _arrays(first, first_g):
            for new in _arrays(tr, g):
                assert not np.shares_memory(old, new)
    for got, want in zip(_arrays(first, first_g), kept):
        np.testing.assert_array_equal(got, want)
    del first, first_g
    for _ in range(6):
        tr = forward(pr2.params, pr2.x, pr2.s0)
        assert not np.shares_memory(view, tr.s) and not np.shares_memory(view, tr.a)
    np.testing.assert_array_equal(view, view_copy)


def test_dropped_results_are_recycled(make_problem):
    pr = make_problem(seed=23, n_x=3, n_s=40, n_y=4, m=2, T=200)
    address = forward(pr.params, pr.x, pr.s0).a.base.ctypes.data
    again = forward(pr.params, pr.x, pr.s0)      # the first trace is gone: its memory comes back
    assert again.a.base.ctypes.data == address
    np.testing.assert_allclose(again.s, reference(pr.params, pr.x, pr.s0, pr.targets, "tanh")[1],
                               rtol=1e-12, atol=1e-14)


def test_threads_get_correct_results(make_problem):
    from concurrent.futures import ThreadPoolExecutor
    problems = [make_problem(seed=30 + i, n_x=3, n_s=30 + i % 3, n_y=4, m=4, T=150) for i in range(24)]
    want = [backward(p.params, forward(p.params, p.x, p.s0), p.targets) for p in problems]

    def run(p):
        g = backward(p.params, forward(p.params, p.x, p.s0), p.targets)
        return g, [a.copy() for a in (g.ds, g.dx, g.dW)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(run, problems))
    for (g, copies), w in zip(got, want):
        for a, c, b in zip((g.ds, g.dx, g.dW), copies, (w.ds, w.dx, w.dW)):
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(a, c)


def test_loss_underflowing_target_probability_uses_the_logits(make_problem):
    pr = make_problem(seed=3, n_x=2, n_s=3, n_y=3, m=2, T=4)
    p = pr.params
    by = np.zeros((3, 1))
    by[0] = 800.0                                # class 0 dominates: y of classes 1, 2 underflows
    p2 = Parameters(U=p.U, W=p.W, V=p.V * 1e-3, ba=p.ba, by=by)
    targets = np.array([[1, 0, 2, 0], [0, 1, 0, 2]])
    tr = forward(p2, pr.x, pr.s0)
    g = backward(p2, tr, targets)
    z = tr.z.transpose(1, 2, 0)                  # (m, T, n_y)
    zmax = z.max(axis=-1)
    lse = zmax + np.log(np.exp(z - zmax[..., None]).sum(axis=-1))
    want = lse - np.take_along_axis(z, targets[..., None], axis=-1)[..., 0]
    assert np.all(np.isfinite(g.loss_t)) and g.loss_t.max() > 700
    np.testing.assert_allclose(g.loss_t, want, rtol=1e-14, atol=1e-14)
