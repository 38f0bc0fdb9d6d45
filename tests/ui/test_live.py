"""Large set-ups stay live: draws and the gradient flow run on the worker, the flow fills in,
the event loop keeps turning, the window closes mid-computation."""
import threading

import numpy as np
import pytest
from conftest import flush, wait_for_result
from PySide6 import QtCore, QtWidgets

from rnnviz.engine.analysis import gradient_flow
from rnnviz.state import derive
from rnnviz.state.session import Session
from rnnviz.ui import main_window as main_window_module
from rnnviz.ui.style import NORMAL

BIG = dict(n_s=256, T=300)


def drag_slider_to(qtbot, slider, value):
    """Press the handle, move the mouse to where `value` sits, release: a user's drag."""
    option = QtWidgets.QStyleOptionSlider()
    slider.initStyleOption(option)
    style = slider.style()
    handle = style.subControlRect(QtWidgets.QStyle.CC_Slider, option, QtWidgets.QStyle.SC_SliderHandle, slider)
    groove = style.subControlRect(QtWidgets.QStyle.CC_Slider, option, QtWidgets.QStyle.SC_SliderGroove, slider)
    span = groove.width() - handle.width()
    x = groove.x() + handle.width() // 2 + round(span * value / slider.maximum())
    target = QtCore.QPoint(x, handle.center().y())
    qtbot.mousePress(slider, QtCore.Qt.LeftButton, pos=handle.center())
    for k in range(1, 5):                      # several events mid-drag
        qtbot.mouseMove(slider, handle.center() + (target - handle.center()) * k / 4)
    qtbot.mouseRelease(slider, QtCore.Qt.LeftButton, pos=target)


def engine_flow(session):
    """The engine's gradient flow for the session's current state, computed independently."""
    from rnnviz.engine.rnn import backward, forward
    p = session.params
    trace = forward(p, session.x, session.s0, activation=session.config.activation)
    grads = backward(p, trace, session.targets)
    return gradient_flow(p, trace, grads, session.targets, b=session.b)


def finite_jacobian_steps(window):
    _, y = window.views["flow"].curve_data("log10_jacobian_norm")
    return int(np.sum(np.isfinite(y)))


def test_dragging_the_radius_at_256x300_redraws_flow_and_status(qtbot, window):
    s = window.session
    s.apply(**BIG)
    wait_for_result(qtbot, window, timeout=60000)
    slider = window.docks["editors"].fields["spectral_radius"].slider
    drag_slider_to(qtbot, slider, int(slider.maximum() * 1.2 / 3.0))
    assert s.config.spectral_radius == pytest.approx(1.2, abs=0.02)
    r = wait_for_result(qtbot, window, timeout=60000)
    assert r.flow_progress == 1.0 and r.request_id == s.request_id
    want = engine_flow(s)
    _, y = window.views["flow"].curve_data("log10_jacobian_norm")
    np.testing.assert_allclose(y, want.log10_jacobian_norm, rtol=1e-12, atol=1e-12)
    rho = np.max(np.abs(np.linalg.eigvals(s.params.W)))
    assert rho == pytest.approx(s.config.spectral_radius, rel=1e-9)
    assert window.status.rho.text() == f"ρ(W) = {rho:.3g}"
    assert window.status.ms.text().startswith("computed in")
    assert not window.status.busy.isVisible()


def test_the_flow_fills_in_live_and_ends_equal_to_the_engine(qtbot, window, monkeypatch):
    monkeypatch.setattr(main_window_module, "PARTIAL_SHOW_MS", 30)
    monkeypatch.setattr(main_window_module, "PARTIAL_DUTY", 1)
    s = window.session
    shown = []                     # finite Jacobian steps in the flow view at each partial

    def look():
        if s.result.flow_progress < 1.0:          # still a partial result on screen
            window.views["flow"].flush()           # (no event processing here)
            shown.append(finite_jacobian_steps(window))
            known = int(np.sum(np.isfinite(s.result.flow.log10_jacobian_norm)))
            assert shown[-1] == known, (shown[-1], known, s.result.flow_progress)

    def on_event(name, **payload):
        if name == "result" and payload["result"].flow_progress < 1.0:
            QtCore.QTimer.singleShot(0, look)
    s.events.subscribe(on_event)
    s.apply(n_s=256, T=400, spectral_radius=1.05)
    saw_busy = []
    qtbot.waitUntil(lambda: saw_busy.append(window.status.busy.isVisible()) or
                    (not s.needs_compute and window.worker.is_idle()), timeout=90000)
    flush(window)
    assert shown == sorted(shown) and len(set(shown)) >= 2, shown  # grew while computing
    assert shown[-1] < 400
    assert any(saw_busy)                                           # progress was shown
    assert s.result.flow_progress == 1.0
    want = engine_flow(s)
    for attribute in ("log10_jacobian_norm", "log10_bound"):
        _, y = window.views["flow"].curve_data(attribute)
        np.testing.assert_allclose(y, getattr(want, attribute), rtol=1e-12, atol=1e-12)
    assert finite_jacobian_steps(window) == 400


