"""Session files: versioned JSON, written atomically, read with strict validation (never pickle/eval).

Format, version 1 (the current one)::

    {"format": "rnnviz-session", "version": 1,
     "config": {every Config field},                      # see config.py for types and limits
     "params": {"W": [[...], ...], ...},                  # optional; only the matrices that are not
                                                          # the seed's draw (hand-edited, rescaled,
                                                          # or from a preset); the rest are re-drawn
     "edited": ["W", ...],                                # hand-edited matrices (each in "params")
     "inputs": {"x": [[[...]]], "s0": [[...]]},           # optional; inputs fixed by a preset
     "view": {"t": 0, "b": 0, "panels": {"flow": true}, "presentation": false,
              "gradient": "last", ...},                   # gradient heatmap: "total" dL/ds_t
                                                          # (the default) or "last" dL_T/ds_t
     "preset": "vanishing"}                               # optional; the preset it started from

Parameter shapes follow the seed notebook: U (n_s, n_x), W (n_s, n_s), V (n_y, n_s), ba (n_s, 1),
by (n_y, 1); x (n_x, m, T), s0 (n_s, m). t and b are 0-based. Every problem with a file raises
SessionFileError with a message that names what is wrong.

Reading is bounded before anything is parsed (jsontext.py): a file must be a regular file of at
most MAX_FILE_BYTES, nest at most 5 deep (inputs.x is the deepest part), and hold no more
objects, lists, values and text than the largest valid session (LIMITS); duplicate keys and
lone surrogates are refused, a UTF-8 BOM is accepted. A load then uses at most about
MAX_LOAD_MEMORY above what the session itself holds (benchmarks/bench_load_memory.py).
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rnnviz.engine.parameters import network_shapes
from rnnviz.state import config as cfg
from rnnviz.state import files, jsontext
from rnnviz.state.config import short
from rnnviz.state.values import MAX_WEIGHT

FORMAT = "rnnviz-session"
VERSION = 2
MAX_FILE_BYTES = 200 * 2**20     # all five matrices hand-edited at the largest sizes: ~130 MB
INPUT_NAMES = ("x", "s0")
REQUIRED_KEYS = ("format", "version", "config", "edited", "view")
OPTIONAL_KEYS = ("params", "inputs", "preset", "training", "run")


class SessionFileError(Exception):
    """A session file (or session dict) that cannot be used, with a message saying why."""


MAX_CURVE = 1_000_000           # iterations of a saved training run's curves


def _structure_limits() -> jsontext.Limits:
    """The most that a valid session file holds, from the largest sizes config.LIMITS allows."""
    n_x, n_s, n_y, m = (int(cfg.LIMITS[k][1]) for k in ("n_x", "n_s", "n_y", "m"))
    numbers = (n_s * n_x + n_s * n_s + n_y * n_s + n_s + n_y      # U, W, V, ba, by
               + cfg.MAX_ARRAY_VALUES + n_s * m)                   # x, s0
    lists = (4 * (n_s + 1) + 2 * (n_y + 1)                         # U W ba s0 rows, V by rows
             + 1 + n_x + n_x * m + 1)                              # x's lists, edited
    # strings: ~260 names and values, text <= 5000 and 2 x 100 panel names <= 100 characters,
    # each character at most 12 bytes (an escaped surrogate pair) and maybe an escaped quote
    # a training run adds the optimiser's state (at most two arrays per parameter: Adam's
    # moments) and its curves: nested 7 deep (run.optimizer.state.W.exp_avg rows)
    numbers, lists = 3 * numbers + 9 * MAX_CURVE, 3 * lists
    return jsontext.Limits(depth=7, objects=64, lists=lists, values=numbers + lists + 1000,
                           quotes=2**16, backslashes=2**17, string_bytes=2**20,
                           noun="session file")


LIMITS = _structure_limits()
# A load holds the file's bytes, then its text (each <= MAX_FILE_BYTES, the bytes freed before
# parsing), json's objects (a float with its list slot ~33 bytes, at most LIMITS.values of
# them) and the arrays made from them (8 bytes a number): measured peaks in docs/status.md.
MAX_LOAD_MEMORY = MAX_FILE_BYTES + LIMITS.values * 48


def param_shapes(c: cfg.Config) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter under a configuration, as its cell and the readout say."""
    return network_shapes(c.cell, c.n_x, c.n_s, c.n_y)


