"""Titles and axis captions that fit their room: a PlotView mixin (plotbase.PlotView).

A title shows the longest of its variants that fits, centred over its plot area, else ending at
the plot area's right edge, else starting at its left; a caption the longest that fits along its
axis. Both are fitted again when the plot area resizes, with hysteresis (a choice changes the
layout, which changes the room: two variants must not take turns). The time axis's caption can
be switched off (the window's column shares one)."""
from __future__ import annotations

import types

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6 import QtCore

from rnnviz.ui.widgets.axes import text_width


def _ask_no_width(label: pg.LabelItem) -> None:
    """LabelItem.updateMin, but asking the layout for the text's height only (no width)."""
    height = label.itemRect().height()
    label.setMinimumWidth(0)
    label.setMinimumHeight(height)
    label._sizeHint = {QtCore.Qt.SizeHint.MinimumSize: (0, height),
                       QtCore.Qt.SizeHint.PreferredSize: (0, height),
                       QtCore.Qt.SizeHint.MaximumSize: (-1, -1),
                       QtCore.Qt.SizeHint.MinimumDescent: (0, 0)}
    label.updateGeometry()



def _set_text(label: pg.LabelItem, text: str, **opts) -> None:
    """label.setText, asking the layout again only where the text's height changed (a new
    number in a title of the same height needs no layout pass, and no second paint)."""
    height = label.itemRect().height()
    label.updateGeometry = _no_layout_request          # (LabelItem.setText calls it last)
    try:
        label.setText(text, **opts)
    finally:
        del label.updateGeometry
    if label.itemRect().height() != height:
        label.updateGeometry()


def _no_layout_request() -> None:
    pass