def test_the_event_loop_turns_while_a_big_computation_runs(qtbot, window):
    s = window.session
    draw_threads = []
    real_draw = derive.draw_params_and_eigenvalues

    def recording_draw(c):
        draw_threads.append(threading.current_thread())
        return real_draw(c)

    derive.draw_params_and_eigenvalues = recording_draw
    try:
        beats = []
        timer = QtCore.QTimer()
        timer.setInterval(20)
        timer.timeout.connect(lambda: beats.append(window.worker.is_idle()))
        s.apply(n_s=768, T=600, seed=99)      # the draw alone solves a 768 x 768 eigenproblem
        assert not s.params_ready              # nothing drawn on the UI thread
        timer.start()
        qtbot.waitUntil(lambda: len(beats) >= 40, timeout=30000)
        timer.stop()
        busy_beats = [b for b in beats if not b]
        # 40 beats of a 20 ms timer arrived while the worker was still computing: the UI
        # thread was never held for the computation (it would give 0-2 beats otherwise).
        assert len(busy_beats) >= 30, (len(beats), len(busy_beats))
        qtbot.waitUntil(lambda: s.params_ready, timeout=30000)
        assert draw_threads and all(t is not threading.main_thread() for t in draw_threads)
        window.docks["weights"].raise_()          # the user picks the Weights tab
        qtbot.waitUntil(lambda: window.docks["weights"].image.image.shape == (768, 768))
    finally:
        derive.draw_params_and_eigenvalues = real_draw


def test_closing_mid_computation_stops_the_worker(qtbot, make_window):
    w = make_window()
    s = w.session
    s.apply(n_s=512, T=800)
    qtbot.waitUntil(lambda: not w.worker.is_idle(), timeout=5000)
    qtbot.wait(300)
    assert s.busy
    w.close()
    assert not w.worker.is_running() and not w.connectivity_worker.is_running()
    assert w.worker.interrupted >= 1 or w.worker.completed >= 1


def test_the_weight_dock_waits_for_parameters_drawn_on_the_worker(qtbot, window, monkeypatch):
    monkeypatch.setattr(derive, "DRAW_NOW_MAX_N", 0)
    s = window.session
    dock = window.docks["weights"]
    dock.raise_()                                 # the user picks the Weights tab
    qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty())
    s.apply(n_s=20)
    assert not s.params_ready and "drawing" in dock.caption.text()
    assert dock.entry_at(dock.image.sceneBoundingRect().center()) is None
    qtbot.waitUntil(lambda: s.params_ready, timeout=10000)
    assert dock.image.image.shape == (20, 20) and "drawing" not in dock.caption.text()
    np.testing.assert_array_equal(s.params.W, Session(s.config).params.W)


def test_a_weight_dock_behind_its_tab_redraws_when_it_is_raised(qtbot, window, monkeypatch):
    """Behind the Parameters tab (the default) the dock only notes that W changed: at
    n_s = 1024 its redraw costs the UI thread ~19 ms per change. Picking its tab shows the
    current matrix."""
    s, dock = window.session, window.docks["weights"]
    window.docks["editors"].raise_()
    qtbot.waitUntil(lambda: dock.visibleRegion().isEmpty())
    refreshes = []
    real = dock.refresh
    monkeypatch.setattr(dock, "refresh", lambda: (refreshes.append(1), real()))
    s.apply(n_s=20)
    qtbot.waitUntil(lambda: s.params_ready and not s.needs_compute)
    assert refreshes == [] and dock.image.image.shape != (20, 20)
    dock.raise_()
    qtbot.waitUntil(lambda: dock.image.image.shape == (20, 20))
    assert refreshes == [1]
    np.testing.assert_array_equal(dock.image.image, s.params.W)


def test_the_window_applies_the_normal_style_itself(qtbot, monkeypatch):
    """A bare MainWindow (no menu actions installed, so not presentation mode's install either)
    starts in Style NORMAL."""
    from rnnviz.ui.app import make_app
    from rnnviz.ui.main_window import MainWindow
    make_app([])
    applied = []
    real = MainWindow.apply_style
    monkeypatch.setattr(MainWindow, "apply_style",
                        lambda self, style: (applied.append(style), real(self, style)))
    w = MainWindow(Session())
    try:
        assert applied and applied[0] is NORMAL and w.style_ is NORMAL
        assert w.status.loss.font().pointSizeF() == NORMAL.font_pt
    finally:
        w.shutdown()
        w.deleteLater()