def input_shapes(c: cfg.Config) -> dict[str, tuple[int, ...]]:
    """The shape of the inputs x and s0 under a configuration."""
    return {"x": (c.n_x, c.m, c.T), "s0": (c.n_s, c.m)}


# ----- view state ----------------------------------------------------------------------------
def _flags(value: Any, key: str) -> dict[str, bool]:
    if not isinstance(value, dict) or len(value) > 100:
        raise SessionFileError(f"view.{key} must be an object of at most 100 names -> true/false")
    for name, flag in value.items():
        if not isinstance(name, str) or len(name) > 100 or cfg.SURROGATES.search(name):
            raise SessionFileError(f"view.{key} holds the name {short(name)}: a name must be "
                                   f"text of at most 100 characters")
        if not isinstance(flag, bool):
            raise SessionFileError(f"view.{key}[{short(name)}] must be true or false, "
                                   f"not {short(flag)}")
    return dict(value)


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise SessionFileError(f"view.{key} must be true or false, not {short(value)}")
    return value


def _speed(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1000:
        raise SessionFileError(f"view.{key} must be a number of steps per second in (0, 1000]")
    return float(value)


# What the gradient heatmap shows: the total dL/ds_t, or dL_T/ds_t of the last step's loss alone.
GRADIENT_VIEWS = ("total", "last")


def _gradient(value: Any, key: str) -> str:
    if not isinstance(value, str) or value not in GRADIENT_VIEWS:
        raise SessionFileError(f"view.{key} must be one of {', '.join(map(repr, GRADIENT_VIEWS))}, "
                               f"not {short(value)}")
    return value


# Optional view keys and their checks (t and b are required and checked against the config).
VIEW_KEYS: dict[str, Callable[[Any, str], Any]] = {
    "panels": _flags, "presentation": _flag, "presentation_panels": _flags,
    "speed": _speed, "loop": _flag, "gradient": _gradient,
}


def check_view(view: Any, c: cfg.Config) -> dict:
    """A validated copy of a view dict under a configuration."""
    if not isinstance(view, dict):
        raise SessionFileError(f"view must be an object, not {_kind(view)}")
    out = {}
    for key, size, name in (("t", c.T, "T"), ("b", c.m, "m")):
        value = view.get(key)
        if not _is_int(value) or not 0 <= value < size:
            raise SessionFileError(f"view.{key} must be a whole number from 0 to {size - 1} "
                                   f"({name} = {size}); got {short(value)}")
        out[key] = value
    for key, value in view.items():
        if key in ("t", "b"):
            continue
        if key not in VIEW_KEYS:
            raise SessionFileError(f"view has an unknown entry {short(key)}; known: t, b, "
                                   f"{', '.join(VIEW_KEYS)}")
        out[key] = VIEW_KEYS[key](value, key)
    return out


# ----- arrays --------------------------------------------------------------------------------
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false",
            type(None): "null"}.get(type(value), type(value).__name__)


def _check_nested(value: Any, shape: tuple[int, ...], where: str) -> None:
    """Raise unless value is nested lists of plain numbers with exactly this shape."""
    if len(shape) == 1:
        if not isinstance(value, list) or len(value) != shape[0]:
            raise SessionFileError(f"{where} must be a list of {shape[0]} numbers")
        for i, v in enumerate(value):
            if type(v) is not float and type(v) is not int:
                raise SessionFileError(f"{where}[{i}] must be a number, not {_kind(v)}")
        return
    if not isinstance(value, list) or len(value) != shape[0]:
        got = f"{len(value)} entries" if isinstance(value, list) else _kind(value)
        raise SessionFileError(f"{where} must be a list of {shape[0]} rows; got {got}")
    for i, row in enumerate(value):
        _check_nested(row, shape[1:], f"{where}[{i}]")


def to_array(value: Any, shape: tuple[int, ...], where: str) -> np.ndarray:
    """A float64 array from nested lists of the expected shape, finite and within MAX_WEIGHT."""
    _check_nested(value, shape, where)
    try:
        a = np.array(value, dtype=np.float64).reshape(shape)
    except (OverflowError, ValueError):
        raise SessionFileError(f"{where} holds a number too large for a float") from None
    if not np.all(np.isfinite(a)):
        raise SessionFileError(f"{where} holds a value that is not finite (NaN or infinity)")
    if a.size and np.max(np.abs(a)) > MAX_WEIGHT:
        raise SessionFileError(f"{where} holds a value beyond ±{MAX_WEIGHT:g}")
    return a


