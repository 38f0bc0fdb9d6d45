"""`rnnviz train`: train a preset or a session headless, with a progress line on stderr; the
curves to CSV, the trained session to a file the window opens (Qt-free)."""
from __future__ import annotations

import argparse
import csv
import io
import math
import sys
import time
from pathlib import Path

from rnnviz.state import files

MAX_ITERATIONS = 10_000_000
COLUMNS = ("iteration", "loss", "grad_norm", "grad_norm_clipped", "clipped", "rho", "sigma_max")


def train_parser(parser_class) -> argparse.ArgumentParser:
    p = parser_class(prog="rnnviz train", description="Train a preset's or a session's network on "
                     "its training task without a window (the same iterations, bit for bit, as "
                     "the window's Train button from the same set-up).")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", metavar="NAME", help="a preset with a training task "
                        "(see: rnnviz presets)")
    source.add_argument("--session", metavar="FILE", help="a session file with a training task")
    p.add_argument("--iterations", metavar="N", default="1000",
                   help="how many iterations to train (default 1000)")
    p.add_argument("--out", metavar="curves.csv", help="write one row per iteration: "
                   + ", ".join(COLUMNS) + " (and accuracy where the task has one)")
    p.add_argument("--save", metavar="trained.json", help="write the trained session")
    return p


def parse_iterations(text: str, error) -> int:
    if not text.isdigit() or len(text) > 9 or not 1 <= int(text) <= MAX_ITERATIONS:
        raise error(f"--iterations must be a whole number from 1 to {MAX_ITERATIONS:,}, "
                    f"not {text[:40]!r}")
    return int(text)


def _cell(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def csv_text(records: list, with_accuracy: bool) -> str:
    """The curves as CSV text: one row per iteration."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = COLUMNS + (("accuracy",) if with_accuracy else ())
    writer.writerow(columns)
    for r in records:
        writer.writerow([_cell(getattr(r, c)) for c in columns])
    return out.getvalue()


class Progress:
    """One line on stderr, redrawn at most 10 times a second: iteration, rate, loss."""

    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.stream, self.start, self.shown = total, stream, time.perf_counter(), -1.0

    def update(self, done: int, loss: float, final: bool = False) -> None:
        now = time.perf_counter()
        if not final and now - self.shown < 0.1:
            return
        self.shown = now
        rate = done / max(now - self.start, 1e-9)
        bar = "#" * int(30 * done / self.total)
        self.stream.write(f"\rtraining [{bar:<30}] {done}/{self.total}  {rate:,.0f} it/s  "
                          f"loss {loss:.4g}" + ("\n" if final else ""))
        self.stream.flush()


def run(args, session, error) -> int:
    """Train the session as the arguments say; returns the exit code."""
    n = parse_iterations(args.iterations, error)
    for path in (args.out, args.save):
        if path is not None:
            _check_writable(Path(path), error)
    if session.training is None:
        raise error("this set-up has no training task; open it in the window and choose one "
                    "in the Training panel, or use a train_* preset (see: rnnviz presets)")
    stream = session.start_training(n)
    progress = Progress(n)
    done = 0
    while stream.step():
        done += 1
        progress.update(done, session.run.records.latest().loss)
    last = session.run.records.latest()
    progress.update(done, last.loss if last is not None else math.nan, final=True)
    session.follow_training()
    records = session.run.records.all()
    if args.out is not None:
        with_accuracy = any(r.accuracy is not None for r in records)
        try:
            files.write_atomic(Path(args.out), csv_text(records, with_accuracy).encode("utf-8"))
        except files.FileError as exc:
            raise error(f"cannot write {args.out[:80]}: {exc}") from None
        print(f"wrote {args.out}")
    if args.save is not None:
        session.save_file(args.save)
        print(f"wrote {args.save}")
    if last is not None and last.stopped:          # a diverging run is a result, not a failure
        print(f"rnnviz: training stopped: {last.stopped}", file=sys.stderr)
    elif stream.error:
        raise error(f"training failed: {stream.error}")
    return 0


def _check_writable(path: Path, error) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise error(f"cannot write {str(path)[:80]}: {str(parent)[:80]} is not a folder")
    if path.exists() and not path.is_file():
        raise error(f"cannot write {str(path)[:80]}: it is not a regular file")
