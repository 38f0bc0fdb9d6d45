"""Weights of a real trained model in and out: a PyTorch state_dict of nn.RNN, nn.LSTM or nn.GRU
plus a Linear readout, as .pt, .npz or .safetensors (the formats: weights_formats.py). Qt-free.

PyTorch's names, after any prefix of the user's own module ("rnn.", "model.encoder.", ...):
    weight_ih_l0 (G n_s, n_x) -> U      weight_hh_l0 (G n_s, n_s) -> W
    bias_ih_l0, bias_hh_l0 (G n_s,)     -> ba = bias_ih + bias_hh (vanilla, LSTM: they only ever
                                           enter as a sum); the GRU keeps both: ba = bias_ih,
                                           bs = bias_hh (bs_n sits inside the reset gate)
    weight (n_y, n_s), bias (n_y,) of the readout Linear -> V, by
G = 1 (nn.RNN: the vanilla cell; its tanh or relu is not stored in a state_dict), 3 (GRU), 4 (LSTM),
the gate blocks in PyTorch's order, as rnnviz's cells keep them. The recurrent layer is found by
its names (a prefix with weight_ih_l0 and weight_hh_l0), the readout by its name and shape (a
"weight" of n_s columns); where several fit, Ambiguous lists them and the caller asks. A second
layer (_l1), a bidirectional one (_reverse) or a projection (weight_hr_l0) is refused by name.
Precision: the file's (float16 and bfloat16 read as float32) unless the caller asks for float64.
Export writes the same names (prefixes "rnn." and "fc."; bias_hh 0 for the vanilla cell and LSTM).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnviz.engine.parameters import Parameters
from rnnviz.state import config as cfg
from rnnviz.state import weights_formats as formats
from rnnviz.state.weights_formats import FormatError

CELL_OF_GATES = {1: "vanilla", 3: "gru", 4: "lstm"}
GATES_OF_CELL = {cell: g for g, cell in CELL_OF_GATES.items()}
TORCH_MODULE = {"vanilla": "nn.RNN", "gru": "nn.GRU", "lstm": "nn.LSTM"}
NO_READOUT = "-"                      # readout= this: draw V and by from the seed instead
MAX_WEIGHT = 1e6                      # as every weight of a session (sessionfile.MAX_WEIGHT)
EXPORT_PREFIXES = ("rnn.", "fc.")


class WeightsError(ValueError):
    """A weight file that cannot be used, with a message naming what is wrong."""


class Ambiguous(WeightsError):
    """More than one recurrent layer or readout fits: the caller asks which (kind, candidates)."""

    def __init__(self, kind: str, candidates: list, option: str):
        self.kind, self.candidates, self.option = kind, list(candidates), option
        listed = "; ".join(c.describe() for c in self.candidates)
        super().__init__(f"the file holds {len(self.candidates)} {kind}s that fit: {listed}. "
                         f"Pick one by its prefix ({option})")


@dataclass(frozen=True)
class Layer:
    """A recurrent layer found in a state_dict: its prefix, cell and sizes."""

    prefix: str
    cell: str
    n_x: int
    n_s: int

    def describe(self) -> str:
        return (f"'{self.prefix or '(no prefix)'}' ({TORCH_MODULE[self.cell]}, n_x = {self.n_x}, "
                f"n_s = {self.n_s})")


@dataclass(frozen=True)
class Readout:
    """A Linear readout found in a state_dict: its prefix and n_y."""

    prefix: str
    n_y: int
    has_bias: bool

    def describe(self) -> str:
        return f"'{self.prefix or '(no prefix)'}' (Linear {self.n_y} × n_s)"


@dataclass(frozen=True)
class Imported:
    """Weights read from a file: the network's parameters and where they came from."""

    params: Parameters
    layer: Layer
    readout: Readout | None          # None: the file has none; V, by to be drawn from the seed
    file_dtype: str                  # the recurrent weights' precision in the file
    source: str                      # the file's name
    messages: tuple[str, ...] = ()   # what the user should read (a dropped bias, a readout drawn)

    @property
    def cell(self) -> str:
        return self.layer.cell


