"""Live training in the window, as a user does it: press Train and wait, edit the learning rate
while it runs, scrub the timeline, continue from there, save and reopen, watch a run diverge.

Every wait is for a condition (an iteration count, the worker idle), never for a time."""
import numpy as np
import pyqtgraph as pg
import pytest
from conftest import EventCounter, drag_slider_to, flush, wait_for_result
from PySide6 import QtCore

from rnnviz.engine.train import Trainer
from rnnviz.state.session import Session
from rnnviz.ui.actions import help

TIMEOUT = 60000


def copy_session(**training):
    s = Session()
    assert s.set_training(task="copy", task_options={"lag": 5}, m=8, lr=1e-3, **training) == []
    return s


def trained_to(qtbot, window, n):
    """Wait until the run has done at least n iterations."""
    qtbot.waitUntil(lambda: window.session.run is not None and window.session.run.iteration >= n,
                    timeout=TIMEOUT)


def paused(qtbot, window):
    """Wait until the stream has ended and the window shows the final result."""
    qtbot.waitUntil(lambda: not window.training.running, timeout=TIMEOUT)
    wait_for_result(qtbot, window, timeout=TIMEOUT)
    for view in window.training.views.values():
        view.refresh()


def click(qtbot, button):
    qtbot.mouseClick(button, QtCore.Qt.LeftButton)


@pytest.fixture
def trainer_window(make_window):
    return make_window(copy_session())


def test_train_then_pause_the_loss_curve_holds_every_record_equal_to_the_engines(
        qtbot, trainer_window):
    w, s = trainer_window, trainer_window.session
    start = s.params.copy()
    assert w.centre_tabs.isTabVisible(1) and w.centre_tabs.currentIndex() == 1
    click(qtbot, w.training.dock.train_button)
    assert w.training.running and w.training.actions["train"].iconText() == "Pause"
    trained_to(qtbot, w, 30)
    click(qtbot, w.training.dock.train_button)             # pause
    paused(qtbot, w)
    records = s.run.records.all()
    n = len(records)
    assert n >= 30 and s.selection_iteration == s.run.iteration == n
    reference = list(Trainer(start.copy(), s.training.settings()).run(n))
    assert [r.loss for r in records] == [r.loss for r in reference]       # bit for bit
    x, y = w.views["loss"].curve_data(w.views["loss"].loss_curve)
    np.testing.assert_array_equal(x, np.arange(n))
    np.testing.assert_array_equal(y, np.log10([r.loss for r in reference]))
    gx, gy = w.views["grad_norm"].curve_data(w.views["grad_norm"].before)
    np.testing.assert_array_equal(gy, np.log10([r.grad_norm for r in reference]))
    np.testing.assert_array_equal(w.views["grad_norm"].clipped_iterations,
                                  [r.iteration for r in reference if r.clipped])
    _, rho = w.views["spectral"].curve_data(w.views["spectral"].rho_curve)
    np.testing.assert_array_equal(rho, [r.rho for r in reference])
    for name in ("loss", "grad_norm", "spectral"):           # the mark: the weights shown
        assert w.views[name].iteration_line.value() == s.selection_iteration, name
    profile = w.views["profile"].shown_image
    assert profile.shape == (s.config.T, n)
    assert tuple(w.views["profile"].colorbar.levels()) == tuple(w.views["profile"].levels)
    np.testing.assert_allclose(profile[::-1, -1], np.log10(reference[-1].grad_profile), rtol=1e-12)
    # every view shows the trained weights: the spectrum is that of the run's W
    np.testing.assert_array_equal(s.params.W, s.run.latest()[1].W)
    rho_shown = w.views["spectrum"].spectral_radius
    assert rho_shown == pytest.approx(np.abs(np.linalg.eigvals(s.params.W)).max(), rel=1e-12)
    assert f"iteration {n:,}" in w.training.dock.progress.text()
    assert w.training.area.timeline.slider.maximum() == n