def check_arrays(value: Any, shapes: dict, key: str) -> dict[str, np.ndarray]:
    if not isinstance(value, dict):
        raise SessionFileError(f"{key} must be an object, not {_kind(value)}")
    unknown = [k for k in value if k not in shapes]
    if unknown:
        raise SessionFileError(f"{key} has an unknown entry {short(unknown[0])}; "
                               f"known: {', '.join(shapes)}")
    return {k: to_array(v, shapes[k], f"{key}.{k} (shape {shapes[k]})") for k, v in value.items()}


# ----- versions ------------------------------------------------------------------------------
def _v0_to_v1(doc: dict) -> dict:
    """Version 0 called n_s "hidden", had no dtype/initial_state, no "edited" and no "view"."""
    doc = dict(doc)
    config = doc.get("config")
    if isinstance(config, dict):
        config = dict(config)
        if "hidden" in config and "n_s" not in config:
            config["n_s"] = config.pop("hidden")
        config.setdefault("dtype", "float64")
        config.setdefault("initial_state", "zeros")
        doc["config"] = config
    doc.setdefault("edited", sorted(doc["params"]) if isinstance(doc.get("params"), dict) else [])
    doc.setdefault("view", {"t": 0, "b": 0})
    doc["version"] = 1
    return doc


def _v1_to_v2(doc: dict) -> dict:
    """Version 1 had only the vanilla cell: no "cell" and no "forget_bias" setting."""
    doc = dict(doc)
    if isinstance(doc.get("config"), dict):
        doc["config"] = {"cell": "vanilla", "forget_bias": 1.0, **doc["config"]}
    doc["version"] = 2
    return doc


MIGRATIONS: dict[int, Callable[[dict], dict]] = {0: _v0_to_v1, 1: _v1_to_v2}   # n -> n + 1


def migrate(doc: dict) -> dict:
    """A document of any known version brought to the current one."""
    version = doc.get("version")
    if not _is_int(version):
        raise SessionFileError(f"version must be a whole number, not {short(version)}")
    if version > VERSION:
        raise SessionFileError(f"this file was written by a newer rnnviz (format version "
                               f"{short(version)}); this one reads versions up to {VERSION}")
    while version < VERSION:
        if version not in MIGRATIONS:
            raise SessionFileError(f"unknown format version {short(version)}")
        doc = MIGRATIONS[version](doc)
        version = doc["version"]
    return doc


# ----- documents -----------------------------------------------------------------------------
def parse(doc: Any) -> dict:
    """A validated session from a decoded JSON document (any known version).

    Returns {"config": Config, "params": {name: float64 array}, "edited": frozenset,
    "inputs": {name: float64 array}, "view": dict, "preset": str | None}.
    """
    if not isinstance(doc, dict):
        raise SessionFileError(f"not a session file: the top level is {_kind(doc)}, not an object")
    if doc.get("format") != FORMAT:
        raise SessionFileError(f"not a session file: \"format\" should be {FORMAT!r}, "
                               f"found {short(doc.get('format'))}")
    doc = migrate(doc)
    missing = [k for k in REQUIRED_KEYS if k not in doc]
    if missing:
        raise SessionFileError(f"session file lacks {', '.join(map(repr, missing))}")
    extra = [k for k in doc if k not in REQUIRED_KEYS + OPTIONAL_KEYS]
    if extra:
        raise SessionFileError(f"session file has an unknown entry {short(extra[0])}")
    config, problems = cfg.from_dict(doc["config"])
    if problems:
        raise SessionFileError(f"config: {cfg.describe(problems)}")
    params = check_arrays(doc.get("params", {}), param_shapes(config), "params")
    inputs = check_arrays(doc.get("inputs", {}), input_shapes(config), "inputs")
    if len(inputs) == 1:
        raise SessionFileError("inputs must hold both x and s0, or be left out")
    edited = doc["edited"]
    if not isinstance(edited, list) or any(not isinstance(n, str) for n in edited):
        raise SessionFileError("edited must be a list of matrix names")
    for name in edited:
        if name not in param_shapes(config):
            raise SessionFileError(f"edited names an unknown matrix {short(name)}")
        if name not in params:
            raise SessionFileError(f"edited lists {name!r} but params does not hold it")
    setup_training = run = None
    if "training" in doc:
        from rnnviz.state import training  # (training imports the engine's optimisers)
        if not isinstance(doc["training"], dict):
            raise SessionFileError("training must be an object of training settings")
        try:
            setup_training = training.make_training(**doc["training"])
            run = training.check_run_doc(doc["run"]) if "run" in doc else None
        except (training.TrainingError, TypeError) as exc:
            raise SessionFileError(f"training: {exc}") from None
    elif "run" in doc:
        raise SessionFileError("run needs the training set-up it belongs to")
    preset = doc.get("preset")
    if preset is not None and (not isinstance(preset, str) or len(preset) > 100
                               or cfg.SURROGATES.search(preset)):
        raise SessionFileError("preset must be a short name (text that can be saved) or null")
    return {"config": config, "params": params, "edited": frozenset(edited), "inputs": inputs,
            "training": setup_training, "run": run,
            "view": check_view(doc["view"], config), "preset": preset}


