"""The dock widgets beside the plots: parameters, weights, explanation."""
