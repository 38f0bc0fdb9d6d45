"""Initialisers: exact spectral radius for every kind, orthogonality, sparsity, determinism, errors."""

import numpy as np
import pytest

from rnnviz.engine import Parameters
from rnnviz.engine.init import RECURRENT_KINDS, bias, init_parameters, input_matrix, output_matrix, recurrent_matrix


def rho(W):
    return np.max(np.abs(np.linalg.eigvals(W)))


@pytest.mark.parametrize("kind", RECURRENT_KINDS)
@pytest.mark.parametrize("n_s", [1, 2, 7, 40, 64])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spectral_radius_is_exact(kind, n_s, seed):
    for radius in (0.5, 1.0, 2.3):
        W = recurrent_matrix(np.random.default_rng(seed), n_s, kind, radius)
        assert W.shape == (n_s, n_s) and W.dtype == np.float64
        assert abs(rho(W) - radius) <= 1e-12 * radius


@pytest.mark.parametrize("kind", RECURRENT_KINDS)
def test_radius_zero_gives_zeros(kind):
    W = recurrent_matrix(np.random.default_rng(0), 6, kind, 0.0)
    assert np.array_equal(W, np.zeros((6, 6)))


@pytest.mark.parametrize("n_s", [1, 5, 64])
def test_orthogonal_over_radius_is_orthogonal(n_s):
    r = 1.7
    Q = recurrent_matrix(np.random.default_rng(3), n_s, "orthogonal", r) / r
    np.testing.assert_allclose(Q.T @ Q, np.eye(n_s), atol=1e-13)
    np.testing.assert_allclose(Q @ Q.T, np.eye(n_s), atol=1e-13)


def test_identity_is_scaled_identity():
    np.testing.assert_array_equal(recurrent_matrix(np.random.default_rng(0), 4, "identity", 0.8),
                                  0.8 * np.eye(4))


@pytest.mark.parametrize("n_s,k", [(40, 15), (16, 3), (10, 1), (5, 15), (30, 30)])
def test_sparse_has_k_incoming_weights_per_unit(n_s, k):
    W = recurrent_matrix(np.random.default_rng(4), n_s, "sparse", 0.95, sparse_k=k)
    np.testing.assert_array_equal(np.count_nonzero(W, axis=1), np.full(n_s, min(k, n_s)))
    assert abs(rho(W) - 0.95) <= 1e-12


def test_sparse_columns_differ_between_units():
    W = recurrent_matrix(np.random.default_rng(5), 50, "sparse", 1.0, sparse_k=5)
    patterns = {tuple(np.flatnonzero(row)) for row in W}
    assert len(patterns) > 40          # each unit draws its own incoming connections


