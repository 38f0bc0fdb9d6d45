"""Streaming jobs without Qt: every record logged in order, cancellation, failures as messages."""
from rnnviz.state.jobs import RecordLog, Stream


def counting(n):
    def make(should_stop):
        for i in range(n):
            if should_stop():
                return
            yield {"iteration": i}
    return make


def test_a_stream_logs_every_record_in_order_and_then_ends():
    log = RecordLog()
    stream = Stream(1, counting(5), log)
    steps = 0
    while stream.step():
        steps += 1
    assert steps == 5 and [r["iteration"] for r in log.all()] == [0, 1, 2, 3, 4]
    assert stream.finished and stream.error is None
    assert log.since(3) == [{"iteration": 3}, {"iteration": 4}] and log.latest() == {"iteration": 4}
    assert stream.step() is False                          # an ended stream stays ended


def test_cancel_stops_before_the_next_record():
    log = RecordLog()
    stream = Stream(2, counting(100), log)
    stream.step()
    stream.step()
    stream.cancel()
    assert stream.step() is False and len(log) == 2 and stream.finished and stream.error == "cancelled"


def test_a_failing_generator_ends_the_stream_with_its_message_and_keeps_the_records():
    def make(should_stop):
        yield 1
        raise FloatingPointError("loss is nan at iteration 2")
    log = RecordLog()
    stream = Stream(3, make, log)
    while stream.step():
        pass
    assert log.all() == [1] and stream.error == "FloatingPointError: loss is nan at iteration 2"


def test_the_generator_sees_the_workers_stop_request():
    seen = []

    def make(should_stop):
        while True:
            seen.append(should_stop())
            yield len(seen)
    log = RecordLog()
    stream = Stream(4, make, log)
    assert stream.step(lambda: False) and seen == [False]
    stream.cancel()
    assert stream.step() is False                          # cancelled before asking the generator
