"""A cell plugs into the window untouched: a test-only cell registered before the window is built
is picked in the Parameters dock's cell chooser as a user would, and every view then draws the
engine's numbers for it; the LSTM and GRU alike."""
import numpy as np
import pytest
from conftest import wait_for_result
from PySide6 import QtCore

from rnnviz.engine.analysis import gradient_flow
from rnnviz.engine.network import backward, forward
from tests.cells_for_tests import CoupledCell, SymmetricCell, registered


@pytest.fixture
def test_cells():
    with registered(SymmetricCell, CoupledCell) as cells:
        yield cells


def pick(qtbot, combo, value):
    """Choose an entry of a combo box with the keyboard, as a user does."""
    combo.setFocus()
    for _ in range(combo.count()):
        if combo.currentData() == value:
            return
        qtbot.keyClick(combo, QtCore.Qt.Key_Down)
    assert combo.currentData() == value, f"{value!r} is not offered"


@pytest.mark.parametrize("cell", ["test_symmetric", "test_coupled", "lstm", "gru"])
def test_picking_a_cell_redraws_every_view_with_the_engines_numbers(qtbot, test_cells, make_window,
                                                                    cell):
    window = make_window()
    s = window.session
    errors = []
    s.events.subscribe(lambda name, **kw: errors.append(kw["text"]) if name == "error" else None)
    pick(qtbot, window.docks["editors"].fields["cell"].editor, cell)
    assert s.config.cell == cell
    result = wait_for_result(qtbot, window, timeout=30000)
    p = s.params
    trace = forward(p, s.x, s.s0, s.config.activation)
    grads = backward(p, trace, s.targets)
    flow = gradient_flow(p, trace, grads, s.targets, b=s.b)
    np.testing.assert_array_equal(window.views["states"].values, trace.s[:, s.b, :])
    _, y = window.views["flow"].curve_data("log10_jacobian_norm")
    np.testing.assert_allclose(y, flow.log10_jacobian_norm, rtol=1e-12, atol=1e-12)
    window.docks["weights"].raise_()                       # the user opens the Weights tab
    qtbot.waitUntil(lambda: window.docks["weights"].matrix_combo.count() > 0, timeout=5000)
    names = [window.docks["weights"].matrix_combo.itemData(i)
             for i in range(window.docks["weights"].matrix_combo.count())]
    assert set(names) <= set(p.names) and names
    assert errors == [] and result.request_id == s.request_id
