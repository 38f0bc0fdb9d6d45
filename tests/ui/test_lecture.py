"""Issue 13, "what a lecturer hit": presentation mode on small projectors, the demo's story, the
text preset, the guide, and numbers that describe the weights in use. Each test failed before
its fix (see the issue's item in the docstring)."""
import numpy as np
import pytest
from conftest import flush, wait_for_result
from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.state import labels
from rnnviz.state.session import Session
from rnnviz.ui.style import PRESENTATION


def settle(qtbot, window, rounds=3):
    for _ in range(rounds):
        flush(window)
        qtbot.wait(20)


def text_rects(axis):
    """Scene rectangles of an axis's tick labels as it draws them."""
    image = QtGui.QImage(10, 10, QtGui.QImage.Format_ARGB32)
    painter = QtGui.QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [] if specs is None else [axis.mapRectToScene(QtCore.QRectF(r)) for r, _, _ in specs[2]]


def overlapping(rects):
    return [(a, b) for i, a in enumerate(rects) for b in rects[i + 1:] if a.intersects(b)]


def plot_area(view):
    r = view.plot_item.vb.sceneBoundingRect()
    return r.width() * r.height()


def presenting(qtbot, window, size, preset="demo"):
    window.session.load_preset(preset)
    window.resize(*size)
    wait_for_result(qtbot, window)
    window.presentation.set_active(True)
    settle(qtbot, window)
    return window


# ----- item 2: presentation mode legible at 1280x800 and 1024x768 ------------------------------
@pytest.mark.parametrize("size", [(1280, 800), (1024, 768)])
@pytest.mark.parametrize("preset", ["demo", "vanishing"])
def test_presentation_is_legible_on_small_projectors(qtbot, window, size, preset):
    presenting(qtbot, window, size, preset)
    views = {n: v for n, v in window.views.items() if v.isVisible()}
    flow = views["flow"]
    # the story panel (the gradient flow) is the largest, with a plot worth reading
    assert flow.plot_item.vb.height() >= (140 if size[1] >= 800 else 120)
    for name, view in views.items():
        if name != "flow":
            assert plot_area(flow) > plot_area(view), name
            assert flow.width() * flow.height() > view.width() * view.height(), name
    # its legend sits above the plot, in at most two rows, clear of the axis caption
    legend = flow.legend.sceneBoundingRect()
    assert legend.bottom() <= flow.plot_item.vb.sceneBoundingRect().top() + 1
    assert flow.legend.layout.rowCount() <= 2
    left = flow.plot_item.getAxis("left")
    caption = left.label.mapRectToScene(left.label.boundingRect())
    assert not caption.intersects(legend) or caption.top() >= legend.bottom() - 1
    # every caption fits along its axis (none cut, none into a neighbour)
    for name, view in views.items():
        for axis in view.axes():
            if axis.label.isVisible() and axis.labelText:
                assert view.axis_label_fits(axis), (name, axis.labelText)
        assert view.title_fits(view.plot_item.titleLabel), name
    # colour-bar tick labels never collide
    for name in ("inputs", "states", "gradients"):
        rects = text_rects(views[name].colorbar.axis)
        assert rects and not overlapping(rects), name
    # the gradient heatmap's box leaves its title alone
    grads = views["gradients"]
    box = QtCore.QRectF(grads.choice.geometry())
    title = grads.plot_item.titleLabel
    words = title.mapRectToScene(title.item.mapRectToParent(title.item.boundingRect()))
    assert not box.intersects(grads.graphics.mapFromScene(words).boundingRect())
    # the explanation: a column, not a quarter of the screen, and no scrolling
    explanation = window.docks["explanation"]
    assert explanation.width() <= 0.26 * window.width()
    assert not explanation.needs_scrolling()
    window.presentation.set_active(False)


