"""The parameter dock, driven as a user would: typing, dragging, choosing presets."""
import numpy as np
import pytest
from PySide6 import QtCore

from rnnviz.state import presets
from rnnviz.state.session import Session
from rnnviz.ui.docks.parameters import ParameterDock


@pytest.fixture
def session():
    return Session()


@pytest.fixture
def events(session):
    seen = []
    session.events.subscribe(lambda name, *a, **kw: seen.append(name))
    return seen


@pytest.fixture
def dock(qtbot, session):
    widget = ParameterDock(session)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def type_into(qtbot, spin, text):
    """Select a spin box's text, type over it and press Enter, as a user does."""
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, QtCore.Qt.Key_Return)


def test_dock_identity_and_every_field_has_an_editor_with_a_tooltip(dock, session):
    assert dock.objectName() == "editors"
    for name in ("n_x", "n_s", "n_y", "T", "m", "activation", "init", "spectral_radius",
                 "sparse_k", "u_scale", "v_scale", "ba_scale", "by_scale", "seed",
                 "input_pattern", "target_pattern", "copy_delay", "text", "initial_state",
                 "dtype"):
        binding = dock.fields[name]
        assert binding.editor.toolTip(), name
        assert binding.value() == getattr(session.config, name), name
    assert "s_t = f(U x_t + W s_{t-1} + b_a)" in dock.fields["n_s"].editor.toolTip()
    assert "ρ(W)" in dock.fields["spectral_radius"].slider.toolTip()


def test_typing_hidden_size_changes_session_and_requests_recompute(qtbot, dock, session, events):
    new = 12 if session.config.n_s != 12 else 13
    request_id = session.request_id
    type_into(qtbot, dock.fields["n_s"].editor, str(new))
    assert session.config.n_s == new
    assert session.params.W.shape == (new, new)
    assert "config" in events          # the main window turns this event into a compute request
    assert session.request_id > request_id and session.needs_compute
    assert not dock.fields["n_s"].error.isVisibleTo(dock)


def test_radius_slider_applies_while_dragging(qtbot, dock, session, events):
    from PySide6 import QtWidgets
    field = dock.fields["spectral_radius"]
    slider = field.slider
    option = QtWidgets.QStyleOptionSlider()
    slider.initStyleOption(option)
    handle = slider.style().subControlRect(QtWidgets.QStyle.CC_Slider, option,
                                           QtWidgets.QStyle.SC_SliderHandle, slider).center()
    qtbot.mousePress(slider, QtCore.Qt.LeftButton, pos=handle)
    seen = []
    for dx in (15, 30, 60):
        qtbot.mouseMove(slider, handle + QtCore.QPoint(dx, 0))
        assert slider.isSliderDown()                       # still dragging
        seen.append(session.config.spectral_radius)
        assert field.spin.value() == pytest.approx(seen[-1])
        rho = np.max(np.abs(np.linalg.eigvals(session.params.W)))
        assert rho == pytest.approx(seen[-1], rel=1e-9)    # W already rescaled mid-drag
    qtbot.mouseRelease(slider, QtCore.Qt.LeftButton, pos=handle + QtCore.QPoint(60, 0))
    assert seen[0] < seen[1] < seen[2]
    assert events.count("config") >= 3
    lo, hi = field.lo, field.hi
    assert seen[-1] == pytest.approx(lo + (hi - lo) * slider.value() / field.STEPS)
    before = session.config.spectral_radius
    slider.setFocus()
    qtbot.keyClick(slider, QtCore.Qt.Key_Right)
    assert session.config.spectral_radius == pytest.approx(before + (hi - lo) / field.STEPS)


def test_impossible_combination_is_explained_next_to_the_control(qtbot, dock, session):
    type_into(qtbot, dock.fields["n_x"].editor, "4")
    type_into(qtbot, dock.fields["n_y"].editor, "4")
    dock.fields["target_pattern"].editor.setCurrentIndex(
        dock.fields["target_pattern"].editor.findData("next"))
    assert session.config.target_pattern == "next"
    before = session.config
    type_into(qtbot, dock.fields["n_y"].editor, "3")
    assert session.config == before                       # nothing changed
    assert dock.fields["n_y"].editor.value() == 3         # the user's value stays, marked
    assert dock.fields["n_y"].invalid
    shown = [name for name, b in dock.fields.items() if b.error.isVisibleTo(dock)]
    assert "n_y" in shown
    assert "n_y" in dock.fields["n_y"].error.text() or "n_x" in dock.fields["n_y"].error.text()
    # a valid change lands (n_x follows to 3): the refused n_y now fits and both apply
    type_into(qtbot, dock.fields["n_x"].editor, "3")
    assert (session.config.n_x, session.config.n_y) == (3, 3)
    assert not any(b.error.isVisibleTo(dock) for b in dock.fields.values())
    assert not dock.fields["n_y"].invalid


def test_revert_link_restores_the_session_value(qtbot, dock, session):
    type_into(qtbot, dock.fields["n_x"].editor, "4")
    type_into(qtbot, dock.fields["n_y"].editor, "4")
    dock.fields["target_pattern"].editor.setCurrentIndex(
        dock.fields["target_pattern"].editor.findData("next"))
    type_into(qtbot, dock.fields["n_y"].editor, "2")
    assert dock.fields["n_y"].error.isVisibleTo(dock)
    dock.fields["n_y"].error.linkActivated.emit("revert")
    assert dock.fields["n_y"].editor.value() == session.config.n_y == 4
    assert not dock.fields["n_y"].error.isVisibleTo(dock)


