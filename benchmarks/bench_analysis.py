"""Print how fast the gradient-flow analysis runs: the full Jacobian curve, its scaling, connectivity.

Run: .venv/bin/python benchmarks/bench_analysis.py [--quick]
Figures only; nothing here asserts a time. Times are the best of a few runs (the machine is
shared). "n^3 products" is the time of T-1 plain n_s x n_s products: what forming every P_t costs,
the floor of any method that does (the sketched steps do not form P_t; see rnnviz/engine/_jacobian.py).
"""

from __future__ import annotations

import os

# The app's setting (rnnviz/cli.py): one BLAS thread, unless the environment says otherwise.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from rnnviz.engine import _jacobian, backward, forward, get_activation  # noqa: E402
from rnnviz.engine.analysis import connectivity, gradient_flow  # noqa: E402
from rnnviz.engine.data import make_inputs, make_targets  # noqa: E402
from rnnviz.engine.init import init_parameters  # noqa: E402

TARGET_MS = 500.0
WIDE_TARGET_S = 5.0      # the whole flow at n_s = 1024, T = 1000 (issue 13, item 14)


def problem(n_s, T, act="tanh", radius=1.0, seed=0, n_x=8):
    """A default-demo-like network: Gaussian W at the radius, one-hot symbols, next-symbol targets."""
    rng = np.random.default_rng(seed)
    p = init_parameters(rng, n_x, n_s, n_x, kind="gaussian", spectral_radius=radius, u_scale=1.0,
                        v_scale=1.0, ba_scale=0.1, by_scale=0.0)
    x = make_inputs(rng, "symbols", n_x, 1, T)
    targets = make_targets(rng, "next", x, n_x)
    trace = forward(p, x, np.zeros((n_s, 1)), act)
    return p, trace, backward(p, trace, targets), targets


def best_ms(fn, repeats, clock=time.perf_counter):
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return 1e3 * min(times)


def products_ms(n, T, repeats):
    """Best ms of T-1 plain n x n products: what forming every P_t costs (the "n^3 products" column)."""
    A, B, C = np.random.rand(n, n), np.random.rand(n, n), np.empty((n, n))

    def run():
        for _ in range(T - 1):
            np.matmul(A, B, out=C)
    return best_ms(run, repeats)


def counted_flow(p, trace, grads, targets):
    """Run gradient_flow once: (flow, iterations per step, exact steps, certified steps, the
    _TopSingularValues instance)."""
    made = []
    original = _jacobian._TopSingularValues

    class Counting(original):
        def __init__(self, *args):
            super().__init__(*args)
            made.append(self)
    _jacobian._TopSingularValues = Counting
    try:
        flow = gradient_flow(p, trace, grads, targets)
    finally:
        _jacobian._TopSingularValues = original
    top = made[0] if made else None
    T = trace.T
    return (flow, (top.iterations / max(T - 1, 1) if top else 0.0), (top.exact_steps if top else 0),
            (top.certified_steps if top else 0), top)


def accuracy(p, trace, flow, every=25):
    """Largest |sigma_i - exact sigma_i| / exact sigma_1 over steps t = T-1-every*j (explicit product + SVD)."""
    act = get_activation(trace.activation)
    df = act.df(trace.a[:, 0, :], trace.s[:, 0, :])
    T, P, worst, c = trace.T, np.eye(p.n_s), 0.0, 0.0
    for t in range(T - 2, -1, -1):
        P = P @ (df[:, t + 1][:, None] * p.W)
        scale = np.linalg.norm(P, 2)          # keep the oracle in range; track its log
        P /= scale
        c += np.log10(scale)
        if (T - 1 - t) % every == 0:
            sv = np.linalg.svd(P, compute_uv=False)[:flow.jacobian_top_sv.shape[1]]
            mine = 10 ** (flow.log10_jacobian_top_sv[t] - c)
            worst = max(worst, float(np.max(np.abs(mine - sv))))
    return worst


def fit_exponent(sizes, times):
    return float(np.polyfit(np.log(sizes), np.log(times), 1)[0])


