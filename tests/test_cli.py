"""The rnnviz command: help, presets, user errors (one line, exit 2) and exports without a display."""
import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from rnnviz import cli
from rnnviz.state import presets


def png_size(path) -> tuple[int, int]:
    """Width and height from a PNG's signature and IHDR chunk."""
    data = open(path, "rb").read(33)
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def headless_env(tmp_path) -> dict:
    """The environment of a machine with no display at all."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["RNNVIZ_SETTINGS_DIR"] = str(tmp_path / "settings")
    return env


def run(args, tmp_path):
    return subprocess.run([sys.executable, "-m", "rnnviz", *args], env=headless_env(tmp_path),
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_help_is_clear_with_examples(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for text in ("rnnviz presets", "rnnviz export", "--preset NAME", "FILE.json", "examples:"):
        assert text in out
    with pytest.raises(SystemExit):
        cli.main(["export", "--help"])
    out = capsys.readouterr().out
    for text in ("--out", "--view", "--t STEP", "--size WxH", "--theme", "connectivity"):
        assert text in out


def test_presets_lists_every_preset_one_line_each(capsys):
    assert cli.main(["presets"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    names = [p.name for p in presets.list_presets()]
    assert len(lines) == len(names)
    for line, preset in zip(lines, presets.list_presets()):
        assert line.split()[0] == preset.name and preset.summary in line
    assert lines[0].startswith("demo ") and "Start here" in lines[0]


def test_no_preset_or_session_means_the_demo_preset(tmp_path):
    demo = cli.load_session()
    assert demo.preset_name == presets.DEMO and demo.config == presets.get_preset("demo").config
    assert cli.load_session(preset="vanishing").preset_name == "vanishing"
    path = tmp_path / "s.json"
    cli.load_session(preset="sigmoid").save_file(path)
    assert cli.load_session(path=str(path)).preset_name == "sigmoid"


def test_presets_and_help_do_not_import_qt(capsys):
    code = ("import sys; from rnnviz import cli; cli.main(['presets']); "
            "assert not any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules), "
            "[m for m in sys.modules if m.startswith('PySide6')]")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=60)


@pytest.mark.parametrize("args, message", [
    (["--preset", "nope"], "no preset named 'nope'"),
    (["missing.json"], "cannot open missing.json: no such file"),
    (["bad.json"], "cannot open bad.json: not valid JSON"),
    (["--preset", "vanishing", "bad.json"], "either a preset or a session file"),
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["export"], "required: --out"),
    (["export", "--out", "x.txt"], "must end in .png or .svg"),
    (["export", "--out", "nowhere/x.png"], "folder nowhere does not exist"),
    (["export", "--out", "x.png", "--size", "big"], "--size must look like 1600x900"),
    (["export", "--out", "x.png", "--size", "10x10"], "out of range"),
    (["export", "--out", "x.png", "--preset", "nope"], "no preset named 'nope'"),
    (["export", "--out", "x.png", "--session", "bad.json"], "not valid JSON"),
    (["export", "--out", "x.png", "--view", "pie"], "invalid choice: 'pie'"),
    (["export", "--out", "x.png", "--preset", "notebook", "--t", "9"], "from 1 to 4"),
    (["export", "--out", "x.png", "--preset", "a", "--session", "b"], "not allowed with"),
])
def test_user_errors_are_one_clear_line_and_exit_2(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.json").write_text('{"format": "rnnviz-session", "version": 1, "conf')
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("rnnviz: "), err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()


def test_window_without_display_says_so_and_suggests_export(tmp_path):
    proc = run([], tmp_path)
    assert proc.returncode == 2
    assert "no display" in proc.stderr and "rnnviz export" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_display_detection():
    assert not cli.display_available({})
    assert cli.display_available({"DISPLAY": ":0"})
    assert cli.display_available({"WAYLAND_DISPLAY": "wayland-0"})
    assert cli.display_available({"QT_QPA_PLATFORM": "offscreen"})
    assert not cli.display_available({"QT_QPA_PLATFORM": "xcb"})
    assert not cli.display_available({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"})


def test_export_png_of_one_plot_without_display(tmp_path):
    proc = run(["export", "--preset", "vanishing", "--view", "flow", "--t", "20",
                "--size", "900x500", "--out", "flow.png"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert png_size(tmp_path / "flow.png") == (900, 500)
    assert not (tmp_path / "settings").exists()     # the user's settings are not touched


def test_export_svg_of_a_session_file_without_display(tmp_path):
    from rnnviz.state.session import Session
    session = Session()
    session.load_preset("notebook")
    session.set_timestep(2)
    session.save_file(tmp_path / "lecture.json")
    proc = run(["export", "--session", "lecture.json", "--size", "1600x900", "--theme", "dark",
                "--out", "whole.svg"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    root = ET.parse(tmp_path / "whole.svg").getroot()
    assert root.tag.endswith("svg")
    assert (root.get("width"), root.get("height")) == ("1600", "900")
    text = (tmp_path / "whole.svg").read_text()
    assert "y_t at t = 3" in text and "output at t = 3" in text   # --t: the session's


# ----- issue 10: hostile arguments and files are one line and exit 2, never a traceback ---------
LONG = "a" * 300


def one_line_exit_2(args, message, capsys):
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("rnnviz: "), err
    assert message in err and "Traceback" not in err and len(err) < 400, err
    return err


@pytest.mark.parametrize("args, message", [
    (["export", "--out", "x.png", "--size", "1" * 5000 + "x100"], "--size must look like"),
    (["export", "--out", "x.png", "--size", "100x" + "9" * 5000], "--size must look like"),
    (["export", "--out", "x.png", "--t", "1" * 5000], "must be a step number"),
    (["export", "--out", LONG + ".png"], "the file name is too long (304 bytes"),
    (["export", "--out", LONG + "/x.png"], "File name too long"),
    (["export", "--out", "d/" * 2100 + "x.png"], "too long"),
    (["export", "--out", "x.png", "--session", LONG + ".json"], "File name too long"),
    ([LONG + ".json"], "File name too long"),
    (["export", "--out", "x.png", "--view", "v" * 5000], "invalid choice"),
    (["export", "--out", "x.png", "--session", "deep.json"], "nests deeper"),
    (["export", "--out", "x.png", "--session", "fifo.json"], "pipe (FIFO)"),
    (["export", "--out", "x.png", "--session", "/dev/zero"], "device"),
    (["export", "--out", "x.png", "--session", "."], "folder"),
    (["fifo.json"], "pipe (FIFO)"),
    (["export", "--out", "notes.txt/x.png"], "notes.txt is not a folder"),
])
def test_hostile_arguments_are_one_line_and_exit_2(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "deep.json").write_text('{"format": "rnnviz-session", "version": 1, "config": '
                                        '{"n_s": ' + "[" * 990 + "]" * 990 + "}}")
    one_line_exit_2(args, message, capsys)
    assert not (tmp_path / "x.png").exists()


def test_refused_exports_print_no_qt_plugin_warnings(tmp_path):
    """The offscreen plugin's "does not support propagateSizeHints()" lines are silenced."""
    proc = run(["export", "--size", "300x200", "--out", "small.png"], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "cannot be drawn at 300x200" in proc.stderr, \
        proc.stderr
    proc = run(["export", "--view", "softmax", "--size", "400x300", "--out", "ok.png"], tmp_path)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