def test_train_runs_in_a_child_process_that_ends_with_the_window(qtbot, make_window):
    w = make_window(copy_session())
    click(qtbot, w.training.dock.train_button)
    trained_to(qtbot, w, 5)
    server = w.training.server
    assert server is not None and server.alive          # the iterations run in the child
    pid = server._proc.pid
    proc = server._proc
    w.close()
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=TIMEOUT)
    assert proc.returncode is not None and pid


def test_step_trains_exactly_one_iteration(qtbot, trainer_window):
    w = trainer_window
    click(qtbot, w.training.dock.step_button)
    paused(qtbot, w)
    assert w.session.run.iteration == 1 and len(w.session.run.records) == 1
    assert w.views["loss"].curves.n == 1


def test_editing_the_learning_rate_while_training_reaches_the_next_iteration(qtbot, trainer_window):
    w, s = trainer_window, trainer_window.session
    w.training.train()
    trained_to(qtbot, w, 5)
    box = w.training.dock.lr.box
    box.selectAll()
    qtbot.keyClicks(box, "0.02")
    qtbot.keyClick(box, QtCore.Qt.Key_Return)
    assert s.training.lr == 0.02
    edited_at = s.run.iteration
    trained_to(qtbot, w, edited_at + 5)
    w.training.pause()
    paused(qtbot, w)
    lrs = [r.lr for r in s.run.records.all()]
    first = lrs.index(0.02)
    assert set(lrs[:first]) == {1e-3} and set(lrs[first:]) == {0.02}
    assert first <= edited_at + 1          # the iteration running during the edit at the latest
    _, y = w.views["loss"].curve_data(w.views["loss"].loss_curve)
    assert y.size == len(lrs)