def both_cores_line(repeats) -> str:
    """The 256 x 500 flow again in a child process whose BLAS may use both cores.

    The app gives its worker one BLAS thread (the UI thread keeps the other core); the engine
    target is about the machine, so both figures are printed. Under load from other processes
    two BLAS threads can be much slower than one (measured: 2-4x), so read this with the load.
    """
    code = ("import sys, time; sys.path.insert(0, %r); import bench_analysis as b; "
            "from rnnviz.engine.analysis import gradient_flow; "
            "p, tr, g, tg = b.problem(256, 500); "
            "print(b.best_ms(lambda: gradient_flow(p, tr, g, tg), %d))"
            % (os.path.dirname(os.path.abspath(__file__)), repeats))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if out.returncode:
        return f"(2 BLAS threads: the child process failed: {out.stderr.strip()[-200:]})"
    ms = float(out.stdout.split()[-1])
    met = "met" if ms < TARGET_MS else "NOT met"
    return (f"n_s = 256, T = 500 with 2 BLAS threads (both cores, as a notebook user gets it): "
            f"{ms:.0f} ms (target < {TARGET_MS:.0f} ms: {met}); load average {os.getloadavg()[0]:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run per figure")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")

    print("\nFull gradient flow (Jacobian norm + top-3 singular values for every t), tanh, radius 1.0")
    print("(flow ms: wall time; cpu ms: this process's CPU time, less disturbed by other load)")
    print("(n^3 products: the T-1 products P_t = P_{t+1} J_{t+1} alone, which sketched steps skip;")
    print(" iter/step: subspace-iteration steps per step, each two n x n x q products; exact: steps")
    print(" by eigvalsh(P P^T) or SVD; certified: steps certified from U^T P, of which sketched:")
    print(" without forming P, one (q + 16) x n x n product; caught up: n^3 products done late,")
    print(" where a sketch stopped certifying)")
    print(f"{'n_s':>5} {'T':>5} {'flow ms':>9} {'cpu ms':>8} {'n^3 products ms':>16} "
          f"{'iter/step':>9} {'exact':>6} {'certified':>9} {'sketched':>8} {'caught up':>9} "
          f"{'max err/||P||':>13}")
    rows, cpus = {}, {}
    grid = [(n, 500) for n in (64, 128, 256, 512)] + [(256, T) for T in (125, 250, 1000)]
    for n_s, T in grid:
        p, trace, grads, targets = problem(n_s, T)
        flow, halves, fallbacks, certified, top = counted_flow(p, trace, grads, targets)
        ms = best_ms(lambda: gradient_flow(p, trace, grads, targets), repeats)
        cpu = best_ms(lambda: gradient_flow(p, trace, grads, targets), repeats, time.process_time)
        floor = products_ms(n_s, T, repeats)
        err = accuracy(p, trace, flow, every=5) if (n_s, T) == (256, 500) else float("nan")
        rows[(n_s, T)], cpus[(n_s, T)] = ms, cpu
        sketched, late = (top.sketched_steps, top.caught_up_steps) if top else (0, 0)
        print(f"{n_s:>5} {T:>5} {ms:>9.1f} {cpu:>8.1f} {floor:>16.1f} {halves:>9.2f} "
              f"{fallbacks:>6} {certified:>9} {sketched:>8} {late:>9} {err:>13.1e}")
    met = "met" if rows[(256, 500)] < TARGET_MS else "NOT met"
    print(f"\nn_s = 256, T = 500: {rows[(256, 500)]:.0f} ms wall, {cpus[(256, 500)]:.0f} ms CPU "
          f"(target < {TARGET_MS:.0f} ms: {met}); load average now {os.getloadavg()[0]:.2f}")
    ns = [64, 128, 256, 512]
    Ts = [125, 250, 500, 1000]
    print(f"time ~ n_s^{fit_exponent(ns, [rows[(n, 500)] for n in ns]):.2f} at T = 500 "
          f"(O(T_0 n_s^3 + T q n_s^2): ~15 steps with P, then sketched steps; small n_s are "
          f"dominated by per-step overhead)")
    print(f"time ~ T^{fit_exponent(Ts, [rows[(256, T)] for T in Ts]):.2f} at n_s = 256")

    if os.environ.get("OPENBLAS_NUM_THREADS") == "1":
        print(both_cores_line(repeats))

    p, trace, grads, targets = problem(1024, 1000)
    t0, c0 = time.perf_counter(), time.process_time()
    _, _, fallbacks, _, top = counted_flow(p, trace, grads, targets)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    met = "met" if cpu < WIDE_TARGET_S else "NOT met"
    print(f"n_s = 1024, T = 1000, the whole flow once: {cpu:.1f} s CPU, {wall:.1f} s wall "
          f"(target < {WIDE_TARGET_S:.0f} s: {met}); exact {fallbacks}, sketched "
          f"{top.sketched_steps}, caught up {top.caught_up_steps}; load average {os.getloadavg()[0]:.2f}")

    p, trace, grads, targets = problem(256, 500)
    ms = best_ms(lambda: connectivity(p, trace, 499), max(repeats, 5))
    print(f"\nconnectivity at n_s = 256, T = 500, t = T-1: {ms:.1f} ms "
          f"(a 60 fps frame is {1000 / 60:.1f} ms)")


if __name__ == "__main__":
    main()
