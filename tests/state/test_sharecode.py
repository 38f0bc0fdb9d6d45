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
    assert code.startswith("rnnviz2:") and len(code) < 200
    assert sharecode.decode(code) == c
    wrapped = code[:20] + "\n   " + code[20:] + "  "     # mail clients wrap lines
    assert sharecode.decode(wrapped) == c


def _pack(obj) -> str:
    raw = zlib.compress(json.dumps(obj).encode())
    return "rnnviz1:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("text,words", [
    ("hello", "should start with"),
    ("rnnviz9:abc", "another version"),
    ("rnnviz2:abc_", "corrupt"),
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
    for cut in range(len("rnnviz2:"), len(code) - 1):
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


# ----- issue 13 item 13: a code brings back what the sender saw ---------------------------------
OLD_VANISHING = "rnnviz1:eNqrVgpRsjIz0FEqLkhNLilKzIkvSkzJLC1WsjLQM6sFAJGeCbQ"   # README, rnnviz 0.1


def pasted(code):
    from rnnviz.state.session import Session
    receiver = Session()
    messages = []
    receiver.events.subscribe(lambda name, **p: messages.append(p["text"])
                              if name == "message" else None)
    assert receiver.paste_share_code(code) == []
    return receiver, messages


def test_a_preset_comes_back_with_its_identity_view_and_t():
    from rnnviz.state.session import Session
    sender = Session()
    sender.load_preset("vanishing")
    sender.set_timestep(59)
    receiver, messages = pasted(sender.share_code())
    assert receiver.preset_name == "vanishing" and receiver.config == sender.config
    assert receiver.view["gradient"] == "last" and receiver.t == 59 and messages == []
    sender.set_view(gradient="total", panels={**sender.view["panels"], "spectrum": False})
    sender.set_timestep(12)
    receiver, _ = pasted(sender.share_code())
    assert receiver.t == 12 and receiver.view["gradient"] == "total"
    assert receiver.view["panels"]["spectrum"] is False and receiver.view["panels"]["flow"]


def test_old_codes_still_decode_and_find_their_preset():
    receiver, _ = pasted(OLD_VANISHING)
    assert receiver.config.spectral_radius == 0.6 and receiver.config.T == 60
    assert receiver.preset_name == "vanishing" and receiver.view["gradient"] == "last"
    assert sharecode.decode(OLD_VANISHING) == receiver.config


def test_hand_edits_come_back_exactly_when_they_fit():
    import numpy as np

    from rnnviz.state.session import Session
    sender = Session()
    sender.load_preset("vanishing")
    assert sender.set_weight("W", 0, 0, 5.0) == [] and sender.set_weight("V", 2, 3, -0.25) == []
    code, notes = sender.share()
    assert notes == [] and len(code) <= sharecode.SHARE_BUDGET
    receiver, messages = pasted(code)
    for name in ("U", "W", "V", "ba", "by"):
        assert np.array_equal(getattr(receiver.params, name), getattr(sender.params, name)), name
    assert receiver.edited == {"W", "V"} and receiver.preset_name == "vanishing"
    # a whole new W does not fit in a line: the code says so and draws W from the seed
    sender.set_matrix("W", np.random.default_rng(3).standard_normal((32, 32)) / 6)
    code, notes = sender.share()
    assert len(code) <= sharecode.SHARE_BUDGET
    assert len(notes) == 1 and "W" in notes[0] and "not in the code" in notes[0]
    receiver, _ = pasted(code)
    assert receiver.edited == {"V"} and np.array_equal(receiver.params.V, sender.params.V)


def test_the_notebook_preset_comes_back_with_its_own_arrays():
    import numpy as np

    from rnnviz.state.session import Session
    sender = Session()
    sender.load_preset("notebook")
    receiver, _ = pasted(sender.share_code())
    assert receiver.preset_name == "notebook" and receiver.inputs_fixed
    assert np.array_equal(receiver.x, sender.x) and np.array_equal(receiver.params.W, sender.params.W)


def test_the_code_is_one_mail_and_chat_safe_word():
    from rnnviz.state.session import Session
    sender = Session()
    sender.load_preset("edge_of_chaos")
    code = sender.share_code()
    body = code.removeprefix("rnnviz2:")
    assert body.isascii() and body.isalnum() and "\n" not in code
    # a mail wraps it, indents it and quotes it in a reply; a reader may shout it
    quoted = "> " + "\n> ".join(code[k:k + 60] for k in range(0, len(code), 60))
    assert sharecode.unpack(quoted) == sharecode.unpack(code)
    assert sharecode.unbase62(sharecode.base62(bytes(range(256)) * 3)) == bytes(range(256)) * 3


@pytest.mark.parametrize("doc,words", [
    ({"config": {}, "edits": {"Q": {"dense": [[1.0]]}}}, "edits may name only"),
    ({"config": {}, "edits": {"W": {"entries": [[99, 0, 1.0]]}}}, "inside it"),
    ({"config": {}, "edits": {"W": {"entries": [[0, 0, 1e9]]}}}, "beyond"),
    ({"config": {}, "edits": {"W": {"entries": [[0, 0, 1.0], [0, 0, 2.0]]}}}, "twice"),
    ({"config": {}, "edits": {"W": {"dense": [[1.0]]}}}, "unusable weights"),
    ({"config": {}, "view": {"t": 400}}, "unusable view"),
    ({"config": {}, "view": {"speed": 3}}, "entries other than"),
    ({"config": {}, "colour": 1}, "unknown entries"),
    ({"config": {}, "preset": 7}, "preset name"),
    ({"config": {}, "from_preset": ["W"]}, "does not hold"),
    ({"config": {}, "preset": "demo", "preset_inputs": True}, "does not hold them"),
])
def test_bad_contents_are_refused_and_change_nothing(doc, words):
    from rnnviz.state.session import Session
    raw = zlib.compress(json.dumps(doc).encode())
    code = "rnnviz2:" + sharecode.base62(raw)
    receiver = Session()
    before = (receiver.request_id, receiver.config)
    problems = receiver.paste_share_code(code)
    assert problems and words in problems[0].message, problems
    assert (receiver.request_id, receiver.config) == before


def test_an_unknown_preset_is_said_and_opens_as_custom():
    raw = zlib.compress(json.dumps({"config": {"seed": 4}, "preset": "from-the-future"}).encode())
    receiver, messages = pasted("rnnviz2:" + sharecode.base62(raw))
    assert receiver.preset_name is None and receiver.config.seed == 4
    assert any("from-the-future" in m for m in messages)
