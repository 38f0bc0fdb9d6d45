"""What the window's Training panel offers, Qt-free: the tasks and their options, each
optimiser's hyper-parameters with torch's defaults, typed numbers read from text, and a text
file read for the text task.

Everything the panel changes goes through Workspace.set_training, which checks it; this module
only says what there is to edit and turns what the user typed into values (TrainingError with
a message naming the setting when it is not a number).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from rnnviz.engine.optim import OPTIMIZERS, make_optimizer
from rnnviz.state import files, training

TASKS = training.TASKS
LR_LIMITS = training.LR_LIMITS
CLIP_LIMITS = training.CLIP_LIMITS
BATCH_LIMITS = training.BATCH_LIMITS
SEED_LIMITS = (0, 2**31 - 1)
OPTIMIZER_TITLES = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop"}
CLIP_TITLES = {"off": "off", "norm": "by norm (global ‖g‖₂)", "value": "by value (each entry)"}
# A text a user opens for the text task: at most this many characters (a session file holds the
# text, and its strings are limited to 1 MB: sessionfile.LIMITS), from a file of at most
# MAX_TEXT_FILE_BYTES of UTF-8.
MAX_TEXT_CHARS = 50_000
MAX_TEXT_FILE_BYTES = 4 * MAX_TEXT_CHARS
HYPER_HELP = {
    "momentum": "momentum μ (0: none); torch's SGD/RMSprop rule",
    "dampening": "dampening of the momentum buffer (SGD)",
    "weight_decay": "L2 penalty λ added to the gradient: g + λθ",
    "nesterov": "Nesterov momentum (needs momentum > 0 and dampening 0)",
    "betas": "β₁, β₂: decay rates of Adam's first and second moments",
    "eps": "ε added to the denominator",
    "alpha": "smoothing constant α of the squared-gradient average",
    "centered": "divide by the centred second moment (Graves 2013)",
}


@dataclass(frozen=True)
class Hyper:
    """One hyper-parameter of an optimiser (lr aside): name, kind and torch's default."""

    name: str
    kind: str            # "float" | "bool" | "pair"
    default: object
    help: str


@functools.cache
def hyperparameters(optimizer: str) -> tuple[Hyper, ...]:
    """The optimiser's hyper-parameters other than lr, in torch's order, with torch's defaults."""
    if optimizer not in OPTIMIZERS:
        raise training.TrainingError(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
    defaults = make_optimizer(optimizer, 1.0).hyperparameters()
    out = []
    for name in OPTIMIZERS[optimizer].HYPER:
        if name == "lr":
            continue
        value = defaults[name]
        kind = "bool" if isinstance(value, bool) else "pair" if isinstance(value, list) else "float"
        out.append(Hyper(name, kind, tuple(value) if kind == "pair" else value,
                         HYPER_HELP.get(name, name)))
    return tuple(out)


def hyper_values(setup: training.TrainingSetup) -> dict:
    """Every hyper-parameter of the set-up's optimiser: its own value, else torch's default."""
    chosen = dict(setup.optimizer_options)
    return {h.name: chosen.get(h.name, h.default) for h in hyperparameters(setup.optimizer)}


def format_number(value: float) -> str:
    """A number as the panel shows it: short, exact enough to type back (1e-03 -> 0.001)."""
    return f"{value:.4g}"


def parse_number(text: str, what: str) -> float:
    """A finite number typed by the user (TrainingError naming `what` otherwise)."""
    try:
        value = float(str(text).strip().replace("−", "-"))
    except ValueError:
        raise training.TrainingError(f"{what}: {str(text)[:30]!r} is not a number") from None
    if not math.isfinite(value):
        raise training.TrainingError(f"{what} must be a finite number, not {str(text)[:30]!r}")
    return value


def parse_pair(text: str, what: str) -> tuple[float, float]:
    """Two numbers typed as 'a, b' (Adam's betas)."""
    parts = [p for p in str(text).replace(";", ",").split(",") if p.strip()]
    if len(parts) != 2:
        raise training.TrainingError(f"{what}: type two numbers separated by a comma, "
                                     f"for example 0.9, 0.999")
    return parse_number(parts[0], what), parse_number(parts[1], what)


def read_text_file(path) -> str:
    """The text of a UTF-8 .txt file for the text task (files.FileError saying why not)."""
    data = files.read_regular(path, MAX_TEXT_FILE_BYTES, "text file")
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise files.FileError(f"it is not UTF-8 text (byte {exc.start})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_TEXT_CHARS:
        raise files.FileError(f"it holds {len(text):,} characters; the text task takes at most "
                              f"{MAX_TEXT_CHARS:,}")
    if len(text) < 2:
        raise files.FileError("it holds fewer than 2 characters")
    return text
