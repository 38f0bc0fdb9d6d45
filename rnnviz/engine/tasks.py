"""Training tasks: batches (x, targets) drawn from a Generator, each with its source and baseline.

`make_task(name, rng, m, **options)` draws a fresh batch of m sequences and returns a Task.
Losses are the engine's units: L = (1/m) sum_b sum over scored steps of the step's loss
(cross-entropy -log y_t[target], or for "mse" the squared error summed over outputs).
Cross-entropy targets are (m, T) class indices, -1 where a step is not scored; mse targets are
(n_y, m, T) floats, NaN where not scored.

The baseline of a task is the expected loss of the best *memoryless* strategy: one that knows
the time step t and the current input x_t but nothing of earlier inputs (an RNN with W = 0 and
a clock). Its optimum at each step is the conditional distribution (cross-entropy) or mean
(mse) of the target given (t, x_t), and its loss the conditional entropy (variance). A net
whose loss stays at the baseline has learnt nothing that needs memory.

Tasks (TASKS holds their options, defaults, limits and a one-line description):
"copy"   copy memory (Arjovsky, Shah & Bengio 2016, "Unitary evolution RNNs", Sec. 4.1; after
         Hochreiter & Schmidhuber 1997). Length lag + 20. Inputs (one-hot, n_x = 10): ten symbols
         drawn uniformly from 1..8, then lag - 1 blanks (0), the marker 9 at step lag + 9
         (0-based), then ten blanks. Targets (n_y = 9): 0 for the first lag + 10 steps, then the
         ten symbols in order. Every step is scored. Baseline 10 ln 8: a memoryless strategy
         gets the first lag + 10 targets right (they are always 0) and, at the last ten steps,
         sees only blanks, so the best it can do is the uniform guess over 1..8, ln 8 per step
         (Arjovsky et al. quote 10 ln 8 / (lag + 20), the per-step mean). Accuracy: the ten
         recall steps (chance 1/8).
"adding" adding problem (Hochreiter & Schmidhuber 1997, Exp. 4; in this form Le, Jaitly &
         Hinton 2015, Sec. 4.1, and Arjovsky et al. 2016, Sec. 4.2). Length T, n_x = 2: channel 0
         holds U(0, 1) values, channel 1 markers, exactly one 1 at a uniform step of the first
         half [0, T//2) and one in the second [T//2, T). Target (n_y = 1, mse): the sum of the two
         marked values, scored at the last step only. Always predicting 1 costs Var(u1 + u2) =
         1/6, the figure the papers quote; the exact memoryless optimum is a little lower,
         1/6 - 1/(12 h) with h = T - T//2, because with probability 1/h the last step is itself
         marked and its value is seen (predict x + 1/2, error variance 1/12). baseline is the
         exact value. No accuracy.
"recall" delayed recall (the demo pattern of engine/data.py: make_inputs "symbols",
         make_targets "copy"). Length T, n_x = n_y = symbols: uniform one-hot symbols; the target
         at step t is the symbol of step t - delay, 0 for t < delay; every step scored. Baseline
         (T - delay) ln(symbols) for delay >= 1 (the recalled symbol is independent of the one
         seen), 0 for delay 0. Accuracy: steps t >= delay.
"text"   next character (Karpathy's min-char-rnn; Graves 2013). Inputs are windows of length T
         of the text, one-hot over its own sorted alphabet (n_x = n_y = its size), each window
         starting at a uniform offset in [0, len - T - 1]; the target at step t is the character
         after it. Every step scored. Baseline: sum over t of the conditional entropy of the next
         character given the current one at window position t (a bigram model), computed exactly
         from the text. Accuracy: every step. The default text is the first chapter of Jane
         Austen's Pride and Prejudice (1813, public domain), resources/texts/.
"temporal_order" temporal order (Hochreiter & Schmidhuber 1997, Sec. 5.6, Exp. 6a; one of the
         pathological problems of Martens & Sutskever 2011 and Pascanu, Mikolov & Bengio 2013).
         Length T, n_x = 8 one-hot: a B at step 0, an E at step T - 1, distractors a..d
         elsewhere except at t1, uniform in [T//10, 2T//10], and t2, uniform in [5T//10, 6T//10]
         (H&S's [10, 20] and [50, 60] for T = 100), which hold X or Y. Target (n_y = 4), at the
         last step only: the order XX, XY, YX, YY (H&S's Q, R, S, U). Baseline ln 4 (the last
         input is always E). Accuracy: the last step (chance 1/4).
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from ._checks import check_dtype, check_rng, check_size, fail
from .data import make_inputs, make_targets

MAX_T = 1000                 # longest sequence any task makes
MAX_TEXT_CHARS = 1_000_000   # longest text the "text" task takes
MAX_ALPHABET = 256           # most distinct characters in it (n_x = n_y)
DEFAULT_TEXT = "texts/pride_and_prejudice_ch1.txt"   # in rnnviz.resources


@dataclass(frozen=True)
class TaskOption:
    """One option of a task: its default and inclusive limits (None: no fixed limit)."""

    name: str
    default: object
    minimum: int | None
    maximum: int | None
    help: str
    kind: str = "int"        # "int" | "text"


@dataclass(frozen=True)
class TaskSpec:
    """What the task chooser shows: name, one-line description, source, loss and options."""

    name: str
    title: str
    description: str
    source: str
    loss: str                               # "cross_entropy" | "mse"
    options: tuple[TaskOption, ...]
    accuracy: str | None                    # which steps the accuracy counts; None: no accuracy


TASKS: dict[str, TaskSpec] = {spec.name: spec for spec in (
    TaskSpec("copy", "Copy memory", "Repeat 10 symbols after a gap of lag steps; memoryless loss 10 ln 8.",
             "Arjovsky, Shah & Bengio 2016", "cross_entropy",
             (TaskOption("lag", 20, 1, MAX_T - 20, "steps from the last symbol to the marker"),),
             "the 10 recall steps"),
    TaskSpec("adding", "Adding problem", "Output the sum of the two marked numbers at the last step (mse).",
             "Le, Jaitly & Hinton 2015; Arjovsky et al. 2016", "mse",
             (TaskOption("T", 50, 2, MAX_T, "sequence length"),), None),
    TaskSpec("recall", "Delayed recall", "At every step, output the symbol seen delay steps earlier.",
             "rnnviz's delayed-copy demo pattern", "cross_entropy",
             (TaskOption("symbols", 4, 2, 64, "number of symbols (n_x = n_y)"),
              TaskOption("T", 20, 1, MAX_T, "sequence length"),
              TaskOption("delay", 3, 0, None, "how many steps back to recall (at most T - 1)")),
             "steps t >= delay"),
    TaskSpec("text", "Next character", "Predict the next character of a text, over its own alphabet.",
             "Karpathy's min-char-rnn; Graves 2013", "cross_entropy",
             (TaskOption("text", None, 2, MAX_TEXT_CHARS,
                         "the text (None: a chapter of Pride and Prejudice)", kind="text"),
              TaskOption("T", 25, 1, MAX_T, "window length (at most len(text) - 1)")),
             "every step"),
    TaskSpec("temporal_order", "Temporal order", "Classify the order (XX, XY, YX, YY) of two symbols "
             "hidden among distractors.", "Hochreiter & Schmidhuber 1997; Pascanu et al. 2013",
             "cross_entropy", (TaskOption("T", 50, 10, MAX_T, "sequence length"),), "the last step"),
)}


@dataclass(eq=False)
class Task:
    """One batch of a task: inputs, targets, the loss they are scored with and its baseline."""

    name: str
    options: dict                 # every option, defaults filled in
    x: np.ndarray                 # (n_x, m, T)
    targets: np.ndarray           # (m, T) int64, -1 unscored; or for mse (n_y, m, T) float, NaN unscored
    loss: str                     # "cross_entropy" | "mse"
    baseline: float               # expected loss of the best memoryless strategy (engine units)
    n_x: int
    n_y: int
    accuracy_mask: np.ndarray | None = None   # (m, T) bool: the steps accuracy counts; None: none
    alphabet: str | None = None               # "text": the characters of the classes
    scored: np.ndarray = field(init=False)    # (m, T) bool: steps that count in the loss

    def __post_init__(self):
        if self.loss == "mse":
            self.scored = ~np.isnan(self.targets).all(axis=0)
        else:
            self.scored = self.targets >= 0

    @property
    def m(self) -> int:
        """Batch size."""
        return self.x.shape[1]

    @property
    def T(self) -> int:
        """Sequence length."""
        return self.x.shape[2]

    def accuracy(self, z: np.ndarray) -> float | None:
        """Fraction of the accuracy steps where argmax_k z[k, b, t] is the target; None where the
        task has no accuracy. z: the network's output (logits or softmax), (n_y, m, T)."""
        if self.accuracy_mask is None:
            return None
        z = np.asarray(z)
        if z.shape != (self.n_y, self.m, self.T):
            raise fail("z", f"shape (n_y={self.n_y}, m={self.m}, T={self.T})", z.shape)
        hits = np.argmax(z, axis=0) == self.targets
        return float(hits[self.accuracy_mask].mean())


