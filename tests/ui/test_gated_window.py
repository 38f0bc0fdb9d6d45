"""The window adapts to the cell: picked in the Parameters dock's cell chooser as a user does, the
gate heatmaps show (and hold the engine's numbers), the state heatmap gets a c tab, the flow plot
the carousel and the Jacobian's blocks, the weights dock the gate blocks, the spectrum view a
chooser of recurrent blocks; File > Import weights brings in a state_dict file."""
import numpy as np
import pytest
from conftest import wait_for_result
from PySide6 import QtCore

from rnnviz.engine.analysis import carousel, gated_flow
from rnnviz.engine.network import forward
from rnnviz.state import weights_formats as formats
from tests.state.test_weights_io import torch_names


def pick(qtbot, combo, value):
    """Choose an entry of a combo box with the keyboard, as a user does."""
    combo.setFocus()
    for key in (QtCore.Qt.Key_Down, QtCore.Qt.Key_Up):
        for _ in range(combo.count()):
            if combo.currentData() == value:
                return
            qtbot.keyClick(combo, key)
    assert combo.currentData() == value, f"{value!r} is not offered"


def engine_trace(s):
    p = s.params
    return p, forward(p, s.x, s.s0, s.config.activation)


@pytest.mark.parametrize("cell,gates", [("lstm", ("i", "f", "o")), ("gru", ("r", "z"))])
def test_picking_a_gated_cell_shows_its_gates_with_the_engines_numbers(qtbot, make_window, cell, gates):
    window = make_window()
    s = window.session
    view = window.views["gates"]
    assert view.isHidden()                                   # the vanilla cell has no gates
    fields = window.docks["editors"].fields
    assert fields["spectral_radius"].spin.isEnabled() and fields["activation"].editor.isEnabled()
    pick(qtbot, fields["cell"].editor, cell)
    assert s.config.cell == cell
    # no knob that does nothing: rho(W) and the activation are the vanilla cell's
    assert not fields["spectral_radius"].spin.isEnabled()
    assert not fields["spectral_radius"].slider.isEnabled()
    assert not fields["activation"].editor.isEnabled()
    assert fields["forget_bias"].editor.isEnabled() == (cell == "lstm")
    wait_for_result(qtbot, window, timeout=30000)
    assert not view.isHidden()
    label = s.result.spectrum_label                         # the block whose rho the bar shows
    assert label != "W" and window.status.rho.text().startswith(f"ρ({label}) = ")
    p, trace = engine_trace(s)
    values = view.values()
    assert tuple(values) == gates
    for g in gates:
        np.testing.assert_array_equal(values[g], trace.parts[g][:, s.b, :])
    # the flow plot: the carousel of the carrying gate and (LSTM) the Jacobian's blocks
    flow = window.views["flow"]
    expect = gated_flow(p, trace, b=s.b)
    np.testing.assert_allclose(flow.gated.values("carousel"), carousel(trace, s.b).max(axis=0),
                               rtol=0, atol=1e-12)
    legend = [label.text for _, label in flow.legend.items]
    assert not any("bound" in text for text in legend)
    if cell == "lstm":
        np.testing.assert_allclose(flow.gated.values("c"), expect.log10_block_norms["c"],
                                   rtol=0, atol=1e-12)
        assert "‖∂c_T/∂c_t‖" in legend
    # the spectrum view offers every recurrent block and says which it shows
    spectrum = window.views["spectrum"]
    blocks = [spectrum.choice.itemData(i) for i in range(spectrum.choice.count())]
    assert blocks == [f"W_{g}" for g in ({"lstm": "ifgo", "gru": "rzn"}[cell])]
    pick(qtbot, spectrum.choice, blocks[1])
    qtbot.waitUntil(lambda: spectrum.shown_label == blocks[1], timeout=5000)
    W_block = p.W[p.n_s:2 * p.n_s]
    np.testing.assert_allclose(spectrum.spectral_radius, max(abs(np.linalg.eigvals(W_block))),
                               rtol=1e-12)
    assert blocks[1] in spectrum.plot_item.titleLabel.text
    # back to the vanilla cell: no gates, the bound back in the legend
    pick(qtbot, window.docks["editors"].fields["cell"].editor, "vanilla")
    wait_for_result(qtbot, window, timeout=30000)
    assert view.isHidden()
    assert any("bound" in label.text for _, label in flow.legend.items)


