"""Issue 10: hostile files, dicts, share codes and API values, through the paths a user takes.

Every refusal is a SessionFileError / problem with a message, and leaves the session as it was.
"""
import base64
import json
import subprocess
import sys
import zlib
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from rnnviz.state import config as cfg
from rnnviz.state import jsontext, sessionfile, sharecode
from rnnviz.state.session import Session
from rnnviz.state.sessionfile import SessionFileError

ISSUE_DEEP_CODE = "rnnviz1:eNqrVsqLL1ayUogeBaNgFAxfEDsKRsEoGL6gFgCFQcyt"


def snapshot(session):
    return (session.request_id, session.config, session.dirty, session.preset_name,
            session.params.W.copy(), dict(session.view))


def same(a, b):
    return a[:4] == b[:4] and np.array_equal(a[4], b[4]) and a[5] == b[5]


def saved_doc() -> dict:
    session = Session()
    session.set_weight("W", 0, 0, 0.25)
    return session.to_dict()


def write(tmp_path, text, name="s.json") -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    return str(path)


def refused_by_load_file(path, match):
    session = Session()
    before = snapshot(session)
    with pytest.raises(SessionFileError, match=match):
        session.load_file(path)
    assert same(before, snapshot(session))


def pack(raw: bytes) -> str:
    return "rnnviz1:" + base64.urlsafe_b64encode(zlib.compress(raw)).decode().rstrip("=")


# ----- 1. deep nesting ----------------------------------------------------------------------
def nested(depth: int):
    value = []
    for _ in range(depth):
        value = [value]
    return value


def test_deep_config_value_in_a_file_is_refused_early(tmp_path):
    doc = saved_doc()
    text = json.dumps(doc).replace('"n_s": 32', '"n_s": ' + "[" * 990 + "]" * 990)
    refused_by_load_file(write(tmp_path, text), "nests deeper than a session file")


def test_deep_values_in_a_dict_give_short_messages():
    session = Session()
    for path in (("config", "n_s"), ("config", "activation"), ("view", "presentation"),
                 ("version",), ("format",)):
        doc = saved_doc()
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = nested(5000)
        before = snapshot(session)
        with pytest.raises(SessionFileError) as error:
            session.from_dict(doc)
        assert len(str(error.value)) < 300 and same(before, snapshot(session))


def test_short_never_recurses_or_fails():
    assert cfg.short(nested(100_000)) == "[[[[...]]]]"
    assert cfg.short([10**5000]) == "[a huge number]"
    assert cfg.short({"a": nested(3000)}).startswith("{'a'")


def test_the_issues_deep_share_code_is_a_problem_not_a_crash():
    session = Session()
    before = snapshot(session)
    problems = session.paste_share_code(ISSUE_DEEP_CODE)
    assert problems and "nests deeper than a share code" in problems[0].message
    assert same(before, snapshot(session))


def test_nesting_limit_is_what_the_format_needs(tmp_path):
    """inputs.x nests 5 deep; a valid session with fixed inputs still loads (a training run's
    optimiser state nests deepest, 7: tests/state/test_training_state.py)."""
    session = Session()
    session.load_preset("notebook")         # a preset with its own x and s0
    assert session.inputs_fixed
    session.save_file(tmp_path / "n.json")
    structure = jsontext.scan((tmp_path / "n.json").read_bytes(), sessionfile.LIMITS)
    assert structure.depth == 5 and sessionfile.LIMITS.depth == 7
    Session().load_file(tmp_path / "n.json")


# ----- 2. lone surrogates --------------------------------------------------------------------
@pytest.mark.parametrize("where", ["preset", "panel", "text", "key"])
def test_lone_surrogate_in_a_file_is_refused(tmp_path, where):
    doc = saved_doc()
    if where == "preset":
        doc["preset"] = "\ud800"
    elif where == "panel":
        doc["view"]["panels"]["\udc00x"] = True
    elif where == "text":
        doc["config"]["text"] = "ab\ud83d"
    else:
        doc["view"]["\ud800"] = 1
    refused_by_load_file(write(tmp_path, json.dumps(doc)), "lone surrogate")


