"""A label in a SteadyBox: a new text that fits lays nothing out again; one that needs another
size, a hide or a show does, as the bare label would."""
from PySide6 import QtCore, QtWidgets

from rnnviz.ui.widgets.readout import Readout
from rnnviz.ui.widgets.steady import steady


class LayoutRequests(QtCore.QObject):
    def __init__(self, widget):
        super().__init__()
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):
        if event.type() == QtCore.QEvent.LayoutRequest:
            self.count += 1
        return False


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
        requests = LayoutRequests(inner)
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
