"""What the window says about each cell, in one place: its formulas (plain text for tooltips and
titles, HTML for the help), the symbol of its state, its gates and the gate blocks of its arrays.

Qt-free; keyed by the engine's cell names. A cell without an entry here (a new or a test-only
cell) gets a generic description from the engine's own names (describe()).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from rnnviz.engine.cells import get_cell


@dataclass(frozen=True)
class CellInfo:
    """The words and formulas the views show for one cell."""

    name: str
    label: str                                  # "vanilla RNN", "LSTM", "GRU"
    state: str                                  # the read-out state's symbol: "s" or "h"
    parts: dict                                 # engine state part -> its symbol ({"h": "h", "c": "c"})
    part_titles: dict                           # engine state part -> what it is, for a tab
    formula: str                                # one line: the state update (titles)
    equations: tuple[str, ...]                  # plain text, one per line (tooltips)
    html: str                                   # the help's rows (<tr>...</tr>)
    gates: dict = field(default_factory=dict)   # gate -> (name, what it does), in drawing order
    blocks: dict = field(default_factory=dict)  # array -> gate-block labels in PyTorch's order
    carry: str = ""                             # the carousel's formula (gated cells)
    bound: str = ""                             # what bounds d state_T / d state_t, in words
    source: str = ""


VANILLA = CellInfo(
    name="vanilla", label="vanilla RNN", state="s", parts={"s": "s"},
    part_titles={"s": "hidden state s_t"},
    formula="s_t = f(U x_t + W s_(t−1) + b_a)",
    equations=("a_t = U x_t + W s_{t−1} + b_a", "s_t = f(a_t)", "y_t = softmax(V s_t + b_y)"),
    html="<tr><td>hidden state</td><td><i>s<sub>t</sub> = f(U x<sub>t</sub> + W s<sub>t−1</sub>"
         " + b<sub>a</sub>)</i></td></tr>",
    bound="‖∂s_T/∂s_t‖ ≤ (γ σ_max(W))^(T−t), γ = sup|f′|",
    source="Elman (1990); the notebook's notation")

LSTM = CellInfo(
    name="lstm", label="LSTM", state="h", parts={"h": "h", "c": "c"},
    part_titles={"h": "hidden state h_t", "c": "cell state c_t"},
    formula="c_t = f⊙c_(t−1) + i⊙g,  h_t = o⊙tanh(c_t)",
    equations=("i = σ(U_i x_t + W_i h_{t−1} + b_i)   (input gate; f, o alike)",
               "g = tanh(U_g x_t + W_g h_{t−1} + b_g)   (candidate)",
               "c_t = f ⊙ c_{t−1} + i ⊙ g   (cell state)",
               "h_t = o ⊙ tanh(c_t)   (hidden state, read out: y_t = softmax(V h_t + b_y))"),
    html="<tr><td>gates</td><td><i>i, f, o = σ(U<sub>·</sub> x<sub>t</sub> + W<sub>·</sub> "
         "h<sub>t−1</sub> + b<sub>·</sub>)</i>, &nbsp; <i>g = tanh(U<sub>g</sub> x<sub>t</sub> + "
         "W<sub>g</sub> h<sub>t−1</sub> + b<sub>g</sub>)</i></td></tr>"
         "<tr><td>cell state</td><td><i>c<sub>t</sub> = f ⊙ c<sub>t−1</sub> + i ⊙ g</i></td></tr>"
         "<tr><td>hidden state</td><td><i>h<sub>t</sub> = o ⊙ tanh(c<sub>t</sub>)</i></td></tr>"
         "<tr><td>carousel</td><td>along c alone <i>∂c<sub>T</sub>/∂c<sub>t</sub> = "
         "diag(Π<sub>k</sub> f<sub>k</sub>)</i>: no W in it, every factor in (0, 1)</td></tr>",
    gates={"i": ("input gate", "how much of the candidate g enters c"),
           "f": ("forget gate", "how much of c_{t−1} is kept: the carousel's factor"),
           "o": ("output gate", "how much of tanh(c_t) is read out as h_t")},
    blocks={"U": ("i", "f", "g", "o"), "W": ("i", "f", "g", "o"), "ba": ("i", "f", "g", "o")},
    carry="∂c_T/∂c_t along c alone = diag(Π_{k=t+1..T} f_k)",
    bound="no simple bound: the step Jacobian depends on the gates and on c_{t−1}; along the "
          "cell state alone ∂c_T/∂c_t = diag(Π f) ≤ 1 (it cannot explode)",
    source="Hochreiter & Schmidhuber (1997); forget gate: Gers, Schmidhuber & Cummins (2000); "
           "PyTorch's nn.LSTM (gate order i, f, g, o)")

GRU = CellInfo(
    name="gru", label="GRU", state="h", parts={"s": "h"},
    part_titles={"s": "hidden state h_t"},
    formula="h_t = (1−z)⊙n + z⊙h_(t−1)",
    equations=("r = σ(U_r x_t + b_r + W_r h_{t−1} + b′_r)   (reset gate; z alike: update gate)",
               "n = tanh(U_n x_t + b_n + r ⊙ (W_n h_{t−1} + b′_n))   (candidate)",
               "h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}   (read out: y_t = softmax(V h_t + b_y))"),
    html="<tr><td>gates</td><td><i>r, z = σ(U<sub>·</sub> x<sub>t</sub> + b<sub>·</sub> + "
         "W<sub>·</sub> h<sub>t−1</sub> + b′<sub>·</sub>)</i></td></tr>"
         "<tr><td>candidate</td><td><i>n = tanh(U<sub>n</sub> x<sub>t</sub> + b<sub>n</sub> + "
         "r ⊙ (W<sub>n</sub> h<sub>t−1</sub> + b′<sub>n</sub>))</i></td></tr>"
         "<tr><td>hidden state</td><td><i>h<sub>t</sub> = (1 − z) ⊙ n + z ⊙ h<sub>t−1</sub></i>"
         "</td></tr>"
         "<tr><td>direct path</td><td><i>∂h<sub>T</sub>/∂h<sub>t</sub></i> holds "
         "<i>diag(Π<sub>k</sub> z<sub>k</sub>)</i> plus the paths through W</td></tr>",
    gates={"r": ("reset gate", "how much of W_n h_{t−1} enters the candidate n"),
           "z": ("update gate", "how much of h_{t−1} is kept: the direct path's factor")},
    blocks={"U": ("r", "z", "n"), "W": ("r", "z", "n"), "ba": ("r", "z", "n"),
            "bs": ("r", "z", "n")},
    carry="the direct path of ∂h_T/∂h_t: diag(Π_{k=t+1..T} z_k)",
    bound="no simple bound: the step Jacobian diag(z) + (terms through W) depends on the gates; "
          "its direct part diag(Π z) ≤ 1",
    source="Cho et al. (2014); PyTorch's nn.GRU (gate order r, z, n; b′ = bias_hh)")

CELL_INFO = {info.name: info for info in (VANILLA, LSTM, GRU)}


def describe(cell: str) -> CellInfo:
    """The cell's entry; for a cell without one, a generic entry from the engine's names."""
    info = CELL_INFO.get(cell)
    if info is not None:
        return info
    model = get_cell(cell)
    parts = {p: p for p in model.state_parts}
    first = model.state_parts[0]
    return CellInfo(name=cell, label=model.label, state=first, parts=parts,
                    part_titles={p: f"state {p}_t" for p in parts},
                    formula=f"{first}_t = {model.label}({first}_(t−1), x_t)",
                    equations=(f"{first}_t: the {model.label} cell's state update",),
                    html=f"<tr><td>{model.label}</td><td>its own state update</td></tr>",
                    bound="the cell's own bound, where it has one")


def state_heading(cell: str, activation: str, part: str) -> tuple[str, ...]:
    """The state heatmap's title for one state part, then shorter variants."""
    info = describe(cell)
    sym = info.parts.get(part, part)
    if cell == "vanilla":
        f = activation
        return (f"Hidden state s_t = {f}(U x_t + W s_(t−1) + b_a)",
                f"s_t = {f}(U x_t + W s_(t−1) + b_a)", "Hidden state s_t")
    title = info.part_titles.get(part, f"state {sym}_t")
    title = title[:1].upper() + title[1:]
    return (f"{title} ({info.label}):  {info.formula}", f"{title} ({info.label})", f"{sym}_t")


