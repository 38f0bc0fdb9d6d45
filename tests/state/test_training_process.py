"""Training in a child process (state/training_process.py), without Qt: its records, weights and
optimiser state are an in-process run's bit for bit, edits reach it, it can be stopped and
resumed in either process, a NaN stop keeps the last finite weights, a dead child is a message,
and a session saved after scrubbing back holds one consistent state."""
import os
import signal
import time

import numpy as np
import pytest

from rnnviz.state.training_process import TrainingServer
from rnnviz.state.workspace import Workspace


@pytest.fixture
def server():
    s = TrainingServer()
    yield s
    s.close()


def workspace():
    w = Workspace()
    assert w.set_training(task="copy", task_options={"lag": 5}, m=8, lr=1e-2) == []
    return w


def run(w, n, server=None, until=None):
    """Advance the stream as the worker does: n iterations (None: until `until()` is true)."""
    stream = w.start_training(n, server=server)
    deadline = time.monotonic() + 60
    while stream.step():
        if until is not None and until():
            stream.cancel()
        assert time.monotonic() < deadline, "the stream did not end"
    return stream


def same_state(a, b):
    ka, pa, sa = a.run.latest_state()
    kb, pb, sb = b.run.latest_state()
    assert ka == kb
    for name in pa.names:
        np.testing.assert_array_equal(getattr(pa, name), getattr(pb, name))
    assert sa["state"].keys() == sb["state"].keys()
    for name in sa["state"]:
        for key, value in sa["state"][name].items():
            np.testing.assert_array_equal(value, sb["state"][name][key])


def test_a_child_trains_bit_for_bit_as_this_process_does(server):
    here, there = workspace(), workspace()
    run(here, 15)
    stream = run(there, 15, server)
    assert stream.finished and stream.error is None
    assert [r.loss for r in there.run.records.all()] == [r.loss for r in here.run.records.all()]
    assert [r.grad_norm for r in there.run.records.all()] == \
        [r.grad_norm for r in here.run.records.all()]
    same_state(here, there)
    assert there.follow_training() and there.selection_iteration == 15
    np.testing.assert_array_equal(there.params.W, here.run.latest()[1].W)


def test_runs_hand_over_between_the_processes_exactly(server):
    here, mixed = workspace(), workspace()
    run(here, 20)
    run(mixed, 4)                          # Step-like, in this process
    run(mixed, 9, server)                  # then the child goes on from that state
    run(mixed, 7)                          # and this process from the child's
    assert [r.loss for r in mixed.run.records.all()] == [r.loss for r in here.run.records.all()]
    same_state(here, mixed)


def test_a_paused_child_run_keeps_every_record_it_handed_over(server):
    w, reference = workspace(), workspace()
    stream = run(w, None, server, until=lambda: len(w.run.records) >= 6)
    assert stream.error == "cancelled"
    k = w.run.iteration
    assert k == len(w.run.records) >= 6          # nothing computed beyond was kept
    run(w, 5, server)
    run(reference, k + 5)
    assert [r.loss for r in w.run.records.all()] == [r.loss for r in reference.run.records.all()]


def test_an_edit_reaches_the_childs_very_next_iteration(server):
    w = workspace()
    edited = []

    def edit_once():
        if len(w.run.records) >= 3 and not edited:
            edited.append((w.set_training(lr=0.05), len(w.run.records)))
        return len(w.run.records) >= 40
    run(w, None, server, until=edit_once)
    lrs = [r.lr for r in w.run.records.all()]
    (problems, at), = edited
    assert problems == [] and lrs[:at] == [0.01] * at     # records ahead with 0.01 were dropped
    assert set(lrs[at:]) == {0.05} and len(lrs) >= 40
    assert [r.iteration for r in w.run.records.all()] == list(range(len(lrs)))


def test_a_diverging_child_run_stops_with_the_last_finite_weights(server):
    w = Workspace()
    w.set_training(task="recall", task_options={"symbols": 4, "T": 20, "delay": 2}, lr=10.0,
                   optimizer="sgd", clip="off")
    w.apply(spectral_radius=2.5, activation="linear")
    stream = run(w, 200, server)
    last = w.run.records.latest()
    assert stream.finished and last.stopped and f"iteration {last.iteration}" in last.stopped
    w.follow_training()
    assert all(np.all(np.isfinite(getattr(w.params, n))) for n in w.params.names)


def test_a_child_that_dies_ends_the_stream_with_a_message_and_keeps_the_state(server):
    w = workspace()
    run(w, 5, server)
    kept = w.run.iteration

    def kill():
        os.kill(server._proc.pid, signal.SIGKILL)
        return False
    stream = w.start_training(None, server=server)
    kill()
    deadline = time.monotonic() + 30
    while stream.step():
        assert time.monotonic() < deadline
    assert "training process ended unexpectedly" in stream.error
    assert w.run.iteration >= kept and len(w.run.records) == w.run.iteration
    run(w, 3, server)                      # a new child starts for the next run
    assert len(w.run.records) == w.run.iteration


def test_a_session_saved_after_scrubbing_back_holds_the_newest_state(tmp_path):
    w, reference = workspace(), workspace()
    run(w, 30)
    w.follow_training()
    assert w.show_iteration(0) == [] and w.selection_iteration == 0
    w.save_file(tmp_path / "scrubbed.json")
    other = Workspace()
    other.load_file(tmp_path / "scrubbed.json")
    assert other.run.iteration == 30
    np.testing.assert_array_equal(other.params.W, w.run.latest()[1].W)
    run(other, 5)
    run(reference, 35)
    assert [r.loss for r in other.run.records.all()[-5:]] == \
        [r.loss for r in reference.run.records.all()[-5:]]
