"""Every registered cell goes through the state layer untouched: the gated cells, and a test-only
cell registered at run time (tests/cells_for_tests.py), through set-ups, compute (the flow too),
session files and share codes, with numbers equal to the engine's."""
import numpy as np
import pytest

from rnnviz.engine.analysis import gradient_flow
from rnnviz.engine.network import backward, forward
from rnnviz.state import sessionfile, sharecode
from rnnviz.state.workspace import Workspace
from tests.cells_for_tests import CoupledCell, SymmetricCell, registered

SMALL = dict(n_x=4, n_s=6, n_y=4, T=12, m=2)


def engine_numbers(w):
    """The engine's forward, backward and flow for the workspace's current state, on their own."""
    p = w.params
    trace = forward(p, w.x, w.s0, w.config.activation)
    grads = backward(p, trace, w.targets)
    return trace, grads, gradient_flow(p, trace, grads, w.targets, b=w.b)


@pytest.mark.parametrize("cell", ["lstm", "gru", "test_symmetric", "test_coupled"])
def test_a_cell_runs_through_compute_and_its_numbers_are_the_engines(cell):
    with registered(SymmetricCell, CoupledCell):
        w = Workspace()
        assert w.apply(cell=cell, **SMALL) == []
        assert w.params.cell == cell and set(w.params.names) == set(sessionfile.param_shapes(w.config))
        result = w.compute_now()
        trace, grads, flow = engine_numbers(w)
        np.testing.assert_array_equal(result.trace.s, trace.s)
        np.testing.assert_array_equal(result.grads.ds, grads.ds)
        assert result.grads.loss == grads.loss
        np.testing.assert_allclose(result.flow.log10_jacobian_norm, flow.log10_jacobian_norm,
                                   rtol=1e-12, atol=1e-12)
        assert np.all(np.isfinite(result.flow.log10_jacobian_norm)) and result.complete
        assert result.spectrum_label in result.spectra


@pytest.mark.parametrize("cell", ["lstm", "gru", "test_symmetric"])
def test_a_cell_survives_a_session_file_and_a_hand_edit(tmp_path, cell):
    with registered(SymmetricCell):
        w = Workspace()
        w.apply(cell=cell, **SMALL)
        name = w.params.names[1]                       # the recurrent matrix, whatever its name
        assert w.set_weight(name, 0, 0, 0.125) == []
        path = tmp_path / "s.json"
        w.save_file(path)
        other = Workspace()
        other.load_file(path)
        assert other.config.cell == cell and other.edited == {name}
        for n in w.params.names:
            np.testing.assert_array_equal(getattr(other.params, n), getattr(w.params, n))
        assert sharecode.decode(w.share_code()).cell == cell


def test_the_spectral_radius_is_no_knob_for_a_gated_cell():
    w = Workspace()
    w.apply(cell="lstm", **SMALL)
    W = w.params.W.copy()
    assert w.apply(spectral_radius=1.5) == []           # accepted, and W is left alone
    np.testing.assert_array_equal(w.params.W, W)
    assert w.params.W.shape == (4 * 6, 6)


def test_a_gated_cell_refuses_another_activation_and_changes_nothing():
    w = Workspace()
    w.apply(cell="gru")
    problems = w.apply(activation="relu")
    assert problems and problems[0].field == "activation" and w.config.activation == "tanh"


def test_a_version_1_file_opens_as_a_vanilla_cell():
    w = Workspace()
    doc = w.to_dict()
    doc["version"] = 1
    del doc["config"]["cell"], doc["config"]["forget_bias"]
    other = Workspace()
    other.from_dict(doc)
    assert other.config == w.config


@pytest.mark.parametrize("cell, says", [
    ("vanilla", ("a_t = U x_t + W s_{t−1} + b_a", "‖∂s_T/∂s_t‖ ≤ (γ·σ_max(W))^(T−t)")),
    ("lstm", ("c_t = f ⊙ c_{t−1} + i ⊙ g", "diag(Π_{k=t+1..T} f_k)", "No simple bound")),
    ("gru", ("h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}", "diag(Π_{k=t+1..T} z_k)", "No simple bound")),
])
def test_each_cell_has_its_own_model_text(cell, says):
    """The Explanation dock's "The model" of a custom set-up (cellinfo.model_markdown, Qt-free):
    each cell's own equations; only the vanilla cell claims the (γ σ_max)^(T−t) bound."""
    from rnnviz.state import cellinfo
    text = cellinfo.model_markdown(cell)
    for words in says:
        assert words in text, (cell, words)
    assert ("σ_max(W))^(T−t)" in text) == (cell == "vanilla")


def test_a_cell_without_an_entry_gets_a_model_text_from_its_engine_names():
    from rnnviz.state import cellinfo
    with registered(SymmetricCell):
        text = cellinfo.model_markdown(SymmetricCell.name)
    assert SymmetricCell.label in text and "σ_max(W))^(T−t)" not in text