def state_tooltip(cell: str) -> str:
    """The state heatmap's tooltip: what it shows, with the cell's equations."""
    info = describe(cell)
    lines = "\n".join(info.equations)
    if cell == "vanilla":
        return ("Hidden state s_t = f(U x_t + W s_{t−1} + b_a) of every unit (rows) at every step "
                "(columns) for the selected batch element. Colour range fixed by the activation "
                "(−1…1 for tanh, 0…1 for sigmoid). Click a column to select t.")
    tabs = ", ".join(info.part_titles.values())
    return (f"The {info.label}'s state of every unit (rows) at every step (columns) for the "
            f"selected batch element ({tabs}; tabs above switch where there are several).\n"
            f"{lines}\nClick a column to select t.")


def gate_tooltip(cell: str) -> str:
    """The gate heatmaps' tooltip: every gate, what it does, and the equations."""
    info = describe(cell)
    gates = "\n".join(f"• {g}: {name}, {what}" for g, (name, what) in info.gates.items())
    return (f"The {info.label}'s gates, each unit (rows) at every step (columns), for the "
            f"selected batch element; every gate lies in (0, 1) (sigmoid): 0 closed, 1 open.\n"
            f"{gates}\n" + "\n".join(info.equations))


def flow_tooltip(cell: str) -> str:
    """The flow plot's tooltip for a cell."""
    info = describe(cell)
    if cell == "vanilla":
        return ("Norms of the back-propagated gradient over t, log scale: ‖∂L/∂s_t‖ (total), "
                "‖∂L_T/∂s_t‖ (only the last step's loss), the Jacobian ‖∂s_T/∂s_t‖₂ = "
                "‖Π diag(f′(a_k)) W‖ (its largest singular value σ₁; the thin lines are σ₂ and "
                "σ₃, which decay faster) and its bound (γ σ_max(W))^(T−t). The rate is the "
                "geometric mean factor per step of the Jacobian norm.")
    parts = ", ".join(info.parts.values())
    text = (f"Norms of the back-propagated gradient over t, log scale, for the {info.label}: "
            f"‖∂L/∂{info.state}_t‖ (total), ‖∂L_T/∂{info.state}_t‖ (only the last step's loss) and "
            f"σ₁ = ‖∂state_T/∂state_t‖₂ of the whole state ({parts}; thin lines σ₂, σ₃).")
    if info.carry:
        text += f"\nThe carousel: {info.carry}, drawn for the unit that keeps the most (max over units)."
    if "c" in info.parts:
        text += "\n‖∂c_T/∂c_t‖ and ‖∂h_T/∂h_t‖ are the diagonal blocks of that Jacobian."
    return text + f"\nBound: {info.bound}. The rate is the geometric mean factor per step."


