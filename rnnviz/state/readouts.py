"""The numbers the plots state in words (counts, rates, captions), computed Qt-free so that each
says exactly what it counts, with its tolerance, and can be tested without a window."""
from __future__ import annotations

import numpy as np

# |λ| within this (relative) distance of 1 counts as on the unit circle: an orthogonal W
# scaled to ρ = 1 has |λ| = 1 ± ~1e-15 from rounding, which is neither inside nor outside.
UNIT_CIRCLE_TOL = 1e-9
VANISHING, EXPLODING = 0.98, 1.02      # rate per step: below vanishes, above explodes
REACH_SHARES = (0.01, 0.5)             # connectivity: inputs at >= 1 % and >= 50 % of the strongest


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 eigenvalue', '2 eigenvalues'."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def unit_circle_counts(eigenvalues, tol: float = UNIT_CIRCLE_TOL) -> tuple[int, int, int]:
    """(inside, on, outside) the unit circle among the finite eigenvalues, |λ| = 1 within tol."""
    lam = np.asarray(eigenvalues, dtype=complex)
    r = np.abs(lam[np.isfinite(lam)])
    outside = int(np.sum(r > 1 + tol))
    inside = int(np.sum(r < 1 - tol))
    return inside, int(r.size) - inside - outside, outside


def spectrum_readout(eigenvalues) -> tuple[str, str]:
    """(full, short) line under the eigenvalue plot: how many lie inside, on, outside |λ| = 1."""
    lam = np.asarray(eigenvalues, dtype=complex)
    inside, on, outside = unit_circle_counts(lam)
    parts = [f"{outside} outside"]
    if on:
        parts.append(f"{on} on it (|λ| = 1 within {UNIT_CIRCLE_TOL:g})")
    parts.append(f"{inside} inside")
    bad = lam.size - inside - on - outside
    tail = f"; {plural(bad, 'eigenvalue')} not finite" if bad else ""
    full = f"{plural(lam.size, 'eigenvalue')}: {', '.join(parts)} the unit circle{tail}"
    short = f"{outside} of {lam.size} outside |λ| = 1" + (f", {on} on it" if on else "")
    return full, short


def spectrum_title(rho: float, sigma: float, L: str = "W", which: str = "") -> tuple[str, ...]:
    """The eigenvalue plot's title and shorter variants (a comma, never a product-like dot),
    for the recurrent matrix L (a gated cell's block, e.g. W_f; which: why that one)."""
    return (f"Eigenvalues of {L}{which}<br>ρ({L}) = {rho:.3g},  σ_max({L}) = {sigma:.3g}",
            f"ρ({L}) = {rho:.3g},<br>σ_max({L}) = {sigma:.3g}",
            f"{L}: ρ = {rho:.3g},<br>σ_max = {sigma:.3g}" if L != "W" else
            f"ρ = {rho:.3g},<br>σ_max = {sigma:.3g}")


def connectivity_reach(values, t: int) -> tuple[str, str]:
    """(full, short) readout of the connectivity bars at t: how many inputs t' <= t reach at
    least 1 % and at least 50 % of the strongest one (what the counts count, said plainly)."""
    older = np.asarray(values, dtype=np.float64)[: t + 1]
    older = np.where(np.isfinite(older), older, 0.0)
    top = float(older.max()) if older.size else 0.0
    if top <= 0:
        counts = [0 for _ in REACH_SHARES]
    else:
        counts = [int(np.sum(older >= share * top)) for share in REACH_SHARES]
    n = t + 1
    full = (f"▲ Input connectivity ‖∂z_t[k]/∂x_t′‖ of the output at t = {n} (k = arg max): "
            f"{counts[0]} of {plural(n, 'input')} reach ≥ 1 % of the strongest, "
            f"{counts[1]} reach ≥ 50 %")
    short = (f"▲ output at t = {n}: {counts[0]} of {n} inputs ≥ 1 % of the strongest, "
             f"{counts[1]} ≥ 50 %")
    return full, short


def rate_words(rate: float, T: int | None = None, overflowed: bool | None = None) -> str:
    """'×0.83 per step back in time: vanishing' and the like.

    A rate needs at least two steps (T >= 2); 'overflow' is said only when values overflowed
    (overflowed None: assume so for a non-finite rate, as before)."""
    if T is not None and T < 2:
        return "T = 1: no step back in time, so no rate to measure"
    if not np.isfinite(rate):
        if overflowed is False:
            return "rate per step: not defined (the Jacobian is zero)"
        return "rate per step: not finite (overflow)"
    kind = "vanishing" if rate < VANISHING else "exploding" if rate > EXPLODING else "near 1: neither"
    return f"×{rate:.3g} per step back in time: {kind}"


def rate_is_alarming(rate: float, T: int, overflowed: bool) -> bool:
    """Whether the rate line is a warning (red): exploding, or a rate lost to overflow."""
    if T < 2:
        return False
    return bool(overflowed) if not np.isfinite(rate) else rate > EXPLODING


def radius_note(config_radius: float, rho: float | None, W_edited: bool) -> str | None:
    """Why the spectral-radius field does not describe the W in use (None when it does).

    rho: ρ(W) of the current W when measured (None: not yet)."""
    if rho is None:
        return "ρ(W) of the hand-edited W is being measured …" if W_edited else None
    if abs(rho - config_radius) <= 1e-6 * max(1.0, abs(rho)):
        return None
    why = "hand edits made" if W_edited else "the stored W has"
    return (f"ρ field: not the current W's: {why} ρ(W) = {rho:.3g}. Setting the field "
            f"rescales W to it.")
