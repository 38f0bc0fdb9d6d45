"""Issue 10 item 6: compute() polls should_stop before and after every stage it runs (the
engine's own calls cannot be cut short; docs/status.md lists how long each takes at most)."""
import pytest

from rnnviz.engine.analysis import Interrupted
from rnnviz.state.compute import STAGE_NAMES, compute
from rnnviz.state.session import Session

ORDER = ("draw", "forward", "backward", "spectrum", "images", "flow")


def large_request():
    """A request whose parameters are still to be drawn (n_s > 96), every stage asked for."""
    session = Session()
    assert session.apply(n_s=120, T=30) == []
    request = session.request()
    assert request.plan is not None
    return request


def test_every_stage_is_announced_in_order():
    seen = []
    compute(large_request(), stage=seen.append)
    assert tuple(seen) == ORDER and set(seen) == set(STAGE_NAMES)


@pytest.mark.parametrize("last", ORDER[:-1])
def test_a_stop_during_a_stage_ends_the_computation_before_the_next(last):
    """Stop is asked for while stage `last` runs: no later stage starts."""
    seen = []
    result = pytest.raises(Interrupted, compute, large_request(),
                           should_stop=lambda: bool(seen) and seen[-1] == last,
                           stage=seen.append)
    assert seen[-1] == last, (seen, result)


def test_a_request_superseded_before_it_starts_draws_nothing():
    seen = []
    with pytest.raises(Interrupted):
        compute(large_request(), should_stop=lambda: True, stage=seen.append)
    assert seen == []


def test_the_heatmap_images_poll_between_their_parts():
    """Five passes over the whole batch: states, the two gradients' levels and images."""
    polls, seen = [], []

    def should_stop():
        if seen and seen[-1] == "images":
            polls.append(len(polls))
        return False
    compute(large_request(), should_stop=should_stop, stage=seen.append)
    assert len(polls) >= 6          # before each of the 5 parts, and after the stage
