"""Each plot view on its own, on a computed session: what it draws equals the engine's numbers."""
import numpy as np
import pytest

from rnnviz.state.display import LEVEL_STEP, gradient_levels, log_magnitude, state_colour, state_levels
from rnnviz.ui.style import NORMAL, PRESENTATION, PRINT_DARK
from rnnviz.ui.views.connectivity import ConnectivityView
from rnnviz.ui.views.flow import FlowView, rate_words
from rnnviz.ui.views.heatmaps import GradientHeatmap, StateHeatmap
from rnnviz.ui.views.softmax import SoftmaxView
from rnnviz.ui.views.spectrum import SpectrumView
from rnnviz.ui.views.steps import runs
from tests.ui.conftest import new_view, shown


def test_runs_and_rate_words():
    assert runs([]) == []
    assert runs([7, 1, 2, 3, 9, 8]) == [(1, 3), (7, 9)]
    assert rate_words(0.83) == "×0.83 per step back in time: vanishing"
    assert rate_words(1.3).endswith("exploding")
    assert rate_words(1.0).endswith("neither")
    assert "not finite" in rate_words(float("inf"))


def test_state_levels_follow_the_activation():
    s = np.linspace(-3, 3, 1001)
    assert state_levels(s, "tanh")[0] == (-1.0, 1.0)
    assert state_levels(s, "sigmoid")[0] == (0.0, 1.0)
    (lo, hi), caption = state_levels(np.append(s, [np.inf, np.nan]), "linear")
    assert hi == pytest.approx(np.percentile(np.abs(s), 99)) and lo == -hi
    assert "99th" in caption
    relu = np.maximum(s, 0)                  # never negative: 0 to the 99th percentile
    (lo, hi), caption = state_levels(relu, "relu")
    assert (lo, hi) == (0.0, pytest.approx(np.percentile(relu, 99))) and "0 to 99th" in caption
    assert state_colour("relu") == state_colour("sigmoid") == "positive"
    assert state_colour("tanh") == "diverging"


def test_log_magnitude_puts_zeros_at_the_bottom_and_hides_non_finite():
    g = np.array([[1e-3, 0.0, 1e2, np.nan, np.inf, -1e-20]])
    logs, (lo, hi) = log_magnitude(g)
    top = np.percentile([-3.0, 2.0, -20.0], 99.9)            # 1.99..., rounded up to 2.0
    assert hi == np.ceil(top / LEVEL_STEP) * LEVEL_STEP and hi - top < LEVEL_STEP and lo == hi - 10
    np.testing.assert_array_equal(logs[0, :3], [-3.0, lo, 2.0])
    assert np.isnan(logs[0, 3]) and np.isnan(logs[0, 4]) and logs[0, 5] == -20.0


def test_state_heatmap_image_and_hover(qtbot, session):
    view = shown(qtbot, StateHeatmap(session))
    np.testing.assert_array_equal(view.image.image, session.result.trace.s[:, session.b, :])
    assert tuple(view.image.getLevels()) == (-1.0, 1.0)
    scene = view.plot_item.vb.mapViewToScene(pg_point(5, 2))
    assert view.cell_at(scene) == (1, 4)
    assert view.describe(1, 4, 0.5) == "unit 2, t = 5: s = 0.5"


def pg_point(x, y):
    from PySide6 import QtCore
    return QtCore.QPointF(x, y)


def test_gradient_heatmap_is_log10_of_dL_ds(qtbot, session):
    session.set_view(gradient="total")          # (the default is the last loss's gradient)
    view = shown(qtbot, GradientHeatmap(session))
    g = session.result.grads.ds[:, session.b, :]
    np.testing.assert_array_equal(view.values, g)
    levels = gradient_levels(np.log10(np.abs(session.result.grads.ds)))   # the whole batch
    logs, _ = log_magnitude(g, levels)
    np.testing.assert_array_equal(view.image.image, np.log10(np.abs(g)))
    np.testing.assert_array_equal(view.image.image, logs)
    assert tuple(view.image.getLevels()) == levels
    assert view.caption == "|∂L/∂s_t|  (log scale)"


def test_gradient_colours_have_contrast_and_stay_put(qtbot, session):
    """Defect 3: at the default demo the colours spread over the values (robust percentiles,
    not min..max), and the scale does not move while scrubbing t or changing the sequence."""
    session.set_view(gradient="total")
    view = shown(qtbot, GradientHeatmap(session))
    lo, hi = view.image.getLevels()
    logs = np.log10(np.abs(session.result.grads.ds))
    assert hi - lo < 0.75 * (logs.max() - logs.min())          # narrower than min..max
    inside = np.mean((logs >= lo) & (logs <= hi))
    assert inside >= 0.97                                        # yet almost every value inside
    assert "decades" in view.plot_item.titleLabel.text
    for t in (0, 7, 30):
        session.set_timestep(t)
        view.flush()
        assert tuple(view.image.getLevels()) == (lo, hi)
    session.set_batch(2)
    session.compute_now()
    view.flush()
    assert tuple(view.image.getLevels()) == (lo, hi)


def test_softmax_view_holds_y_at_t(qtbot, session):
    session.set_timestep(5)
    session.set_batch(2)
    session.compute_now()
    view = shown(qtbot, SoftmaxView(session))
    r = session.result
    np.testing.assert_array_equal(view.bars.opts["height"], r.trace.y[:, 2, 5])
    assert view.target == session.targets[2, 5]
    assert view.loss_at_t == pytest.approx(-np.log(r.trace.y[session.targets[2, 5], 2, 5]))


def test_flow_and_spectrum_views_hold_the_results_numbers(qtbot, session):
    flow = shown(qtbot, FlowView(session))
    r = session.result
    _, y = flow.curve_data("log10_bound")
    np.testing.assert_array_equal(y, r.flow.log10_bound)
    _, y = flow.curve_data("last_loss_grad_norm")
    np.testing.assert_allclose(y, np.log10(r.flow.last_loss_grad_norm))
    spectrum = shown(qtbot, SpectrumView(session))
    x, y = spectrum.points.getData()
    np.testing.assert_allclose(np.sort_complex(x + 1j * y), np.sort_complex(r.spectrum.eigenvalues))
    assert "ρ(W) = 0.9" in spectrum.plot_item.titleLabel.text


def test_connectivity_without_worker_computes_in_place(qtbot, session):
    from rnnviz.engine.analysis import connectivity
    session.set_timestep(10)
    view = shown(qtbot, new_view(ConnectivityView, session))
    np.testing.assert_allclose(view.bars.opts["height"],
                               connectivity(session.params, session.result.trace, 10, b=0))
    assert view.shown_key == (session.result.request_id, 10, 0)


@pytest.mark.parametrize("style", [PRESENTATION, PRINT_DARK, NORMAL])
def test_every_view_takes_every_style(qtbot, session, style):
    for cls in (StateHeatmap, GradientHeatmap, SoftmaxView, FlowView, SpectrumView,
                ConnectivityView):
        view = shown(qtbot, new_view(cls, session))
        view.apply_style(style)
        axis = view.plot_item.getAxis("bottom")
        assert axis.style["tickFont"].pointSizeF() == style.tick_pt
        assert f"{style.font_pt}pt" in axis.labelStyle.get("font-size", "")
