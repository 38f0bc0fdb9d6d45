"""Cross-check rnnviz's loss, gradients, clipping and optimisers against PyTorch (float64, CPU).

Run in the benchmark environment (torch is not an rnnviz dependency, so this is a script, not a
test): bash benchmarks/setup-torch-env.sh && .venv-bench/bin/python benchmarks/check_against_torch.py

1. The same weights and batch (the copy task) give the same loss and gradients: rnnviz's
   a_t = U x_t + W s_{t-1} + ba, z_t = V s_t + by against nn.RNN(tanh) + nn.Linear, with
   weight_ih = U, weight_hh = W, bias_ih = ba, bias_hh = 0 and frozen (rnnviz has one bias),
   and the loss cross_entropy(reduction="sum") / m.
2. The optimisers alone: the same gradient sequence fed to rnnviz.engine.optim and torch.optim,
   every option, 20 steps; parameters compared after each.
3. Training: 10 iterations of forward + BPTT + clipping + step in both, from the same start,
   on the same batches; parameters compared after each.
Prints the largest relative difference max|a - b| / max|b| of each check; exits 1 if any is
above 1e-12.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from rnnviz.engine import Parameters, backward, forward, init_parameters, optim  # noqa: E402
from rnnviz.engine.tasks import make_task, task_sizes  # noqa: E402

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)
TOLERANCE = 1e-12
NAMES = ("U", "W", "V", "ba", "by")

OPTIMIZER_CASES = [
    ("sgd", {"lr": 0.1}),
    ("sgd", {"lr": 0.1, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.02}),
    ("adam", {"lr": 1e-3}),
    ("adam", {"lr": 1e-2, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.05}),
    ("adam", {"lr": 1e-2, "betas": (0.3, 0.9)}),        # beta1 < 0.5: lerp's other branch
    ("rmsprop", {"lr": 1e-2}),
    ("rmsprop", {"lr": 1e-3, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.01}),
    ("rmsprop", {"lr": 1e-3, "momentum": 0.9, "centered": True}),
    ("rmsprop", {"lr": 1e-3, "alpha": 0.3, "centered": True}),   # alpha < 0.5: lerp's other branch
]
# Training amplifies rounding once the steps throw the net into its chaotic regime (RMSprop at
# lr 1e-2 lifts rho(W) from 1.1 to 1.8 in 10 steps here, and the two runs then part by ~10x per
# step from 1e-16): the training check keeps to learning rates where the dynamics stay regular.
TRAINING_CASES = [
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("adam", {"lr": 1e-2, "weight_decay": 0.01}),
    ("rmsprop", {"lr": 1e-3}),
    ("rmsprop", {"lr": 1e-3, "momentum": 0.5, "centered": True, "weight_decay": 0.01}),
]
TORCH_OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop}


def rel(a, b) -> float:
    """max|a - b| / max|b| (absolute when b is all zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = np.abs(b).max()
    return float(np.abs(a - b).max() / (scale if scale > 0 else 1.0))


class TorchRNN(torch.nn.Module):
    """nn.RNN(tanh) + nn.Linear with rnnviz's weights; bias_hh frozen at zero."""

    def __init__(self, p: Parameters):
        super().__init__()
        n_s, n_x = p.U.shape
        self.rnn = torch.nn.RNN(n_x, n_s, nonlinearity="tanh")
        self.out = torch.nn.Linear(n_s, p.n_y)
        with torch.no_grad():
            self.rnn.weight_ih_l0.copy_(torch.from_numpy(p.U))
            self.rnn.weight_hh_l0.copy_(torch.from_numpy(p.W))
            self.rnn.bias_ih_l0.copy_(torch.from_numpy(p.ba[:, 0]))
            self.rnn.bias_hh_l0.zero_()
            self.out.weight.copy_(torch.from_numpy(p.V))
            self.out.bias.copy_(torch.from_numpy(p.by[:, 0]))
        self.rnn.bias_hh_l0.requires_grad_(False)

    def named(self) -> dict[str, torch.nn.Parameter]:
        """The trained tensors under rnnviz's names."""
        return {"U": self.rnn.weight_ih_l0, "W": self.rnn.weight_hh_l0, "ba": self.rnn.bias_ih_l0,
                "V": self.out.weight, "by": self.out.bias}

    def loss(self, x: np.ndarray, targets: np.ndarray) -> torch.Tensor:
        """cross-entropy summed over time, mean over the batch, from s0 = 0."""
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 1, 0)))      # (T, m, n_x)
        states, _ = self.rnn(xt)
        z = self.out(states)                                                  # (T, m, n_y)
        m = x.shape[1]
        tg = torch.from_numpy(np.ascontiguousarray(targets.T)).reshape(-1)
        return torch.nn.functional.cross_entropy(z.reshape(-1, z.shape[-1]), tg, reduction="sum") / m

    def as_numpy(self) -> dict[str, np.ndarray]:
        """The current tensors in rnnviz's shapes."""
        d = {k: v.detach().numpy().copy() for k, v in self.named().items()}
        d["ba"], d["by"] = d["ba"][:, None], d["by"][:, None]
        return d