@pytest.mark.parametrize("where", ["preset", "panel", "text"])
def test_lone_surrogate_in_a_dict_is_refused(where):
    doc = saved_doc()
    if where == "preset":
        doc["preset"] = "\ud800"
    elif where == "panel":
        doc["view"]["panels"]["\ud800"] = True
    else:
        doc["config"]["text"] = "\udfff"
    session = Session()
    before = snapshot(session)
    with pytest.raises(SessionFileError):
        session.from_dict(doc)
    assert same(before, snapshot(session))


def test_lone_surrogate_through_the_api_and_a_share_code_is_refused():
    session = Session()
    assert session.apply(text="x\ud800", input_pattern="text", n_x=2, n_y=2, T=2)
    assert session.set_view(panels={"\ud800": True})
    code = pack(json.dumps({"text": "\ud800"}).encode())
    assert "surrogate" in session.paste_share_code(code)[0].message


def test_valid_surrogate_pairs_and_non_ascii_text_load_and_save(tmp_path):
    session = Session()
    text = "héllo wörld 😀 ρ"
    assert not session.apply(input_pattern="text", text=text, n_x=len(set(text)),
                             n_y=len(set(text)), T=10)
    session.save_file(tmp_path / "t.json")
    escaped = json.dumps(session.to_dict())         # the same file with \ud83d\ude00 escapes
    other = Session()
    other.load_file(write(tmp_path, escaped, "e.json"))
    other.load_file(tmp_path / "t.json")
    assert other.config.text == text
    other.save_file(tmp_path / "t2.json")


def test_save_of_an_unsaveable_document_is_a_session_file_error(tmp_path):
    doc = saved_doc()
    doc["preset"] = "\ud800"
    with pytest.raises(SessionFileError):
        sessionfile.save(tmp_path / "x.json", doc)
    assert not (tmp_path / "x.json").exists()


# ----- 4. structure limits: refused before json.loads builds anything ----------------------------
@pytest.fixture
def json_loads_calls(monkeypatch):
    calls = []
    real = json.loads

    def counting(*args, **kwargs):
        calls.append(len(args[0]))
        return real(*args, **kwargs)
    monkeypatch.setattr(jsontext.json, "loads", counting)
    return calls


@pytest.mark.parametrize("body, words", [
    ("[" + ",".join(["{}"] * 5000) + "]", "more objects"),
    ("[" + ",".join(["[]"] * (sessionfile.LIMITS.lists + 10)) + "]", "more lists"),
    ('["' + '","'.join(["a"] * 40_000) + '"]', "more quote marks"),
    ('"' + "\\\\" * 70_000 + '"', "more backslashes"),
    ('"' + "x" * (2**20 + 10) + '"', "more bytes of text"),
])
def test_structure_beyond_any_valid_file_is_refused_before_parsing(tmp_path, json_loads_calls,
                                                                   body, words):
    text = json.dumps(saved_doc())[:-1] + ', "junk": ' + body + "}"
    refused_by_load_file(write(tmp_path, text), words)
    assert json_loads_calls == []


def test_too_many_values_are_refused_before_parsing(tmp_path, json_loads_calls, monkeypatch):
    """The value limit is 17 million (the largest valid session); shown here on a small one."""
    monkeypatch.setattr(sessionfile, "LIMITS",
                        jsontext.Limits(**{**vars(sessionfile.LIMITS), "values": 5000}))
    text = json.dumps(saved_doc())[:-1] + ', "junk": [' + ",".join(["0.0"] * 6000) + "]}"
    refused_by_load_file(write(tmp_path, text), "more values")
    assert json_loads_calls == []


