"""The gated cells' analysis: the step Jacobians they form (against finite differences and their
step VJPs), the flow through them (against the VJP path and explicit products), the carousel
(against the explicit product of gates) and the Jacobian's diagonal blocks (against explicit
products and SVDs), float32, non-finite numbers."""

import warnings

import numpy as np
import pytest

from rnnviz.engine import Parameters, backward, forward, get_cell
from rnnviz.engine.analysis import carousel, gated, gated_flow, gradient_flow, has_carousel
from rnnviz.engine.init import init_cell_parameters
from rnnviz.engine.network import row_arrays


def problem(cell, seed=0, n_x=3, n_s=5, n_y=3, m=2, T=12, scale=1.0):
    """Parameters (PyTorch's init times scale), x, s0, c0 and next-step targets."""
    rng = np.random.default_rng(seed)
    p = init_cell_parameters(rng, cell, n_x, n_s, n_y, v_scale=1.0, by_scale=0.2)
    if scale != 1.0:
        p = Parameters(cell=cell, **{k: v * scale if k in ("U", "W") else v
                                     for k, v in p.as_dict().items()})
    x = rng.standard_normal((n_x, m, T))
    s0 = 0.5 * rng.standard_normal((n_s, m))
    c0 = 0.5 * rng.standard_normal((n_s, m)) if cell == "lstm" else None
    targets = rng.integers(0, n_y, size=(m, T))
    return p, x, s0, c0, targets


