"""The notebook's RNN, one timestep at a time: the textbook version and the fast engine's oracle.

Same names, signatures and return values as the seed notebook, fixed where it was wrong or narrow:
no debug print, a softmax that is safe per column, any batch size m and any n_x, n_y, and
rnn_backward also returns ds0. The activation is the notebook's tanh.
"""

import numpy as np


def softmax(x):
    """Softmax over axis 0, column by column; subtracting each column's max keeps exp() finite."""
    with np.errstate(over="ignore"):            # z - max may reach -inf: exp gives the right 0
        e_x = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e_x / e_x.sum(axis=0, keepdims=True)


def rnn_cell_forward(x_t, s_prev, parameters):
    """One step: s_next = tanh(U x_t + W s_prev + ba), out_pred = softmax(V s_next + by)."""
    U = parameters["U"]
    W = parameters["W"]
    V = parameters["V"]
    ba = parameters["ba"]
    by = parameters["by"]

    s_next = np.tanh(np.dot(U, x_t) + np.dot(W, s_prev) + ba)

    out_pred = softmax(np.dot(V, s_next) + by)

    cache = (s_next, s_prev, x_t, parameters)

    return s_next, out_pred, cache


def rnn_forward(x, s0, parameters):
    """All steps of x (n_x, m, T) from s0 (n_s, m): returns s (n_s, m, T), y (n_y, m, T), caches."""
    caches = []

    n_x, m, T = x.shape

    n_y, n_s = parameters["V"].shape

    s_next = s0

    s = np.zeros((n_s, m, T))

    y = np.zeros((n_y, m, T))

    for t in range(T):

        s_next, out_pred, cache = rnn_cell_forward(x[:, :, t], s_next, parameters)

        s[:, :, t] = s_next

        y[:, :, t] = out_pred

        caches.append(cache)

    return s, y, caches


def rnn_cell_backward(ds_next, cache):
    """Back through one step, given dL/ds_next: gradients of x_t, s_prev, U, W, ba."""
    (s_next, s_prev, x_t, parameters) = cache

    U = parameters["U"]
    W = parameters["W"]

    dtanh = (1 - s_next ** 2) * ds_next

    dx_t = np.dot(U.T, dtanh)
    dU = np.dot(dtanh, x_t.T)

    ds_prev = np.dot(W.T, dtanh)
    dW = np.dot(dtanh, s_prev.T)

    dba = np.sum(dtanh, axis=1, keepdims=True)

    gradients = {"dx_t": dx_t, "ds_prev": ds_prev, "dU": dU, "dW": dW, "dba": dba}

    return gradients


def rnn_backward(ds, caches):
    """BPTT given ds (n_s, m, T), the upstream dL/ds_t of every step: returns dU, dW, dba, dx, ds0."""
    (s1, s0, x_1, parameters) = caches[0]

    n_s, m, T = ds.shape

    n_x, _ = x_1.shape

    dx = np.zeros((n_x, m, T))
    dU = np.zeros((n_s, n_x))
    dW = np.zeros((n_s, n_s))
    dba = np.zeros((n_s, 1))
    ds_prevt = np.zeros((n_s, m))

    for t in reversed(range(T)):

        gradients = rnn_cell_backward(ds[:, :, t] + ds_prevt, caches[t])

        ds_prevt = gradients["ds_prev"]

        dU += gradients["dU"]

        dW += gradients["dW"]

        dba += gradients["dba"]

        dx_t = gradients["dx_t"]

        dx[:, :, t] = dx_t

    ds0 = ds_prevt

    gradients = {"dU": dU, "dW": dW, "dba": dba, "dx": dx, "ds0": ds0}

    return gradients


if __name__ == '__main__':
    np.random.seed(1)

    x = np.random.randn(3, 1, 4)
    s0 = np.random.randn(5, 1)

    U = np.random.randn(5, 3)
    W = np.random.randn(5, 5)

    V = np.random.randn(3, 5)

    ba = np.random.randn(5, 1)
    by = np.random.randn(3, 1)

    parameters = {"U": U, "W": W, "V": V, "ba": ba, "by": by}

    s, y, caches = rnn_forward(x, s0, parameters)

    ds = np.random.randn(5, 1, 4)

    gradients = rnn_backward(ds, caches)

    print(gradients)

    print("s =", s)
    print("s.shape =", s.shape)
    print("y =", y)
    print("y.shape =", y.shape)
