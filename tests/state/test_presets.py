"""Presets: every shipped file parses, carries its lecture text, and the notebook preset holds
exactly the seed notebook's draws (np.random.seed(1), randn in the order x, s0, U, W, V, ba, by)."""
import numpy as np
import pytest

from rnnviz.state import config as cfg, presets

REQUIRED = ("notebook", "vanishing", "exploding", "edge_of_chaos", "sigmoid", "irnn",
            "orthogonal", "text", "impulse")


def test_required_presets_exist_in_menu_order():
    names = presets.names()
    for name in REQUIRED:
        assert name in names
    orders = [p.order for p in presets.list_presets()]
    assert orders == sorted(orders) and names[0] == "notebook"


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