@pytest.mark.parametrize("size", [(1280, 800), (1024, 768)])
def test_on_a_projector_the_softmax_caption_keeps_target_and_arg_max_whole(qtbot, window, size):
    """It read 'target 5 · arg max 7 · loss …': cut where the loss (already in the title) would
    do; now it drops the loss instead, and names the engine's target and arg max."""
    presenting(qtbot, window, size)
    view, s = window.views["softmax"], window.session
    for t in (s.config.T - 1, 10):
        s.set_timestep(t)
        view.flush()
        result, b = s.result, s.b
        y = np.asarray(result.trace.y[:, b, t], dtype=np.float64)
        target = int(np.asarray(s.targets)[b, t])
        text = view.readout.text()
        assert view.readout.fits() and "…" not in text, (size, text)
        assert f"target {view.name(target)}" in text and \
            f"arg max {view.name(int(np.argmax(y)))}" in text, text
        assert f"loss {float(result.grads.loss_t[b, t]):.3g}" in view.plot_item.titleLabel.text
        assert "loss at t" in view.readout.toolTip()


def test_softmax_labels_never_overlap_each_other_or_the_loss(qtbot, window):
    """'arg max' was drawn over 't = 50: loss', and the target and arg-max labels overlapped."""
    presenting(qtbot, window, (1280, 800))
    view, s = window.views["softmax"], window.session
    checked = 0
    for t in range(s.config.T):
        s.set_timestep(t)
        view.flush()
        view.graphics.grab()            # text items place themselves when painted
        if not (view.target_text.isVisible() and view.argmax_text.isVisible()):
            continue
        a = view.target_text.sceneBoundingRect()
        b = view.argmax_text.sceneBoundingRect()
        assert not a.intersects(b), t
        assert view.plot_item.vb.sceneBoundingRect().contains(b.center()), t
        checked += 1
        assert "loss" in view.plot_item.titleLabel.text and f"t = {t + 1}" in \
            view.plot_item.titleLabel.text
    assert checked > 5


def test_one_status_message_at_a_time_and_the_warning_comes_back(qtbot, window):
    """The status bar printed two messages on top of each other; the red warning unreadable."""
    status = window.status
    status.showMessage("Presentation mode: F5 returns to the normal layout", 5000)
    status.set_warning("values overflowed from step 132 on")
    assert status.shown_texts() == ["Presentation mode: F5 returns to the normal layout"]
    assert not status.warning.isVisible()
    status.clearMessage()
    assert status.warning.isVisible() and status.shown_texts() == [status.warning.text()]
    assert "overflowed" in status.warning.text()
    status.set_warning(None)
    assert status.shown_texts() == []


def test_the_parameters_dock_is_usable_live_when_presenting(qtbot, window):
    """It kept desktop-size fonts, and the play button stayed a 12 px glyph."""
    p = window.presentation
    assert p.set_panels({"editors": True}) == []
    p.set_active(True)
    settle(qtbot, window)
    dock = window.docks["editors"]
    assert not dock.isHidden()
    assert dock.fields["spectral_radius"].spin.font().pointSizeF() >= PRESENTATION.font_pt
    assert window.timebar.play_button.iconSize().height() >= 24
    p.set_active(False)
    settle(qtbot, window)
    assert window.timebar.play_button.iconSize().height() < 24
    assert dock.fields["spectral_radius"].spin.font().pointSizeF() < PRESENTATION.font_pt


