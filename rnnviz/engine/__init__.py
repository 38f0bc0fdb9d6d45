"""Pure-NumPy RNN engine: cells, parameters, activations, the fast forward/BPTT and the textbook stepwise version."""


from .activations import ACTIVATIONS, Activation, get_activation
from .cells import CELLS, Cell, get_cell, register_cell
from .cells.vanilla import VanillaCell
from .network import Gradients, Trace, backward, forward, loss_and_gradients
from .parameters import Parameters
from .readout import LOSSES

__all__ = [
    "ACTIVATIONS", "Activation", "get_activation",
    "CELLS", "Cell", "get_cell", "register_cell", "VanillaCell",
    "Parameters", "LOSSES",
    "Trace", "Gradients", "forward", "backward", "loss_and_gradients",

]

# ---- init.py, data.py, analysis.py (owned by the other engine engineer: add their exports here) ----
from .analysis import (
    GradientFlow,
    Interrupted,
    LastLossGradient,
    Spectrum,
    connectivity,
    gradient_flow,
    last_loss_gradient,
    recurrent_spectra,
    spectrum,
    step_shares,
)
from .data import (
    INPUT_PATTERNS,
    TARGET_PATTERNS,
    check_pattern,
    encode_text,
    initial_state,
    make_inputs,
    make_targets,
    text_alphabet,
)
from .init import bias, init_cell_parameters, init_parameters, input_matrix, output_matrix, recurrent_matrix

__all__ += [
    "GradientFlow", "Interrupted", "Spectrum", "connectivity", "gradient_flow", "spectrum",
    "step_shares", "LastLossGradient", "last_loss_gradient", "recurrent_spectra",
    "INPUT_PATTERNS", "TARGET_PATTERNS", "check_pattern", "encode_text", "initial_state",
    "make_inputs", "make_targets", "text_alphabet",
    "bias", "init_parameters", "init_cell_parameters", "input_matrix", "output_matrix", "recurrent_matrix",
]
