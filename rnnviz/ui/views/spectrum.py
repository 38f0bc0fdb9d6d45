"""Eigenvalues of W in the complex plane with the unit circle; ρ(W) and σ_max(W) as numbers."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from rnnviz.state import readouts
from rnnviz.ui.views.plotbase import PlotView
from rnnviz.ui.widgets.axes import vertical_axis_room

_ANGLES = np.linspace(0, 2 * np.pi, 361)


class SpectrumView(PlotView):
    """Where the eigenvalues of W lie relative to the unit circle decides vanishing vs exploding."""

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
        self.restyle(self.style_)

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
        return (result.spectrum,)      # the same object for every partial result of a request

    def draw_result(self, result) -> None:
        spec = result.spectrum
        lam = np.asarray(spec.eigenvalues, dtype=complex)
        shown = lam[np.isfinite(lam)]
        self.eigenvalues = lam
        self.points.setData(x=shown.real, y=shown.imag)
        rho, sigma = float(spec.spectral_radius), float(spec.sigma_max)
        self.spectral_radius, self.sigma_max = rho, sigma
        r = rho if np.isfinite(rho) else 1.0
        self.radius_circle.setData(r * np.cos(_ANGLES), r * np.sin(_ANGLES))
        extent = 1.15 * max(1.0, r)
        self.plot_item.setRange(xRange=(-extent, extent), yRange=(-extent, extent), padding=0)
        self.set_title(self.plot_item, *readouts.spectrum_title(rho, sigma))
        self.readout.show_text(*readouts.spectrum_readout(lam))   # |λ| = 1 within a tolerance

    def draw_timestep(self, result) -> None:
        pass
