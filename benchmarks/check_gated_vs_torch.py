"""Check the LSTM and GRU cells against torch's nn.LSTM / nn.GRU on the same weights.

Run (an environment with torch):
    PYTHONPATH=. .venv-bench/bin/python benchmarks/check_gated_vs_torch.py
A script, not a test: torch is optional for rnnviz. Prints the largest differences of h (and
c_T for the LSTM), of every parameter's gradient, of dL/dx, dL/dh0 (and dL/dc0) for the loss
L = sum(R * h) with a fixed random R, in float64 and float32.

How the weights map: U = weight_ih_l0, W = weight_hh_l0. The LSTM's ba = bias_ih_l0 +
bias_hh_l0 (here split at random into the two, to show only the sum counts; torch's gradient of
each is our dba). The GRU's ba = bias_ih_l0, bs = bias_hh_l0 (not a sum: b_hn is inside r * (...)).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from rnnviz.engine.cells import get_cell  # noqa: E402

SIZES = [(5, 16, 3, 30), (10, 64, 8, 50)]      # (n_x, n_s, m, T)


def compare(torch, name: str, n_x: int, n_s: int, m: int, T: int, dtype) -> dict[str, float]:
    """Largest |ours - torch| / max(1, max |torch|) of every compared array."""
    rng = np.random.default_rng(0)
    cell = get_cell(name)
    p = {k: (2.0 * v).astype(dtype) for k, v in cell.init_params(rng, n_x, n_s).items()}
    x = rng.normal(size=(T, m, n_x)).astype(dtype)
    R = rng.normal(size=(T, m, n_s)).astype(dtype)
    state0 = {part: rng.normal(scale=0.5, size=(m, n_s)).astype(dtype) for part in cell.state_parts}
    trace = cell.forward(p, x, state0)
    g = cell.backward(p, x, state0, trace, R)

    tdt = torch.float64 if dtype == np.float64 else torch.float32
    net = (torch.nn.LSTM if name == "lstm" else torch.nn.GRU)(n_x, n_s).to(tdt)
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(p["U"]))
        net.weight_hh_l0.copy_(torch.from_numpy(p["W"]))
        if name == "lstm":
            split = rng.normal(size=4 * n_s).astype(dtype)
            net.bias_ih_l0.copy_(torch.from_numpy(p["ba"][:, 0] - split))
            net.bias_hh_l0.copy_(torch.from_numpy(split))
        else:
            net.bias_ih_l0.copy_(torch.from_numpy(p["ba"][:, 0]))
            net.bias_hh_l0.copy_(torch.from_numpy(p["bs"][:, 0]))
    xt = torch.from_numpy(x).requires_grad_(True)
    first = "h" if name == "lstm" else "s"
    h0 = torch.from_numpy(state0[first][None].copy()).requires_grad_(True)
    if name == "lstm":
        c0 = torch.from_numpy(state0["c"][None].copy()).requires_grad_(True)
        out, (_, c_n) = net(xt, (h0, c0))
    else:
        out, _ = net(xt, h0)
    (out * torch.from_numpy(R)).sum().backward()

    def diff(ours, theirs):
        theirs = theirs.detach().numpy()
        return float(np.abs(ours - theirs).max() / max(1.0, np.abs(theirs).max()))

    d = {first: diff(trace[first], out), "dU": diff(g["dU"], net.weight_ih_l0.grad),
         "dW": diff(g["dW"], net.weight_hh_l0.grad), "dba": diff(g["dba"][:, 0], net.bias_ih_l0.grad),
         "dx": diff(g["dx"], xt.grad), "d" + first + "0": diff(g["dstate0"][first], h0.grad[0])}
    if name == "lstm":
        d["c_T"] = diff(trace["c"][-1], c_n[0])
        d["dba (via bias_hh)"] = diff(g["dba"][:, 0], net.bias_hh_l0.grad)
        d["dc0"] = diff(g["dstate0"]["c"], c0.grad[0])
    else:
        d["dbs"] = diff(g["dbs"][:, 0], net.bias_hh_l0.grad)
    return d


def main() -> None:
    import torch
    torch.set_num_threads(1)
    print(f"numpy {np.__version__}, torch {torch.__version__}; largest |ours - torch| / max(1, |torch|)")
    worst = {np.float64: 0.0, np.float32: 0.0}
    for dtype in (np.float64, np.float32):
        for name in ("lstm", "gru"):
            for size in SIZES:
                d = compare(torch, name, *size, dtype)
                worst[dtype] = max(worst[dtype], *d.values())
                print(f"{np.dtype(dtype).name:>8} {name:>4} (n_x,n_s,m,T)={str(size):<16} "
                      + "  ".join(f"{k} {v:.1e}" for k, v in d.items()))
    print(f"worst: float64 {worst[np.float64]:.1e}, float32 {worst[np.float32]:.1e}")


if __name__ == "__main__":
    main()