# ---- options -----------------------------------------------------------------------------------

@functools.cache
def default_text() -> str:
    """The text task's default: the first chapter of Pride and Prejudice (shipped package data,
    the engine's one file read)."""
    return (resources.files("rnnviz.resources") / DEFAULT_TEXT).read_text(encoding="utf-8")


def _in_range(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) \
            or not lo <= value <= hi:
        raise fail(name, f"an integer in [{lo}, {hi}]", repr(value))
    return int(value)


def _check_text(text) -> str:
    if text is None:
        return default_text()
    if not isinstance(text, str):
        raise fail("text", "a string", type(text).__name__)
    if not 2 <= len(text) <= MAX_TEXT_CHARS:
        raise fail("text", f"between 2 and {MAX_TEXT_CHARS} characters", f"{len(text)} characters")
    alphabet = _text_model(text)[0]
    if len(alphabet) > MAX_ALPHABET:
        raise fail("text", f"at most {MAX_ALPHABET} distinct characters", len(alphabet))
    return text


def task_options(name: str, **options) -> dict:
    """Every option of the task, checked, defaults filled in (ValueError naming the option and
    its limits). The text option comes back as None when it is the default text."""
    if name not in TASKS:
        raise fail("task", "one of " + ", ".join(repr(n) for n in TASKS), repr(name))
    spec = TASKS[name]
    known = {o.name: o for o in spec.options}
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise fail("options", f"options of {name!r} among {', '.join(known) or 'none'}",
                   ", ".join(unknown))
    out = {}
    for o in spec.options:
        value = options.get(o.name, o.default)
        if o.kind == "text":
            _check_text(value)
            out[o.name] = value
        else:
            hi = o.maximum
            if name == "recall" and o.name == "delay":
                hi = out["T"] - 1
            if name == "text" and o.name == "T":
                text = out["text"] if out["text"] is not None else default_text()
                hi = min(hi, len(text) - 1)
            out[o.name] = _in_range(o.name, value, o.minimum, hi)
    return out


