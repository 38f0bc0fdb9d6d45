"""What keeps live heatmaps steady while training moves the numbers a little (Qt-free)."""
import numpy as np

from rnnviz.state import display
from rnnviz.state.session import Session


def test_gradient_levels_are_the_percentiles_rounded_out_to_a_quarter_decade():
    rng = np.random.default_rng(3)
    logs = rng.uniform(-6.3, -1.1, size=(20, 30))
    lo, hi = display.gradient_levels(logs)
    p_lo, p_hi = np.percentile(logs, display.GRADIENT_PERCENTILES)
    assert lo <= p_lo < lo + display.LEVEL_STEP and hi - display.LEVEL_STEP < p_hi <= hi
    assert (lo / display.LEVEL_STEP).is_integer() and (hi / display.LEVEL_STEP).is_integer()
    nudged = display.gradient_levels(logs + 1e-3)           # a small move keeps the scale
    assert nudged == (lo, hi)
    assert display.gradient_levels(logs + 0.5) == (lo + 0.5, hi + 0.5)


def test_equal_inputs_give_the_same_heatmap_object_and_new_inputs_a_new_one():
    s = Session()
    s.load_preset("train_copy")
    first = s.compute_now()
    before = display.input_heatmap(first, 0)
    stream = s.start_training(2)
    while stream.step():
        pass
    s.follow_training()
    second = s.compute_now()
    assert second is not first and second.trace.x is not first.trace.x   # a new computation
    assert display.input_heatmap(second, 0) is before                     # of the same inputs
    other = display.input_heatmap(second, 1)                              # another sequence
    assert other is not before
    np.testing.assert_array_equal(other.values, second.trace.x[:, 1, :])