# ----- finding the layers -------------------------------------------------------------------------
def layers(arrays: dict) -> list[Layer]:
    """Every recurrent layer of a state_dict (prefixes with weight_ih_l0 and weight_hh_l0);
    WeightsError naming a second layer, a bidirectional layer, a projection or a shape mismatch."""
    found = []
    for key in sorted(arrays):
        if not key.endswith("weight_ih_l0"):
            continue
        prefix = key[:-len("weight_ih_l0")]
        hh = arrays.get(prefix + "weight_hh_l0")
        if hh is None:
            raise WeightsError(f"{key} has no {prefix}weight_hh_l0 beside it")
        for extra, what in (("weight_ih_l1", "a second layer"),
                            ("weight_ih_l0_reverse", "a bidirectional layer"),
                            ("weight_hr_l0", "a projection (proj_size)")):
            if prefix + extra in arrays:
                raise WeightsError(f"{prefix}{extra}: the file holds {what}; rnnviz shows one "
                                   f"layer, one direction, without projection (num_layers=1, "
                                   f"bidirectional=False, proj_size=0)")
        ih = arrays[key]
        if ih.ndim != 2 or hh.ndim != 2 or hh.shape[1] == 0 or hh.shape[0] % hh.shape[1]:
            raise WeightsError(f"{key} {ih.shape} and {prefix}weight_hh_l0 {hh.shape}: expected "
                               f"(G n_s, n_x) and (G n_s, n_s), G = 1, 3 or 4")
        n_s = hh.shape[1]
        gates = hh.shape[0] // n_s
        if gates not in CELL_OF_GATES or ih.shape[0] != hh.shape[0]:
            raise WeightsError(f"{key} {ih.shape} and {prefix}weight_hh_l0 {hh.shape} do not make "
                               f"an nn.RNN, nn.GRU or nn.LSTM layer (rows 1, 3 or 4 times n_s, "
                               f"the same for both)")
        for bias in ("bias_ih_l0", "bias_hh_l0"):
            b = arrays.get(prefix + bias)
            if b is not None and b.shape != (hh.shape[0],):
                raise WeightsError(f"{prefix}{bias} has shape {b.shape}; the layer needs "
                                   f"({hh.shape[0]},)")
        found.append(Layer(prefix, CELL_OF_GATES[gates], ih.shape[1], n_s))
    if not found:
        if any(k.endswith("weight_ih_l1") for k in arrays):
            raise WeightsError("the file has weight_ih_l1 but no weight_ih_l0 (a layer of its own?)")
        raise WeightsError("no recurrent layer found: expected PyTorch's names weight_ih_l0 and "
                           "weight_hh_l0 (of an nn.RNN, nn.GRU or nn.LSTM), after any prefix")
    return found


def readouts(arrays: dict, layer: Layer) -> list[Readout]:
    """Every Linear that can read the layer out: a 2-d "weight" of n_s columns (not the layer's
    own), with a "bias" of its rows beside it if any."""
    found = []
    for key in sorted(arrays):
        if not (key == "weight" or key.endswith(".weight")):
            continue
        prefix = key[:-len("weight")]
        w = arrays[key]
        if w.ndim != 2 or w.shape[1] != layer.n_s:
            continue
        b = arrays.get(prefix + "bias")
        if b is not None and b.shape != (w.shape[0],):
            raise WeightsError(f"{prefix}bias has shape {b.shape}; {key} {w.shape} needs "
                               f"({w.shape[0]},)")
        found.append(Readout(prefix, w.shape[0], b is not None))
    return found


def _pick(candidates: list, chosen: str | None, kind: str, option: str):
    if chosen is not None:
        for c in candidates:
            if c.prefix == chosen:
                return c
        raise WeightsError(f"no {kind} with the prefix {chosen!r}; the file has "
                           + "; ".join(c.describe() for c in candidates))
    if len(candidates) > 1:
        raise Ambiguous(kind, candidates, option)
    return candidates[0]


