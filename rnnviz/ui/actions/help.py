"""Help menu: the guide (F1: what each panel shows, how to read it, its formula; every
shortcut and mouse gesture) and About with the model and its sources."""
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

# What each panel shows and how to read it, with its formula: name (window.views / docks) ->
# (title, HTML). Notation as in the seed notebook; t = 1..T as the window numbers steps.
PANEL_GUIDE = {
    "inputs": ("Inputs x<sub>t</sub>", """One row per input unit, one column per step: what the
network reads, <i>a<sub>t</sub> = U x<sub>t</sub> + W s<sub>t−1</sub> + b<sub>a</sub></i>.
One-hot inputs light one row per step; a text input names its rows and steps by character."""),
    "states": ("Hidden state s<sub>t</sub>", """<i>s<sub>t</sub> = f(U x<sub>t</sub> + W
s<sub>t−1</sub> + b<sub>a</sub>)</i>, one row per hidden unit, one column per step. White is 0,
red positive, blue negative; tanh fills −1…1, sigmoid and ReLU never go below 0. Stripes that
persist across columns are memory; saturated red/blue units have f′ ≈ 0 and pass no gradient."""),
    "connectivity": ("Input connectivity", """Bars over the input steps t′ ≤ t:
<i>‖∂z<sub>t</sub>[k]/∂x<sub>t′</sub>‖<sub>2</sub></i>, how strongly the output at the selected
step t (its arg-max class k) depends on the input at t′ (Distill, Madsen 2019). Bars that fall
off quickly to the left mean a short memory."""),
    "gradients": ("Gradient heatmap", """<i>log<sub>10</sub>|∂L<sub>T</sub>/∂s<sub>t</sub>|</i>
(last loss only, the default) or <i>log<sub>10</sub>|∂L/∂s<sub>t</sub>|</i> (all losses): each
colour step is a factor of ten. <i>∂L<sub>T</sub>/∂s<sub>t</sub> = (∂s<sub>T</sub>/∂s<sub>t</sub>)<sup>T</sup>
∂L<sub>T</sub>/∂s<sub>T</sub></i> fades to the left when gradients vanish and grows when they
explode; the total <i>∂L/∂s<sub>t</sub> = V<sup>T</sup>(y<sub>t</sub> − onehot<sub>t</sub>)/m +
W<sup>T</sup> diag(f′(a<sub>t+1</sub>)) ∂L/∂s<sub>t+1</sub></i> stays level because every step's
own loss feeds it."""),
    "flow": ("Gradient flow", """Norms on a log scale over t, read from right (t = T) to left:
back-propagation runs back in time. <i>‖∂s<sub>T</sub>/∂s<sub>t</sub>‖ = ‖Π<sub>k=t+1..T</sub>
diag(f′(a<sub>k</sub>)) W‖</i> (σ<sub>1</sub>; thin: σ<sub>2</sub>, σ<sub>3</sub>), the gradients
<i>‖∂L/∂s<sub>t</sub>‖</i> and <i>‖∂L<sub>T</sub>/∂s<sub>t</sub>‖</i>, and the dashed bound
<i>(γ σ<sub>max</sub>(W))<sup>T−t</sup></i>, γ = sup|f′|. A straight line means a constant factor
per step: the title gives it (below 1: vanishing, above 1: exploding). Red bands: steps whose
values are not finite (overflow)."""),
    "softmax": ("Softmax output y<sub>t</sub>", """<i>y<sub>t</sub> = softmax(V s<sub>t</sub> +
b<sub>y</sub>)</i> at the selected step, one bar per class (for a text input: per next
character). Green: the target; orange: the arg max. The title gives the loss at t,
<i>−log y<sub>t</sub>[target]</i>; L sums it over t and averages over the batch."""),
    "spectrum": ("Eigenvalues of W", """The eigenvalues λ<sub>i</sub> of W in the complex plane
with the unit circle |λ| = 1 (dashed) and the spectral radius ρ(W) = max|λ<sub>i</sub>|
(dotted). σ<sub>max</sub>(W), the largest singular value, bounds the flow:
<i>‖∂s<sub>T</sub>/∂s<sub>t</sub>‖ ≤ (γ σ<sub>max</sub>(W))<sup>T−t</sup></i>; the line under
the plot counts eigenvalues inside, on (within 10<sup>−9</sup>) and outside the circle."""),
    "gates": ("Gates (LSTM, GRU)", """The gated cells' gates over time, one band of rows per
gate, each on 0…1: the LSTM's input, forget and output gates <i>i<sub>t</sub>, f<sub>t</sub>,
o<sub>t</sub> = σ(·)</i> (its cell state <i>c<sub>t</sub> = f<sub>t</sub> ⊙ c<sub>t−1</sub> +
i<sub>t</sub> ⊙ g<sub>t</sub></i>), the GRU's reset and update gates <i>r<sub>t</sub>,
z<sub>t</sub></i>. A forget gate near 1 carries the cell state, and its gradient, through time.
Shown for a gated cell only."""),
    "loss": ("Training loss", """The loss <i>L</i> of each training batch over the iterations, log
scale; dashed, the task's baseline without memory: a curve on it has learnt nothing that needs
memory."""),
    "grad_norm": ("Gradient norm", """<i>‖g‖<sub>2</sub></i> over all parameter gradients at each
iteration, before and after clipping; dashed, the clipping threshold c (the norm is scaled down to
c when larger); red ticks, the iterations where clipping fired."""),
    "spectral": ("ρ(W) and σ<sub>max</sub>(W) in training", """The spectral radius and the largest
singular value of the recurrent matrix at each iteration: <i>γ σ<sub>max</sub> &lt; 1</i>
guarantees vanishing gradients; ρ &gt; 1 lets the linearised recurrence grow."""),
    "profile": ("Gradient through time over training", """<i>log<sub>10</sub> ‖∂L/∂s<sub>t</sub>‖</i>
at lag T − t (up: further back) for every iteration (across): where the colour fades going up,
the loss's gradient does not reach that far back."""),
    "training": ("Training", """Train the network on a task (copy, adding, delayed recall, text …)
with SGD, Adam or RMSprop and gradient clipping; the plots above follow the iterations."""),
    "explanation": ("Explanation", """What the current preset shows and why, with its sources;
it says when you have changed the set-up since."""),
    "editors": ("Parameters", """Every setting: sizes, the activation f, the initialisation and
spectral radius of W (dragging it rescales W), data and seed. A red message says what a refused
value must be; a note under ρ(W) says when hand edits have changed W's radius."""),
    "weights": ("Weights", """W, U or V as a heatmap (blue negative, red positive): click an
entry to type a new value; small matrices also as a table."""),
}


