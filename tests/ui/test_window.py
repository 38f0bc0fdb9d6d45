"""The main window driven as a user drives it; plots checked against the engine's numbers."""
import numpy as np
import pytest
from conftest import (
    EventCounter,
    click_weight,
    drag_slider_to,
    flush,
    type_weight,
    wait_for_result,
)
from PySide6 import QtCore, QtWidgets

from rnnviz.state.compute import compute
from rnnviz.ui.views.flow import CURVES


def test_window_exposes_the_contract(window):
    assert set(window.views) == {"inputs", "states", "gradients", "softmax", "flow", "spectrum",
                                 "connectivity", "gates", "loss", "profile", "grad_norm",
                                 "spectral"}
    for name, view in window.views.items():
        assert view.plot_item in view.plot_items() and view.plot_item.scene() is view.graphics.scene()
        assert view.title and view.graphics.toolTip()
        draws = view.draw_count
        view.refresh()                              # redraws from the session, now
        assert view.draw_count == draws + 1, name
    assert {"editors", "weights", "explanation"} <= set(window.docks)
    assert set(window.menus) == {"file", "edit", "view", "presets", "training", "help"}
    assert window.worker.is_running() and window.timebar is not None
    for view in ("inputs", "states", "gradients", "flow", "connectivity"):
        item = window.views[view].plot_item
        bottom = item.getAxis("bottom")
        assert bottom.labelText.startswith(("time step t", "input step t′", "t "))
        assert bottom.label.isVisible() == (view == "flow")   # one caption for the column
        assert item.getAxis("left").labelText
    assert "←" in window.views["flow"].plot_item.getAxis("bottom").labelText  # BPTT's way


def test_first_result_is_drawn_with_status(window):
    s = window.session
    r = s.result
    assert r is not None and r.request_id == s.request_id
    assert window.status.loss.text() == f"loss L = {r.grads.loss:.4g}"
    assert "ρ(W) = 0.9" in window.status.rho.text()
    assert not window.status.warning.isVisible()


def test_slider_moves_only_redraw_per_step_views(qtbot, window):
    s, r = window.session, window.session.result
    draws = {name: v.draw_count for name, v in window.views.items()}
    image = window.views["states"].image.image
    for t_shown in (1, 7, 23):
        window.timebar.slider.setValue(t_shown)
        flush(window)
        assert s.t == t_shown - 1
        softmax = window.views["softmax"]
        np.testing.assert_array_equal(softmax.bars.opts["height"], r.trace.y[:, s.b, s.t])
        assert softmax.target == int(s.targets[s.b, s.t])
        assert softmax.argmax == int(np.argmax(r.trace.y[:, s.b, s.t]))
        assert softmax.loss_at_t == pytest.approx(r.grads.loss_t[s.b, s.t])
        for name in ("states", "gradients", "flow", "connectivity"):
            assert all(c.value() == t_shown for c in window.views[name].cursors), name
        assert window.timebar.spin.value() == t_shown
    assert {n: v.draw_count for n, v in window.views.items()} == draws   # no image re-set
    assert window.views["states"].image.image is image


def test_connectivity_follows_the_slider(qtbot, window):
    from rnnviz.engine.analysis import connectivity
    s = window.session
    window.timebar.slider.setValue(12)
    view = window.views["connectivity"]
    qtbot.waitUntil(lambda: view.shown_key == (s.result.request_id, 11, s.b), timeout=5000)
    expected = connectivity(s.params, s.result.trace, 11, b=s.b)
    np.testing.assert_allclose(view.bars.opts["height"], expected)
    assert np.all(view.values[12:] == 0)


def test_dragging_the_spectral_radius_updates_the_flow_plot(qtbot, window):
    s = window.session
    field = window.docks["editors"].fields["spectral_radius"]
    for radius in (1.1, 1.25):
        drag_slider_to(qtbot, field.slider, field._to_tick(radius))     # as the user drags it
        assert s.config.spectral_radius == pytest.approx(radius, abs=0.02)   # a pixel's worth
        assert s.config.spectral_radius == pytest.approx(field.spin.value())
        r = wait_for_result(qtbot, window)
        assert r.spectrum.spectral_radius == pytest.approx(s.config.spectral_radius, rel=1e-9)
        expected = compute(s.request())       # the engine on the same state, independently
        flow = window.views["flow"]
        for attribute, _ in CURVES:
            t, y = flow.curve_data(attribute)
            np.testing.assert_array_equal(t, np.arange(1, s.config.T + 1))
            values = getattr(expected.flow, attribute)
            want = values if attribute.startswith("log10_") else np.log10(values)
            np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)
        assert flow.rate == pytest.approx(expected.flow.rate_per_step)
        assert window.views["spectrum"].spectral_radius == pytest.approx(s.config.spectral_radius)


