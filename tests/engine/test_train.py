"""The training loop: it learns where it must, its records, settings edits, determinism, restore, NaN stops."""

import math

import numpy as np
import pytest

from rnnviz.engine import backward, forward, init_parameters
from rnnviz.engine.optim import Adam
from rnnviz.engine.tasks import make_task, task_sizes
from rnnviz.engine.train import (
    Trainer,
    TrainSettings,
    gradient_profile,
    largest_singular_value,
    sample_text,
    spectral_radius,
    train,
)


def net(task="recall", n_s=16, seed=0, kind="orthogonal", radius=0.9, **options):
    n_x, n_y, _ = task_sizes(task, **options)
    return init_parameters(np.random.default_rng(seed), n_x, n_s, n_y, kind=kind, spectral_radius=radius,
                           u_scale=1.0, v_scale=1.0, ba_scale=0.0, by_scale=0.0)


RECALL = {"symbols": 4, "T": 10, "delay": 1}


def recall_settings(**changes):
    return TrainSettings(**{"task": "recall", "task_options": dict(RECALL), "m": 16, "lr": 1e-2, **changes})


def test_delayed_recall_is_learnt():
    records = list(train(net(**RECALL), recall_settings(), 150))
    base = records[0].baseline
    assert base == pytest.approx(9 * math.log(4))
    assert records[0].loss > 0.9 * base                      # untrained: about the memoryless loss
    assert np.mean([r.loss for r in records[-10:]]) < 0.1 * base
    assert records[-1].accuracy == 1.0


def test_text_loss_falls_below_the_bigram_baseline():
    text = "a rose is a rose is a rose. " * 6
    settings = TrainSettings(task="text", task_options={"text": text, "T": 12}, m=16, lr=2e-2)
    records = list(train(net("text", n_s=24, text=text, T=12), settings, 150))
    assert np.mean([r.loss for r in records[-10:]]) < 0.5 * records[0].baseline


def test_records_hold_what_the_iteration_measured():
    params = net(**RECALL)
    start = {k: v.copy() for k, v in params.as_dict().items()}
    settings = recall_settings(clip="norm", clip_threshold=0.5)
    record = Trainer(params, settings).step()
    # the same batch and gradients, recomputed from the starting weights
    task = make_task("recall", np.random.default_rng([0, 0]), 16, **RECALL)
    p0 = type(params)(**start)
    g = backward(p0, forward(p0, task.x, np.zeros((16, 16))), task.targets)
    assert record.iteration == 0 and record.loss == g.loss
    assert record.accuracy == task.accuracy(forward(p0, task.x, np.zeros((16, 16))).z)
    assert record.grad_norms == {k: float(np.linalg.norm(getattr(g, "d" + k))) for k in start}
    assert record.grad_norm == pytest.approx(math.sqrt(sum(v * v for v in record.grad_norms.values())), rel=1e-14)
    assert record.clipped and record.grad_norm > 0.5
    assert record.grad_norm_clipped == pytest.approx(0.5 * record.grad_norm / (record.grad_norm + 1e-6), rel=1e-12)
    per_example = np.linalg.norm(16 * g.ds, axis=0)         # ||dL_b/ds_t||, (m, T)
    np.testing.assert_allclose(record.grad_profile, per_example.mean(axis=0), rtol=1e-13)
    assert record.rho == pytest.approx(0.9, rel=1e-12)        # orthogonal * 0.9
    assert record.sigma_max == pytest.approx(0.9, rel=1e-12)
    assert record.spectra == {"W": (record.rho, record.sigma_max)}
    assert record.lr == 1e-2 and record.stopped is None and record.baseline == 9 * math.log(4)


def test_clipping_off_and_by_value():
    a = Trainer(net(**RECALL), recall_settings(clip="off")).step()
    assert not a.clipped and a.grad_norm_clipped == a.grad_norm
    b = Trainer(net(**RECALL), recall_settings(clip="value", clip_threshold=1e-3)).step()
    assert b.clipped and b.grad_norm_clipped < b.grad_norm
    n = sum(p.size for p in net(**RECALL).as_dict().values())
    assert b.grad_norm_clipped <= 1e-3 * math.sqrt(n) + 1e-15
    c = Trainer(net(**RECALL), recall_settings(clip="norm", clip_threshold=1e6)).step()
    assert not c.clipped and c.grad_norm_clipped == c.grad_norm


