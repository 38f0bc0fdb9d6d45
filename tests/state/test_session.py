"""Session rules: re-draw vs keep vs rescale, validation leaves state untouched, stale results,
snapshots, events."""
import numpy as np
import pytest

from rnnviz.state import config as cfg
from rnnviz.state.compute import compute
from rnnviz.state.session import Session
from rnnviz.state.sessionfile import SessionFileError


def rho(W):
    return np.max(np.abs(np.linalg.eigvals(W)))


class Recorder:
    def __init__(self, session):
        self.events = []
        session.events.subscribe(lambda name, **p: self.events.append((name, p)))

    def names(self):
        return [n for n, _ in self.events]

    def of(self, name):
        return [p for n, p in self.events if n == name]


@pytest.fixture
def session():
    return Session()


def test_default_session_shapes(session):
    c = session.config
    assert c == cfg.DEFAULT
    assert session.params.W.shape == (32, 32) and session.params.U.shape == (32, 8)
    assert session.x.shape == (8, 4, 40) and session.s0.shape == (32, 4)
    assert session.targets.shape == (4, 40) and session.t == 39 and session.b == 0
    assert session.edited == set() and not session.dirty and session.needs_compute
    assert rho(session.params.W) == pytest.approx(0.9, rel=1e-9)


def test_same_config_same_picture():
    a, b = Session(), Session()
    for name in ("U", "W", "V", "ba", "by"):
        assert np.array_equal(getattr(a.params, name), getattr(b.params, name))
    assert np.array_equal(a.x, b.x) and np.array_equal(a.targets, b.targets)


def test_hand_edit_survives_timestep_and_radius_drag(session):
    rec = Recorder(session)
    assert session.set_weight("W", 2, 3, 0.75) == []
    assert session.edited == {"W"} and session.dirty
    assert rec.of("params")[-1]["names"] == ("W",)
    session.set_timestep(5)
    assert session.t == 5 and session.params.W[2, 3] == 0.75
    W_before, U_before = session.params.W.copy(), session.params.U
    r_before = rho(W_before)
    assert session.apply(spectral_radius=1.2) == []
    assert np.allclose(session.params.W, W_before * 1.2 / r_before, rtol=0, atol=1e-15)
    assert rho(session.params.W) == pytest.approx(1.2, rel=1e-9)
    assert session.edited == {"W"} and session.params.U is U_before
    assert not rec.of("message")


@pytest.mark.parametrize("change", [{"seed": 7}, {"n_s": 20}, {"init": "orthogonal"},
                                    {"u_scale": 2.0}, {"ba_scale": 0.5}])
def test_redraw_fields_replace_hand_edits_with_a_message(session, change):
    session.set_weight("U", 0, 0, 5.0)
    rec = Recorder(session)
    assert session.apply(**change) == []
    assert session.edited == set()
    fresh = Session(session.config)
    for name in ("U", "W", "V", "ba", "by"):
        assert np.array_equal(getattr(session.params, name), getattr(fresh.params, name)), name
    (message,) = rec.of("message")
    assert "U" in message["text"] and "replaced" in message["text"]


def test_reinitialise_replaces_edits_with_the_seed_draw(session):
    session.set_weight("V", 1, 1, -3.0)
    session.set_matrix("W", np.eye(32))
    assert session.edited == {"V", "W"}
    session.reinitialise()
    fresh = Session()
    assert session.edited == set()
    assert np.array_equal(session.params.W, fresh.params.W)
    assert np.array_equal(session.params.V, fresh.params.V)


def test_zero_W_is_redrawn_on_radius_change(session):
    session.set_matrix("W", np.zeros((32, 32)))
    rec = Recorder(session)
    assert session.apply(spectral_radius=0.5) == []
    assert rho(session.params.W) == pytest.approx(0.5, rel=1e-9)
    assert "W" not in session.edited and "spectral radius 0" in rec.of("message")[0]["text"]


@pytest.mark.parametrize("change", [{"activation": "relu"}, {"T": 25}, {"m": 2},
                                    {"target_pattern": "random"}, {"input_pattern": "gaussian"},
                                    {"initial_state": "random"}])
def test_other_changes_keep_the_parameters(session, change):
    session.set_weight("W", 0, 0, 2.5)
    before = session.params
    assert session.apply(**change) == []
    assert session.params is before and session.edited == {"W"}


def test_streams_are_independent(session):
    W = session.params.W
    session.apply(T=60)
    assert np.array_equal(session.params.W, W) and session.x.shape == (8, 4, 60)
    x60 = session.x
    session.apply(target_pattern="random")
    assert session.x is x60


def test_dtype_change_converts_and_keeps_edits(session):
    session.set_weight("W", 0, 0, 0.1)
    session.apply(dtype="float32")
    assert session.params.W.dtype == np.float32 and session.x.dtype == np.float32
    assert session.params.W[0, 0] == np.float32(0.1) and session.edited == {"W"}
    fresh = Session(session.config)
    assert np.array_equal(session.params.U, fresh.params.U)      # unedited ones are the seed's draw


def test_shrinking_T_and_m_clamps_the_selection(session):
    session.set_timestep(30)
    session.set_batch(3)
    rec = Recorder(session)
    session.apply(T=10, m=2)
    assert session.t == 9 and session.b == 1
    assert rec.of("timestep") == [{"t": 9}] and rec.of("batch")[0]["b"] == 1
    assert session.set_timestep(1000) == 9 and session.set_timestep(-5) == 0


