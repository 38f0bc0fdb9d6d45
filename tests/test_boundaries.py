"""The layer boundary: importing every engine and state module loads no Qt and no pyqtgraph."""

import subprocess
import sys

CODE = r"""
import importlib, pkgutil, sys
import rnnviz.engine, rnnviz.state
names = []
for package in (rnnviz.engine, rnnviz.state):
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
        names.append(info.name)
print(",".join(names))
print(",".join(sorted(m for m in sys.modules
                      if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6"))))
"""


def test_engine_and_state_import_no_qt():
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    imported, qt = (r.stdout.splitlines() + ["", ""])[:2]
    for module in ("rnnviz.engine.rnn", "rnnviz.engine.stepwise", "rnnviz.engine.parameters",
                   "rnnviz.engine.activations"):
        assert module in imported.split(","), imported
    assert qt == "", f"Qt modules loaded by engine/state: {qt}"