@pytest.mark.parametrize("sizes", [
    dict(n_x=512, n_s=512, n_y=512, m=4, T=5000),        # the most numbers in one session
    dict(n_x=512, n_s=2048, n_y=512, m=1, T=5000),       # the largest W
    dict(n_x=512, n_s=2048, n_y=512, m=256, T=19),       # the most rows
])
def test_limits_admit_the_largest_valid_sessions(sizes):
    c = cfg.Config(**sizes, input_pattern="gaussian")
    assert not cfg.validate(c)
    shapes = list(sessionfile.param_shapes(c).values()) + list(
        sessionfile.input_shapes(c).values())
    numbers = sum(int(np.prod(s)) for s in shapes)
    lists = sum(int(np.prod(s[:-1])) + (int(np.prod(s[:-2])) if len(s) == 3 else 0) + 1
                for s in shapes)
    limits = sessionfile.LIMITS
    assert numbers + lists <= limits.values and lists <= limits.lists


def test_file_open_parses_a_file_once(tmp_path, json_loads_calls):
    """File > Open reads the file, asks about unsaved changes, then loads it: one parse."""
    Session().save_file(tmp_path / "s.json")
    session = Session()
    sessionfile.load(tmp_path / "s.json")               # ui/file_actions.open_path's check
    session.load_file(tmp_path / "s.json")
    assert len(json_loads_calls) == 1
    (tmp_path / "s.json").write_text((tmp_path / "s.json").read_text().replace('"t": 39',
                                                                               '"t": 5'))
    session.load_file(tmp_path / "s.json")              # changed content: parsed again
    assert len(json_loads_calls) == 2 and session.t == 5


# ----- 5. regular files only, never blocking ---------------------------------------------------
SPECIAL_FILES = r"""
import os, socket, sys
from rnnviz.state.session import Session
from rnnviz.state.sessionfile import SessionFileError
folder = sys.argv[1]
os.mkfifo(os.path.join(folder, "fifo.json"))
os.symlink("fifo.json", os.path.join(folder, "to-fifo.json"))
os.symlink("/dev/zero", os.path.join(folder, "to-zero.json"))
os.symlink("loop.json", os.path.join(folder, "loop.json"))
os.mkdir(os.path.join(folder, "dir.json"))
sock = socket.socket(socket.AF_UNIX)
sock.bind(os.path.join(folder, "sock.json"))
for name in ("fifo.json", "to-fifo.json", "/dev/zero", "to-zero.json", "dir.json",
             "loop.json", "sock.json"):
    try:
        Session().load_file(os.path.join(folder, name))
        print(name, "LOADED")
    except SessionFileError as exc:
        print(name, "|", exc)
"""


def test_special_files_are_refused_at_once(tmp_path):
    """A FIFO blocked forever and /dev/zero read until the OOM killer: run in a child with a
    memory cap and a timeout, so that a regression fails instead of hanging the suite."""
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
    proc = subprocess.run([sys.executable, "-c", limit + SPECIAL_FILES, str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" | ") for line in proc.stdout.strip().splitlines())
    assert "pipe (FIFO)" in lines["fifo.json"] and "pipe (FIFO)" in lines["to-fifo.json"]
    assert "device" in lines["/dev/zero"] and "device" in lines["to-zero.json"]
    assert "folder" in lines["dir.json"]
    assert "symbolic links" in lines["loop.json"]
    assert "socket" in lines["sock.json"]


def test_missing_and_unreadable_files(tmp_path):
    refused_by_load_file(tmp_path / "missing.json", "no such file")
    refused_by_load_file(tmp_path / ("a" * 300 + ".json"), "too long")


# ----- 12. values through the session API -------------------------------------------------------
@pytest.mark.parametrize("value", [10**400, -10**400, 10**5000, float("nan"), 2e6, True,
                                   "1.0", None, 1 + 0j, complex(1, 2), Decimal("1e400"),
                                   Fraction(10**400, 3), np.complex128(1)], ids=cfg.short)
def test_set_weight_refuses_with_a_problem(value):
    session = Session()
    before = snapshot(session)
    problems = session.set_weight("W", 0, 0, value)
    assert problems and "finite number within" in problems[0].message
    assert len(problems[0].message) < 200 and same(before, snapshot(session))


