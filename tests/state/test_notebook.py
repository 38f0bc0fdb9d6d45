"""The notebook preset reproduces the seed notebook's numbers.

S_NOTEBOOK was obtained by running the seed's own rnn_forward on its np.random.seed(1) draw
(/work/shared/seed/rnn_notebook.py); the gradient numbers are copied from the notebook's printed
output (/work/shared/seed/notebook_output.txt, which is cut off before it prints s).
"""
import numpy as np

from rnnviz.state.session import Session

S_NOTEBOOK = np.array([
    [-0.7824768281976041, 0.4139414929318614, -0.12328511413909438, -0.39612536648813035],
    [0.6957432186572965, 0.8011288268910174, 0.999992947890716, 0.9919987924954651],
    [0.9646957132628438, 0.4115574713859411, 0.9748188836230941, 0.992292830490537],
    [-0.9978192137557088, -0.6520502427246637, -0.9959308069626306, -0.11053305921516628],
    [-0.6005850737653455, 0.3972397310822498, -0.9970642984061183, -0.8773795230211048]])
Y_NOTEBOOK = np.array([
    [0.38590500735923267, 0.3545952963592281, 0.11987267300468127, 0.2623078974438966],
    [0.07308899031623169, 0.05343000828590831, 0.01509874867547735, 0.06642351990024636],
    [0.5410060023245357, 0.5919746953548636, 0.8650285783198414, 0.6712685826558571]])

# notebook_output.txt: rnn_backward(ds, caches) with ds = np.random.randn(5, 1, 4) drawn next.
DU = [[-1.36113821, -0.65922426, -1.00375682], [1.66048254, 0.69485495, 0.30264786],
      [-0.62246348, -2.17785134, -0.17802186], [0.14405702, 0.83283752, -0.05638286],
      [-0.08526547, -0.30185192, -0.33629658]]
DW = [[0.25963841, 0.45162921, -0.60950493, 0.60136583, -0.17012016],
      [-0.4179251, -0.3354963, 1.30223714, -1.26953888, -0.24650054],
      [-0.75213045, 0.72496527, 0.97873189, -1.02299983, -0.57556053],
      [0.29560042, -0.18662077, -0.30101974, 0.31097946, 0.15793874],
      [-0.1372232, 0.19654372, 0.3649627, -0.36754107, -0.24378311]]
DBA = [[-0.55728284], [1.16366439], [1.0416666], [-0.30953627], [0.35730405]]
DX = [[-0.51329353, 0.61956517, 0.0860038, -0.23284264],
      [1.13179632, 1.27564468, 0.04060929, -0.15858812],
      [0.51788802, -0.60980593, -0.07552883, 0.1207458]]


def notebook_session():
    session = Session()
    session.load_preset("notebook")
    return session


def test_forward_matches_the_notebook():
    session = notebook_session()
    result = session.compute_now()
    assert result.trace.s.shape == (5, 1, 4)
    np.testing.assert_allclose(result.trace.s[:, 0, :], S_NOTEBOOK, rtol=0, atol=1e-14)
    np.testing.assert_allclose(result.trace.y[:, 0, :], Y_NOTEBOOK, rtol=0, atol=1e-14)
    assert session.t == 0 and session.preset_name == "notebook" and session.inputs_fixed


def test_printed_gradients_follow_from_these_states():
    """The notebook's backward (an upstream ds on the states) over our s reproduces its print."""
    session = notebook_session()
    s = session.compute_now().trace.s
    p, x, s0 = session.params, session.x, session.s0
    np.random.seed(1)
    for shape in ((3, 1, 4), (5, 1), (5, 3), (5, 5), (3, 5), (5, 1), (3, 1)):
        np.random.randn(*shape)
    ds = np.random.randn(5, 1, 4)
    dU, dW, dba, dx = np.zeros((5, 3)), np.zeros((5, 5)), np.zeros((5, 1)), np.zeros((3, 1, 4))
    ds_prev = np.zeros((5, 1))
    for t in reversed(range(4)):
        s_prev = s[:, :, t - 1] if t else s0
        dtanh = (1 - s[:, :, t] ** 2) * (ds[:, :, t] + ds_prev)
        dU += dtanh @ x[:, :, t].T
        dW += dtanh @ s_prev.T
        dba += dtanh
        dx[:, :, t] = p.U.T @ dtanh
        ds_prev = p.W.T @ dtanh
    for got, printed in ((dU, DU), (dW, DW), (dba, DBA), (dx[:, 0, :], DX)):
        np.testing.assert_allclose(got, printed, rtol=0, atol=6e-9)


def test_changing_the_seed_replaces_the_notebook_numbers_with_a_message():
    session = notebook_session()
    messages = []
    session.events.subscribe(lambda name, **p: messages.append(p["text"]) if name == "message" else None)
    session.apply(seed=2)
    assert not session.inputs_fixed and any("preset's own inputs" in m for m in messages)
    session.load_preset("notebook")
    np.testing.assert_allclose(session.compute_now().trace.s[:, 0, :], S_NOTEBOOK, rtol=0, atol=1e-14)
