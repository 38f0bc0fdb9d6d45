"""Session file format: strict validation of hostile documents, migration, atomic writes."""
import copy
import json
import os

import numpy as np
import pytest

from rnnviz.state import config as cfg
from rnnviz.state import sessionfile
from rnnviz.state.sessionfile import SessionFileError


def good_doc(**config_changes):
    c, problems = cfg.replace(cfg.DEFAULT, **config_changes)
    assert not problems
    rng = np.random.default_rng(0)
    return {"format": "rnnviz-session", "version": 1, "config": cfg.to_dict(c),
            "params": {"W": rng.standard_normal((c.n_s, c.n_s)).tolist()},
            "edited": ["W"], "view": {"t": 3, "b": 1, "panels": {"flow": False}}}


def test_good_document_parses():
    doc = good_doc()
    parsed = sessionfile.parse(doc)
    assert parsed["config"] == cfg.DEFAULT
    assert np.array_equal(parsed["params"]["W"], np.array(doc["params"]["W"]))
    assert parsed["edited"] == {"W"} and parsed["view"]["panels"] == {"flow": False}
    assert parsed["inputs"] == {} and parsed["preset"] is None


def mutate(path, value):
    doc = good_doc()
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


DELETE = object()


@pytest.mark.parametrize("path,value,words", [
    (("format",), "something-else", "not a session file"),
    (("version",), 3, "newer rnnviz"),
    (("version",), "1", "whole number"),
    (("version",), -3, "unknown format version"),
    (("config",), DELETE, "lacks 'config'"),
    (("view",), DELETE, "lacks 'view'"),
    (("colour",), "red", "unknown entry 'colour'"),
    (("config", "n_s"), 10**9, "n_s"),
    (("config", "n_s"), "32", "n_s"),
    (("config", "T"), 40.5, "whole number"),
    (("config", "m"), True, "whole number"),
    (("config", "activation"), "swish", "activation"),
    (("config", "hidden"), 3, "unknown setting 'hidden'"),
    (("config", "T"), DELETE, "'T' is missing"),
    (("params", "W"), [[1.0] * 32] * 31, "31 entries"),
    (("params", "W"), "[[1]]", "text"),
    (("params", "W", 0, 0), "1.0", "must be a number, not text"),
    (("params", "W", 0, 0), True, "true/false"),
    (("params", "W", 0, 0), None, "null"),
    (("params", "W", 0, 0), float("inf"), "not finite"),
    (("params", "W", 0, 0), 10**400, "too large"),
    (("params", "W", 0, 0), 2e6, "beyond"),
    (("params", "W", 0), [1.0] * 33, "32 numbers"),
    (("params", "Q"), [[1.0]], "unknown entry 'Q'"),
    (("edited",), ["U"], "params does not hold it"),
    (("edited",), ["Z"], "unknown matrix"),
    (("edited",), "W", "list of matrix names"),
    (("view", "t"), 40, "view.t"),
    (("view", "b"), 4, "view.b"),
    (("view", "t"), -1, "view.t"),
    (("view", "panels"), {"flow": "yes"}, "true or false"),
    (("view", "zoom"), 3, "unknown entry 'zoom'"),
    (("inputs",), {"x": [[[0.0] * 40] * 4] * 8}, "both x and s0"),
    (("preset",), 12, "preset"),
])
def test_hostile_documents_are_refused_with_a_message(path, value, words):
    with pytest.raises(SessionFileError, match=words):
        sessionfile.parse(mutate(path, value))


def test_top_level_not_an_object():
    for doc in ([], "x", 3, None):
        with pytest.raises(SessionFileError, match="not a session file"):
            sessionfile.parse(doc)


@pytest.mark.parametrize("text,words", [
    ("", "not valid JSON"),
    ('{"format": "rnnviz-session", "version": 1,', "not valid JSON"),
    ('{"format": "rnnviz-session", "version": NaN}', "NaN"),
    ('{"a": Infinity}', "Infinity"),
    ("[" * 100000 + "]" * 100000, "readable|JSON"),
    ('{"version": 1' + "1" * 5000 + "}", "readable|JSON"),
])
def test_unreadable_json(text, words):
    with pytest.raises(SessionFileError, match=words):
        sessionfile.loads(text)


def test_files_too_large_binary_or_missing(tmp_path, monkeypatch):
    with pytest.raises(SessionFileError, match="no such file"):
        sessionfile.load(tmp_path / "missing.json")
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SessionFileError, match="UTF-8"):
        sessionfile.load(binary)
    big = tmp_path / "big.json"
    big.write_text(" " * 2000)
    monkeypatch.setattr(sessionfile, "MAX_FILE_BYTES", 1000)
    with pytest.raises(SessionFileError, match="too large"):
        sessionfile.load(big)


def test_version_0_migrates():
    """A hand-made version-0 file: "hidden" for n_s, no dtype / initial_state / edited / view."""
    v1 = good_doc()
    config0 = {k: v for k, v in v1["config"].items() if k not in ("n_s", "dtype", "initial_state")}
    config0["hidden"] = 32
    v0 = {"format": "rnnviz-session", "version": 0, "config": config0,
          "params": {"W": v1["params"]["W"]}}
    parsed = sessionfile.loads(json.dumps(v0))
    assert parsed["config"] == cfg.DEFAULT
    assert parsed["edited"] == {"W"} and parsed["view"] == {"t": 0, "b": 0}
    assert np.array_equal(parsed["params"]["W"], np.array(v1["params"]["W"]))


def test_save_is_atomic_and_round_trips(tmp_path, monkeypatch):
    path = tmp_path / "s.rnnviz.json"
    doc = good_doc()
    sessionfile.save(path, doc)
    text = path.read_text()
    assert text.startswith("{\n") and '"format": "rnnviz-session"' in text
    parsed = sessionfile.load(path)
    assert np.array_equal(parsed["params"]["W"], np.array(doc["params"]["W"]))
    assert os.listdir(tmp_path) == ["s.rnnviz.json"]

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(SessionFileError, match="No space left"):
        sessionfile.save(path, good_doc(seed=5))
    assert path.read_text() == text                     # the old file is intact
    assert os.listdir(tmp_path) == ["s.rnnviz.json"]    # and no temporary file is left


def test_save_refuses_an_invalid_document(tmp_path):
    bad = copy.deepcopy(good_doc())
    bad["params"]["W"][0][0] = float("nan")
    with pytest.raises(SessionFileError, match="not finite"):
        sessionfile.save(tmp_path / "x.json", bad)
    assert not (tmp_path / "x.json").exists()