def test_the_lstm_state_heatmap_has_a_c_tab(qtbot, make_window):
    window = make_window()
    s = window.session
    pick(qtbot, window.docks["editors"].fields["cell"].editor, "lstm")
    wait_for_result(qtbot, window, timeout=30000)
    states = window.views["states"]
    bar = states.parts.bar
    assert not bar.isHidden() and [bar.tabText(i) for i in range(bar.count())] == ["h_t", "c_t"]
    _, trace = engine_trace(s)
    np.testing.assert_array_equal(states.values, trace.s[:, s.b, :])
    qtbot.mouseClick(bar, QtCore.Qt.LeftButton, pos=bar.tabRect(1).center())
    qtbot.waitUntil(lambda: states.parts.part == "c", timeout=5000)
    wait_for_result(qtbot, window)
    np.testing.assert_array_equal(states.values, trace.parts["c"][:, s.b, :])
    assert "Cell state c_t" in states.plot_item.titleLabel.text


def test_the_weights_dock_shows_and_edits_gate_blocks(qtbot, make_window):
    window = make_window()
    s = window.session
    pick(qtbot, window.docks["editors"].fields["cell"].editor, "lstm")
    wait_for_result(qtbot, window, timeout=30000)
    dock = window.docks["weights"]
    dock.raise_()
    qtbot.waitUntil(lambda: dock.block_combo.count() == 5, timeout=5000)
    labels = [dock.block_combo.itemText(i) for i in range(dock.block_combo.count())]
    assert labels[1:] == ["W_i", "W_f", "W_g", "W_o"]
    pick(qtbot, dock.block_combo, "f")
    n = s.config.n_s
    np.testing.assert_array_equal(dock.matrix(), s.params.W[n:2 * n])
    assert "W_f" in dock.caption.text()
    dock.open_entry_editor(2, 3)
    dock.entry_editor.line.setText("0.25")
    qtbot.keyClick(dock.entry_editor.line, QtCore.Qt.Key_Return)
    assert s.params.W[n + 2, 3] == 0.25 and "W" in s.edited


def test_file_import_weights_brings_in_a_state_dict(qtbot, make_window, tmp_path):
    window = make_window()
    s = window.session
    d = torch_names("lstm", n_x=8, n_s=6, n_y=8, prefix="model.rnn.", fc="model.fc.")
    path = tmp_path / "trained.safetensors"
    formats.write(path, d)
    assert window.weight_actions.import_path(path) is True
    wait_for_result(qtbot, window, timeout=30000)
    assert (s.config.cell, s.config.n_s, s.config.dtype) == ("lstm", 6, "float32")
    np.testing.assert_array_equal(s.params.U, d["model.rnn.weight_ih_l0"])
    assert tuple(window.views["gates"].values()) == ("i", "f", "o")
    text = window.docks["explanation"].plain_text()   # the LSTM's own model, not the vanilla one
    assert "Custom set-up" in text and "c_t = f ⊙ c_{t−1} + i ⊙ g" in text
    assert "σ_max(W))^(T−t)" not in text
    out = tmp_path / "back.npz"
    assert window.weight_actions.export_path(out) is True
    assert set(formats.read(out)) >= {"rnn.weight_hh_l0", "fc.weight"}
    # a file that cannot be used leaves the session as it was
    before = s.config
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"no")
    assert window.weight_actions.import_path(bad) is False
    assert s.config == before


def _right_edge(view) -> float:
    """The global x of a time plot's right edge (where its t axis ends)."""
    vb = view.plot_item.vb.sceneBoundingRect()
    return view.graphics.mapToGlobal(view.graphics.mapFromScene(vb.topRight())).x()


