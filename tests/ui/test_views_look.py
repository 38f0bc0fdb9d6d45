"""What a lecturer sees: no overlapping or clipped text, no SI prefixes, aligned time axes, the
Jacobian's singular values, partial gradient flow, and no overflow warnings from pyqtgraph."""
import copy
import warnings

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from rnnviz.state.session import Session
from rnnviz.ui.app import make_app
from rnnviz.ui.style import NORMAL, PRESENTATION, PRINT_LIGHT
from rnnviz.ui.views.flow import SV_LEGEND, FlowView
from rnnviz.ui.views.heatmaps import GradientHeatmap, StateHeatmap
from rnnviz.ui.views.steps import shown_nonfinite
from rnnviz.ui.widgets.axes import Log10Axis, power_of_ten, sparse_ticks
from tests.ui import conftest
from tests.ui.conftest import flush

TIME_VIEWS = ("states", "connectivity", "gradients", "flow")



def shown(qtbot, view, size=(900, 300)):
    return conftest.shown(qtbot, view, size)


# ----- axes ---------------------------------------------------------------------------------------
def test_powers_of_ten_never_overflow():
    make_app([])
    assert [power_of_ten(k) for k in (0, 1, 2, -6, 300, -400)] == \
        ["1", "10", "10²", "10⁻⁶", "10³⁰⁰", "10⁻⁴⁰⁰"]
    axis = Log10Axis("left")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert axis.tickStrings([-400.0, 0.0, 500.0], 1.0, 100.0) == ["10⁻⁴⁰⁰", "1", "10⁵⁰⁰"]
    assert sparse_ticks(2.3e17, 1e-17)[0] == [(0.0, "0"), (2e17, "2")]


def test_no_axis_anywhere_uses_an_si_prefix(make_window):
    """Defect 4: the flow plot showed '(x1e+18)'; every axis now says its own scale."""
    window = make_window(Session())
    for name, view in window.views.items():
        for axis in view.axes():
            assert axis.autoSIPrefix is False, (name, axis.orientation)
            assert axis.labelUnitPrefix == ""
    assert isinstance(window.views["flow"].plot_item.getAxis("left"), Log10Axis)


def overflow_session() -> Session:
    """The overflow preset (float32 states and Jacobians past the float range), computed."""
    make_app([])
    s = Session()
    s.load_preset("overflow")
    s.compute_now()
    return s


def test_exploding_flow_axis_labels_are_plain_powers_of_ten(qtbot):
    view = shown(qtbot, FlowView(overflow_session()))
    axis = view.plot_item.getAxis("left")
    assert "x1e" not in axis.labelString() and "×" not in axis.labelString()
    lo, hi = view.plot_item.vb.viewRange()[1]
    assert hi > 40                          # the Jacobian norm reaches 10^45 here
    strings = [text for spacing, values in axis.tickValues(lo, hi, 300)
               for text in axis.tickStrings(values, 1.0, spacing)]
    assert strings and all(t == "1" or t.startswith("10") for t in strings)


# ----- colour bars ----------------------------------------------------------------------------
def _text_rects(axis):
    """Scene rectangles of an axis's tick labels as it draws them."""
    image = QtGui.QImage(10, 10, QtGui.QImage.Format_ARGB32)
    painter = QtGui.QPainter(image)
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [axis.mapRectToScene(QtCore.QRectF(rect)) for rect, _, _ in texts]


@pytest.mark.parametrize("style", [NORMAL, PRESENTATION, PRINT_LIGHT])
@pytest.mark.parametrize("cls", [StateHeatmap, GradientHeatmap])
def test_colour_bar_caption_clears_its_tick_labels(qtbot, session, style, cls):
    """Defect 1: the caption of the state colour bar was drawn over its tick labels."""
    view = shown(qtbot, cls(session))
    view.apply_style(style)
    qtbot.wait(10)
    axis = view.colorbar.axis
    caption = axis.label.mapRectToScene(axis.label.boundingRect())
    ticks = _text_rects(axis)
    assert len(ticks) >= 3
    # the whole caption, or its symbol where the colour bar is too short for all of it
    assert view.caption and axis.labelText and view.caption.startswith(axis.labelText)
    assert view.axis_label_fits(axis)
    widest = max(r.right() for r in ticks)
    # the rotated caption's glyphs start after the tick labels (its box has a small margin)
    assert caption.left() + 3 >= widest, (caption, widest)
    assert caption.right() <= view.graphics.width() + 1       # and it is not cut off


def test_huge_states_keep_short_colour_bar_ticks(qtbot):
    view = shown(qtbot, StateHeatmap(overflow_session()))
    assert "×10³⁷" in view.caption
    strings = [t for sp, vals in view.colorbar.axis.tickValues(*view.levels, 200)
               for t in view.colorbar.axis.tickStrings(vals, view.colorbar.axis.scale, sp)]
    assert strings and max(len(t) for t in strings) <= 5