def test_spectrum_matches_dense_linear_algebra():
    rng = np.random.default_rng(1)
    for W in [rng.normal(size=(40, 40)) / 6, np.array([[0.5, 10.0], [0.0, 0.5]])]:
        assert spectral_radius(W) == pytest.approx(np.abs(np.linalg.eigvals(W)).max(), rel=1e-13)
        assert largest_singular_value(W) == pytest.approx(np.linalg.norm(W, 2), rel=1e-13)
    # the non-normal one by hand: rho = 0.5; sigma^2 = (s + sqrt(s^2 - 4 a^4)) / 2, s = 2a^2 + b^2
    s = 2 * 0.25 + 100.0
    assert largest_singular_value(np.array([[0.5, 10.0], [0.0, 0.5]])) == \
        pytest.approx(math.sqrt((s + math.sqrt(s * s - 4 * 0.0625)) / 2), rel=1e-14)
    assert math.isnan(spectral_radius(np.array([[np.inf]])))


def test_spectrum_every():
    records = list(train(net(**RECALL), recall_settings(spectrum_every=3), 5))
    assert [math.isnan(r.rho) for r in records] == [False, True, True, False, True]
    assert records[1].spectra == {} and math.isnan(records[1].sigma_max)


def test_gradient_profile_of_a_batch():
    ds = np.zeros((2, 3, 4))
    ds[:, 0, 1] = [3.0, 4.0]                                  # ||.|| = 5 for example 0 at t = 1
    ds[:, 2, 1] = [0.0, 1.0]
    np.testing.assert_array_equal(gradient_profile(ds), [0.0, 6.0, 0.0, 0.0])


def test_the_same_seed_gives_the_same_records_bit_for_bit():
    def run():
        return list(train(net(**RECALL), recall_settings(optimizer="rmsprop", clip="value", clip_threshold=0.1), 15))
    a, b = run(), run()
    for ra, rb in zip(a, b):
        assert (ra.loss, ra.grad_norm, ra.grad_norm_clipped, ra.rho, ra.sigma_max, ra.accuracy) == \
               (rb.loss, rb.grad_norm, rb.grad_norm_clipped, rb.rho, rb.sigma_max, rb.accuracy)
        assert ra.grad_norms == rb.grad_norms
        np.testing.assert_array_equal(ra.grad_profile, rb.grad_profile)
    other = list(train(net(**RECALL), recall_settings(seed=1), 2))
    assert other[1].loss != a[1].loss


def test_settings_edited_between_iterations_take_effect():
    params = net(**RECALL)
    settings = recall_settings(optimizer="sgd", optimizer_options={"momentum": 0.9})
    trainer = Trainer(params, settings)
    trainer.step()
    assert trainer.optimizer.momentum == 0.9
    settings.lr = 0.0
    before = {k: v.copy() for k, v in params.as_dict().items()}
    record = trainer.step()
    assert record.lr == 0.0
    for k, v in params.as_dict().items():
        np.testing.assert_array_equal(v, before[k])         # lr 0: nothing moves
    sgd = trainer.optimizer
    settings.optimizer_options = {}                          # momentum back to torch's default 0
    trainer.step()
    assert trainer.optimizer is sgd and sgd.momentum == 0.0 and "momentum_buffer" in sgd.state["W"]
    settings.optimizer, settings.lr = "adam", 1e-3           # another optimiser: fresh state
    trainer.step()
    assert isinstance(trainer.optimizer, Adam) and trainer.optimizer.state["W"]["step"] == 1
    settings.m = 5
    settings.task_options["T"] = 7                           # same n_x, n_y: allowed
    assert trainer.step().grad_profile.shape == (7,)
    settings.task, settings.task_options = "copy", {}        # n_x = 10: does not fit
    with pytest.raises(ValueError, match="task: expected a task with n_x=4, n_y=4"):
        trainer.step()


def test_restored_state_continues_exactly():
    settings = recall_settings(optimizer="adam", clip="norm", clip_threshold=0.3)
    trainer = Trainer(net(**RECALL), settings)
    for _ in range(4):
        trainer.step()
    saved_params = {k: v.copy() for k, v in trainer.params.as_dict().items()}
    saved = trainer.state_dict()
    original = [trainer.step() for _ in range(4)]
    restored = Trainer(type(trainer.params)(**saved_params), recall_settings(optimizer="adam", clip="norm",
                                                                             clip_threshold=0.3))
    restored.load_state_dict(saved)
    again = [restored.step() for _ in range(4)]
    assert [r.iteration for r in again] == [4, 5, 6, 7]
    assert [r.loss for r in again] == [r.loss for r in original]
    for k, v in restored.params.as_dict().items():
        np.testing.assert_array_equal(v, trainer.params.as_dict()[k])


