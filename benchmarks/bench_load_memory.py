"""Peak memory and time of loading hostile and largest-valid session files (issue 10, item 4).

Run: .venv/bin/python benchmarks/bench_load_memory.py [case ...]   (default: every case).
Each case writes its file (up to 199 MB) to a temporary folder, then loads it in a child process
the way a user does: Session.load_file, or for *_ui as File > Open does (sessionfile.load, then
Session.load_file). It prints the child's peak resident memory (VmHWM, after building a Session)
and the part the load added, beside the bound the loader promises (sessionfile.MAX_LOAD_MEMORY,
when the rnnviz under test has one). The old loader needs ~6 GB of RAM for the first two cases.
"""
import os
import subprocess
import sys
import tempfile

SIZE = 199 * 10**6          # bytes: just under the 200 MiB file cap
CASES = {
    "empty_objects": "199 MB of {} entries in params.W",
    "zeros": "199 MB of 0.0 entries in params.W",
    "zeros_at_limit": "0.0 entries in params.W, as many as the structure limit lets through",
    "zeros_at_limit_padded": "the same, padded with spaces to 199 MB (the most text as well)",
    "largest_valid": "a valid session, every array stored at its largest (values 0.5)",
    "largest_valid_ui": "the same, opened as File > Open does (two calls)",
}

CHILD = r"""
import sys, time
from rnnviz.state import sessionfile
from rnnviz.state.session import Session

def hwm():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024

session = Session()
base = hwm()
start = time.perf_counter()
try:
    if sys.argv[2] == "ui":
        sessionfile.load(sys.argv[1])      # what File > Open does first (ui/file_actions.py)
    session.load_file(sys.argv[1])
    outcome = "loaded"
except sessionfile.SessionFileError as exc:
    outcome = "refused: " + str(exc)[:100]
print(f"{base:.0f}|{hwm():.0f}|{time.perf_counter() - start:.2f}|{outcome}")
"""


def session_head(config=None) -> bytes:
    import json

    from rnnviz.state import config as cfg
    doc = {"format": "rnnviz-session", "version": 1, "config": cfg.to_dict(cfg.DEFAULT),
           "edited": ["W"], "view": {"t": 0, "b": 0}}
    return json.dumps(doc)[:-1].encode() + b', "params": {"W": ['


def write_repeated(f, item: bytes, count: int) -> None:
    """item, item, ... (count of them), written in blocks: the parent stays small."""
    block = b",".join([item] * 100_000)
    for _ in range(count // 100_000):
        f.write(block)
        count -= 100_000
        if count:
            f.write(b",")
    if count:
        f.write(b",".join([item] * count))


def write_largest_valid(f) -> None:
    """The valid session with the most numbers: n_s = n_x = n_y = 512, m = 4, T = 5000 (the
    m x T x units cap), with U, W, V, ba, by, x and s0 all stored."""
    import json

    from rnnviz.state import config as cfg
    c = cfg.Config(n_x=512, n_s=512, n_y=512, T=5000, m=4, input_pattern="gaussian")
    assert not cfg.validate(c), cfg.validate(c)
    head = {"format": "rnnviz-session", "version": 1, "config": cfg.to_dict(c),
            "edited": ["U", "W", "V", "ba", "by"], "view": {"t": 0, "b": 0}}

    def matrix(rows, cols):
        row = b"[" + b", ".join([b"0.5"] * cols) + b"]"
        return b"[" + b",\n".join([row] * rows) + b"]"
    f.write(json.dumps(head)[:-1].encode() + b', "params": {')
    f.write(b'"U": ' + matrix(c.n_s, c.n_x) + b', "W": ' + matrix(c.n_s, c.n_s))
    f.write(b', "V": ' + matrix(c.n_y, c.n_s) + b', "ba": ' + matrix(c.n_s, 1))
    f.write(b', "by": ' + matrix(c.n_y, 1) + b'}, "inputs": {"x": [')
    x_row = matrix(c.m, c.T)
    for i in range(c.n_x):
        f.write(x_row if i == 0 else b"," + x_row)
    f.write(b'], "s0": ' + matrix(c.n_s, c.m) + b"}}")


def make(case: str, folder: str) -> str:
    from rnnviz.state import sessionfile
    path = os.path.join(folder, case + ".json")
    with open(path, "wb") as f:
        if case in ("empty_objects", "zeros"):
            head, item = session_head(), (b"{}" if case == "empty_objects" else b"0.0")
            f.write(head)
            write_repeated(f, item, (SIZE - len(head) - 3) // (len(item) + 1))
            f.write(b"]}}")
        elif case.startswith("zeros_at_limit"):
            limit = getattr(sessionfile, "LIMITS", None)
            f.write(session_head())
            write_repeated(f, b"0.0", limit.values - 100 if limit else 17_200_000)
            if case.endswith("padded"):
                pad = SIZE - f.tell() - 3
                for _ in range(pad // 10**6):
                    f.write(b" " * 10**6)
                f.write(b" " * (pad % 10**6))
            f.write(b"]}}")
        else:
            write_largest_valid(f)
    return path


def measure(path: str, mode: str) -> tuple[float, float, float, str]:
    """(baseline MB, peak MB, seconds, outcome) of a child loading path."""
    proc = subprocess.run([sys.executable, "-c", CHILD, path, mode], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        return float("nan"), float("nan"), float("nan"), \
            f"exit {proc.returncode}: {proc.stderr[-300:]}"
    base, peak, seconds, outcome = proc.stdout.strip().split("|", 3)
    return float(base), float(peak), float(seconds), outcome


def main():
    from rnnviz.state import sessionfile
    cases = sys.argv[1:] or list(CASES)
    limit = getattr(sessionfile, "MAX_LOAD_MEMORY", None)
    print(f"rnnviz from {os.path.dirname(os.path.dirname(sessionfile.__file__))}; "
          f"load average {os.getloadavg()[0]:.2f}; the load's bound: "
          + (f"{limit / 2**20:.0f} MiB above a Session's own" if limit else "none"))
    with tempfile.TemporaryDirectory() as folder:
        for case in cases:
            path = make(case.removesuffix("_ui"), folder)
            size = os.path.getsize(path)
            base, peak, seconds, outcome = measure(path, "ui" if case.endswith("_ui") else "")
            added = peak - base
            verdict = "" if not limit else (
                "; within the bound" if added * 2**20 <= limit else "; OVER THE BOUND")
            print(f"{case:<17} {size / 1e6:4.0f} MB file ({CASES[case]})\n"
                  f"    peak {peak:5.0f} MB, the load added {added:5.0f} MB{verdict}; "
                  f"{seconds:5.2f} s; {outcome}")
            os.unlink(path)


if __name__ == "__main__":
    main()
