"""Input sequences x (n_x, m, T), integer targets (m, T) and initial states s0 for the demos.

Inputs:  "symbols"  random one-hot symbols, uniform over the n_x units;
         "gaussian" N(0, 1) noise;
         "impulse"  x_0 = e_0 (a single 1 on input unit 0 at t = 0), zeros after: pure memory decay;
         "sine"     sin(2 pi t / period_i + phase_ib): unit i has its own period, drawn uniformly
                    in [4, 32) steps, and each (unit, batch element) its own phase in [0, 2 pi);
         "text"     one-hot characters over the text's own sorted alphabet (n_x == alphabet
                    size). Batch element b reads the window text[o_b : o_b + T] with
                    o_b = b mod (len(text) - T + 1): sliding windows one character apart, so
                    T == len(text) gives the whole text in every element. No random draws.
Targets: the class of a step is argmax over input units of x_t (also for real-valued inputs;
         ties and all-zero steps give the first unit, 0).
         "next"   class of x_{t+1}; the last step wraps around to the class of x_0. n_y == n_x.
         "copy"   class of x_{t-delay} for t >= delay, class 0 for t < delay. n_y == n_x.
         "random" uniform classes in [0, n_y).
"""

from __future__ import annotations

import numpy as np

from ._checks import check_choice, check_dtype, check_float_array, check_rng, check_size, fail

INPUT_PATTERNS = ("symbols", "gaussian", "impulse", "sine", "text")
TARGET_PATTERNS = ("next", "copy", "random")
INITIAL_STATES = ("zeros", "random")
SINE_PERIODS = (4.0, 32.0)     # range of the sine periods, in steps


def text_alphabet(text: str) -> str:
    """The sorted unique characters of text: the one-hot alphabet of the "text" input."""
    if not isinstance(text, str):
        raise fail("text", "a string", type(text).__name__)
    return "".join(sorted(set(text)))


def encode_text(text: str, alphabet: str) -> np.ndarray:
    """One-hot encoding (len(alphabet), 1, len(text)) of text; every character must be in alphabet."""
    if not isinstance(text, str) or not text:
        raise fail("text", "a non-empty string", repr(text))
    if not isinstance(alphabet, str) or not alphabet:
        raise fail("alphabet", "a non-empty string", repr(alphabet))
    index = {c: i for i, c in enumerate(alphabet)}
    missing = sorted(set(text) - set(index))
    if missing:
        raise fail("text", "only characters of the alphabet", f"{''.join(missing)!r} outside it")
    codes = np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))
    x = np.zeros((len(alphabet), 1, len(text)))
    x[codes, 0, np.arange(len(text))] = 1.0
    return x


def check_pattern(input_pattern: str, target_pattern: str, n_x: int, n_y: int, T: int,
                  text: str | None = None, delay: int = 1) -> list[tuple[str, str]]:
    """Why a combination of patterns and sizes is impossible: a list of (argument, message).

    Empty when the combination works; meant for showing messages next to the controls.
    """
    problems = []
    if input_pattern not in INPUT_PATTERNS:
        problems.append(("input_pattern", f"unknown input pattern {input_pattern!r}; choose one of "
                                    + ", ".join(INPUT_PATTERNS)))
    if target_pattern not in TARGET_PATTERNS:
        problems.append(("target_pattern", f"unknown target pattern {target_pattern!r}; "
                                           "choose one of " + ", ".join(TARGET_PATTERNS)))
    if input_pattern == "text":
        if not isinstance(text, str) or not text:
            problems.append(("text", "the text input needs a non-empty text"))
        else:
            alphabet = text_alphabet(text)
            if n_x != len(alphabet):
                problems.append(("n_x", f"n_x must equal the text's alphabet size "
                                        f"{len(alphabet)} ({alphabet!r}); got {n_x}"))
            if T > len(text):
                problems.append(("T", f"T ({T}) cannot exceed the text's length ({len(text)}): "
                                      "one step reads one character"))
    if target_pattern in ("next", "copy") and n_y != n_x:
        problems.append(("n_y", f"n_y must equal n_x ({n_x}) for {target_pattern!r} targets "
                                f"(the target class is an input unit); got {n_y}"))
    if target_pattern == "copy" and not 0 <= delay <= T - 1:
        problems.append(("delay", f"the copy delay must be in [0, T-1] = [0, {T - 1}]; got {delay}"))
    return problems


