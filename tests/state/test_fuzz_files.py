"""Fuzzed session files (issue 10): nesting, surrogates, duplicate keys, special and huge files,
random damage. Every load either works or raises SessionFileError, and a refused load leaves
the session as it was; whatever loads can be saved again.

Bounded: few examples each, no file larger than ~100 kB is written (huge files are sparse).
"""
import json
import os
import socket
import tempfile
import threading

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnviz.state import sessionfile
from rnnviz.state.session import Session
from rnnviz.state.sessionfile import SessionFileError

FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def base_doc() -> dict:
    session = Session()
    session.set_weight("W", 0, 0, 0.5)
    return session.to_dict()


BASE = base_doc()
BASE_TEXT = json.dumps(BASE)

json_scalars = (st.none() | st.booleans() | st.integers(-10**30, 10**30)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=8)
lone_surrogates = st.integers(0xD800, 0xDFFF).map(chr)
texts_with_a_lone_surrogate = st.builds(lambda a, s, b: a + s + b, st.text(max_size=5),
                                        lone_surrogates, st.text(max_size=5))


def fingerprint(session):
    return (session.request_id, session.config, session.dirty, session.preset_name,
            session.params.W.tobytes(), json.dumps(session.view, sort_keys=True))


def load_text(data: bytes):
    """Load bytes as a file into a fresh session: (session, None) or (None, the refusal)."""
    session = Session()
    before = fingerprint(session)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "f.json")
        with open(path, "wb") as f:
            f.write(data)
        try:
            session.load_file(path)
        except SessionFileError as exc:
            assert fingerprint(session) == before
            assert len(str(exc)) < 400
            return None, exc
        session.save_file(os.path.join(folder, "again.json"))    # never UnicodeEncodeError
        again = Session()
        again.load_file(os.path.join(folder, "again.json"))
        assert again.config == session.config
        return session, None


# ----- nesting --------------------------------------------------------------------------------
PLACES = {                          # where a value goes, and how deep that place already is
    "config.n_s": ('"n_s": 32', 2), "config.text": ('"text": "hello world"', 2),
    "view.t": ('"t": 39', 2), "view.panels": ('"flow": true', 3), "params.W[0]": ("[[0.5, ", 4),
}


@FUZZ
@given(st.sampled_from(sorted(PLACES)), st.integers(0, 3000), st.sampled_from(["[", '{"k": ']))
def test_nesting_depth_in_files(place, depth, opener):
    anchor, level = PLACES[place]
    closer = "]" if opener == "[" else "}"
    key, sep, _ = anchor.partition(": ") if place != "params.W[0]" else ("", "", "")
    deep = opener * depth + "1" + closer * depth
    if place == "params.W[0]":
        text = BASE_TEXT.replace("[[0.5, ", "[[" + deep + ", ", 1)
    else:
        text = BASE_TEXT.replace(anchor, key + sep + deep, 1)
    assert text != BASE_TEXT
    session, refusal = load_text(text.encode())
    if level + depth > sessionfile.LIMITS.depth:
        assert "nests deeper than a session file" in str(refusal)


@FUZZ
@given(st.sampled_from([("config", "n_s"), ("config", "init"), ("view", "loop"),
                        ("view", "panels"), ("preset",), ("edited",)]),
       st.integers(0, 5000), json_values)
def test_nesting_depth_in_dicts(path, depth, leaf):
    doc = json.loads(BASE_TEXT)
    value = leaf
    for _ in range(depth):
        value = [value]
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    session = Session()
    before = fingerprint(session)
    try:
        session.from_dict(doc)
    except SessionFileError as exc:
        assert len(str(exc)) < 400 and fingerprint(session) == before


# ----- surrogates ------------------------------------------------------------------------------
@FUZZ
@given(st.sampled_from(["preset", "panel", "text", "view key", "edited", "unknown key"]),
       texts_with_a_lone_surrogate, st.booleans())
