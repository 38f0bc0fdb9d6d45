"""The field schema: every setting's type, limits, choices, label, help and group, in one place.

Validation (config.py) and the parameter dock (ui/docks) both read it; choice lists come from
the engine's registries, so adding an activation, an initialisation or a pattern to the engine
adds it here. The order of FIELDS is the order of the dock's groups and rows.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rnnviz.engine.activations import ACTIVATIONS
from rnnviz.engine.cells import CELLS
from rnnviz.engine.data import INITIAL_STATES, INPUT_PATTERNS, TARGET_PATTERNS
from rnnviz.engine.init import RECURRENT_KINDS

DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class Field:
    """One setting: its type and limits (for validation) and how the dock shows it."""

    name: str
    kind: str                                   # "int" | "float" | "choice" | "text"
    label: str
    group: str                                  # the dock's group box
    help: str = ""
    limits: tuple[float, float] | None = None   # inclusive; for text: its length
    choices: tuple[str, ...] | Callable[[], tuple[str, ...]] = ()   # a callable: a live registry
    choice_names: dict | Callable[[], dict] | None = None   # short names for the dock's combo boxes
    widget: str | None = None                   # "slider": a slider with a number box

    @property
    def options(self) -> tuple[str, ...]:
        """The choices as they stand now (a registry may have grown: a cell registered later)."""
        return self.choices() if callable(self.choices) else self.choices

    @property
    def option_names(self) -> dict | None:
        """Short names of the choices, as they stand now."""
        return self.choice_names() if callable(self.choice_names) else self.choice_names


def _cell_names() -> tuple[str, ...]:
    return tuple(CELLS)


def _cell_labels() -> dict:
    return {name: cls.label for name, cls in CELLS.items()}


FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("n_x", "int", "Input size n_x", "Sizes", limits=(1, 512),
          help=("Number of input features: x_t has n_x entries and U is n_s × n_x.")),
    Field("n_s", "int", "Hidden size n_s", "Sizes", limits=(1, 2048),
          help=("Number of hidden units: s_t = f(U x_t + W s_{t-1} + b_a) has n_s entries; W is n_s × n_s.")),
    Field("n_y", "int", "Output size n_y", "Sizes", limits=(1, 512),
          help=("Number of output classes: y_t = softmax(V s_t + b_y) has n_y entries; V is n_y × n_s.")),
    Field("T", "int", "Sequence length T", "Sizes", limits=(1, 5000),
          help=("Number of time steps t = 1..T the network is unrolled over and gradients flow back over.")),
    Field("m", "int", "Batch size m", "Sizes", limits=(1, 256),
          help=("Number of sequences processed together (the batch); the loss is their mean.")),
    Field("cell", "choice", "Cell", "Dynamics", choices=_cell_names, choice_names=_cell_labels,
          help=("The recurrent cell: the vanilla RNN s_t = f(U x_t + W s_{t-1} + b_a), or a gated "
                "cell (LSTM, GRU) with PyTorch's equations and gate order, whose gates let the "
                "gradient through without repeated multiplication by W.")),
    Field("activation", "choice", "Activation f", "Dynamics", choices=tuple(ACTIVATIONS),
          choice_names={"tanh": "tanh", "relu": "ReLU", "sigmoid": "sigmoid", "linear": "linear"},
          help=("The non-linearity f in s_t = f(a_t). γ = sup|f'| bounds how much one step can stretch a "
                "gradient: 1 for tanh, ReLU and linear, 1/4 for sigmoid.")),
    Field("init", "choice", "Initialisation of W", "Dynamics", choices=RECURRENT_KINDS,
          choice_names={"gaussian": "Gaussian", "orthogonal": "orthogonal", "identity": "identity",
                        "sparse": "sparse"},
          help=("How W is drawn before it is scaled to the spectral radius: Gaussian, random orthogonal (Saxe"
                " et al. 2013), identity (IRNN, Le et al. 2015) or sparse with k inputs per unit (Pascanu et "
                "al. 2013).")),
    Field("spectral_radius", "float", "Spectral radius ρ(W)", "Dynamics", limits=(0.0, 3.0), widget="slider",
          help=("ρ(W) = max |λ_i(W)|. Gradients shrink roughly like (γ ρ)^(T-t) through time: ρ < 1 vanishes,"
                " ρ > 1 can explode. Dragging it rescales W, so hand-edited weights survive.")),
    Field("sparse_k", "int", "Sparse: inputs per unit k", "Dynamics", limits=(1, 2048),
          help=("For the sparse initialisation: the number of non-zero incoming weights per unit.")),
    Field("u_scale", "float", "Scale of U", "Dynamics", limits=(0.0, 10.0),
          help=("U ~ N(0, scale² / n_x): how strongly the input drives the hidden state.")),
    Field("v_scale", "float", "Scale of V", "Dynamics", limits=(0.0, 10.0),
          help=("V ~ N(0, scale² / n_s): how strongly the hidden state drives the logits.")),
    Field("ba_scale", "float", "Scale of bias b_a", "Dynamics", limits=(0.0, 10.0),
          help=("b_a ~ N(0, scale²), the hidden bias; 0 gives zeros.")),
    Field("by_scale", "float", "Scale of bias b_y", "Dynamics", limits=(0.0, 10.0),
          help=("b_y ~ N(0, scale²), the output bias; 0 gives zeros.")),
    Field("forget_bias", "float", "LSTM forget-gate bias", "Dynamics", limits=(-10.0, 10.0),
          help=("LSTM only: added to the forget gate's bias b_f at initialisation, so f = σ(...) "
                "starts near σ(1) = 0.73 and the cell state is carried from the start (Gers et "
                "al. 2000; Jozefowicz et al. 2015). PyTorch itself adds 0.")),
    Field("initial_state", "choice", "Initial state s₀", "Dynamics", choices=INITIAL_STATES,
          choice_names={"zeros": "zeros", "random": "random"},
          help=("The hidden state s₀ before the first step: zeros or random.")),
    Field("dtype", "choice", "Precision", "Dynamics", choices=DTYPES,
          choice_names={"float64": "float64", "float32": "float32"},
          help=("Floating-point precision: float64 (about 16 digits) or float32 (about 7 digits, overflows "
                "near 3e38 instead of 1.8e308).")),
    Field("input_pattern", "choice", "Input pattern", "Data", choices=(*INPUT_PATTERNS, "task"),
          choice_names={"symbols": "symbols", "gaussian": "Gaussian", "impulse": "impulse",
                        "sine": "sine waves", "text": "text",
                        "task": "training task"},
          help=("What x_t is: one-hot random symbols, Gaussian noise, one impulse at t = 1, sine waves, "
                "the characters of a text (one-hot), or a batch of the training task (chosen in the "
                "Training panel; it sets n_x, n_y and T).")),
    Field("target_pattern", "choice", "Target pattern", "Data", choices=TARGET_PATTERNS,
          choice_names={"next": "next symbol", "copy": "copy", "random": "random"},
          help=("What the output should be at each step: the next input symbol, the input symbol from 'copy "
                "delay' steps ago, or random classes.")),
    Field("copy_delay", "int", "Copy delay", "Data", limits=(0, 4999),
          help=("For 'copy' targets: the target at t is the input symbol at t - delay.")),
    Field("text", "text", "Text", "Data", limits=(0, 5000),
          help=("For 'text' input: each character becomes a one-hot x_t; n_x is its alphabet size.")),
    Field("seed", "int", "Random seed", "Random seed", limits=(0, 2147483647),
          help=("Seed of the random generator that draws weights, inputs and targets: the same seed always "
                "draws the same picture.")),
)}

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (group, tuple(f.name for f in FIELDS.values() if f.group == group))
    for group in dict.fromkeys(f.group for f in FIELDS.values()))
