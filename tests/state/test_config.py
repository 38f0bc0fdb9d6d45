"""Config validation: bounds, choices, cross-field rules; messages name the field and explain."""
import dataclasses

import numpy as np
import pytest

from rnnviz.state import config as cfg
from rnnviz.state.config import DEFAULT, Problem


def problems(**changes):
    return cfg.validate(dataclasses.replace(DEFAULT, **changes))


def test_default_is_valid_and_tells_the_vanishing_story():
    assert cfg.validate(DEFAULT) == []
    assert (DEFAULT.activation, DEFAULT.n_x, DEFAULT.n_y, DEFAULT.n_s, DEFAULT.T, DEFAULT.m) == \
        ("tanh", 8, 8, 32, 40, 4)
    assert DEFAULT.spectral_radius == 0.9 and DEFAULT.seed == 0 and DEFAULT.target_pattern == "next"


def test_every_field_has_label_help_and_a_limit_or_choice():
    for name in cfg.FIELDS:
        assert cfg.LABELS[name] and cfg.HELP[name]
        assert name in cfg.LIMITS or name in cfg.CHOICES, name


@pytest.mark.parametrize("field,value,words", [
    ("n_s", 0, ["n_s", "between 1 and 2048", "got 0"]),
    ("n_s", 2049, ["n_s", "2048"]),
    ("T", 5001, ["T", "5000"]),
    ("m", 257, ["m", "256"]),
    ("n_x", 513, ["n_x", "512"]),
    ("spectral_radius", 3.5, ["spectral_radius", "between 0 and 3"]),
    ("spectral_radius", float("nan"), ["spectral_radius", "finite"]),
    ("u_scale", -1.0, ["u_scale", "between 0 and 10"]),
    ("seed", -1, ["seed"]),
    ("seed", 2**31, ["seed"]),
    ("T", 4.0, ["T", "whole number"]),
    ("m", True, ["m", "whole number"]),
    ("activation", "softplus", ["activation", "'tanh'", "'softplus'"]),
    ("dtype", "float16", ["dtype", "float64"]),
    ("text", "x" * 5001, ["text", "5000"]),
    ("spectral_radius", "0.9", ["spectral_radius", "number"]),
    ("u_scale", 10**400, ["u_scale", "about 10^400"]),          # no OverflowError
    ("n_s", -10**20, ["n_s", "about -10^20"]),
    ("activation", ["tanh"], ["activation"]),
])
def test_single_field_problems_name_the_field(field, value, words):
    (p,) = problems(**{field: value})
    assert p.field == field
    for w in words:
        assert w in p.message, (w, p.message)


def test_next_targets_need_n_y_equal_n_x():
    (p,) = problems(n_y=5)
    assert p == Problem("n_y", "n_y must equal n_x (8) for 'next' targets: the target is the next "
                               "input symbol")
    assert problems(n_y=5, target_pattern="random") == []


def test_text_input_sets_n_x_to_the_alphabet_size():
    text = "hello, world"            # 9 distinct characters
    (p,) = problems(input_pattern="text", text=text, T=10)
    assert p.field == "n_x" and "alphabet size (9)" in p.message
    assert problems(input_pattern="text", text=text, T=10, n_x=9, n_y=9) == []
    (p,) = problems(input_pattern="text", text=text, T=13, n_x=9, n_y=9)
    assert p.field == "T" and "length (12)" in p.message


def test_cross_field_limits():
    (p,) = problems(init="sparse", n_s=10, sparse_k=15)
    assert p.field == "sparse_k" and "n_s (10)" in p.message
    assert problems(init="gaussian", n_s=10, sparse_k=15) == []   # irrelevant without sparse init
    (p,) = problems(target_pattern="copy", copy_delay=40)
    assert p.field == "copy_delay" and "T (40)" in p.message
    (p,) = problems(n_s=2048, T=5000, m=2)
    assert "n_s × m × T" in p.message and "reduce" in p.message
    assert problems(n_s=2048, T=5000, m=1) == []


def test_replace_never_clamps_and_returns_the_old_config_on_problems():
    new, ps = cfg.replace(DEFAULT, n_s=100000)
    assert new is DEFAULT and ps[0].field == "n_s"
    new, ps = cfg.replace(DEFAULT, T=np.int64(12), spectral_radius=1)
    assert ps == [] and new.T == 12 and type(new.T) is int and type(new.spectral_radius) is float
    new, ps = cfg.replace(DEFAULT, hidden=3)
    assert new is DEFAULT and ps[0].field == "hidden"


def test_from_dict_is_strict():
    d = cfg.to_dict(DEFAULT)
    assert cfg.from_dict(d) == (DEFAULT, [])
    c, ps = cfg.from_dict({**d, "extra": 1})
    assert c is None and ps[0].field == "extra"
    d2 = dict(d)
    del d2["T"]
    c, ps = cfg.from_dict(d2)
    assert c is None and "missing" in ps[0].message
    c, ps = cfg.from_dict({"T": 12}, base=DEFAULT)
    assert c.T == 12 and ps == []
    c, ps = cfg.from_dict({**d, "T": "12"})
    assert c is None and ps[0].field == "T"
    assert cfg.from_dict([1, 2])[0] is None