@pytest.mark.parametrize("style", [NORMAL, PRESENTATION, PRINT_LIGHT])
def test_time_axes_line_up_in_the_window(make_window, style):
    window = make_window(Session())
    window.apply_style(style)
    flush(window)
    lefts, rights = [], []
    for name in TIME_VIEWS:
        rect = window.views[name].plot_item.vb.sceneBoundingRect()
        lefts.append(rect.left())
        rights.append(rect.right())
    assert max(lefts) - min(lefts) <= 1.5, lefts
    assert max(rights) - min(rights) <= 1.5, rights


# ----- captions -------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_readouts_fit_under_their_plots(make_window, qtbot, size):
    """Defect 2: the softmax caption under the bars ran past the right edge."""
    window = make_window(Session())
    window.resize(*size)
    qtbot.wait(50)
    flush(window)
    checked = []
    for name, view in window.views.items():
        if view.isVisible() and view.readout.text().strip():
            assert view.readout.fits(), (name, view.readout.text(), view.readout.width())
            checked.append(name)
    assert {"softmax", "spectrum", "connectivity"} <= set(checked), checked
    softmax = window.views["softmax"].readout
    assert "loss" in softmax.text() and "loss at t" in softmax.toolTip()


# ----- gradient flow: singular values and partial results -------------------------------------
def test_flow_draws_the_jacobians_next_singular_values(qtbot, session):
    """Defect 5: σ₂, σ₃ of ∂s_T/∂s_t as thin lines, with a legend entry, under the norm σ₁."""
    view = shown(qtbot, FlowView(session))
    sv = session.result.flow.log10_jacobian_top_sv
    for k in (1, 2):
        x, y = view.curve_data(k)
        np.testing.assert_array_equal(x, np.arange(1, sv.shape[0] + 1))
        np.testing.assert_array_equal(y[np.isfinite(y)], sv[np.isfinite(y), k])
        assert np.isfinite(y).sum() >= sv.shape[0] - 1       # only rounding noise is left out
        assert view.sv_curves[k].opts["pen"].widthF() < view.curves["grad_norm"].opts["pen"].widthF()
    _, norm = view.curve_data("log10_jacobian_norm")
    np.testing.assert_array_equal(norm, sv[:, 0])
    assert SV_LEGEND in [label.text for _, label in view.legend.items]


def partial(result, computed_from: int, progress: float):
    """A copy of a result whose flow is computed only for steps >= computed_from."""
    flow = copy.copy(result.flow)
    for name, value in vars(result.flow).items():
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == \
                result.trace.s.shape[2] and value.dtype.kind == "f":
            value = value.copy()
            value[:computed_from] = np.nan
            setattr(flow, name, value)
    flow.rate_per_step = float("nan")
    out = copy.copy(result)
    out.flow = flow
    out.flow_progress = progress
    steps = np.arange(computed_from)
    out.nonfinite_steps = np.union1d(result.nonfinite_steps, steps)  # as a naive engine would
    return out


def test_partial_flow_draws_only_computed_steps_and_says_so(qtbot, session):
    """Defect 7: while the Jacobian is computed, draw its finite part and show the progress."""
    view = shown(qtbot, FlowView(session))
    full = session.result
    T = full.trace.s.shape[2]
    session.result = partial(full, 24, 0.4)
    view.refresh()
    for attribute in ("log10_jacobian_norm", "log10_bound", "grad_norm", 1):
        assert view.drawn_steps(attribute).min() == 25
    assert view.curves["log10_jacobian_norm"].opts["connect"] == "finite"
    assert view.progress_label.isVisible()
    assert view.progress_label.textItem.toPlainText() == "computing ∂s_T/∂s_t … 40 %"
    assert "computing" in view.rate_label.text and "not finite" not in view.rate_label.text
    assert view._regions == []                  # pending steps are not marked as overflow
    assert shown_nonfinite(session.result).size == 0
    session.result = full
    view.refresh()
    assert not view.progress_label.isVisible()
    assert view.drawn_steps("log10_jacobian_norm").tolist() == list(range(1, T + 1))


def test_partial_flow_keeps_real_overflow_marked(qtbot):
    s = overflow_session()
    result = partial(s.result, 140, 0.07)
    forward_bad = set(np.asarray(s.result.trace.nonfinite_steps).tolist())
    assert forward_bad
    assert forward_bad <= set(shown_nonfinite(result).tolist())


# ----- overflow ------------------------------------------------------------------------------------
def test_overflow_preset_exports_without_runtime_warnings(tmp_path):
    """Defect 6: pyqtgraph printed 'overflow encountered in subtract' for the float32 overflow."""
    from rnnviz.ui.app import export_session
    s = Session()
    s.load_preset("overflow")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for view in ("states", "gradients", "flow", "connectivity", "softmax", "spectrum"):
            export_session(s, tmp_path / f"{view}.png", view=view)
        # the status bar's long warning is cut with '…', so the window fits 1920x1080
        export_session(s, tmp_path / "window.png", size=(1920, 1080))
    runtime = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert runtime == []
    assert (tmp_path / "window.png").stat().st_size > 10_000
