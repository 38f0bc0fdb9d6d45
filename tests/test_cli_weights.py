"""`rnnviz --weights FILE`: the window opens on the file's network; an ambiguous file is an error
listing the candidates and the option that picks one; mistakes are one line and exit 2."""
import numpy as np
import pytest

from rnnviz import cli
from rnnviz.state import weights_formats as formats
from tests.state.test_weights_io import torch_names


@pytest.fixture
def opened(monkeypatch):
    """cli.main's window, replaced by a record of the session it would show."""
    shown = []
    monkeypatch.setattr(cli, "display_available", lambda environ=None: True)
    import rnnviz.ui.app as app
    monkeypatch.setattr(app, "run_window", lambda session=None, argv=None: shown.append(session) or 0)
    return shown


def test_weights_open_the_files_network(tmp_path, opened, capsys):
    d = torch_names("gru", n_x=4, n_s=6, n_y=4, prefix="encoder.rnn.", fc="head.")
    path = tmp_path / "model.safetensors"
    formats.write(path, d)
    assert cli.main(["--weights", str(path)]) == 0
    (session,) = opened
    assert (session.config.cell, session.config.n_s, session.config.dtype) == ("gru", 6, "float32")
    np.testing.assert_array_equal(session.params.W, d["encoder.rnn.weight_hh_l0"])
    assert cli.main(["--weights", str(path), "--float64"]) == 0
    assert opened[1].params.dtype == np.float64


def test_ambiguous_files_list_the_candidates(tmp_path, opened, capsys):
    d = {**torch_names("lstm", prefix="enc."), **torch_names("gru", prefix="dec.", fc="head.")}
    path = tmp_path / "two.npz"
    formats.write(path, d)
    assert cli.main(["--weights", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'dec.' (nn.GRU" in err and "'enc.' (nn.LSTM" in err
    assert "--recurrent PREFIX" in err
    assert cli.main(["--weights", str(path), "--recurrent", "enc."]) == 2
    err = capsys.readouterr().err
    assert "readouts" in err and "--readout PREFIX" in err
    assert cli.main(["--weights", str(path), "--recurrent", "enc.", "--readout", "fc."]) == 0
    assert opened[-1].config.cell == "lstm"


@pytest.mark.parametrize("args,message", [
    (["--recurrent", "x."], "go with --weights FILE"),
    (["--weights", "missing.npz"], "no such file"),
    (["--weights", "model.onnx"], "must end in .npz, .safetensors"),
])
def test_weight_mistakes_are_one_line(args, message, tmp_path, monkeypatch, opened, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert opened == []
