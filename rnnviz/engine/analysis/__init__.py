"""Gradient-flow analysis: the Jacobian curve and BPTT norms, the gated cells' carousel and
Jacobian blocks, connectivity, step shares, spectra.

Every function asks the trace's cell (engine/cells/base.py) for the step Jacobians it needs.
"""

from __future__ import annotations

from ._common import Interrupted
from .connectivity import connectivity, step_shares
from .flow import GradientFlow, LastLossGradient, gradient_flow, last_loss_gradient
from .gated import GatedFlow, carousel, gated_flow, has_carousel
from .spectrum import Spectrum, recurrent_spectra, spectrum

__all__ = ["GatedFlow", "GradientFlow", "Interrupted", "LastLossGradient", "Spectrum", "carousel",
           "connectivity", "gated_flow", "gradient_flow", "has_carousel", "last_loss_gradient",
           "recurrent_spectra", "spectrum", "step_shares"]
