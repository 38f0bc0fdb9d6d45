"""The Qt-free pieces behind the window's training: the curves the plots draw (every record, read
incrementally), the lag x iteration image, the panel's typed values and text files, text samples,
and the workspace rules the window relies on (a hand edit ends the run, flow out of sight)."""
import math

import numpy as np
import pytest

from rnnviz.engine.train import sample_text
from rnnviz.state import files, sampling, training, training_curves, training_form
from rnnviz.state.jobs import RecordLog
from rnnviz.state.workspace import Workspace


def trained(w, n):
    stream = w.start_training(n)
    while stream.step():
        pass


@pytest.fixture
def copy_task():
    w = Workspace()
    assert w.set_training(task="copy", task_options={"lag": 5}, m=8, lr=1e-2) == []
    return w


def test_the_cache_holds_every_record_read_in_pieces_equal_to_the_state_columns(copy_task):
    w = copy_task
    cache = training_curves.CurveCache()
    assert cache.update(None) == (id(None), 0)
    trained(w, 7)
    cache.update(w.run)
    trained(w, 300)                                  # past the first capacity (256)
    key = cache.update(w.run)
    assert key == (id(w.run.records), 307) and cache.n == 307
    want = training.curves(w.run.records.all())
    for name in training_curves.FLOAT_KEYS + ("iteration", "clipped"):
        np.testing.assert_array_equal(cache.column(name), want[name], err_msg=name)
    logs = np.log10(training.profile_matrix(w.run.records.all()))
    np.testing.assert_array_equal(cache.log_profile(), logs)
    assert cache.update(w.run) == key                # nothing new: the same key


def test_a_new_run_or_a_branch_starts_the_cache_again(copy_task):
    w = copy_task
    cache = training_curves.CurveCache()
    trained(w, 40)
    cache.update(w.run)
    w.show_iteration(w.run.timeline.iterations[1])
    w.branch_training()
    cache.update(w.run)
    assert cache.n == len(w.run.records) < 40
    w.reset_training()
    assert cache.update(w.run) == (id(None), 0)


def test_records_read_from_a_file_have_curves_but_no_profile(copy_task, tmp_path):
    w = copy_task
    trained(w, 5)
    w.follow_training()
    w.save_file(tmp_path / "t.json")
    other = Workspace()
    other.load_file(tmp_path / "t.json")
    cache = training_curves.CurveCache()
    cache.update(other.run)
    assert cache.n == 5 and cache.log_profile().shape == (0, 5)
    assert training_curves.profile_image(cache) is None
    trained(other, 3)                                # new records bring their profiles
    cache.update(other.run)
    image, *_ = training_curves.profile_image(cache)
    assert image.shape == (other.config.T, 8) and np.isnan(image[:, :5]).all()


def test_the_profile_image_puts_lag_upwards_and_bins_long_runs():
    class Run:
        records = RecordLog()
    T, n = 4, 10
    profiles = np.arange(1, T * n + 1, dtype=float).reshape(n, T)
    for k in range(n):
        Run.records.append(training.SavedRecord(k, 1.0, None, 1.0, 1.0, False, 1.0, 1.0, 0.1,
                                                grad_profile=profiles[k]))
    cache = training_curves.CurveCache()
    cache.update(Run)
    image, levels, first, per_column = training_curves.profile_image(cache, max_columns=4)
    assert (first, per_column) == (0, 3.0) and image.shape == (T, 4)     # 3 + 3 + 3 + 1
    logs = np.log10(profiles).T[::-1]                # row r: lag r = T - 1 - t
    np.testing.assert_allclose(image[:, 0], logs[:, 0:3].mean(axis=1))
    np.testing.assert_allclose(image[:, 3], logs[:, 9])
    assert levels[0] < levels[1]


def test_baseline_is_the_tasks(copy_task):
    assert training_curves.baseline(copy_task.training) == pytest.approx(10 * math.log(8))


