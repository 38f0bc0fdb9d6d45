"""The gradient heatmap's choice between dL/ds_t (all losses) and dL_T/ds_t (the last loss alone)."""
import numpy as np
from conftest import flush, wait_for_result
from PySide6 import QtCore

from rnnviz.engine import backward, forward, last_loss_gradient
from rnnviz.state.session import Session


def engine_last_loss_gradient(session):
    """dL_T/ds_t straight from the engine, for the session's current set-up."""
    trace = forward(session.params, session.x, session.s0, activation=session.config.activation)
    return last_loss_gradient(session.params, trace, session.targets).ds


def test_switching_the_box_shows_the_last_loss_gradient(qtbot, window):
    """The box opens on ∂L_T/∂s_t (issue 13 item 4: the fade shows at once) and switches."""
    view, s = window.views["gradients"], window.session
    box = view.choice
    assert box.isVisible() and "∂L_T/∂s_t" in box.toolTip() and "Wᵀ diag(f′" in box.toolTip()
    assert box.currentText() == "last loss only" and "last" in view.plot_item.titleLabel.text
    expected = engine_last_loss_gradient(s)[:, s.b, :]
    np.testing.assert_allclose(view.values, expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(view.image.image, np.log10(np.abs(expected)), rtol=1e-12, atol=1e-12)
    assert "∂L_T/∂s_t" in view.plot_item.titleLabel.text
    assert view.caption.startswith("|∂L_T/∂s_t|")
    assert view.title_fits(view.plot_item.titleLabel)

    box.setFocus()
    qtbot.keyClick(box, QtCore.Qt.Key_Up)             # what a user does with the keyboard
    flush(window)
    assert s.view["gradient"] == "total" and box.currentText() == "all losses"
    total = s.result.grads.ds[:, s.b, :]
    np.testing.assert_array_equal(view.values, total)
    assert "all losses" in view.plot_item.titleLabel.text
    # it differs from the total gradient except at the last step, where only L_T feeds dL/ds
    np.testing.assert_allclose(expected[:, -1], total[:, -1], rtol=1e-12)
    assert not np.allclose(expected[:, 0], total[:, 0])

    view.choice_actions["last"].trigger()            # the right-click menu's entry
    flush(window)
    assert s.view["gradient"] == "last" and box.currentText() == "last loss only"
    np.testing.assert_allclose(view.values, expected, rtol=1e-12, atol=0)
    assert view.choice_actions["last"].isChecked() and not view.choice_actions["total"].isChecked()
    assert view.choice_actions["total"] in view.graphics.actions()


def test_the_choice_is_saved_and_restored(qtbot, make_window, tmp_path):
    window = make_window()
    view = window.views["gradients"]
    view.choice_actions["total"].trigger()
    path = tmp_path / "total.json"
    window.session.save_file(path)
    fresh = Session()
    fresh.load_file(path)
    assert fresh.view["gradient"] == "total"
    other = make_window(fresh)
    assert other.views["gradients"].choice.currentText() == "all losses"
    np.testing.assert_array_equal(other.views["gradients"].values,
                                  fresh.result.grads.ds[:, fresh.b, :])
    other.session.load_preset("exploding")        # a preset without the key: the default again
    wait_for_result(qtbot, other)
    assert other.views["gradients"].choice.currentText() == "last loss only"


def test_vanishing_shows_in_the_last_loss_gradient_only(qtbot, make_window):
    s = Session()
    s.load_preset("vanishing")
    window = make_window(s)
    view = window.views["gradients"]
    assert view.choice.currentText() == "last loss only"    # the preset opens on dL_T/ds_t
    last = np.abs(view.values)
    lo, hi = view.image.getLevels()
    assert hi - lo > 5                                # the colours span many decades
    view.choose("total")
    flush(window)
    total = np.abs(view.values)
    g = backward(s.params, forward(s.params, s.x, s.s0), s.targets).ds[:, s.b, :]
    np.testing.assert_array_equal(total, np.abs(g))
    # the last loss's gradient at t = 1 is ~1e-12 of its value at T; the total is not
    assert np.linalg.norm(last[:, 0]) < 1e-10 * np.linalg.norm(last[:, -1])
    assert np.linalg.norm(total[:, 0]) > 1e-2 * np.linalg.norm(total[:, -1])