def task_sizes(name: str, **options) -> tuple[int, int, int]:
    """(n_x, n_y, T) of a task with these options, without drawing a batch."""
    o = task_options(name, **options)
    if name == "copy":
        return 10, 9, o["lag"] + 20
    if name == "adding":
        return 2, 1, o["T"]
    if name == "recall":
        return o["symbols"], o["symbols"], o["T"]
    if name == "text":
        n = len(_text_model(_check_text(o["text"]))[0])
        return n, n, o["T"]
    return 8, 4, o["T"]


def baseline(name: str, **options) -> float:
    """The expected loss of the best memoryless strategy (see the module docstring)."""
    o = task_options(name, **options)
    if name == "copy":
        return 10 * math.log(8)
    if name == "adding":
        h = o["T"] - o["T"] // 2
        return 1 / 6 - 1 / (12 * h)
    if name == "recall":
        return (o["T"] - o["delay"]) * math.log(o["symbols"]) if o["delay"] > 0 else 0.0
    if name == "text":
        return _text_baseline(_check_text(o["text"]), o["T"])
    return math.log(4)


# ---- the tasks ---------------------------------------------------------------------------------

def _one_hot(codes: np.ndarray, n: int, dtype) -> np.ndarray:
    """(m, T) class codes -> (n, m, T) one-hot."""
    m, T = codes.shape
    x = np.zeros((n, m, T), dtype=dtype)
    x[codes, np.arange(m)[:, None], np.arange(T)[None, :]] = 1
    return x


def _copy(rng, m, o, dtype):
    lag = o["lag"]
    T = lag + 20
    symbols = rng.integers(1, 9, size=(m, 10))
    codes = np.zeros((m, T), dtype=np.int64)
    codes[:, :10] = symbols
    codes[:, lag + 9] = 9                                  # the marker; blanks (0) elsewhere
    targets = np.zeros((m, T), dtype=np.int64)
    targets[:, lag + 10:] = symbols
    mask = np.zeros((m, T), dtype=bool)
    mask[:, lag + 10:] = True
    return _one_hot(codes, 10, dtype), targets, mask, {}


def _adding(rng, m, o, dtype):
    T = o["T"]
    half = T // 2
    values = rng.uniform(0.0, 1.0, size=(m, T))
    first = rng.integers(0, half, size=m)
    second = rng.integers(half, T, size=m)
    x = np.zeros((2, m, T), dtype=dtype)
    x[0] = values
    rows = np.arange(m)
    x[1, rows, first] = 1
    x[1, rows, second] = 1
    targets = np.full((1, m, T), np.nan, dtype=dtype)
    targets[0, :, T - 1] = values[rows, first] + values[rows, second]
    return x, targets, None, {}


def _recall(rng, m, o, dtype):
    n = o["symbols"]
    x = make_inputs(rng, "symbols", n, m, o["T"], dtype=dtype)
    targets = make_targets(rng, "copy", x, n, delay=o["delay"])
    mask = np.zeros((m, o["T"]), dtype=bool)
    mask[:, o["delay"]:] = True
    return x, targets, mask, {}


