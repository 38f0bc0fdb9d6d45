"""Weights in and out: PyTorch state_dicts of nn.RNN, nn.LSTM and nn.GRU as .npz and .safetensors
(round trips from known arrays, identical arrays back), prefixes and ambiguity, the layers and
mismatches refused by name, no pickle, and a session that imports them. The .pt path runs where
torch is importable (it is optional)."""
import io
import json
import zipfile

import numpy as np
import pytest

from rnnviz.engine.init import init_cell_parameters
from rnnviz.state import weights_formats as formats
from rnnviz.state import weights_io
from rnnviz.state.session import Session
from rnnviz.state.weights_io import Ambiguous, WeightsError

GATES = {"vanilla": 1, "gru": 3, "lstm": 4}


def torch_names(cell, n_x=3, n_s=5, n_y=4, dtype=np.float32, prefix="rnn.", fc="fc.", seed=0):
    """A state_dict-like dict of known arrays, as nn.<cell>(n_x, n_s) + nn.Linear(n_s, n_y) hold them."""
    rng = np.random.default_rng(seed)
    G = GATES[cell]
    d = {f"{prefix}weight_ih_l0": rng.normal(size=(G * n_s, n_x)),
         f"{prefix}weight_hh_l0": rng.normal(size=(G * n_s, n_s)),
         f"{prefix}bias_ih_l0": rng.normal(size=G * n_s),
         f"{prefix}bias_hh_l0": rng.normal(size=G * n_s),
         f"{fc}weight": rng.normal(size=(n_y, n_s)), f"{fc}bias": rng.normal(size=n_y)}
    return {k: v.astype(dtype) for k, v in d.items()}


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
@pytest.mark.parametrize("cell", ["vanilla", "lstm", "gru"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_state_dict_file_imports_to_the_same_arrays(tmp_path, suffix, cell, dtype):
    d = torch_names(cell, dtype=dtype, prefix="model.encoder.rnn.", fc="model.fc.")
    path = tmp_path / f"weights{suffix}"
    formats.write(path, d)
    got = weights_io.load(path)
    p = got.params
    assert got.cell == cell and p.cell == cell and p.dtype == dtype
    assert got.layer.prefix == "model.encoder.rnn." and got.readout.prefix == "model.fc."
    pre = "model.encoder.rnn."
    np.testing.assert_array_equal(p.U, d[pre + "weight_ih_l0"])
    np.testing.assert_array_equal(p.W, d[pre + "weight_hh_l0"])
    np.testing.assert_array_equal(p.V, d["model.fc.weight"])
    np.testing.assert_array_equal(p.by[:, 0], d["model.fc.bias"])
    if cell == "gru":
        np.testing.assert_array_equal(p.ba[:, 0], d[pre + "bias_ih_l0"])
        np.testing.assert_array_equal(p.bs[:, 0], d[pre + "bias_hh_l0"])
    else:
        np.testing.assert_array_equal(p.ba[:, 0], d[pre + "bias_ih_l0"] + d[pre + "bias_hh_l0"])
    # exported back, the same arrays come in again (the biases as PyTorch splits them)
    out = tmp_path / f"again{suffix}"
    weights_io.save(out, p)
    again = weights_io.load(out).params
    for name in p.names:
        np.testing.assert_array_equal(getattr(again, name), getattr(p, name))
        assert getattr(again, name).dtype == dtype
    back = formats.read(out)
    assert set(back) == {"rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0",
                         "rnn.bias_hh_l0", "fc.weight", "fc.bias"}


def test_float32_stays_unless_float64_is_asked_for(tmp_path):
    d = torch_names("lstm", dtype=np.float32)
    path = tmp_path / "w.safetensors"
    formats.write(path, d)
    assert weights_io.load(path).params.dtype == np.float32
    p64 = weights_io.load(path, dtype="float64").params
    assert p64.dtype == np.float64
    # the bias sum in float64 of the float32 values
    np.testing.assert_array_equal(p64.ba[:, 0], d["rnn.bias_ih_l0"].astype(np.float64)
                                  + d["rnn.bias_hh_l0"].astype(np.float64))


def test_safetensors_layout_follows_the_documented_format():
    arrays = {"b": np.arange(3, dtype=np.float64), "a": np.ones((2, 2), np.float32)}
    data = formats.safetensors_bytes(arrays)
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    assert n % 8 == 0
    assert header == {"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
                      "b": {"dtype": "F64", "shape": [3], "data_offsets": [16, 40]}}
    body = data[8 + n:]
    np.testing.assert_array_equal(np.frombuffer(body[16:40], "<f8"), arrays["b"])
    back = formats.read_safetensors_bytes(data)
    np.testing.assert_array_equal(back["a"], arrays["a"])


def _safetensors(entries):
    """Bytes of a hand-made safetensors file: entries (name, dtype, shape, raw bytes)."""
    header, body = {"__metadata__": {"format": "pt"}}, b""
    for name, dtype, shape, raw in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(body), len(body) + len(raw)]}
        body += raw
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