@pytest.mark.parametrize("presenting", [False, True])
def test_an_lstm_flow_legend_goes_beside_a_short_plot_with_every_t_axis_lined_up(
        qtbot, make_window, presenting):
    """At 1280 x 800 an LSTM's seven legend entries took three rows above the flow plot (four
    in presentation mode) and left the plot ~40 px; beside it, the plot gets the height, and the
    other time plots leave the legend's extra width so every t axis still ends at the same x."""
    window = make_window()
    window.resize(1280, 800)
    window.session.apply(cell="lstm", n_s=32)
    wait_for_result(qtbot, window, timeout=30000)
    if presenting:
        window.presentation.set_active(True)
    for _ in range(4):
        qtbot.wait(30)
        wait_for_result(qtbot, window)
    flow = window.views["flow"]
    assert flow.legend_beside and flow.side_legend.isVisible() and not flow.legend.isVisible()
    assert flow.side_legend.texts() == [label.text for _, label in flow.legend.items]
    assert "carousel Π f (top unit)" in flow.side_legend.texts()
    assert flow.plot_item.vb.height() >= 120
    assert flow.side_legend.width() >= flow.side_legend.width_needed()
    T = window.session.config.T
    assert flow.plot_item.vb.viewRange()[0] == pytest.approx([0.5, T + 0.5])   # all of t in view
    shown = [name for name in ("inputs", "states", "gates", "gradients", "flow")
             if window.views[name].isVisible()]
    edges = {name: _right_edge(window.views[name]) for name in shown}
    assert max(edges.values()) - min(edges.values()) <= 2, edges
    for axis in flow.axes():
        if axis.label.isVisible() and axis.labelText:
            assert flow.axis_label_fits(axis), axis.labelText
    bottom = flow.plot_item.getAxis("bottom")       # the time caption centred under its axis
    caption = bottom.label.mapRectToScene(bottom.label.boundingRect())
    along = bottom.sceneBoundingRect()
    assert along.left() - 2 <= caption.left() and caption.right() <= along.right() + 2
    assert abs(caption.center().x() - along.center().x()) <= 3
    assert flow.title_fits(flow.rate_label)
    gates = window.views["gates"]            # the gate strip's unit caption fits its axis
    left = gates.plot_item.getAxis("left")
    assert gates.axis_label_fits(left), (left.labelText, gates.axis_length(left))
    assert left.labelText in ("unit, per gate", "unit", "")
    # back to the vanilla cell: four entries fit above the plot again, no room kept
    if presenting:
        window.presentation.set_active(False)
    window.session.apply(cell="vanilla")
    for _ in range(4):
        qtbot.wait(30)
        wait_for_result(qtbot, window)
    assert not flow.legend_beside and flow.legend.isVisible() and not flow.side_legend.isVisible()
    assert flow.right_room == 0
    edges = {name: _right_edge(window.views[name]) for name in shown if name != "gates"}
    assert max(edges.values()) - min(edges.values()) <= 2, edges


def test_on_a_1024_x_768_projector_the_lstm_legend_goes_beside_the_plot_with_short_names(
        qtbot, make_window):
    """Presentation mode at 1024 x 768: the full names beside the plot would leave it under
    BESIDE_MIN_WIDTH, and above it four rows left the plot ~40 px; the short names ('σ₁',
    'carousel Π f') go beside, the plot gets its height, and every t axis still lines up."""
    from rnnviz.ui.views.flow_legend import BESIDE_MIN_WIDTH
    window = make_window()
    window.resize(1024, 768)
    window.session.apply(cell="lstm", n_s=32)
    wait_for_result(qtbot, window, timeout=30000)
    window.presentation.set_active(True)
    for _ in range(4):
        qtbot.wait(30)
        wait_for_result(qtbot, window)
    flow = window.views["flow"]
    assert flow.legend_beside and flow.legend_short and flow.side_legend.isVisible()
    texts = flow.side_legend.texts()
    assert "σ₁" in texts and "carousel Π f" in texts and "‖∂c_T/∂c_t‖" in texts
    assert texts == [label.text for _, label in flow.legend.items]
    assert flow.plot_item.vb.height() >= 120
    assert flow.width() - flow.side_legend.width() >= BESIDE_MIN_WIDTH
    assert flow.side_legend.width() >= flow.side_legend.width_needed()
    shown = [name for name in ("inputs", "states", "gates", "gradients", "flow")
             if window.views[name].isVisible()]
    edges = {name: _right_edge(window.views[name]) for name in shown}
    assert max(edges.values()) - min(edges.values()) <= 2, edges


def test_closing_the_flow_panel_gives_the_other_time_plots_their_width_back(qtbot, make_window):
    window = make_window()
    window.resize(1280, 800)
    window.session.apply(cell="lstm", n_s=32)
    wait_for_result(qtbot, window, timeout=30000)
    flow, states = window.views["flow"], window.views["states"]
    qtbot.waitUntil(lambda: flow.legend_beside and flow.right_room > 0, timeout=5000)
    margins = states.graphics.ci.layout.getContentsMargins()
    assert margins[2] == 9 + flow.right_room             # the legend's extra width, on the right
    flow.setVisible(False)
    qtbot.waitUntil(lambda: states.graphics.ci.layout.getContentsMargins()[2] == 9, timeout=5000)
    flow.setVisible(True)
    qtbot.waitUntil(lambda: states.graphics.ci.layout.getContentsMargins()[2] == 9 + flow.right_room
                    and flow.right_room > 0, timeout=5000)
