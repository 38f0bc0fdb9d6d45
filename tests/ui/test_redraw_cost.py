"""What a result costs the UI thread: partial results redraw only the flow, heatmap images come
precomputed from the worker, axes keep their ticks and draw few grid lines. (No timings.)"""
import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtGui

from rnnviz.state import compute as compute_mod
from rnnviz.state import display
from rnnviz.state.compute import compute
from rnnviz.state.session import Session
from rnnviz.ui.app import make_app
from rnnviz.ui.style import NORMAL
from rnnviz.ui.views.connectivity import ConnectivityView
from rnnviz.ui.views.flow import FlowView
from rnnviz.ui.views.heatmaps import GradientHeatmap, StateHeatmap
from rnnviz.ui.views.softmax import SoftmaxView
from rnnviz.ui.views.spectrum import SpectrumView
from rnnviz.ui.widgets.axes import MAX_GRID_LINES, grid_levels
from tests.ui import conftest


def shown(qtbot, view, size=(600, 300)):
    return conftest.shown(qtbot, view, size)


def count_calls(monkeypatch, obj, name):
    calls = []
    real = getattr(obj, name)
    monkeypatch.setattr(obj, name, lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


@pytest.fixture
def staged(monkeypatch):
    """A session and the partial results and final result of one request (small, fast)."""
    make_app([])
    monkeypatch.setattr(compute_mod, "PARTIAL_MIN_WORK", 0)
    s = Session()
    s.apply(n_s=24, T=30, spectral_radius=1.1)
    partials = []
    final = compute(s.request(), partial=partials.append, partial_interval=0.0)
    return s, partials, final


def test_partial_results_redraw_only_the_flow(qtbot, monkeypatch, staged):
    s, partials, final = staged
    assert s.accept(partials[0])
    views = {cls: shown(qtbot, conftest.new_view(cls, s)) for cls in (StateHeatmap, GradientHeatmap, SpectrumView,
                                                  SoftmaxView, ConnectivityView, FlowView)}
    set_image = {cls: count_calls(monkeypatch, views[cls].image, "setImage")
                 for cls in (StateHeatmap, GradientHeatmap)}
    scatter = count_calls(monkeypatch, views[SpectrumView].points, "setData")
    flow_curve = count_calls(monkeypatch, views[FlowView].curves["log10_jacobian_norm"], "setData")
    counts = {cls: v.draw_count for cls, v in views.items()}
    for r in partials[1::7] + [final]:
        assert s.accept(r)
        for v in views.values():
            v.flush()
    assert set_image == {StateHeatmap: [], GradientHeatmap: []}
    assert scatter == []
    assert len(flow_curve) == len(partials[1::7]) + 1
    for cls in (StateHeatmap, GradientHeatmap, SpectrumView, SoftmaxView, ConnectivityView):
        assert views[cls].draw_count == counts[cls], cls
    _, y = views[FlowView].curve_data("log10_jacobian_norm")
    np.testing.assert_array_equal(y, final.flow.log10_jacobian_norm)   # the flow did fill in
    # a new request (other data) redraws the heatmaps; a style change redraws them too
    s.apply(spectral_radius=0.7)
    s.compute_now()
    views[StateHeatmap].flush()
    after_new = len(set_image[StateHeatmap])
    assert after_new >= 1
    views[StateHeatmap].refresh()
    assert len(set_image[StateHeatmap]) > after_new
    np.testing.assert_array_equal(views[StateHeatmap].image.image, s.result.trace.s[:, s.b, :])


def test_heatmap_images_come_from_the_worker_and_equal_the_numbers(qtbot, staged):
    s, partials, final = staged
    b = s.b
    assert all(p.derived is final.derived for p in partials)   # one cache per request
    keys = {"states": ("states", b), "gradients": ("gradients", "last", b)}   # the default
    assert all(k in final.derived for k in keys.values())
    assert ("gradients", "total", b) in final.derived         # the toggle's image, ready too
    s.accept(final)
    state, grad = shown(qtbot, StateHeatmap(s)), shown(qtbot, GradientHeatmap(s))
    for view, name in ((state, "states"), (grad, "gradients")):   # not computed again
        key = keys[name]
        assert view.values is final.derived[key].values
        assert np.shares_memory(view.image.image, final.derived[key].image)
    levels = display.gradient_levels(display.log10_abs(final.ds_last))  # the whole batch
    logs, _ = display.log_magnitude(final.ds_last[:, b, :], levels)
    np.testing.assert_array_equal(grad.image.image, logs)
    assert tuple(grad.image.getLevels()) == levels
    np.testing.assert_array_equal(state.image.image, final.trace.s[:, b, :])


def test_another_batch_element_is_computed_on_demand(qtbot, staged):
    s, _, final = staged
    s.accept(final)
    s.set_batch(2)                      # shown before its own result arrives: computed here
    view = shown(qtbot, GradientHeatmap(s))
    np.testing.assert_array_equal(view.values, final.ds_last[:, 2, :])
    assert ("gradients", "last", 2) in final.derived


def test_connectivity_keeps_its_axis_when_the_range_did_not_change(qtbot, monkeypatch):
    make_app([])
    s = Session()
    s.compute_now()
    view = shown(qtbot, conftest.new_view(ConnectivityView, s))
    set_ticks = count_calls(monkeypatch, view.plot_item.getAxis("left"), "setTicks")
    first = view.values.copy()
    s.apply(spectral_radius=s.config.spectral_radius * 1.0001)   # a new result, the same range
    s.compute_now()
    view.flush()
    np.testing.assert_allclose(view.values, first, rtol=1e-2)
    assert view.draw_count >= 2 and set_ticks == []


def test_grid_levels_keep_the_coarsest_levels_within_the_limit():
    major, minor, finest = object(), object(), object()
    specs = [(major, i) for i in range(3)] + [(minor, i) for i in range(6)] + \
        [(finest, i) for i in range(40)]
    assert grid_levels(specs, 12) == specs[:9]
    assert grid_levels(specs, 5) == specs[:3]               # the first level always
    assert grid_levels(specs, 100) == specs


def drawn_lines(axis):
    """(grid lines drawn, all of the same levels' lines, what pyqtgraph's own tick spacing
    would draw: every level, before readable() thins crowded ones)."""
    image = QtGui.QImage(10, 10, QtGui.QImage.Format_ARGB32)
    painter = QtGui.QPainter(image)
    try:
        drawn = axis.generateDrawSpecs(painter)[1]
        levels = pg.AxisItem.generateDrawSpecs(axis, painter)[1]
        own = axis.__dict__.pop("tickSpacing", None)
        try:
            every = pg.AxisItem.generateDrawSpecs(axis, painter)[1]
        finally:
            if own is not None:
                axis.tickSpacing = own
        return drawn, levels, every
    finally:
        painter.end()


@pytest.mark.parametrize("changes", [{}, {"n_s": 64, "T": 300, "spectral_radius": 3.0,
                                          "activation": "linear"}])
def test_every_axis_draws_a_bounded_number_of_grid_lines(qtbot, changes):
    make_app([])
    s = Session()
    s.apply(**changes)
    s.compute_now()
    unbounded_total = 0
    for cls in (StateHeatmap, GradientHeatmap, SpectrumView, SoftmaxView, FlowView):
        view = shown(qtbot, cls(s))
        view.apply_style(NORMAL)            # as the window does: grids on
        for side in ("left", "bottom"):
            axis = view.plot_item.getAxis(side)
            assert axis.grid is not False
            lines, unbounded, every = drawn_lines(axis)
            assert 1 <= len(lines) <= MAX_GRID_LINES, (cls, side, len(lines))
            where = [(tuple(p1), tuple(p2)) for _, p1, p2 in lines]
            assert where == [(tuple(p1), tuple(p2)) for _, p1, p2 in unbounded[:len(lines)]]
            unbounded_total += len(every)
    assert unbounded_total > 10 * MAX_GRID_LINES       # what pyqtgraph alone would have drawn
