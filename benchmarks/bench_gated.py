"""Print how fast the LSTM and GRU cells run forward + backward, against torch's nn.LSTM / nn.GRU.

Run (an environment with torch, e.g. the one the training helper made):
    PYTHONPATH=. /work/wt-train/.venv-bench/bin/python benchmarks/bench_gated.py [--quick]
Figures only; nothing here asserts a time. float64, one thread for both. The cell alone: the
loss is L = sum(R * h) with a fixed random R, so backward starts from dL/dh = R; torch runs
forward, the same loss and backward() with its autograd. Pairs are timed alternately, so a busy
shared machine slows both alike; the ratio is the median of the pairs' ratios.
The issue's targets (0.7x, 0.7x, 1.1x torch) are for forward + backward + readout + loss; the
readout (V, by, softmax, cross-entropy) is shared with the vanilla cell and not in this figure.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from rnnviz.engine.cells import get_cell  # noqa: E402

SIZES = [(10, 64, 32, 40), (16, 128, 16, 100), (64, 512, 32, 200)]     # (n_x, n_s, m, T)
TARGETS = [0.7, 0.7, 1.1]


def median_ms(fn, min_time: float) -> float:
    """Median wall time of fn() in ms over enough calls to last ~min_time (at least 3)."""
    fn()
    times = []
    t_end = time.perf_counter() + min_time
    while len(times) < 3 or time.perf_counter() < t_end:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def problem(name: str, n_x: int, n_s: int, m: int, T: int, seed: int = 0):
    """The cell, PyTorch-default parameters, inputs x (T, m, n_x), h0 = c0 = 0 and R (T, m, n_s)."""
    rng = np.random.default_rng(seed)
    cell = get_cell(name)
    params = cell.init_params(rng, n_x, n_s)
    x = rng.normal(size=(T, m, n_x))
    R = rng.normal(size=(T, m, n_s))
    state0 = {part: np.zeros((m, n_s)) for part in cell.state_parts}
    return cell, params, x, state0, R


def ours(cell, params, x, state0, R):
    """Forward and backward of the cell alone."""
    def run():
        trace = cell.forward(params, x, state0)
        return cell.backward(params, x, state0, trace, R)
    return run


def theirs(torch, name, params, x, R):
    """torch's module with the same weights: forward, L = sum(R * h), backward."""
    n_x, n_s = params["U"].shape[1], params["W"].shape[1]
    net = (torch.nn.LSTM if name == "lstm" else torch.nn.GRU)(n_x, n_s).double()
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(params["U"]))
        net.weight_hh_l0.copy_(torch.from_numpy(params["W"]))
        net.bias_ih_l0.copy_(torch.from_numpy(params["ba"][:, 0]))
        net.bias_hh_l0.copy_(torch.from_numpy(params["bs"][:, 0]) if name == "gru"
                             else torch.zeros(4 * n_s, dtype=torch.float64))
    xt = torch.from_numpy(x).requires_grad_(True)
    Rt = torch.from_numpy(R)

    def run():
        net.zero_grad()
        xt.grad = None
        out, _ = net(xt)
        (out * Rt).sum().backward()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer pairs")
    args = parser.parse_args()
    import torch
    torch.set_num_threads(1)
    pairs_n = 3 if args.quick else 7
    print(f"numpy {np.__version__}, torch {torch.__version__}, float64, 1 thread "
          f"(torch.get_num_threads() = {torch.get_num_threads()}); median of {pairs_n} alternating pairs; "
          f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    head = (f"{'cell':>5} {'(n_x,n_s,m,T)':>18} {'ours ms':>9} {'torch ms':>9} {'ratio':>6}  "
            f"target (with readout + loss)")
    print(head)
    print("-" * len(head))
    for name in ("lstm", "gru"):
        for size, target in zip(SIZES, TARGETS):
            cell, params, x, state0, R = problem(name, *size)
            a, b = ours(cell, params, x, state0, R), theirs(torch, name, params, x, R)
            min_time = 0.3 if size[1] < 512 else 0.0
            pairs = [(median_ms(a, min_time), median_ms(b, min_time)) for _ in range(pairs_n)]
            ms_a = float(np.median([p[0] for p in pairs]))
            ms_b = float(np.median([p[1] for p in pairs]))
            ratio = float(np.median([p[0] / p[1] for p in pairs]))
            print(f"{name:>5} {str(size):>18} {ms_a:9.2f} {ms_b:9.2f} {ratio:6.2f}  <= {target}x "
                  f"(cell only here: {'within' if ratio <= target else 'ABOVE'})")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