def test_refused_changes_change_nothing(session):
    rec = Recorder(session)
    before = (session.config, session.params, session.x, session.request_id)
    for kwargs in ({"n_s": 0}, {"n_y": 3}, {"activation": "softmax"}, {"T": 2.5},
                   {"spectral_radius": float("nan")}, {"bogus": 1}):
        problems = session.apply(**kwargs)
        assert problems and all(p.message for p in problems)
        assert (session.config, session.params, session.x, session.request_id) == before
    for args in (("W", 0, 0, float("nan")), ("W", 0, 0, 2e6), ("W", 32, 0, 1.0),
                 ("W", 0, -1, 1.0), ("Q", 0, 0, 1.0), ("W", True, 0, 1.0), ("W", 0, 0, "1")):
        assert session.set_weight(*args), args
    assert session.set_matrix("W", np.zeros((3, 3)))
    assert session.set_matrix("U", np.full((32, 8), np.inf))
    assert (session.config, session.params, session.request_id) == before[:2] + before[3:]
    assert session.edited == set() and not session.dirty
    assert rec.names().count("problems") >= 10 and "config" not in rec.names()
    assert session.apply(T=20) == [] and session.problems == []
    assert rec.of("problems")[-1] == {"problems": []}


def test_stale_results_are_dropped_and_busy_is_reported(session):
    rec = Recorder(session)
    first = session.request()
    session.set_weight("W", 0, 0, 1.0)
    second = session.request()
    assert second.id > first.id
    assert session.accept(compute(first)) is False and session.result is None
    assert session.busy
    assert session.accept(compute(second)) is True and session.result.request_id == second.id
    assert not session.busy and not session.needs_compute
    assert [p["busy"] for p in rec.of("busy")] == [True, False]
    assert len(rec.of("result")) == 1
    session.set_batch(2)                  # gradient flow is per batch element
    assert session.needs_compute


def test_snapshots_are_isolated_from_later_edits(session):
    request = session.request()
    W0 = request.params.W.copy()
    session.set_weight("W", 0, 0, 9.0)
    session.apply(T=12)
    assert np.array_equal(request.params.W, W0) and request.x.shape == (8, 4, 40)
    assert request.config.T == 40
    with pytest.raises(ValueError):
        session.x[0, 0, 0] = 1.0          # derived data is read-only, shared safely


def test_compute_now_matches_the_engine(session):
    from rnnviz.engine.rnn import forward
    result = session.compute_now()
    trace = forward(session.params, session.x, session.s0, activation="tanh")
    assert np.array_equal(result.trace.s, trace.s)
    assert np.isfinite(result.grads.loss) and result.warning is None
    assert result.compute_ms > 0 and result.nonfinite_steps.size == 0


def test_result_carries_the_last_loss_gradient(session):
    from rnnviz.engine import forward, last_loss_gradient
    result = session.compute_now()
    trace = forward(session.params, session.x, session.s0, activation="tanh")
    expected = last_loss_gradient(session.params, trace, session.targets).ds
    assert result.ds_last.shape == (session.config.n_s, session.config.m, session.config.T)
    np.testing.assert_array_equal(result.ds_last, expected)


def test_set_view_validates(session):
    rec = Recorder(session)
    assert session.set_view(panels={"flow": False}, presentation=True) == []
    assert session.view["panels"] == {"flow": False} and rec.of("view")
    assert session.set_view(panels={"flow": "no"})
    assert session.set_view(t=3)
    assert session.view["panels"] == {"flow": False}


@pytest.mark.parametrize("bad", ["LAST", "", None, 1, True, ["last"], {"last": True}, "x" * 10**5])
def test_gradient_view_accepts_total_or_last_only(session, bad):
    assert session.set_view(gradient="last") == [] and session.view["gradient"] == "last"
    problems = session.set_view(gradient=bad)
    assert problems and "view.gradient must be one of 'total', 'last'" in problems[0].message
    assert session.view["gradient"] == "last"            # unchanged
    doc = session.to_dict()
    doc["view"]["gradient"] = bad
    with pytest.raises(SessionFileError, match="view.gradient"):
        Session().from_dict(doc)


def test_redraw_seed_picks_a_new_seed(session):
    session.set_weight("W", 0, 0, 1.0)
    session.redraw_seed()
    assert session.config.seed != 0 and session.edited == set()
    assert np.array_equal(session.params.W, Session(session.config).params.W)


def test_share_code_paste(session):
    other = Session(cfg.replace(cfg.DEFAULT, activation="relu", T=17)[0])
    rec = Recorder(session)
    assert session.paste_share_code(other.share_code()) == []
    assert session.config == other.config and "loaded" in rec.names()
    before = session.config
    assert session.paste_share_code("rnnviz1:garbage!")[0].field == "share code"
    assert session.config == before


def test_choices_match_the_engine():
    from rnnviz.engine import data
    from rnnviz.engine.activations import ACTIVATIONS
    assert set(cfg.CHOICES["activation"]) == set(ACTIVATIONS)
    assert cfg.CHOICES["input_pattern"] == (*data.INPUT_PATTERNS, cfg.TASK_PATTERN)
    assert cfg.CHOICES["target_pattern"] == data.TARGET_PATTERNS
    assert cfg.CHOICES["initial_state"] == data.INITIAL_STATES


def test_compute_can_be_interrupted(session):
    from rnnviz.engine.analysis import Interrupted
    with pytest.raises(Interrupted):
        compute(session.request(), should_stop=lambda: True)


def test_exploding_warning_names_the_growth():
    s = Session(cfg.replace(cfg.DEFAULT, activation="linear", spectral_radius=1.5, T=50)[0])
    warning = s.compute_now().warning
    assert "explode" in warning and "ρ(W) = 1.5" in warning and "e+08" in warning