def _raise_first(problems: list[tuple[str, str]]) -> None:
    if problems:
        name, message = problems[0]
        raise ValueError(f"{name}: {message}")


def make_inputs(rng: np.random.Generator, pattern: str, n_x: int, m: int, T: int, *,
                text: str | None = None, dtype=np.float64) -> np.ndarray:
    """Input sequences x (n_x, m, T) of one pattern (see the module docstring)."""
    check_rng("rng", rng)
    pattern = check_choice("pattern", pattern, INPUT_PATTERNS)
    n_x, m, T = check_size("n_x", n_x), check_size("m", m), check_size("T", T)
    dt = check_dtype("dtype", dtype)
    if pattern == "symbols":
        x = np.zeros((n_x, m, T))
        codes = rng.integers(0, n_x, size=(m, T))
        x[codes, np.arange(m)[:, None], np.arange(T)[None, :]] = 1.0
    elif pattern == "gaussian":
        x = rng.standard_normal((n_x, m, T))
    elif pattern == "impulse":
        x = np.zeros((n_x, m, T))
        x[0, :, 0] = 1.0
    elif pattern == "sine":
        periods = rng.uniform(*SINE_PERIODS, size=(n_x, 1, 1))
        phases = rng.uniform(0.0, 2 * np.pi, size=(n_x, m, 1))
        x = np.sin(2 * np.pi * np.arange(T)[None, None, :] / periods + phases)
    else:
        _raise_first(check_pattern("text", "random", n_x, 1, T, text))
        full = encode_text(text, text_alphabet(text))[:, 0, :]
        offsets = np.arange(m) % (len(text) - T + 1)
        x = full[:, offsets[:, None] + np.arange(T)[None, :]]
    return x.astype(dt)


def input_classes(x: np.ndarray) -> np.ndarray:
    """The class of each step, argmax over input units of x: (m, T) int64 (NaN counts as largest)."""
    return np.argmax(x, axis=0).astype(np.int64)


def make_targets(rng: np.random.Generator, pattern: str, x: np.ndarray, n_y: int, *,
                 delay: int = 1) -> np.ndarray:
    """Integer targets (m, T) for inputs x (n_x, m, T) (see the module docstring)."""
    check_rng("rng", rng)
    pattern = check_choice("pattern", pattern, TARGET_PATTERNS)
    x = check_float_array("x", x, 3)
    n_y = check_size("n_y", n_y)
    delay = check_size("delay", delay, minimum=0)
    n_x, m, T = x.shape
    if pattern == "random":
        return rng.integers(0, n_y, size=(m, T)).astype(np.int64)
    _raise_first(check_pattern("symbols", pattern, n_x, n_y, T, delay=delay))
    classes = input_classes(x)
    if pattern == "next":
        return np.roll(classes, -1, axis=1)
    targets = np.zeros((m, T), dtype=np.int64)
    targets[:, delay:] = classes[:, :T - delay]
    return targets


def initial_state(rng: np.random.Generator, kind: str, n_s: int, m: int,
                  dtype=np.float64) -> np.ndarray:
    """s0 (n_s, m): "zeros", or "random" uniform in [-1, 1] (the range of tanh states)."""
    check_rng("rng", rng)
    kind = check_choice("kind", kind, INITIAL_STATES)
    n_s, m = check_size("n_s", n_s), check_size("m", m)
    dt = check_dtype("dtype", dtype)
    if kind == "zeros":
        return np.zeros((n_s, m), dtype=dt)
    return rng.uniform(-1.0, 1.0, size=(n_s, m)).astype(dt)
