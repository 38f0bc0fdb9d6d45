"""A regular (non-editable) install of the wheel works and finds its shipped resources."""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    # A copy of the tree keeps build/ and *.egg-info out of the checkout.
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "rnnviz", "resources"):
        s = ROOT / name
        if s.is_dir():
            shutil.copytree(s, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(s, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(src)], check=True, capture_output=True)
    (whl,) = out.glob("rnnviz-*.whl")
    return whl


def test_wheel_ships_presets(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    presets = [n for n in names if n.startswith("rnnviz/resources/presets/") and n.endswith(".json")]
    assert len(presets) >= 8, names


def test_wheel_ships_the_default_text(wheel):
    assert "rnnviz/resources/texts/pride_and_prejudice_ch1.txt" in zipfile.ZipFile(wheel).namelist()


def test_installed_package_finds_its_resources(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q",
                    "--target", str(target), str(wheel)], check=True, capture_output=True)
    code = ("import rnnviz, rnnviz.state.presets as p; "
            "assert rnnviz.__file__.startswith(%r), rnnviz.__file__; "
            "names = [x.name for x in p.list_presets()]; print(len(names), names)") % str(target)
    env = dict(os.environ, PYTHONPATH=str(target))
    # Run from an empty folder so the checkout's rnnviz/ cannot shadow the installed one;
    # -I would also drop the venv's numpy, so isolate with -P (no cwd on sys.path) instead.
    r = subprocess.run([sys.executable, "-P", "-c", code], cwd=tmp_path, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.split()[0]) >= 8, r.stdout
