"""What the plots state in words (issue 13 items 5, 7-9, 11, 12): counts with tolerances,
captions that say what they count, characters for the text preset, derived text sizes."""
import numpy as np
import pytest

from rnnviz.state import config as cfg
from rnnviz.state import labels, readouts
from rnnviz.state.session import Session


def test_an_orthogonal_w_has_its_eigenvalues_on_the_unit_circle_not_outside():
    session = Session()
    session.load_preset("orthogonal")
    lam = session.compute_now().spectrum.eigenvalues
    assert np.sum(np.abs(lam) > 1) > 0           # rounding puts some a hair outside ...
    inside, on, outside = readouts.unit_circle_counts(lam)
    assert (inside, on, outside) == (0, lam.size, 0)      # ... which is on the circle
    full, short = readouts.spectrum_readout(lam)
    assert "0 outside" in full and f"{lam.size} on it" in full and "0 of" in short


def test_counts_and_plurals():
    assert readouts.unit_circle_counts([0.5, 1 + 1e-12, 1.5j, 2.0]) == (1, 1, 2)
    assert readouts.spectrum_readout([0.3])[0].startswith("1 eigenvalue:")
    assert readouts.spectrum_readout([0.3, 0.2])[0].startswith("2 eigenvalues:")
    title = readouts.spectrum_title(0.9, 1.51)[0]
    assert "ρ(W) = 0.9,  σ_max(W) = 1.51" in title and "·" not in title


def test_the_connectivity_caption_says_what_it_counts():
    values = np.array([0.001, 0.01, 0.2, 0.6, 1.0, 7.0])      # t' = 6 lies after t = 4
    full, short = readouts.connectivity_reach(values, t=4)
    assert "4 of 5 inputs reach ≥ 1 % of the strongest" in full     # 0.01 counts: at 1 %
    assert "2 reach ≥ 50 %" in full and "within" not in full and "≥ 1 %" in short
    assert "0 of 1 input reach" in readouts.connectivity_reach(np.zeros(3), t=0)[0]


def test_rate_words_need_two_steps_and_say_overflow_only_for_overflow():
    assert readouts.rate_words(float("nan"), T=1) .startswith("T = 1: no step back")
    assert not readouts.rate_is_alarming(float("nan"), 1, overflowed=False)
    assert "overflow" not in readouts.rate_words(float("nan"), T=5, overflowed=False)
    assert "overflow" in readouts.rate_words(float("inf"), T=5, overflowed=True)
    assert readouts.rate_is_alarming(float("inf"), 5, overflowed=True)
    assert readouts.rate_is_alarming(1.3, 5, overflowed=False)
    assert not readouts.rate_is_alarming(0.8, 5, overflowed=False)


def test_t_equals_1_is_no_overflow():
    session = Session()
    assert session.apply(T=1) == []
    result = session.compute_now()
    assert not np.isfinite(result.flow.rate_per_step) and result.nonfinite_steps.size == 0


def test_the_radius_field_is_marked_when_it_no_longer_describes_w():
    session = Session()
    session.load_preset("demo")
    assert session.radius_note() is None
    session.set_weight("W", 0, 0, 5.0)
    assert "being measured" in session.radius_note()
    rho = session.compute_now().spectrum.spectral_radius
    assert rho > 4.9
    note = session.radius_note()
    assert note.startswith("ρ field: not the current W's") and f"{rho:.3g}" in note
    assert session.apply(spectral_radius=0.8) == []      # the field rescales W to it again
    session.compute_now()
    assert session.radius_note() is None


# ----- the text preset's characters ---------------------------------------------------------------
def test_text_labels_name_rows_classes_and_steps():
    preset = Session()
    preset.load_preset("text")
    c = preset.config
    assert labels.input_rows(c)[0] == "␣" and labels.classes(c) == labels.input_rows(c)
    assert "".join(labels.steps(c)).replace("␣", " ") == c.text
    assert labels.sentence(c) == c.text
    assert labels.classes(cfg.DEFAULT) is None and labels.steps(cfg.DEFAULT) is None
    short, _ = cfg.replace(c, T=10, m=3)
    assert labels.sentence(short, b=2) == c.text[2:12]


def test_a_new_sentence_derives_t_n_x_and_n_y_and_says_so():
    session = Session()
    session.load_preset("text")
    said = []
    session.events.subscribe(lambda name, **p: said.append(p["text"]) if name == "message" else None)
    assert session.apply(text="to be or not to be") == []
    c = session.config
    assert (c.T, c.n_x, c.n_y) == (18, 7, 7)
    assert any("T = 18" in m and "n_x = 7" in m and "from the text" in m for m in said)
    # a shorter T chosen by hand stays while it fits; a text it no longer fits cuts it
    assert session.apply(T=10) == [] and session.apply(text="to be or not to be, ok") == []
    assert session.config.T == 10
    assert session.apply(text="abc") == [] and session.config.T == 3
    # switching the input to text derives them too
    other = Session()
    assert other.apply(input_pattern="text") == []
    assert (other.config.T, other.config.n_x) == (len("hello world"), len(set("hello world")))


@pytest.mark.parametrize("changes", [{"text": "x" * 6000}, {"text": ""}])
def test_texts_that_cannot_work_are_still_refused(changes):
    session = Session()
    session.load_preset("text")
    before = session.config
    assert session.apply(**changes) and session.config == before