def test_half_precision_and_integer_tensors():
    values = np.array([1.5, -2.25, 3.0], dtype=np.float32)
    bf16 = (values.view(np.uint32) >> 16).astype("<u2").tobytes()     # exact in bfloat16
    data = _safetensors([("x.bf", "BF16", [3], bf16), ("x.half", "F16", [3], values.astype("<f2").tobytes()),
                         ("steps", "I64", [1], np.array([7], "<i8").tobytes())])
    got = formats.read_safetensors_bytes(data)
    assert set(got) == {"x.bf", "x.half"}                 # the counter is skipped
    np.testing.assert_array_equal(got["x.bf"], values)
    assert got["x.bf"].dtype == np.float32
    np.testing.assert_array_equal(got["x.half"].astype(np.float32), values)


@pytest.mark.parametrize("data,words", [
    (b"\x01\x00", "shorter"),
    ((10**9).to_bytes(8, "little") + b"{}", "header length"),
    ((2).to_bytes(8, "little") + b"[]", "not a JSON object"),
    (_safetensors([("w", "F32", [4], b"\x00" * 8)]), "8 bytes for 4"),
    (_safetensors([("w", "Q7", [1], b"\x00")]), "unknown dtype"),
])
def test_damaged_safetensors_are_named(data, words):
    with pytest.raises(formats.FormatError, match=words):
        formats.read_safetensors_bytes(data)


def test_npz_object_arrays_are_refused_without_unpickling(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, w=np.array([{"a": 1}], dtype=object))      # would need pickle to read
    with pytest.raises(WeightsError, match="pickle"):
        weights_io.load(path)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(WeightsError, match="npz"):
        weights_io.load(bad)


def test_npz_members_larger_than_their_data_are_refused(tmp_path):
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((4, 4)))
    raw = buffer.getvalue()[:-64]                             # header says 128 bytes, 64 follow
    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("w.npy", raw)
    with pytest.raises(WeightsError, match="shorter"):
        weights_io.load(path)


def test_two_recurrent_layers_are_ambiguous_until_one_is_picked():
    d = {**torch_names("lstm", prefix="enc."), **torch_names("gru", prefix="dec.", fc="head.")}
    with pytest.raises(Ambiguous) as info:
        weights_io.interpret(d)
    assert info.value.kind == "recurrent layer"
    assert [c.prefix for c in info.value.candidates] == ["dec.", "enc."]
    assert "enc." in str(info.value) and "nn.LSTM" in str(info.value)
    with pytest.raises(Ambiguous) as info:                    # both Linears read n_s = 5
        weights_io.interpret(d, recurrent="enc.")
    assert info.value.kind == "readout"
    got = weights_io.interpret(d, recurrent="enc.", readout="fc.")
    assert got.cell == "lstm" and got.readout.prefix == "fc."
    with pytest.raises(WeightsError, match="no recurrent layer with the prefix 'x.'"):
        weights_io.interpret(d, recurrent="x.")


@pytest.mark.parametrize("extra,words", [("rnn.weight_ih_l1", "second layer"),
                                         ("rnn.weight_ih_l0_reverse", "bidirectional"),
                                         ("rnn.weight_hr_l0", "projection")])
def test_more_than_one_layer_or_direction_is_named(extra, words):
    d = torch_names("lstm")
    d[extra] = np.zeros((20, 5), np.float32)
    with pytest.raises(WeightsError, match=words) as info:
        weights_io.interpret(d)
    assert extra in str(info.value)


def test_mismatches_are_named():
    d = torch_names("lstm")
    d["rnn.bias_hh_l0"] = d["rnn.bias_hh_l0"][:7]
    with pytest.raises(WeightsError, match=r"rnn.bias_hh_l0 has shape \(7,\)"):
        weights_io.interpret(d)
    d = torch_names("lstm")
    d["rnn.weight_ih_l0"] = d["rnn.weight_ih_l0"][:12]
    with pytest.raises(WeightsError, match="do not make"):
        weights_io.interpret(d)
    d = torch_names("gru")
    d["rnn.weight_hh_l0"] = np.zeros((10, 5), np.float32)     # 2 n_s rows: no such cell
    with pytest.raises(WeightsError, match="nn.RNN, nn.GRU or nn.LSTM"):
        weights_io.interpret(d)
    d = torch_names("vanilla")
    d["rnn.weight_hh_l0"][0, 0] = np.nan
    with pytest.raises(WeightsError, match=r"W\[0, 0\] = nan"):
        weights_io.interpret(d)
    with pytest.raises(WeightsError, match="no recurrent layer found"):
        weights_io.interpret({"fc.weight": np.zeros((2, 2))})


