"""The worker's thread yields the CPU to the UI thread (Linux: a per-thread nice value)."""
import os
import sys
import threading

import pytest

from rnnviz.ui.worker import WORKER_NICE, lower_thread_priority


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_lower_thread_priority_renices_only_the_calling_thread():
    seen = {}

    def run():
        tid = threading.get_native_id()
        seen["before"] = os.getpriority(os.PRIO_PROCESS, tid)
        seen["done"] = lower_thread_priority()
        seen["after"] = os.getpriority(os.PRIO_PROCESS, tid)

    main_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen["done"] is True
    assert seen["after"] == min(19, seen["before"] + WORKER_NICE)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_before


def test_the_worker_waits_at_its_poll_while_the_ui_thread_draws(qtbot, monkeypatch):
    """should_stop() first lets a draw or paint of the UI thread finish (ui_turn, re-entrant);
    a view's paint marks one. Nothing here depends on a time: the wait limit is set far off."""
    from rnnviz.ui import worker as worker_module
    from rnnviz.ui.views.plotbase import Canvas
    monkeypatch.setattr(worker_module, "UI_YIELD_MAX_S", 60.0)
    polled, passed = threading.Event(), threading.Event()

    def poll():
        polled.set()
        worker_module.yield_to_ui()
        passed.set()

    with worker_module.ui_turn():
        with worker_module.ui_turn():
            pass                                   # an inner turn ends: the outer holds
        thread = threading.Thread(target=poll)
        thread.start()
        assert polled.wait(10)
        assert not passed.wait(0.05)               # held while the turn lasts
    assert passed.wait(10)                         # and goes on as it ends
    thread.join(10)
    seen = []
    real = worker_module.ui_turn.__enter__
    monkeypatch.setattr(worker_module.ui_turn, "__enter__", lambda self: seen.append(1) or real(self))
    canvas = Canvas()
    qtbot.addWidget(canvas)
    canvas.resize(100, 80)
    canvas.show()
    canvas.grab()                                  # paints it (and its viewport)
    assert seen and worker_module._ui_idle.is_set()   # a paint took a turn, and gave it back
