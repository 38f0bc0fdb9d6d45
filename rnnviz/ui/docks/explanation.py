"""The explanation dock: the current preset's title and text, and whether the user changed it."""
from __future__ import annotations

from PySide6 import QtGui, QtWidgets

from rnnviz.state import presets
from rnnviz.ui.docks.parameters import preset_modified

MODEL_TEXT = """\
The network reads the inputs x₁ … x_T one step at a time:

- a_t = U x_t + W s_{t−1} + b_a, &nbsp; s_t = f(a_t) &nbsp; (hidden state)
- y_t = softmax(V s_t + b_y) &nbsp; (output), loss L = −(1/m) Σ_b Σ_t log y_t[target]

Backpropagation through time multiplies one Jacobian ∂s_t/∂s_{t−1} = diag(f′(a_t)) W per step, \
so ‖∂s_T/∂s_t‖ ≤ (γ·σ_max(W))^(T−t) with γ = sup|f′|: gradients vanish when γ·σ_max(W) < 1 \
and can explode when the spectral radius ρ(W) > 1.
"""

CUSTOM_TEXT = ("No preset is loaded: this is your own set-up. Choose a preset in the Parameters "
               "dock (or the Presets menu) for a guided scenario.")


def _escape(text: str) -> str:
    """Escape characters that markdown would treat as markup in a plain title."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")


class ExplanationDock(QtWidgets.QDockWidget):
    """Dock showing what the current preset demonstrates and what to look at."""

    def __init__(self, session, parent=None):
        super().__init__("Explanation", parent)
        self.setObjectName("explanation")
        self.session = session
        self.browser = QtWidgets.QTextBrowser()
        self.browser.setObjectName("explanation_text")
        self.browser.setOpenExternalLinks(True)
        self.browser.setToolTip("What the current preset shows, and why it happens.")
        self.setWidget(self.browser)
        self._base_pt = self.browser.font().pointSizeF()
        if self._base_pt <= 0:
            self._base_pt = 10.0
        self.font_scale = 1.0
        self._shown = None
        self.refresh()
        unsubscribe = session.events.subscribe(self._on_event)
        self.destroyed.connect(lambda *_: unsubscribe())

    def _on_event(self, name: str, *args, **payload) -> None:
        if name in ("config", "params", "loaded"):
            self.refresh()

    def preset(self):
        """The session's current preset, or None."""
        name = self.session.preset_name
        if name is None:
            return None
        try:
            return presets.get_preset(name)
        except (KeyError, ValueError):
            return None

    def is_modified(self, preset) -> bool:
        """Whether the session differs from the preset (settings or hand-edited weights)."""
        return preset_modified(self.session, preset)

    def markdown(self) -> str:
        """The text shown, as markdown."""
        preset = self.preset()
        if preset is None:
            return f"## Custom set-up\n\n{CUSTOM_TEXT}\n\n### The model\n\n{MODEL_TEXT}"
        parts = [f"## {_escape(preset.title)}"]
        if self.is_modified(preset):
            parts.append(f"*Modified from preset “{_escape(preset.title)}”: choose it again "
                         "to go back to its settings.*")
        if preset.summary:
            parts.append(f"**{_escape(preset.summary)}**")
        parts.append(preset.explanation)
        if preset.source:
            parts.append(f"*Source: {preset.source}*")
        return "\n\n".join(parts)

    def refresh(self, force: bool = False) -> None:
        """Rebuild the text from the session (only when it changed: sliders send many events)."""
        text = self.markdown()
        if text == self._shown and not force:
            return
        self._shown = text
        bar = self.browser.verticalScrollBar()
        position = bar.value()
        self.browser.setMarkdown(text)
        bar.setValue(position)

    def set_font_scale(self, f: float) -> None:
        """Scale the text (presentation mode uses about 1.6-2)."""
        self.font_scale = float(f)
        font = QtGui.QFont(self.browser.font())
        font.setPointSizeF(self._base_pt * self.font_scale)
        self.browser.document().setDefaultFont(font)
        self.browser.setFont(font)
        self.refresh(force=True)

    def plain_text(self) -> str:
        """The text as shown, without markup (for tests and the clipboard)."""
        return self.browser.toPlainText()
