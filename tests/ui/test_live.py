"""Large set-ups stay live: draws and the gradient flow run on the worker, the flow fills in,
the event loop keeps turning, the window closes mid-computation.

No test here depends on how fast anything runs: where a test must see the worker mid-way, the
worker is held at a known point until the test has looked, and every wait is for a condition."""
import threading
import time

import numpy as np
import pytest
from conftest import drag_slider_to, wait_for_result
from PySide6 import QtCore

from rnnviz.engine.analysis import gradient_flow
from rnnviz.state import derive
from rnnviz.state.session import Session
from rnnviz.ui import main_window as main_window_module
from rnnviz.ui.style import NORMAL

BIG = dict(n_s=256, T=300)


def paced_compute(every: int, handed: list, gate: threading.Semaphore):
    """The state layer's compute on the worker, handing on one partial result in `every` (one
    per Jacobian step is made) and then holding until the test releases `gate` (or the worker
    is asked to stop): the test sees each partial on screen before the next is made."""
    from rnnviz.state.compute import compute

    def run(request, should_stop, partial):
        made = [0]

        def hand_on(result):
            made[0] += 1
            if made[0] % every:
                return
            handed.append(result)
            partial(result)
            while not gate.acquire(timeout=0.01) and not should_stop():
                pass
        return compute(request, should_stop=should_stop, partial=hand_on, partial_interval=0.0)
    return run


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
    assert window.status.rho.text() == f"ρ(W) = {rho:.3g},"
    assert window.status.ms.text().startswith("computed in")
    assert not window.status.busy.isVisible()


def test_the_flow_fills_in_live_and_ends_equal_to_the_engine(qtbot, window, monkeypatch):
    monkeypatch.setattr(main_window_module, "PARTIAL_SHOW_MS", 0)     # each partial shown at once
    monkeypatch.setattr(main_window_module, "PARTIAL_DUTY", 0)
    s, T, every = window.session, 400, 50
    handed, gate = [], threading.Semaphore(0)
    window.worker.add_lane("compute", paced_compute(every, handed, gate))
    s.apply(n_s=256, T=T, spectral_radius=1.05)
    shown = []                     # finite Jacobian steps the flow view drew for each partial
    try:
        for k in range(T // every):
            qtbot.waitUntil(lambda k=k: len(handed) > k, timeout=60000)
            partial = handed[k]
            known = int(np.sum(np.isfinite(partial.flow.log10_jacobian_norm)))
            qtbot.waitUntil(lambda p=partial: s.result is p, timeout=10000)       # the window took it
            qtbot.waitUntil(lambda n=known: finite_jacobian_steps(window) == n, timeout=10000)  # drawn
            shown.append(known)
            if partial.flow_progress < 1.0:
                assert window.status.busy.isVisible() and s.busy
            gate.release()                                                    # the next one
    finally:
        gate.release(T)                # never leave the worker held when an assertion failed
    assert shown == [every * (k + 1) for k in range(T // every)]   # filled in from t = T back
    qtbot.waitUntil(lambda: s.result is not handed[-1], timeout=60000)   # the final result
    wait_for_result(qtbot, window, timeout=60000)
    assert s.result.flow_progress == 1.0
    want = engine_flow(s)
    for attribute in ("log10_jacobian_norm", "log10_bound"):
        _, y = window.views["flow"].curve_data(attribute)
        np.testing.assert_allclose(y, getattr(want, attribute), rtol=1e-12, atol=1e-12)
    assert finite_jacobian_steps(window) == T


def test_the_event_loop_turns_while_a_big_computation_runs(qtbot, window, monkeypatch):
    """While the worker is inside the 768 x 768 draw (held there until the test has looked),
    the UI thread's event loop keeps turning, and nothing draws on the UI thread."""
    s = window.session
    draw_threads, inside, release = [], threading.Event(), threading.Event()
    real_draw = derive.draw_params_and_eigenvalues

    def held_draw(c):
        draw_threads.append(threading.current_thread())
        if threading.current_thread() is not threading.main_thread():
            inside.set()
            release.wait(60)
        return real_draw(c)

    monkeypatch.setattr(derive, "draw_params_and_eigenvalues", held_draw)
    beats = []
    timer = QtCore.QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: beats.append(window.worker.is_idle()))
    s.apply(n_s=768, T=600, seed=99)           # the draw alone solves a 768 x 768 eigenproblem
    assert not s.params_ready                   # nothing drawn on the UI thread
    try:
        qtbot.waitUntil(inside.is_set, timeout=10000)          # the worker is in the draw
        timer.start()
        qtbot.waitUntil(lambda: len(beats) >= 10, timeout=10000)
        assert not any(beats) and not s.params_ready           # every beat: worker still busy
    finally:
        timer.stop()
        release.set()
    qtbot.waitUntil(lambda: s.params_ready, timeout=60000)
    assert draw_threads and all(t is not threading.main_thread() for t in draw_threads)
    window.docks["weights"].raise_()              # the user picks the Weights tab
    qtbot.waitUntil(lambda: window.docks["weights"].image.image.shape == (768, 768))


def test_closing_mid_computation_stops_the_worker(qtbot, make_window):
    """Closing while the engine is mid-way (held at its first should_stop poll until asked to
    stop) interrupts the computation and joins both threads."""
    from rnnviz.state.compute import compute
    w = make_window()
    s = w.session
    inside = threading.Event()

    def compute_until_stopped(request, should_stop, partial):
        def held_should_stop():
            inside.set()
            while not should_stop():            # polled like the engine polls; ends on close
                time.sleep(0.001)
            return True
        return compute(request, should_stop=held_should_stop, partial=partial)

    w.worker.add_lane("compute", compute_until_stopped)
    completed = w.worker.completed
    s.apply(n_s=512, T=800)
    qtbot.waitUntil(inside.is_set, timeout=10000)
    assert s.busy and not w.worker.is_idle()
    w.close()
    assert not w.worker.is_running()
    assert w.worker.interrupted == 1 and w.worker.completed == completed


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
