"""A training timeline: snapshots of the parameters during a run, thinned so memory stays bounded.

Picking iteration k shows every view for the weights of the snapshot nearest k at or before
it. Snapshots are kept every `stride` iterations; when more than `capacity` are held, the
stride doubles and every snapshot off the new grid is dropped (the first and the newest are
always kept). So a run of any length holds at most capacity + 2 snapshots, spread evenly
over it: the budget in bytes (MAX_BYTES) divided by one snapshot's size gives the capacity.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

MAX_BYTES = 256 * 2**20      # all snapshots of one run together (the limit users are told)
MAX_SNAPSHOTS = 500          # and at most this many, however small the network


@dataclass(frozen=True)
class Snapshot:
    """The parameters (and optimiser state) after `iteration` training steps (0: the start)."""

    iteration: int
    params: object               # engine Parameters (a private copy)
    optimizer_state: dict = field(default_factory=dict, repr=False)


def capacity_for(snapshot_bytes: int, max_bytes: int = MAX_BYTES) -> int:
    """How many snapshots of this size fit the budget (at least 2, at most MAX_SNAPSHOTS)."""
    return max(2, min(MAX_SNAPSHOTS, max_bytes // max(1, snapshot_bytes)))


class Timeline:
    """Snapshots of one run, kept on a grid of iterations that coarsens as the run grows."""

    def __init__(self, capacity: int):
        if capacity < 2:
            raise ValueError(f"capacity must be at least 2, not {capacity}")
        self.capacity = capacity
        self.stride = 1
        self._snapshots: list[Snapshot] = []

    def __len__(self) -> int:
        return len(self._snapshots)

    @property
    def iterations(self) -> list[int]:
        """The iterations held, in order."""
        return [s.iteration for s in self._snapshots]

    def wants(self, iteration: int) -> bool:
        """Whether a snapshot of this iteration would be kept (saves copying one that is not)."""
        return iteration % self.stride == 0 or not self._snapshots

    def add(self, snapshot: Snapshot) -> None:
        """Keep a snapshot (iterations must grow); the newest is kept until a newer one comes."""
        if self._snapshots and snapshot.iteration <= self._snapshots[-1].iteration:
            raise ValueError(f"snapshot of iteration {snapshot.iteration} is not newer than "
                             f"{self._snapshots[-1].iteration}")
        last = self._snapshots[-1] if len(self._snapshots) > 1 else None
        if last is not None and last.iteration % self.stride != 0:
            self._snapshots.pop()                  # the previous newest was off the grid
        self._snapshots.append(snapshot)
        while len(self._snapshots) > self.capacity:
            self.stride *= 2
            first, newest = self._snapshots[0], self._snapshots[-1]
            kept = [s for s in self._snapshots[1:-1] if s.iteration % self.stride == 0]
            self._snapshots = [first, *kept, newest]

    def at(self, iteration: int) -> Snapshot:
        """The snapshot nearest `iteration` at or before it (the first one for earlier k)."""
        if not self._snapshots:
            raise LookupError("the timeline holds no snapshot yet")
        i = bisect.bisect_right(self.iterations, iteration) - 1
        return self._snapshots[max(i, 0)]

    def latest(self) -> Snapshot:
        if not self._snapshots:
            raise LookupError("the timeline holds no snapshot yet")
        return self._snapshots[-1]

    def truncated(self, iteration: int) -> Timeline:
        """A new timeline holding the snapshots up to `iteration` (a branch starts there)."""
        out = Timeline(self.capacity)
        out.stride = self.stride
        out._snapshots = [s for s in self._snapshots if s.iteration <= iteration]
        return out

    def snapshots(self) -> list[Snapshot]:
        return list(self._snapshots)
