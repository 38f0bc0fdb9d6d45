"""Large heatmaps show the worker's ready images (8-bit, reduced) and still read out the
engine's exact numbers on hover."""
import dataclasses

import numpy as np
import pytest
from PySide6 import QtCore

from rnnviz.state.compute import ALL_STAGES, compute
from rnnviz.state.session import Session
from rnnviz.ui.app import make_app
from rnnviz.ui.views.heatmap_image import ready_lut
from rnnviz.ui.views.heatmaps import GradientHeatmap, StateHeatmap
from tests.ui import conftest


@pytest.fixture(scope="module")
def large():
    """A session of 1027 units x 300 steps (more units than a ready image has rows), no flow."""
    make_app([])
    s = Session()
    s.apply(n_s=1027, T=300, m=1, n_x=4, n_y=4)
    s.accept(compute(dataclasses.replace(s.request(), stages=ALL_STAGES - {"flow"})))
    return s


def hover(view, i, t):
    """Move the mouse (as the scene reports it) over unit i, step t (0-based)."""
    scene_pos = view.plot_item.vb.mapViewToScene(QtCore.QPointF(t + 1, i + 1))
    view.graphics.scene().sigMouseMoved.emit(scene_pos)


@pytest.mark.parametrize("cls", [StateHeatmap, GradientHeatmap])
def test_a_large_heatmap_shows_the_ready_image_and_reads_out_exact_values(qtbot, large, cls):
    s = large
    view = conftest.shown(qtbot, cls(s), (600, 300))
    heatmap = view.heatmap(s.result)
    ready = heatmap.ready
    assert ready is not None and ready.base == (2, 1)
    image = view.image.image
    assert image.dtype == np.uint8
    level = view.shown_image.level
    prepared = ready.pyramid[level[0]][level[1]]
    assert np.shares_memory(image, prepared) and image.shape == prepared.shape   # as it is
    assert level == ready.pick(*view.shown_image._cells_per_pixel()) and level[0] >= 1
    assert view.image.autoDownsample is False and view.image.getLevels() is None
    np.testing.assert_array_equal(view.image.lut, ready_lut(view.style_.colormap(heatmap.colour)))
    rect = view.image.mapRectToParent(view.image.boundingRect())     # the pixels' extent
    units, steps = ready.extent(*level)
    assert (rect.left(), rect.top(), rect.width(), rect.height()) == (0.5, 0.5, steps, units)
    engine = s.result.trace.s if cls is StateHeatmap else s.result.ds_last
    for i, t in ((0, 0), (1025, 17), (1026, 299), (513, 150)):     # 1026: a block of its own
        hover(view, i, t)
        assert view.hovered == (i, t)
        assert view.readout.text() == view.describe(i, t, float(engine[i, s.b, t]))
        assert view.values[i, t] == engine[i, s.b, t]             # float64, bit for bit


def test_a_larger_plot_gets_a_finer_level_without_recomputing(qtbot, large):
    view = conftest.shown(qtbot, StateHeatmap(large), (600, 300))
    coarse, draws = view.shown_image.level, view.draw_count
    view.resize(900, 1200)
    qtbot.waitUntil(lambda: view.shown_image.level[0] < coarse[0])
    i, j = view.shown_image.level
    prepared = view.heatmap(large.result).ready.pyramid[i][j]
    assert np.shares_memory(view.image.image, prepared) and view.image.image.shape == prepared.shape
    assert view.draw_count == draws                           # only the level changed
