"""The weight editor dock: click a heatmap entry or a table cell, type, and see the weight change."""
import numpy as np
import pytest
from conftest import click_weight, type_weight
from PySide6 import QtCore, QtWidgets

from rnnviz.state.session import Session
from rnnviz.ui.docks.weights import WeightEditorDock, parse_weight


@pytest.fixture
def session():
    s = Session()
    if s.config.n_s > 16:
        assert not s.apply(n_s=8)
    return s


@pytest.fixture
def dock(qtbot, session):
    widget = WeightEditorDock(session)
    qtbot.addWidget(widget)
    widget.resize(600, 600)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_parse_weight_messages():
    assert parse_weight(" -1.5e-2 ") == (-0.015, None)
    assert parse_weight("−2")[0] == -2.0
    for bad in ("nan", "inf", "-inf", "abc", "", "1e400"):
        value, message = parse_weight(bad)
        assert value is None and message, bad


def test_click_entry_and_type_value(qtbot, dock, session):
    i, j = 1, 2
    click_weight(qtbot, dock, i, j)
    assert dock.entry_editor.isVisible()
    assert dock.entry_editor.target == ("W", i, j)
    type_weight(qtbot, dock, "0.75")
    assert session.params.W[i, j] == 0.75
    assert dock.image.image[i, j] == 0.75
    assert not dock.entry_editor.isVisible()
    assert "W" in session.edited
    assert dock.matrix_combo.currentText() == "W (hand-edited)"
    dock.tabs.setCurrentIndex(1)
    assert dock.table.item(i, j).text() == "0.75"


@pytest.mark.parametrize("text", ["nan", "inf", "abc", "1e400"])
def test_invalid_text_changes_nothing(qtbot, dock, session, text):
    W0 = session.params.W.copy()
    click_weight(qtbot, dock, 0, 0)
    type_weight(qtbot, dock, text)
    np.testing.assert_array_equal(session.params.W, W0)
    assert dock.entry_editor.isVisible()              # the box stays open with its message
    assert dock.entry_editor.message.isVisibleTo(dock)
    assert "number" in dock.entry_editor.message.text()
    assert "unchanged" in dock.message.text()
    assert "W" not in session.edited


def test_huge_value_refused_by_session(qtbot, dock, session):
    W0 = session.params.W.copy()
    click_weight(qtbot, dock, 0, 1)
    type_weight(qtbot, dock, "1e300")
    np.testing.assert_array_equal(session.params.W, W0)
    assert dock.entry_editor.message.text()


def test_hover_shows_entry_value(qtbot, dock, session):
    scene_pos = dock.image.mapToScene(QtCore.QPointF(3.5, 2.5))
    qtbot.mouseMove(dock.graphics.viewport(), dock.graphics.mapFromScene(scene_pos))
    qtbot.waitUntil(lambda: dock.hover_label.text().startswith("W[3, 4]"), timeout=2000)
    assert dock.hover_label.text() == f"W[3, 4] = {session.params.W[2, 3]:.6g}"


def test_table_cell_edit(qtbot, dock, session):
    dock.tabs.setCurrentIndex(1)
    table = dock.table
    i, j = 2, 0
    rect = table.visualItemRect(table.item(i, j))
    table.setFocus()
    qtbot.mouseClick(table.viewport(), QtCore.Qt.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), QtCore.Qt.LeftButton, pos=rect.center())
    editors = table.viewport().findChildren(QtWidgets.QLineEdit)
    assert len(editors) == 1                          # the cell editor the double click opened
    editor = editors[0]
    editor.selectAll()
    qtbot.keyClicks(editor, "-0.5")
    qtbot.keyClick(editor, QtCore.Qt.Key_Return)     # the delegate commits on a queued call
    qtbot.waitUntil(lambda: session.params.W[i, j] == -0.5, timeout=2000)
    assert dock.image.image[i, j] == -0.5
    W1 = session.params.W.copy()
    table.item(0, 0).setText("letters")               # a bad edit is refused and reverted
    np.testing.assert_array_equal(session.params.W, W1)
    assert table.item(0, 0).text() == f"{W1[0, 0]:.3g}"
    assert "not a number" in dock.message.text()


def test_switch_matrix_and_edit_U(qtbot, dock, session):
    dock.matrix_combo.setCurrentIndex(dock.matrix_combo.findData("U"))
    assert dock.image.image.shape == session.params.U.shape
    click_weight(qtbot, dock, 0, 0)
    type_weight(qtbot, dock, "2")
    assert session.params.U[0, 0] == 2.0
    assert session.edited == {"U"}


def test_reset_restores_initial_matrix_and_edit_survives_timestep(qtbot, dock, session):
    W0 = session.params.W.copy()
    click_weight(qtbot, dock, 0, 0)
    type_weight(qtbot, dock, "1.25")
    session.set_timestep(min(2, session.config.T - 1))
    assert session.params.W[0, 0] == 1.25
    assert dock.image.image[0, 0] == 1.25
    qtbot.mouseClick(dock.reset_button, QtCore.Qt.LeftButton)
    np.testing.assert_array_equal(session.params.W, W0)
    np.testing.assert_array_equal(dock.image.image, W0)
    assert dock.matrix_combo.currentText() == "W"


def test_large_matrix_has_no_table_but_heatmap(dock, session):
    assert not session.apply(n_s=40)
    assert dock.image.image.shape == (40, 40)
    assert not dock.tabs.isTabEnabled(1)


def test_click_maps_to_the_right_entry_after_a_size_change(qtbot, dock, session):
    assert not session.apply(n_s=5)
    qtbot.wait(20)
    click_weight(qtbot, dock, 4, 1)
    assert dock.entry_editor.target == ("W", 4, 1)
    type_weight(qtbot, dock, "-3")
    assert session.params.W[4, 1] == -3.0
    dock.matrix_combo.setCurrentIndex(dock.matrix_combo.findData("V"))   # V is n_y x n_s = 8 x 5
    click_weight(qtbot, dock, 7, 4)
    assert dock.entry_editor.target == ("V", 7, 4)


def test_escape_closes_the_entry_editor_without_change(qtbot, dock, session):
    W0 = session.params.W.copy()
    click_weight(qtbot, dock, 3, 3)
    line = dock.entry_editor.line
    line.selectAll()
    qtbot.keyClicks(line, "0.5")
    qtbot.keyClick(line, QtCore.Qt.Key_Escape)
    assert not dock.entry_editor.isVisible()
    np.testing.assert_array_equal(session.params.W, W0)
