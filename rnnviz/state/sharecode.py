"""Share codes: what the sender sees, as one line to paste into a mail or a chat.

Format 2 (written): ``rnnviz2:`` + base62 (below) of the zlib-compressed compact JSON object
    {"config": {fields that differ from config.DEFAULT},
     "preset": name,                       the preset the set-up came from (its explanation)
     "view": {"t", "b", "gradient", "panels", "presentation_panels"},
     "from_preset": ["U", ...],            matrices that are the preset's own arrays
     "preset_inputs": true,                x and s0 are the preset's own arrays
     "training": {...},                    the training set-up (TrainingSetup.to_dict())
     "edits": {"W": {"entries": [[i, j, value], ...]} | {"dense": [[...], ...]},
               "edited": true}}            hand-edited matrices (every key but config optional)
Sparse entries are relative to the matrix's base: the preset's own array when the preset has
one, else the seed's draw for the configuration; values are JSON floats (exact round trips).
The body uses letters and digits only: no '-' or '_' for a mail client to wrap at or a chat to
read as markup, and a double click selects all of it; mail's line breaks, indents and '>'
quote marks are ignored. Base62 here: each 8 bytes as 11 digits 0-9A-Za-z (a big-endian
number, zero-padded), a last group of k < 8 bytes as the fewest digits that hold 256^k.

Format 1 (read, never written): ``rnnviz1:`` + URL-safe base64 of the config diff alone.

Decoding is strict: the text's length is checked before it is split (a clipboard may hold
100 MB), nothing may follow the zlib stream, and the JSON is bounded (jsontext.py: no deeper
nesting than the format, no duplicate keys, no lone surrogates); every array is checked
against the configuration's shapes, finite and within ±MAX_WEIGHT.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import zlib
from dataclasses import dataclass, field

import numpy as np

from rnnviz.state import config as cfg
from rnnviz.state import jsontext, sessionfile

PREFIX = "rnnviz2:"
PREFIX_V1 = "rnnviz1:"
MAX_CODE_CHARS = 20_000         # a 5000-character text compresses far below this
MAX_JSON_BYTES = 100_000
MAX_TEXT_CHARS = 4 * MAX_CODE_CHARS     # the code with the line breaks and indents of a mail
# Hand-edited weights are shared while the whole code stays within this many characters (a
# long line in a mail; a session file keeps any number of them).
SHARE_BUDGET = 2_000
VIEW_KEYS = ("t", "b", "gradient", "panels", "presentation_panels")   # what a code restores
MAX_NAME = 100
LIMITS_V1 = jsontext.Limits(depth=1, objects=1, lists=0, values=100, quotes=12_000,
                            backslashes=12_000, string_bytes=MAX_JSON_BYTES, noun="share code")
# {"edits": {"W": {"dense": [[1.0]]}}} nests 5 deep: the deepest a valid code goes.
LIMITS = jsontext.Limits(depth=5, objects=12, lists=MAX_JSON_BYTES // 4,
                         values=MAX_JSON_BYTES // 2, quotes=12_400, backslashes=12_000,
                         string_bytes=MAX_JSON_BYTES, noun="share code")
_V1_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_V2_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DIGIT = {c: i for i, c in enumerate(_V2_ALPHABET)}
# digits of a group of k bytes: the fewest base-62 digits d with 62^d >= 256^k
_GROUP_DIGITS = {k: next(d for d in range(1, 12) if 62 ** d >= 256 ** k) for k in range(1, 9)}
_GROUP_BYTES = {d: k for k, d in _GROUP_DIGITS.items()}


def base62(data: bytes) -> str:
    """Bytes as base-62 digits, 8 bytes to 11 digits (see the module docstring)."""
    out = []
    for at in range(0, len(data), 8):
        group = data[at:at + 8]
        n, digits = int.from_bytes(group, "big"), []
        for _ in range(_GROUP_DIGITS[len(group)]):
            n, r = divmod(n, 62)
            digits.append(_V2_ALPHABET[r])
        out.append("".join(reversed(digits)))
    return "".join(out)


def unbase62(text: str) -> bytes:
    """The bytes of base62(); ValueError for a text no bytes encode to."""
    out = bytearray()
    for at in range(0, len(text), 11):
        group = text[at:at + 11]
        k = _GROUP_BYTES.get(len(group))
        n = 0
        for c in group:
            n = 62 * n + _DIGIT[c]
        if k is None or n >= 256 ** k:
            raise ValueError("not base62")
        out += n.to_bytes(k, "big")
    return bytes(out)


@dataclass(frozen=True)
class Edit:
    """One shared matrix: the whole array, or the entries that differ from its base."""
    dense: np.ndarray | None = None
    entries: tuple[tuple[int, int, float], ...] = ()
    edited: bool = True                  # hand-edited (not merely stored) at the sender's

    def apply(self, base: np.ndarray | None) -> np.ndarray:
        """The matrix: dense as it is, or the base with the entries put in."""
        if self.dense is not None:
            return self.dense.copy()
        M = np.array(base, dtype=np.float64, copy=True)
        for i, j, v in self.entries:
            M[i, j] = v
        return M


@dataclass(frozen=True)
class Shared:
    """What a share code holds."""
    config: cfg.Config
    preset: str | None = None
    view: dict = field(default_factory=dict)
    from_preset: frozenset = frozenset()
    preset_inputs: bool = False
    edits: dict = field(default_factory=dict)       # name -> Edit
    version: int = 2
    training: dict | None = None                    # TrainingSetup.to_dict() (checked by sharing)


def edit_of(M: np.ndarray, base: np.ndarray | None, edited: bool = True) -> Edit:
    """The shorter form of a matrix: its entries that differ from base, or all of it."""
    M = np.asarray(M, dtype=np.float64)
    if base is not None and np.shape(base) == M.shape and M.ndim == 2:
        where = np.argwhere(M != np.asarray(base, dtype=np.float64))
        if 3 * len(where) < M.size:
            return Edit(entries=tuple((int(i), int(j), float(M[i, j])) for i, j in where),
                        edited=edited)
    return Edit(dense=M, edited=edited)


# ----- writing -----------------------------------------------------------------------------------
def encode(config: cfg.Config) -> str:
    """The share code of a (valid) configuration alone."""
    return pack(Shared(config))


def _document(shared: Shared) -> dict:
    default = cfg.to_dict(cfg.DEFAULT)
    doc: dict = {"config": {k: v for k, v in cfg.to_dict(shared.config).items()
                            if v != default[k]}}
    if shared.preset is not None:
        doc["preset"] = shared.preset
    view = {k: shared.view[k] for k in VIEW_KEYS if k in shared.view}
    if view:
        doc["view"] = view
    if shared.from_preset:
        doc["from_preset"] = sorted(shared.from_preset)
    if shared.preset_inputs:
        doc["preset_inputs"] = True
    if shared.training is not None:
        doc["training"] = shared.training
    edits = {}
    for name, e in shared.edits.items():
        form = {"dense": e.dense.tolist()} if e.dense is not None else \
            {"entries": [[i, j, v] for i, j, v in e.entries]}
        edits[name] = {**form, **({} if e.edited else {"edited": False})}
    if edits:
        doc["edits"] = edits
    return doc


def pack(shared: Shared) -> str:
    """The share code of what a Shared holds (ValueError for an invalid configuration)."""
    problems = cfg.validate(shared.config)
    if problems:
        raise ValueError(f"cannot share an invalid set-up: {cfg.describe(problems)}")
    raw = json.dumps(_document(shared), separators=(",", ":"), ensure_ascii=False,
                     allow_nan=False)
    packed = zlib.compress(raw.encode("utf-8"), 9)
    return PREFIX + base62(packed)


def pack_within(shared: Shared, budget: int = SHARE_BUDGET) -> tuple[str, dict[str, int]]:
    """(code, left out): the code with as many edits as fit in budget characters, largest
    dropped first; left out: name -> the length the code would have had with it."""
    code, left_out = pack(shared), {}
    edits = dict(shared.edits)
    while len(code) > budget and edits:
        name = max(edits, key=lambda n: (edits[n].dense.size if edits[n].dense is not None
                                         else len(edits[n].entries)))
        left_out[name] = len(code)
        del edits[name]
        code = pack(Shared(**{**shared.__dict__, "edits": edits}))
    return code, left_out


# ----- reading -----------------------------------------------------------------------------------
def decode(text: str) -> cfg.Config:
    """The configuration in a share code (either format); ValueError saying what is wrong."""
    return unpack(text).config


def _body(text: str) -> tuple[int, str]:
    """(version, body) of a share code, whitespace and mail quote marks removed."""
    if not isinstance(text, str):
        raise ValueError(f"a share code is text, not {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:       # before split(): 100 MiB of short lines cost 2 GB
        raise ValueError(f"this is not a share code: it is far too long ({len(text):,} "
                         f"characters; a share code has at most {MAX_CODE_CHARS:,})")
    code = "".join(text.split()).removeprefix("\ufeff")   # mails wrap and indent long lines
    code = code.lstrip(">")
    version, prefix = next(((v, p) for v, p in ((2, PREFIX), (1, PREFIX_V1))
                            if code.startswith(p)), (0, ""))
    if not version:
        if code.startswith("rnnviz") and ":" in code:
            raise ValueError(f"this share code is from another version of rnnviz "
                             f"({code.split(':', 1)[0]!r}); this version reads {PREFIX!r} "
                             f"and {PREFIX_V1!r}")
        raise ValueError(f"not an rnnviz share code: it should start with {PREFIX!r}")
    if len(code) > MAX_CODE_CHARS:
        raise ValueError(f"share code too long ({len(code)} characters; at most {MAX_CODE_CHARS})")
    body = code[len(prefix):]
    if version == 2:
        body = body.replace(">", "")       # '>' of a quoted mail's wrapped lines
    if body.strip(_V2_ALPHABET if version == 2 else _V1_ALPHABET):
        raise ValueError("share code is corrupt: it contains characters that do not belong "
                         "(was it copied completely?)")
    return version, body


def _inflate(version: int, body: str) -> bytes:
    try:
        if version == 2:
            packed = unbase62(body)
        else:
            packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("share code is corrupt: it contains characters that do not belong "
                         "(was it copied completely?)") from None
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, MAX_JSON_BYTES)
        if inflater.unconsumed_tail:
            raise ValueError("share code expands to far too much data")
        if not inflater.eof:
            raise zlib.error("truncated")
        if inflater.unused_data:
            raise ValueError("share code is corrupt: something follows its end (was it "
                             "pasted twice, or joined to other text?)")
    except zlib.error:
        raise ValueError("share code is corrupt or incomplete (was it copied completely?)") from None
    return raw


def _config(data) -> cfg.Config:
    if not isinstance(data, dict):
        raise ValueError("share code is corrupt: it does not hold a set of settings")
    config, problems = cfg.from_dict(data, base=cfg.DEFAULT)
    if problems:
        raise ValueError(f"share code holds an invalid set-up: {cfg.describe(problems)}")
    return config


def unpack(text: str) -> Shared:
    """Everything a share code holds, checked; ValueError saying what is wrong otherwise."""
    version, body = _body(text)
    raw = _inflate(version, body)
    try:
        data = jsontext.read(bytearray(raw), LIMITS if version == 2 else LIMITS_V1)
    except jsontext.JSONTextError as exc:
        raise ValueError(f"share code is corrupt: {exc}") from None
    if version == 1:
        return Shared(_config(data), version=1)
    if not isinstance(data, dict) or "config" not in data:
        raise ValueError("share code is corrupt: it does not hold a set of settings")
    unknown = set(data) - {"config", "preset", "view", "from_preset", "preset_inputs", "edits",
                           "training"}
    if unknown:
        raise ValueError(f"share code holds unknown entries: {', '.join(sorted(map(cfg.short, unknown)))}")
    config = _config(data["config"])
    preset = data.get("preset")
    if preset is not None and (not isinstance(preset, str) or not 0 < len(preset) <= MAX_NAME
                               or cfg.SURROGATES.search(preset)):
        raise ValueError("share code is corrupt: its preset name is not a short text")
    training = data.get("training")
    if training is not None and not isinstance(training, dict):
        raise ValueError("share code is corrupt: its training set-up is not a set of settings")
    names = tuple(sessionfile.param_shapes(config))
    return Shared(config, preset, _view(data.get("view", {}), config),
                  _names(data.get("from_preset", []), "from_preset", names),
                  _flag(data.get("preset_inputs", False)), _edits(data.get("edits", {}), config),
                  training=training)


def _view(view, config: cfg.Config) -> dict:
    if not isinstance(view, dict) or set(view) - set(VIEW_KEYS):
        raise ValueError(f"share code is corrupt: its view holds entries other than "
                         f"{', '.join(VIEW_KEYS)}")
    full = {"t": config.T - 1, "b": 0, **view}
    try:
        checked = sessionfile.check_view(full, config)
    except sessionfile.SessionFileError as exc:
        raise ValueError(f"share code holds an unusable view: {exc}") from None
    return {k: checked[k] for k in view}


def _names(value, key: str, names: tuple[str, ...]) -> frozenset:
    if not isinstance(value, list) or not all(isinstance(n, str) and n in names for n in value) \
            or len(set(value)) != len(value):
        raise ValueError(f"share code is corrupt: {key} must list matrices of {', '.join(names)}")
    return frozenset(value)


def _flag(value) -> bool:
    if not isinstance(value, bool):
        raise ValueError("share code is corrupt: preset_inputs must be true or false")
    return value


def _edits(value, config: cfg.Config) -> dict:
    shapes = sessionfile.param_shapes(config)
    if not isinstance(value, dict) or set(value) - set(shapes):
        raise ValueError(f"share code is corrupt: its edits may name only {', '.join(shapes)}")
    edits = {}
    for name, entry in value.items():
        if not isinstance(entry, dict) or len(set(entry) & {"dense", "entries"}) != 1 \
                or set(entry) - {"dense", "entries", "edited"}:
            raise ValueError(f"share code is corrupt: the edit of {name} must hold 'dense' "
                             f"or 'entries'")
        edited = _flag(entry.get("edited", True))
        if "dense" in entry:
            try:
                dense = sessionfile.to_array(entry["dense"], shapes[name], f"{name} (share code)")
            except sessionfile.SessionFileError as exc:
                raise ValueError(f"share code holds unusable weights: {exc}") from None
            edits[name] = Edit(dense=dense, edited=edited)
        elif len(shapes[name]) == 2:
            edits[name] = Edit(entries=_entries(entry["entries"], shapes[name], name),
                               edited=edited)
        else:
            raise ValueError(f"share code is corrupt: {name} is not a matrix: give it dense")
    return edits


def _entries(value, shape: tuple[int, int], name: str) -> tuple:
    rows, cols = shape
    if not isinstance(value, list) or len(value) > rows * cols:
        raise ValueError(f"share code is corrupt: the entries of {name} must be a list of at "
                         f"most {rows * cols} [i, j, value]")
    out, seen = [], set()
    for entry in value:
        ok = isinstance(entry, list) and len(entry) == 3 and all(
            type(k) is int for k in entry[:2]) and type(entry[2]) in (int, float)
        if not ok or not (0 <= entry[0] < rows and 0 <= entry[1] < cols):
            raise ValueError(f"share code is corrupt: {name} is {rows} × {cols}; an entry must "
                             f"be [row, column, value] inside it, not {cfg.short(entry)}")
        v = float(entry[2]) if abs(entry[2]) < 1e300 else math.inf
        if not math.isfinite(v) or abs(v) > sessionfile.MAX_WEIGHT:
            raise ValueError(f"share code holds a weight of {name} that is not finite or "
                             f"beyond ±{sessionfile.MAX_WEIGHT:g}")
        if (entry[0], entry[1]) in seen:
            raise ValueError(f"share code is corrupt: {name}[{entry[0]}, {entry[1]}] is given twice")
        seen.add((entry[0], entry[1]))
        out.append((entry[0], entry[1], v))
    return tuple(out)
