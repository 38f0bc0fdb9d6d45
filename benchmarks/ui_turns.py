"""The longest UI-thread turns while a large edit computes, and the draws and paints inside each
(wall and the UI thread's CPU time). Prints; asserts nothing.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/ui_turns.py [n_s T]
A turn is the gap between two 5 ms heartbeats during bench_ui's blocking measure; wall time well
above CPU time means the UI thread waited for a core (or the GIL).
"""
from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.getcwd())

import numpy as np  # noqa: E402


def timed(cls, name, label, events) -> None:
    """Wrap cls.name to log (start, end, label with the thread CPU time it took)."""
    real = getattr(cls, name)

    def wrapper(self, *args, **kwargs):
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return real(self, *args, **kwargs)
        finally:
            cpu = (time.thread_time() - c0) * 1e3
            events.append((t0, time.perf_counter(), f"{label(self)} (cpu {cpu:.1f})"))
    setattr(cls, name, wrapper)


def main() -> None:
    import pyqtgraph as pg
    from PySide6 import QtCore

    from benchmarks import bench_ui
    from rnnviz.state.session import Session
    from rnnviz.ui.app import build_window, close_window, make_app
    from rnnviz.ui.views import plotbase
    n_s, T = (int(a) for a in sys.argv[1:3]) if len(sys.argv) >= 3 else (1024, 1000)
    events: list = []
    timed(plotbase.PlotView, "flush", lambda v: "draw " + type(v).__name__, events)
    timed(pg.GraphicsView, "paintEvent",
          lambda g: "paint " + (type(g.parent()).__name__ if g.parent() else "?"), events)
    app = make_app([])
    window = build_window(Session())
    window.resize(1600, 1000)
    window.show()
    bench_ui.wait_result(app, window)
    window.session.apply(n_s=n_s, T=T)
    beats: list = []
    timer = QtCore.QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: beats.append(time.perf_counter()))
    timer.start()
    events.clear()
    gap, *_ = bench_ui.bench_blocking(app, window)
    timer.stop()
    b = np.array(beats)
    gaps = np.diff(b) * 1e3
    print(f"n_s={n_s} T={T}: longest block {gap:.1f} ms; load average {os.getloadavg()[0]:.2f}")
    for k in np.argsort(gaps)[::-1][:8]:
        t0, t1 = b[k], b[k + 1]
        inside = [(e0, e1, label) for e0, e1, label in events if e0 >= t0 and e1 <= t1]
        parts = ", ".join(f"{label} {(e1 - e0) * 1e3:.1f}" for e0, e1, label in inside
                          if e1 - e0 > 0.002)
        print(f"  {gaps[k]:6.1f} ms at {t0 - b[0]:5.2f} s: {parts or '(no draw or paint)'}")
    close_window(window, app)


if __name__ == "__main__":
    main()
