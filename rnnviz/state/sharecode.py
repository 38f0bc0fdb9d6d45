"""Share codes: the whole configuration as one short copy-pasteable line (not hand-edited weights).

Format: ``rnnviz1:`` + URL-safe base64 (no padding) of zlib-compressed compact JSON holding
only the fields that differ from ``config.DEFAULT``. The default demo encodes as ``rnnviz1:``
plus a few characters.

Decoding is strict: the text's length is checked before it is split (a clipboard may hold
100 MB), nothing may follow the zlib stream, and the JSON is one flat object (jsontext.py:
no nesting, no duplicate keys, no lone surrogates).
"""
from __future__ import annotations

import base64
import binascii
import json
import zlib

from rnnviz.state import config as cfg
from rnnviz.state import jsontext

PREFIX = "rnnviz1:"
MAX_CODE_CHARS = 20_000         # a 5000-character text compresses far below this
MAX_JSON_BYTES = 100_000
MAX_TEXT_CHARS = 4 * MAX_CODE_CHARS     # the code with the line breaks and indents of a mail
# A code holds one flat object of the config's fields: "text" (<= 5000 characters, each at
# most 12 bytes escaped) is its only long value.
LIMITS = jsontext.Limits(depth=1, objects=1, lists=0, values=100, quotes=12_000,
                         backslashes=12_000, string_bytes=MAX_JSON_BYTES, noun="share code")
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


def decode(text: str) -> cfg.Config:
    """The configuration in a share code; ValueError saying what is wrong otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"a share code is text, not {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:       # before split(): 100 MiB of short lines cost 2 GB
        raise ValueError(f"this is not a share code: it is far too long ({len(text):,} "
                         f"characters; a share code has at most {MAX_CODE_CHARS:,})")
    code = "".join(text.split()).removeprefix("\ufeff")   # mails wrap and indent long lines
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
        if inflater.unused_data:
            raise ValueError("share code is corrupt: something follows its end (was it "
                             "pasted twice, or joined to other text?)")
    except zlib.error:
        raise ValueError("share code is corrupt or incomplete (was it copied completely?)") from None
    try:
        data = jsontext.read(bytearray(raw), LIMITS)
    except jsontext.JSONTextError as exc:
        raise ValueError(f"share code is corrupt: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("share code is corrupt: it does not hold a set of settings")
    config, problems = cfg.from_dict(data, base=cfg.DEFAULT)
    if problems:
        raise ValueError(f"share code holds an invalid set-up: {cfg.describe(problems)}")
    return config
