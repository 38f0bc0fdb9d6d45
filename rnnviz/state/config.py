"""The validated configuration: every user-facing size, choice and value, its limits and help text."""
from __future__ import annotations

import dataclasses
import math
import numbers
import re
import reprlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Config:
    """Everything that decides the picture: sizes, dynamics, data, seed, precision."""
    n_x: int = 8                    # input size
    n_s: int = 32                   # hidden size
    n_y: int = 8                    # output size (classes)
    T: int = 40                     # sequence length
    m: int = 4                      # batch size
    activation: str = "tanh"
    init: str = "gaussian"          # how W is drawn before scaling to spectral_radius
    spectral_radius: float = 0.9
    sparse_k: int = 15              # non-zero incoming weights per unit ("sparse" init)
    u_scale: float = 1.0
    v_scale: float = 1.0
    ba_scale: float = 0.0
    by_scale: float = 0.0
    seed: int = 0
    input_pattern: str = "symbols"
    target_pattern: str = "next"
    copy_delay: int = 1
    text: str = "hello world"
    initial_state: str = "zeros"
    dtype: str = "float64"


# The built-in demo that opens first: tanh at radius 0.9 over 40 steps shows the vanishing
# gradient at a glance, and it computes in a few milliseconds.
DEFAULT = Config()

FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Config))
INT_FIELDS = ("n_x", "n_s", "n_y", "T", "m", "sparse_k", "seed", "copy_delay")
FLOAT_FIELDS = ("spectral_radius", "u_scale", "v_scale", "ba_scale", "by_scale")
TEXT_FIELDS = ("text",)

# Inclusive bounds. sparse_k (<= n_s) and copy_delay (<= T - 1) are also checked against the
# sizes; "text" bounds its length.
LIMITS: dict[str, tuple[float, float]] = {
    "n_x": (1, 512), "n_s": (1, 2048), "n_y": (1, 512), "T": (1, 5000), "m": (1, 256),
    "spectral_radius": (0.0, 3.0), "sparse_k": (1, 2048),
    "u_scale": (0.0, 10.0), "v_scale": (0.0, 10.0), "ba_scale": (0.0, 10.0), "by_scale": (0.0, 10.0),
    "seed": (0, 2**31 - 1), "copy_delay": (0, 4999), "text": (0, 5000),
}

CHOICES: dict[str, tuple[str, ...]] = {
    "activation": ("tanh", "relu", "sigmoid", "linear"),
    "init": ("gaussian", "orthogonal", "identity", "sparse"),
    "input_pattern": ("symbols", "gaussian", "impulse", "sine", "text"),
    "target_pattern": ("next", "copy", "random"),
    "initial_state": ("zeros", "random"),
    "dtype": ("float64", "float32"),
}

# At most this many numbers in one (units x m x T) array: 2048 units over 5000 steps for one
# sequence, about 80 MB in float64. Beyond that a laptop runs out of memory, not of patience.
MAX_ARRAY_VALUES = 2048 * 5000

LABELS: dict[str, str] = {
    "n_x": "Input size n_x", "n_s": "Hidden size n_s", "n_y": "Output size n_y",
    "T": "Sequence length T", "m": "Batch size m", "activation": "Activation f",
    "init": "Initialisation of W", "spectral_radius": "Spectral radius ρ(W)",
    "sparse_k": "Sparse: inputs per unit k", "u_scale": "Scale of U", "v_scale": "Scale of V",
    "ba_scale": "Scale of bias b_a", "by_scale": "Scale of bias b_y", "seed": "Random seed",
    "input_pattern": "Input pattern", "target_pattern": "Target pattern",
    "copy_delay": "Copy delay", "text": "Text", "initial_state": "Initial state s₀",
    "dtype": "Precision",
}

