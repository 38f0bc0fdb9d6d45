"""Pure-NumPy RNN engine: parameters, activations, the fast forward/BPTT and the textbook stepwise version."""


from .activations import ACTIVATIONS, Activation, get_activation
from .parameters import Parameters
from .rnn import Gradients, Trace, VanillaCell, backward, forward, loss_and_gradients

__all__ = [
    "ACTIVATIONS", "Activation", "get_activation",
    "Parameters",
    "Trace", "Gradients", "VanillaCell", "forward", "backward", "loss_and_gradients",

]

# ---- init.py, data.py, analysis.py (owned by the other engine engineer: add their exports here) ----
