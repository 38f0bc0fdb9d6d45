"""Exports: every preset, every view, PNG and SVG at exact sizes; the window is left as it was."""
import struct
import xml.etree.ElementTree as ET

import pytest
from PySide6 import QtGui, QtWidgets

from rnnviz.state import presets
from rnnviz.state.session import Session
from rnnviz.ui.actions import export
from rnnviz.ui.app import export_session
from rnnviz.ui.style import NORMAL, PRINT_DARK


def png_size(path):
    data = open(path, "rb").read(33)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def colours(path) -> int:
    """How many distinct colours a coarse sample of the image holds (a blank image has one)."""
    image = QtGui.QImage(str(path))
    return len({image.pixel(x, y) for x in range(0, image.width(), 7)
                for y in range(0, image.height(), 7)})


@pytest.mark.parametrize("name", [p.name for p in presets.list_presets()])
def test_every_preset_loads_computes_and_exports(name, tmp_path, qtbot):
    session = Session()
    session.load_preset(name)
    out = export_session(session, tmp_path / f"{name}.png", view="states", size=(480, 320))
    assert png_size(out) == (480, 320)
    assert colours(out) > 20
    assert session.result is not None and session.result.trace.s.shape[2] == session.config.T


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_each_view_exports_at_the_size_asked(window, tmp_path, fmt):
    before = {n: v.graphics.size() for n, v in window.views.items()}
    visible = {n: v.graphics.isVisible() for n, v in window.views.items()}
    for name, view in window.views.items():
        path = export.export_view(window, name, tmp_path / f"{name}.{fmt}", (640, 410))
        if fmt == "png":
            assert png_size(path) == (640, 410)
            assert colours(path) > 5, name
        else:
            root = ET.parse(path).getroot()
            assert root.tag.endswith("svg") and root.get("viewBox").split()[-2:] == ["640", "410"]
        # the canvas is back in its view, in the window's own style, at its own size
        # (hidden views stay hidden: the gate heatmaps with the vanilla cell, the training
        # plots without a task)
        assert view.graphics.parent() is view and view.graphics.isVisible() == visible[name]
        first = view.layout().itemAt(0)             # (the flow plot's canvas shares a row
        assert first.widget() is view.graphics or (    # with its legend beside the plot)
            first.layout() is not None and first.layout().indexOf(view.graphics) == 0)
        assert view.style_ is NORMAL and window.style_ is NORMAL
    QtWidgets.QApplication.processEvents()
    assert {n: v.graphics.size() for n, v in window.views.items()} == before


def test_print_style_is_used_and_the_window_untouched(window, tmp_path):
    axis = window.views["flow"].plot_item.getAxis("left")
    width, tick = axis.width(), axis.style["tickFont"]
    path = export.export_view(window, "flow", tmp_path / "f.png", style=PRINT_DARK)
    image = QtGui.QImage(str(path))
    assert QtGui.QColor(image.pixel(2, 2)).name() == PRINT_DARK.background
    assert window.style_ is NORMAL and window.views["flow"].style_ is NORMAL
    assert axis.width() == width and axis.style["tickFont"] is tick


def test_whole_window_png_and_svg(window, tmp_path):
    old = window.size()
    png = export.export_window(window, tmp_path / "w.png", (1500, 950))
    assert png_size(png) == (1500, 950) and colours(png) > 50
    svg = export.export_window(window, tmp_path / "w.svg", (1500, 950))
    root = ET.parse(svg).getroot()
    assert (root.get("width"), root.get("height")) == ("1500", "950")
    assert "Gradient flow" in svg.read_text()
    assert window.size() == old


def test_too_small_window_export_is_refused(window, tmp_path):
    with pytest.raises(export.ExportError, match="choose a larger size"):
        export.export_window(window, tmp_path / "w.png", (100, 100))
    assert not (tmp_path / "w.png").exists()
    with pytest.raises(export.ExportError, match="must end in .png or .svg"):
        export.export_view(window, "flow", tmp_path / "w.gif")
    with pytest.raises(export.ExportError, match="unknown view"):
        export.export_view(window, "pie", tmp_path / "w.png")


def test_context_menu_exports_and_copies(window, tmp_path, monkeypatch):
    target = tmp_path / "from-menu"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "")))
    for name, view in window.views.items():
        texts = [a.text() for a in view.graphics.actions()]
        if name == "gradients":          # which gradient it shows comes first, then a separator
            assert texts[:3] == ["Show ∂L/∂s_t (all losses)",
                                 "Show ∂L_T/∂s_t (the last step's loss only)", ""]
            texts = texts[3:]
        assert texts == ["Export this plot as PNG…", "Export this plot as SVG…",
                         "Copy this plot as an image"], name
    png, svg, copy = window.views["softmax"].graphics.actions()
    png.trigger()
    assert png_size(tmp_path / "from-menu.png")[0] >= export.VIEW_SIZE[0]
    svg.trigger()
    assert ET.parse(tmp_path / "from-menu.svg").getroot().tag.endswith("svg")
    copy.trigger()
    image = QtWidgets.QApplication.clipboard().image()
    assert (image.width(), image.height()) == export.VIEW_SIZE


def test_file_export_dialog_choices(window, tmp_path, monkeypatch):
    dialog = export.ExportDialog(window)
    assert dialog.choice() == ("window", "png", "light", export.WINDOW_SIZE)
    dialog.view.setCurrentIndex(dialog.view.findData("spectrum"))
    dialog.format.setCurrentText("SVG")
    dialog.theme.setCurrentIndex(1)
    assert dialog.choice() == ("spectrum", "svg", "dark", export.VIEW_SIZE)
    path = export.export_chosen(window, *dialog.choice(), tmp_path / "spec.svg")
    assert "#111111" in path.read_text()        # the dark background
    dialog.deleteLater()
