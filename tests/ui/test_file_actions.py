"""File menu: save/open round trips, bad files, share codes via the clipboard, unsaved changes, help."""
import numpy as np
import pytest
from conftest import flush, wait_for_result
from PySide6 import QtGui, QtWidgets

from rnnviz.state.session import Session
from rnnviz.ui.actions import file as file_actions
from rnnviz.ui.actions import help

B = QtWidgets.QMessageBox.StandardButton


@pytest.fixture
def boxes(monkeypatch):
    """Message boxes recorded instead of shown; question() answers from `answers`."""
    seen = {"warning": [], "question": [], "answers": []}
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning",
                        staticmethod(lambda parent, title, text, *a: seen["warning"].append(text)))

    def question(parent, title, text, *a):
        seen["question"].append(text)
        return seen["answers"].pop(0)
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", staticmethod(question))
    return seen


def arrays(session):
    p = session.params
    return {"U": p.U, "W": p.W, "V": p.V, "ba": p.ba, "by": p.by, "x": session.x,
            "s0": session.s0, "targets": session.targets}


def test_menu_has_every_action_with_its_shortcut(window):
    actions = window.file_actions.actions
    expected = {"open": "Ctrl+O", "save": "Ctrl+S", "export": "Ctrl+E",
                "copy_setup": "Ctrl+Shift+C", "paste_setup": "Ctrl+Shift+V", "new": "Ctrl+N"}
    for key, shortcut in expected.items():
        assert actions[key].shortcut().toString() == shortcut
        assert actions[key] in window.menus["file"].actions()
    assert window.menus["file"].actions()[-1].objectName() == "quit"


def test_save_then_open_round_trips_arrays_and_view(qtbot, make_window, tmp_path, monkeypatch,
                                                    boxes):
    window = make_window()
    s = window.session
    assert s.apply(n_s=12, T=15, seed=7) == []
    assert s.set_weight("W", 1, 2, 0.75) == []
    s.set_timestep(9)
    window.presentation.set_panels({"spectrum": False})
    path = tmp_path / "lecture"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))
    window.file_actions.actions["save"].trigger()        # no path yet: asks for one
    assert (tmp_path / "lecture.json").is_file() and not s.dirty
    assert not window.isWindowModified() and "lecture.json" in window.windowTitle()

    other = make_window()
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(tmp_path / "lecture.json"), "")))
    other.file_actions.actions["open"].trigger()
    wait_for_result(qtbot, other)
    o = other.session
    assert o.config == s.config and o.edited == {"W"} and o.view == s.view
    for name, a in arrays(s).items():
        np.testing.assert_array_equal(arrays(o)[name], a, err_msg=name)
    np.testing.assert_array_equal(o.result.trace.s, s.result.trace.s)
    assert boxes["warning"] == []
    assert file_actions.recent_files()[0].endswith("lecture.json")
    other.file_actions.fill_recent()
    assert [a.text() for a in other.file_actions.recent_menu.actions()] == ["lecture.json"]


@pytest.mark.parametrize("content, message", [
    ('{"format": "rnnviz-session", "version": 1, "con', "not valid JSON"),
    ('{"format": "rnnviz-session", "version": 9}', "newer rnnviz"),
    ('[1, 2, 3]', "not a session file"),
])
def test_malformed_file_shows_a_message_and_changes_nothing(window, tmp_path, boxes, content,
                                                            message):
    s = window.session
    s.apply(seed=3)
    before, before_arrays = s.to_dict(), {k: v.copy() for k, v in arrays(s).items()}
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert window.file_actions.open_path(bad) is False
    assert len(boxes["warning"]) == 1 and message in boxes["warning"][0]
    assert "bad.json" in boxes["warning"][0] and "unchanged" in boxes["warning"][0]
    assert s.to_dict() == before
    for name, a in arrays(s).items():
        np.testing.assert_array_equal(a, before_arrays[name])


