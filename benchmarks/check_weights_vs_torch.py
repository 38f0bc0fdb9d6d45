"""Check weight import/export against PyTorch itself: a state_dict of nn.RNN, nn.LSTM and nn.GRU plus a
Linear, saved with torch.save inside a checkpoint dict, imports to the module's arrays; exported
back it loads with load_state_dict, and both networks compute the same hidden states.

Run (an environment with torch, e.g. the one benchmarks/setup-torch-env.sh makes):
    PYTHONPATH=. .venv-bench/bin/python benchmarks/check_weights_vs_torch.py
"""
import tempfile
from pathlib import Path

import numpy as np
import torch

from rnnviz.engine.network import forward
from rnnviz.state import weights_formats as formats
from rnnviz.state import weights_io

MODULES = {"vanilla": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


def make_net(module):
    """A user's own module: a recurrent layer `rnn` and a Linear readout `fc`."""
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = module(3, 5)
            self.fc = torch.nn.Linear(5, 4)
    return Net()


def main() -> None:
    print("torch", torch.__version__, "available:", formats.torch_available())
    tmp = Path(tempfile.mkdtemp())
    for cell, module in MODULES.items():
        torch.manual_seed(0)
        net = make_net(module)
        path = tmp / f"{cell}.pt"
        torch.save({"epoch": 3, "model_state_dict": net.state_dict()}, path)
        got = weights_io.load(path)
        assert got.layer.prefix == "model_state_dict.rnn.", got.layer
        assert got.readout.prefix == "model_state_dict.fc.", got.readout
        assert np.array_equal(got.params.W, net.rnn.weight_hh_l0.detach().numpy())
        out = tmp / f"{cell}-out.pt"
        weights_io.save(out, got.params)
        again = weights_io.load(out).params
        assert all(np.array_equal(getattr(again, n), getattr(got.params, n)) for n in got.params.names)
        net2 = make_net(module)                 # the exported file loads into the module
        net2.load_state_dict(torch.load(out, weights_only=True))
        x = torch.randn(7, 2, 3, dtype=torch.float32)
        h_t, _ = net2.rnn(x)
        p64 = got.params.astype(np.float64)
        tr = forward(p64, np.transpose(x.numpy(), (2, 1, 0)).astype(np.float64), np.zeros((5, 2)))
        err = np.max(np.abs(tr.s - np.transpose(h_t.detach().numpy(), (2, 1, 0))))
        print(f"{cell}: .pt import/export round trip identical; load_state_dict ok; "
              f"max |h_rnnviz - h_torch| = {err:.2e} (torch in float32)")
        assert err < 1e-5
    print("all torch checks passed")


if __name__ == "__main__":
    main()
