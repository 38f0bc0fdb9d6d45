"""Fuzzed share codes (issue 10): Session.paste_share_code either installs a valid set-up or
returns a problem and changes nothing; nesting, surrogates, duplicate keys, trailing bytes and
huge clipboard texts are refused. Bounded: few examples, no text over ~200 kB.
"""
import base64
import json
import zlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnviz.state import config as cfg
from rnnviz.state import sharecode
from rnnviz.state.session import Session

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

json_scalars = (st.none() | st.booleans() | st.integers(-10**30, 10**30)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=8)
field_names = st.sampled_from(cfg.FIELDS) | st.text(max_size=6)


def pack(raw: bytes, tail: bytes = b"") -> str:
    return "rnnviz1:" + base64.urlsafe_b64encode(zlib.compress(raw) + tail).decode().rstrip("=")


def paste(code: str):
    """(config, None) when the paste worked, (None, message) when it was refused unchanged."""
    session = Session()
    before = (session.request_id, session.config, session.dirty)
    problems = session.paste_share_code(code)
    if problems:
        assert (session.request_id, session.config, session.dirty) == before
        assert len(problems[0].message) < 400
        return None, problems[0].message
    assert not cfg.validate(session.config)
    assert sharecode.decode(sharecode.encode(session.config)) == session.config
    return session.config, None


@FUZZ
@given(st.dictionaries(field_names, json_values, max_size=6))
def test_random_settings_paste_or_are_refused(settings_):
    paste(pack(json.dumps(settings_).encode()))


@FUZZ
@given(st.sampled_from(cfg.FIELDS), st.integers(1, 3000), st.sampled_from(["[", '{"a": ']))
def test_nested_values_are_refused(field, depth, opener):
    closer = "]" if opener == "[" else "}"
    raw = '{"%s": %s1%s}' % (field, opener * depth, closer * depth)
    _, message = paste(pack(raw.encode()))
    assert "nests deeper than a share code" in message or "more objects" in message


@FUZZ
@given(st.text(max_size=5), st.integers(0xD800, 0xDFFF).map(chr), st.text(max_size=5),
       st.booleans())
def test_lone_surrogates_are_refused(before, surrogate, after, as_key):
    text = before + surrogate + after
    obj = {text: 1} if as_key else {"input_pattern": "text", "text": text}
    _, message = paste(pack(json.dumps(obj).encode()))
    assert "surrogate" in message


@FUZZ
@given(st.sampled_from(cfg.FIELDS), json_scalars, json_scalars)
def test_duplicate_keys_are_refused(field, first, second):
    raw = "{%s: %s, %s: %s}" % (json.dumps(field), json.dumps(first), json.dumps(field),
                                json.dumps(second))
    _, message = paste(pack(raw.encode()))
    assert "appears twice" in message


@FUZZ
@given(st.binary(min_size=1, max_size=50))
def test_bytes_after_the_stream_are_refused(tail):
    code = pack(json.dumps({"seed": 3}).encode(), tail)
    _, message = paste(code)
    assert "follows its end" in message


@FUZZ
@given(st.integers(0, 20), st.integers(0, 20))
def test_huge_clipboard_texts_are_refused_before_splitting(lines_k, width):
    text = ("rnnviz1:" + "A" * width + "\n") * (sharecode.MAX_TEXT_CHARS // (width + 9) + 1
                                                + 1000 * lines_k)
    assert len(text) > sharecode.MAX_TEXT_CHARS
    _, message = paste(text)
    assert "far too long" in message


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["set", "insert", "delete"]), st.integers(0, 10**6),
                          st.characters(codec="ascii")), min_size=1, max_size=4),
       st.integers(0, 2**31 - 1))
def test_damaged_codes_paste_or_are_refused(edits, seed):
    code = list(sharecode.encode(cfg.Config(seed=seed, activation="relu", T=17)))
    for op, at, char in edits:
        at %= len(code)
        if op == "set":
            code[at] = char
        elif op == "insert":
            code.insert(at, char)
        elif len(code) > 1:
            del code[at]
    paste("".join(code))


@FUZZ
@given(st.integers(0, 2**31 - 1), st.lists(st.sampled_from([" ", "\n", "\t", "\r\n   "]),
                                          max_size=8), st.booleans(), st.data())
def test_wrapped_codes_and_a_bom_paste_the_same(seed, breaks, bom, data):
    config = cfg.Config(seed=seed)
    code = sharecode.encode(config)
    for gap in breaks:
        at = data.draw(st.integers(0, len(code)))
        code = code[:at] + gap + code[at:]
    if bom:
        code = "\ufeff" + code
    assert paste(code)[0] == config
