"""Presentation mode: F5 toggles projector styling and chosen panels, and restores the exact layout."""
from conftest import flush
from PySide6 import QtCore, QtGui

from rnnviz.state.session import Session
from rnnviz.ui.actions.presentation import EXPLANATION_SCALE
from rnnviz.ui.docks.explanation import MIN_PRESENTING_SCALE
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
    # the explanation's text as large as fits its dock without scrolling (issue 13 item 2)
    assert MIN_PRESENTING_SCALE <= during["explanation"] <= EXPLANATION_SCALE
    assert during["text_pt"] >= before["text_pt"] * MIN_PRESENTING_SCALE - 0.01
    assert not window.docks["explanation"].needs_scrolling()
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


# ----- issue 13 item 1: F5, F5 leaves every plot's axes exactly as they were ------------------
def axis_picture(axis):
    """What an axis draws: its tick labels (text and where) and its size."""
    from PySide6 import QtGui
    picture = QtGui.QPicture()
    painter = QtGui.QPainter(picture)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    texts = [] if specs is None else [(text, round(rect.center().x()), round(rect.center().y()))
                                      for rect, _, text in specs[2]]
    g = axis.geometry()
    return {"size": (round(g.width()), round(g.height())), "texts": texts,
            "font": axis.style["tickFont"].pointSizeF() if axis.style["tickFont"] else None,
            "spacing": axis.tickSpacing(*sorted(axis.range), max(g.width(), g.height()))}


def axes_snapshot(window):
    """Every shown plot's axes (fonts, sizes, tick spacing, tick labels) and view ranges."""
    flush(window)
    out = {}
    for name, view in window.views.items():
        if not view.isVisible():            # hidden, or on a tab not shown (training plots)
            continue
        vb = view.plot_item.vb
        width = max(vb.width(), 1.0)
        out[name] = {"axes": [axis_picture(axis) for axis in view.axes()],
                     "range": vb.viewRange(), "pixel": [(r[1] - r[0]) / width
                                                         for r in vb.viewRange()]}
    return out


# x-linked time plots align by screen position: where their plot areas differ by a pixel, the
# range a plot shows depends on which of them set it last, by up to that pixel or two.
PIXELS = 2


def assert_same_axes(before, after):
    assert before.keys() == after.keys()
    for name in before:
        b, a = before[name], after[name]
        for axis_b, axis_a in zip(b["axes"], a["axes"], strict=True):
            assert {k: v for k, v in axis_a.items() if k != "texts"} == \
                {k: v for k, v in axis_b.items() if k != "texts"}, name
            # the same labels in the same places, to PIXELS (see the ranges below)
            assert [t for t, _, _ in axis_a["texts"]] == [t for t, _, _ in axis_b["texts"]], name
            for (_, xa, ya), (_, xb, yb) in zip(axis_a["texts"], axis_b["texts"]):
                assert abs(xa - xb) <= PIXELS and abs(ya - yb) <= PIXELS, (name, axis_a, axis_b)
        for (lo0, hi0), (lo1, hi1), pixel in zip(b["range"], a["range"], b["pixel"]):
            assert abs(lo1 - lo0) <= PIXELS * pixel and abs(hi1 - hi0) <= PIXELS * pixel, (name, b["range"],
                                                                          a["range"])


def test_f5_twice_leaves_every_axis_as_it_was(qtbot, window):
    """F5, F5 used to pin every time axis's width to one tick label's ("10203040")."""
    window.resize(1280, 800)
    flush(window)
    qtbot.wait(20)
    before = axes_snapshot(window)
    assert all(len(v["axes"][1]["texts"]) >= 3 for v in before.values())   # bottom ticks
    window.activateWindow()
    for _ in range(2):                      # twice there and back
        qtbot.keyClick(window, QtCore.Qt.Key_F5)
        flush(window)
        assert window.presentation.active
        qtbot.keyClick(window, QtCore.Qt.Key_F5)
        flush(window)
        qtbot.wait(20)
        assert_same_axes(before, axes_snapshot(window))
    window.session.load_preset("vanishing")     # and new results draw on healthy axes
    flush(window)
    for name, view in window.views.items():
        bottom = view.plot_item.getAxis("bottom")
        assert bottom.geometry().width() >= 0.9 * view.plot_item.vb.width(), name
