"""One training iteration in rnnviz against the same in PyTorch (CPU, float64), as a ratio beside its target.

Run in the benchmark environment: bash benchmarks/setup-torch-env.sh &&
    .venv-bench/bin/python benchmarks/bench_train.py [--quick]

The iteration: forward over the batch, BPTT of the cross-entropy summed over time / m, clipping
by the global 2-norm, one Adam step. rnnviz: engine.forward, engine.backward,
optim.clip_grad_norm, optim.Adam.step. torch: nn.RNN(tanh) + nn.Linear (the model of
check_against_torch.py: the same maths, bias_hh frozen at 0), cross_entropy(reduction="sum") / m,
zero_grad, backward, nn.utils.clip_grad_norm_, torch.optim.Adam.step (its CPU default, the
for-loop implementation). Both get the same batch, already in their own arrays; both run on
one thread (torch.set_num_threads(1); OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS = 1,
set before numpy and torch load). Calls alternate rnnviz / torch in pairs, so a busy shared
machine slows both alike; the figure is the median over the repeats.

Also printed: Trainer.step, the whole iteration of rnnviz.engine.train (task draw, the above,
and its record: per-parameter norms, the gradient-through-time profile, rho(W) by eigvals,
sigma_max(W) by SVD, the finite checks and the undo copy), and what the spectrum alone costs.
Figures only; nothing here asserts a time.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from check_against_torch import TorchRNN  # noqa: E402

from rnnviz.engine import backward, forward, init_parameters, optim  # noqa: E402
from rnnviz.engine.train import (  # noqa: E402
    Trainer,
    TrainSettings,
    largest_singular_value,
    spectral_radius,
)

torch.set_num_threads(1)
SIZES = [((10, 64, 9, 32, 40), 0.5), ((16, 128, 16, 16, 100), 0.6)]
NAMES = ("U", "W", "V", "ba", "by")


def median_pair(f, g, repeats: int, min_time: float):
    """Median times (ms) of f and g, timed in alternating batches of enough calls to last ~min_time/repeats."""
    f(), g()
    t0 = time.perf_counter()
    f()
    inner = max(1, int(min_time / repeats / max(time.perf_counter() - t0, 1e-7)))
    tf, tg = [], []
    for _ in range(repeats):
        for fn, out in ((f, tf), (g, tg)):
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            out.append((time.perf_counter() - t0) / inner)
    return 1e3 * float(np.median(tf)), 1e3 * float(np.median(tg))


def median_ms(f, repeats: int, min_time: float) -> float:
    return median_pair(f, lambda: None, repeats, min_time)[0]


def setup(n_x, n_s, n_y, m, T, seed=0):
    rng = np.random.default_rng(seed)
    p = init_parameters(rng, n_x, n_s, n_y, kind="orthogonal", spectral_radius=0.95, u_scale=1.0,
                        v_scale=1.0, ba_scale=0.0, by_scale=0.0)
    codes = rng.integers(0, n_x, size=(m, T))
    x = np.zeros((n_x, m, T))
    x[codes, np.arange(m)[:, None], np.arange(T)] = 1.0
    targets = rng.integers(0, n_y, size=(m, T))
    return p, x, np.zeros((n_s, m)), targets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats (a rough figure)")
    args = ap.parse_args()
    repeats, min_time = (5, 0.5) if args.quick else (15, 3.0)
    print(f"numpy {np.__version__}, torch {torch.__version__}; float64; 1 thread "
          f"(torch.set_num_threads(1), OPENBLAS/OMP/MKL_NUM_THREADS=1); median of {repeats} alternating batches")
    print(f"{'(n_x, n_s, n_y, m, T)':<24}{'rnnviz ms':>10}{'torch ms':>10}{'ratio':>8}{'target':>8}"
          f"{'':>4}{'Trainer.step ms':>16}{'rho ms':>8}{'sigma ms':>9}")
    for size, target in SIZES:
        p, x, s0, targets = setup(*size)
        opt = optim.Adam(lr=1e-3)

        def ours():
            g = backward(p, forward(p, x, s0), targets).as_dict()
            optim.clip_grad_norm(g, 1.0, NAMES)
            opt.step(p, g)

        model = TorchRNN(p)
        topt = torch.optim.Adam(list(model.named().values()), lr=1e-3)
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 1, 0)))
        tt = torch.from_numpy(np.ascontiguousarray(targets.T)).reshape(-1)
        m = size[3]

        def theirs():
            topt.zero_grad()
            states, _ = model.rnn(xt)
            z = model.out(states)
            loss = torch.nn.functional.cross_entropy(z.reshape(-1, z.shape[-1]), tt, reduction="sum") / m
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.named().values(), 1.0)
            topt.step()

        t_ours, t_theirs = median_pair(ours, theirs, repeats, min_time)
        ratio = t_ours / t_theirs
        n_x, n_s, n_y, m, T = size
        # the whole Trainer.step on a task of the same sizes: copy with lag 20 is (10, ., 9, ., 40)
        task = ("copy", {"lag": T - 20}) if (n_x, n_y) == (10, 9) else \
            ("recall", {"symbols": n_x, "T": T, "delay": 1})
        trainer = Trainer(init_parameters(np.random.default_rng(1), n_x, n_s, n_y, kind="orthogonal",
                                          spectral_radius=0.95, u_scale=1.0, v_scale=1.0, ba_scale=0.0,
                                          by_scale=0.0),
                          TrainSettings(task=task[0], task_options=task[1], m=m, lr=1e-3))
        t_step = median_ms(trainer.step, repeats, min_time / 2)
        t_rho = median_ms(lambda: spectral_radius(p.W), repeats, min_time / 4)
        t_sigma = median_ms(lambda: largest_singular_value(p.W), repeats, min_time / 4)
        verdict = "ok" if ratio <= target else "MISS"
        print(f"{size!s:<24}{t_ours:>10.3f}{t_theirs:>10.3f}{ratio:>8.2f}{'<= ' + str(target):>8}{verdict:>4}"
              f"{t_step:>16.3f}{t_rho:>8.3f}{t_sigma:>9.3f}")


if __name__ == "__main__":
    main()