def _text(rng, m, o, dtype):
    text = _check_text(o["text"])
    alphabet, codes = _text_model(text)
    T = o["T"]
    offsets = rng.integers(0, len(text) - T, size=m)
    window = codes[offsets[:, None] + np.arange(T + 1)[None, :]]       # (m, T + 1)
    x = _one_hot(window[:, :T], len(alphabet), dtype)
    return x, window[:, 1:].copy(), np.ones((m, T), dtype=bool), {"alphabet": alphabet}


# temporal order symbols: a b c d (distractors), X, Y, B (start), E (end)
_X, _Y, _B, _E = 4, 5, 6, 7


def temporal_order_positions(T: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The inclusive ranges of t1 and t2 (0-based) of the temporal-order task at length T."""
    return (T // 10, 2 * T // 10), (5 * T // 10, 6 * T // 10)


def _temporal_order(rng, m, o, dtype):
    T = o["T"]
    (lo1, hi1), (lo2, hi2) = temporal_order_positions(T)
    codes = rng.integers(0, 4, size=(m, T))
    t1 = rng.integers(lo1, hi1 + 1, size=m)
    t2 = rng.integers(lo2, hi2 + 1, size=m)
    first = rng.integers(0, 2, size=m)                      # 0: X, 1: Y
    second = rng.integers(0, 2, size=m)
    rows = np.arange(m)
    codes[:, 0] = _B
    codes[:, T - 1] = _E
    codes[rows, t1] = _X + first
    codes[rows, t2] = _X + second
    targets = np.full((m, T), -1, dtype=np.int64)
    targets[:, T - 1] = 2 * first + second
    mask = np.zeros((m, T), dtype=bool)
    mask[:, T - 1] = True
    return _one_hot(codes, 8, dtype), targets, mask, {}


_DRAW = {"copy": _copy, "adding": _adding, "recall": _recall, "text": _text,
         "temporal_order": _temporal_order}


def make_task(name: str, rng: np.random.Generator, m: int, *, dtype=np.float64, **options) -> Task:
    """A fresh batch of m sequences of the task (drawn from rng; see the module docstring)."""
    check_rng("rng", rng)
    m = check_size("m", m)
    dt = check_dtype("dtype", dtype)
    o = task_options(name, **options)
    x, targets, mask, extra = _DRAW[name](rng, m, o, dt)
    n_x, n_y, _ = task_sizes(name, **o)
    return Task(name=name, options=o, x=x, targets=targets, loss=TASKS[name].loss,
                baseline=baseline(name, **o), n_x=n_x, n_y=n_y, accuracy_mask=mask, **extra)


# ---- the text's alphabet, codes and exact bigram baseline (cached: called every iteration) -----

@functools.lru_cache(maxsize=8)
def _text_model(text: str) -> tuple[str, np.ndarray]:
    """(sorted alphabet, int64 codes of every character)."""
    alphabet = "".join(sorted(set(text)))
    lookup = np.zeros(max(map(ord, alphabet)) + 1, dtype=np.int64)
    lookup[[ord(c) for c in alphabet]] = np.arange(len(alphabet))
    return alphabet, lookup[np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)]


def _xlogx(c: float) -> float:
    return c * math.log(c) if c > 0 else 0.0


@functools.lru_cache(maxsize=32)
def _text_baseline(text: str, T: int) -> float:
    """sum_t H(c_{o+t+1} | c_{o+t}) with the offset o uniform over its N = len - T values.

    Position t sees the pairs P[t .. t+N-1] of the text's consecutive pairs P; with counts
    n(a, b) and n(a) over them, H_t = (1/N) (sum_a n(a) ln n(a) - sum_ab n(a, b) ln n(a, b)).
    The window slides by one pair per step, so both sums are updated in O(1) per t.
    """
    alphabet, codes = _text_model(text)
    k = len(alphabet)
    N = len(text) - T
    pairs = codes[:-1] * k + codes[1:]
    pair_count = np.bincount(pairs[:N], minlength=k * k).astype(np.float64)
    first_count = np.bincount(codes[:N], minlength=k).astype(np.float64)
    s_pair = float(sum(_xlogx(c) for c in pair_count))
    s_first = float(sum(_xlogx(c) for c in first_count))
    total = 0.0
    for t in range(T):
        total += (s_first - s_pair) / N
        if t + 1 < T:                                  # slide: drop pair t, add pair t + N
            for p, a, sign in ((pairs[t], codes[t], -1.0), (pairs[t + N], codes[t + N], 1.0)):
                s_pair -= _xlogx(pair_count[p])
                pair_count[p] += sign
                s_pair += _xlogx(pair_count[p])
                s_first -= _xlogx(first_count[a])
                first_count[a] += sign
                s_first += _xlogx(first_count[a])
    return max(total, 0.0)
