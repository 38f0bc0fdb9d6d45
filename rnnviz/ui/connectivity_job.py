"""The input-connectivity computation the window runs on its second worker (the engine call the
connectivity view is handed, so that the view itself never calls the engine)."""
from __future__ import annotations

import numpy as np

from rnnviz.engine.analysis import connectivity


def compute_connectivity(request, should_stop=None):
    """(key, ‖∂z_t[k]/∂x_t′‖ over t′) with k the arg-max class at t, for a views.connectivity
    ConnectivityRequest; runs on a worker (or in-line for an export)."""
    _, t, b = request.key
    return request.key, np.asarray(connectivity(request.params, request.trace, t, b=b))
