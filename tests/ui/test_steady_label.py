"""A label in a SteadyBox: a new text that fits lays nothing out again; one that needs another
size, a hide or a show does, as the bare label would."""
from conftest import EventCounter
from PySide6 import QtCore, QtWidgets

from rnnviz.ui.widgets.readout import Readout
from rnnviz.ui.widgets.steady import steady


def column(qtbot, *labels, boxed=True):
    """A shown widget holding the labels (boxed or bare) above a stretch, inside an outer one."""
    outer = QtWidgets.QWidget()
    inner = QtWidgets.QWidget()
    layout = QtWidgets.QVBoxLayout(inner)
    for label in labels:
        layout.addWidget(steady(label) if boxed else label)
    layout.addStretch(1)
    QtWidgets.QVBoxLayout(outer).addWidget(inner)
    qtbot.addWidget(outer)
    outer.resize(300, 200)
    outer.show()
    qtbot.waitExposed(outer)
    qtbot.wait(20)
    return outer, inner


def test_new_numbers_in_a_boxed_readout_lay_nothing_out_but_a_bare_one_does(qtbot):
    counts = {}
    for boxed in (False, True):
        readout = Readout()
        outer, inner = column(qtbot, readout, boxed=boxed)
        requests = EventCounter(inner, QtCore.QEvent.LayoutRequest)
        for i in range(10):
            readout.show_text(f"iteration {i}: loss = {1 / (i + 1):.4g}")
            qtbot.wait(5)                                   # (posted events delivered)
        assert readout.text() == "iteration 9: loss = 0.1"
        assert readout.isVisible() and readout.width() == inner.contentsRect().width() - 18
        counts[boxed] = requests.count
    assert counts[False] >= 10 and counts[True] == 0, counts


def test_a_boxed_label_that_needs_more_room_gets_it(qtbot):
    label = QtWidgets.QLabel("short")
    label.setWordWrap(True)
    outer, inner = column(qtbot, label)
    one_line = label.height()
    label.setText("a sentence long enough to need a second line in a three-hundred-pixel column "
                  "and then a third one too")
    qtbot.waitUntil(lambda: label.height() >= 2 * one_line, timeout=2000)
    assert label.parentWidget().height() == label.height()


def test_hiding_and_showing_the_label_hides_and_shows_its_box(qtbot):
    hidden = QtWidgets.QLabel("hidden at first")
    hidden.setVisible(False)
    below = QtWidgets.QLabel("below")
    outer, inner = column(qtbot, hidden, below)
    box = hidden.parentWidget()
    assert not box.isVisible() and not hidden.isVisible()
    top = below.mapTo(inner, QtCore.QPoint(0, 0)).y()
    hidden.setVisible(True)
    qtbot.waitUntil(lambda: below.mapTo(inner, QtCore.QPoint(0, 0)).y() > top, timeout=2000)
    assert box.isVisible() and hidden.isVisible()
    hidden.setVisible(False)
    qtbot.waitUntil(lambda: below.mapTo(inner, QtCore.QPoint(0, 0)).y() == top, timeout=2000)
    assert not box.isVisible()


def test_a_larger_font_makes_the_box_taller(qtbot):
    readout = Readout()
    readout.setFixedHeight(readout.fontMetrics().height() + 4)
    outer, inner = column(qtbot, readout)
    small = readout.parentWidget().height()
    font = readout.font()
    font.setPointSizeF(font.pointSizeF() * 2)
    readout.setFont(font)
    readout.setFixedHeight(readout.fontMetrics().height() + 4)
    qtbot.waitUntil(lambda: readout.parentWidget().height() > small, timeout=2000)
    assert readout.height() == readout.parentWidget().height() == readout.fontMetrics().height() + 4


def test_the_busy_indicator_shows_only_for_a_computation_that_takes_a_while(qtbot):
    """Each quick computation (a slider dragged at the default size) flashed the bar."""
    from rnnviz.ui.widgets import status as status_module
    bar = status_module.StatusBar()
    window = QtWidgets.QMainWindow()
    window.setStatusBar(bar)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    shows = EventCounter(bar.busy, QtCore.QEvent.Show)
    for _ in range(5):                             # quick ones: never shown
        bar.set_busy(True)
        qtbot.wait(20)
        bar.set_busy(False)
    qtbot.wait(status_module.BUSY_DELAY_MS + 100)
    assert shows.count == 0 and not bar.busy.isVisible()
    bar.set_busy(True)                             # a long one: shown after the delay
    assert not bar.busy.isVisible()
    qtbot.waitUntil(bar.busy.isVisible, timeout=status_module.BUSY_DELAY_MS + 2000)
    bar.set_progress(0.5)                          # a partial result: how far it is
    assert (bar.busy.minimum(), bar.busy.maximum(), bar.busy.value()) == (0, 100, 50)
    bar.set_busy(False)
    assert not bar.busy.isVisible()
    bar.set_progress(0.25)                         # a partial result shows it at once
    assert bar.busy.isVisible()


def test_a_grow_only_box_keeps_the_room_of_its_widest_number_until_the_font_changes(qtbot):
    outer = QtWidgets.QWidget()
    row = QtWidgets.QHBoxLayout(outer)
    label = QtWidgets.QLabel("1,000 of 1,000")
    row.addWidget(steady(label, grow_only=True))
    row.addStretch(1)
    qtbot.addWidget(outer)
    outer.resize(500, 60)
    outer.show()
    qtbot.waitExposed(outer)
    qtbot.wait(20)
    wide = label.width()
    requests = EventCounter(outer, QtCore.QEvent.LayoutRequest)
    label.setText("9 of 9")                                   # narrower: keeps its room
    qtbot.wait(20)
    assert label.width() == wide and requests.count == 0
    label.setText("10,000 of 10,000")                         # wider: gets it
    qtbot.waitUntil(lambda: label.width() > wide, timeout=2000)
    wider = label.width()
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.5)
    label.setFont(font)                                       # a new font: measured afresh
    qtbot.waitUntil(lambda: label.width() < wider, timeout=2000)
