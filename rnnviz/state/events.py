"""A tiny synchronous publish/subscribe hub: the session announces changes, views listen.

Every subscriber is called as ``callback(name, **payload)`` for every event, in subscription
order, on the thread that emitted (the UI thread: the session is only touched there).

Events emitted by ``Session`` and their payloads:

- ``"config"``    config: Config, changed: tuple[str, ...] (field names), request_id: int.
                  The configuration changed; x, s0, targets were re-derived. Results are stale.
- ``"params"``    names: tuple[str, ...] (the matrices that changed: "U", "W", "V", "ba", "by"),
                  edited: frozenset[str] (hand-edited matrices now), request_id: int.
                  Sent when the new matrices exist: at once for edits, rescales and small
                  draws; for a large draw (done by the worker) just before the first "result"
                  of the request that carried it. Until then ``session.params_ready`` is False.
- ``"result"``    result: compute.Result (the accepted, current result). For large set-ups a
                  request's results arrive in stages: first the fast part (trace, gradients,
                  spectrum; flow_progress 0, Jacobian curves NaN), then partial results with
                  the gradient flow filling in from t = T back (0 < flow_progress < 1), then
                  the complete one (flow_progress 1). The stages of one request share the same
                  trace, grads and spectrum objects: a view may skip what did not change.
- ``"timestep"``  t: int (0-based, 0..T-1; the UI shows t + 1).
- ``"batch"``     b: int (0..m-1), request_id: int (gradient flow is per batch element, so a
                  new computation is needed).
- ``"view"``      view: dict (the whole view state after a change of panels or other view keys).
- ``"problems"``  problems: list[Problem] (empty when earlier problems were cleared).
- ``"busy"``      busy: bool (True while a requested computation has not come back whole).
- ``"message"``   text: str (something the user should read, e.g. "hand edits replaced").
- ``"error"``     text: str, exception: BaseException | None (a subscriber or a computation
                  failed; the session itself is unchanged).
- ``"loaded"``    source: str ("preset:NAME", a file path, "sharecode", "dict"); the whole
                  session was replaced (every other view should refresh completely).
- ``"saved"``     path: str.

After "config", "params" or "batch" the UI should call ``session.request()`` and submit it to
the worker (``session.needs_compute`` says whether that is still needed).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Callback = Callable[..., Any]


class Events:
    """Synchronous event hub; a subscriber that raises does not stop the others."""

    def __init__(self) -> None:
        self._subscribers: list[Callback] = []

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call callback(name, **payload) for every event; returns a function that unsubscribes."""
        if not callable(callback):
            raise TypeError(f"callback must be callable, not {type(callback).__name__}")
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            try:
                self._subscribers.remove(callback)
            except ValueError:          # already unsubscribed
                pass
        return unsubscribe

    def emit(self, name: str, **payload: Any) -> None:
        """Deliver an event to every subscriber; failures are logged and reported as "error"."""
        failures = []
        for callback in list(self._subscribers):
            try:
                callback(name, **payload)
            except Exception as exc:    # noqa: BLE001 - one broken view must not break the rest
                log.exception("subscriber %r failed on event %r", callback, name)
                failures.append(exc)
        if name != "error":             # an "error" handler that fails is only logged
            for exc in failures:
                self.emit("error", text=f"a view failed while handling {name!r}: {exc}",
                          exception=exc)

    def __len__(self) -> int:
        return len(self._subscribers)
