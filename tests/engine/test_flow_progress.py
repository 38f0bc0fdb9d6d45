"""gradient_flow's progress callback: partial curves filled in from t = T-1 back, equal to the final."""

import numpy as np
import pytest

from rnnviz.engine import backward, forward
from rnnviz.engine.analysis import Interrupted, gradient_flow
from rnnviz.engine.data import make_inputs, make_targets
from rnnviz.engine.init import init_parameters

FIELDS = ("grad_norm", "last_loss_grad_norm", "jacobian_norm", "jacobian_top_sv",
          "log10_jacobian_norm", "bound", "log10_bound", "log10_jacobian_top_sv",
          "log10_last_loss_grad_norm")


def problem(n_s, T, radius=1.05, act="tanh"):
    rng = np.random.default_rng(n_s + T)
    p = init_parameters(rng, 4, n_s, 3, kind="gaussian", spectral_radius=radius, u_scale=1.0,
                        v_scale=1.0, ba_scale=0.1, by_scale=0.1)
    x = make_inputs(rng, "gaussian", 4, 2, T)
    targets = make_targets(rng, "random", x, 3)
    trace = forward(p, x, np.zeros((n_s, 2)), act)
    return p, trace, backward(p, trace, targets), targets


@pytest.mark.parametrize("n_s,T", [(5, 30), (80, 40)])     # exact-SVD and subspace paths
def test_partials_fill_in_backwards_and_agree_with_the_final_curves(n_s, T):
    p, trace, grads, targets = problem(n_s, T)
    seen = []

    def progress(t, partial):
        flow = partial()
        done = ~np.isnan(flow.log10_jacobian_norm)
        seen.append((t, flow))
        assert np.array_equal(np.flatnonzero(done), np.arange(t, T))   # t..T-1 known, rest NaN
        assert not np.any(flow.nonfinite_steps < t)        # unknown steps are not "non-finite"

    final = gradient_flow(p, trace, grads, targets, b=1, progress=progress)
    assert [t for t, _ in seen] == list(range(T - 1, -1, -1))
    for t, flow in seen:
        for name in FIELDS:
            got, want = np.asarray(getattr(flow, name)), np.asarray(getattr(final, name))
            np.testing.assert_array_equal(got[t:], want[t:], err_msg=name)
    last = seen[-1][1]
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(last, name), getattr(final, name), err_msg=name)
    assert last.rate_per_step == final.rate_per_step
    np.testing.assert_array_equal(last.nonfinite_steps, final.nonfinite_steps)


def test_without_progress_the_result_is_unchanged_and_stop_still_interrupts():
    p, trace, grads, targets = problem(6, 20)
    a = gradient_flow(p, trace, grads, targets)
    b = gradient_flow(p, trace, grads, targets, progress=lambda t, partial: None)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    calls = []
    with pytest.raises(Interrupted):
        gradient_flow(p, trace, grads, targets, should_stop=lambda: len(calls) >= 3,
                      progress=lambda t, partial: calls.append(t))
    assert calls == [19, 18, 17]


def test_exploding_partial_marks_only_computed_non_finite_steps():
    p, trace, grads, targets = problem(6, 900, radius=3.0, act="linear")
    final = gradient_flow(p, trace, grads, targets)
    assert final.nonfinite_steps.size                   # the case overflows
    partials = []
    gradient_flow(p, trace, grads, targets,
                  progress=lambda t, partial: partials.append((t, partial())))
    for t, flow in partials:
        bad_grad = np.flatnonzero(~np.isfinite(flow.grad_norm[:t]))
        assert set(flow.nonfinite_steps[flow.nonfinite_steps < t]) == set(bad_grad)