def dense(cell_name, p, tr, b):
    """Every step's Jacobian as a dense matrix: the cell's products (Cell.step_products) of the
    identity."""
    _, state0, arrays = row_arrays(tr)
    products = get_cell(cell_name).step_products(p.as_dict(), arrays, state0, b)
    out = []
    for t in range(tr.T):
        assert products.form(t)
        out.append(products.rows(np.eye(products.n), np.empty((products.n, products.n))))
    return out


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_step_products_are_the_step_vjp_and_finite_differences(cell):
    p, x, s0, c0, tg = problem(cell, seed=1, scale=2.0)
    tr = forward(p, x, s0, c0=c0)
    impl = get_cell(cell)
    x_r, state0, arrays = row_arrays(tr)
    for b in range(tr.m):
        Js = dense(cell, p, tr, b)
        n = Js[0].shape[0]
        for t in (0, 5, tr.T - 1):
            via_vjp, scale = impl.step_vjp(p.as_dict(), arrays, x_r, state0, t, b, np.eye(n))
            assert scale == 0
            np.testing.assert_allclose(Js[t], via_vjp, rtol=1e-13, atol=1e-15)
    # and against central differences of one step of the network itself (element 0, t = 3)
    t, b, eps = 3, 0, 1e-6
    parts = impl.state_parts
    state_prev = np.concatenate([(tr.parts[k][:, :, t - 1]) for k in parts])

    def step_of(v):
        kw = {"c0": v[p.n_s:, None].repeat(2, 1)} if cell == "lstm" else {}
        one = forward(p, x[:, :, t:t + 1], v[:p.n_s, None].repeat(2, 1), **kw)
        return np.concatenate([one.parts[k][:, b, 0] for k in parts])
    prev = state_prev[:, b]
    num = np.column_stack([(step_of(prev + eps * e) - step_of(prev - eps * e)) / (2 * eps)
                           for e in np.eye(prev.size)])
    np.testing.assert_allclose(dense(cell, p, tr, b)[t], num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_product_steps_scale_rows_and_form_a_step_again_after_a_later_one(cell):
    """X (J_t / norm) for a block of rows, a vector and P itself, also for a step applied after
    a later step was formed (a sketch catching up)."""
    from rnnviz.engine.analysis._products import ProductSteps
    p, x, s0, c0, tg = problem(cell, seed=4, n_s=7, T=9)
    tr = forward(p, x, s0, c0=c0)
    _, state0, arrays = row_arrays(tr)
    Js = dense(cell, p, tr, 1)
    steps = ProductSteps(get_cell(cell).step_products(p.as_dict(), arrays, state0, 1), tr.T)
    n = steps.n
    X = np.random.default_rng(5).standard_normal((4, n))
    early = steps.step(5, 2.0)
    late = steps.step(3, 0.5)
    for step, t, norm in ((early, 5, 2.0), (late, 3, 0.5), (early, 5, 2.0)):
        expect = X @ Js[t] / norm
        np.testing.assert_allclose(step.rows(X, np.empty_like(X)), expect, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(step.vector(X[2]), expect[2], rtol=1e-13, atol=1e-15)
        P, out = np.eye(n) + 0.1 * X[:1].T @ X[1:2], np.empty((n, n))
        step.matrix(P, np.empty((n, n)), out)
        np.testing.assert_allclose(out, P @ Js[t] / norm, rtol=1e-12, atol=1e-15)
    assert X.shape == (4, n)       # the rows are left as they are


def test_step_products_say_where_a_step_is_not_finite():
    p, x, s0, c0, tg = problem("lstm", seed=6, n_s=4, T=6)
    tr = forward(p, x, s0, c0=c0)
    _, state0, arrays = row_arrays(tr)
    arrays = dict(arrays)
    arrays["f"] = arrays["f"].copy()
    arrays["f"][2, 0, 1] = np.nan
    products = get_cell("lstm").step_products(p.as_dict(), arrays, state0, 0)
    assert [products.form(t) for t in range(tr.T)] == [True, True, False, True, True, True]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("n_s,T", [(5, 12), (40, 300)])
def test_flow_through_step_products_equals_the_vjp_path(cell, n_s, T, monkeypatch):
    """The same curves with the cell's step products and through n_state step VJPs, also over
    long sequences (sketched steps)."""
    p, x, s0, c0, tg = problem(cell, seed=2, n_s=n_s, T=T, m=1)
    tr = forward(p, x, s0, c0=c0)
    g = backward(p, tr, tg)
    formed = gradient_flow(p, tr, g, tg)
    monkeypatch.setattr(type(get_cell(cell)), "step_products", lambda *a, **k: None)
    generic = gradient_flow(p, tr, g, tg)
    np.testing.assert_allclose(formed.log10_jacobian_norm, generic.log10_jacobian_norm,
                               rtol=0, atol=1e-10)
    rel = [10 ** (f.log10_jacobian_top_sv - f.log10_jacobian_norm[:, None]) for f in (formed, generic)]
    np.testing.assert_allclose(rel[0], rel[1], rtol=0, atol=1e-10)
    np.testing.assert_allclose(formed.log10_last_loss_grad_norm, generic.log10_last_loss_grad_norm,
                               rtol=0, atol=1e-10)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_carousel_is_the_product_of_the_carrying_gate(cell):
    p, x, s0, c0, tg = problem(cell, seed=3, T=15)
    tr = forward(p, x, s0, c0=c0)
    gate = {"lstm": "f", "gru": "z"}[cell]
    assert has_carousel(cell) and not has_carousel("vanilla")
    for b in range(tr.m):
        logs = carousel(tr, b)
        gv = tr.parts[gate][:, b, :]
        for t in range(tr.T):
            expect = np.prod(gv[:, t + 1:], axis=1)            # 1 at the last step
            np.testing.assert_allclose(10 ** logs[:, t], expect, rtol=1e-13)
        flow = gated_flow(p, tr, b=b)
        assert flow.gate == gate and flow.part == get_cell(cell).carry_part
        np.testing.assert_array_equal(flow.log10_carousel_max, logs.max(axis=0))
        np.testing.assert_array_equal(flow.log10_carousel_median, np.median(logs, axis=0))
        assert np.all(flow.log10_carousel_max <= 0) and flow.log10_carousel_max[-1] == 0


@pytest.mark.parametrize("n_s,T", [(5, 12), (70, 40)])
def test_lstm_blocks_are_the_diagonal_blocks_of_explicit_products(n_s, T):
    """||dh_T/dh_t|| and ||dc_T/dc_t|| against the blocks of P_t = J_{T-1}...J_{t+1} multiplied out
    (n_s = 70: the warm-started iteration instead of an SVD per step), and the carousel bounded
    by the cc block's path: along c alone, P_t's cc block would be diag(prod f)."""
    p, x, s0, c0, tg = problem("lstm", seed=4, n_s=n_s, T=T, scale=1.5)
    tr = forward(p, x, s0, c0=c0)
    for b in range(tr.m):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            flow = gated_flow(p, tr, b=b)
        Js = dense("lstm", p, tr, b)
        P = np.eye(2 * n_s)
        for t in range(T - 1, -1, -1):
            if t < T - 1:
                P = P @ Js[t + 1]
            for j, part in enumerate("hc"):
                block = P[j * n_s:(j + 1) * n_s, j * n_s:(j + 1) * n_s]
                expect = np.log10(np.linalg.norm(block, 2))
                assert flow.log10_block_norms[part][t] == pytest.approx(expect, abs=1e-11)
        assert flow.nonfinite_steps.size == 0 and flow.progress == 1.0


def lstm_flow_counted(monkeypatch, seed, n_s, T):
    """An LSTM's flow of one sequence and the _TopSingularValues that computed it (its counts)."""
    from rnnviz.engine import _jacobian
    p, x, s0, c0, tg = problem("lstm", seed=seed, n_x=8, n_s=n_s, n_y=8, m=1, T=T)
    tr = forward(p, x, s0, c0=c0)
    made, original = [], _jacobian._TopSingularValues

    class Counting(original):
        def __init__(self, *args):
            super().__init__(*args)
            made.append(self)
    monkeypatch.setattr(_jacobian, "_TopSingularValues", Counting)
    return p, tr, gradient_flow(p, tr, backward(p, tr, tg), tg), made[0]


def assert_top_sv_match_dense_products(p, tr, flow, atol=1e-10):
    """The top-3 singular values of every P_t = J_{T-1} ... J_{t+1}, multiplied out from the
    dense step Jacobians (scaled by its norm, the scale tracked in log10), to atol of ||P_t||."""
    Js = dense("lstm", p, tr, 0)
    P, c = np.eye(Js[0].shape[0]), 0.0
    for t in range(tr.T - 2, -1, -1):
        P = P @ Js[t + 1]
        sv = np.linalg.svd(P, compute_uv=False)[:3]
        P, c, sv = P / sv[0], c + np.log10(sv[0]), sv / sv[0]
        np.testing.assert_allclose(10 ** (flow.log10_jacobian_top_sv[t] - c), sv, rtol=0, atol=atol)


def test_an_lstm_flow_is_the_same_with_its_values_beside_the_next_product(monkeypatch):
    """The LSTM's products (a step formed in one buffer, ProductSteps) with the sketched values
    on a second thread: the same numbers as one step after another, and the dense products'."""
    from tests.engine.test_analysis import flows_with_and_without_the_second_thread
    p, x, s0, c0, tg = problem("lstm", seed=3, n_x=8, n_s=64, n_y=8, m=1, T=160)
    tr = forward(p, x, s0, c0=c0)
    grads = backward(p, tr, tg)
    piped, alone = flows_with_and_without_the_second_thread(
        monkeypatch, lambda: gradient_flow(p, tr, grads, tg))
    np.testing.assert_array_equal(piped.log10_jacobian_top_sv, alone.log10_jacobian_top_sv)
    np.testing.assert_array_equal(piped.log10_last_loss_grad_norm, alone.log10_last_loss_grad_norm)
    assert_top_sv_match_dense_products(p, tr, piped)


def test_lstm_sketch_from_an_exact_step_and_from_leading_rows_match_explicit_products(monkeypatch):
    """n_s = 128 (a 256-state): the LSTM's ~n_s fading cell-state directions keep the top flat,
    so the sketch starts from an exact step, and its values come in part from the leading rows
    of U^T P alone: every value agrees with the SVD of the explicit product."""
    p, tr, flow, top = lstm_flow_counted(monkeypatch, 0, 128, 100)
    assert top.exact_sketches >= 1 and top.exact_steps < 10
    assert top.sketched_steps > 80 and top.leading_steps > 20
    assert_top_sv_match_dense_products(p, tr, flow)


def test_an_lstm_sketch_certifies_its_flat_first_steps_by_weyl_not_the_svd(monkeypatch):
    """n_s = 256 (a 512-state): the first sketched step holds ~350 rows with about 55 times
    ||P||^2 of mass among them. The rounding allowed for in the Gram matrix's eigenvalues is
    n eps ||B||_F^2 for its entries and q eps ||G||_2 for eigvalsh; charged as (n + q) eps
    ||B||_F^2 it failed the bound by 8 % and the step went to the SVD of U^T P (~30 ms). Every
    value still agrees with the SVD of the explicit product."""
    p, tr, flow, top = lstm_flow_counted(monkeypatch, 0, 256, 40)
    assert top.exact_sketches == 1 and top.sketched_steps > 30
    assert top.svd_steps == 0 and top.leading_steps >= 6
    assert_top_sv_match_dense_products(p, tr, flow)


def test_lstm_sketch_from_an_exact_step_that_fails_goes_on_exactly(monkeypatch):
    """The first sketch made to fail at its first check: P catches up, exact steps resume (no
    basis to iterate with), a later sketch takes over, and every value stays right."""
    from rnnviz.engine import _jacobian
    original, calls = _jacobian._Sketch.values, []

    def values(self, k, Y):
        calls.append(k)
        return None if len(calls) == 1 else original(self, k, Y)
    monkeypatch.setattr(_jacobian._Sketch, "values", values)
    p, tr, flow, top = lstm_flow_counted(monkeypatch, 1, 128, 100)
    assert top.exact_sketches >= 2 and top.caught_up_steps >= 1 and top.sketched_steps > 60
    assert_top_sv_match_dense_products(p, tr, flow)


def test_gru_has_no_blocks_and_vanilla_no_gated_flow():
    p, x, s0, _, tg = problem("gru", seed=5)
    tr = forward(p, x, s0)
    assert gated_flow(p, tr).log10_block_norms == {}
    rng = np.random.default_rng(0)
    v = init_cell_parameters(rng, "vanilla", 3, 4, 3, v_scale=1.0, by_scale=0.0, kind="gaussian",
                             spectral_radius=0.9, u_scale=1.0, ba_scale=0.0)
    trv = forward(v, rng.standard_normal((3, 1, 5)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="carrying gate"):
        gated_flow(v, trv)
    with pytest.raises(ValueError, match="carrying gate"):
        carousel(trv, 0)


def test_progress_and_stop():
    p, x, s0, c0, tg = problem("lstm", seed=6, T=20)
    tr = forward(p, x, s0, c0=c0)
    seen = []
    full = gated_flow(p, tr, progress=lambda t, part: seen.append((t, part())))
    assert [t for t, _ in seen] == list(range(tr.T - 2, -1, -1))
    t, partial = seen[4]
    assert np.isnan(partial.log10_block_norms["c"][:t]).all()
    np.testing.assert_array_equal(partial.log10_block_norms["c"][t:], full.log10_block_norms["c"][t:])
    assert partial.progress == pytest.approx((tr.T - 1 - t) / (tr.T - 1))
    calls = []
    from rnnviz.engine.analysis import Interrupted
    with pytest.raises(Interrupted):
        gated_flow(p, tr, should_stop=lambda: calls.append(1) or len(calls) > 3)


def test_float32_agrees_with_float64():
    p, x, s0, c0, tg = problem("lstm", seed=7, T=20)
    tr = forward(p, x, s0, c0=c0)
    p32 = p.astype(np.float32)
    tr32 = forward(p32, x.astype(np.float32), s0.astype(np.float32), c0=c0.astype(np.float32))
    a, b = gated_flow(p, tr), gated_flow(p32, tr32)
    np.testing.assert_allclose(b.log10_carousel_max, a.log10_carousel_max, atol=1e-5)
    np.testing.assert_allclose(b.log10_block_norms["h"], a.log10_block_norms["h"], atol=1e-4)


def test_nonfinite_steps_never_raise_or_warn():
    """A NaN input at step 4 makes every later state NaN: the curves are NaN wherever a product
    reaches one of those steps (all but the last step's, P_{T-1} = I), without a warning."""
    p, x, s0, c0, tg = problem("lstm", seed=8, T=10)
    x[:, :, 4] = np.nan
    tr = forward(p, x, s0, c0=c0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flow = gated_flow(p, tr)
    np.testing.assert_array_equal(flow.nonfinite_steps, np.arange(9))
    for curve in (flow.log10_block_norms["h"], flow.log10_block_norms["c"], flow.log10_carousel_max):
        assert np.isnan(curve[:9]).all() and curve[9] == 0.0


def test_block_norm_iteration_matches_svd_and_falls_back(monkeypatch):
    rng = np.random.default_rng(9)
    B = rng.standard_normal((80, 80))
    sigma, X = gated._top_singular_value(B, None)
    assert sigma == pytest.approx(np.linalg.norm(B, 2), rel=1e-12)
    monkeypatch.setattr(gated, "MAX_ITERATIONS", 0)          # no iteration: the SVD answers
    sigma, X = gated._top_singular_value(np.eye(80), None)
    assert sigma == 1.0 and X is None


def test_lstm_values_from_more_than_three_quarters_of_the_rows_match_explicit_products(
        monkeypatch):
    """In the LSTM's flat first steps the certificate holds from ~0.9 of the basis's rows
    (up to LEADING_SHARE_MAX): those steps take the leading rows alone, and every value agrees
    with the SVD of the explicit product."""
    from rnnviz.engine import _sketch
    original, used = _sketch._Sketch._values_from_leading, []
    real_eigvalsh = _sketch.np.linalg.eigvalsh

    def leading(self, B, mass, r2, slack, k):
        sizes = []
        monkeypatch.setattr(_sketch.np.linalg, "eigvalsh",
                            lambda G: sizes.append(G.shape[0]) or real_eigvalsh(G))
        try:
            S = original(self, B, mass, r2, slack, k)
        finally:
            monkeypatch.setattr(_sketch.np.linalg, "eigvalsh", real_eigvalsh)
        if S is not None:
            used.append(sizes[0] / self.q)
        return S
    monkeypatch.setattr(_sketch._Sketch, "_values_from_leading", leading)
    p, tr, flow, top = lstm_flow_counted(monkeypatch, 0, 128, 100)
    assert max(used) > _sketch.LEADING_SHARE and max(used) <= _sketch.LEADING_SHARE_MAX
    assert_top_sv_match_dense_products(p, tr, flow)


def test_a_wide_leading_attempt_that_fails_is_not_tried_again_until_the_refresh():
    """One failed attempt from more than LEADING_SHARE of the rows costs its eigenproblem on top
    of the full one: the sketch then keeps to LEADING_SHARE until its basis is refreshed."""
    from rnnviz.engine import _sketch
    rng = np.random.default_rng(0)
    n, q = 80, 64
    U = np.linalg.qr(rng.standard_normal((n, q)))[0]
    sketch = _sketch._Sketch(U @ U.T, U, rng, rng.standard_normal(n))
    wide = int(0.9 * q)                       # rows 1..wide-1 hold 1e-10 each, the rest 1e-12 in
    mass = np.r_[1.0, np.full(wide - 1, 1e-10), np.full(q - wide, 1e-12 / (q - wide))]
    B = np.sqrt(mass)[:, None] * np.linalg.qr(rng.standard_normal((n, q)))[0].T
    sketch.ratio = 1.0                        # the guess of S_3 / S_1: so the tail "fits" from
    assert sketch._values_from_leading(B, mass, 0.0, 0.0, 3) is None   # 0.9 q, but S_3 = 1e-5:
    assert sketch._wide_failed                # the bound refuses
    calls = []
    real = _sketch.np.linalg.eigvalsh
    try:
        _sketch.np.linalg.eigvalsh = lambda G: calls.append(G.shape[0]) or real(G)
        assert sketch._values_from_leading(B, mass, 0.0, 0.0, 3) is None
        assert calls == []                    # not tried again from 0.9 q before the refresh
        sketch._shrink(np.r_[mass, 0.0][:q], np.eye(q), 3, 0.0)   # a refresh (keeps q rows)
        assert not sketch._wide_failed
        sketch.apply_rotation()
        assert sketch._values_from_leading(B, mass, 0.0, 0.0, 3) is None
        assert calls == [wide]                # ... and tried once after it
    finally:
        _sketch.np.linalg.eigvalsh = real


def test_block_norm_iteration_from_a_subspace_that_misses_the_block_still_finds_its_norm():
    """A warm start orthogonal to B's rows (a block that changed completely) gives no Ritz value
    above 0: the SVD answers, not a norm of 0; an all-zero block's norm is 0."""
    rng = np.random.default_rng(3)
    n = 80
    B = np.zeros((n, n))
    B[:, :40] = rng.standard_normal((n, 40))
    X = np.linalg.qr(np.eye(n)[:, 40:46])[0]          # only the columns B does not use
    sigma, _ = gated._top_singular_value(B, X)
    assert sigma == pytest.approx(np.linalg.norm(B, 2), rel=1e-12)
    assert gated._top_singular_value(np.zeros((n, n)), X)[0] == 0.0
