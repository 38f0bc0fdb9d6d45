"""The textbook stepwise version reproduces the seed notebook's printed numbers and is fixed where the notebook was narrow."""

import subprocess
import sys

import numpy as np

from rnnviz.engine import stepwise

# Copied from the seed notebook's printed output (shared/seed/notebook_output.txt), 8 decimals.
NOTEBOOK_DU = np.array([
    [-1.36113821, -0.65922426, -1.00375682],
    [1.66048254, 0.69485495, 0.30264786],
    [-0.62246348, -2.17785134, -0.17802186],
    [0.14405702, 0.83283752, -0.05638286],
    [-0.08526547, -0.30185192, -0.33629658]])
NOTEBOOK_DW = np.array([
    [0.25963841, 0.45162921, -0.60950493, 0.60136583, -0.17012016],
    [-0.4179251, -0.3354963, 1.30223714, -1.26953888, -0.24650054],
    [-0.75213045, 0.72496527, 0.97873189, -1.02299983, -0.57556053],
    [0.29560042, -0.18662077, -0.30101974, 0.31097946, 0.15793874],
    [-0.1372232, 0.19654372, 0.3649627, -0.36754107, -0.24378311]])
NOTEBOOK_DBA = np.array([[-0.55728284], [1.16366439], [1.0416666], [-0.30953627], [0.35730405]])
NOTEBOOK_DX = np.array([
    [[-0.51329353, 0.61956517, 0.0860038, -0.23284264]],
    [[1.13179632, 1.27564468, 0.04060929, -0.15858812]],
    [[0.51788802, -0.60980593, -0.07552883, 0.1207458]]])
# The notebook's first printed lines, verbatim (its debug prints of type(parameters) removed).
NOTEBOOK_PRINT_START = """{'dU': array([[-1.36113821, -0.65922426, -1.00375682],
       [ 1.66048254,  0.69485495,  0.30264786],
       [-0.62246348, -2.17785134, -0.17802186],
       [ 0.14405702,  0.83283752, -0.05638286],
       [-0.08526547, -0.30185192, -0.33629658]]), 'dW': array([[ 0.25963841,  0.45162921, -0.60950493,  0.60136583, -0.17012016],"""


def notebook_setup():
    """The notebook's __main__ draws, in its order."""
    np.random.seed(1)
    x = np.random.randn(3, 1, 4)
    s0 = np.random.randn(5, 1)
    U = np.random.randn(5, 3)
    W = np.random.randn(5, 5)
    V = np.random.randn(3, 5)
    ba = np.random.randn(5, 1)
    by = np.random.randn(3, 1)
    parameters = {"U": U, "W": W, "V": V, "ba": ba, "by": by}
    s, y, caches = stepwise.rnn_forward(x, s0, parameters)
    ds = np.random.randn(5, 1, 4)
    return x, s0, parameters, s, y, caches, ds


def test_reproduces_notebook_gradients(capsys):
    *_, caches, ds = notebook_setup()
    g = stepwise.rnn_backward(ds, caches)
    for name, expected in [("dU", NOTEBOOK_DU), ("dW", NOTEBOOK_DW), ("dba", NOTEBOOK_DBA),
                           ("dx", NOTEBOOK_DX)]:
        assert g[name].shape == expected.shape, name
        np.testing.assert_allclose(g[name], expected, rtol=0, atol=5.1e-9, err_msg=name)
    assert capsys.readouterr().out == ""          # the notebook's debug print is gone


def test_main_block_prints_notebook_numbers():
    out = subprocess.run([sys.executable, "-m", "rnnviz.engine.stepwise"], capture_output=True,
                         text=True, check=True).stdout
    assert out.startswith(NOTEBOOK_PRINT_START)
    assert "<class 'dict'>" not in out
    assert "s.shape = (5, 1, 4)" in out and "y.shape = (3, 1, 4)" in out


def test_ds0_is_the_gradient_through_the_first_step():
    x, s0, parameters, s, y, caches, ds = notebook_setup()
    g = stepwise.rnn_backward(ds, caches)
    # ds0 = W^T (f'(a_1) * (ds_1 + future)); check against a finite difference of <ds, s>.
    def objective(s0_):
        s_, _, _ = stepwise.rnn_forward(x, s0_, parameters)
        return float(np.sum(ds * s_))
    eps = 1e-6
    num = np.zeros_like(s0)
    for i in range(s0.shape[0]):
        e = np.zeros_like(s0)
        e[i] = eps
        num[i] = (objective(s0 + e) - objective(s0 - e)) / (2 * eps)
    np.testing.assert_allclose(g["ds0"], num, rtol=1e-7, atol=1e-9)


def test_any_batch_and_sizes():
    rng = np.random.default_rng(3)
    n_x, n_s, n_y, m, T = 2, 6, 4, 3, 5
    p = {"U": rng.normal(size=(n_s, n_x)), "W": rng.normal(size=(n_s, n_s)) * 0.3,
         "V": rng.normal(size=(n_y, n_s)), "ba": rng.normal(size=(n_s, 1)),
         "by": rng.normal(size=(n_y, 1))}
    x = rng.normal(size=(n_x, m, T))
    s0 = rng.normal(size=(n_s, m))
    s, y, caches = stepwise.rnn_forward(x, s0, p)
    assert s.shape == (n_s, m, T) and y.shape == (n_y, m, T)
    np.testing.assert_allclose(y.sum(axis=0), 1.0, rtol=1e-14)
    # batch element b computed alone gives the same numbers
    s1, y1, _ = stepwise.rnn_forward(x[:, 1:2], s0[:, 1:2], p)
    np.testing.assert_allclose(s1[:, 0], s[:, 1], rtol=1e-14)
    g = stepwise.rnn_backward(rng.normal(size=(n_s, m, T)), caches)
    assert g["dU"].shape == (n_s, n_x) and g["dW"].shape == (n_s, n_s)
    assert g["dba"].shape == (n_s, 1) and g["dx"].shape == (n_x, m, T) and g["ds0"].shape == (n_s, m)


def test_softmax_is_per_column_and_safe_for_huge_logits(recwarn):
    z = np.array([[1000.0, -1000.0, 0.0], [999.0, -1001.0, 1e308], [0.0, -3000.0, -1e308]])
    y = stepwise.softmax(z)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y.sum(axis=0), 1.0)
    np.testing.assert_allclose(y[:, 0], y[:, 1])           # shift-invariant per column
    np.testing.assert_allclose(y[:, 2], [0.0, 1.0, 0.0])
    assert len(recwarn) == 0
