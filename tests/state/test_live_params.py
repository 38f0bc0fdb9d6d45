"""Parameters drawn off the caller's thread (plans), rho(W) bookkeeping, staged results, caches."""
import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnviz.engine.analysis import gradient_flow
from rnnviz.state import compute as compute_mod
from rnnviz.state import derive
from rnnviz.state.compute import compute
from rnnviz.state.session import Session

NAMES = ("U", "W", "V", "ba", "by")


def rho(W):
    return float(np.max(np.abs(np.linalg.eigvals(W.astype(np.float64)))))


class Recorder:
    def __init__(self, session):
        self.events = []
        session.events.subscribe(lambda name, **p: self.events.append((name, p)))

    def of(self, name):
        return [p for n, p in self.events if n == name]


@pytest.fixture
def deferred(monkeypatch):
    """Every draw is left to the worker (as at n_s = 1024), however small the network."""
    monkeypatch.setattr(derive, "DRAW_NOW_MAX_N", 0)


def assert_rho(session):
    c = session.config
    tol = 1e-5 if c.dtype == "float32" else 1e-9
    assert rho(session.params.W) == pytest.approx(c.spectral_radius, rel=tol, abs=1e-12)


def test_dtype_and_radius_together_give_the_asked_radius():
    s = Session()
    assert s.apply(activation="linear", dtype="float32", T=200, spectral_radius=3.0) == []
    assert s.params.W.dtype == np.float32
    assert_rho(s)
    assert s.apply(dtype="float64", spectral_radius=0.9) == []
    assert s.params.W.dtype == np.float64
    assert_rho(s)


CHANGES = st.fixed_dictionaries({}, optional={
    "dtype": st.sampled_from(["float32", "float64"]),
    "spectral_radius": st.floats(0.05, 3.0).map(lambda r: round(r, 3)),
    "init": st.sampled_from(["gaussian", "orthogonal", "identity", "sparse"]),
    "seed": st.integers(0, 50),
    "n_s": st.integers(15, 40),        # sparse_k (15) must fit
})


@pytest.mark.parametrize("draw_now", [96, 0])       # drawn at once / left to the worker
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(CHANGES, min_size=1, max_size=8))
def test_any_sequence_of_applies_keeps_rho_at_the_config(draw_now, steps):
    old = derive.DRAW_NOW_MAX_N
    derive.DRAW_NOW_MAX_N = draw_now
    try:
        s = Session()
        for changes in steps:
            assert s.apply(**changes) == []
            if draw_now == 0 and len(steps) % 2:    # sometimes read only at the very end
                continue
            assert_rho(s)
        assert_rho(s)
    finally:
        derive.DRAW_NOW_MAX_N = old


def test_a_seed_change_leaves_the_draw_to_the_worker(deferred):
    s = Session()
    s.compute_now()
    rec = Recorder(s)
    assert s.apply(seed=7) == []
    assert not s.params_ready and rec.of("config") and not rec.of("params")
    request = s.request()
    assert request.params is None and request.plan is not None
    result = compute(request)
    assert s.accept(result)
    assert s.params_ready and rec.of("params")[-1]["names"] == NAMES
    names = [n for n, _ in rec.events]
    assert names.index("params") < names.index("result")
    fresh = Session(s.config)
    for name in NAMES:
        assert np.array_equal(getattr(s.params, name), getattr(fresh.params, name)), name
        assert getattr(result.params, name) is getattr(s.params, name)


def test_a_drawn_w_is_not_solved_for_twice(deferred, monkeypatch):
    """The worker's draw solves W's eigenvalues to rescale it; the spectrum view reuses them
    (one eigenvalue solve per request, ~1 s at n_s = 1024), and they agree with a fresh solve."""
    s = Session()
    s.apply(seed=21, n_s=40)
    solves = []
    real = np.linalg.eigvals
    monkeypatch.setattr(np.linalg, "eigvals", lambda a: solves.append(a.shape) or real(a))
    result = compute(s.request())
    assert solves == [(40, 40)]
    monkeypatch.undo()
    fresh = np.linalg.eigvals(result.params.W)
    np.testing.assert_allclose(np.abs(result.spectrum.eigenvalues), np.sort(np.abs(fresh))[::-1],
                               rtol=0, atol=1e-12)