def test_session_change_updates_editors_without_echo(dock, session, events):
    target = 7 if session.config.n_s != 7 else 9
    session.apply(n_s=target, activation="relu")
    assert dock.fields["n_s"].editor.value() == target
    assert dock.fields["activation"].value() == "relu"
    assert events.count("config") == 1        # the editors did not write the value back


def test_choosing_a_preset_loads_it(qtbot, dock, session):
    chosen = presets.list_presets()[-1]
    combo = dock.preset_combo
    loads = []
    session.events.subscribe(lambda name, **kw: loads.append(kw) if name == "loaded" else None)
    combo.setCurrentIndex(combo.findData(chosen.name))   # a user's pick sends both signals
    combo.activated.emit(combo.currentIndex())
    assert len(loads) == 1
    assert session.config == chosen.config
    assert dock.fields["n_s"].editor.value() == chosen.config.n_s
    assert dock.fields["spectral_radius"].spin.value() == pytest.approx(
        chosen.config.spectral_radius)
    assert session.preset_name == chosen.name
    # edit away from it, then choose the same entry again: the preset is reloaded
    type_into(qtbot, dock.fields["seed"].editor, str(chosen.config.seed + 1))
    assert session.config != chosen.config
    assert combo.currentData() == chosen.name
    combo.activated.emit(combo.currentIndex())     # what QComboBox sends when a user re-picks
    assert session.config == chosen.config


def test_redraw_and_reset_buttons(qtbot, dock, session):
    seed = session.config.seed
    qtbot.mouseClick(dock.redraw_button, QtCore.Qt.LeftButton)
    assert session.config.seed != seed
    assert dock.fields["seed"].editor.value() == session.config.seed
    W0 = session.params.W.copy()
    session.set_weight("W", 0, 0, 0.123)
    qtbot.mouseClick(dock.reset_button, QtCore.Qt.LeftButton)
    np.testing.assert_array_equal(session.params.W, W0)
    assert "W" not in session.edited


def test_text_input_derives_its_sizes_and_applies_on_editing_finished(qtbot, dock, session):
    """Issue 13 item 5: choosing text input or typing a new sentence sets T, n_x and n_y from
    the text (it used to be refused until they were fixed by hand) and says so."""
    said = []
    session.events.subscribe(lambda name, **p: said.append(p["text"]) if name == "message" else None)
    assert session.config.text == "hello world" and session.config.n_x == 8   # 8 distinct chars
    combo = dock.fields["input_pattern"].editor
    assert session.config.T > len(session.config.text)
    combo.setCurrentIndex(combo.findData("text"))
    assert session.config.input_pattern == "text" and session.config.T == 11
    assert dock.fields["T"].value() == 11 and said and "T = 11" in said[-1]
    assert not any(b.error.isVisibleTo(dock) for b in dock.fields.values())
    edit = dock.fields["text"].editor
    assert edit.isEnabled()
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "hello world!")                   # 9 distinct characters
    assert session.config.text == "hello world"             # nothing applied while typing
    qtbot.keyClick(edit, QtCore.Qt.Key_Return)
    c = session.config
    assert (c.text, c.n_x, c.n_y, c.T) == ("hello world!", 9, 9, 12)
    assert (dock.fields["n_x"].value(), dock.fields["n_y"].value()) == (9, 9)
    assert "n_x = 9" in said[-1] and "T = 12" in said[-1]
    assert not dock.fields["text"].invalid


def test_loading_a_preset_drops_refused_values(qtbot, dock, session):
    type_into(qtbot, dock.fields["n_y"].editor, "3")          # refused: 'next' needs n_y == n_x
    assert dock.fields["n_y"].invalid
    preset = presets.list_presets()[0]
    session.load_preset(preset.name)
    assert not dock.fields["n_y"].invalid
    assert not any(b.error.isVisibleTo(dock) for b in dock.fields.values())
    assert dock.fields["n_y"].editor.value() == preset.config.n_y
    assert dock.preset_combo.currentData() == preset.name


def test_mouse_wheel_over_an_unfocused_control_does_not_change_it(qtbot, dock, session):
    from PySide6 import QtGui, QtWidgets
    spin = dock.fields["T"].editor
    dock.fields["n_s"].editor.setFocus()
    before = session.config.T

    def wheel(widget):
        centre = QtCore.QPointF(widget.rect().center())
        event = QtGui.QWheelEvent(centre, QtCore.QPointF(widget.mapToGlobal(centre.toPoint())),
                                  QtCore.QPoint(0, 0), QtCore.QPoint(0, 120),
                                  QtCore.Qt.NoButton, QtCore.Qt.NoModifier,
                                  QtCore.Qt.NoScrollPhase, False)
        QtWidgets.QApplication.sendEvent(widget, event)

    wheel(spin)
    assert session.config.T == before and spin.value() == before
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=1000)
    wheel(spin)
    assert session.config.T == before + 1
