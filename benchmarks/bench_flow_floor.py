"""Print where the LSTM gradient-flow curve at n_s = 256, T = 500 spends its time, and why two
threads cannot halve it: the figures behind issue 12's last target (< 1 s).

Run: PYTHONPATH=. .venv/bin/python benchmarks/bench_flow_floor.py [--runs N]

Figures only; nothing here asserts a time. One BLAS thread, as the app's worker. It prints:
- per phase of one run on one thread (steps back from T-1): the wall time and the rows of the
  sketch multiplied by each step (q basis rows + 16 Gaussian rows + v);
- at a few steps, how many singular values of U^T P lie above the square root of the
  certificate's allowance (2 RITZ_RTOL S_1 S_3): Weyl's bound needs every such direction in the
  basis, so each of those steps solves an eigenproblem of at least that size;
- the time inside numpy's eigvalsh and inside the step products (the cell's rows) in one run;
- how much faster two threads run each kind of call than one thread twice: numpy's eigvalsh
  holds the interpreter lock (no overlap), its eigh and cholesky and the matrix product do not.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from rnnviz.engine import _jacobian, _sketch, data  # noqa: E402
from rnnviz.engine.analysis import _products, gradient_flow  # noqa: E402
from rnnviz.engine.cells import step_products  # noqa: E402
from rnnviz.engine.init import init_cell_parameters  # noqa: E402
from rnnviz.engine.network import backward, forward  # noqa: E402

N_S, T = 256, 500
PHASES = [(0, 4), (4, 12), (12, 50), (50, 100), (100, 150), (150, 250), (250, T - 1)]
LOOK_AT = (10, 20, 30, 40, 60, 80, 100, 150)


def problem():
    """The benchmark's LSTM (bench_gated.py's flow rows): PyTorch's init, seed 0."""
    rng = np.random.default_rng(0)
    p = init_cell_parameters(rng, "lstm", 8, N_S, 8, v_scale=1.0, by_scale=0.0)
    x = data.make_inputs(rng, "symbols", 8, 1, T)
    targets = data.make_targets(rng, "next", x, 8)
    trace = forward(p, x, np.zeros((N_S, 1)))
    return p, trace, backward(p, trace, targets), targets


class Probe:
    """Wraps the calls to time and to look at, for one run."""

    def __init__(self):
        self.starts: list[tuple[float, int | None]] = []
        self.eig = self.rows = 0.0
        self.directions: dict[int, tuple[int, int]] = {}

    def __enter__(self):
        top_start, values = _jacobian._TopSingularValues.start, _sketch._Sketch.values
        eigvalsh, rows = np.linalg.eigvalsh, step_products.LstmStepProducts.rows
        self._saved = top_start, values, eigvalsh, rows
        probe = self

        def start(top):
            top_start(top)
            probe.starts.append((time.perf_counter(), None if top.sketch is None
                                 else top.sketch.Y.shape[0]))

        def timed_values(sketch, k, Y):
            step = len(probe.starts)
            if step in LOOK_AT:
                s = np.linalg.svd(Y[:sketch.q], compute_uv=False)
                allowance = 2.0 * _sketch.RITZ_RTOL * s[0] * s[k - 1]
                probe.directions[step] = (int(np.sum(s * s > allowance)), sketch.q)
            return values(sketch, k, Y)

        def timed_eigvalsh(G):
            t0 = time.perf_counter()
            out = eigvalsh(G)
            probe.eig += time.perf_counter() - t0
            return out

        def timed_rows(products, X, out):
            t0 = time.perf_counter()
            result = rows(products, X, out)
            probe.rows += time.perf_counter() - t0
            return result

        _jacobian._TopSingularValues.start = start
        _sketch._Sketch.values = timed_values
        np.linalg.eigvalsh = timed_eigvalsh
        step_products.LstmStepProducts.rows = timed_rows
        return self

    def __exit__(self, *exc):
        (_jacobian._TopSingularValues.start, _sketch._Sketch.values, np.linalg.eigvalsh,
         step_products.LstmStepProducts.rows) = self._saved


def one_run(p, trace, grads, targets) -> tuple[float, Probe]:
    """One flow on one thread (no second thread for the values), probed."""
    saved = _products.PIPELINE_MIN_N
    _products.PIPELINE_MIN_N = 10 ** 9
    try:
        with Probe() as probe:
            t0 = time.perf_counter()
            gradient_flow(p, trace, grads, targets)
            probe.began = t0
            return time.perf_counter() - t0, probe
    finally:
        _products.PIPELINE_MIN_N = saved


def two_thread_speedup(fn, calls: int = 40) -> float:
    """(2 x one thread's time for `calls` calls) / (time for `calls` calls on each of two threads)."""
    def loop():
        for _ in range(calls):
            fn()
    fn()
    t0 = time.perf_counter()
    loop()
    alone = time.perf_counter() - t0
    other = threading.Thread(target=loop)
    t0 = time.perf_counter()
    other.start()
    loop()
    other.join()
    return 2.0 * alone / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs; the phases are the fastest's")
    args = parser.parse_args()
    print(f"numpy {np.__version__}, float64, 1 BLAS thread; load average before: "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    problem_args = problem()
    gradient_flow(*problem_args)                                  # (warm up)
    runs = [one_run(*problem_args) for _ in range(max(1, args.runs))]
    total, probe = min(runs, key=lambda r: r[0])
    print(f"LSTM flow (n_s, T) = ({N_S}, {T}) on one thread: {', '.join(f'{r[0]:.3f}' for r in runs)} s;"
          f" the fastest, by phase:")
    times = np.diff([probe.began] + [t for t, _ in probe.starts])
    rows = [r for _, r in probe.starts]
    for a, b in PHASES:
        shown = [r for r in rows[a:b] if r is not None]
        exact = sum(r is None for r in rows[a:b])
        kind = ", then ".join(([f"{exact} exact steps (P itself, 512 x 512)"] if exact else [])
                              + ([f"sketch rows {shown[0]}..{shown[-1]}"] if shown else []))
        print(f"  steps back {a:3d}-{b - 1:3d}: {1e3 * times[a:b].sum():6.0f} ms  ({kind})")
    print(f"  inside numpy's eigvalsh {1e3 * probe.eig:.0f} ms; inside the step products "
          f"{1e3 * probe.rows:.0f} ms; of {1e3 * total:.0f} ms")
    print("directions above the certificate's allowance (each must stay in the basis), "
          "of the basis q:")
    print("  " + "; ".join(f"step {s}: {above} of {q}" for s, (above, q) in sorted(probe.directions.items())))
    rng = np.random.default_rng(1)
    B = rng.standard_normal((256, 512))
    G, X, K = B @ B.T, rng.standard_normal((273, 512)), rng.standard_normal((512, 256))
    print("two threads against one thread twice (2.0: full overlap; 1.0 or less: none):")
    for name, fn in (("numpy eigvalsh(256)", lambda: np.linalg.eigvalsh(G)),
                     ("numpy eigh(256)", lambda: np.linalg.eigh(G)),
                     ("numpy cholesky(256)", lambda: np.linalg.cholesky(G)),
                     ("273 x 512 x 256 product", lambda: X @ K)):
        print(f"  {name:<24} {two_thread_speedup(fn):.2f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
