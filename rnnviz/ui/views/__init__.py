"""The plots: one small class per plot, each drawing from the session's result (never the engine)."""
