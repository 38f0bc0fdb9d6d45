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
