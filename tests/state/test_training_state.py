"""Training in the state layer, without Qt: a task sets the network's sizes and data, a run's
records equal a plain engine Trainer's, the views follow the weights, scrubbing, branching,
resetting, and a trained session saved and opened again."""
import numpy as np
import pytest

from rnnviz.engine.train import Trainer
from rnnviz.state import jsontext, sessionfile, training
from rnnviz.state.workspace import Workspace


def trained(w, n):
    """Run n iterations of the workspace's training stream in-line (the worker does this)."""
    stream = w.start_training(n)
    while stream.step():
        pass
    return stream


@pytest.fixture
def copy_task():
    w = Workspace()
    assert w.set_training(task="copy", task_options={"lag": 5}, m=8, lr=1e-2) == []
    return w


def test_a_task_sets_the_networks_sizes_and_the_data_the_views_show(copy_task):
    w = copy_task
    assert (w.config.n_x, w.config.n_y, w.config.T) == (10, 9, 25)
    assert w.config.input_pattern == "task" and w.params.W.shape == (w.config.n_s, w.config.n_s)
    view = training.view_batch(w.training, w.config.m, w.config.dtype)
    np.testing.assert_array_equal(w.x, view.x)
    np.testing.assert_array_equal(w.targets, view.targets)
    problems = w.apply(T=30)                               # the task owns T
    assert problems and "training task" in problems[0].message and w.config.T == 25
    result = w.compute_now()
    assert np.isfinite(result.grads.loss)


def test_the_runs_records_are_a_plain_trainers_bit_for_bit(copy_task):
    w = copy_task
    start = w.params.copy()
    trained(w, 12)
    records = w.run.records.all()
    reference = list(Trainer(start.copy(), w.training.settings()).run(12))
    assert [r.loss for r in records] == [r.loss for r in reference]
    assert [r.grad_norm for r in records] == [r.grad_norm for r in reference]
    assert w.follow_training() and w.selection_iteration == 12
    np.testing.assert_array_equal(w.params.W, w.run.latest()[1].W)
    assert not w.follow_training()                        # nothing new since


def test_editing_the_learning_rate_reaches_the_next_iteration(copy_task):
    w = copy_task
    trained(w, 3)
    assert w.set_training(lr=0.05) == []
    trained(w, 2)
    assert [r.lr for r in w.run.records.all()] == [0.01] * 3 + [0.05] * 2


def test_scrub_branch_and_reset(copy_task):
    w = copy_task
    W0 = w.params.W.copy()
    trained(w, 40)
    w.follow_training()
    assert w.show_iteration(0) == [] and w.selection_iteration == 0
    np.testing.assert_array_equal(w.params.W, W0)
    k = w.run.timeline.iterations[len(w.run.timeline) // 2]
    w.show_iteration(k)
    assert w.branch_training() == [] and w.run.iteration == k
    assert [r.iteration for r in w.run.records.all()] == list(range(k))
    trained(w, 3)
    assert w.run.iteration == k + 3
    w.reset_training()
    assert w.run is None
    np.testing.assert_array_equal(w.params.W, W0)


def test_a_trained_session_saves_and_opens_again_and_continues_exactly(copy_task, tmp_path):
    w = copy_task
    trained(w, 10)
    w.follow_training()
    w.save_file(tmp_path / "t.json")
    structure = jsontext.scan((tmp_path / "t.json").read_bytes(), sessionfile.LIMITS)
    assert structure.depth == sessionfile.LIMITS.depth      # the run's optimiser state: deepest
    other = Workspace()
    other.load_file(tmp_path / "t.json")
    assert other.training == w.training and other.run.iteration == 10
    np.testing.assert_array_equal(other.params.W, w.params.W)
    assert [r.loss for r in other.run.records.all()] == [r.loss for r in w.run.records.all()]
    trained(w, 5)
    trained(other, 5)
    assert [r.loss for r in other.run.records.all()[-5:]] == [r.loss for r in w.run.records.all()[-5:]]


def test_a_diverging_run_stops_with_a_message_and_keeps_finite_weights():
    w = Workspace()
    w.set_training(task="recall", task_options={"symbols": 4, "T": 20, "delay": 2}, lr=10.0,
                   optimizer="sgd", clip="off")
    w.apply(spectral_radius=2.5, activation="linear")
    stream = trained(w, 200)
    last = w.run.records.latest()
    assert last.stopped and f"iteration {last.iteration}" in last.stopped
    assert stream.finished
    w.follow_training()
    assert all(np.all(np.isfinite(getattr(w.params, n))) for n in w.params.names)


def test_bad_training_settings_change_nothing(copy_task):
    w = copy_task
    before = w.training
    for bad in ({"lr": -1}, {"task": "nope"}, {"clip": "sometimes"}, {"task_options": {"lag": 0}},
                {"m": 10**6}, {"optimizer_options": {"momentum": "x"}}):
        problems = w.set_training(**bad)
        assert problems and problems[0].field == "training", bad
        assert w.training == before
