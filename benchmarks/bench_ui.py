"""UI timings, offscreen: slider redraw, edit-to-screen, event-loop blocking, launch. Prints; asserts nothing.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_ui.py
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("RNNVIZ_SETTINGS_DIR", tempfile.mkdtemp(prefix="rnnviz-bench-"))

import numpy as np  # noqa: E402

LAUNCH = r"""
import os, sys, time
t0 = float(sys.argv[1])
from rnnviz.ui.app import make_app
from rnnviz.state.session import Session
from rnnviz.ui.app import build_window, close_window
app = make_app([])
w = build_window(Session()); w.show()
while not (w.isVisible() and w.windowHandle() and w.windowHandle().isExposed()):
    app.processEvents()
visible = time.time() - t0
while w.session.needs_compute:
    app.processEvents()
app.processEvents(); [v.flush() for v in w.views.values()]; w.grab()
drawn = time.time() - t0
print(f"{visible:.4f} {drawn:.4f}")
close_window(w, app)
"""


def wait_result(app, window):
    while window.session.needs_compute or not window.worker.is_idle():
        app.processEvents()
        time.sleep(0.0005)
    app.processEvents()
    for v in window.views.values():
        v.flush()


def bench_slider(app, window, moves=60):
    """Median ms of one slider step: session event, coalesced per-t redraws, Qt's paint."""
    s = window.session
    ts = [int(t) for t in np.linspace(0, s.config.T - 1, moves)]
    for t in ts:                         # warm the connectivity memo (computed on its worker)
        s.set_timestep(t)
        app.processEvents()
        conn = window.views["connectivity"]
        deadline = time.perf_counter() + 5
        while conn.shown_key != (s.result.request_id, t, s.b) and time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.001)
    times = []
    for t in ts:
        t0 = time.perf_counter()
        window.timebar.slider.setValue(t + 1)
        app.processEvents()              # the coalesced redraw runs ...
        app.processEvents()              # ... and Qt paints what changed
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), max(times)


def bench_bare(app, window, moves=60):
    """The same images, bars, curves and points set from scratch in bare pyqtgraph, same sizes."""
    import pyqtgraph as pg
    r, s = window.session.result, window.session
    b = s.b
    sizes = {n: v.graphics.size() for n, v in window.views.items()}
    widgets = {}
    for name, size in sizes.items():
        w = pg.PlotWidget()
        w.resize(size)
        w.show()
        widgets[name] = w
    img_s = pg.ImageItem(axisOrder="row-major")
    img_g = pg.ImageItem(axisOrder="row-major")
    widgets["states"].addItem(img_s)
    widgets["gradients"].addItem(img_g)
    sm = pg.BarGraphItem(x=np.arange(r.trace.y.shape[0]), height=r.trace.y[:, b, 0], width=0.8)
    widgets["softmax"].addItem(sm)
    T = r.trace.s.shape[2]
    cb = pg.BarGraphItem(x=np.arange(T), height=np.ones(T), width=0.8)
    widgets["connectivity"].addItem(cb)
    curves = [widgets["flow"].plot() for _ in range(4)]
    scatter = pg.ScatterPlotItem()
    widgets["spectrum"].addItem(scatter)
    S = np.ascontiguousarray(r.trace.s[:, b, :])
    with np.errstate(divide="ignore"):
        G = np.ascontiguousarray(np.log10(np.abs(r.grads.ds[:, b, :])))
    lam = r.spectrum.eigenvalues
    app.processEvents()
    times = []
    for k, t in enumerate(np.linspace(0, T - 1, moves).astype(int)):
        t0 = time.perf_counter()
        img_s.setImage(S, autoLevels=False, levels=(-1, 1))
        img_g.setImage(G, autoLevels=False, levels=(-10, 0))
        sm.setOpts(height=r.trace.y[:, b, t])
        cb.setOpts(height=np.random.default_rng(k).random(T))
        for c in curves:
            c.setData(np.arange(T), np.log10(r.flow.grad_norm))
        scatter.setData(lam.real, lam.imag)
        app.processEvents()
        app.processEvents()
        times.append((time.perf_counter() - t0) * 1e3)
    for w in widgets.values():
        w.close()
        w.deleteLater()
    app.processEvents()
    return statistics.median(times), max(times)


def bench_edit(app, window, edits=20):
    """Median ms from an edit (spectral radius) until its result is drawn and painted."""
    s = window.session
    times = []
    for k in range(edits):
        t0 = time.perf_counter()
        s.apply(spectral_radius=0.8 + 0.01 * (k % 20))
        wait_result(app, window)
        app.processEvents()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), max(times)