def _checked(name: str, a: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(a) | (np.abs(a) > MAX_WEIGHT)
    if bad.any():
        i = tuple(int(v) for v in np.argwhere(bad)[0])
        raise WeightsError(f"{name}{list(i)} = {float(a[i])}: weights must be finite and within "
                           f"±{MAX_WEIGHT:g}")
    return a


# ----- reading --------------------------------------------------------------------------------------
def interpret(arrays: dict, *, recurrent: str | None = None, readout: str | None = None,
              dtype: str | None = None, source: str = "arrays", rng=None) -> Imported:
    """The network a state_dict's arrays describe (see the module docstring).

    recurrent / readout: the prefix to use where several fit (Ambiguous otherwise); readout
    NO_READOUT, or a file without one: V and by are drawn (rng, PyTorch's Linear default
    uniform(-1/sqrt(n_s), 1/sqrt(n_s)))). dtype: "float32" | "float64" | None (the file's)."""
    layer = _pick(layers(arrays), recurrent, "recurrent layer", "recurrent=PREFIX")
    p = layer.prefix
    ih, hh = arrays[p + "weight_ih_l0"], arrays[p + "weight_hh_l0"]
    file_dtype = "float64" if hh.dtype == np.float64 else "float32"
    dt = np.dtype(dtype or file_dtype)
    if dt not in (np.float32, np.float64):
        raise WeightsError(f"dtype: float32 or float64, not {dtype!r}")
    rows = hh.shape[0]
    messages = []
    missing = [b for b in ("bias_ih_l0", "bias_hh_l0") if p + b not in arrays]
    if missing:
        messages.append(f"{', '.join(p + b for b in missing)} not in the file (bias=False): zeros")
    b_ih, b_hh = (arrays.get(p + b, np.zeros(rows)).astype(dt) for b in ("bias_ih_l0", "bias_hh_l0"))
    out = {"U": ih.astype(dt), "W": hh.astype(dt)}
    if layer.cell == "gru":
        out["ba"], out["bs"] = b_ih[:, None], b_hh[:, None]
    else:
        out["ba"] = (b_ih + b_hh)[:, None]
    candidates = [] if readout == NO_READOUT else readouts(arrays, layer)
    chosen = None
    if readout != NO_READOUT and (candidates or readout is not None):
        chosen = _pick(candidates, readout, "readout", "readout=PREFIX")
        w = arrays[chosen.prefix + "weight"]
        out["V"] = w.astype(dt)
        out["by"] = arrays.get(chosen.prefix + "bias", np.zeros(w.shape[0])).astype(dt)[:, None]
        if not chosen.has_bias:
            messages.append(f"{chosen.prefix}bias not in the file: b_y = 0")
    else:
        rng = np.random.default_rng(0) if rng is None else rng
        n_y = 1 if readout == NO_READOUT else _guess_n_y(arrays, layer)
        k = 1.0 / np.sqrt(layer.n_s)
        out["V"] = rng.uniform(-k, k, size=(n_y, layer.n_s)).astype(dt)
        out["by"] = rng.uniform(-k, k, size=(n_y, 1)).astype(dt)
        messages.append(f"no Linear readout of n_s = {layer.n_s} inputs in the file: V and b_y "
                        f"({n_y} outputs) are drawn as PyTorch's nn.Linear would")
    for name, a in out.items():
        _checked(name, a)
    for size, value in (("n_x", layer.n_x), ("n_s", layer.n_s), ("n_y", out["V"].shape[0])):
        lo, hi = cfg.LIMITS[size]
        if not lo <= value <= hi:
            raise WeightsError(f"{size} = {value}: rnnviz takes {size} from {lo:g} to {hi:g}")
    try:
        params = Parameters(cell=layer.cell, **out)
    except ValueError as exc:
        raise WeightsError(f"the arrays do not make a {layer.cell} network: {exc}") from None
    if layer.cell == "vanilla":
        messages.append("nn.RNN's nonlinearity is not stored in a state_dict: tanh unless you "
                        "choose relu")
    return Imported(params, layer, chosen, file_dtype, source, tuple(messages))


def _guess_n_y(arrays: dict, layer: Layer) -> int:
    """Outputs for a drawn readout: as many as the inputs (a next-symbol model), within limits."""
    return int(min(max(layer.n_x, 1), cfg.LIMITS["n_y"][1]))


def load(path, *, recurrent: str | None = None, readout: str | None = None,
         dtype: str | None = None) -> Imported:
    """interpret() the arrays of a weight file; WeightsError (Ambiguous among them) otherwise."""
    try:
        arrays = formats.read(path)
    except FormatError as exc:
        raise WeightsError(str(exc)) from None
    return interpret(arrays, recurrent=recurrent, readout=readout, dtype=dtype,
                     source=Path(path).name)


# ----- writing ---------------------------------------------------------------------------------------
def state_dict(params: Parameters, prefixes=EXPORT_PREFIXES) -> dict[str, np.ndarray]:
    """PyTorch's names for a network's arrays (loads into a module with attributes rnn and fc via
    load_state_dict after torch.from_numpy): the biases split as PyTorch holds them."""
    rnn, fc = prefixes
    if params.cell not in GATES_OF_CELL:
        raise WeightsError(f"the {params.cell} cell has no PyTorch counterpart to export to")
    out = {f"{rnn}weight_ih_l0": params.U, f"{rnn}weight_hh_l0": params.W}
    if params.cell == "gru":
        out[f"{rnn}bias_ih_l0"], out[f"{rnn}bias_hh_l0"] = params.ba[:, 0], params.bs[:, 0]
    else:                                  # ba = bias_ih + bias_hh: all of it in bias_ih
        out[f"{rnn}bias_ih_l0"] = params.ba[:, 0]
        out[f"{rnn}bias_hh_l0"] = np.zeros_like(params.ba[:, 0])
    out[f"{fc}weight"], out[f"{fc}bias"] = params.V, params.by[:, 0]
    return {k: np.ascontiguousarray(v) for k, v in out.items()}


def save(path, params: Parameters) -> Path:
    """Export a network's weights as a state_dict in the format the file's ending names."""
    try:
        return formats.write(path, state_dict(params))
    except FormatError as exc:
        raise WeightsError(str(exc)) from None


# ----- into a session ------------------------------------------------------------------------------
def session_config(config: cfg.Config, imported: Imported, activation: str | None = None
                   ) -> tuple[cfg.Config, list[str]]:
    """The configuration that shows the imported network: its cell, sizes and precision, the data
    settings made to fit them (each change said in a message); WeightsError when none fits."""
    p = imported.params
    act = activation or ("tanh" if imported.cell != "vanilla" or config.activation not in
                         ("tanh", "relu") else config.activation)
    changes = dict(cell=imported.cell, n_x=p.n_x, n_s=p.n_s, n_y=p.n_y, dtype=p.dtype.name,
                   activation=act, sparse_k=min(config.sparse_k, p.n_s))
    messages = []
    if config.input_pattern in ("text", cfg.TASK_PATTERN):
        changes["input_pattern"] = "symbols"
        messages.append(f"the input pattern {config.input_pattern!r} does not fit the imported "
                        f"sizes: symbols instead")
    if config.target_pattern in ("next", "copy") and p.n_y != p.n_x:
        changes["target_pattern"] = "random"
        messages.append(f"{config.target_pattern!r} targets need n_y = n_x; the model has "
                        f"n_x = {p.n_x}, n_y = {p.n_y}: random targets instead")
    new = dataclasses.replace(config, **changes)
    problems = cfg.validate(new)
    if problems and any(pr.field == "T" for pr in problems):
        limit = cfg.MAX_ARRAY_VALUES // (max(p.n_s, p.n_x, p.n_y) * new.m)
        new = dataclasses.replace(new, T=max(1, min(new.T, limit)),
                                  copy_delay=min(new.copy_delay, max(1, min(new.T, limit) - 1)))
        messages.append(f"T shortened to {new.T} to fit the sizes")
        problems = cfg.validate(new)
    if problems:
        raise WeightsError(f"the imported network does not fit a set-up: {cfg.describe(problems)}")
    return new, messages
