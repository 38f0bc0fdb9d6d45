"""Presets: every shipped file parses, carries its lecture text, and the notebook preset holds
exactly the seed notebook's draws (np.random.seed(1), randn in the order x, s0, U, W, V, ba, by)."""
import numpy as np
import pytest

from rnnviz.state import config as cfg
from rnnviz.state import presets

REQUIRED = ("demo", "notebook", "vanishing", "exploding", "edge_of_chaos", "sigmoid", "irnn",
            "orthogonal", "text", "impulse")


def test_required_presets_exist_in_menu_order():
    names = presets.names()
    for name in REQUIRED:
        assert name in names
    orders = [p.order for p in presets.list_presets()]
    assert orders == sorted(orders) and names[:2] == ["demo", "notebook"]


def test_the_demo_is_the_default_configuration_with_a_guide():
    """`rnnviz` with no arguments opens this preset: Session()'s set-up, explained."""
    demo = presets.get_preset(presets.DEMO)
    assert demo.config == cfg.DEFAULT and demo.title.startswith("Start here")
    assert demo.view == {"t": cfg.DEFAULT.T - 1, "b": 0} and not demo.params and not demo.inputs
    for panel in ("inputs", "hidden states", "connectivity", "gradient heatmap", "gradient flow",
                  "softmax", "eigenvalues"):
        assert panel in demo.explanation, panel
    for action in ("Space", "last step's loss alone", "all losses", "Drag ρ(W)"):
        assert action in demo.explanation, action


def test_what_the_demo_tells_a_student_to_expect_is_what_happens():
    """The demo's numbers: dL_T/ds_t fades by more than 1e5 from T to 1 while dL/ds_t stays
    level; the flow's rate is x0.76 per step at rho 0.9, turns upwards near 1.6, x1.07 at 1.7."""
    from rnnviz.state.session import Session
    s = Session.demo()
    r = s.compute_now()
    last = np.linalg.norm(r.ds_last[:, 0, :], axis=0)
    total = np.linalg.norm(r.grads.ds[:, 0, :], axis=0)
    assert last[-1] / last[0] > 1e5
    assert 0.5 < total[-1] / total[0] < 2
    rates = {}
    for rho in (0.9, 1.55, 1.65, 1.7):
        s.apply(spectral_radius=rho)
        rates[rho] = s.compute_now().flow.rate_per_step
    assert round(rates[0.9], 2) == 0.76 and round(rates[1.7], 2) == 1.07
    assert rates[1.55] < 1 < rates[1.65]


def test_what_forget_bias_says_before_training_is_what_the_engine_gives():
    """The forget_bias preset quotes, for bias 0 and then 1, the largest unit's forget-gate
    product over the T-1 steps back, the median unit's (bias 0) and ||dc_T/dc_1||: each is the
    engine's gated analysis, to the decimal it is quoted to."""
    import re

    from rnnviz.state.session import Session
    text = presets.get_preset("forget_bias").explanation
    quoted = [float(v.replace("−", "-")) for v in re.findall(r"10\^(−?\d+\.\d)", text)]
    s = Session()
    s.load_preset("forget_bias")
    steps_back = f"over the {s.config.T - 1} steps back"
    assert steps_back in text
    measured = []
    for bias in (0.0, 1.0):
        assert s.apply(forget_bias=bias) == []
        gated = s.compute_now().gated
        measured += [gated.log10_carousel_max[0], gated.log10_block_norms["c"][0]]
        if bias == 0.0:
            measured.insert(1, gated.log10_carousel_median[0])
    assert quoted == [round(float(v), 1) for v in measured], (quoted, measured)


@pytest.mark.parametrize("preset", presets.list_presets(), ids=lambda p: p.name)
def test_preset_is_complete(preset):
    assert cfg.validate(preset.config) == []
    assert 80 <= len(preset.explanation.split()) <= 200
    assert "\n" not in preset.summary and preset.title and preset.source
    assert 0 <= preset.view["t"] < preset.config.T and 0 <= preset.view["b"] < preset.config.m


def test_scenarios_are_what_they_say():
    get = presets.get_preset
    assert get("vanishing").config.activation == "tanh" and get("vanishing").config.spectral_radius < 1
    assert get("vanishing").config.T >= 50
    assert get("sigmoid").config.activation == "sigmoid" and get("sigmoid").config.spectral_radius >= 2
    irnn = get("irnn").config
    assert (irnn.activation, irnn.init, irnn.spectral_radius, irnn.ba_scale) == ("relu", "identity", 1.0, 0.0)
    assert get("orthogonal").config.init == "orthogonal"
    text = get("text").config
    assert text.input_pattern == "text" and text.target_pattern == "next"
    assert text.n_x == len(cfg.text_alphabet(text.text))
    assert get("impulse").config.input_pattern == "impulse"
    assert abs(get("edge_of_chaos").config.spectral_radius - 1.0) < 0.05


def test_notebook_preset_holds_the_notebooks_draws():
    p = presets.get_preset("notebook")
    c = p.config
    assert (c.n_x, c.n_s, c.n_y, c.T, c.m, c.seed, c.activation) == (3, 5, 3, 4, 1, 1, "tanh")
    np.random.seed(1)
    expected = {"x": np.random.randn(3, 1, 4), "s0": np.random.randn(5, 1),
                "U": np.random.randn(5, 3), "W": np.random.randn(5, 5), "V": np.random.randn(3, 5),
                "ba": np.random.randn(5, 1), "by": np.random.randn(3, 1)}
    stored = {**p.inputs, **p.params}
    assert set(stored) == set(expected)
    for name, value in expected.items():
        assert np.array_equal(stored[name], value), name      # bit for bit
    assert c.spectral_radius == pytest.approx(np.max(np.abs(np.linalg.eigvals(expected["W"]))),
                                              rel=1e-12)


def test_unknown_preset_and_bad_documents():
    with pytest.raises(KeyError, match="vanishing"):
        presets.get_preset("nope")
    good = {"name": "x", "order": 1, "title": "t", "summary": "s", "explanation": "e",
            "source": "src", "config": cfg.to_dict(cfg.DEFAULT), "view": {"t": 0, "b": 0}}
    assert presets.parse(good).config == cfg.DEFAULT
    with pytest.raises(ValueError, match="unknown"):
        presets.parse({**good, "colour": 1})
    with pytest.raises(ValueError, match="n_s"):
        presets.parse({**good, "config": {**good["config"], "n_s": 0}})
    with pytest.raises(ValueError, match="view.t"):
        presets.parse({**good, "view": {"t": 40, "b": 0}})
    with pytest.raises(ValueError, match="params.W"):
        presets.parse({**good, "params": {"W": [[1.0]]}})
