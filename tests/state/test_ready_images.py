"""The worker's ready heatmap images (state/ready_images.py) against loops over the engine's
arrays: block means or maxima, then the colour index floor((v − lo) · 255 / (hi − lo))."""
import dataclasses
import math

import numpy as np
import pytest

from rnnviz.state import display, ready_images
from rnnviz.state.compute import ALL_STAGES, compute
from rnnviz.state.ready_images import COLOURS, NONFINITE, READY_MIN_CELLS, ReadyImage
from rnnviz.state.session import Session


def index_of(v: float, levels) -> int:
    """The documented colour index of one value, by scalar arithmetic."""
    if not math.isfinite(v):
        return NONFINITE
    lo, hi = levels
    return min(COLOURS - 1, max(0, math.floor((v - lo) * COLOURS / (hi - lo))))


def expected_block(image: np.ndarray, block, r: int, c: int, reduction: str, levels) -> int:
    """The colour index of pixel (r, c) of a level, by a loop: its block's mean or max (NaN,
    and so NONFINITE, if any cell is NaN)."""
    units, steps = image.shape
    bu, bt = block
    cells = [float(image[i, t]) for i in range(r * bu, min(units, (r + 1) * bu))
             for t in range(c * bt, min(steps, (c + 1) * bt))]
    if any(math.isnan(v) for v in cells):
        value = math.nan
    elif reduction == "max":
        value = max(cells)
    else:
        value = math.fsum(cells) / len(cells)
    return index_of(value, levels)


def check_level(indices: np.ndarray, image: np.ndarray, block, reduction: str, levels) -> None:
    """A level against the loop: its shape, every pixel of its last row and column (the
    partial blocks) and 1500 pixels drawn at random."""
    units, steps = image.shape
    rows, columns = -(-units // block[0]), -(-steps // block[1])
    assert indices.shape == (rows, columns) and indices.dtype == np.uint8
    rng = np.random.default_rng(0)
    pixels = ([(rows - 1, c) for c in range(columns)] + [(r, columns - 1) for r in range(rows)]
              + list(zip(rng.integers(0, rows, 1500), rng.integers(0, columns, 1500))))
    got = [int(indices[r, c]) for r, c in pixels]
    want = [expected_block(image, block, r, c, reduction, levels) for r, c in pixels]
    assert got == want


def computed(**config):
    s = Session()
    s.apply(**config)
    request = dataclasses.replace(s.request(), stages=ALL_STAGES - {"flow"})   # no Jacobians
    return compute(request)


@pytest.mark.parametrize("config, base", [
    (dict(n_s=520, T=510, m=1, n_x=4, n_y=4), (1, 1)),           # fits: no reduction
    (dict(n_s=1027, T=256, m=1, n_x=4, n_y=4), (2, 1)),          # rows > 1024: pairs of units
    (dict(n_s=128, T=2049, m=1, n_x=4, n_y=4), (1, 2)),          # steps > 2048: pairs of steps
])
def test_ready_images_are_the_documented_reduction_of_the_engine_arrays(config, base):
    r = computed(**config)
    n, T = config["n_s"], config["T"]
    assert n * T >= READY_MIN_CELLS
    states = display.state_heatmap(r, 0)
    grads = display.gradient_heatmap(r, 0, "last")
    for heatmap, reduction in ((states, "mean"), (grads, "max")):
        ready = heatmap.ready
        assert isinstance(ready, ReadyImage) and ready.base == base
        assert ready.reduction == reduction
        # the image reduced is the engine's array (as drawn: s_t itself, log10|dL_T/ds_t|)
        np.testing.assert_array_equal(states.image, r.trace.s[:, 0, :])
        np.testing.assert_array_equal(grads.values, r.ds_last[:, 0, :])
        np.testing.assert_array_equal(grads.image, display.log_magnitude(
            r.ds_last[:, 0, :], display.batch_gradient_levels(r, "last"))[0])
        check_level(ready.indices, heatmap.image, base, reduction, heatmap.levels)
        check_level(ready.pyramid[1][1], heatmap.image, ready.block(1, 1), reduction,
                    heatmap.levels)
        rows, columns = ready.extent()
        assert 0 <= rows - n < base[0] and 0 <= columns - T < base[1]
        assert len(ready.pyramid[-1]) and min(ready.pyramid[-1][-1].shape) <= ready_images.MIN_PIXELS


def test_small_heatmaps_are_not_prepared():
    r = computed(n_s=32, T=40)
    assert display.state_heatmap(r, 0).ready is None
    assert display.gradient_heatmap(r, 0).ready is None


def test_non_finite_cells_mark_their_whole_block_and_colours_clip_at_the_levels():
    image = np.zeros((1100, 300))
    image[5, 7] = np.nan                            # block (2, 7) of base (2, 1)
    image[0, 0], image[1, 0] = 10.0, -10.0          # beyond the levels: mean 0 -> the middle
    image[2, 1] = 10.0                              # max of its block: above the top
    levels = (-1.0, 1.0)
    mean = ready_images.ready_image(image, levels, "mean")
    top = ready_images.ready_image(image, levels, "max")
    assert mean.indices[2, 7] == NONFINITE and top.indices[2, 7] == NONFINITE
    assert mean.indices[0, 0] == index_of(0.0, levels) == 127
    assert top.indices[1, 1] == COLOURS - 1 and top.indices[0, 2] == index_of(0.0, levels)
    with pytest.raises(ValueError, match="reduction"):
        ready_images.ready_image(image, levels, "median")


def test_pick_takes_the_coarsest_level_not_coarser_than_a_screen_pixel():
    ready = ready_images.ready_image(np.zeros((1024, 1000)), (0.0, 1.0), "mean")
    assert ready.pick(1.0, 1.0) == (0, 0)
    assert ready.pick(0.3, 0.3) == (0, 0)           # zoomed in: the finest
    assert ready.pick(8.5, 2.0) == (3, 1)           # 1024 units in ~120 px: blocks of 8
    assert ready.pick(1e9, 1e9) == (len(ready.pyramid) - 1, len(ready.pyramid[0]) - 1)
    assert ready.pyramid[3][1].shape == (128, 500)