@pytest.mark.parametrize("kind", RECURRENT_KINDS)
def test_determinism_for_a_fixed_seed(kind):
    def draw(seed):
        return init_parameters(np.random.default_rng(seed), 3, 9, 4, kind=kind, spectral_radius=1.1,
                               u_scale=1.0, v_scale=0.5, ba_scale=0.2, by_scale=0.1)
    a, b, c = draw(11), draw(11), draw(12)
    for name in ("U", "W", "V", "ba", "by"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    if kind != "identity":
        assert not np.array_equal(a.W, c.W)
    assert not np.array_equal(a.U, c.U)


def test_scales_and_shapes():
    rng = np.random.default_rng(0)
    U = input_matrix(rng, 400, 100, 2.0)
    V = output_matrix(rng, 100, 400, 0.5)
    assert U.shape == (400, 100) and V.shape == (100, 400)
    assert abs(U.std() - 2.0 / np.sqrt(100)) < 0.01
    assert abs(V.std() - 0.5 / np.sqrt(400)) < 0.002
    assert bias(rng, 5, 0.0).shape == (5, 1) and not bias(rng, 5, 0.0).any()
    assert abs(bias(rng, 20000, 0.3).std() - 0.3) < 0.01


def test_zero_bias_scale_draws_nothing():
    r1, r2 = np.random.default_rng(7), np.random.default_rng(7)
    bias(r1, 5, 0.0)
    assert r1.standard_normal() == r2.standard_normal()


def test_init_parameters_builds_parameters_of_the_dtype():
    p = init_parameters(np.random.default_rng(0), 3, 5, 2, kind="sparse", spectral_radius=0.9,
                        u_scale=1, v_scale=1, ba_scale=0, by_scale=0.5, sparse_k=2,
                        dtype=np.float32)
    assert isinstance(p, Parameters) and p.dtype == np.float32
    assert (p.n_x, p.n_s, p.n_y) == (3, 5, 2)
    assert not p.ba.any() and p.by.any()
    assert abs(rho(p.W.astype(np.float64)) - 0.9) < 1e-6


@pytest.mark.parametrize("call,name", [
    (lambda: recurrent_matrix(np.random.default_rng(0), 4, "xavier", 1.0), "kind"),
    (lambda: recurrent_matrix(np.random.default_rng(0), 0, "gaussian", 1.0), "n_s"),
    (lambda: recurrent_matrix(np.random.default_rng(0), 2.5, "gaussian", 1.0), "n_s"),
    (lambda: recurrent_matrix(np.random.default_rng(0), 4, "gaussian", -1.0), "spectral_radius"),
    (lambda: recurrent_matrix(np.random.default_rng(0), 4, "gaussian", np.nan), "spectral_radius"),
    (lambda: recurrent_matrix(np.random.default_rng(0), 4, "sparse", 1.0, sparse_k=0), "sparse_k"),
    (lambda: recurrent_matrix(np.random.RandomState(0), 4, "gaussian", 1.0), "rng"),
    (lambda: recurrent_matrix(0, 4, "gaussian", 1.0), "rng"),
    (lambda: input_matrix(np.random.default_rng(0), 4, 3, -0.1), "scale"),
    (lambda: bias(np.random.default_rng(0), -1, 1.0), "n"),
    (lambda: init_parameters(np.random.default_rng(0), 3, 4, 3, kind="gaussian",
                             spectral_radius=1, u_scale=-1, v_scale=1, ba_scale=0,
                             by_scale=0), "u_scale"),
    (lambda: init_parameters(np.random.default_rng(0), 3, 4, 3, kind="gaussian",
                             spectral_radius=1, u_scale=1, v_scale=1, ba_scale=0,
                             by_scale=0, dtype=np.int32), "dtype"),
])
def test_bad_arguments_name_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}: expected"):
        call()


@pytest.mark.parametrize("kind,dtype,known", [("gaussian", np.float64, True), ("sparse", np.float64, True),
                                              ("orthogonal", np.float64, False),
                                              ("gaussian", np.float32, False)])
def test_the_draw_hands_on_the_eigenvalues_it_solved_for(kind, dtype, known):
    """init_parameters(with_eigenvalues=True): W's eigenvalues from the draw's own solve, equal to
    a fresh solve of the final W to rounding; None where there was no solve or W was rounded."""
    args = dict(kind=kind, spectral_radius=1.3, u_scale=1.0, v_scale=1.0, ba_scale=0.1,
                by_scale=0.0, dtype=dtype)
    params, lam = init_parameters(np.random.default_rng(4), 3, 40, 2, with_eigenvalues=True, **args)
    again = init_parameters(np.random.default_rng(4), 3, 40, 2, **args)
    np.testing.assert_array_equal(params.W, again.W)       # same draw with or without them
    if not known:
        assert lam is None
        return
    fresh = np.linalg.eigvals(params.W)
    order = lambda z: z[np.lexsort((np.round(z.imag, 9), np.round(z.real, 9)))]   # noqa: E731
    np.testing.assert_allclose(order(lam), order(fresh), rtol=0, atol=1e-12)
    assert np.max(np.abs(lam)) == pytest.approx(1.3, rel=1e-14)
