"""Each task's definition (shapes, markers, targets), its options and its memoryless baseline."""

import math

import numpy as np
import pytest

from rnnviz.engine.data import make_inputs, make_targets
from rnnviz.engine.tasks import (
    MAX_TEXT_CHARS,
    TASKS,
    baseline,
    default_text,
    make_task,
    task_options,
    task_sizes,
    temporal_order_positions,
)


def rng(seed=0):
    return np.random.default_rng(seed)


def codes(x):
    """The one-hot classes (m, T) of x (n_x, m, T), after checking it is one-hot."""
    assert set(np.unique(x)) <= {0.0, 1.0} and (x.sum(axis=0) == 1).all()
    return np.argmax(x, axis=0)


def plugin_memoryless_loss(fit, test):
    """The loss on `test` of the memoryless predictor p(target | t, class of x_t) counted on `fit`
    (a large independent batch): an empirical estimate of the best memoryless strategy."""
    n_in, T = fit.n_x, fit.T
    counts = np.full((T, n_in, fit.n_y), 1e-9)
    c_fit, c_test = codes(fit.x), codes(test.x)
    t_idx = np.broadcast_to(np.arange(T), fit.targets.shape)
    ok = fit.targets >= 0
    np.add.at(counts, (t_idx[ok], c_fit[ok], fit.targets[ok]), 1.0)
    p = counts / counts.sum(axis=2, keepdims=True)
    t_idx = np.broadcast_to(np.arange(T), test.targets.shape)
    ok = test.targets >= 0
    return float(-np.log(p[t_idx[ok], c_test[ok], test.targets[ok]]).sum() / test.m)


# ---- copy ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("lag", [1, 7])
def test_copy_definition(lag):
    task = make_task("copy", rng(), 50, lag=lag)
    T = lag + 20
    assert task.x.shape == (10, 50, T) and task.targets.shape == (50, T) and task.T == T
    assert (task.n_x, task.n_y, task.loss) == (10, 9, "cross_entropy")
    c = codes(task.x)
    assert ((c[:, :10] >= 1) & (c[:, :10] <= 8)).all()
    assert (c[:, 10:lag + 9] == 0).all()                  # lag - 1 blanks
    assert (c[:, lag + 9] == 9).all()                     # the marker
    assert (c[:, lag + 10:] == 0).all()                   # ten blanks
    assert (task.targets[:, :lag + 10] == 0).all()
    np.testing.assert_array_equal(task.targets[:, lag + 10:], c[:, :10])
    assert task.scored.all()
    assert set(np.unique(c[:, :10])) == set(range(1, 9))  # every symbol drawn


def test_copy_baseline_is_the_memoryless_optimum():
    assert baseline("copy", lag=5) == 10 * math.log(8)
    fit, test = make_task("copy", rng(1), 20000, lag=2), make_task("copy", rng(2), 2000, lag=2)
    assert plugin_memoryless_loss(fit, test) == pytest.approx(10 * math.log(8), abs=0.05)


# ---- adding --------------------------------------------------------------------------------------

@pytest.mark.parametrize("T", [2, 9, 50])
def test_adding_definition(T):
    task = make_task("adding", rng(), 200, T=T)
    assert task.x.shape == (2, 200, T) and task.targets.shape == (1, 200, T)
    assert (task.n_x, task.n_y, task.loss) == (2, 1, "mse")
    values, marks = task.x[0], task.x[1]
    assert ((values >= 0) & (values < 1)).all()
    assert set(np.unique(marks)) <= {0.0, 1.0}
    half = T // 2
    assert (marks[:, :half].sum(axis=1) == 1).all() and (marks[:, half:].sum(axis=1) == 1).all()
    np.testing.assert_array_equal(task.targets[0, :, T - 1], (values * marks).sum(axis=1))
    assert np.isnan(task.targets[0, :, :T - 1]).all()
    assert task.scored[:, T - 1].all() and not task.scored[:, :T - 1].any()
    assert task.accuracy_mask is None and task.accuracy(np.zeros((1, 200, T))) is None


