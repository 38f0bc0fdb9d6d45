"""The inputs x_t as a small units × time heatmap: what the network reads at each step (for a
text input: its characters, named on the axes and quoted in the title)."""
from __future__ import annotations

from PySide6 import QtGui

from rnnviz.state import display, labels
from rnnviz.ui.views.heatmaps import HeatmapView
from rnnviz.ui.views.steps import shown_b
from rnnviz.ui.widgets.axes import text_width

PATTERN_WORDS = {"symbols": "one-hot random symbols", "gaussian": "Gaussian noise",
                 "impulse": "one impulse at t = 1", "sine": "sine waves", "text": "characters"}
MAX_ROW_NAMES = 40          # name the rows by character up to this alphabet size


class InputsView(HeatmapView):
    """x_t of the selected sequence: one row per input unit, one column per step."""

    title = "Inputs x_t"
    tooltip = ("The inputs x_t the network reads, a_t = U x_t + W s_{t−1} + b_a: one row per "
               "input unit, one column per step, for the selected sequence. One-hot inputs "
               "light one row per step; for a text input the rows are its characters and the "
               "steps show the character read.")
    colourbar_tooltip = "Colour scale of x_t: 0 (white) to the largest input, or ± the largest |x|."
    symbol = "x"
    colour_kind = "positive"

    def __init__(self, session, parent=None):
        super().__init__(session, parent)
        self.set_label(self.plot_item, "left", "input i")
        self.step_names: list[str] | None = None
        self._steps_named: tuple | None = ()        # what the bottom axis names (() : unset)
        self.row_names: list[str] | None = None
        self._rows_named: tuple | None = ()
        self.plot_item.vb.sigXRangeChanged.connect(lambda *_: self.name_steps())
        self.plot_item.vb.sigResized.connect(lambda *_: self.name_steps())

    def heatmap(self, result) -> display.Heatmap:
        return display.input_heatmap(result, shown_b(self.session, result))

    def draw_key(self, result):
        b = shown_b(self.session, result)
        return self.data(result)[1], tuple(labels.steps(self.session.config, b) or ())

    def draw_result(self, result) -> None:
        config = self.session.config
        b = shown_b(self.session, result)
        rows = labels.input_rows(config)
        n = int(result.trace.x.shape[0])
        self.row_names = rows if rows and len(rows) == n and n <= MAX_ROW_NAMES else None
        self.step_names = labels.steps(config, b)
        super().draw_result(result)
        self.name_steps()

    def name_rows(self) -> None:
        """The character of each input row on the left axis, when every one fits."""
        left = self.plot_item.getAxis("left")
        names = self.row_names
        line = QtGui.QFontMetrics(self.style_.font(self.style_.tick_pt)).height()
        fits = bool(names) and self.plot_item.vb.height() / len(names) >= 0.9 * line
        shown = (tuple(names), self.style_.tick_pt) if fits else None
        if shown != self._rows_named:
            self._rows_named = shown
            self._name_ticks(left, shown, ("character", "char"), ("input i", "i"))

    def name_steps(self) -> None:
        """The character read at each step under its column, when every one fits; else the
        step numbers (the title still quotes the text). The rows likewise."""
        self.name_rows()
        bottom = self.plot_item.getAxis("bottom")
        names = self.step_names
        shown = None
        if names:
            (x0, x1), width = self.plot_item.vb.viewRange()[0], self.plot_item.vb.width()
            per_step = width / max(x1 - x0, 1e-9)
            widest = max(text_width(self.style_.font(self.style_.tick_pt), c) for c in names)
            if per_step >= widest + 3:
                shown = (tuple(names), self.style_.tick_pt)
        if shown != self._steps_named:
            self._steps_named = shown
            self._name_ticks(bottom, shown, ("character read at step t", "step t"),
                             ("time step t",))

    def _name_ticks(self, axis, shown, named: tuple[str, ...], plain: tuple[str, ...]) -> None:
        """A name under each row or step (shown = (names, tick size)), or the plain numbers;
        the axis caption says which."""
        if shown:
            axis.setTicks([[(i + 1, c) for i, c in enumerate(shown[0])]])
            self.set_axis_label(axis, *named)
        else:
            axis.setTicks(None)
            self.set_axis_label(axis, *plain)

    def heading(self, result):
        b = shown_b(self.session, result)
        config = self.session.config
        text = labels.sentence(config, b)
        if text is not None:
            quoted = text if len(text) <= 60 else text[:57] + "…"
            return (f"Inputs x_t: “{quoted}”  ·  sequence {b + 1}", f"x_t: “{quoted}”",
                    f"x_t: “{quoted[:24]}…”", "Inputs x_t")
        words = PATTERN_WORDS.get(config.input_pattern, config.input_pattern)
        return (f"Inputs x_t: {words}  ·  sequence {b + 1}", f"x_t: {words} · seq. {b + 1}",
                "Inputs x_t")

    def describe(self, i: int, t: int, value: float) -> str:
        rows = labels.input_rows(self.session.config)
        unit = f"'{rows[i]}'" if rows and i < len(rows) else f"input {i + 1}"
        return f"{unit}, t = {t + 1}: x = {value:.4g}"