def bench_blocking(app, window, seconds_limit=120.0):
    """Longest gap between 5 ms heartbeats while big computations run (and their results land).

    Three spectral-radius edits, each replacing the last; for the last one also: when its fast
    part (heatmaps, softmax: the first result) and its first partial gradient flow (some steps
    of ||ds_T/ds_t|| beyond t = T) were drawn, and when the whole result was drawn.
    """
    from PySide6 import QtCore
    s = window.session
    beats = []
    timer = QtCore.QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: beats.append(time.perf_counter()))
    shown = {}                              # "fast" / "partial" / "final" -> time drawn

    def on_event(name, **payload):
        if name != "result" or payload["result"].request_id != last_id[0]:
            return
        r = payload["result"]
        known = int(np.sum(np.isfinite(r.flow.log10_jacobian_norm)))
        keys = ["fast"] + (["partial"] if known > 1 else []) + \
            (["final"] if r.flow_progress >= 1.0 else [])
        for key in keys:
            if key not in shown:            # drawn when the event loop next turns
                QtCore.QTimer.singleShot(0, lambda k=key: shown.setdefault(k, time.perf_counter()))

    last_id = [None]
    unsubscribe = s.events.subscribe(on_event)
    timer.start()
    t_start = time.perf_counter()
    for k in range(3):                     # three edits, each replacing the last
        t_edit = time.perf_counter()
        s.apply(spectral_radius=1.0 + 0.01 * k)
        last_id[0] = s.request_id
        t_end = time.perf_counter() + 0.05
        while time.perf_counter() < t_end:
            app.processEvents()
            time.sleep(0.001)
    busy_seen = window.status.busy.isVisible() or not window.worker.is_idle()
    while (s.needs_compute or not window.worker.is_idle() or s.result.flow_progress < 1) \
            and time.perf_counter() - t_start < seconds_limit:
        app.processEvents()
        time.sleep(0.001)
    t_end = time.perf_counter() + 0.3          # let the result draw, heartbeats continue
    while time.perf_counter() < t_end:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    unsubscribe()
    gaps = np.diff(beats) * 1e3 if len(beats) > 1 else np.array([np.nan])
    finished = not s.needs_compute and s.result.flow_progress >= 1
    since = {k: (v - t_edit) * 1e3 for k, v in shown.items()}
    return float(gaps.max()), time.perf_counter() - t_start, busy_seen, finished, since


def bench_launch(runs=4):
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", LAUNCH, repr(time.time())], capture_output=True,
                             text=True, env=os.environ.copy(), timeout=120)
        line = [l for l in out.stdout.splitlines() if l.strip()][-1]
        times.append(tuple(float(x) for x in line.split()))
    warm = times[1:]
    return statistics.median(t[0] for t in warm), statistics.median(t[1] for t in warm)


def main() -> None:
    from rnnviz.state.session import Session
    from rnnviz.ui.app import build_window, close_window, make_app
    app = make_app([])
    rows = []

    window = build_window(Session())
    window.resize(1600, 1000)
    window.show()
    wait_result(app, window)
    med, worst = bench_edit(app, window)
    rows.append(("edit -> result drawn, default size (n_s=32, T=40)", f"{med:.1f} ms (max {worst:.1f})", "< 50 ms"))

    window.session.apply(n_s=256, T=500)
    wait_result(app, window)
    med, worst = bench_slider(app, window)
    bare_med, bare_worst = bench_bare(app, window)
    rows.append(("slider step, all views, n_s=256 T=500", f"{med:.1f} ms (max {worst:.1f})", "< 16 ms"))
    rows.append(("bare pyqtgraph redraw of the same items", f"{bare_med:.1f} ms (max {bare_worst:.1f})", ""))
    rows.append(("ratio slider / bare", f"{med / bare_med:.2f}", "<= 1.5"))

    for n_s, T in ((256, 500), (1024, 1000)):
        window.session.apply(n_s=n_s, T=T)
        gap, took, busy_seen, finished, since = bench_blocking(app, window)
        rows.append((f"longest event-loop block, n_s={n_s} T={T}", f"{gap:.1f} ms", "< 50 ms"))
        rows.append(("  edits until drawn" if finished else "  result not back within",
                     f"{took * 1e3:.0f} ms", "(worker time)"))
        rows.append(("  busy indicator shown while computing", str(busy_seen), "True"))
        if n_s == 1024:
            for key, label in (("fast", "fast part (heatmaps, softmax) drawn"),
                               ("partial", "first partial flow drawn"),
                               ("final", "whole flow drawn")):
                value = f"{since[key]:.0f} ms" if key in since else "not seen"
                rows.append((f"  last edit -> {label}", value, "(as soon as possible)"))
    close_window(window, app)

    visible, drawn = bench_launch()
    rows.append(("launch -> window visible (warm, subprocess)", f"{visible * 1e3:.0f} ms", "< 1500 ms"))
    rows.append(("launch -> first result drawn (warm)", f"{drawn * 1e3:.0f} ms", ""))

    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'measured'.ljust(22)}  target")
    for name, value, target in rows:
        print(f"{name.ljust(width)}  {value.ljust(22)}  {target}")


if __name__ == "__main__":
    main()
