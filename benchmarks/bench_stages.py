"""Where the time to the first picture goes at a large size: each state-layer step on its own.

Run: .venv/bin/python benchmarks/bench_stages.py [n_s T]   (default 1024 1000; one BLAS thread,
as in the app). Prints milliseconds per step; there is no target, it says what to speed up next.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402
import time  # noqa: E402

from rnnviz.engine.analysis import last_loss_gradient, spectrum  # noqa: E402
from rnnviz.engine.rnn import backward, forward  # noqa: E402
from rnnviz.state import derive, display  # noqa: E402
from rnnviz.state.config import Config  # noqa: E402


def timed(label, fn):
    start = time.perf_counter()
    value = fn()
    print(f"{label:<50} {(time.perf_counter() - start) * 1e3:8.0f} ms")
    return value


def main():
    n_s, T = (int(a) for a in sys.argv[1:3]) if len(sys.argv) >= 3 else (1024, 1000)
    c = Config(n_s=n_s, T=T)
    print(f"n_s = {n_s}, T = {T}, m = {c.m}; OPENBLAS_NUM_THREADS="
          f"{os.environ['OPENBLAS_NUM_THREADS']}; load average {os.getloadavg()[0]:.2f}")
    p, eigenvalues = timed("draw W, U, V to the spectral radius",
                           lambda: derive.draw_params_and_eigenvalues(c))
    x, s0 = derive.draw_inputs(c)
    targets = derive.draw_targets(c, x)
    trace = timed("forward", lambda: forward(p, x, s0, c.activation))
    grads = timed("backward (BPTT) with dL_T/ds_t in the same sweep",
                  lambda: backward(p, trace, targets, with_last_loss=True))
    timed("  (backward alone, for comparison)", lambda: backward(p, trace, targets))
    timed("spectrum of W (the draw's eigenvalues, sigma_max)", lambda: spectrum(p.W, eigenvalues))
    timed("  (dL_T/ds_t alone, last_loss_gradient)", lambda: last_loss_gradient(p, trace, targets))
    timed("heatmap images (state.display.prepare)",
          lambda: display.prepare(trace, grads, 0, grads.ds_last))


if __name__ == "__main__":
    main()