def test_set_weight_refuses_huge_indices_with_a_problem():
    session = Session()
    for i, j in ((10**5000, 0), (0, -1), (True, 0), (0, 1.0)):
        assert "outside" in session.set_weight("W", i, j, 0.5)[0].message


@pytest.mark.parametrize("value, expected", [
    (Fraction(1, 3), 1 / 3), (Decimal("0.1"), 0.1), (np.float32(0.5), 0.5), (np.int64(-3), -3.0),
    (Fraction(10**20 + 1, 10**20), 1.0), (10**6, 1e6),
], ids=cfg.short)
def test_set_weight_accepts_real_numbers_as_their_nearest_float(value, expected):
    session = Session()
    assert session.set_weight("W", 1, 2, value) == []
    assert session.params.W[1, 2] == expected and type(session.params.W[1, 2]) is np.float64


def test_set_matrix_refuses_huge_complex_and_text_arrays():
    session = Session()
    good = np.full((32, 32), 0.1)
    huge = good.astype(object)
    huge[3, 4] = 10**400
    cases = [(huge, r"W\[3, 4\].*10\^400"), (good + 0j, "complex"), (good + 1j, "complex"),
             (good.astype(str), "text"), (good > 0, "true/false"),
             ([[0.1] * 32] * 31 + [[0.1] * 31], "shape|array"), (good * 1e8, "within")]
    for array, words in cases:
        before = snapshot(session)
        problems = session.set_matrix("W", array)
        assert problems, words
        assert __import__("re").search(words, problems[0].message), problems[0].message
        assert same(before, snapshot(session))
    exact = good.astype(object)
    exact[0, 0] = Fraction(1, 3)
    assert session.set_matrix("W", exact) == [] and session.params.W[0, 0] == 1 / 3


# ----- 14. laxness -------------------------------------------------------------------------
def test_duplicate_keys_are_refused(tmp_path):
    text = json.dumps(saved_doc())
    dup_top = text[:-1] + ', "preset": "a", "preset": "b"}'
    dup_inner = text.replace('"seed": 0', '"seed": 0, "seed": 1')
    for body in (dup_top, dup_inner):
        refused_by_load_file(write(tmp_path, body), "appears twice")
    code = pack(b'{"seed": 3, "seed": 4}')
    assert "appears twice" in Session().paste_share_code(code)[0].message


def test_bytes_after_the_zlib_stream_are_refused():
    good = sharecode.encode(cfg.Config(seed=7))
    packed = sharecode.unbase62(good[8:])
    old = zlib.compress(b'{"seed": 7}')             # format 1 (rnnviz 0.1's codes)
    for extra in (b"x", b"\0", zlib.compress(b"{}")):
        for code in ("rnnviz1:" + base64.urlsafe_b64encode(old + extra).decode().rstrip("="),
                     "rnnviz2:" + sharecode.base62(packed + extra)):
            assert "follows its end" in Session().paste_share_code(code)[0].message


class NoSplit(str):
    def split(self, *args, **kwargs):
        raise AssertionError("the whole text was split before its length was checked")


def test_paste_checks_the_length_before_splitting():
    session = Session()
    problems = session.paste_share_code(NoSplit("rnnviz1:A\n" * 100_000))
    assert "far too long" in problems[0].message
    code = sharecode.encode(cfg.Config(seed=9))
    assert session.paste_share_code(code[:20] + "\n    " + code[20:]) == []


def test_utf8_bom_is_accepted(tmp_path):
    session = Session()
    session.apply(seed=12)
    session.save_file(tmp_path / "s.json")
    bom = b"\xef\xbb\xbf" + (tmp_path / "s.json").read_bytes()
    other = Session()
    other.load_file(write(tmp_path, bom, "bom.json"))
    assert other.config.seed == 12
    code = "\ufeff" + sharecode.encode(cfg.Config(seed=5))
    assert sharecode.decode(code).seed == 5