def test_a_stale_draw_is_not_installed(deferred):
    s = Session()
    s.apply(seed=3)
    old = compute(s.request())
    s.apply(seed=4)
    assert not s.accept(old) and not s.params_ready
    assert np.array_equal(s.params.W, Session(s.config).params.W)   # drawn on reading


def test_radius_drag_while_the_draw_is_pending_rescales_the_one_draw(deferred, monkeypatch):
    s = Session()
    s.apply(seed=11)
    r0 = s.config.spectral_radius
    for r in (1.0, 1.1, 1.3):
        s.apply(spectral_radius=r)
    assert not s.params_ready
    draws = []
    real = derive.init_parameters
    monkeypatch.setattr(derive, "init_parameters", lambda *a, **k: draws.append(1) or real(*a, **k))
    W = s.params.W
    assert len(draws) <= 1                      # one draw (none if cached), at the first radius
    seeded, _ = derive.draw_params_and_eigenvalues(dataclasses.replace(s.config, spectral_radius=r0))
    np.testing.assert_array_equal(W, seeded.W * (1.3 / r0))    # the first radius's draw, rescaled
    assert_rho(s)
    assert "W" in s.to_dict()["params"]        # a rescaled W is stored in session files


def test_hand_edits_survive_a_precision_change_left_to_the_worker(deferred):
    s = Session()
    _ = s.params                                 # drawn
    s.set_weight("W", 0, 0, 0.1)
    s.apply(T=55)
    assert s.params_ready                        # nothing to draw
    s.apply(dtype="float32")
    assert not s.params_ready and s.edited == {"W"}
    s.accept(compute(s.request()))
    assert s.params.W.dtype == np.float32 and s.params.W[0, 0] == np.float32(0.1)
    assert np.array_equal(s.params.U, Session(s.config).params.U)   # the seed's, in float32
    s.reinitialise()
    assert not s.params_ready and s.edited == set()
    assert np.array_equal(s.params.W, Session(s.config).params.W)


def test_rho_of_an_edited_W_comes_back_with_the_result(monkeypatch):
    s = Session()
    s.set_weight("W", 1, 2, 0.4)
    s.compute_now()

    def no_eigvals(W):
        raise AssertionError("rho(W) recomputed on the caller's thread")

    monkeypatch.setattr(derive, "spectral_radius", no_eigvals)
    W = s.params.W.copy()
    r = s.result.spectrum.spectral_radius
    for radius in (1.05, 1.1, 1.2):              # a drag: rescaling only
        assert s.apply(spectral_radius=radius) == []
    np.testing.assert_allclose(s.params.W, W * (1.2 / r), rtol=1e-12)
    assert s.edited == {"W"}


def test_session_file_round_trip_with_pending_draws(deferred, tmp_path):
    s = Session()
    s.apply(n_s=20, seed=5)
    _ = s.params
    s.set_weight("V", 0, 1, 0.5)
    s.apply(spectral_radius=1.4)
    doc = s.to_dict()
    t = Session()
    t.from_dict(doc)
    assert not t.params_ready
    for name in NAMES:
        assert np.array_equal(getattr(t.params, name), getattr(s.params, name)), name


def test_the_fast_part_comes_first_then_the_flow_fills_in(monkeypatch):
    monkeypatch.setattr(compute_mod, "PARTIAL_MIN_WORK", 0)
    s = Session()
    s.apply(n_s=40, T=30, spectral_radius=1.1)
    request = s.request()
    partials = []
    final = compute(request, partial=partials.append, partial_interval=0.0)
    assert len(partials) == 30
    first = partials[0]
    assert first.flow_progress == 0.0
    assert np.all(np.isnan(first.flow.log10_jacobian_norm[:-1]))
    assert first.flow.log10_jacobian_norm[-1] == 0.0          # ||ds_T/ds_T|| = 1
    assert not np.any(first.flow.nonfinite_steps < 29)
    np.testing.assert_array_equal(first.flow.grad_norm, final.flow.grad_norm)
    progress = [p.flow_progress for p in partials]
    assert progress == sorted(progress) and progress[-1] == 1.0
    for p in partials:
        assert p.trace is final.trace and p.spectrum is final.spectrum
        assert p.request_id == final.request_id
    expected = gradient_flow(request.params, final.trace, final.grads, request.targets)
    np.testing.assert_array_equal(final.flow.log10_jacobian_norm, expected.log10_jacobian_norm)
    # a partial result keeps the session busy; the final one ends it
    s.request()
    assert s.busy and s.accept(partials[5]) and s.busy and s.result is partials[5]
    assert s.accept(final) and not s.busy
    assert not s.accept(partials[7]) and s.result is final     # a late partial is ignored


