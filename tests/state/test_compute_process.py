"""The views' computations in a child process (state/compute_process.py), without Qt: the
child's result is this process's bit for bit, a newer request wins, a failure or a dead child
is a message and the window's process computes instead, and only quick requests go there."""
import dataclasses
import os
import signal
import time

import numpy as np
import pytest

from rnnviz.engine.analysis import Interrupted
from rnnviz.state.compute import compute
from rnnviz.state.compute_process import (
    ComputeProcessError,
    ComputeServer,
    OffloadedCompute,
    quick,
)
from rnnviz.state.workspace import Workspace


@pytest.fixture
def server():
    s = ComputeServer()
    yield s
    s.close()


def request(**changes):
    w = Workspace()
    assert w.apply(**{"n_s": 24, "T": 30, **changes}) == []
    return w.request()


def same_result(a, b):
    assert a.request_id == b.request_id
    for name in ("s", "z", "y"):
        np.testing.assert_array_equal(getattr(a.trace, name), getattr(b.trace, name))
    np.testing.assert_array_equal(a.grads.ds, b.grads.ds)
    assert sorted(a.grads.dparams) == sorted(b.grads.dparams)
    for name, d in a.grads.dparams.items():
        np.testing.assert_array_equal(d, b.grads.dparams[name])
    assert float(a.grads.loss) == float(b.grads.loss)
    np.testing.assert_array_equal(a.flow.log10_jacobian_norm, b.flow.log10_jacobian_norm)
    np.testing.assert_array_equal(a.spectrum.eigenvalues, b.spectrum.eigenvalues)
    assert a.spectrum.sigma_max == b.spectrum.sigma_max
    assert sorted(a.derived, key=repr) == sorted(b.derived, key=repr)   # the heatmap images too
    for key, made in a.derived.items():
        if hasattr(made, "image"):
            np.testing.assert_array_equal(made.image, b.derived[key].image)


def test_the_childs_result_is_this_processs_bit_for_bit(server):
    req = request(cell="vanilla")
    same_result(server.compute(req), compute(req))
    gated = request(cell="lstm")
    same_result(server.compute(gated), compute(gated))


def test_a_newer_request_wins_and_the_abandoned_reply_is_dropped(server):
    first, second = request(), request(spectral_radius=1.3)
    with pytest.raises(Interrupted):
        server.compute(first, should_stop=lambda: True)     # the caller moved on at once
    got = server.compute(second)                            # not the first's late reply
    assert got.spectrum.spectral_radius == pytest.approx(compute(second).spectrum.spectral_radius)
    same_result(got, compute(second))


def test_a_request_the_child_cannot_compute_is_a_message(server):
    req = request()
    bad = dataclasses.replace(req, x=np.zeros((req.x.shape[0] + 1, 1, 3)))
    with pytest.raises(ComputeProcessError) as err:
        server.compute(bad)
    assert str(err.value).split(":")[0].endswith("Error")   # the child's exception, named
    same_result(server.compute(req), compute(req))           # and the child serves on


def test_a_dead_child_is_a_message_and_a_new_one_starts(server):
    req = request()
    server.compute(req)
    os.kill(server._proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while server.alive and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not server.alive
    same_result(server.compute(req), compute(req))           # ensure() started another


def test_offload_only_while_enabled_only_quick_requests_and_falls_back_on_failure(server):
    offload = OffloadedCompute()
    req = request()
    never = lambda: False  # noqa: E731
    assert offload(req, never) is None                       # no child set
    offload.server = server
    assert offload(req, never) is None                       # not enabled (not training)
    offload.enabled = True
    same_result(offload(req, never), compute(req))
    assert offload.offloaded == 1
    big = request(n_s=512, T=200)
    assert not quick(big) and offload(big, never) is None    # partial results: here
    wide = request(n_s=64, m=256, T=100)                     # quick, but a ~50 MB result
    assert not quick(wide) and offload(wide, never) is None
    bad = dataclasses.replace(req, x=np.zeros((req.x.shape[0] + 1, 1, 3)))
    assert offload(bad, never) is None                       # the worker computes it (and
    assert offload.offloaded == 1                            # reports its own error)
    offload.close()
    assert offload.server is None and not offload.enabled and not server.alive
    with pytest.raises(ComputeProcessError):                 # (a call on its way meanwhile:
        server.compute(req)                                  # no new child)
    assert not server.alive
