"""The workspace split: a pure set-up, a shared selection, and stages asked for by the shown panels."""
import dataclasses

import numpy as np
import pytest

from rnnviz.state import setup as su
from rnnviz.state.compute import compute
from rnnviz.state.config import DEFAULT
from rnnviz.state.workspace import Workspace


def test_a_setup_change_returns_a_new_setup_and_leaves_the_old_one_as_it_was():
    old = su.fresh(DEFAULT)
    W = old.params.params.W.copy()
    change = su.change(old, spectral_radius=1.5)
    assert change.fields == ("spectral_radius",) and change.params == ("W",)
    assert np.array_equal(old.params.params.W, W)                      # untouched
    rho = np.max(np.abs(np.linalg.eigvals(change.setup.params.params.W)))
    assert rho == pytest.approx(1.5, rel=1e-12)


def test_a_refused_change_raises_with_the_problem_and_changes_nothing():
    old = su.fresh(DEFAULT)
    with pytest.raises(su.Refused) as caught:
        su.change(old, n_s=0)
    assert caught.value.problems[0].field == "n_s" and old.config == DEFAULT


def test_hiding_the_flow_panel_drops_the_flow_stage_and_showing_it_asks_for_it_again():
    w = Workspace()
    w.set_view(panels={**w.view["panels"], "flow": False})
    request = w.request()
    assert "flow" not in request.stages
    result = compute(request)
    assert np.all(np.isnan(result.flow.log10_jacobian_norm)) and result.complete
    # the gradient norms the flow view's first curve shows are there without the stage
    expected = np.linalg.norm(result.grads.ds[:, 0, :], axis=0)
    assert np.allclose(result.flow.grad_norm, expected, rtol=1e-14)
    assert w.accept(result) and not w.needs_compute
    w.set_view(panels={**w.view["panels"], "flow": True})
    assert w.needs_compute                         # same state, but a stage is missing
    full = compute(w.request())
    assert "flow" in full.stages and np.all(np.isfinite(full.flow.log10_jacobian_norm))
    assert w.accept(full) and not w.needs_compute


def test_the_selection_is_kept_apart_from_the_setup():
    w = Workspace()
    setup = w.setup
    w.set_timestep(3)
    w.set_view(gradient="last")
    assert w.setup is setup                        # looking elsewhere changes no set-up
    assert w.t == 3 and w.view["gradient"] == "last"
    assert dataclasses.replace(w.selection, t=5).t == 5 and w.t == 3   # frozen values