def test_typing_a_weight_redraws_the_state_heatmap(qtbot, window):
    from rnnviz.engine.rnn import forward
    s = window.session
    before = window.views["states"].image.image.copy()
    dock = window.docks["weights"]
    dock.raise_()                                   # the user picks the Weights tab
    qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty())
    click_weight(qtbot, dock, 0, 1)                 # W[1, 2], 1-based
    assert dock.entry_editor.target == ("W", 0, 1)
    type_weight(qtbot, dock, "2.5")
    assert s.params.W[0, 1] == 2.5 and s.edited == {"W"}
    r = wait_for_result(qtbot, window)
    image = window.views["states"].image.image
    trace = forward(s.params, s.x, s.s0, activation=s.config.activation)
    np.testing.assert_allclose(image, trace.s[:, s.b, :], rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(image, r.trace.s[:, s.b, :])
    assert not np.array_equal(image, before)


@pytest.mark.parametrize("activation, levels", [("sigmoid", (0.0, 1.0)), ("tanh", (-1.0, 1.0)),
                                                ("relu", None), ("linear", None)])
def test_switching_activation_redraws_with_its_colour_range(qtbot, window, activation, levels):
    s = window.session
    if activation == s.config.activation:
        s.apply(activation="relu")
        wait_for_result(qtbot, window)
    s.apply(activation=activation)
    r = wait_for_result(qtbot, window)
    assert r.trace.activation == activation
    view = window.views["states"]
    np.testing.assert_array_equal(view.image.image, r.trace.s[:, s.b, :])
    lo, hi = view.image.getLevels()
    if levels is None:       # the robust max of |s|: symmetric around 0, from 0 for ReLU
        top = np.percentile(np.abs(r.trace.s[:, s.b, :]), 99)
        assert (lo, hi) == pytest.approx((0.0 if activation == "relu" else -top, top))
    else:
        assert (lo, hi) == levels
    assert (f"({activation} range)" if levels else "99th pct)") in view.caption
    assert view.colorbar.axis.labelText in (view.caption, "s_t", "")   # as long as fits


def test_play_advances_and_space_pauses(qtbot, window):
    s = window.session
    s.set_timestep(0)
    window.timebar.speed.setCurrentIndex(window.timebar.speed.count() - 1)   # fastest
    qtbot.mouseClick(window.timebar.play_button, QtCore.Qt.LeftButton)
    assert window.timebar.is_playing()
    qtbot.waitUntil(lambda: s.t >= 3, timeout=5000)
    window.shortcut_actions["play_pause"].trigger()      # what Space does
    assert not window.timebar.is_playing()
    t = s.t
    qtbot.wait(100)
    assert s.t == t


def test_keyboard_steps_through_time(qtbot, window):
    s = window.session
    window.views["states"].graphics.setFocus()
    qtbot.keyClick(window, QtCore.Qt.Key_Home)
    assert s.t == 0
    qtbot.keyClick(window, QtCore.Qt.Key_Right)
    qtbot.keyClick(window, QtCore.Qt.Key_Right)
    assert s.t == 2
    qtbot.keyClick(window, QtCore.Qt.Key_Left)
    assert s.t == 1
    qtbot.keyClick(window, QtCore.Qt.Key_End)
    assert s.t == s.config.T - 1


def test_clicking_a_heatmap_column_selects_it_and_hover_reads_out(qtbot, window):
    s = window.session
    view = window.views["gradients"]
    scene = view.plot_item.vb.mapViewToScene(QtCore.QPointF(9.0, 3.0))     # t = 9, unit 3
    pos = view.graphics.mapFromScene(scene)
    qtbot.mouseMove(view.graphics.viewport(), pos)
    qtbot.mouseClick(view.graphics.viewport(), QtCore.Qt.LeftButton, pos=pos)
    assert s.t == 8
    assert view.readout.text().startswith("unit 3, t = 9:")


def test_dragging_a_cursor_selects_t(window):
    line = window.views["flow"].cursors[0]
    line.setValue(5.2)          # what a drag does
    assert window.session.t == 4


def test_a_storm_of_events_ends_on_the_latest_result(qtbot, window):
    s = window.session
    rng = np.random.default_rng(0)
    app = QtWidgets.QApplication.instance()
    for i in range(1000):
        if i % 2:
            window.timebar.slider.setValue(int(rng.integers(1, s.config.T + 1)))
        else:
            s.apply(spectral_radius=round(float(rng.uniform(0.5, 1.5)), 3))
        if i % 50 == 0:
            app.processEvents()
    fired = []
    QtCore.QTimer.singleShot(0, lambda: fired.append(True))
    qtbot.waitUntil(lambda: bool(fired), timeout=2000)         # the event loop is alive
    r = wait_for_result(qtbot, window)
    assert r.request_id == s.request_id
    assert window.worker.completed < 600                        # stale work was skipped
    expected = compute(s.request())
    _, y = window.views["flow"].curve_data("grad_norm")
    np.testing.assert_allclose(y, np.log10(expected.flow.grad_norm), rtol=1e-12)
    np.testing.assert_array_equal(window.views["softmax"].heights, r.trace.y[:, s.b, s.t])


def test_non_finite_values_warn_and_are_marked(qtbot, window):
    s = window.session
    assert s.apply(activation="linear", T=800, spectral_radius=3.0) == []   # 3^t overflows
    r = wait_for_result(qtbot, window)
    assert r.nonfinite_steps.size > 0
    assert window.status.warning.isVisible() and window.status.warning.text().startswith("⚠")
    assert window.views["states"]._regions and window.views["flow"]._regions
    s.apply(activation="tanh", T=40, spectral_radius=0.9)
    r = wait_for_result(qtbot, window)
    assert not window.status.warning.isVisible(), (window.status.warning.text(), r.warning)
    assert not window.views["states"]._regions


def test_a_long_warning_is_cut_to_the_status_bar_with_the_sentence_as_tooltip(qtbot, window):
    """A long warning (the overflow preset's) used to make the status bar, and so the window,
    demand ~2070 px: it now takes the room left, cut with '…', the whole sentence as tooltip."""
    window.resize(1280, 800)
    flush(window)
    before = window.minimumSizeHint().width()
    sentence = "values overflowed from step 132 on " + "and kept overflowing " * 40 + "(the end)"
    window.status.set_warning(sentence)
    flush(window)
    label = window.status.warning
    assert label.isVisible() and label.toolTip() == sentence
    assert label.text().startswith("⚠ values overflowed") and label.text().endswith("…")
    assert label.fits() and label.width() < 1280
    assert window.minimumSizeHint().width() == before
    window.status.apply_style(window.style_)        # restyling keeps the whole sentence
    assert label.toolTip() == sentence and window.status.warning_text == sentence
    window.resize(1900, 800)                        # wider: more of it shows
    flush(window)
    qtbot.waitUntil(lambda: len(label.text()) > 100)
    window.status.set_warning(None)
    assert not label.isVisible()


def test_a_failed_computation_is_a_message_not_a_crash(qtbot, window):
    def broken(request, should_stop):
        raise RuntimeError("engine exploded")
    window.worker.add_lane("compute", broken)       # the compute lane now fails
    window.session.apply(seed=5)
    qtbot.waitUntil(lambda: "engine exploded" in window.status.warning.text(), timeout=5000)
    assert window.isVisible()


def test_close_stops_the_worker_and_ignores_later_events(qtbot, make_window):
    w = make_window()
    s = w.session
    s.apply(n_s=64)            # a computation may still be in flight
    w.close()
    assert not w.worker.is_running()
    errors = []
    s.events.subscribe(lambda name, **kw: errors.append(kw) if name == "error" else None)
    s.apply(spectral_radius=0.5)
    s.set_timestep(3)
    qtbot.wait(20)
    assert errors == []


def first_share(splitter) -> float:
    """The share of a splitter's length its first pane takes."""
    sizes = splitter.sizes()
    return sizes[0] / sum(sizes)


def test_layout_is_remembered(qtbot, make_window):
    w = make_window()
    default = first_share(w.main_splitter)
    w.resize(1300, 820)
    w.main_splitter.setSizes([500, 600])
    flush(w)
    share = first_share(w.main_splitter)
    assert abs(share - default) > 0.1               # not the layout a first start gets
    w.docks["explanation"].hide()
    w.close()
    from rnnviz.ui.settings import app_settings
    saved = app_settings().value("window/geometry")
    assert saved is not None and len(bytes(saved)) > 0
    w2 = make_window()
    # the offscreen screen is 800 x 800, so Qt fits the restored geometry into it; the
    # splitter keeps the proportions it was closed with (under a real screen, its sizes)
    assert first_share(w2.main_splitter) == pytest.approx(share, abs=0.02)
    assert not w2.docks["explanation"].isVisible()


def test_excepthook_reports_instead_of_aborting(window):
    from rnnviz.ui.app import ErrorReporter
    reporter = ErrorReporter(window)
    try:
        raise ValueError("boom")
    except ValueError as exc:
        reporter(type(exc), exc, exc.__traceback__)
    assert "boom" in window.status.warning.text()
    assert reporter._dialog is not None and not reporter._dialog.isModal()
    reporter._dialog.close()


def test_dragging_a_slider_does_not_flash_the_busy_indicator(qtbot, window):
    """Each step of a drag is computed in ~10-40 ms at the default size: the indicator flashed
    on and off at every one (23 times in these 20 steps before)."""
    shows = EventCounter(window.status.busy, QtCore.QEvent.Show)
    slider = window.docks["editors"].fields["spectral_radius"].slider
    start = window.session.config.spectral_radius
    for i in range(20):
        slider.setValue(slider.value() + (3 if i % 2 else -3))
        qtbot.wait(80)
    wait_for_result(qtbot, window)
    assert window.session.config.spectral_radius == pytest.approx(start, abs=0.05)
    assert shows.count == 0 and not window.status.busy.isVisible()