class FittedLabels:
    """Mixin of PlotView: it provides `graphics`, `style_`, `plot_item`, `plot_items()`,
    `_fitted`, `_titles`, `_fitted_pt`, `_axis_labels`, `time_caption` and `_refitting`."""

    def set_title(self, item: pg.PlotItem, text: str, *shorter: str) -> None:
        """The plot's title: the first of text, *shorter that fits the view's width."""
        shown = (text, shorter, self.style_.title_pt, self.style_.foreground)
        if self._titles.get(id(item)) == shown:
            return                  # unchanged (re-fitted on resize): no HTML layout again
        if not item.titleLabel.isVisible() or id(item) not in self._titles:
            # (pyqtgraph's setTitle re-sets the row's height: a layout pass and a second paint
            # at every live result whose title changes; the fitted label sets its text alone)
            item.setTitle(text, size=f"{self.style_.title_pt}pt", color=self.style_.foreground)
        self._titles[id(item)] = shown
        self.fit_label(item.titleLabel, (text,) + shorter, color=self.style_.foreground)

    def fit_label(self, label: pg.LabelItem, variants, **opts) -> None:
        """Show the first variant that fits the canvas width in the style's title size.

        A pyqtgraph label asks its layout for its text's full width, which widens the whole
        plot beyond the window (everything else then sits off-centre and clipped); a fitted
        label asks for no width and shows the longest variant that fits. Re-fitted on resize."""
        if id(label) not in self._fitted:
            label.updateMin = types.MethodType(_ask_no_width, label)   # also called on resize
            for item in self.plot_items():
                self._watch_resizes(item)
        entry = (label, tuple(variants), dict(opts))
        if self._fitted.get(id(label)) == entry and self._fitted_pt.get(id(label)) == \
                self.style_.title_pt:
            return                  # fitted already (and again on every resize)
        self._fitted[id(label)] = entry
        self._fitted_pt[id(label)] = self.style_.title_pt
        self._fit(label, tuple(variants), opts)

    def label_room(self, label: pg.LabelItem | None = None) -> int:
        """Width a fitted label may take (the widest of its placements, see label_rooms)."""
        return max(room for _, room in self.label_rooms(label))

    def label_rooms(self, label: pg.LabelItem | None = None) -> list[tuple[str, int]]:
        """(justification, width) a label may take, in order of preference: a plot's title is
        centred over its plot area when it fits there (as far on either side as the nearer
        edge allows), else it ends at the plot area's right edge, else starts at its left;
        other labels span the canvas."""
        width = self.graphics.width()
        for item in self.plot_items():
            vb = item.vb.sceneBoundingRect()
            if label is item.titleLabel and vb.width() > 1:
                centre = vb.center().x()
                return [("center", int(2 * min(centre, width - centre)) - 8),
                        ("right", int(vb.right()) - 8), ("left", int(width - vb.left()) - 8)]
        return [("center", width - 16)]

    def _text_width(self, text: str, opts) -> float:
        """Width of a title's text (its widest line and the text item's margins) in the title
        size, without laying it out."""
        font = self.style_.font(self.style_.title_pt, bold=bool(opts.get("bold")))
        return max(text_width(font, line) for line in text.split("<br>")) + 8

    def _fit(self, label: pg.LabelItem, variants, opts) -> None:
        """Show the longest variant that fits, placed as label_rooms allows; keep the one shown
        unless it no longer fits or a longer one fits with room to spare (a title's choice
        changes the plot's layout, which changes the room: without the margin two variants
        could take turns forever)."""
        rooms = self.label_rooms(label)
        widths = [self._text_width(v, opts) for v in variants]

        def placed(i, margin=0):
            return next((j for j, room in rooms if widths[i] + margin <= room), None)
        choice = next((i for i in range(len(variants)) if placed(i) is not None),
                      len(variants) - 1)
        shown = label.text if label.text in variants else None
        if shown is not None:
            current = variants.index(shown)
            if placed(current) is not None and choice < current and placed(choice, 12) is None:
                choice = current              # the longer one would only just fit: stay
        justify = placed(choice) or rooms[0][0]
        text = variants[choice]
        look = (self.style_.title_pt, dict(opts), justify)
        if text != label.text or getattr(label, "_fitted_look", None) != look:
            label.setAttr("justify", justify)
            _set_text(label, text, size=f"{self.style_.title_pt}pt", **opts)
            label._fitted_look = look
        for item in self.plot_items():          # pyqtgraph gives a title row 30 px: too
            if label is item.titleLabel:        # little for two lines in projector fonts
                height = max(30.0, float(np.ceil(label.itemRect().height())))
                if label.maximumHeight() != height or getattr(label, "_row_height", None) != height:
                    label.setMaximumHeight(height)
                    item.layout.setRowFixedHeight(0, height)
                    label._row_height = height

    def title_fits(self, label: pg.LabelItem) -> bool:
        """The label's text is no wider than the canvas (what tests check)."""
        return label.itemRect().width() <= self.graphics.width()

    # ----- axis captions that fit their axis ------------------------------------------------
    def set_axis_label(self, axis: pg.AxisItem, *variants: str) -> None:
        """An axis caption: the first variant that fits along the axis (a caption longer than
        a short axis runs into the legend or is cut); re-fitted on resize and restyle."""
        key = id(axis)
        old = self._axis_labels.get(key)
        if old is not None and old[1] == variants:
            return
        self._axis_labels[key] = (axis, variants, None)
        for item in self.plot_items():         # plot areas resize when the layout settles
            self._watch_resizes(item)
        self._fit_axis_label(key)

    def refit_titles(self) -> None:
        """Fit every title again (its plot area moved or changed width)."""
        for label, variants, opts in list(self._fitted.values()):
            self._fit(label, variants, opts)

    def fit_axis_labels(self) -> None:
        """Fit every caption set with set_axis_label to its axis's current length."""
        if not shiboken6.isValid(self):
            return
        for key in list(self._axis_labels):
            self._fit_axis_label(key)

    def axis_length(self, axis: pg.AxisItem) -> float:
        """Pixels along an axis (a colour bar's axis: its strip's height)."""
        g = axis.geometry()
        return g.height() if axis.orientation in ("left", "right") else g.width()

    def _fit_axis_label(self, key: int) -> None:
        axis, variants, shown = self._axis_labels[key]
        room = self.axis_length(axis) - 4
        font = self.style_.font()
        text = next((v for v in variants if text_width(font, v) <= room), variants[-1])
        look = (text, self.style_.font_pt, self.style_.foreground)
        if look == shown:
            return
        self._axis_labels[key] = (axis, variants, look)
        axis.setLabel(text, **{"font-size": f"{self.style_.font_pt}pt",
                               "color": self.style_.foreground})
        axis.resizeEvent()      # (pyqtgraph centres a caption only when its axis resizes: a
        self._keep_caption()    # shorter one set after that would sit off centre, past the end)

    def axis_label_fits(self, axis: pg.AxisItem) -> bool:
        """The caption is no longer than its axis (what tests check)."""
        return text_width(self.style_.font(), axis.labelText) <= self.axis_length(axis)

    def _watch_resizes(self, item: pg.PlotItem) -> None:
        """Re-fit captions and titles when a plot area resizes (the layout settling)."""
        if not getattr(item.vb, "_fits_labels", False):
            item.vb._fits_labels = True
            item.vb.sigResized.connect(lambda *_: self._plot_resized())

    def _plot_resized(self) -> None:
        if not shiboken6.isValid(self) or self._refitting:
            return
        self._refitting = True          # a re-fit resizes the plot once more: not again
        try:
            self.fit_axis_labels()
            self.refit_titles()
        finally:
            self._refitting = False

    def set_label(self, item: pg.PlotItem, side: str, text: str) -> None:
        item.setLabel(side, text, **{"font-size": f"{self.style_.font_pt}pt",
                                     "color": self.style_.foreground})
        self._keep_caption()

    def set_time_caption(self, on: bool) -> None:
        """Show or hide the caption of the bottom (time) axis; its ticks stay."""
        self.time_caption = bool(on)
        bottom = self.plot_item.getAxis("bottom")
        if on and not bottom.label.isVisible() and bottom.labelText:
            bottom.showLabel(True)
        self._keep_caption()

    def _keep_caption(self) -> None:
        """pyqtgraph shows an axis caption again whenever it is set: hide it again if off."""
        if not self.time_caption and hasattr(self, "plot_item"):
            bottom = self.plot_item.getAxis("bottom")
            if bottom.label.isVisible():
                bottom.showLabel(False)