HELP: dict[str, str] = {
    "n_x": "Number of input features: x_t has n_x entries and U is n_s × n_x.",
    "n_s": "Number of hidden units: s_t = f(U x_t + W s_{t-1} + b_a) has n_s entries; W is n_s × n_s.",
    "n_y": "Number of output classes: y_t = softmax(V s_t + b_y) has n_y entries; V is n_y × n_s.",
    "T": "Number of time steps t = 1..T the network is unrolled over and gradients flow back over.",
    "m": "Number of sequences processed together (the batch); the loss is their mean.",
    "activation": "The non-linearity f in s_t = f(a_t). γ = sup|f'| bounds how much one step can "
                  "stretch a gradient: 1 for tanh, ReLU and linear, 1/4 for sigmoid.",
    "init": "How W is drawn before it is scaled to the spectral radius: Gaussian, random "
            "orthogonal (Saxe et al. 2013), identity (IRNN, Le et al. 2015) or sparse with k "
            "inputs per unit (Pascanu et al. 2013).",
    "spectral_radius": "ρ(W) = max |λ_i(W)|. Gradients shrink roughly like (γ ρ)^(T-t) through "
                       "time: ρ < 1 vanishes, ρ > 1 can explode. Dragging it rescales W, so "
                       "hand-edited weights survive.",
    "sparse_k": "For the sparse initialisation: the number of non-zero incoming weights per unit.",
    "u_scale": "U ~ N(0, scale² / n_x): how strongly the input drives the hidden state.",
    "v_scale": "V ~ N(0, scale² / n_s): how strongly the hidden state drives the logits.",
    "ba_scale": "b_a ~ N(0, scale²), the hidden bias; 0 gives zeros.",
    "by_scale": "b_y ~ N(0, scale²), the output bias; 0 gives zeros.",
    "seed": "Seed of the random generator that draws weights, inputs and targets: the same seed "
            "always draws the same picture.",
    "input_pattern": "What x_t is: one-hot random symbols, Gaussian noise, one impulse at t = 1, "
                     "sine waves, or the characters of a text (one-hot).",
    "target_pattern": "What the output should be at each step: the next input symbol, the input "
                      "symbol from 'copy delay' steps ago, or random classes.",
    "copy_delay": "For 'copy' targets: the target at t is the input symbol at t - delay.",
    "text": "For 'text' input: each character becomes a one-hot x_t; n_x is its alphabet size.",
    "initial_state": "The hidden state s₀ before the first step: zeros or random.",
    "dtype": "Floating-point precision: float64 (about 16 digits) or float32 (about 7 digits, "
             "overflows near 3e38 instead of 1.8e308).",
}


@dataclass(frozen=True)
class Problem:
    """One reason a configuration (or an edit) was refused, attached to the field it concerns."""
    field: str
    message: str


def text_alphabet(text: str) -> str:
    """The sorted unique characters of a text (the one-hot alphabet of the 'text' input)."""
    return "".join(sorted(set(text)))


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class _ShortRepr(reprlib.Repr):
    """repr() cut short at every level: never deep recursion, never a 4300-digit int error."""

    def __init__(self):
        super().__init__()
        self.maxlevel, self.maxstring, self.maxother = 3, 40, 40
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = self.maxfrozenset = 4

    def repr_int(self, value, level):
        if -10**15 < value < 10**15:
            return repr(value)
        if abs(value) >= 10**4000:
            return "a huge number"
        sign = "-" if value < 0 else ""
        return f"a number of about {sign}10^{len(str(abs(int(value)))) - 1}"


_SHORT_REPR = _ShortRepr()
SURROGATES = re.compile("[\ud800-\udfff]")       # lone surrogates: text that cannot be saved


def short(value: Any) -> str:
    """A value for a message, cut short (a 400-digit number or a 1000-deep list stays readable)."""
    try:
        text = _SHORT_REPR.repr(value)
    except Exception:               # noqa: BLE001 - a hostile object's own __repr__
        text = f"a {type(value).__name__}"
    return text if len(text) <= 40 else text[:37] + "..."


def _field_problem(name: str, value: Any) -> Problem | None:
    """The problem with one field on its own (type, range, choice), or None."""
    label = LABELS.get(name, name)
    if name in INT_FIELDS:
        if not _is_int(value):
            return Problem(name, f"{name} ({label}) must be a whole number, not {short(value)}")
        lo, hi = LIMITS[name]
        if not lo <= value <= hi:
            return Problem(name, f"{name} ({label}) must be between {lo} and {hi}; "
                                 f"got {short(value)}")
    elif name in FLOAT_FIELDS:
        if not _is_real(value):
            return Problem(name, f"{name} ({label}) must be a number, not {short(value)}")
        if not _is_int(value) and not math.isfinite(value):
            return Problem(name, f"{name} ({label}) must be a finite number; got {value}")
        lo, hi = LIMITS[name]
        if not lo <= value <= hi:
            return Problem(name, f"{name} ({label}) must be between {lo:g} and {hi:g}; "
                                 f"got {short(value)}")
    elif name in CHOICES:
        if not isinstance(value, str) or value not in CHOICES[name]:
            options = ", ".join(repr(c) for c in CHOICES[name])
            return Problem(name, f"{name} ({label}) must be one of {options}; got {short(value)}")
    elif name == "text":
        if not isinstance(value, str):
            return Problem(name, f"text must be a string, not {type(value).__name__}")
        if len(value) > LIMITS["text"][1]:
            return Problem(name, f"text may hold at most {LIMITS['text'][1]} characters; "
                                 f"it has {len(value)}")
        if SURROGATES.search(value):
            return Problem(name, "text holds a lone surrogate (such as \\ud800), which is not "
                                 "a character: it could not be saved")
    return None


