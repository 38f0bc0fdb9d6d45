"""Share codes: round trip, compactness, garbage rejected with clear messages."""
import base64
import json
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnviz.state import config as cfg
from rnnviz.state import sharecode
from rnnviz.state.config import DEFAULT


def test_round_trip_default_and_changed():
    assert sharecode.decode(sharecode.encode(DEFAULT)) == DEFAULT
    c, _ = cfg.replace(DEFAULT, activation="relu", spectral_radius=1.234567890123, seed=99,
                       input_pattern="text", text="héllo wörld", n_x=9, n_y=9, T=11)
    code = sharecode.encode(c)
    assert code.startswith("rnnviz1:") and len(code) < 200
    assert sharecode.decode(code) == c
    wrapped = code[:20] + "\n   " + code[20:] + "  "     # mail clients wrap lines
    assert sharecode.decode(wrapped) == c


def _pack(obj) -> str:
    raw = zlib.compress(json.dumps(obj).encode())
    return "rnnviz1:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("text,words", [
    ("hello", "should start with"),
    ("rnnviz2:abc", "another version"),
    ("rnnviz1:!!!!", "corrupt"),
    ("rnnviz1:abcd", "corrupt"),
    (_pack([1, 2]), "corrupt"),
    (_pack({"n_s": 0}), "n_s"),
    (_pack({"n_y": 5}), "n_y must equal n_x"),
    (_pack({"hidden": 5}), "unknown setting"),
    (_pack({"T": "40"}), "whole number"),
    ("rnnviz1:" + "A" * 30000, "too long"),
])
def test_garbage_rejected_with_a_message(text, words):
    with pytest.raises(ValueError, match=words):
        sharecode.decode(text)


def test_truncated_code_rejected():
    c, _ = cfg.replace(DEFAULT, activation="sigmoid", seed=12345, T=77)
    code = sharecode.encode(c)
    for cut in range(len("rnnviz1:"), len(code) - 1):
        with pytest.raises(ValueError):
            sharecode.decode(code[:cut])


def test_decompression_bomb_rejected():
    bomb = zlib.compress(b"{" + b" " * 10_000_000 + b"}", 9)
    code = "rnnviz1:" + base64.urlsafe_b64encode(bomb).decode().rstrip("=")
    with pytest.raises(ValueError, match="too much|too long"):
        sharecode.decode(code)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_random_text_only_ever_raises_valueerror(text):
    try:
        assert isinstance(sharecode.decode("rnnviz1:" + text), cfg.Config)
    except ValueError:
        pass