def initial(seed=0, lag=5, n_s=16):
    n_x, n_y, _ = task_sizes("copy", lag=lag)
    p = init_parameters(np.random.default_rng(seed), n_x, n_s, n_y, kind="gaussian", spectral_radius=1.1,
                        u_scale=1.0, v_scale=1.0, ba_scale=0.1, by_scale=0.1)
    return p


def check_gradients() -> float:
    p = initial()
    task = make_task("copy", np.random.default_rng(1), 8, lag=5)
    g = backward(p, forward(p, task.x, np.zeros((p.n_s, 8))), task.targets)
    model = TorchRNN(p)
    loss = model.loss(task.x, task.targets)
    loss.backward()
    worst = abs(g.loss - loss.item()) / abs(loss.item())
    print(f"  loss      rnnviz {g.loss:.15f}  torch {loss.item():.15f}  rel diff {worst:.1e}")
    for name, t in model.named().items():
        d = rel(getattr(g, "d" + name).reshape(t.grad.shape), t.grad.numpy())
        print(f"  d{name:<3}      rel diff {d:.1e}")
        worst = max(worst, d)
    return worst


def check_optimizers() -> float:
    rng = np.random.default_rng(2)
    shapes = {"U": (5, 3), "W": (5, 5), "b": (5, 1)}
    worst = 0.0
    for name, hyper in OPTIMIZER_CASES:
        start = {k: rng.normal(size=s) for k, s in shapes.items()}
        ours = {k: v.copy() for k, v in start.items()}
        theirs = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
        opt = optim.make_optimizer(name, **hyper)
        topt = TORCH_OPTIMIZERS[name](list(theirs.values()), **hyper)
        case = 0.0
        for _ in range(20):
            grads = {"d" + k: rng.normal(size=s) for k, s in shapes.items()}
            opt.step(ours, grads)
            for k, t in theirs.items():
                t.grad = torch.from_numpy(grads["d" + k].copy())
            topt.step()
            case = max(case, max(rel(ours[k], theirs[k].detach().numpy()) for k in shapes))
        print(f"  {name:<8} {hyper!s:<72} rel diff {case:.1e}")
        worst = max(worst, case)
    return worst


def check_training(clip: str) -> float:
    worst = 0.0
    for name, hyper in TRAINING_CASES:
        p = initial(seed=3)
        model = TorchRNN(p)
        opt = optim.make_optimizer(name, **hyper)
        topt = TORCH_OPTIMIZERS[name](list(model.named().values()), **hyper)
        case = 0.0
        for k in range(10):
            task = make_task("copy", np.random.default_rng([7, k]), 8, lag=5)
            g = backward(p, forward(p, task.x, np.zeros((p.n_s, 8))), task.targets).as_dict()
            topt.zero_grad()
            model.loss(task.x, task.targets).backward()
            tensors = list(model.named().values())
            if clip == "norm":
                n1 = optim.clip_grad_norm(g, 0.5, NAMES)
                n2 = torch.nn.utils.clip_grad_norm_(tensors, 0.5).item()
                case = max(case, abs(n1 - n2) / n2)
            else:
                optim.clip_grad_value(g, 0.05, NAMES)
                torch.nn.utils.clip_grad_value_(tensors, 0.05)
            opt.step(p, g)
            topt.step()
            now = model.as_numpy()
            case = max(case, max(rel(getattr(p, n), now[n]) for n in NAMES))
        print(f"  {name:<8} {hyper!s:<60} clip by {clip:<5} rel diff {case:.1e}")
        worst = max(worst, case)
    return worst


def main() -> int:
    print(f"torch {torch.__version__}, numpy {np.__version__}; float64, 1 thread; tolerance {TOLERANCE:g}")
    print("1. loss and gradients, copy task lag 5, n_s 16, m 8")
    results = [check_gradients()]
    print("2. optimisers alone, 20 steps of random gradients")
    results.append(check_optimizers())
    print("3. training, 10 iterations (forward + BPTT + clipping + step)")
    results += [check_training("norm"), check_training("value")]
    ok = max(results) <= TOLERANCE
    print(f"largest relative difference {max(results):.1e}: {'OK' if ok else 'ABOVE TOLERANCE'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
