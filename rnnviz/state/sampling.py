"""Text sampled from the network training on the "text" task, for the window's "sample" lane (Qt-free).

The window asks about once a second while a run trains: a SampleRequest carries a private copy
of the parameters shown, and sample() runs on the worker (engine/train.sample_text, min-char-rnn's
sampler: each character drawn from softmax(z_t / temperature) and fed back). The characters are
drawn from a generator fixed by the training seed, so two samples differ only because the
weights (or the temperature) did: a class watches noise turn into words.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.engine.data import text_alphabet
from rnnviz.engine.tasks import default_text
from rnnviz.engine.train import sample_text

LANE = "sample"
TEMPERATURE_LIMITS = (0.1, 2.0)      # the window's temperature slider
DEFAULT_TEMPERATURE = 0.8
SAMPLE_LENGTH = 240                  # characters per sample
SAMPLE_STREAM = 7                    # default_rng([training seed, SAMPLE_STREAM + 2**32])


@dataclass(frozen=True)
class SampleRequest:
    """What one sample needs; `id` grows with every request (latest wins on the lane)."""

    id: int
    params: object               # engine Parameters: a private copy
    alphabet: str
    activation: str
    temperature: float
    length: int
    seed: int
    prime: str
    iteration: int | None        # the training iteration of the parameters (for the label)


@dataclass(frozen=True)
class SampleResult:
    request_id: int
    text: str
    temperature: float
    iteration: int | None
    error: str | None = None     # why no text could be sampled (non-finite output, ...)


def why_not(workspace) -> str | None:
    """Why the workspace cannot be sampled from (None: it can)."""
    training = workspace.training
    if training is None or training.task != "text":
        return "sampling needs the text task"
    if workspace.config.cell != "vanilla":
        return "sampling text is written for the vanilla cell (it carries s alone)"
    if not workspace.params_ready:
        return "the weights are still being drawn"
    return None


def task_text(training) -> str:
    """The text the text task trains on (its option, or the shipped default)."""
    text = dict(training.task_options).get("text")
    return default_text() if text is None else text


def sample_request(workspace, request_id: int, temperature: float = DEFAULT_TEMPERATURE,
                   length: int = SAMPLE_LENGTH) -> SampleRequest | None:
    """A request for the parameters the views show, or None when why_not() says no."""
    if why_not(workspace) is not None:
        return None
    lo, hi = TEMPERATURE_LIMITS
    text = task_text(workspace.training)
    return SampleRequest(id=int(request_id), params=workspace.params.copy(),
                         alphabet=text_alphabet(text), activation=workspace.config.activation,
                         temperature=min(max(float(temperature), lo), hi), length=int(length),
                         seed=workspace.training.seed, prime=text[0],
                         iteration=workspace.selection_iteration)


def sample(request: SampleRequest, should_stop=None) -> SampleResult:
    """The lane's job: sample the text (never raises; a failure comes back as `error`)."""
    rng = np.random.default_rng([request.seed, SAMPLE_STREAM + 2**32])
    try:
        text = sample_text(request.params, request.alphabet, rng, request.length,
                           temperature=request.temperature, prime=request.prime,
                           activation=request.activation)
    except ValueError as exc:
        return SampleResult(request.id, "", request.temperature, request.iteration, str(exc))
    return SampleResult(request.id, text, request.temperature, request.iteration)
