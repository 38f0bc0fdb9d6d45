"""Training on the tasks that need the network API's losses: "mse" (adding) and -1 unscored targets
(temporal order). These need rnnviz.engine.network (the generalised engine, cells and readout);
they fail with the vanilla-only rnnviz.engine.rnn until train.py's network block imports it."""

import math

import numpy as np
import pytest

from rnnviz.engine import init_parameters
from rnnviz.engine.tasks import make_task, task_sizes
from rnnviz.engine.train import Trainer, TrainSettings, forward, train


def net(task, n_s=32, seed=0, kind="orthogonal", radius=0.9, **options):
    n_x, n_y, _ = task_sizes(task, **options)
    return init_parameters(np.random.default_rng(seed), n_x, n_s, n_y, kind=kind, spectral_radius=radius,
                           u_scale=1.0, v_scale=1.0, ba_scale=0.0, by_scale=0.0)


def test_adding_record_loss_is_the_mse_at_the_last_step():
    params = net("adding", T=10)
    start = {k: v.copy() for k, v in params.as_dict().items()}
    record = Trainer(params, TrainSettings(task="adding", task_options={"T": 10}, m=16)).step()
    task = make_task("adding", np.random.default_rng([0, 0]), 16, T=10)
    z = forward(type(params)(**start), task.x, np.zeros((32, 16)), loss="mse").z
    want = float(((z[0, :, -1] - task.targets[0, :, -1]) ** 2).sum() / 16)
    assert record.loss == pytest.approx(want, rel=1e-13)
    assert record.accuracy is None and record.baseline == pytest.approx(1 / 6 - 1 / 60)


def test_temporal_order_record_loss_scores_the_last_step_only():
    params = net("temporal_order", T=10)
    start = {k: v.copy() for k, v in params.as_dict().items()}
    record = Trainer(params, TrainSettings(task="temporal_order", task_options={"T": 10}, m=16)).step()
    task = make_task("temporal_order", np.random.default_rng([0, 0]), 16, T=10)
    y = forward(type(params)(**start), task.x, np.zeros((32, 16))).y
    want = -float(np.log(y[task.targets[:, -1], np.arange(16), -1]).sum() / 16)
    assert record.loss == pytest.approx(want, rel=1e-13)
    assert record.grad_profile.shape == (10,) and np.isfinite(record.grad_profile).all()


def test_the_adding_problem_is_learnt():
    settings = TrainSettings(task="adding", task_options={"T": 10}, m=32, lr=1e-2, clip="norm", clip_threshold=1.0)
    records = list(train(net("adding", T=10), settings, 200))
    base = records[0].baseline
    assert np.mean([r.loss for r in records[-20:]]) < 0.3 * base
    assert all(math.isfinite(r.loss) for r in records)


def test_the_temporal_order_is_learnt_at_a_short_length():
    settings = TrainSettings(task="temporal_order", task_options={"T": 10}, m=32, lr=1e-2)
    records = list(train(net("temporal_order", T=10), settings, 200))
    assert np.mean([r.loss for r in records[-20:]]) < 0.3 * math.log(4)
    assert np.mean([r.accuracy for r in records[-20:]]) > 0.9