def test_small_computations_send_no_partials():
    s = Session()
    partials = []
    compute(s.request(), partial=partials.append, partial_interval=0.0)
    assert partials == []


def test_partials_are_rate_limited(monkeypatch):
    monkeypatch.setattr(compute_mod, "PARTIAL_MIN_WORK", 0)
    s = Session()
    s.apply(n_s=40, T=200)
    partials = []
    compute(s.request(), partial=partials.append, partial_interval=3600.0)
    assert [p.flow_progress for p in partials] == [0.0]       # only the fast part


@pytest.fixture
def spectrum_calls(monkeypatch):
    """The calls of the spectrum solver behind state.compute's cache, one entry each."""
    calls = []
    real = compute_mod.spectrum
    monkeypatch.setattr(compute_mod, "spectrum", lambda W, *known: calls.append(1) or real(W, *known))
    return calls


def test_the_spectrum_is_computed_once_per_W(spectrum_calls):
    calls = spectrum_calls
    s = Session()
    s.apply(seed=123)
    first = s.compute_now()
    for T in (41, 42):
        s.apply(T=T)
        assert s.compute_now().spectrum is first.spectrum
    assert len(calls) == 1
    s.set_weight("W", 0, 0, 0.3)
    assert s.compute_now().spectrum is not first.spectrum and len(calls) == 2


def test_a_radius_drag_scales_the_known_spectrum_instead_of_solving_again(spectrum_calls):
    from rnnviz.engine.analysis import spectrum
    calls = spectrum_calls
    s = Session()
    s.apply(seed=321)
    s.compute_now()
    s.set_weight("W", 0, 1, 0.2)            # an edited W: rho learnt from its result
    s.compute_now()
    assert len(calls) == 2
    for radius in (0.7, 1.1, 1.6):           # a drag, with a result at every step
        s.apply(spectral_radius=radius)
        got = s.compute_now().spectrum
        want = spectrum(s.params.W)
        assert got.spectral_radius == pytest.approx(radius, rel=1e-12)
        assert got.sigma_max == pytest.approx(want.sigma_max, rel=1e-12)
        np.testing.assert_allclose(np.sort_complex(got.eigenvalues),
                                   np.sort_complex(want.eigenvalues), rtol=0, atol=1e-12)
    assert len(calls) == 2                   # no eigenvalue problem solved during the drag
    s.apply(dtype="float32")
    s.compute_now()
    assert len(calls) == 3


def test_a_newer_request_stops_the_computation_between_stages():
    from rnnviz.engine.analysis import Interrupted
    s = Session()
    polls = []
    with pytest.raises(Interrupted):
        compute(s.request(), should_stop=lambda: polls.append(1) or True)
    assert len(polls) == 1                   # stopped right after the forward pass


def test_the_flow_takes_sigma_max_from_the_cached_spectrum(monkeypatch):
    """compute() hands the spectrum's sigma_max to gradient_flow (no second O(n_s^3) SVD)."""
    seen = []

    def spy(*args, **kwargs):
        seen.append(kwargs.get("sigma_max"))
        return gradient_flow(*args, **kwargs)

    monkeypatch.setattr(compute_mod, "gradient_flow", spy)
    session = Session()
    result = compute(session.request())
    assert seen == [result.spectrum.sigma_max]
    np.testing.assert_allclose(result.flow.log10_bound,
                               gradient_flow(session.params, result.trace, result.grads,
                                             session.targets, b=session.b).log10_bound,
                               rtol=1e-13, atol=1e-13)