def test_copy_and_paste_set_up_through_the_clipboard(qtbot, make_window, boxes):
    first = make_window()
    first.session.apply(activation="relu", T=25, spectral_radius=1.2, seed=11)
    first.file_actions.actions["copy_setup"].trigger()
    code = QtWidgets.QApplication.clipboard().text()
    assert code.startswith("rnnviz2:") and code[8:].isalnum()
    second = make_window()
    boxes["answers"].append(B.Discard)       # not asked: the fresh session has no changes
    second.file_actions.actions["paste_setup"].trigger()
    assert second.session.config == first.session.config
    assert boxes["question"] == [] and boxes["warning"] == []
    wait_for_result(qtbot, second)
    np.testing.assert_array_equal(second.session.params.W, first.session.params.W)


def test_pasting_garbage_shows_a_message_and_changes_nothing(window, boxes):
    before = window.session.to_dict()
    QtWidgets.QApplication.clipboard().setText("hello, this is not a set-up")
    assert window.file_actions.paste_setup() is False
    assert len(boxes["warning"]) == 1 and "rnnviz2:" in boxes["warning"][0]
    assert window.session.to_dict() == before


def test_unsaved_changes_are_offered_for_saving_on_close(qtbot, make_window, tmp_path,
                                                         monkeypatch, boxes):
    monkeypatch.setattr(file_actions, "can_ask", lambda: True)
    window = make_window()
    window.session.apply(seed=5)
    boxes["answers"] += [B.Cancel]
    assert window.close() is False and window.isVisible()        # cancelled
    target = tmp_path / "kept.json"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "")))
    boxes["answers"] += [B.Save]
    assert window.close() is True
    assert Session().load_file(target) is None and len(boxes["question"]) == 2


def test_discard_closes_without_saving(qtbot, make_window, tmp_path, monkeypatch, boxes):
    monkeypatch.setattr(file_actions, "can_ask", lambda: True)
    window = make_window()
    window.session.apply(seed=6)
    boxes["answers"] += [B.Discard]
    assert window.close() is True and list(tmp_path.glob("*.json")) == []


def test_new_offers_to_save_then_opens_the_default_demo(window, boxes):
    window.session.apply(seed=9, T=12)
    boxes["answers"] += [B.Discard]
    window.file_actions.actions["new"].trigger()
    assert window.session.config == Session().config and not window.session.dirty
    assert window.session.preset_name == "demo"
    assert len(boxes["question"]) == 1


def test_reopen_last_session_on_start(window, tmp_path):
    window.session.apply(seed=21)
    window.file_actions.save_to(tmp_path / "last.json")
    assert file_actions.startup_session(Session())[0].config.seed == 0    # option off
    window.file_actions.actions["reopen_last"].setChecked(True)
    session, note = file_actions.startup_session(Session())
    assert note is None and session.config.seed == 21
    (tmp_path / "last.json").write_text("garbage")
    session, note = file_actions.startup_session(Session())
    assert session.config.seed == 0 and "could not reopen the last session" in note


def test_shortcuts_window_lists_every_shortcut(window):
    dialog = help.show_shortcuts(window)
    keys = dict(dialog.rows())
    for key in ("F1", "F5", "Ctrl+O", "Ctrl+S", "Ctrl+E", "Ctrl+Shift+C", "Ctrl+Shift+V",
                "Left", "Right", "Home", "End", "Space"):
        assert key in keys, key
    assert keys["F5"] == "Presentation mode" and keys["F1"].startswith("Guide")
    every = {k.toString() for a in window.findChildren(QtGui.QAction) for k in a.shortcuts()}
    assert every <= set(keys)
    dialog.close()


def test_about_gives_the_model_and_sources(window):
    text = help.about_text()
    for part in ("f(U x<sub>t</sub> + W s<sub>t−1</sub> + b<sub>a</sub>)",
                 "softmax(V s<sub>t</sub> + b<sub>y</sub>)", "−log y<sub>t</sub>",
                 "Pascanu", "Bengio", "Distill"):
        assert part in text
    visible = [a.text() for a in window.menus["help"].actions() if a.isVisible()]
    assert visible == ["&Guide: the panels, keys and mouse", "&About rnnviz: the model and its sources"]
    flush(window)
