"""Share codes: the whole configuration as one short copy-pasteable line (not hand-edited weights).

Format: ``rnnviz1:`` + URL-safe base64 (no padding) of zlib-compressed compact JSON holding
only the fields that differ from ``config.DEFAULT``. The default demo encodes as ``rnnviz1:``
plus a few characters.
"""
from __future__ import annotations

import base64
import binascii
import json
import zlib

from rnnviz.state import config as cfg

PREFIX = "rnnviz1:"
MAX_CODE_CHARS = 20_000         # a 5000-character text compresses far below this
MAX_JSON_BYTES = 100_000
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def encode(config: cfg.Config) -> str:
    """The share code of a (valid) configuration."""
    problems = cfg.validate(config)
    if problems:
        raise ValueError(f"cannot share an invalid set-up: {cfg.describe(problems)}")
    default = cfg.to_dict(cfg.DEFAULT)
    diff = {k: v for k, v in cfg.to_dict(config).items() if v != default[k]}
    raw = json.dumps(diff, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    packed = zlib.compress(raw.encode("utf-8"), 9)
    return PREFIX + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def _reject(constant: str):
    raise ValueError(f"{constant} is not a valid number")


def decode(text: str) -> cfg.Config:
    """The configuration in a share code; ValueError saying what is wrong otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"a share code is text, not {type(text).__name__}")
    code = "".join(text.split())        # mail programs wrap and indent long lines
    if not code.startswith(PREFIX):
        if code.startswith("rnnviz") and ":" in code:
            raise ValueError(f"this share code is from another version of rnnviz "
                             f"({code.split(':', 1)[0]!r}); this version reads {PREFIX!r}")
        raise ValueError(f"not an rnnviz share code: it should start with {PREFIX!r}")
    if len(code) > MAX_CODE_CHARS:
        raise ValueError(f"share code too long ({len(code)} characters; at most {MAX_CODE_CHARS})")
    body = code[len(PREFIX):]
    if body.strip(_ALPHABET):
        raise ValueError("share code is corrupt: it contains characters that do not belong "
                         "(was it copied completely?)")
    try:
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
    except zlib.error:
        raise ValueError("share code is corrupt or incomplete (was it copied completely?)") from None
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValueError("share code is corrupt: its content is not readable") from None
    if not isinstance(data, dict):
        raise ValueError("share code is corrupt: it does not hold a set of settings")
    config, problems = cfg.from_dict(data, base=cfg.DEFAULT)
    if problems:
        raise ValueError(f"share code holds an invalid set-up: {cfg.describe(problems)}")
    return config
