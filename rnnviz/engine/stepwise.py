"""The notebook's RNN, one timestep at a time: the textbook version and the fast engine's oracle.

Same names, signatures and return values as the seed notebook, fixed where it was wrong or narrow:
no debug print, a softmax that is safe per column, any batch size m and any n_x, n_y, and
rnn_backward also returns ds0. The activation is the notebook's tanh.
The gated cells follow in the same style (lstm_*, gru_*), with PyTorch's nn.LSTM / nn.GRU equations.
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



# ----- gated cells: the LSTM and the GRU, as PyTorch's nn.LSTM and nn.GRU define them ----------

def sigmoid(x):
    """The logistic function 1 / (1 + e^-x); where e^-x overflows to inf the result is the right 0."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def lstm_cell_forward(x_t, h_prev, c_prev, parameters):
    """One LSTM step: returns h_next, c_next, y_pred = softmax(V h_next + by) and the cache.

    U (4n_s, n_x), W (4n_s, n_s), ba (4n_s, 1) hold the gate blocks in PyTorch's order i, f, g, o:
    i = sigmoid(U_i x_t + W_i h_prev + ba_i), f and o alike, g = tanh(U_g x_t + W_g h_prev + ba_g),
    c_next = f * c_prev + i * g, h_next = o * tanh(c_next).
    """
    U = parameters["U"]
    W = parameters["W"]
    ba = parameters["ba"]
    V = parameters["V"]
    by = parameters["by"]
    n_s = h_prev.shape[0]

    a = np.dot(U, x_t) + np.dot(W, h_prev) + ba        # (4 n_s, m): the blocks i, f, g, o

    i = sigmoid(a[0 * n_s:1 * n_s])                     # input gate
    f = sigmoid(a[1 * n_s:2 * n_s])                     # forget gate
    g = np.tanh(a[2 * n_s:3 * n_s])                     # candidate cell value
    o = sigmoid(a[3 * n_s:4 * n_s])                     # output gate

    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)

    y_pred = softmax(np.dot(V, h_next) + by)

    cache = (h_next, c_next, h_prev, c_prev, i, f, g, o, x_t, parameters)

    return h_next, c_next, y_pred, cache


def lstm_forward(x, h0, parameters, c0=None):
    """All steps of x (n_x, m, T) from h0, c0 (n_s, m; c0 zeros when None): returns h, c
    (n_s, m, T), y (n_y, m, T) and the caches."""
    caches = []

    n_x, m, T = x.shape

    n_y, n_s = parameters["V"].shape

    h_next = h0
    c_next = np.zeros((n_s, m)) if c0 is None else c0

    h = np.zeros((n_s, m, T))
    c = np.zeros((n_s, m, T))
    y = np.zeros((n_y, m, T))

    for t in range(T):

        h_next, c_next, y_pred, cache = lstm_cell_forward(x[:, :, t], h_next, c_next, parameters)

        h[:, :, t] = h_next
        c[:, :, t] = c_next
        y[:, :, t] = y_pred

        caches.append(cache)

    return h, c, y, caches


def lstm_cell_backward(dh_next, dc_next, cache):
    """Back through one step, given dL/dh_next and dL/dc_next (from later steps): gradients of
    x_t, h_prev, c_prev, U, W, ba."""
    (h_next, c_next, h_prev, c_prev, i, f, g, o, x_t, parameters) = cache

    U = parameters["U"]
    W = parameters["W"]

    tanh_c = np.tanh(c_next)

    do = dh_next * tanh_c                                   # h = o * tanh(c)
    dc = dc_next + dh_next * o * (1 - tanh_c ** 2)          # c reaches L through h and c_{t+1}

    di = dc * g                                             # c = f * c_prev + i * g
    df = dc * c_prev
    dg = dc * i
    dc_prev = dc * f                                        # the cell-state path

    dai = di * i * (1 - i)                                  # sigmoid' = s (1 - s)
    daf = df * f * (1 - f)
    dag = dg * (1 - g ** 2)                                 # tanh' = 1 - tanh^2
    dao = do * o * (1 - o)

    da = np.concatenate([dai, daf, dag, dao], axis=0)       # (4 n_s, m): blocks i, f, g, o

    dx_t = np.dot(U.T, da)
    dU = np.dot(da, x_t.T)

    dh_prev = np.dot(W.T, da)
    dW = np.dot(da, h_prev.T)

    dba = np.sum(da, axis=1, keepdims=True)

    gradients = {"dx_t": dx_t, "dh_prev": dh_prev, "dc_prev": dc_prev, "dU": dU, "dW": dW,
                 "dba": dba}

    return gradients


def lstm_backward(dh, caches):
    """BPTT given dh (n_s, m, T), the upstream dL/dh_t of every step: returns dU, dW, dba, dx, dh0, dc0."""
    (h1, c1, h0, c0, i1, f1, g1, o1, x_1, parameters) = caches[0]

    n_s, m, T = dh.shape

    n_x, _ = x_1.shape

    dx = np.zeros((n_x, m, T))
    dU = np.zeros((4 * n_s, n_x))
    dW = np.zeros((4 * n_s, n_s))
    dba = np.zeros((4 * n_s, 1))
    dh_prevt = np.zeros((n_s, m))
    dc_prevt = np.zeros((n_s, m))

    for t in reversed(range(T)):

        gradients = lstm_cell_backward(dh[:, :, t] + dh_prevt, dc_prevt, caches[t])

        dh_prevt = gradients["dh_prev"]
        dc_prevt = gradients["dc_prev"]

        dU += gradients["dU"]

        dW += gradients["dW"]

        dba += gradients["dba"]

        dx[:, :, t] = gradients["dx_t"]

    gradients = {"dU": dU, "dW": dW, "dba": dba, "dx": dx, "dh0": dh_prevt, "dc0": dc_prevt}

    return gradients