def guide_html(names=None) -> str:
    """The panel guide as HTML (the panels named, in that order; all of them by default)."""
    names = list(PANEL_GUIDE) if names is None else [n for n in names if n in PANEL_GUIDE]
    parts = ["<h2>Reading the panels</h2><p>Every plot shares one time axis t = 1..T (left "
             "column) or shows the selected step t (right column): drag the red line, click a "
             "heatmap column or use ← →. Hover over anything for its formula.</p>"]
    for name in names:
        title, text = PANEL_GUIDE[name]
        parts.append(f"<h3>{title}</h3><p>{' '.join(text.split())}</p>")
    return "\n".join(parts)


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
    """The guide: what each panel shows (with its formula), then every shortcut and gesture."""

    def __init__(self, window):
        super().__init__(window)
        self.setWindowTitle("rnnviz: reading the panels, keys and mouse")
        self.setObjectName("shortcuts_dialog")
        layout = QtWidgets.QVBoxLayout(self)
        self.tabs = QtWidgets.QTabWidget()
        self.guide = QtWidgets.QTextBrowser()
        self.guide.setObjectName("panel_guide")
        names = [*getattr(window, "views", {}), *getattr(window, "docks", {})]
        self.guide.setHtml(guide_html(names or None))
        self.tabs.addTab(self.guide, "The panels")
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
        self.tabs.addTab(self.table, "Keys and mouse")
        layout.addWidget(self.tabs)
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Close)
        close.rejected.connect(self.close)
        layout.addWidget(close)
        self.resize(680, 620)

    def rows(self) -> list[tuple[str, str]]:
        return [(self.table.item(i, 0).text(), self.table.item(i, 1).text())
                for i in range(self.table.rowCount())]


def show_shortcuts(window) -> ShortcutsDialog:
    """Open (non-modal) the guide: the panels first, then the keys."""
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
    """Help > Guide (F1: the panels, keys and mouse) and Help > About (the model and sources)."""
    menu = window.menus["help"]
    for action in menu.actions():          # the window's own short About is replaced by ours
        if action.text().replace("&", "").startswith("About"):
            action.setVisible(False)
    keys = QtGui.QAction("&Guide: the panels, keys and mouse", window)
    keys.setObjectName("keyboard_shortcuts")
    keys.setShortcut(QtGui.QKeySequence(QtCore.Qt.Key_F1))
    keys.triggered.connect(lambda *_: show_shortcuts(window))
    about = QtGui.QAction("&About rnnviz: the model and its sources", window)
    about.setObjectName("about")
    about.triggered.connect(lambda *_: show_about(window))
    menu.addAction(keys)
    menu.addAction(about)
    window.addAction(keys)

