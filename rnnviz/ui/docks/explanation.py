"""The explanation dock: the current preset's title and text, and whether the user changed it."""
from __future__ import annotations

import re

from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.state import cellinfo, presets
from rnnviz.ui.docks.parameters import preset_modified

MIN_PRESENTING_SCALE = 1.3     # presentation mode's text is never smaller than this ...
SENTENCE_END = re.compile(r"(?<=[.!?:])\s+")   # ... rather the text is cut after a sentence

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
        self.presenting: tuple[float, float] | None = None   # (largest, smallest) scale to fit
        self.cut = False                # presentation mode cut the text to fit (no scrolling)
        self._shown = None
        self._fit_timer = QtCore.QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self.fit)
        self.refresh()
        unsubscribe = session.events.subscribe(self._on_event)
        self.destroyed.connect(lambda *_: unsubscribe())

    def _on_event(self, name: str, *args, **payload) -> None:
        if name in ("config", "params", "loaded"):
            self.refresh()
            if self.presenting is not None:
                self._fit_timer.start()

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
            model = cellinfo.model_markdown(self.session.config.cell)
            return f"## Custom set-up\n\n{CUSTOM_TEXT}\n\n### The model\n\n{model}"
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
        if self.presenting is not None:
            self._fit_timer.start()           # fitted to the dock (see fit)
            return
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
        self._apply_scale()
        self.refresh(force=True)

    def _apply_scale(self) -> None:
        font = QtGui.QFont(self.browser.font())
        font.setPointSizeF(self._base_pt * self.font_scale)
        self.browser.document().setDefaultFont(font)
        self.browser.setFont(font)

    # ----- presentation: the largest text that fits without scrolling ----------------------
    def present(self, largest: float | None, smallest: float = MIN_PRESENTING_SCALE) -> None:
        """Fit the text to the dock: the largest scale up to `largest` at which it needs no
        scrolling, never below `smallest` (then it is cut after a sentence). None: normal."""
        self.presenting = None if largest is None else (float(largest), float(smallest))
        if self.presenting is None:
            self.cut = False
            self.refresh(force=True)
        else:
            self.fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.presenting is not None:
            self._fit_timer.start()

    def _height_needed(self, text: str) -> float:
        doc = QtGui.QTextDocument()
        doc.setDefaultFont(self.browser.font())
        doc.setDocumentMargin(self.browser.document().documentMargin())
        doc.setMarkdown(text)
        doc.setTextWidth(self.browser.viewport().width())
        return doc.size().height()

    def fit(self) -> None:
        """Choose the scale (and, if it must, the cut) for the dock's current size."""
        if self.presenting is None or not self.isVisible():
            return
        largest, smallest = self.presenting
        room = self.browser.viewport().height() - 4
        text = self.markdown()
        scale = largest
        while True:
            self.font_scale = scale
            self._apply_scale()
            if self._height_needed(text) <= room or scale <= smallest:
                break
            scale = max(smallest, scale - 0.1)
        self.cut = False
        if self._height_needed(text) > room:      # even the smallest scale needs scrolling
            text = self._cut_to_fit(text, room)
            self.cut = True
        self._shown = text
        self.browser.setMarkdown(text)
        self.browser.verticalScrollBar().setValue(0)

    def _cut_to_fit(self, text: str, room: float) -> str:
        """The longest start of the text, cut after a sentence, that fits in room (px)."""
        ends = [m.start() for m in SENTENCE_END.finditer(text)]
        for end in reversed(ends):
            shorter = self._tidy(text[:end].rstrip()) + " …"
            if self._height_needed(shorter) <= room:
                return shorter
        return text[:ends[0]] + " …" if ends else text

    @staticmethod
    def _tidy(text: str) -> str:
        """A cut text without a heading or a list item's first words dangling at its end."""
        while "\n\n" in text:
            head, _, last = text.rpartition("\n\n")
            if len(last.strip().strip("*#").strip()) >= 40 and not last.strip().endswith(":**"):
                break
            text = head.rstrip()
        return text

    def needs_scrolling(self) -> bool:
        """Whether the shown text is taller than the dock (what tests check)."""
        bar = self.browser.verticalScrollBar()
        return bar.maximum() > 0

    def plain_text(self) -> str:
        """The text as shown, without markup (for tests and the clipboard)."""
        return self.browser.toPlainText()
