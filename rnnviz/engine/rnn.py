"""The engine's former home of the vanilla RNN, kept so `rnnviz.engine.rnn` imports keep working.

The network (any cell + the shared readout) lives in network.py, the vanilla cell in
cells/vanilla.py, the layouts in _layout.py.
"""

from __future__ import annotations

from ._layout import buffers as _buffers  # noqa: F401 (the recycler's old name)
from ._layout import nonfinite_steps as _nonfinite_steps
from ._layout import rows, seed_layout
from .cells.vanilla import VanillaCell
from .network import Gradients, Trace, backward, check_trace_and_targets, forward, loss_and_gradients

__all__ = ["Gradients", "Trace", "VanillaCell", "backward", "check_trace_and_targets", "forward",
           "loss_and_gradients", "rows", "seed_layout", "_nonfinite_steps"]