VANILLA_MODEL = """\
The network reads the inputs x₁ … x_T one step at a time:

- a_t = U x_t + W s_{t−1} + b_a, &nbsp; s_t = f(a_t) &nbsp; (hidden state)
- y_t = softmax(V s_t + b_y) &nbsp; (output), loss L = −(1/m) Σ_b Σ_t log y_t[target]

Backpropagation through time multiplies one Jacobian ∂s_t/∂s_{t−1} = diag(f′(a_t)) W per step, \
so ‖∂s_T/∂s_t‖ ≤ (γ·σ_max(W))^(T−t) with γ = sup|f′|: gradients vanish when γ·σ_max(W) < 1 \
and can explode when the spectral radius ρ(W) > 1.
"""


def model_markdown(cell: str) -> str:
    """The Explanation dock's "The model" section for a cell (markdown): its equations, the
    readout and loss, and what carries or bounds the gradient back through time."""
    if cell == "vanilla":
        return VANILLA_MODEL
    info = describe(cell)
    lines = [f"The {info.label} reads the inputs x₁ … x_T one step at a time:", ""]
    lines += [f"- {eq.replace('   (', ' &nbsp; (')}" for eq in info.equations]
    lines += ["", "The loss is L = −(1/m) Σ_b Σ_t log y_t[target]."]
    if info.carry:
        lines += ["", f"What carries the gradient back: {info.carry}."]
    lines += ["", f"{info.bound[:1].upper()}{info.bound[1:]}."]
    if info.source:
        lines += ["", f"*{info.source}*"]
    return "\n".join(lines) + "\n"


def block_labels(cell: str, name: str) -> tuple[str, ...]:
    """The gate blocks of an array, top to bottom (empty when it has none)."""
    return describe(cell).blocks.get(name, ())


def array_caption(cell: str, name: str, shape: tuple[int, ...], block: str | None = None
                  ) -> tuple[str, str, str]:
    """(caption, column label, row label) of a gated cell's array, or of one of its gate blocks
    (the vanilla cell's own words are the weights dock's)."""
    info = describe(cell)
    sym = info.state
    rows, cols = shape[0], shape[1] if len(shape) > 1 else 1
    labels = block_labels(cell, name)
    from_words = {"U": "from x_t", "W": f"from {sym}_{{t−1}}", "V": f"from {sym}_t"}
    if name == "V":
        return (f"V  ({rows} × {cols}): hidden → output, z_t = V {sym}_t + b_y", from_words["V"],
                "to z_t")
    if not labels:
        return f"{name}  ({rows} × {cols})", "column", "row"
    if block is not None:
        gate = info.gates.get(block, ("candidate", ""))[0]
        return (f"{name}_{block}  ({rows // len(labels)} × {cols}): the {gate} block of {name}",
                from_words.get(name, "column"), f"to {block}")
    names = ", ".join(f"{name}_{g}" for g in labels)
    return (f"{name}  ({rows} × {cols}): the gate blocks {names}, top to bottom",
            from_words.get(name, "column"), "to the gates " + ", ".join(labels))


def about_html() -> str:
    """The help's section on the cells: each cell's equations (HTML)."""
    out = ["<h3>The cells</h3>"]
    for info in CELL_INFO.values():
        out.append(f"<p><b>{info.label}</b> ({info.source})</p><table cellspacing=\"4\">"
                   f"{info.html}</table>")
    out.append("<p>All cells share the readout <i>y<sub>t</sub> = softmax(V h<sub>t</sub> + "
               "b<sub>y</sub>)</i>. The gated cells follow PyTorch's conventions exactly, so a "
               "trained nn.RNN, nn.LSTM or nn.GRU loads with File &gt; Import weights.</p>")
    return "".join(out)