def test_no_fitting_readout_draws_one_and_says_so():
    d = torch_names("gru", n_s=5)
    d["fc.weight"] = np.zeros((4, 6), np.float32)             # reads 6 units, not 5
    got = weights_io.interpret(d)
    assert got.readout is None and got.params.V.shape == (3, 5)     # n_y = n_x
    assert any("no Linear readout" in m for m in got.messages)
    no_bias = torch_names("lstm")
    del no_bias["rnn.bias_ih_l0"], no_bias["fc.bias"]
    got = weights_io.interpret(no_bias)
    np.testing.assert_array_equal(got.params.ba[:, 0], no_bias["rnn.bias_hh_l0"])
    assert not got.params.by.any() and len(got.messages) == 2


def test_bare_names_without_prefixes():
    d = torch_names("vanilla", prefix="", fc="")
    got = weights_io.interpret(d)
    assert got.layer.prefix == "" and got.readout.prefix == ""
    assert any("nonlinearity" in m for m in got.messages)


def test_torch_files_need_torch_and_are_never_unpickled_without_it(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    path.write_bytes(b"\x80\x04K\x01.")                       # a pickle: never loaded without torch
    monkeypatch.setattr(formats, "torch_available", lambda: False)
    with pytest.raises(WeightsError, match="needs PyTorch.*numpy.savez"):
        weights_io.load(path)
    with pytest.raises(WeightsError, match="needs PyTorch"):
        weights_io.save(tmp_path / "out.pt", weights_io.interpret(torch_names("lstm")).params)


@pytest.mark.skipif(not formats.torch_available(), reason="torch is not installed (optional)")
@pytest.mark.parametrize("cell", ["vanilla", "lstm", "gru"])
def test_torch_state_dict_round_trip(tmp_path, cell):
    import torch
    module = {"vanilla": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = module(3, 5)
            self.fc = torch.nn.Linear(5, 4)
    net = Net()
    path = tmp_path / "net.pt"
    torch.save({"epoch": 3, "model_state_dict": net.state_dict()}, path)
    got = weights_io.load(path)
    np.testing.assert_array_equal(got.params.W, net.rnn.weight_hh_l0.detach().numpy())
    out = tmp_path / "out.pt"
    weights_io.save(out, got.params)
    again = weights_io.load(out).params
    for name in got.params.names:
        np.testing.assert_array_equal(getattr(again, name), getattr(got.params, name))


def test_a_session_imports_the_weights_and_computes_with_them(tmp_path):
    s = Session()
    events = []
    s.events.subscribe(lambda name, **kw: events.append((name, kw.get("text"))))
    d = torch_names("lstm", n_x=6, n_s=7, n_y=3, dtype=np.float32)
    path = tmp_path / "w.npz"
    formats.write(path, d)
    assert s.load_weights(weights_io.load(path)) == []
    c = s.config
    assert (c.cell, c.n_x, c.n_s, c.n_y, c.dtype) == ("lstm", 6, 7, 3, "float32")
    assert c.target_pattern == "random"                      # "next" needs n_y = n_x
    np.testing.assert_array_equal(s.params.W, d["rnn.weight_hh_l0"])
    assert s.dirty and s.path is None
    assert any(name == "message" and "random targets" in text for name, text in events)
    result = s.compute_now()
    assert result.params.cell == "lstm" and result.gated is not None
    saved = tmp_path / "session.json"                          # the weights survive a save
    s.save_file(saved)
    t = Session()
    t.load_file(saved)
    np.testing.assert_array_equal(t.params.W, s.params.W)


def test_a_session_refuses_weights_it_cannot_show():
    s = Session()
    rng = np.random.default_rng(0)
    p = init_cell_parameters(rng, "gru", 3, 5, 3, v_scale=1.0, by_scale=0.0)
    imported = weights_io.Imported(p, weights_io.Layer("", "gru", 3, 5), None, "float64", "x")
    before = s.config
    assert s.load_weights(imported, activation="relu")       # the GRU takes tanh only
    assert s.config == before
