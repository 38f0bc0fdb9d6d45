"""Gradient-flow analysis: the Jacobian curve and BPTT norms, connectivity, step shares, spectra.

Every function asks the trace's cell (engine/cells/base.py) for the step Jacobians it needs.
"""

from __future__ import annotations

from ._common import Interrupted
from .connectivity import connectivity, step_shares
from .flow import GradientFlow, LastLossGradient, gradient_flow, last_loss_gradient
from .spectrum import Spectrum, recurrent_spectra, spectrum

__all__ = ["GradientFlow", "Interrupted", "LastLossGradient", "Spectrum", "connectivity",
           "gradient_flow", "last_loss_gradient", "recurrent_spectra", "spectrum", "step_shares"]
