"""Inputs, targets, text encoding and the explanations of impossible combinations."""

import numpy as np
import pytest

from rnnviz.engine.data import (
    INPUT_PATTERNS,
    check_pattern,
    encode_text,
    initial_state,
    input_classes,
    make_inputs,
    make_targets,
    text_alphabet,
)

TEXT = "hello world"


def decode_text(x: np.ndarray, alphabet: str) -> str:
    """The characters argmax_i x[i, t] of one sequence x (n_x, T) or (n_x, 1, T): encode_text's inverse."""
    x = np.asarray(x)
    return "".join(alphabet[c] for c in np.argmax(x.reshape(x.shape[0], -1), axis=0))


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("pattern", INPUT_PATTERNS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_shapes_dtypes_and_determinism(pattern, dtype):
    n_x = len(text_alphabet(TEXT)) if pattern == "text" else 5
    T = len(TEXT) - 2 if pattern == "text" else 9
    x = make_inputs(rng(1), pattern, n_x, 3, T, text=TEXT, dtype=dtype)
    assert x.shape == (n_x, 3, T) and x.dtype == dtype and np.all(np.isfinite(x))
    np.testing.assert_array_equal(x, make_inputs(rng(1), pattern, n_x, 3, T, text=TEXT, dtype=dtype))


@pytest.mark.parametrize("pattern", ["symbols", "text"])
def test_one_hot(pattern):
    n_x = len(text_alphabet(TEXT)) if pattern == "text" else 6
    x = make_inputs(rng(2), pattern, n_x, 4, 8, text=TEXT)
    assert set(np.unique(x)) <= {0.0, 1.0}
    np.testing.assert_array_equal(x.sum(axis=0), np.ones((4, 8)))


def test_symbols_use_every_unit():
    x = make_inputs(rng(3), "symbols", 4, 8, 50)
    assert set(np.unique(input_classes(x))) == {0, 1, 2, 3}


def test_impulse_is_a_single_one_at_t0_on_unit_0():
    x = make_inputs(rng(0), "impulse", 3, 2, 6)
    expected = np.zeros((3, 2, 6))
    expected[0, :, 0] = 1.0
    np.testing.assert_array_equal(x, expected)


def test_sine_has_a_period_and_phase_per_unit():
    x = make_inputs(rng(4), "sine", 3, 2, 200)
    assert np.max(np.abs(x)) <= 1.0 and np.max(x) > 0.99
    spectra = np.abs(np.fft.rfft(x[:, 0, :], axis=1))
    peaks = np.argmax(spectra[:, 1:], axis=1) + 1          # dominant frequency bin of each unit
    assert len(set(peaks)) == 3
    assert not np.allclose(x[:, 0, :], x[:, 1, :])          # batch elements have own phases


def test_gaussian_is_standard_normal():
    x = make_inputs(rng(5), "gaussian", 10, 20, 100)
    assert abs(x.mean()) < 0.05 and abs(x.std() - 1.0) < 0.05


def test_text_round_trip_and_windows():
    alphabet = text_alphabet(TEXT)
    assert alphabet == " dehlorw"
    one = encode_text(TEXT, alphabet)
    assert one.shape == (8, 1, 11)
    assert decode_text(one, alphabet) == TEXT
    x = make_inputs(rng(), "text", 8, 4, 9, text=TEXT)
    # element b reads text[b mod 3 : ... + 9] (len 11 - T 9 + 1 = 3 windows)
    assert [decode_text(x[:, b], alphabet) for b in range(4)] == [
        TEXT[0:9], TEXT[1:10], TEXT[2:11], TEXT[0:9]]
    full = make_inputs(rng(), "text", 8, 2, 11, text=TEXT)
    assert decode_text(full[:, 1], alphabet) == TEXT


def test_encode_text_rejects_foreign_characters():
    with pytest.raises(ValueError, match="^text: .*'z'"):
        encode_text("zebra", "aber")


def test_next_targets_on_a_hand_made_example():
    x = encode_text("abcab", "abc")                       # classes 0 1 2 0 1
    np.testing.assert_array_equal(make_targets(rng(), "next", x, 3), [[1, 2, 0, 1, 0]])
    # the last step wraps around to the first symbol


def test_copy_targets_on_a_hand_made_example():
    x = encode_text("cabbc", "abc")                       # classes 2 0 1 1 2
    np.testing.assert_array_equal(make_targets(rng(), "copy", x, 3, delay=2), [[0, 0, 2, 0, 1]])
    np.testing.assert_array_equal(make_targets(rng(), "copy", x, 3, delay=0), [[2, 0, 1, 1, 2]])
    np.testing.assert_array_equal(make_targets(rng(), "copy", x, 3, delay=4), [[0, 0, 0, 0, 2]])


def test_targets_of_real_valued_inputs_use_argmax():
    x = np.array([[[0.1, -2.0, 0.5]], [[0.3, -1.0, 0.4]]])   # (n_x=2, m=1, T=3): classes 1 1 0
    np.testing.assert_array_equal(make_targets(rng(), "next", x, 2), [[1, 0, 1]])


def test_random_targets_are_uniform_classes():
    x = make_inputs(rng(), "gaussian", 2, 50, 40)
    targets = make_targets(rng(6), "random", x, 7)
    assert targets.shape == (50, 40) and targets.dtype == np.int64
    assert set(np.unique(targets)) == set(range(7))


def test_initial_state():
    assert not initial_state(rng(), "zeros", 4, 3, np.float32).any()
    s0 = initial_state(rng(), "random", 40, 30, np.float64)
    assert s0.shape == (40, 30) and -1 <= s0.min() < -0.9 and 0.9 < s0.max() <= 1


def test_check_pattern_explains_impossible_combinations():
    assert check_pattern("symbols", "next", 4, 4, 10) == []
    assert check_pattern("text", "copy", 8, 8, 11, text=TEXT, delay=3) == []
    problems = dict(check_pattern("text", "copy", 5, 6, 20, text=TEXT, delay=20))
    assert set(problems) == {"n_x", "T", "n_y", "delay"}
    assert "alphabet size 8" in problems["n_x"] and "length (11)" in problems["T"]
    assert "n_y must equal n_x (5)" in problems["n_y"]
    assert dict(check_pattern("text", "random", 3, 3, 3, text=""))["text"]
    assert set(dict(check_pattern("noise", "later", 3, 3, 3))) == {"input_pattern", "target_pattern"}


@pytest.mark.parametrize("call,name", [
    (lambda: make_inputs(rng(), "words", 3, 1, 4), "pattern"),
    (lambda: make_inputs(rng(), "symbols", 0, 1, 4), "n_x"),
    (lambda: make_inputs(rng(), "symbols", 3, -1, 4), "m"),
    (lambda: make_inputs(rng(), "symbols", 3, 1, 4, dtype=np.int64), "dtype"),
    (lambda: make_inputs(rng(), "text", 3, 1, 4, text=TEXT), "n_x"),
    (lambda: make_inputs(rng(), "text", 8, 1, 40, text=TEXT), "T"),
    (lambda: make_inputs(rng(), "text", 8, 1, 4), "text"),
    (lambda: make_targets(rng(), "next", np.zeros((3, 1, 4)), 4), "n_y"),
    (lambda: make_targets(rng(), "copy", np.zeros((3, 1, 4)), 3, delay=4), "delay"),
    (lambda: make_targets(rng(), "copy", np.zeros((3, 1, 4)), 3, delay=-1), "delay"),
    (lambda: make_targets(rng(), "next", np.zeros((3, 4)), 3), "x"),
    (lambda: initial_state(rng(), "ones", 3, 1), "kind"),
])
def test_bad_arguments_name_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}: "):
        call()
