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