def test_lone_surrogates_never_make_an_unsaveable_session(where, text, escaped):
    doc = json.loads(BASE_TEXT)
    if where == "preset":
        doc["preset"] = text
    elif where == "panel":
        doc["view"]["panels"][text] = True
    elif where == "text":
        doc["config"]["text"] = text
    elif where == "view key":
        doc["view"][text] = True
    elif where == "edited":
        doc["edited"].append(text)
    else:
        doc[text] = 1
    data = json.dumps(doc, ensure_ascii=escaped).encode("utf-8", "surrogatepass")
    session, refusal = load_text(data)
    assert session is None
    assert ("surrogate" if escaped else "UTF-8") in str(refusal)
    fresh = Session()
    try:
        fresh.from_dict(doc)
    except SessionFileError:
        pass
    with tempfile.TemporaryDirectory() as folder:
        fresh.save_file(os.path.join(folder, "s.json"))


# ----- duplicate keys ---------------------------------------------------------------------------
OBJECTS = {"top": ('"format": "rnnviz-session"', list(BASE)),
           "config": ('"n_x": 8', list(BASE["config"])),
           "view": ('"t": 39', list(BASE["view"])),
           "panels": ('"editors": true', list(BASE["view"]["panels"]))}


@FUZZ
@given(st.sampled_from(sorted(OBJECTS)), st.data())
def test_duplicate_keys_are_always_refused(obj, data):
    anchor, keys = OBJECTS[obj]
    key = data.draw(st.sampled_from(keys))
    value = data.draw(json_scalars)             # (a deep value is refused for its depth first)
    entry = f"{json.dumps(key)}: {json.dumps(value)}, "
    text = BASE_TEXT.replace(anchor, entry + anchor, 1)
    _, refusal = load_text(text.encode())
    assert refusal is not None and "appears twice" in str(refusal)


# ----- special and huge files ---------------------------------------------------------------------
def make_special(folder: str, kind: str, size: int) -> str:
    path = os.path.join(folder, kind.replace("/", "_") + ".json")
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        os.mkdir(path)
    elif kind == "link to a folder":
        os.symlink(folder, path)
    elif kind == "link to /dev/null":
        os.symlink("/dev/null", path)
    elif kind == "link loop":
        os.symlink(path, path)
    elif kind == "dangling link":
        os.symlink(os.path.join(folder, "nowhere"), path)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(path)
        sock.close()
    elif kind == "huge sparse file":
        with open(path, "wb") as f:
            f.truncate(sessionfile.MAX_FILE_BYTES + size)     # no disk used, nothing read
    elif kind == "NUL bytes":
        with open(path, "wb") as f:
            f.write(b"\0" * size)
    elif kind == "empty":
        open(path, "wb").close()
    return path


@FUZZ
@given(st.sampled_from(["fifo", "folder", "link to a folder", "link to /dev/null", "link loop",
                        "dangling link", "socket", "huge sparse file", "NUL bytes", "empty"]),
       st.integers(1, 100_000))
def test_special_and_huge_files_are_refused_at_once(kind, size):
    session = Session()
    before = fingerprint(session)
    outcome = []
    with tempfile.TemporaryDirectory() as folder:
        path = make_special(folder, kind, size)

        def attempt():
            try:
                session.load_file(path)
                outcome.append("loaded")
            except SessionFileError as exc:
                outcome.append(str(exc))
        worker = threading.Thread(target=attempt, daemon=True)
        worker.start()
        worker.join(20)             # a FIFO once blocked here forever
        assert outcome, f"loading a {kind} did not return"
    assert outcome[0] != "loaded" and fingerprint(session) == before
    words = {"fifo": "FIFO", "folder": "folder", "link to a folder": "folder",
             "link to /dev/null": "device", "link loop": "symbolic links",
             "dangling link": "no such file", "socket": "socket", "huge sparse file": "too large",
             "NUL bytes": "JSON", "empty": "JSON"}[kind]
    assert words in outcome[0]


# ----- random damage -------------------------------------------------------------------------------
damage = st.lists(st.tuples(st.sampled_from(["set", "insert", "delete"]),
                            st.integers(0, len(BASE_TEXT) - 1), st.integers(0, 255)),
                  min_size=1, max_size=6)


@FUZZ
@given(damage)
def test_damaged_files_load_or_are_refused(edits):
    data = bytearray(BASE_TEXT.encode())
    for op, at, byte in edits:
        at = min(at, len(data) - 1)
        if op == "set":
            data[at] = byte
        elif op == "insert":
            data.insert(at, byte)
        elif len(data) > 1:
            del data[at]
    session, refusal = load_text(bytes(data))
    if session is not None:
        assert np.all(np.isfinite(session.params.W))
