"""Help menu: Keyboard shortcuts (F1), a window listing every shortcut, and About with the model."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

MOUSE_HINTS = (
    ("Click a column of a heatmap", "select that time step"),
    ("Drag the red line in a plot", "select a time step"),
    ("Drag the red line in a training plot", "scrub back through training (pauses it)"),
    ("Mouse wheel / drag in a plot", "zoom / pan along time"),
    ("Right-click a plot", "export it as PNG or SVG, or copy it as an image"),
    ("Hover over any control or plot", "what it shows, with its formula"),
)

ABOUT_HTML = """
<h2>rnnviz</h2>
<p>A vanilla recurrent neural network, made visible: its forward pass and the gradient flowing
back through time (BPTT), recomputed live as you change it.</p>
<h3>The model</h3>
<table cellspacing="4">
<tr><td>pre-activation</td><td><i>a<sub>t</sub> = U x<sub>t</sub> + W s<sub>t−1</sub> + b<sub>a</sub></i></td></tr>
<tr><td>hidden state</td><td><i>s<sub>t</sub> = f(a<sub>t</sub>) = f(U x<sub>t</sub> + W s<sub>t−1</sub> + b<sub>a</sub>)</i>,
  f = tanh, ReLU, sigmoid or linear</td></tr>
<tr><td>output</td><td><i>y<sub>t</sub> = softmax(V s<sub>t</sub> + b<sub>y</sub>)</i></td></tr>
<tr><td>loss</td><td><i>L = (1/m) Σ<sub>b</sub> Σ<sub>t</sub> −log y<sub>t</sub>[target<sub>b,t</sub>]</i>
  (cross-entropy, mean over the batch, summed over time)</td></tr>
<tr><td>gradient flow</td><td><i>∂s<sub>T</sub>/∂s<sub>t</sub> = Π<sub>k=t+1..T</sub> diag(f′(a<sub>k</sub>)) W</i>,
  &nbsp; ‖∂s<sub>T</sub>/∂s<sub>t</sub>‖ ≤ (γ σ<sub>max</sub>(W))<sup>T−t</sup>, γ = sup|f′|</td></tr>
</table>
<p>Shapes follow the original notebook: x (n<sub>x</sub>, m, T), s (n<sub>s</sub>, m, T),
U (n<sub>s</sub>, n<sub>x</sub>), W (n<sub>s</sub>, n<sub>s</sub>), V (n<sub>y</sub>, n<sub>s</sub>).
The window shows t = 1..T; s<sub>0</sub> is the initial state.</p>
<h3>Sources</h3>
<ul>
<li>Bengio, Simard, Frasconi (1994), Learning long-term dependencies with gradient descent is difficult, IEEE TNN.</li>
<li>Pascanu, Mikolov, Bengio (2013), On the difficulty of training recurrent neural networks, ICML.</li>
<li>Le, Jaitly, Hinton (2015), A simple way to initialize recurrent networks of rectified linear units, arXiv:1504.00941.</li>
<li>Saxe, McClelland, Ganguli (2013), Exact solutions to the nonlinear dynamics of learning in deep linear neural networks, arXiv:1312.6120.</li>
<li>Bertschinger, Natschläger (2004), Real-time computation at the edge of chaos in recurrent neural networks, Neural Computation.</li>
<li>Madsen (2019), Visualizing memorization in RNNs, Distill.</li>
<li>Karpathy (2015), The Unreasonable Effectiveness of Recurrent Neural Networks.</li>
<li>Goodfellow, Bengio, Courville (2016), Deep Learning, chapter 10.</li>
</ul>
"""


def shortcuts(window) -> list[tuple[str, str]]:
    """(key, what it does) for every action of the window that has a keyboard shortcut."""
    found: dict[str, str] = {}
    for action in window.findChildren(QtGui.QAction):
        for key in action.shortcuts():
            text = key.toString(QtGui.QKeySequence.NativeText)
            name = action.text().replace("&", "").rstrip("…").strip() or action.objectName()
            if text and text not in found:
                found[text] = name[:1].upper() + name[1:]
    return sorted(found.items(), key=lambda kv: kv[1].lower())


class ShortcutsDialog(QtWidgets.QDialog):
    """A window listing every keyboard shortcut and the mouse gestures."""

    def __init__(self, window):
        super().__init__(window)
        self.setWindowTitle("rnnviz: keyboard shortcuts")
        self.setObjectName("shortcuts_dialog")
        layout = QtWidgets.QVBoxLayout(self)
        self.table = QtWidgets.QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Key", "Does"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        rows = shortcuts(window) + list(MOUSE_HINTS)
        self.table.setRowCount(len(rows))
        for i, (key, does) in enumerate(rows):
            self.table.setItem(i, 0, QtWidgets.QTableWidgetItem(key))
            self.table.setItem(i, 1, QtWidgets.QTableWidgetItem(does))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.table)
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Close)
        close.rejected.connect(self.close)
        layout.addWidget(close)
        self.resize(560, 520)

    def rows(self) -> list[tuple[str, str]]:
        return [(self.table.item(i, 0).text(), self.table.item(i, 1).text())
                for i in range(self.table.rowCount())]


def show_shortcuts(window) -> ShortcutsDialog:
    """Open (non-modal) the shortcuts window."""
    dialog = ShortcutsDialog(window)
    dialog.setAttribute(QtCore.Qt.WA_DeleteOnClose)
    dialog.show()
    return dialog


def about_text() -> str:
    """The About box's text (HTML): the vanilla model, then every cell's equations."""
    from rnnviz.state import cellinfo
    head, sources = ABOUT_HTML.split("<h3>Sources</h3>")
    return head + cellinfo.about_html() + "<h3>Sources</h3>" + sources


def show_about(window) -> None:
    QtWidgets.QMessageBox.about(window, "About rnnviz", about_text())


def install(window) -> None:
    """Help > Keyboard shortcuts (F1) and Help > About (the model's equations and sources)."""
    menu = window.menus["help"]
    for action in menu.actions():          # the window's own short About is replaced by ours
        if action.text().replace("&", "").startswith("About"):
            action.setVisible(False)
    keys = QtGui.QAction("&Keyboard shortcuts", window)
    keys.setObjectName("keyboard_shortcuts")
    keys.setShortcut(QtGui.QKeySequence(QtCore.Qt.Key_F1))
    keys.triggered.connect(lambda *_: show_shortcuts(window))
    about = QtGui.QAction("&About rnnviz: the model and its sources", window)
    about.setObjectName("about")
    about.triggered.connect(lambda *_: show_about(window))
    menu.addAction(keys)
    menu.addAction(about)
    window.addAction(keys)

