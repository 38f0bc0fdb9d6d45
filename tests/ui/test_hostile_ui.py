"""Issue 10, the window's side: tiny scales pasted in, corrupted settings at start-up."""
import math

import numpy as np
import pytest
from conftest import wait_for_result
from PySide6 import QtWidgets

from rnnviz.state import sharecode
from rnnviz.state.config import DEFAULT, replace
from rnnviz.ui.widgets.axes import decade_scale, sparse_ticks

TINY_U_SCALE = "rnnviz1:eNqrViqNL05OzElVsjJM1TU2MqgFADolBas"     # u_scale = 1e-320 (issue 10)


def paste(qtbot, window, code):
    """Paste a share code as a user does (clipboard, then File > Paste set-up) and let every
    plot draw it, the connectivity included."""
    QtWidgets.QApplication.clipboard().setText(code)
    window.file_actions.actions["paste_setup"].trigger()
    return wait_for_result(qtbot, window)


def test_pasting_a_subnormal_scale_draws_every_plot(qtbot, window):
    """u_scale = 1e-320 made the connectivity bars ~1e-320 tall: decade_scale took 10.0 ** 320
    (OverflowError while drawing). pytest-qt fails the test on an exception in a slot."""
    assert sharecode.decode(TINY_U_SCALE).u_scale == 1e-320
    result = paste(qtbot, window, TINY_U_SCALE)
    assert window.session.config.u_scale == 1e-320
    view = window.views["connectivity"]
    assert view.shown_key is not None and view.shown_key[0] == result.request_id
    top = float(np.max(view.values))
    assert 0 < top < 1e-300                     # the tiny bars really were drawn
    assert "×10⁻³⁰⁰" in view.plot_item.getAxis("left").labelText


@pytest.mark.parametrize("field, value", [("u_scale", 5e-324), ("v_scale", 1e-320),
                                          ("ba_scale", 1e-310), ("by_scale", 5e-324),
                                          ("spectral_radius", 5e-324)])
def test_pasting_other_subnormal_values_draws_every_plot(qtbot, window, field, value):
    config, problems = replace(DEFAULT, **{field: value})
    assert problems == []
    result = paste(qtbot, window, sharecode.encode(config))
    assert getattr(window.session.config, field) == value
    assert result.request_id == window.session.request_id
    assert window.views["connectivity"].shown_key[0] == result.request_id


def test_decade_scale_and_ticks_are_finite_over_the_whole_float_range():
    """Every decade from the smallest subnormal to the largest float, and the floats either
    side of each power of ten (log10 rounds 0.09999999999999999 up to -1)."""
    for e in range(-324, 309):
        p = 10.0 ** e
        for top in (p, float(np.nextafter(p, 0)), float(np.nextafter(p, np.inf))):
            if not (top > 0 and math.isfinite(top)):
                continue
            factor, suffix = decade_scale(top)
            assert math.isfinite(factor) and factor > 0
            for level in sparse_ticks(top, factor):
                for position, label in level:
                    assert 0 <= position <= top and label


# ----- item 7: a corrupted settings file -----------------------------------------------------------
BAD_LAYOUTS = ["geometry=garbage", "geometry=@ByteArray(xx)", "state=junk",
               "state=@ByteArray(\\0\\0\\0\\xff\\0\\0)", "main_splitter=@Variant(zzz)",
               "geometry=1, 2, 3", "time_splitter=@ByteArray(not a splitter)"]


def write_settings(text):
    import os
    folder = os.environ["RNNVIZ_SETTINGS_DIR"]
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "rnnviz.ini")
    with open(path, "w", encoding="latin-1") as f:
        f.write(text)
    return path


@pytest.mark.parametrize("line", BAD_LAYOUTS)
def test_a_corrupted_layout_is_ignored_reset_and_noted(qtbot, make_window, line):
    """`geometry=garbage` raised TypeError in restoreGeometry at every start (then the thread
    abort). Now: the window opens with the default layout, says so, and the next start is clean."""
    path = write_settings(f"[window]\nversion=1\n{line}\n[session]\nrecent=3\n"
                          f"last=@Variant(\\0\\0\\0\\x7f)\nreopen_last=maybe\n")
    window = make_window()
    assert window.isVisible() and window.worker.is_running()
    assert "could not be read" in window.status.currentMessage()
    assert path in window.status.currentMessage()
    for name in window.docks:
        assert not window.docks[name].isFloating()
    from rnnviz.ui.settings import app_settings
    assert app_settings().value("window/version") is None        # forgotten at once
    window.close()
    assert app_settings().value("window/version") == "1"         # a good layout saved instead
    again = make_window()
    assert again.settings_note is None and "could not be read" not in again.status.currentMessage()


def test_bad_session_settings_do_not_stop_the_start(qtbot, make_window):
    """Recent files, the last session and "reopen" of the wrong type are treated as missing."""
    from rnnviz.ui.actions import file as file_actions
    write_settings("[session]\nrecent=@Variant(\\0\\0\\0\\x2\\0\\0\\0\\x3)\n"
                   "last=@Variant(\\0\\0\\0\\x2\\0\\0\\0\\x3)\nreopen_last=true\n")
    assert file_actions.recent_files() == []
    from rnnviz.state.session import Session
    session, note = file_actions.startup_session(Session())
    assert note is None
    window = make_window(session)
    window.file_actions.fill_recent()
    assert [a.text() for a in window.file_actions.recent_menu.actions()] == ["(none yet)"]


# ----- item 9: exports on a full disk ----------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_a_plot_export_on_a_full_disk_says_so_and_keeps_the_old_file(qtbot, window, tmp_path,
                                                                     monkeypatch, fmt):
    """The plot's context menu, as a user exports; the disk fills after 4 KiB of the image."""
    import errno

    from rnnviz.state import files
    target = tmp_path / f"slide.{fmt}"
    old = b"last week's figure " * 2000
    target.write_bytes(old)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "")))
    warnings = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning",
                        staticmethod(lambda parent, title, text, *a: warnings.append(text)))
    real_write, written = files.os.write, [0]

    def write(fd, data):
        if written[0] >= 4096:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = real_write(fd, bytes(data[:4096 - written[0]]))
        written[0] += n
        return n
    monkeypatch.setattr(files.os, "write", write)
    png, svg, _ = window.views["flow"].graphics.actions()[-3:]
    (png if fmt == "png" else svg).trigger()
    assert written[0] == 4096                       # the write really started, then failed
    assert len(warnings) == 1 and "No space left on device" in warnings[0], warnings
    assert target.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "settings") == [target.name]
    assert "exported" not in window.status.currentMessage()
