"""Print how fast the engine's forward + backward + loss runs, against the stepwise version and plain matmul.

Run: .venv/bin/python benchmarks/bench_engine.py [--quick]
Figures only; nothing here asserts a time. The ratio column is engine GFLOP/s over the GFLOP/s of
one plain matmul timed right after it (pairs alternate, so a busy shared machine hits both alike).
The reference matmul is (n_s x n_s) @ (n_s x m*T): the forward's W products of all steps done as one
call, same n_s, one third of the engine's W flops; a large, well-shaped product that runs at the
machine's practical GEMM rate. Engine flops count only its matrix products (9 per column: U, W, V
each forward, backward-through and gradient), so elementwise work and memory traffic count as cost.
"""

from __future__ import annotations

import os

# The app's setting (rnnviz/cli.py): one BLAS thread, unless the environment says otherwise.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from rnnviz.engine import Parameters, backward, forward, stepwise  # noqa: E402

SIZES = [(3, 5, 3, 1, 4), (8, 64, 8, 1, 200), (16, 128, 16, 16, 100), (64, 512, 64, 32, 200),
         (64, 1024, 64, 64, 100)]
FRAME_MS = 1000 / 60


def median_ms(fn, repeats: int, min_time: float = 0.2) -> float:
    """Median wall time of fn() in ms, over `repeats` batches of enough calls to last ~min_time/repeats."""
    t0 = time.perf_counter()
    fn()
    once = time.perf_counter() - t0
    inner = max(1, int(min_time / repeats / max(once, 1e-7)))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return 1e3 * float(np.median(times))


def problem(n_x, n_s, n_y, m, T, seed=0):
    """Random parameters in a stable regime, inputs, initial state and targets."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n_s, n_s))
    W *= 0.9 / np.abs(np.linalg.eigvals(W)).max()
    p = Parameters(U=rng.normal(size=(n_s, n_x)) / np.sqrt(n_x), W=W,
                   V=rng.normal(size=(n_y, n_s)) / np.sqrt(n_s),
                   ba=np.zeros((n_s, 1)), by=np.zeros((n_y, 1)))
    x = rng.normal(size=(n_x, m, T))
    s0 = np.zeros((n_s, m))
    targets = rng.integers(0, n_y, size=(m, T))
    return p, x, s0, targets


def matmul_flops(n_x, n_s, n_y, m, T) -> float:
    """Matrix-product flops of forward + backward: 3 products each with U, W, V per column, 2 flops per MAC."""
    return 6.0 * T * m * n_s * (n_x + n_s + n_y)


def stepwise_call(p, x, s0, targets):
    """The textbook version driven with the same loss gradient: forward, dL/ds_t from the outputs, BPTT."""
    d = p.as_dict()
    s, y, caches = stepwise.rnn_forward(x, s0, d)
    m, T = targets.shape
    dz = y.copy()
    dz[targets.T, np.arange(m)[None, :], np.arange(T)[:, None]] -= 1
    ds = np.einsum("ys,ymt->smt", d["V"], dz / m)
    return stepwise.rnn_backward(ds, caches)


def reference_call(n_s, cols):
    """One plain NumPy product (n_s, n_s) @ (n_s, cols): the same flops as the W products, in one go."""
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(n_s, n_s)), rng.normal(size=(n_s, cols))
    out = np.empty((n_s, cols))
    return lambda: np.matmul(A, B, out=out), 2.0 * n_s * n_s * cols


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no stepwise at n_s >= 512")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    print(f"numpy {np.__version__}, float64; engine and matmul timed alternately, median of {repeats}; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}; "
          f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    head = (f"{'(n_x,n_s,n_y,m,T)':>22} {'engine ms':>10} {'stepwise ms':>12} {'speed-up':>9} "
            f"{'GFLOP/s':>8} {'matmul GFLOP/s':>15} {'ratio':>6}  target")
    print(head)
    print("-" * len(head))
    for size in SIZES:
        n_x, n_s, n_y, m, T = size
        p, x, s0, targets = problem(*size)
        engine = lambda: backward(p, forward(p, x, s0), targets)   # noqa: E731
        ref, ref_flops = reference_call(n_s, m * T)
        pairs = [(median_ms(engine, 1, 0.1), median_ms(ref, 1, 0.05)) for _ in range(repeats)]
        ms = float(np.median([e for e, _ in pairs]))
        ratio = float(np.median([matmul_flops(*size) / e / (ref_flops / r) for e, r in pairs]))
        ref_gflops = ref_flops / (float(np.median([r for _, r in pairs])) * 1e6)
        sw_ms = (float("nan") if args.quick and n_s >= 512 else
                 median_ms(lambda: stepwise_call(p, x, s0, targets), 1 if n_s >= 512 else repeats))
        gflops = matmul_flops(*size) / (ms * 1e6)
        if n_s >= 512:
            target = f">= 75 % of matmul: {'met' if ratio >= 0.75 else 'NOT met'}"
        else:
            target = (f"{ms / FRAME_MS:.0%} of a 60 fps frame (<= 50 %): "
                      f"{'met' if ms <= FRAME_MS / 2 else 'NOT met'}")
        print(f"{str(size):>22} {ms:10.3f} {sw_ms:12.2f} {sw_ms / ms:8.1f}x "
              f"{gflops:8.2f} {ref_gflops:15.2f} {ratio:6.0%}  {target}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
