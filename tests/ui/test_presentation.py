"""Presentation mode: F5 toggles projector styling and chosen panels, and restores the exact layout."""
from conftest import flush
from PySide6 import QtCore, QtGui

from rnnviz.state.session import Session
from rnnviz.ui.actions.presentation import EXPLANATION_SCALE
from rnnviz.ui.main_window import TIME_VIEWS
from rnnviz.ui.style import NORMAL, PRESENTATION


def snapshot(window):
    """Everything presentation mode may change: layout, shown panels, fonts, style."""
    flush(window)
    return {
        "state": bytes(window.saveState()),
        "splitters": [bytes(s.saveState()) for s in window.splitters],
        "views": {n: not v.isHidden() for n, v in window.views.items()},
        "docks": {n: not d.isHidden() for n, d in window.docks.items()},
        "style": window.style_,
        "ticks": {n: v.plot_item.getAxis("bottom").style["tickFont"].pointSizeF()
                  for n, v in window.views.items()},
        "timebar_font": window.timebar.font().pointSizeF(),
        "explanation": window.docks["explanation"].font_scale,
        "text_pt": window.docks["explanation"].browser.font().pointSizeF(),
        "size": window.size(),
    }


def test_f5_toggles_and_restores_the_exact_layout(qtbot, window):
    window.docks["weights"].raise_()
    before = snapshot(window)
    p = window.presentation
    assert p.action.shortcut() == QtGui.QKeySequence(QtCore.Qt.Key_F5)
    assert p.action in window.menus["view"].actions()
    window.activateWindow()
    qtbot.keyClick(window, QtCore.Qt.Key_F5)
    assert p.active and p.action.isChecked()
    during = snapshot(window)
    assert during["style"] is PRESENTATION
    assert all(pt == PRESENTATION.tick_pt for pt in during["ticks"].values())
    assert during["docks"]["explanation"] and not during["docks"]["editors"]
    assert not during["docks"]["weights"]
    # every plot but the connectivity strip (its height goes to the gradient flow)
    # (the gate heatmaps: shown for a gated cell only, and this one is vanilla)
    assert during["views"] == {n: n not in ("connectivity", "gates", "spectral") for n in window.views}
    assert during["explanation"] == EXPLANATION_SCALE
    assert during["text_pt"] > before["text_pt"] * 1.5
    assert window.session.view["presentation"] is True
    qtbot.keyClick(window, QtCore.Qt.Key_F5)
    assert not p.active and window.session.view["presentation"] is False
    assert snapshot(window) == before
    assert window.style_ is NORMAL


def test_panels_are_configurable_and_saved_with_the_session(qtbot, make_window, tmp_path):
    window = make_window()
    p = window.presentation
    assert p.set_panels({"spectrum": False, "weights": True, "explanation": False}) == []
    p.set_active(True)
    flush(window)
    assert window.views["spectrum"].isHidden() and not window.views["flow"].isHidden()
    assert not window.docks["weights"].isHidden() and window.docks["explanation"].isHidden()
    window.session.save_file(tmp_path / "talk.json")
    p.set_active(False)
    assert not window.views["spectrum"].isHidden()

    other = Session()
    other.load_file(tmp_path / "talk.json")
    assert other.view["presentation_panels"] == {"spectrum": False, "weights": True,
                                                 "explanation": False}
    second = make_window(other)          # saved while presenting: opens presenting
    qtbot.waitUntil(lambda: second.presentation.active)
    flush(second)
    assert second.views["spectrum"].isHidden() and not second.docks["weights"].isHidden()
    assert second.style_ is PRESENTATION


def plot_height(view) -> float:
    """Height in pixels of a view's plotting area (its ViewBox)."""
    return view.plot_item.vb.sceneBoundingRect().height()


def test_at_1280x800_the_flow_plot_keeps_a_readable_height(qtbot, window):
    """Four stacked time plots left the flow's plot a sliver in projector fonts: now the
    connectivity strip is hidden and the flow gets about half the time column."""
    window.resize(1280, 800)
    flush(window)
    p = window.presentation
    p.set_active(True)
    flush(window)
    qtbot.wait(50)
    flush(window)
    flow, states = plot_height(window.views["flow"]), plot_height(window.views["states"])
    assert flow >= 80 and flow >= 0.8 * states, (flow, states)
    assert window.views["connectivity"].isHidden()
    # the strip can be chosen back (configurable like every panel); the flow keeps its share
    assert p.set_panels({"connectivity": True}) == []
    flush(window)
    qtbot.wait(50)
    flush(window)
    assert not window.views["connectivity"].isHidden()
    sizes = dict(zip(TIME_VIEWS, window.time_splitter.sizes()))
    assert sizes["flow"] == max(sizes.values()) and sizes["connectivity"] > 0
    p.set_active(False)


def test_panels_dialog_lists_every_panel(window):
    from rnnviz.ui.actions.presentation import PanelsDialog
    p = window.presentation
    dialog = PanelsDialog(p.names(), p.panels(), window)
    chosen = dialog.chosen()
    assert set(chosen) == set(window.views) | set(window.docks)
    assert chosen["explanation"] and not chosen["editors"] and chosen["states"]
    assert not chosen["connectivity"] and chosen["flow"]
    dialog.list.item(0).setCheckState(QtCore.Qt.Unchecked)
    assert dialog.chosen()[dialog.list.item(0).data(QtCore.Qt.UserRole)] is False
    dialog.deleteLater()


def test_opening_a_session_while_presenting_keeps_presenting(window):
    p = window.presentation
    p.set_active(True)
    window.session.load_preset("vanishing")     # a preset's view says presentation is off
    flush(window)
    assert not p.active and window.style_ is NORMAL
    p.set_active(True)
    window.session.set_view(presentation=True)
    doc = window.session.to_dict()
    window.session.from_dict(doc)
    flush(window)
    assert p.active and window.docks["editors"].isHidden()
