"""The app runs BLAS single-threaded (set in rnnviz.cli before numpy loads), unless told otherwise."""

import os
import subprocess
import sys

PROBE = ("import sys, rnnviz.cli, os; "
         "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'], "
         "os.environ['MKL_NUM_THREADS'], 'numpy' in sys.modules)")


def _run(extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env.update(extra)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                         check=True, timeout=60)
    return out.stdout.split()


def test_cli_sets_one_blas_thread_before_numpy_loads():
    assert _run({}) == ["1", "1", "1", "False"]     # numpy not yet imported: the setting counts


def test_an_explicit_setting_wins():
    assert _run({"OPENBLAS_NUM_THREADS": "2"})[0] == "2"