# ----- item 3: the flow's y range follows the measured curves ---------------------------------
@pytest.mark.parametrize("preset", ["demo", "edge_of_chaos", "exploding"])
def test_the_flow_range_follows_the_measured_curves_and_labels_the_bound(qtbot, window, preset):
    window.session.load_preset(preset)
    if preset == "demo":
        window.session.apply(spectral_radius=1.73)        # the 10¹⁹ bound
    wait_for_result(qtbot, window)
    settle(qtbot, window)
    view = window.views["flow"]
    lo, hi = view.plot_item.vb.viewRange()[1]
    measured = np.concatenate([view.curve_data(a)[1] for a in
                               ("grad_norm", "last_loss_grad_norm", "log10_jacobian_norm")])
    measured = measured[np.isfinite(measured)]
    _, bound = view.curve_data("log10_bound")
    assert lo <= measured.min() and measured.max() <= hi
    span = measured.max() - measured.min()
    assert hi - lo <= 1.6 * span + 1.0          # the curves fill the plot, not a band
    assert bound.max() > hi                     # the bound runs off the top ...
    label = view.bound_label
    assert label.isVisible() and "bound" in label.toPlainText()
    assert "↑" in label.toPlainText()           # ... and says so, with its value
    inside = view.plot_item.vb.sceneBoundingRect().adjusted(-2, -2, 2, 2)
    assert inside.contains(label.sceneBoundingRect())


# ----- item 4: the demo's story shows at once ------------------------------------------------
def test_the_demo_shows_the_fade_the_inputs_and_the_way_back(qtbot, make_window):
    window = make_window(Session.demo())
    s, grads = window.session, window.views["gradients"]
    assert grads.choice.currentText() == "last loss only"
    last = np.abs(grads.values)
    assert np.linalg.norm(last[:, 0]) < 1e-4 * np.linalg.norm(last[:, -1])   # the fade
    inputs = window.views["inputs"]
    np.testing.assert_array_equal(inputs.values, s.result.trace.x[:, s.b, :])
    assert not inputs.isHidden() and "Inputs x_t" in inputs.plot_item.titleLabel.text
    assert window.presentation.panels()["inputs"]
    caption = window.views["flow"].plot_item.getAxis("bottom").labelText
    assert "←" in caption and "back in time" in caption
    # the flow draws the heatmap's choice bold: the last loss's gradient, the total thin
    pens = {a: window.views["flow"].curves[a].opts["pen"].widthF()
            for a in ("grad_norm", "last_loss_grad_norm")}
    assert pens["last_loss_grad_norm"] > pens["grad_norm"]


# ----- item 5: the text preset ---------------------------------------------------------------
def test_the_text_preset_names_characters_and_shows_its_sentence(qtbot, window):
    window.session.load_preset("text")
    wait_for_result(qtbot, window)
    settle(qtbot, window)
    c = window.session.config
    softmax = window.views["softmax"]
    ticks = softmax.plot_item.getAxis("bottom")._tickLevels[0]
    assert [name for _, name in ticks] == labels.classes(c)
    assert "␣" in [name for _, name in ticks]
    title = window.views["inputs"].plot_item.titleLabel.text
    assert c.text[:20] in title
    assert "'" in softmax.readout.toolTip()          # target 'a' · arg max 'm'


# ----- item 6: the guide -----------------------------------------------------------------------
def test_f1_opens_a_guide_to_every_panel_with_its_formula(qtbot, window):
    from rnnviz.ui.actions import help
    action = next(a for a in window.findChildren(QtGui.QAction)
                  if a.shortcut() == QtGui.QKeySequence(QtCore.Qt.Key_F1))
    action.trigger()
    dialog = next(w for w in QtWidgets.QApplication.topLevelWidgets()
                  if w.objectName() == "shortcuts_dialog" and w.isVisible())
    assert dialog.tabs.currentWidget() is dialog.guide
    text = dialog.guide.toPlainText()
    for name in [*window.views, *window.docks]:
        assert name in help.PANEL_GUIDE, name
    for must in ("st = f(U xt + W st−1 + ba)", "yt = softmax(V st + by)", "(γ σmax(W))T−t",
                 "‖∂sT/∂st‖ = ‖Πk=t+1..T diag(f′(ak)) W‖", "‖∂zt[k]/∂xt′‖", "Inputs xt",
                 "∂LT/∂st = (∂sT/∂st)T ∂LT/∂sT", "−log yt[target]"):
        assert must in text.replace("\n", " "), must
    dialog.close()


