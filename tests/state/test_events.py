"""The event hub: delivery, unsubscribe, a failing subscriber does not break the others."""
from rnnviz.state.events import Events


def test_delivery_in_order_with_payload_and_unsubscribe():
    events, got = Events(), []
    off_a = events.subscribe(lambda name, **p: got.append(("a", name, p)))
    events.subscribe(lambda name, **p: got.append(("b", name, p)))
    events.emit("timestep", t=3)
    assert got == [("a", "timestep", {"t": 3}), ("b", "timestep", {"t": 3})]
    off_a()
    off_a()                               # twice is harmless
    events.emit("busy", busy=True)
    assert got[-1] == ("b", "busy", {"busy": True}) and len(got) == 3


def test_raising_subscriber_is_reported_and_others_still_run(caplog):
    events, got = Events(), []

    def broken(name, **payload):
        if name != "error":
            raise RuntimeError("boom")

    events.subscribe(broken)
    events.subscribe(lambda name, **p: got.append((name, p)))
    events.emit("result", result=1)
    assert got[0] == ("result", {"result": 1})
    assert got[1][0] == "error" and "boom" in got[1][1]["text"]
    assert isinstance(got[1][1]["exception"], RuntimeError)
    assert "boom" in caplog.text


def test_failing_error_handler_does_not_recurse():
    events = Events()

    def always_broken(name, **payload):
        raise ValueError(name)

    events.subscribe(always_broken)
    events.emit("config")                 # logs twice, raises nothing, terminates
    assert len(events) == 1
