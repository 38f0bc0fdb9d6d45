"""Issue 10 on the command line: exports on a full disk, progress of a long export."""
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FULL_AT = 20_000        # bytes: RLIMIT_FSIZE of the child, a disk that fills up mid-write


def run_with_file_size_limit(args, cwd, limit=FULL_AT):
    """`python -m rnnviz ARGS` in a child that cannot write past `limit` bytes of any file:
    each write beyond fails with EFBIG (Python ignores SIGXFSZ), as it would with ENOSPC."""
    def limit_writes():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["RNNVIZ_SETTINGS_DIR"] = str(cwd / "settings")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")    # this checkout
    return subprocess.run([sys.executable, "-m", "rnnviz", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=180, preexec_fn=limit_writes)


@pytest.mark.parametrize("view, name", [("states", "s.png"), ("flow", "f.svg"),
                                        ("window", "w.svg")])
def test_an_export_on_a_full_disk_fails_and_keeps_the_old_file(tmp_path, view, name):
    """Before: the SVG was cut off and "wrote" printed (exit 0); a PNG exited 2 but left a
    truncated file in place of the old one."""
    old = (b"an older image that must survive " * 1000)[:FULL_AT + 5000]
    (tmp_path / name).write_bytes(old)
    proc = run_with_file_size_limit(["export", "--view", view, "--out", name], tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == "" and "wrote" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith(f"rnnviz: cannot write {name}: "), lines
    assert "File too large" in lines[0] and "Traceback" not in proc.stderr
    assert (tmp_path / name).read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]     # no temporary file left


# ----- item 6: a long export says what it is doing --------------------------------------------------
def test_a_long_export_prints_its_steps_and_the_flow_percentage(tmp_path, monkeypatch, capsys):
    """`rnnviz export` at the largest sizes ran for minutes without a word. The steps are
    printed once an export has run QUIET_S seconds; here from the start (QUIET_S = 0)."""
    from rnnviz import cli
    from rnnviz.state.session import Session
    session = Session()
    assert session.apply(n_s=160, T=400) == []      # n_s^3 T = 1.6e9: the flow fills in
    session.save_file(tmp_path / "big.json")
    monkeypatch.setattr(cli.ExportProgress, "QUIET_S", 0.0)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["export", "--session", "big.json", "--view", "flow", "--size", "640x400",
                     "--out", "flow.png"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "wrote flow.png\n"
    lines = captured.err.splitlines()
    assert lines and all(line.startswith("rnnviz export: ") for line in lines), lines
    steps = [line[len("rnnviz export: "):].rsplit(" (", 1)[0] for line in lines]
    expected = ["drawing the parameters", "forward pass", "backward pass (BPTT)",
                "spectrum of W", "heatmap images", "gradient flow (Jacobian norms)"]
    assert steps[:len(expected)] == expected, steps
    flow = [s for s in steps if s.startswith("gradient flow ") and s.endswith(" %")]
    assert flow and flow[0] == "gradient flow 0 %", steps
    percentages = [int(s.split()[2]) for s in flow]
    assert percentages == sorted(percentages)
    assert steps[-2:] == ["laying out the window (and the input connectivity)",
                          "drawing and writing the 640x400 image"], steps


def test_progress_is_quiet_for_a_quick_export_and_then_ticks():
    """Nothing in the first QUIET_S seconds; after that the step running is printed even when
    no new step starts (the ticker), each once, with the seconds elapsed."""
    import io
    import time

    from rnnviz.cli import ExportProgress
    out = io.StringIO()
    progress = ExportProgress(out, quiet_s=3600.0)
    progress.stage("forward pass")
    progress.flow(0.5)
    progress.close()
    assert out.getvalue() == ""
    out = io.StringIO()
    progress = ExportProgress(out, quiet_s=0.0)
    try:
        progress.stage("forward pass")
        progress.flow(0.0)
        progress.flow(0.01)                     # less than FLOW_STEP further: not printed
        progress.flow(0.3)
        deadline = time.monotonic() + 30
        while len(progress.lines) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        progress.close()
    assert [line.rsplit(" (", 1)[0] for line in out.getvalue().splitlines()] == [
        "rnnviz export: forward pass", "rnnviz export: gradient flow 0 %",
        "rnnviz export: gradient flow 30 %"]
    out = io.StringIO()
    progress = ExportProgress(out, quiet_s=0.2)
    try:
        progress.stage("backward pass")         # too early to print: the ticker prints it
        assert out.getvalue() == "" or progress.lines   # (unless 0.2 s went by already)
        deadline = time.monotonic() + 30
        while not progress.lines and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        progress.close()
    assert [line.rsplit(" (", 1)[0] for line in out.getvalue().splitlines()] == [
        "rnnviz export: backward pass"]