# ----- items 7-12: numbers that say what they count, for the weights in use -------------------
def test_orthogonal_w_is_on_the_unit_circle_not_outside(qtbot, window):
    window.session.load_preset("orthogonal")
    wait_for_result(qtbot, window)
    readout = window.views["spectrum"].readout.toolTip()
    n = window.session.config.n_s
    assert "0 outside" in readout and f"{n} on it" in readout


def test_the_connectivity_caption_says_what_it_counts(qtbot, window):
    window.session.load_preset("orthogonal")
    wait_for_result(qtbot, window)
    qtbot.waitUntil(lambda: window.views["connectivity"].values is not None)
    text = window.views["connectivity"].readout.toolTip()
    assert "within" not in text and "≥ 1 % of the strongest" in text and "≥ 50 %" in text


def test_t_equals_1_is_not_an_overflow(qtbot, window):
    window.session.apply(T=1)
    wait_for_result(qtbot, window)
    view = window.views["flow"]
    text = view.rate_label.text
    assert "overflow" not in text and "T = 1" in text
    assert PRESENTATION.warning not in text and view.style_.warning not in text
    assert not window.status.warning.isVisible()


def test_the_overflow_preset_shades_only_its_non_finite_steps(qtbot, window):
    window.session.load_preset("overflow")
    r = wait_for_result(qtbot, window)
    s_bad = np.flatnonzero(~np.isfinite(r.trace.s[:, 0, :]).all(axis=0))
    assert 0 < s_bad.size < r.trace.s.shape[2]            # steps 132..150, not all 150
    for name in ("states", "flow"):
        regions = window.views[name]._regions
        shaded = set()
        for region in regions:
            a, b = region.getRegion()
            shaded.update(range(int(round(a + 0.5)), int(round(b - 0.5)) + 1))
        assert shaded == set((s_bad + 1).tolist()), name


def test_a_hand_edit_updates_every_number_that_describes_w(qtbot, window):
    s = window.session
    weights = window.docks["weights"]
    weights.hovered = (1, 1)                         # the mouse over W[2, 2]
    weights._describe_hovered()
    states = window.views["states"]
    states.hovered = (0, 5)
    assert s.set_weight("W", 1, 1, 5.0) == []
    r = wait_for_result(qtbot, window)
    settle(qtbot, window)
    rho = float(r.spectrum.spectral_radius)
    assert rho > 4.9
    note = window.docks["editors"].radius_note
    assert note.isVisible() and "not the current W's" in note.text() and f"{rho:.3g}" in note.text()
    weights.refresh()
    assert weights.hover_label.text() == "W[2, 2] = 5"
    assert states.readout.text().endswith(f"s = {r.trace.s[0, s.b, 5]:.4g}")
    assert f"{rho:.3g}" in window.status.rho.text()


def test_labels_read_as_they_mean(qtbot, window):
    from rnnviz.ui.widgets.axes import power_of_ten
    title = window.views["spectrum"].plot_item.titleLabel.text
    assert "·" not in title and "ρ(W) = 0.9," in title
    window.session.apply(n_s=1)
    wait_for_result(qtbot, window)
    assert window.views["spectrum"].readout.toolTip().startswith("1 eigenvalue:")
    assert all("^" not in power_of_ten(k) for k in np.linspace(-20, 5, 101))
    window.session.apply(n_s=32, activation="relu")
    wait_for_result(qtbot, window)
    states = window.views["states"]
    lo, hi = states.image.getLevels()
    assert lo == 0.0 and hi > 0 and states.shown_colour == "positive"


def test_a_short_colour_bar_keeps_its_scale(qtbot, window):
    """A caption shortened to fit a short colour bar must still say ×10³⁷ (else '7' reads 7)."""
    presenting(qtbot, window, (1280, 800), "overflow")
    states = window.views["states"]
    assert states.colorbar.axis.scale != 1.0
    assert "×10³⁷" in states.colorbar.axis.labelText
    assert states.axis_label_fits(states.colorbar.axis)
    window.presentation.set_active(False)
