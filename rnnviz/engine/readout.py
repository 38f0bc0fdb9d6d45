"""The readout every cell shares: z_t = V h_t + by, the output y_t and the loss.

Losses (L sums over scored steps and takes the batch mean, dividing by m, scored or not):
  "cross_entropy"  y_t = softmax(z_t); targets int (m, T), class indices in [0, n_y), -1 where
                   that step of that example is not scored; loss_t[b, t] = -log y_t[target, b].
  "mse"            y_t = z_t (identity output); targets float (n_y, m, T), NaN where not scored;
                   loss_t[b, t] = sum_k (z_t[k, b] - target[k, b, t])^2 over the scored k.
L = (1/m) sum_b sum_t loss_t[b, t]; loss_t is 0 where nothing is scored.
Arrays are columns (n_y, T*m), column t*m + b holding step t of example b (engine/_layout.py).
"""

from __future__ import annotations

import numpy as np

from ._checks import check_choice, check_shape, fail

LOSSES = ("cross_entropy", "mse")
OUTPUTS = {"cross_entropy": "softmax", "mse": "identity"}
NAMES = ("V", "by")


def param_shapes(n_y: int, n_s: int) -> dict[str, tuple[int, int]]:
    """The readout's arrays: V (n_y, n_s), by (n_y, 1)."""
    return {"V": (n_y, n_s), "by": (n_y, 1)}
UNSCORED = -1            # a cross-entropy target that is not scored


def check_loss(loss: object) -> str:
    """The loss name, or ValueError naming the known ones."""
    return check_choice("loss", loss, LOSSES)


def check_targets(loss: str, value: object, m: int, T: int, n_y: int) -> np.ndarray:
    """The targets for this loss, validated: int64 (m, T) for cross-entropy, float (n_y, m, T) for mse."""
    targets = np.asarray(value)
    if loss == "mse":
        if targets.dtype.kind not in "f":
            raise fail("targets", "a float array of target outputs (n_y, m, T), NaN where not "
                       "scored", f"dtype {targets.dtype.name}")
        check_shape("targets", targets, [("n_y", n_y), ("m", m), ("T", T)])
        with np.errstate(invalid="ignore"):
            if np.isinf(targets).any():
                raise fail("targets", "finite target outputs (or NaN: not scored)", "inf")
        return targets
    if targets.dtype.kind not in "iu":
        raise fail("targets", f"an integer array of class indices in [0, {n_y}) (-1: not scored)",
                   f"dtype {targets.dtype.name}")
    check_shape("targets", targets, [("m", m), ("T", T)])
    if targets.size and (targets.min() < UNSCORED or targets.max() >= n_y):
        raise fail("targets", f"class indices in [0, n_y={n_y}) or -1 (not scored)",
                   f"values in [{targets.min()}, {targets.max()}]")
    return targets.astype(np.int64, copy=False)


def softmax_columns(Z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Softmax over axis 0 (one distribution per column), safe for huge logits (nan only where a
    column holds nan or +inf)."""
    Y = np.subtract(Z, Z.max(axis=0), out=out)
    np.exp(Y, out=Y)
    Y /= Y.sum(axis=0)
    return Y


def outputs(V: np.ndarray, by: np.ndarray, H: np.ndarray, loss: str, Z: np.ndarray,
            Y: np.ndarray | None) -> np.ndarray:
    """Z = V h_t + by for the rows h_t of H (T*m, n_s) into Z (n_y, T*m), and y into Y (softmax);
    returns y (Y, or Z itself for the identity output). Call inside np.errstate."""
    np.matmul(V, H.T, out=Z)                             # V h_t for all steps at once
    Z += by
    if OUTPUTS[loss] == "identity":
        return Z
    return softmax_columns(Z, out=Y)


def _neg_log_prob(Z: np.ndarray, Y: np.ndarray, pick) -> np.ndarray:
    """-log y[target] for the picked entries of Y (n_y, k): from y where it is a normal number (y
    has relative error of a few ulp, so -log y is exact to a few 1e-16 absolute), else by
    log-sum-exp of the logits Z."""
    y = Y[pick]
    loss = -np.log(y)
    redo = ~(y >= np.finfo(Y.dtype).tiny)                  # underflowed, subnormal or nan
    if np.any(redo):
        Zr = Z[:, pick[1][redo]]                            # (n_y, k) columns of the rare cases
        zmax = Zr.max(axis=0)
        lse = zmax + np.log(np.exp(Zr - zmax).sum(axis=0))
        loss[redo] = lse - Z[pick][redo]
    return loss


def loss_and_gradient(Z: np.ndarray, Y: np.ndarray, targets: np.ndarray, loss: str, m: int,
                      dZ: np.ndarray) -> np.ndarray:
    """Per-step losses (T, m) and dL/dz into dZ (n_y, T*m) (zero where not scored). Call inside
    np.errstate."""
    n_y, cols = Z.shape
    if loss == "mse":
        target = np.asarray(targets, dtype=Z.dtype).transpose(0, 2, 1).reshape(n_y, cols)
        np.subtract(Z, target, out=dZ)                     # z - target, nan where not scored
        dZ[np.isnan(target)] = 0
        loss_c = np.einsum("ij,ij->j", dZ, dZ)
        dZ *= 2.0 / m
        return loss_c.reshape(-1, m)
    classes = targets.T.ravel()                            # [target[b, t]] at column t*m + b
    np.copyto(dZ, Y)                                       # dL/dz_t = (y_t - onehot) / m
    if classes.min() != UNSCORED:                          # every step scored
        pick = (classes, np.arange(cols))
        loss_c = _neg_log_prob(Z, Y, pick)
        dZ[pick] -= 1
    else:
        scored = classes != UNSCORED
        kept = np.flatnonzero(scored)
        pick = (classes[kept], kept)
        loss_c = np.zeros(cols, dtype=Z.dtype)
        loss_c[kept] = _neg_log_prob(Z, Y, pick)
        dZ[pick] -= 1
        dZ[:, ~scored] = 0
    dZ /= m
    return loss_c.reshape(-1, m)


def output_gradient_rows(z: np.ndarray, y: np.ndarray, targets_t: np.ndarray, loss: str) -> np.ndarray:
    """d loss_t / d z_t for k examples of one step: rows z, y (k, n_y) and their targets (cross-
    entropy: (k,) ints; mse: (k, n_y) floats); y - onehot or 2 (z - target), 0 where not scored.
    Not divided by m. Call inside np.errstate."""
    if loss == "mse":
        target = np.asarray(targets_t, dtype=z.dtype)
        dz = 2.0 * (z - target)
        dz[np.isnan(target)] = 0
        return dz
    dz = np.array(y, dtype=y.dtype)
    k = np.arange(dz.shape[0])
    scored = targets_t != UNSCORED
    dz[k[scored], targets_t[scored]] -= 1
    dz[~scored] = 0
    return dz


def step_targets(targets: np.ndarray, loss: str, t: int) -> np.ndarray:
    """The targets of step t for every example: (m,) classes or (m, n_y) outputs."""
    return targets[:, :, t].T if loss == "mse" else targets[:, t]