def test_the_lr_slider_is_logarithmic_and_bad_values_change_nothing(qtbot, trainer_window):
    w, s = trainer_window, trainer_window.session
    dock = w.training.dock
    slider = dock.lr.slider
    slider.setValue(slider.maximum())
    assert s.training.lr == pytest.approx(10.0)
    slider.setValue(0)
    assert s.training.lr == pytest.approx(1e-6)
    slider.setValue(slider.maximum() // 2)                 # the middle is the geometric mean
    assert s.training.lr == pytest.approx(np.sqrt(1e-6 * 10.0), rel=0.02)
    before = s.training
    for text, says in (("fast", "learning rate"), ("100", "lr must be between")):
        dock.lr.box.setText(text)
        dock.lr.box.editingFinished.emit()
        assert dock.error.isVisible() and says in dock.error.text(), dock.error.text()
        assert "nothing was changed" in dock.error.text() and s.training == before
    dock.threshold.setText("-3")
    dock.threshold.editingFinished.emit()
    assert "clip_threshold" in dock.error.text() and s.training == before
    assert dock.threshold.text() == "1"                    # shows the set-up's value again


def test_task_options_and_optimiser_hyper_parameters_are_typed_editors(qtbot, trainer_window):
    w, s = trainer_window, trainer_window.session
    dock = w.training.dock
    lag = dock.option_editors["lag"]
    assert (lag.minimum(), lag.maximum()) == (1, 980)
    lag.setValue(7)
    assert s.training.options["lag"] == 7 and s.config.T == 27
    dock.optimizer_combo.setCurrentIndex(dock.optimizer_combo.findData("sgd"))
    assert s.training.optimizer == "sgd" and set(dock.hyper_editors) == {
        "momentum", "dampening", "weight_decay", "nesterov"}
    momentum = dock.hyper_editors["momentum"]
    momentum.setText("0.9")
    momentum.editingFinished.emit()
    assert dict(s.training.optimizer_options) == {"momentum": 0.9}
    dock.hyper_editors["nesterov"].setChecked(True)
    assert dict(s.training.optimizer_options)["nesterov"] is True
    dock.clip_combo.setCurrentIndex(dock.clip_combo.findData("off"))
    assert s.training.clip == "off" and not dock.threshold.isEnabled()
    dock.task_combo.setCurrentIndex(dock.task_combo.findData("adding"))
    assert s.training.task == "adding" and (s.config.n_x, s.config.n_y) == (2, 1)
    assert set(dock.option_editors) == {"T"}


def test_scrub_the_timeline_then_continue_from_here(qtbot, trainer_window):
    w, s = trainer_window, trainer_window.session
    W0 = s.params.W.copy()
    w.training.train()
    trained_to(qtbot, w, 40)
    slider = w.training.area.timeline.slider
    drag_slider_to(qtbot, slider, 0)                        # scrubbing pauses training
    assert not w.training.running
    assert s.selection_iteration == 0
    np.testing.assert_array_equal(s.params.W, W0)
    wait_for_result(qtbot, w, timeout=TIMEOUT)
    np.testing.assert_allclose(w.views["spectrum"].eigenvalues, s.result.spectrum.eigenvalues)
    assert w.views["spectrum"].spectral_radius == pytest.approx(
        np.abs(np.linalg.eigvals(W0)).max(), rel=1e-12)
    k = s.run.timeline.iterations[len(s.run.timeline) // 2]
    slider.setValue(k)
    snap = s.run.snapshot_at(k)
    assert s.selection_iteration == snap.iteration
    np.testing.assert_array_equal(s.params.W, snap.params.W)
    wait_for_result(qtbot, w, timeout=TIMEOUT)
    assert w.views["loss"].iteration_line.value() == snap.iteration
    latest = s.run.iteration
    assert latest > snap.iteration
    click(qtbot, w.training.area.timeline.continue_button)
    assert w.training.running                              # the branch trains on at once
    trained_to(qtbot, w, snap.iteration + 3)
    w.training.pause()
    paused(qtbot, w)
    iterations = [r.iteration for r in s.run.records.all()]
    assert iterations == list(range(len(iterations))) and iterations[-1] >= snap.iteration + 2
    assert w.views["loss"].curves.n == len(iterations)


def test_a_trained_session_saves_and_reopens_with_its_curves(qtbot, make_window, tmp_path):
    w = make_window(copy_session())
    w.training.train()
    trained_to(qtbot, w, 20)
    w.training.pause()
    paused(qtbot, w)
    s = w.session
    s.path = str(tmp_path / "trained.json")
    w.file_actions.actions["save"].trigger()
    assert (tmp_path / "trained.json").is_file() and not s.dirty
    other = make_window()
    other.file_actions.open_path(str(tmp_path / "trained.json"))
    wait_for_result(qtbot, other, timeout=TIMEOUT)
    o = other.session
    for view in other.training.views.values():
        view.refresh()
    assert o.run.iteration == s.run.iteration and o.training == s.training
    np.testing.assert_array_equal(o.params.W, s.params.W)
    _, mine = w.views["loss"].curve_data(w.views["loss"].loss_curve)
    _, theirs = other.views["loss"].curve_data(other.views["loss"].loss_curve)
    np.testing.assert_array_equal(theirs, mine)
    assert other.centre_tabs.isTabVisible(1)
    assert "not kept in session files" in other.views["profile"].empty_text.textItem.toPlainText()
    other.training.train()                                  # and it trains on from there
    trained_to(qtbot, other, o.run.iteration + 2)
    other.training.pause()
    paused(qtbot, other)


def test_a_diverging_run_shows_its_message_and_keeps_finite_weights(qtbot, make_window):
    s = Session()
    s.set_training(task="recall", task_options={"symbols": 4, "T": 20, "delay": 2}, lr=10.0,
                   optimizer="sgd", clip="off")
    s.apply(spectral_radius=2.5, activation="linear")
    w = make_window(s)
    w.training.train()
    qtbot.waitUntil(lambda: not w.training.running, timeout=TIMEOUT)
    wait_for_result(qtbot, w, timeout=TIMEOUT)
    last = s.run.records.latest()
    assert last.stopped and f"iteration {last.iteration}" in last.stopped
    assert w.training.dock.stopped.isVisible() and last.stopped in w.training.dock.stopped.text()
    assert w.status.warning.isVisible() and last.stopped in w.status.warning_text
    assert all(np.isfinite(getattr(s.params, n)).all() for n in s.params.names)
    assert np.isfinite(s.result.grads.loss)
    w.session.set_timestep(3)                               # the window goes on working
    flush(w)
    assert w.status.warning.isVisible()


def test_changing_the_network_by_hand_ends_the_run(qtbot, trainer_window):
    w, s = trainer_window, trainer_window.session
    w.training.train()
    trained_to(qtbot, w, 5)
    assert s.apply(n_s=20) == []
    assert not w.training.running and s.run is None
    wait_for_result(qtbot, w, timeout=TIMEOUT)
    w.training.train()
    trained_to(qtbot, w, 3)
    w.training.pause()
    paused(qtbot, w)
    assert s.params.W.shape == (20, 20) and s.run.records.all()[0].iteration == 0


def test_the_training_tab_appears_only_with_a_task(qtbot, window):
    assert not window.centre_tabs.isTabVisible(1) and not window.centre_tabs.tabBar().isVisible()
    assert not window.training.actions["train"].isEnabled()
    dock = window.training.dock
    # without a task the Parameters dock is the one in front of its tab group, not Training's
    def in_front(d):
        return not d.visibleRegion().isEmpty()
    assert in_front(window.docks["editors"]) and not in_front(dock)
    dock.task_combo.setCurrentIndex(dock.task_combo.findData("temporal_order"))
    assert window.session.training.task == "temporal_order"
    assert window.centre_tabs.isTabVisible(1) and window.centre_tabs.currentIndex() == 1
    assert window.training.actions["train"].isEnabled()
    assert in_front(dock) and not in_front(window.docks["editors"])
    window.session.load_preset("vanishing")
    assert not window.centre_tabs.isTabVisible(1)
    assert in_front(window.docks["editors"]) and not in_front(dock)


def test_train_and_step_have_shortcuts_listed_in_help(window):
    keys = dict(help.show_shortcuts(window).rows())
    assert keys["F6"] == keys["Ctrl+T"] == "Train / pause training"
    assert keys["F7"] == "Train one iteration"
    assert keys["Space"] != keys["F6"]                     # Space still plays the time steps


def test_the_output_of_a_regression_task_is_z_against_its_target(qtbot, make_window):
    s = Session()
    assert s.set_training(task="adding", task_options={"T": 12}) == []
    w = make_window(s)
    view = w.views["softmax"]
    s.set_timestep(11)                                      # the last step: scored
    flush(w)
    z = s.result.trace.y[0, 0, 11]
    assert view.regression.active and view.bars.opts["height"][0] == z
    x, y = view.regression.markers.getData()
    assert list(x) == [1.0] and y[0] == s.targets[0, 0, 11]
    assert "(z − target)²" in view.loss_text.textItem.toPlainText()
    assert "probability" not in view.plot_item.getAxis("left").labelText
    assert "squared error" in w.status.loss.toolTip() and "cross-entropy" not in w.status.loss.toolTip()
    s.set_timestep(4)                                       # not scored: no target marker
    flush(w)
    assert view.regression.markers.getData()[0].size == 0 and not view.target_text.isVisible()
    assert "not scored" in view.readout.toolTip()
    s.load_preset("vanishing")                              # back to softmax bars
    wait_for_result(qtbot, w)
    assert not view.regression.active and "probability" in view.plot_item.getAxis("left").labelText
    assert "cross-entropy" in w.status.loss.toolTip()


def test_unscored_classification_steps_draw_no_target(qtbot, make_window):
    s = Session()
    assert s.set_training(task="temporal_order", task_options={"T": 20}) == []
    w = make_window(s)
    view = w.views["softmax"]
    s.set_timestep(5)
    flush(w)
    assert view.target is None and not view.target_text.isVisible()
    assert "not scored" in view.readout.toolTip()
    s.set_timestep(19)
    flush(w)
    assert view.target == s.targets[0, 19] and view.target_text.isVisible()


def test_the_text_task_samples_text_from_the_weights_shown(qtbot, make_window):
    s = Session()
    assert s.set_training(task="text", task_options={"text": "abcabcabd abcab", "T": 6}) == []
    w = make_window(s)
    panel = w.training.area.sample
    assert panel.isVisible()
    qtbot.waitUntil(lambda: panel.text.toPlainText() != "", timeout=TIMEOUT)
    assert set(panel.text.toPlainText()) <= set("abcd ")
    panel.temperature.slider.setValue(0)                    # a new temperature: a new sample
    qtbot.waitUntil(lambda: "temperature 0.1" in panel.heading.text(), timeout=TIMEOUT)


def test_a_text_file_is_opened_for_the_text_task(qtbot, trainer_window, tmp_path):
    w, s = trainer_window, trainer_window.session
    path = tmp_path / "poem.txt"
    path.write_text("the owl and the pussy-cat went to sea\n", encoding="utf-8")
    assert w.training.dock.open_text_file(path) == []
    assert s.training.task == "text" and s.config.n_x == len(set(path.read_text()))
    big = tmp_path / "big.txt"
    big.write_text("x" * 300_000, encoding="utf-8")
    before = s.training
    assert w.training.dock.open_text_file(big)
    assert "too large" in w.training.dock.error.text() and s.training == before


def test_the_flow_is_computed_only_while_its_tab_is_in_sight(qtbot, trainer_window):
    w, s = trainer_window, trainer_window.session
    assert w.centre_tabs.currentIndex() == 1 and "flow" not in s.result.stages
    w.centre_tabs.setCurrentIndex(0)                       # back to the time steps
    r = wait_for_result(qtbot, w, timeout=TIMEOUT)
    assert "flow" in r.stages and np.isfinite(r.flow.log10_jacobian_norm).all()
    assert s.view["panels"].get("flow", True)             # the user's choice is untouched


def test_typing_in_a_box_while_training_runs_is_not_overwritten(qtbot, trainer_window):
    w, s = trainer_window, trainer_window.session
    box = w.training.dock.lr.box
    w.training.train()
    trained_to(qtbot, w, 3)
    box.setText("0.0")                                     # half typed ...
    seen = s.selection_iteration or 0
    qtbot.waitUntil(lambda: (s.selection_iteration or 0) > seen, timeout=TIMEOUT)   # frames pass
    assert box.text() == "0.0" and s.training.lr == 1e-3
    w.training.pause()
    paused(qtbot, w)


def test_a_result_without_the_flow_says_computed_not_filling_in(qtbot, trainer_window):
    w = trainer_window
    assert "flow" not in w.session.result.stages
    assert w.status.ms.text().startswith("computed in") and not w.status.busy.isVisible()


@pytest.mark.parametrize("size", [(1280, 800), (1024, 768)])
def test_the_empty_plots_hint_fits_inside_each_training_plot(qtbot, trainer_window, size):
    """At 1024 x 768 the wrapped hint covered the gradient-norm plot's threshold level and its
    label ('c'), and the label '1' of the rho plot: it now sits in a gap between the levels."""
    from rnnviz.ui.views.training_plot import EMPTY_LEVEL_LABEL
    w = trainer_window
    w.resize(*size)
    w.centre_tabs.setCurrentIndex(1)
    flush(w)
    seen = levels = 0
    for name, view in w.training.views.items():
        text = view.empty_text
        if not text.isVisible():
            continue
        vb = view.plot_item.vb
        box = text.mapRectToItem(vb, text.boundingRect())
        assert box.left() >= 0 and box.right() <= vb.width(), name      # wrapped, not cut off
        assert box.top() >= 0 and box.bottom() <= vb.height(), name
        for item in vb.addedItems:          # no dashed level (baseline, 1) strikes it through
            if isinstance(item, pg.InfiniteLine) and item.angle == 0 and item.isVisible():
                y = vb.mapFromView(QtCore.QPointF(0.0, float(item.value()))).y()
                assert not box.top() <= y <= box.bottom(), (name, y, box)
                assert not (box.top() < y + EMPTY_LEVEL_LABEL and y - 4 < box.bottom()), \
                    (name, "over the level's label", y, box)
                levels += 1
        seen += 1
    assert seen >= 3 and levels >= 1


def test_while_training_the_time_views_follow_the_weights_and_the_inputs_stay_drawn(
        qtbot, trainer_window):
    """Training on the time-steps tab: the views follow the newest weights (the connectivity
    bars asked for as each result arrives); the inputs, which training leaves as they are, are
    not drawn again; the spectrum's range moves in steps of 0.1 only."""
    from rnnviz.engine.analysis import connectivity
    from rnnviz.ui.views.steps import shown_b, shown_t
    w, s = trainer_window, trainer_window.session
    w.centre_tabs.setCurrentIndex(0)
    wait_for_result(qtbot, w, timeout=TIMEOUT)
    flush(w)
    inputs, states = w.views["inputs"], w.views["states"]
    drawn_inputs, drawn_states = inputs.draw_count, states.draw_count
    click(qtbot, w.training.dock.train_button)
    qtbot.waitUntil(lambda: states.draw_count >= drawn_states + 3, timeout=TIMEOUT)
    click(qtbot, w.training.dock.train_button)             # pause
    paused(qtbot, w)
    qtbot.waitUntil(lambda: w.worker.is_idle(), timeout=TIMEOUT)
    flush(w)
    assert inputs.draw_count == drawn_inputs                # the same inputs: nothing to draw
    r = s.result
    np.testing.assert_array_equal(r.params.W, s.run.latest()[1].W)
    np.testing.assert_array_equal(states.image.image, r.trace.s[:, shown_b(s, r), :])
    t, b = shown_t(s, r), shown_b(s, r)
    bars = w.views["connectivity"].values
    np.testing.assert_allclose(bars, connectivity(r.params, r.trace, t, b=b), rtol=1e-12)
    rho = w.views["spectrum"].spectral_radius
    extent = min(hi for _, hi in w.views["spectrum"].plot_item.vb.viewRange())  # (the aspect
    assert extent == pytest.approx(np.ceil(11.5 * max(1.0, rho)) / 10.0)       # widens one)


def test_while_training_the_views_are_computed_in_a_child_as_this_process_would(
        qtbot, trainer_window):
    """Train on the time-steps tab: the followed weights' computations run in the child process
    (so the window's process only draws), the states heatmap and the flow curve show a result
    that came from there, and that result is the one this process computes bit for bit."""
    from rnnviz.state.compute import compute
    from rnnviz.ui.views.flow import log10_curve
    from rnnviz.ui.views.steps import shown_b
    w, s = trainer_window, trainer_window.session
    w.centre_tabs.setCurrentIndex(0)
    wait_for_result(qtbot, w, timeout=TIMEOUT)
    flush(w)
    offload, came = w.worker.offload, {}

    def recorded(request, should_stop):
        result = offload(request, should_stop)
        if result is not None:
            came[result.request_id] = (request, result)
        return result
    w.worker.offload = recorded
    states, flow = w.views["states"], w.views["flow"]
    click(qtbot, w.training.dock.train_button)
    qtbot.waitUntil(lambda: len(came) >= 3 and s.result is not None
                    and s.result.request_id in came, timeout=TIMEOUT)
    click(qtbot, w.training.dock.train_button)             # pause
    paused(qtbot, w)
    qtbot.waitUntil(lambda: w.worker.is_idle(), timeout=TIMEOUT)
    flush(w)
    w.worker.offload = offload
    request, r = came[max(came)]
    assert offload.offloaded >= 3 and not offload.enabled  # (paused: computed here again)
    s.result = r                                            # the views draw a child's result
    s.events.emit("result", result=r)
    flush(w)
    np.testing.assert_array_equal(states.image.image, r.trace.s[:, shown_b(s, r), :])
    _, drawn = flow.curves["log10_jacobian_norm"].getData()
    np.testing.assert_array_equal(drawn, log10_curve(r.flow, "log10_jacobian_norm"))
    here = compute(request)
    np.testing.assert_array_equal(r.trace.s, here.trace.s)
    np.testing.assert_array_equal(r.grads.ds, here.grads.ds)
    np.testing.assert_array_equal(r.flow.log10_jacobian_norm, here.flow.log10_jacobian_norm)


def test_the_status_bar_keeps_room_for_its_numbers_while_training(qtbot, trainer_window):
    """The numbers change at every followed iteration: each label keeps the room of the widest
    text it showed (a label a digit wider was drawn cut until the bar laid out again)."""
    w = trainer_window
    status = w.status
    click(qtbot, w.training.dock.train_button)
    widest = {id(label): 0 for label in (status.loss, status.rho, status.sigma)}
    for n in (5, 10, 15):
        trained_to(qtbot, w, n)
        flush(w)
        for label in (status.loss, status.rho, status.sigma):
            need = label.sizeHint().width()
            widest[id(label)] = max(widest[id(label)], need)
            assert label.minimumWidth() >= widest[id(label)], label.text()
    click(qtbot, w.training.dock.train_button)
    paused(qtbot, w)
    r = w.session.result
    assert status.loss.text() == f"loss L = {float(r.grads.loss):.4g}"


def test_the_parameters_dock_brings_its_radius_note_up_to_date_when_opened(qtbot, trainer_window):
    """Closed (or behind another dock) while a run trains, the Parameters dock leaves its ρ note
    alone (ρ(W) changes at every followed iteration); opened, it says the current W's ρ."""
    from PySide6 import QtWidgets
    w, s = trainer_window, trainer_window.session
    editors = w.findChild(QtWidgets.QDockWidget, "editors")
    editors.toggleViewAction().trigger()                    # View > Parameters: closed
    qtbot.waitUntil(lambda: not editors.isVisible(), timeout=TIMEOUT)
    click(qtbot, w.training.dock.train_button)
    trained_to(qtbot, w, 10)
    click(qtbot, w.training.dock.train_button)             # pause
    paused(qtbot, w)
    qtbot.waitUntil(lambda: w.worker.is_idle(), timeout=TIMEOUT)
    flush(w)
    note = s.radius_note()
    assert note and f"{s.result.spectrum.spectral_radius:.3g}" in note   # trained: W moved
    editors.toggleViewAction().trigger()                    # and opened again
    qtbot.waitUntil(editors.isVisible, timeout=TIMEOUT)
    assert editors.radius_note.text() == note and editors.radius_note.isVisibleTo(editors)


def test_while_it_trains_its_changing_numbers_neither_lay_the_window_out_nor_hide_the_rho_note(
        qtbot, trainer_window):
    """The readouts, the status bar's numbers, the iteration counter and the ρ note change at
    every followed iteration. They used to lay the whole window out again at each change (a
    QLabel's new text asks its parents' layouts, up to the main window: ~70 times a second),
    and the ρ note vanished at every new W until its result came (the Parameters dock's
    editors below it jumped up and down by two lines)."""
    from PySide6 import QtWidgets
    w, s = trainer_window, trainer_window.session
    w.resize(1280, 800)
    editors = w.findChild(QtWidgets.QDockWidget, "editors")
    editors.show()
    editors.raise_()
    qtbot.waitUntil(editors.isVisible, timeout=TIMEOUT)
    note = editors.radius_note
    click(qtbot, w.training.dock.train_button)
    trained_to(qtbot, w, 5)
    qtbot.waitUntil(lambda: note.isVisibleTo(editors), timeout=TIMEOUT)   # the trained W's ρ
    flush(w)
    layouts = EventCounter(w, QtCore.QEvent.LayoutRequest)
    hides = EventCounter(note, QtCore.QEvent.HideToParent)
    shown, texts = w.worker.completed, set()
    for i in range(15):                                    # 15 followed iterations
        qtbot.waitUntil(lambda i=i: w.worker.completed > shown + i, timeout=TIMEOUT)
        texts.add((w.views["loss"].readout.text(), w.status.loss.text(), note.text()))
    laid_out = layouts.count
    click(qtbot, w.training.dock.train_button)             # pause
    paused(qtbot, w)
    assert len(texts) >= 10                                # the numbers did change
    # laid out again only when a label grows by a digit (before: at every change, 28 and 38
    # times in these 15 iterations in two runs)
    assert laid_out <= 7, laid_out
    assert hides.count == 0 and note.isVisibleTo(editors)
    assert note.text() == s.radius_note()
