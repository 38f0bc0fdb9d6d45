"""The validated configuration: every user-facing size, choice and value, its limits and help text."""
from __future__ import annotations

import dataclasses
import math
import numbers
import re
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rnnviz.engine.data import text_alphabet
from rnnviz.state import schema


@dataclass(frozen=True)
class Config:
    """Everything that decides the picture: sizes, dynamics, data, seed, precision."""
    n_x: int = 8                    # input size
    n_s: int = 32                   # hidden size
    n_y: int = 8                    # output size (classes)
    T: int = 40                     # sequence length
    m: int = 4                      # batch size
    cell: str = "vanilla"           # the recurrent cell (engine/cells: vanilla, lstm, gru, ...)
    activation: str = "tanh"
    init: str = "gaussian"          # how W is drawn before scaling to spectral_radius
    spectral_radius: float = 0.9
    sparse_k: int = 15              # non-zero incoming weights per unit ("sparse" init)
    u_scale: float = 1.0
    v_scale: float = 1.0
    ba_scale: float = 0.0
    by_scale: float = 0.0
    forget_bias: float = 1.0        # LSTM: added to the forget gate's bias at initialisation
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
# Types, limits (inclusive), choices, labels and help, read from the one field schema.
# sparse_k (<= n_s) and copy_delay (<= T - 1) are also checked against the sizes; "text"'s
# limits bound its length.
INT_FIELDS = tuple(n for n, f in schema.FIELDS.items() if f.kind == "int")
FLOAT_FIELDS = tuple(n for n, f in schema.FIELDS.items() if f.kind == "float")
TEXT_FIELDS = tuple(n for n, f in schema.FIELDS.items() if f.kind == "text")
LIMITS: dict[str, tuple[float, float]] = {n: f.limits for n, f in schema.FIELDS.items() if f.limits}
class _Choices(Mapping):
    """field -> its choices as they stand now (a registry such as the cells' may grow)."""

    def __getitem__(self, name: str) -> tuple[str, ...]:
        field = schema.FIELDS.get(name)
        if field is None or field.kind != "choice":
            raise KeyError(name)
        return field.options

    def __iter__(self):
        return (n for n, f in schema.FIELDS.items() if f.kind == "choice")

    def __len__(self) -> int:
        return sum(1 for _ in self)


CHOICES: Mapping[str, tuple[str, ...]] = _Choices()
LABELS: dict[str, str] = {n: f.label for n, f in schema.FIELDS.items()}
HELP: dict[str, str] = {n: f.help for n, f in schema.FIELDS.items()}

# x and the targets come from the set-up's training task (state/training.py), not a pattern.
TASK_PATTERN = "task"

# At most this many numbers in one (units x m x T) array: 2048 units over 5000 steps for one
# sequence, about 80 MB in float64. Beyond that a laptop runs out of memory, not of patience.
MAX_ARRAY_VALUES = 2048 * 5000


@dataclass(frozen=True)
class Problem:
    """One reason a configuration (or an edit) was refused, attached to the field it concerns."""
    field: str
    message: str




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
    from rnnviz.engine.cells import get_cell
    try:
        get_cell(c.cell, c.activation)
    except ValueError as exc:
        out.append(Problem("activation", f"activation {c.activation!r} does not go with the "
                                         f"{c.cell} cell: {exc}"))
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
    if c.input_pattern == TASK_PATTERN:
        return out                      # the training task sets x, the targets and their sizes
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


def fit_text(config: Config, changes: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Changes completed by what a text input decides: n_x (its alphabet size), n_y (= n_x for
    next and copy targets) and T (the whole text), with a message saying what was derived.

    Applies when the change sets a new text or switches the input to text; a size given in the
    same change is kept. T follows the text when it followed the old one (T = its length), when
    the input just became text, or when it no longer fits; a shorter T chosen by hand stays.
    """
    if not any(k in changes for k in ("text", "input_pattern")):
        return changes, []
    get = {**to_dict(config), **changes}.get
    text = get("text")
    if get("input_pattern") != "text" or not isinstance(text, str) or not text \
            or len(text) > LIMITS["text"][1] or SURROGATES.search(text):
        return changes, []          # nothing to derive (validation says what is wrong)
    derived: dict[str, Any] = {}
    n_x = len(text_alphabet(text))
    if "n_x" not in changes:
        derived["n_x"] = n_x
    if "n_y" not in changes and get("target_pattern") in ("next", "copy"):
        derived["n_y"] = changes.get("n_x", n_x)
    if "T" not in changes:
        followed = config.input_pattern != "text" or config.T == len(config.text)
        if followed or config.T > len(text):
            derived["T"] = len(text)
    T = changes.get("T", derived.get("T", config.T))
    if "copy_delay" not in changes and get("target_pattern") == "copy" and _is_int(T) \
            and get("copy_delay") > T - 1:
        derived["copy_delay"] = max(T - 1, 0)
    derived = {k: v for k, v in derived.items() if getattr(config, k) != v}
    if not derived:
        return changes, []
    said = ", ".join(f"{k} = {v}" for k, v in derived.items())
    message = (f"set {said} from the text ({len(text)} characters, an alphabet of "
               f"{n_x}: one step reads one character)")
    return {**changes, **derived}, [message]


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