def _read(buffer: bytearray) -> dict:
    """A validated session from a file's bytes (the buffer is used up)."""
    try:
        doc = jsontext.read(buffer, LIMITS)
    except jsontext.JSONTextError as exc:
        raise SessionFileError(str(exc)) from None
    return parse(doc)


def loads(text: str | bytes) -> dict:
    """A validated session from JSON text."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return _read(bytearray(data))


# File > Open reads a file once to report a bad one before it asks about unsaved changes, then
# Session.load_file reads it again: the second read of the same bytes (checked by their digest)
# reuses the first one's result, once, if it comes within REUSE_SECONDS.
REUSE_SECONDS = 120.0
_last: dict = {}
_last_lock = threading.Lock()


def _forget(token: object) -> None:
    with _last_lock:
        if _last.get("token") is token:
            _last.clear()


def load(path: str | os.PathLike) -> dict:
    """A validated session from a file; SessionFileError for every kind of problem.

    Two loads of the same content in a row may return the same dict: treat it as read-only."""
    try:
        buffer = files.read_regular(path, MAX_FILE_BYTES, noun="session file")
    except files.FileError as exc:
        raise SessionFileError(str(exc)) from None
    digest = hashlib.blake2b(buffer, digest_size=32).digest()
    with _last_lock:
        last = dict(_last)
        _last.clear()
    if last.get("digest") == digest:
        return last["parsed"]
    parsed = _read(buffer)
    token = object()
    with _last_lock:
        _last.update(token=token, digest=digest, parsed=parsed)
    timer = threading.Timer(REUSE_SECONDS, _forget, (token,))
    timer.daemon = True
    timer.start()
    return parsed


def _array_json(a: np.ndarray) -> str:
    """One row per line: readable in a text editor, exact (repr of float64)."""
    return "[\n      " + ",\n      ".join(json.dumps(row, allow_nan=False)
                                         for row in np.asarray(a, dtype=np.float64).tolist()) + "]"


def dumps(doc: dict) -> str:
    """JSON text of a session dict (as made by Session.to_dict), validated first."""
    parse(doc)
    parts = []
    for key, value in doc.items():
        if key in ("params", "inputs"):
            body = ",\n".join(f"    {json.dumps(k)}: {_array_json(v)}" for k, v in value.items())
            text = "{\n" + body + "\n  }" if value else "{}"
        else:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        parts.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def save(path: str | os.PathLike, doc: dict) -> Path:
    """Write a session dict atomically (files.write_atomic: through links, keeping the mode);
    the file written."""
    try:
        data = dumps(doc).encode("utf-8")
    except (TypeError, ValueError) as exc:      # UnicodeEncodeError is a ValueError
        raise SessionFileError(f"this session cannot be written as JSON: {str(exc)[:200]}") \
            from None
    if len(data) > MAX_FILE_BYTES:
        raise SessionFileError(f"the session is too large to save ({len(data) / 2**20:.0f} MB; "
                               f"at most {MAX_FILE_BYTES // 2**20} MB)")
    try:
        return files.write_atomic(path, data)
    except files.FileError as exc:
        raise SessionFileError(f"cannot save {Path(path).name}: {exc}") from None