def _cross_problems(c: Config) -> list[Problem]:
    """Problems between fields; only called when every field is fine on its own."""
    out = []
    if c.init == "sparse" and c.sparse_k > c.n_s:
        out.append(Problem("sparse_k", f"sparse_k ({c.sparse_k}) cannot exceed n_s ({c.n_s}): a "
                                       f"unit has only n_s possible incoming recurrent weights"))
    if c.input_pattern == "text":
        alphabet = text_alphabet(c.text)
        if not c.text:
            out.append(Problem("text", "text input needs a non-empty text"))
        elif c.n_x != len(alphabet):
            out.append(Problem("n_x", f"text input sets n_x to its alphabet size "
                                      f"({len(alphabet)}); n_x is {c.n_x}"))
        if c.text and c.T > len(c.text):
            out.append(Problem("T", f"T ({c.T}) cannot exceed the text's length ({len(c.text)}): "
                                    f"one step reads one character"))
    if c.target_pattern in ("next", "copy") and c.n_y != c.n_x:
        what = ("the next input symbol" if c.target_pattern == "next"
                else "the input symbol from copy_delay steps ago")
        out.append(Problem("n_y", f"n_y must equal n_x ({c.n_x}) for {c.target_pattern!r} "
                                  f"targets: the target is {what}"))
    if c.target_pattern == "copy" and c.copy_delay > c.T - 1:
        out.append(Problem("copy_delay", f"copy_delay ({c.copy_delay}) must be below T ({c.T}): "
                                         f"the target at t is the input at t - delay"))
    for units, name in ((c.n_s, "n_s"), (c.n_x, "n_x"), (c.n_y, "n_y")):
        values = units * c.m * c.T
        if values > MAX_ARRAY_VALUES:
            out.append(Problem("T", f"{name} × m × T = {units} × {c.m} × {c.T} = {values:,} "
                                    f"numbers per array; at most {MAX_ARRAY_VALUES:,} fit "
                                    f"(about 80 MB in float64): reduce {name}, m or T"))
            break
    return out


def validate(config: Config) -> list[Problem]:
    """Every problem with a configuration; an empty list means it is valid."""
    if not isinstance(config, Config):
        return [Problem("config", f"expected a Config, got {type(config).__name__}")]
    problems = [p for p in (_field_problem(n, getattr(config, n)) for n in FIELDS) if p]
    return problems or _cross_problems(config)


def _normalise(name: str, value: Any) -> Any:
    """Plain Python types for numbers that are exact (numpy ints, ints given for floats)."""
    if name in INT_FIELDS and _is_int(value):
        return int(value)
    if name in FLOAT_FIELDS and _is_real(value):
        try:
            return float(value)
        except OverflowError:           # left as it is: validation reports it out of range
            return value
    return value


def replace(config: Config, **changes: Any) -> tuple[Config, list[Problem]]:
    """The config with changes applied, and its problems; the old config when there are any."""
    unknown = [k for k in changes if k not in FIELDS]
    if unknown:
        return config, [Problem(k, f"{short(k)} is not a setting; known: {', '.join(FIELDS)}")
                        for k in unknown]
    new = dataclasses.replace(config, **{k: _normalise(k, v) for k, v in changes.items()})
    problems = validate(new)
    return (config, problems) if problems else (new, [])


def to_dict(config: Config) -> dict[str, Any]:
    """The config as a plain JSON-ready dict."""
    return dataclasses.asdict(config)


def from_dict(d: Any, *, base: Config | None = None) -> tuple[Config | None, list[Problem]]:
    """A config from a dict of exactly its fields (or some of them over `base`), with problems.

    Strict: unknown keys, missing keys (without base) and wrong types are problems; ints are
    accepted for float fields, floats never for int fields, booleans never for numbers.
    """
    if not isinstance(d, dict):
        return None, [Problem("config", f"config must be an object, not {type(d).__name__}")]
    problems = [Problem(k if isinstance(k, str) else short(k), f"unknown setting {short(k)}")
                for k in d if k not in FIELDS]
    if base is None:
        problems += [Problem(k, f"setting {k!r} is missing") for k in FIELDS if k not in d]
    if problems:
        return None, problems
    problems = [p for p in (_field_problem(k, v) for k, v in d.items()) if p]
    if problems:
        return None, problems
    values = {k: _normalise(k, v) for k, v in d.items()}
    config = dataclasses.replace(base, **values) if base is not None else Config(**values)
    problems = validate(config)
    return (None, problems) if problems else (config, [])


def describe(problems: list[Problem]) -> str:
    """Problems as one readable paragraph."""
    return "; ".join(p.message for p in problems)
