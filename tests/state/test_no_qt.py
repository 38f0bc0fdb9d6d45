"""The state layer (and the engine under it) loads no Qt and no pyqtgraph."""
import subprocess
import sys


def test_state_imports_no_qt():
    code = ("import sys\n"
            "import rnnviz.state.session, rnnviz.state.presets, rnnviz.state.sharecode\n"
            "import rnnviz.state.sessionfile, rnnviz.state.compute\n"
            "s = rnnviz.state.session.Session(); s.compute_now(); s.load_preset('vanishing')\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'shiboken6', 'pyqtgraph', 'PyQt5', 'PyQt6'))\n"
            "print(bad)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]", r.stdout