def gru_cell_forward(x_t, s_prev, parameters):
    """One GRU step: returns s_next, y_pred = softmax(V s_next + by) and the cache (s is PyTorch's h).

    U (3n_s, n_x), W (3n_s, n_s), the input-side bias ba and the recurrent-side bias bs (3n_s, 1)
    hold the blocks in PyTorch's order r, z, n:
    r = sigmoid(U_r x_t + ba_r + W_r s_prev + bs_r), z alike,
    n = tanh(U_n x_t + ba_n + r * (W_n s_prev + bs_n)), s_next = (1 - z) * n + z * s_prev.
    """
    U = parameters["U"]
    W = parameters["W"]
    ba = parameters["ba"]
    bs = parameters["bs"]
    V = parameters["V"]
    by = parameters["by"]
    n_s = s_prev.shape[0]

    ax = np.dot(U, x_t) + ba                            # (3 n_s, m): the input side of r, z, n
    a_s = np.dot(W, s_prev) + bs                        # (3 n_s, m): the recurrent side

    r = sigmoid(ax[0 * n_s:1 * n_s] + a_s[0 * n_s:1 * n_s])    # reset gate
    z = sigmoid(ax[1 * n_s:2 * n_s] + a_s[1 * n_s:2 * n_s])    # update gate
    hn = a_s[2 * n_s:3 * n_s]                                   # W_n s_prev + bs_n
    n = np.tanh(ax[2 * n_s:3 * n_s] + r * hn)                   # candidate state

    s_next = (1 - z) * n + z * s_prev

    y_pred = softmax(np.dot(V, s_next) + by)

    cache = (s_next, s_prev, r, z, n, hn, x_t, parameters)

    return s_next, y_pred, cache


def gru_forward(x, s0, parameters):
    """All steps of x (n_x, m, T) from s0 (n_s, m): returns s (n_s, m, T), y (n_y, m, T), caches."""
    caches = []

    n_x, m, T = x.shape

    n_y, n_s = parameters["V"].shape

    s_next = s0

    s = np.zeros((n_s, m, T))
    y = np.zeros((n_y, m, T))

    for t in range(T):

        s_next, y_pred, cache = gru_cell_forward(x[:, :, t], s_next, parameters)

        s[:, :, t] = s_next
        y[:, :, t] = y_pred

        caches.append(cache)

    return s, y, caches


def gru_cell_backward(ds_next, cache):
    """Back through one step, given dL/ds_next: gradients of x_t, s_prev, U, W, ba, bs."""
    (s_next, s_prev, r, z, n, hn, x_t, parameters) = cache

    U = parameters["U"]
    W = parameters["W"]

    dn = ds_next * (1 - z)                                  # s = (1 - z) * n + z * s_prev
    dz = ds_next * (s_prev - n)

    dan = dn * (1 - n ** 2)                                 # tanh' = 1 - tanh^2
    dr = dan * hn                                           # n = tanh(... + r * hn)

    dar = dr * r * (1 - r)                                  # sigmoid' = s (1 - s)
    daz = dz * z * (1 - z)

    dax = np.concatenate([dar, daz, dan], axis=0)           # gradient of the input side U x_t + ba
    da_s = np.concatenate([dar, daz, dan * r], axis=0)      # ... of the recurrent side W s_prev + bs

    dx_t = np.dot(U.T, dax)
    dU = np.dot(dax, x_t.T)
    dba = np.sum(dax, axis=1, keepdims=True)

    ds_prev = ds_next * z + np.dot(W.T, da_s)               # the direct path z * s_prev, and W
    dW = np.dot(da_s, s_prev.T)
    dbs = np.sum(da_s, axis=1, keepdims=True)

    gradients = {"dx_t": dx_t, "ds_prev": ds_prev, "dU": dU, "dW": dW, "dba": dba, "dbs": dbs}

    return gradients


def gru_backward(ds, caches):
    """BPTT given ds (n_s, m, T), the upstream dL/ds_t of every step: returns dU, dW, dba, dbs, dx, ds0."""
    (s1, s0, r1, z1, n1, hn1, x_1, parameters) = caches[0]

    n_s, m, T = ds.shape

    n_x, _ = x_1.shape

    dx = np.zeros((n_x, m, T))
    dU = np.zeros((3 * n_s, n_x))
    dW = np.zeros((3 * n_s, n_s))
    dba = np.zeros((3 * n_s, 1))
    dbs = np.zeros((3 * n_s, 1))
    ds_prevt = np.zeros((n_s, m))

    for t in reversed(range(T)):

        gradients = gru_cell_backward(ds[:, :, t] + ds_prevt, caches[t])

        ds_prevt = gradients["ds_prev"]

        dU += gradients["dU"]

        dW += gradients["dW"]

        dba += gradients["dba"]

        dbs += gradients["dbs"]

        dx[:, :, t] = gradients["dx_t"]

    gradients = {"dU": dU, "dW": dW, "dba": dba, "dbs": dbs, "dx": dx, "ds0": ds_prevt}

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
