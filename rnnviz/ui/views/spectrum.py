"""Eigenvalues of W in the complex plane with the unit circle; ρ(W) and σ_max(W) as numbers."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from rnnviz.state import cellinfo, readouts
from rnnviz.ui.views.plotbase import PlotView
from rnnviz.ui.widgets.axes import vertical_axis_room

_ANGLES = np.linspace(0, 2 * np.pi, 361)


class SpectrumView(PlotView):
    """Where the eigenvalues of W lie relative to the unit circle decides vanishing vs exploding."""

    always_reads_out = True
    title = "Spectrum of W"
    tooltip = ("Eigenvalues λ_i of the recurrent matrix W in the complex plane, with the unit "
               "circle |λ| = 1 (dashed) and the spectral radius ρ(W) = max|λ_i| (dotted). "
               "σ_max(W) is the largest singular value: ‖∂s_T/∂s_t‖ ≤ (γ σ_max(W))^(T−t).")
    timestep_events = ()            # nothing here depends on t

    def __init__(self, session, parent=None):
        super().__init__(session, parent)
        self.plot_item = self.graphics.addPlot()
        self.plot_item.setMenuEnabled(False)
        self.plot_item.setAspectLocked(True)
        self.set_label(self.plot_item, "bottom", "Re λ")
        self.set_label(self.plot_item, "left", "Im λ")
        self.unit_circle = pg.PlotDataItem(np.cos(_ANGLES), np.sin(_ANGLES))
        self.radius_circle = pg.PlotDataItem(np.cos(_ANGLES), np.sin(_ANGLES))
        self.points = pg.ScatterPlotItem(size=8)
        self.points.setToolTip(self.tooltip)
        for item in (self.unit_circle, self.radius_circle, self.points):
            self.plot_item.addItem(item)
        self.eigenvalues = np.zeros(0, complex)
        self.spectral_radius = float("nan")
        self.sigma_max = float("nan")
        self.choice = QtWidgets.QComboBox(self.graphics)    # which recurrent block (gated cells)
        self.choice.setObjectName("spectrum_choice")
        self.choice.setToolTip("Which recurrent matrix the eigenvalues are of: a gated cell has one "
                               "block of W per gate (it opens on the one of largest ρ)")
        self.choice.activated.connect(lambda i: self.choose(self.choice.itemData(i)))
        self.choice.hide()
        self.picked: str | None = None          # the user's choice (None: the largest-ρ block)
        self.shown_label = "W"
        self.restyle(self.style_)

    def choose(self, label: str) -> None:
        """Show the eigenvalues of this recurrent block (e.g. "W_f")."""
        self.picked = label
        self.schedule(result=True)

    def _sync_choice(self, result) -> None:
        labels = tuple(getattr(result, "spectra", {}) or ())
        if tuple(self.choice.itemData(i) for i in range(self.choice.count())) != labels:
            self.choice.blockSignals(True)
            self.choice.clear()
            for label in labels:
                self.choice.addItem(label, label)
            self.choice.blockSignals(False)
            self.choice.adjustSize()
            self.choice.move(4, 2)
        self.choice.setVisible(len(labels) > 1)
        index = self.choice.findData(self.shown_label)
        if index >= 0:
            self.choice.setCurrentIndex(index)

    def shown_spectrum(self, result):
        """(label, Spectrum) the view shows: the picked block, else the result's own."""
        spectra = getattr(result, "spectra", None) or {}
        if self.picked in spectra:
            return self.picked, spectra[self.picked]
        return getattr(result, "spectrum_label", "W"), result.spectrum

    def label_rooms(self, label=None) -> list[tuple[str, int]]:
        """With the block box at the top left (gated cells), the title ends at the plot area's
        right edge, clear of it."""
        vb = self.plot_item.vb.sceneBoundingRect()
        if label is not self.plot_item.titleLabel or self.choice.isHidden() or vb.width() <= 1:
            return super().label_rooms(label)
        return [("right", int(max(40.0, vb.right() - (self.choice.x() + self.choice.width() + 8))))]

    def restyle(self, style) -> None:
        # A fixed width: with the aspect locked, a left axis that widened for '−0.5' would
        # narrow the plot, which widens the range to whole ticks ('−1'), which narrows the
        # axis, ... for ever.
        self.plot_item.getAxis("left").setWidth(
            vertical_axis_room(style.font(style.tick_pt), style.font(), "−1.5"))
        self.unit_circle.setPen(style.pen(style.foreground, 1.5, dash=True))
        p = style.pen(style.cursor, 1.5)
        p.setStyle(pg.QtCore.Qt.DotLine)
        self.radius_circle.setPen(p)
        self.points.setBrush(pg.mkBrush(style.eigen))
        self.points.setPen(pg.mkPen(style.background, width=0.5))
        self.points.setSize(6 + style.line_width * 2)

    def draw_key(self, result):
        # the same objects for every partial result of a request
        return (result.spectrum, self.shown_spectrum(result)[1])

    def draw_result(self, result) -> None:
        label, spec = self.shown_spectrum(result)
        self.shown_label = label
        self._sync_choice(result)
        lam = np.asarray(spec.eigenvalues, dtype=complex)
        shown = lam[np.isfinite(lam)]
        self.eigenvalues = lam
        self.points.setData(x=shown.real, y=shown.imag)
        rho, sigma = float(spec.spectral_radius), float(spec.sigma_max)
        self.spectral_radius, self.sigma_max = rho, sigma
        r = rho if np.isfinite(rho) else 1.0
        self.radius_circle.setData(r * np.cos(_ANGLES), r * np.sin(_ANGLES))
        extent = float(np.ceil(11.5 * max(1.0, r)) / 10.0)   # 1.15 max(1, rho), up to a step of 0.1
        # (steady while training moves rho a little: a new range re-draws the axes, paints twice)
        self.show_range(self.plot_item, (-extent, extent), (-extent, extent))
        L = label
        which = "" if len(getattr(result, "spectra", {}) or ()) <= 1 else \
            (" (largest ρ of the blocks)" if label == result.spectrum_label else " (a gate block)")
        self.set_title(self.plot_item, *readouts.spectrum_title(rho, sigma, L, which))
        info = cellinfo.describe(result.trace.cell)
        self.graphics.setToolTip(self.tooltip if result.trace.cell == "vanilla" else
                                 f"Eigenvalues λ_i of the {info.label}'s recurrent block {L} in the "
                                 f"complex plane, with the unit circle |λ| = 1 (dashed) and ρ({L}) "
                                 f"(dotted). Pick a block at the top left. {info.bound}.")
        self.readout.show_text(*readouts.spectrum_readout(lam))   # |λ| = 1 within a tolerance

    def draw_timestep(self, result) -> None:
        pass
