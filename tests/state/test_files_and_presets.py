"""Session files through the Session (round trip, older version, fuzz) and compute on every preset."""
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnviz.state import presets, sessionfile
from rnnviz.state.session import Session
from rnnviz.state.sessionfile import SessionFileError

NAMES = ("U", "W", "V", "ba", "by")


def snapshot(session):
    """Everything a load must either replace completely or leave untouched."""
    return (session.config, {n: getattr(session.params, n).copy() for n in NAMES},
            set(session.edited), session.x.copy(), session.s0.copy(), session.targets.copy(),
            json.dumps(session.view, sort_keys=True), session.request_id, session.preset_name)


def same(a, b):
    return (a[0] == b[0] and all(np.array_equal(a[1][n], b[1][n]) for n in NAMES)
            and a[2] == b[2] and all(np.array_equal(x, y) for x, y in zip(a[3:6], b[3:6]))
            and a[6:] == b[6:])


def edited_session():
    s = Session()
    s.set_weight("W", 1, 2, 0.123456789012345678)
    s.set_weight("ba", 3, 0, -2.5)
    s.apply(spectral_radius=1.1, T=30, activation="relu")
    s.set_timestep(17)
    s.set_batch(2)
    s.set_view(panels={"spectrum": False, "flow": True}, presentation=True, gradient="last")
    return s


def test_round_trip_gives_identical_arrays_and_view(tmp_path):
    a = edited_session()
    path = tmp_path / "lecture.json"
    a.save_file(path)
    assert not a.dirty
    saved = json.loads(path.read_text())
    assert sorted(saved["params"]) == ["W", "ba"] and saved["edited"] == ["W", "ba"]
    b = Session()
    b.load_file(path)
    assert b.config == a.config and b.edited == a.edited and b.view == a.view
    for n in NAMES:
        assert np.array_equal(getattr(a.params, n), getattr(b.params, n)), n
    assert np.array_equal(a.x, b.x) and np.array_equal(a.targets, b.targets)
    assert b.t == 17 and b.b == 2 and not b.dirty and b.view["gradient"] == "last"
    ra, rb = a.compute_now(), b.compute_now()
    assert np.array_equal(ra.trace.s, rb.trace.s) and np.array_equal(ra.grads.dW, rb.grads.dW)


def test_unedited_session_stores_no_matrices_and_float32_round_trips(tmp_path):
    a = Session()
    a.apply(dtype="float32", seed=3)
    a.set_weight("V", 0, 0, 1 / 3)
    path = tmp_path / "f32.json"
    a.save_file(path)
    assert list(json.loads(path.read_text())["params"]) == ["V"]
    b = Session()
    b.load_file(path)
    for n in NAMES:
        assert getattr(b.params, n).dtype == np.float32
        assert np.array_equal(getattr(a.params, n), getattr(b.params, n)), n


@pytest.mark.parametrize("name", presets.names())
def test_every_preset_round_trips(name, tmp_path):
    a = Session()
    a.load_preset(name)
    a.save_file(tmp_path / "p.json")
    b = Session()
    b.load_file(tmp_path / "p.json")
    assert b.preset_name == name and b.config == a.config
    for n in NAMES:
        assert np.array_equal(getattr(a.params, n), getattr(b.params, n)), n
    assert np.array_equal(a.x, b.x) and np.array_equal(a.s0, b.s0)


def test_version_0_file_opens(tmp_path):
    """A hand-made version-0 file ("hidden" for n_s, no view) opens with its hand-edited W."""
    W = np.diag(np.full(16, 0.5)).tolist()
    v0 = {"format": "rnnviz-session", "version": 0,
          "config": {"n_x": 4, "hidden": 16, "n_y": 4, "T": 10, "m": 1, "activation": "tanh",
                     "init": "gaussian", "spectral_radius": 0.5, "sparse_k": 15, "u_scale": 1.0,
                     "v_scale": 1.0, "ba_scale": 0.0, "by_scale": 0.0, "seed": 4,
                     "input_pattern": "symbols", "target_pattern": "next", "copy_delay": 1,
                     "text": ""},
          "params": {"W": W}}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(v0))
    s = Session()
    s.load_file(path)
    assert s.config.n_s == 16 and s.config.dtype == "float64" and s.t == 0
    assert np.array_equal(s.params.W, np.array(W)) and s.edited == {"W"}
    assert s.compute_now().warning is None


def test_bad_file_leaves_the_session_untouched(tmp_path):
    s = edited_session()
    before = snapshot(s)
    path = tmp_path / "bad.json"
    for text in ("", "{", '{"format": "rnnviz-session", "version": 99}', "[1, 2]"):
        path.write_text(text)
        with pytest.raises(SessionFileError):
            s.load_file(path)
        assert same(snapshot(s), before)
    assert s.dirty


# ----- fuzzing the loader --------------------------------------------------------------------
_BASE = edited_session()
_TEXT = sessionfile.dumps(_BASE.to_dict()).rstrip()
_DOC = json.loads(_TEXT)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=12)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list) and doc:
        for i in {0, len(doc) - 1}:
            yield from _paths(doc[i], prefix + (i,))


_ALL_PATHS = [p for p in _paths(_DOC) if p]


def _load_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "f.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(0, len(_TEXT) - 1))
def test_fuzz_truncated_files(cut, tmp_path_factory):
    victim = Session()
    before = snapshot(victim)
    path = _load_text(tmp_path_factory, _TEXT[:cut])
    with pytest.raises(SessionFileError):
        victim.load_file(path)
    assert same(snapshot(victim), before)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(_ALL_PATHS), value=json_values, delete=st.booleans())
def test_fuzz_mutated_documents(path, value, delete):
    doc = json.loads(_TEXT)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    victim = Session()
    before = snapshot(victim)
    try:
        victim.from_dict(doc)
    except SessionFileError as exc:
        assert str(exc)
        assert same(snapshot(victim), before)


@settings(max_examples=200, deadline=None)
@given(doc=json_values)
def test_fuzz_random_json(doc):
    victim = Session()
    before = snapshot(victim)
    with pytest.raises(SessionFileError):
        victim.from_dict(doc)
    assert same(snapshot(victim), before)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pos=st.integers(0, len(_TEXT) - 1), junk=st.text(min_size=1, max_size=5))
def test_fuzz_corrupted_bytes(pos, junk, tmp_path_factory):
    text = _TEXT[:pos] + junk + _TEXT[pos + len(junk):]
    victim = Session()
    before = snapshot(victim)
    path = tmp_path_factory.mktemp("fuzz") / "f.json"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    try:
        victim.load_file(path)
    except SessionFileError:
        assert same(snapshot(victim), before)


# ----- compute on every preset ---------------------------------------------------------------
EXPLODING = {"exploding", "overflow"}


@pytest.mark.parametrize("name", presets.names())
def test_every_preset_computes(name):
    s = Session()
    s.load_preset(name)
    r = s.compute_now()
    assert r.trace.s.shape == (s.config.n_s, s.config.m, s.config.T)
    if name in EXPLODING:
        assert r.warning and ("overflow" in r.warning or "explode" in r.warning)
    else:
        assert r.warning is None, r.warning
        assert np.all(np.isfinite(r.trace.s)) and math.isfinite(r.grads.loss)
        assert r.nonfinite_steps.size == 0
