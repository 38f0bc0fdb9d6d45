"""A regular (non-editable) install of the wheel works and finds its shipped resources; the
build is quiet (no setuptools warning about the project's metadata or its packages)."""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """(wheel, the build's output): the package built from a copy of the tree, verbosely."""
    out = tmp_path_factory.mktemp("wheel")
    # A copy of the tree keeps build/ and *.egg-info out of the checkout.
    src = tmp_path_factory.mktemp("src")
    shutil.copy(ROOT / "pyproject.toml", src)
    shutil.copy(ROOT / "README.md", src)
    for folder in ("rnnviz", "resources"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-v", "-w", str(out), str(src)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    (whl,) = out.glob("rnnviz-*.whl")
    return whl, done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheel(build):
    return build[0]


def test_the_build_warns_about_nothing(build):
    """Setuptools' deprecation warnings (the license table, data folders that are not listed
    packages) are some 60 lines a newcomer reads at the first install."""
    warnings = [line.strip() for line in build[1].splitlines() if "Warning:" in line]
    assert warnings == [], "\n".join(warnings)


def test_wheel_holds_every_package_and_the_mit_license(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    source = {str(p.relative_to(ROOT)) for p in (ROOT / "rnnviz").rglob("*.py")}
    assert source <= set(names), sorted(source - set(names))
    shipped = {"rnnviz/resources/" + str(p.relative_to(ROOT / "resources"))
               for p in (ROOT / "resources").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert shipped <= set(names), sorted(shipped - set(names))
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: MIT" in text


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
