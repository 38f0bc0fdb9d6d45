"""How long a computation can ignore a request to stop: the longest gap between two polls of
should_stop, per stage, at a large size (issue 10 item 6). A closing window waits at most
worker.RELEASE_GRACE_MS and then leaves the computation to finish on its own; this says how
long that can be.

Run: .venv/bin/python benchmarks/bench_stop_latency.py [n_s T m n_x]   (default 2048 5000 1 512,
the largest allowed size; one BLAS thread, as in the app). Figures only, no target.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402
import time  # noqa: E402

from rnnviz.state import config as cfg  # noqa: E402
from rnnviz.state.compute import STAGE_NAMES, compute  # noqa: E402
from rnnviz.state.session import Session  # noqa: E402


def main():
    n_s, T, m, n_x = (int(a) for a in sys.argv[1:5]) if len(sys.argv) >= 5 else (2048, 5000, 1, 512)
    session = Session()
    problems = session.apply(n_s=n_s, T=T, m=m, n_x=n_x, n_y=n_x)
    if problems:
        sys.exit(cfg.describe(problems))
    request = session.request()
    print(f"n_s = {n_s}, T = {T}, m = {m}, n_x = n_y = {n_x}; OPENBLAS_NUM_THREADS="
          f"{os.environ['OPENBLAS_NUM_THREADS']}; load average {os.getloadavg()[0]:.2f}",
          flush=True)
    start = time.perf_counter()
    state = {"stage": "start", "last_poll": start, "stage_start": start}
    gaps: dict[str, float] = {}         # stage -> longest time without a poll
    took: dict[str, float] = {}         # stage -> its wall time
    polls: dict[str, int] = {}

    def note_gap(now):
        stage = state["stage"]
        gaps[stage] = max(gaps.get(stage, 0.0), now - state["last_poll"])
        state["last_poll"] = now

    def should_stop():
        now = time.perf_counter()
        note_gap(now)
        polls[state["stage"]] = polls.get(state["stage"], 0) + 1
        return False

    def stage(name):
        now = time.perf_counter()
        took[state["stage"]] = now - state["stage_start"]
        note_gap(now)
        state["stage"], state["stage_start"] = name, now
        print(f"  {STAGE_NAMES.get(name, name)} ... ({now - start:.1f} s)", flush=True)

    compute(request, should_stop=should_stop, stage=stage)
    now = time.perf_counter()
    took[state["stage"]] = now - state["stage_start"]
    note_gap(now)
    print(f"{'stage':<34} {'wall s':>8} {'longest without a poll s':>26} {'polls':>7}")
    for name, seconds in took.items():
        label = STAGE_NAMES.get(name, name)
        print(f"{label:<34} {seconds:8.2f} {gaps.get(name, 0.0):26.2f} {polls.get(name, 0):7d}")
    print(f"{'total':<34} {now - start:8.2f}")


if __name__ == "__main__":
    main()