def test_a_diverging_run_stops_with_the_last_finite_parameters():
    # relu, no clipping, a large learning rate: the states and gradients blow up within a few steps
    params = net(n_s=16, kind="gaussian", radius=1.2, symbols=4, T=30, delay=2)
    settings = TrainSettings(task="recall", task_options={"T": 30, "delay": 2}, optimizer="sgd", lr=0.1,
                             clip="off", m=8)
    trainer = Trainer(params, settings, activation="relu")
    last = None
    records = []
    for record in trainer.run(100):
        if record.stopped is None:
            last = {k: v.copy() for k, v in params.as_dict().items()}
        records.append(record)
    stop = records[-1]
    assert len(records) < 100 and stop.stopped and all(r.stopped is None for r in records[:-1])
    k = stop.iteration
    assert records[-2].iteration == k - 1 and last is not None
    assert f"iteration {k}:" in stop.stopped and not math.isfinite(stop.loss)
    assert trainer.iteration == k and trainer.stopped == stop.stopped
    for name, v in params.as_dict().items():                 # those iteration k was evaluated with
        np.testing.assert_array_equal(v, last[name])
        assert np.isfinite(v).all()
    assert all(math.isfinite(r.loss) for r in records[:-1])


def test_an_overflowing_update_is_undone():
    params = net(**RECALL)
    start = {k: v.copy() for k, v in params.as_dict().items()}
    # lr * (g + weight_decay * theta) overflows to inf at the first update
    trainer = Trainer(params, recall_settings(optimizer="sgd", lr=1e300,
                                              optimizer_options={"weight_decay": 1e300}, clip="off"))
    records = list(trainer.run(10))
    assert len(records) == 1 and "iteration 0: the update made" in records[0].stopped
    assert math.isfinite(records[0].loss)
    for k, v in params.as_dict().items():
        np.testing.assert_array_equal(v, start[k])
    assert trainer.iteration == 0 and trainer.optimizer.state == {}
    trainer.settings.lr, trainer.settings.optimizer_options = 1e-2, {}   # go on, more gently
    assert trainer.step().stopped is None and trainer.iteration == 1


@pytest.mark.parametrize("field,value,match", [
    ("m", 0, "m: expected an integer >= 1"),
    ("lr", -1.0, "lr: expected a number >= 0"),
    ("clip", "sometimes", "clip: expected one of 'off', 'norm', 'value'"),
    ("clip_threshold", 0.0, "clip_threshold: expected a number > 0 when clipping"),
    ("optimizer", "lbfgs", "optimizer: expected one of"),
    ("task", "sorting", "task: expected one of"),
    ("seed", -1, "seed"),
    ("spectrum_every", 0, "spectrum_every"),
    ("optimizer_options", {"betas": (0.9, 2.0)}, "betas"),
    ("task_options", {"lag": 3}, "options of 'recall'"),
])
def test_bad_settings_raise_naming_the_field(field, value, match):
    settings = recall_settings(optimizer="adam")
    setattr(settings, field, value)
    with pytest.raises(ValueError, match=match):
        Trainer(net(**RECALL), settings).step()


def test_sample_text():
    text = "hello world. "
    params = net("text", text=text, T=5)
    alphabet = "".join(sorted(set(text)))
    a = sample_text(params, alphabet, np.random.default_rng(0), 40, prime="he", temperature=0.7)
    b = sample_text(params, alphabet, np.random.default_rng(0), 40, prime="he", temperature=0.7)
    assert a == b and len(a) == 40 and set(a) <= set(alphabet)
    with pytest.raises(ValueError, match="temperature"):
        sample_text(params, alphabet, np.random.default_rng(0), 5, temperature=0.0)
    with pytest.raises(ValueError, match="prime"):
        sample_text(params, alphabet, np.random.default_rng(0), 5, prime="xyz")
    with pytest.raises(ValueError, match="alphabet"):
        sample_text(params, alphabet[:-1], np.random.default_rng(0), 5)