def test_hyper_parameters_come_with_torchs_defaults():
    adam = {h.name: h for h in training_form.hyperparameters("adam")}
    assert adam["betas"].default == (0.9, 0.999) and adam["eps"].default == 1e-8
    assert adam["betas"].kind == "pair" and "lr" not in adam
    sgd = {h.name: h for h in training_form.hyperparameters("sgd")}
    assert sgd["nesterov"].kind == "bool" and sgd["momentum"].default == 0.0
    rms = {h.name: h for h in training_form.hyperparameters("rmsprop")}
    assert rms["alpha"].default == 0.99 and rms["centered"].default is False
    setup = training.make_training(optimizer="adam", optimizer_options={"eps": 1e-6})
    assert training_form.hyper_values(setup) == {"betas": (0.9, 0.999), "eps": 1e-6,
                                                 "weight_decay": 0.0}


def test_typed_numbers_are_read_or_refused_naming_the_setting():
    assert training_form.parse_number(" 3e-4 ", "learning rate") == 3e-4
    assert training_form.parse_number("−2", "x") == -2.0
    for text in ("fast", "nan", "inf", ""):
        with pytest.raises(training.TrainingError, match="learning rate"):
            training_form.parse_number(text, "learning rate")
    assert training_form.parse_pair("0.8, 0.99", "betas") == (0.8, 0.99)
    with pytest.raises(training.TrainingError, match="two numbers"):
        training_form.parse_pair("0.8", "betas")


def test_text_files_up_to_the_stated_size(tmp_path):
    good = tmp_path / "a.txt"
    good.write_bytes("\ufeffline one\r\nline two\n".encode("utf-8"))
    assert training_form.read_text_file(good) == "line one\nline two\n"
    big = tmp_path / "big.txt"
    big.write_text("é" * (training_form.MAX_TEXT_CHARS + 1), encoding="utf-8")
    with pytest.raises(files.FileError, match="at most 50,000"):
        training_form.read_text_file(big)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(files.FileError, match="not UTF-8"):
        training_form.read_text_file(latin)
    with pytest.raises(files.FileError):
        training_form.read_text_file(tmp_path)       # a folder


def test_a_sample_is_the_engines_for_the_weights_shown():
    w = Workspace()
    assert sampling.sample_request(w, 1) is None and "text task" in sampling.why_not(w)
    assert w.set_training(task="text", task_options={"text": "abab cabab", "T": 4}) == []
    request = sampling.sample_request(w, 3, temperature=0.5, length=30)
    result = sampling.sample(request)
    rng = np.random.default_rng([w.training.seed, sampling.SAMPLE_STREAM + 2**32])
    want = sample_text(w.params, " abc", rng, 30, temperature=0.5, prime="a")
    assert result.text == want and result.request_id == 3 and result.error is None
    assert sampling.sample(request).text == want     # the same weights: the same sample
    assert sampling.sample_request(w, 4, temperature=99).temperature == 2.0   # clamped


def test_a_hand_change_of_the_network_ends_the_run(copy_task):
    w = copy_task
    trained(w, 3)
    seen = []
    w.events.subscribe(lambda name, **p: seen.append((name, p.get("what"))))
    assert w.apply(m=2) == [] and w.run is not None           # the views' batch: the run goes on
    assert w.apply(spectral_radius=1.2) == [] and w.run is None
    assert ("training", "reset") in seen
    trained(w, 2)
    assert w.set_weight("W", 0, 0, 0.5) == [] and w.run is None
    trained(w, 2)
    assert w.reinitialise() == [] and w.run is None


def test_the_flow_stage_is_skipped_while_out_of_sight(copy_task):
    w = copy_task
    w.compute_now()
    assert "flow" in w.result.stages and not w.needs_compute
    w.set_out_of_sight({"flow", "states"})
    assert "flow" not in w.stages and not w.needs_compute
    r = w.compute_now()
    assert "flow" not in r.stages and w.view["panels"]["flow"] is True
    w.set_out_of_sight(())
    assert w.needs_compute