@pytest.mark.parametrize("T", [4, 20])
def test_adding_baseline_agrees_with_the_memoryless_strategy(T):
    task = make_task("adding", rng(3), 100_000, T=T)
    target = task.targets[0, :, -1]
    last_marked = task.x[1, :, -1] == 1
    best = np.where(last_marked, task.x[0, :, -1] + 0.5, 1.0)   # the conditional mean given x_T
    err = (best - target) ** 2
    se = err.std() / math.sqrt(err.size)
    assert err.mean() == pytest.approx(baseline("adding", T=T), abs=4 * se)
    assert baseline("adding", T=T) == 1 / 6 - 1 / (12 * (T - T // 2))
    always_one = (1.0 - target) ** 2                               # the papers' 1/6
    assert always_one.mean() == pytest.approx(1 / 6, abs=4 * always_one.std() / math.sqrt(err.size))


# ---- recall --------------------------------------------------------------------------------------

def test_recall_is_the_existing_delayed_copy_pattern():
    task = make_task("recall", rng(4), 30, symbols=5, T=12, delay=3)
    r = rng(4)
    x = make_inputs(r, "symbols", 5, 30, 12)
    np.testing.assert_array_equal(task.x, x)
    np.testing.assert_array_equal(task.targets, make_targets(r, "copy", x, 5, delay=3))
    c = codes(task.x)
    np.testing.assert_array_equal(task.targets[:, 3:], c[:, :-3])
    assert (task.targets[:, :3] == 0).all()
    assert task.accuracy_mask[:, 3:].all() and not task.accuracy_mask[:, :3].any()


@pytest.mark.parametrize("delay", [0, 1, 4])
def test_recall_baseline(delay):
    want = (10 - delay) * math.log(3) if delay else 0.0
    assert baseline("recall", symbols=3, T=10, delay=delay) == want
    fit = make_task("recall", rng(5), 20000, symbols=3, T=10, delay=delay)
    test = make_task("recall", rng(6), 4000, symbols=3, T=10, delay=delay)
    assert plugin_memoryless_loss(fit, test) == pytest.approx(want, abs=0.03)


# ---- text ----------------------------------------------------------------------------------------

def test_default_text_ships_with_the_package():
    text = default_text()
    assert text.startswith("It is a truth universally acknowledged, that a single man in possession")
    assert 3000 < len(text) < 10000
    n_x, n_y, T = task_sizes("text")
    assert n_x == n_y == len(set(text)) and T == 25


def test_text_windows_are_the_text_and_its_next_characters():
    text = "the cat sat on the mat. " * 5
    task = make_task("text", rng(7), 40, text=text, T=9)
    alphabet = "".join(sorted(set(text)))
    assert task.alphabet == alphabet and task.n_x == task.n_y == len(alphabet)
    c = codes(task.x)
    for b in range(40):
        window = "".join(alphabet[i] for i in c[b])
        nxt = "".join(alphabet[i] for i in task.targets[b])
        o = text.find(window + nxt[-1])
        assert o >= 0 and nxt == text[o + 1:o + 10]
    assert task.accuracy_mask.all()


def test_text_baseline_is_the_exact_conditional_entropy_over_all_windows():
    text = "abracadabra, a cadaver! bar a dab. " * 3
    T = 6
    N = len(text) - T
    # every offset once: the exact expectation over the uniform window start
    windows = np.array([[text[o + t] for t in range(T + 1)] for o in range(N)])
    want = 0.0
    for t in range(T):
        pairs = {}
        for o in range(N):
            pairs.setdefault(windows[o, t], []).append(windows[o, t + 1])
        for nexts in pairs.values():
            _, n = np.unique(nexts, return_counts=True)
            want += len(nexts) / N * -(n / len(nexts) * np.log(n / len(nexts))).sum()
    assert baseline("text", text=text, T=T) == pytest.approx(want, rel=1e-12)
    assert baseline("text", text="abababab", T=3) == 0.0     # each character decides the next


def test_text_options_are_checked():
    with pytest.raises(ValueError, match=r"T: expected an integer in \[1, 4\]"):
        make_task("text", rng(), 2, text="hello", T=5)
    with pytest.raises(ValueError, match=f"text: expected between 2 and {MAX_TEXT_CHARS} characters"):
        make_task("text", rng(), 2, text="x")
    with pytest.raises(ValueError, match="text: expected at most 256 distinct characters"):
        make_task("text", rng(), 2, text="".join(map(chr, range(300, 700))), T=3)
    with pytest.raises(ValueError, match="text: expected a string"):
        make_task("text", rng(), 2, text=b"bytes")


# ---- temporal order ------------------------------------------------------------------------------

@pytest.mark.parametrize("T", [10, 37, 100])
def test_temporal_order_definition(T):
    task = make_task("temporal_order", rng(8), 300, T=T)
    assert task.x.shape == (8, 300, T) and (task.n_x, task.n_y) == (8, 4)
    c = codes(task.x)
    assert (c[:, 0] == 6).all() and (c[:, -1] == 7).all()          # B ... E
    relevant = (c == 4) | (c == 5)                                  # X or Y
    assert (relevant.sum(axis=1) == 2).all()
    inner = c[:, 1:-1][~relevant[:, 1:-1]]
    assert ((inner >= 0) & (inner <= 3)).all()                      # distractors a..d
    (lo1, hi1), (lo2, hi2) = temporal_order_positions(T)
    t1, t2 = (np.nonzero(relevant)[1].reshape(300, 2)).T
    assert ((t1 >= lo1) & (t1 <= hi1) & (t2 >= lo2) & (t2 <= hi2)).all()
    if T == 100:
        assert (lo1, hi1, lo2, hi2) == (10, 20, 50, 60)             # Hochreiter & Schmidhuber's
    rows = np.arange(300)
    order = 2 * (c[rows, t1] == 5) + (c[rows, t2] == 5)
    np.testing.assert_array_equal(task.targets[:, -1], order)
    assert (task.targets[:, :-1] == -1).all() and task.scored[:, -1].all() and task.scored.sum() == 300
    assert task.baseline == math.log(4)


def test_temporal_order_baseline_is_the_memoryless_optimum():
    fit = make_task("temporal_order", rng(9), 40000, T=20)
    test = make_task("temporal_order", rng(10), 4000, T=20)
    assert plugin_memoryless_loss(fit, test) == pytest.approx(math.log(4), abs=0.01)


# ---- what all tasks share ------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_draws_with_its_defaults_and_fits_its_registry(name):
    spec = TASKS[name]
    assert spec.description and "\n" not in spec.description and spec.source
    defaults = {o.name: o.default for o in spec.options}
    assert task_options(name) == defaults
    a, b = make_task(name, rng(11), 6), make_task(name, rng(11), 6)
    np.testing.assert_array_equal(a.x, b.x)                         # same generator state, same batch
    r = rng(12)
    assert not np.array_equal(make_task(name, r, 6).x, make_task(name, r, 6).x)   # fresh per call
    assert (a.n_x, a.n_y, a.T) == task_sizes(name) and a.x.shape == (a.n_x, 6, a.T)
    assert a.loss == spec.loss and a.baseline == baseline(name) and a.baseline >= 0
    assert make_task(name, rng(), 3, dtype=np.float32).x.dtype == np.float32
    assert (spec.accuracy is None) == (a.accuracy_mask is None)


def test_accuracy_counts_the_accuracy_steps_only():
    task = make_task("copy", rng(13), 4, lag=3)
    z = np.zeros((9, 4, 23))
    z[task.targets, np.arange(4)[:, None], np.arange(23)] = 1.0     # right everywhere
    assert task.accuracy(z) == 1.0
    z[:, :, :13] = 0.0
    z[5, :, :13] = 1.0                                             # wrong on the blanks only
    assert task.accuracy(z) == 1.0
    z[:, 0, 13:] = 0.0
    z[0, 0, 13:] = 1.0                                             # example 0 recalls nothing
    assert task.accuracy(z) == 0.75
    with pytest.raises(ValueError, match="z: expected shape"):
        task.accuracy(np.zeros((9, 4, 22)))


@pytest.mark.parametrize("name,options,match", [
    ("copy", {"lag": 0}, r"lag: expected an integer in \[1, 980\]"),
    ("copy", {"lag": 2.5}, r"lag: expected an integer in \[1, 980\], got 2.5"),
    ("copy", {"lag": True}, r"lag: expected an integer in \[1, 980\], got True"),
    ("adding", {"T": 1}, r"T: expected an integer in \[2, 1000\]"),
    ("recall", {"T": 5, "delay": 5}, r"delay: expected an integer in \[0, 4\]"),
    ("recall", {"symbols": 1}, r"symbols: expected an integer in \[2, 64\]"),
    ("temporal_order", {"T": 9}, r"T: expected an integer in \[10, 1000\]"),
    ("copy", {"T": 5}, "options: expected options of 'copy' among lag"),
    ("sorting", {}, "task: expected one of"),
])
def test_bad_options_raise_naming_the_option_and_its_limits(name, options, match):
    with pytest.raises(ValueError, match=match):
        make_task(name, rng(), 2, **options)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="rng"):
        make_task("copy", 0, 2)
    with pytest.raises(ValueError, match="m: expected an integer >= 1"):
        make_task("copy", rng(), 0)
    with pytest.raises(ValueError, match="dtype"):
        make_task("copy", rng(), 2, dtype=np.int32)
