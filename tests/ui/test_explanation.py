"""The explanation dock: the preset's title and text, 'modified from', font scale."""
import pytest

from rnnviz.state import presets
from rnnviz.state.session import Session
from rnnviz.ui.docks.explanation import ExplanationDock
from rnnviz.ui.docks.parameters import ParameterDock


@pytest.fixture
def session():
    return Session()


@pytest.fixture
def dock(qtbot, session):
    widget = ExplanationDock(session)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def first_words(text, n=6):
    return " ".join(text.split()[:n]).strip("*_#")


def test_preset_chosen_in_editors_shows_its_explanation(qtbot, dock, session):
    editors = ParameterDock(session)
    qtbot.addWidget(editors)
    for preset in presets.list_presets():
        editors.preset_combo.setCurrentIndex(editors.preset_combo.findData(preset.name))
        text = dock.plain_text()
        assert preset.title in text
        assert "Modified" not in text
        line = next(l for l in preset.explanation.splitlines() if l.strip())
        word = max(line.split(), key=len).strip("*_`.,:;()")
        assert word in text, (preset.name, word)


def test_edit_away_from_preset_says_modified(dock, session):
    preset = presets.list_presets()[0]
    session.load_preset(preset.name)
    assert "Modified" not in dock.plain_text()
    session.apply(seed=session.config.seed + 1)
    assert f"Modified from preset “{preset.title}”" in dock.plain_text()
    session.load_preset(preset.name)
    assert "Modified" not in dock.plain_text()
    session.set_weight("W", 0, 0, 0.5)
    assert "Modified" in dock.plain_text()


def test_formulas_in_unicode_without_preset(dock, session):
    assert dock.preset() is None                    # Session(): no preset, the model's text
    assert "Custom set-up" in dock.plain_text()
    assert "‖∂s_T/∂s_t‖ ≤ (γ·σ_max(W))^(T−t)" in dock.plain_text()


def test_font_scale(dock):
    base = dock.browser.document().defaultFont().pointSizeF()
    dock.set_font_scale(2.0)
    assert dock.browser.document().defaultFont().pointSizeF() == pytest.approx(2 * base, rel=0.01)
    dock.set_font_scale(1.0)
    assert dock.browser.document().defaultFont().pointSizeF() == pytest.approx(base, rel=0.01)


@pytest.mark.parametrize("cell, says, not_says", [
    ("lstm", ("c_t = f ⊙ c_{t−1} + i ⊙ g", "h_t = o ⊙ tanh(c_t)", "diag(Π_{k=t+1..T} f_k)"),
     "(γ·σ_max(W))^(T−t)"),
    ("gru", ("h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}", "diag(Π_{k=t+1..T} z_k)"), "(γ·σ_max(W))^(T−t)"),
])
def test_a_custom_gated_set_up_shows_its_own_cell_and_not_the_vanilla_bound(dock, session, cell,
                                                                          says, not_says):
    session.apply(cell=cell)
    text = dock.plain_text()
    assert "Custom set-up" in text
    for formula in says:
        assert formula in text, (cell, formula)
    assert not_says not in text
    session.apply(cell="vanilla")                   # and back: the vanilla cell's text again
    assert "‖∂s_T/∂s_t‖ ≤ (γ·σ_max(W))^(T−t)" in dock.plain_text()
