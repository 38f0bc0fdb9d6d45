"""The training timeline keeps a bounded, evenly thinned set of snapshots."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnviz.state.timeline import MAX_SNAPSHOTS, Snapshot, Timeline, capacity_for


def run(n, capacity):
    line = Timeline(capacity)
    for k in range(n):
        if line.wants(k) or k == n - 1:
            line.add(Snapshot(k, params=k))
    return line


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 3000), capacity=st.integers(2, 40))
def test_a_run_of_any_length_stays_within_capacity_and_keeps_first_and_newest(n, capacity):
    line = run(n, capacity)
    its = line.iterations
    assert len(line) <= capacity
    assert its[0] == 0 and its[-1] == n - 1 and its == sorted(set(its))
    # evenly spread: between the first and the newest, every multiple of the stride, no other
    assert its[1:-1] == list(range(line.stride, n - 1, line.stride))


def test_picking_an_iteration_gives_the_snapshot_at_or_before_it():
    line = run(1000, 20)
    for k in (0, 1, 123, 999, 5000):
        snap = line.at(k)
        assert snap.iteration <= k and all(not (snap.iteration < i <= k) for i in line.iterations)


def test_a_branch_keeps_the_past_up_to_its_start():
    line = run(100, 50)
    branch = line.truncated(40)
    assert branch.iterations == [i for i in line.iterations if i <= 40]
    branch.add(Snapshot(41, params="branched"))
    assert line.at(41).params != "branched" and branch.at(41).params == "branched"


def test_capacity_follows_the_memory_budget():
    assert capacity_for(1, max_bytes=10) == 10
    assert capacity_for(10**9) == 2
    assert capacity_for(8) == MAX_SNAPSHOTS
    with pytest.raises(ValueError):
        Timeline(1)
    with pytest.raises(ValueError):
        t = Timeline(4)
        t.add(Snapshot(3, None))
        t.add(Snapshot(3, None))
