"""The engine's array layouts and its recycled buffers, shared by the network, the readout and the cells.

Row layout (T, m, n): step t is one contiguous (m, n) block, all steps together one (T*m, n)
matrix; the seed layout (n, m, T) handed out is a transposed view of it. The readout keeps z
and y as columns (n, T*m), column t*m + b holding step t of example b.
"""

from __future__ import annotations

import math
import sys
import threading

import numpy as np


def rows(a: np.ndarray) -> np.ndarray:
    """Seed layout (n, m, T) -> the engine's row layout (T, m, n), a view."""
    return a.transpose(2, 1, 0)


def seed_layout(r: np.ndarray) -> np.ndarray:
    """Row layout (T, m, n) -> seed layout (n, m, T), a view."""
    return r.transpose(2, 1, 0)


def flat(r: np.ndarray) -> np.ndarray:
    """(T, m, n) -> (T*m, n): every step's rows stacked (a view when r is contiguous)."""
    return r.reshape(-1, r.shape[-1])


def columns(v: np.ndarray) -> np.ndarray:
    """Seed layout (n, m, T) -> (n, T*m), column t*m + b holding step t of example b (a view when
    v came from seed_columns, else a copy)."""
    return v.transpose(0, 2, 1).reshape(v.shape[0], -1)


def seed_columns(c: np.ndarray, m: int) -> np.ndarray:
    """(n, T*m) with column t*m + b for step t of example b -> seed layout (n, m, T), a view."""
    return c.reshape(c.shape[0], -1, m).transpose(0, 2, 1)


def nonfinite_steps(*row_arrays: np.ndarray, screen: np.ndarray | None = None) -> np.ndarray:
    """Indices t where any of the (T, m, n) arrays has a non-finite entry (call inside np.errstate).

    The screen, the sum of all the arrays' step-t sums (computed here unless given), is finite
    unless step t holds an inf or a nan or a sum of finite numbers overflowed: only steps with a
    non-finite screen are rechecked.
    """
    if screen is None:
        screen = row_arrays[0].sum(axis=(1, 2))         # cheap: no full-size temporary
        for r in row_arrays[1:]:
            screen += r.sum(axis=(1, 2))                 # inf + -inf is nan: still caught
    suspect = np.flatnonzero(~np.isfinite(screen))
    if not suspect.size:
        return suspect
    return np.array([t for t in suspect if not all(np.isfinite(r[t]).all() for r in row_arrays)],
                    dtype=np.intp)


class Recycler:
    """Float buffers for results and scratch, reusing a buffer once every view of it is gone.

    Fresh memory costs a page fault per page on first touch; measured on the 2-core VM this runs
    on, that is as much time as all the arithmetic of a (16, 128, 16, 16, 100) call (14.5 ms per
    call with fresh arrays, 7.3 ms with recycled ones), and ~5-10 % at the largest sizes; glibc
    hands big freed blocks back to the kernel, so every call faults again. Arrays handed out are
    views of one base buffer per request; a base is free again when no view of it is alive
    (numpy views keep their base referenced, so its reference count returns to the pool's own).
    At most KEEP bases per thread are kept, each at most MAX_BYTES and KEEP_BYTES in all: a
    forward and backward pass take about six (the network's and the cell's results and scratch),
    and the caller usually holds the previous pass's results while the next one runs. Anything
    else is allocated fresh.
    """

    KEEP = 12
    MIN_BYTES = 1 << 17
    MAX_BYTES = 1 << 28
    KEEP_BYTES = 1 << 30

    def __init__(self):
        self._local = threading.local()
        probe = [np.empty(1)]
        self._free_count = sys.getrefcount(probe[0])     # the list's reference + the argument's

    def _is_free(self, pool: list, i: int) -> bool:
        return sys.getrefcount(pool[i]) == self._free_count

    def take(self, dtype, *shapes: tuple[int, ...]) -> list[np.ndarray]:
        """Uninitialised C-contiguous arrays of the given shapes, views of one base buffer."""
        dtype = np.dtype(dtype)
        sizes = [math.prod(shape) for shape in shapes]
        total = sum(sizes)
        nbytes = total * dtype.itemsize
        if nbytes < self.MIN_BYTES:                           # malloc reuses small blocks itself
            return [np.empty(shape, dtype=dtype) for shape in shapes]
        pool = self._local.__dict__.setdefault("pool", [])
        base = None
        if nbytes <= self.MAX_BYTES:
            for i in range(len(pool)):
                if pool[i].dtype == dtype and total <= pool[i].size <= 2 * total + 4096 \
                        and self._is_free(pool, i):
                    base = pool[i]
                    break
        if base is None:
            base = np.empty(total, dtype=dtype)
            if nbytes <= self.MAX_BYTES:
                self._keep(pool, base)
        out, start = [], 0
        for shape, size in zip(shapes, sizes):
            out.append(base[start:start + size].reshape(shape))
            start += size
        return out

    def _keep(self, pool: list, base: np.ndarray) -> None:
        """Add base to the pool, dropping free bases (oldest first) to stay within KEEP and
        KEEP_BYTES; base is not kept when that is not enough."""
        free = [i for i in range(len(pool)) if self._is_free(pool, i)]
        kept_bytes = sum(b.nbytes for b in pool) + base.nbytes
        drop = []
        while free and (len(pool) - len(drop) >= self.KEEP or kept_bytes > self.KEEP_BYTES):
            i = free.pop(0)
            drop.append(i)
            kept_bytes -= pool[i].nbytes
        if len(pool) - len(drop) < self.KEEP and kept_bytes <= self.KEEP_BYTES:
            for i in reversed(drop):
                del pool[i]
            pool.append(base)


buffers = Recycler()
