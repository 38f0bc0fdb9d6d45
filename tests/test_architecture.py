"""The package's architecture, read from its import graph (every module under rnnviz/, parsed with
ast, imports inside functions included): no import cycles, no Qt under engine/ and state/, the
ui/ layers import only downwards, and the views draw from state, never from the engine."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "rnnviz"
QT = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6")
# ui/, bottom to top: a module imports only from its own layer or the layers below it.
UI_LAYERS = (
    ("foundation", ("rnnviz.ui.style", "rnnviz.ui.settings", "rnnviz.ui.worker")),
    ("widgets", ("rnnviz.ui.widgets",)),
    ("views", ("rnnviz.ui.views",)),
    ("docks and actions", ("rnnviz.ui.docks", "rnnviz.ui.actions")),
    ("main window", ("rnnviz.ui.main_window", "rnnviz.ui.window_layout")),
    ("app", ("rnnviz.ui.app",)),
)


def _modules() -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    found = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imported_names(name: str, path: Path) -> set[str]:
    """Every module name an import statement anywhere in the file names (relative ones resolved;
    `from a import b` names a.b when that is a module of the package, else a)."""
    is_package = path.name == "__init__.py"
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            for alias in node.names:
                names.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return names


IMPORTS = {name: _imported_names(name, path) for name, path in MODULES.items()}
# Edges inside the package: module -> the package modules it imports.
GRAPH = {name: {m for m in names if m in MODULES and m != name} for name, names in IMPORTS.items()}


def _in(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _cycles() -> list[tuple[list[str], list[str]]]:
    """Per strongly connected component of the graph (Tarjan): one cycle through it, as a closed
    path of modules, and all its modules."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append((_closed_path(set(component)), sorted(component)))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def _closed_path(component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first)."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(GRAPH[v] & component):
            if w == start:
                return paths[v] + [start]
            if w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    raise AssertionError(component)


def test_the_graph_is_read_from_every_module():
    """The graph is complete: lazy imports inside functions are edges too."""
    assert {"rnnviz.engine.rnn", "rnnviz.state.session", "rnnviz.ui.app", "rnnviz.cli"} <= set(GRAPH)
    assert "rnnviz.ui.app" in GRAPH["rnnviz.cli"]                  # imported inside a function
    assert "rnnviz.state.compute" in GRAPH["rnnviz.ui.worker"]     # imported inside a function


def test_no_import_cycles():
    cycles = _cycles()
    assert not cycles, "import cycles: " + "; ".join(
        f"{' -> '.join(path)} (modules in this knot: {', '.join(knot)})" for path, knot in cycles)


def _qt_chain(name: str) -> list[str] | None:
    """The shortest import chain from a module to a Qt module, or None (breadth-first)."""
    paths, queue = {name: [name]}, [name]
    while queue:
        v = queue.pop(0)
        qt = sorted(m for m in IMPORTS[v] if m.split(".")[0] in QT)
        if qt:
            return paths[v] + qt[:1]
        for w in sorted(GRAPH[v] - paths.keys()):
            paths[w] = paths[v] + [w]
            queue.append(w)
    return None


def test_engine_and_state_import_no_qt_not_even_through_other_modules():
    chains = [_qt_chain(n) for n in sorted(MODULES) if _in(n, "rnnviz.engine") or _in(n, "rnnviz.state")]
    offences = [" -> ".join(c) for c in chains if c is not None]
    assert not offences, "Qt under engine/ or state/: " + "; ".join(offences)


def test_engine_and_state_load_no_qt_when_run():
    """The same boundary at run time: import every engine and state module, compute a session
    and load a preset in a fresh interpreter; no Qt module gets loaded."""
    code = (
        "import importlib, sys\n"
        f"names = {sorted(n for n in MODULES if _in(n, 'rnnviz.engine') or _in(n, 'rnnviz.state'))!r}\n"
        "for n in names: importlib.import_module(n)\n"
        "from rnnviz.state.session import Session\n"
        "s = Session(); s.compute_now(); s.load_preset('vanishing'); s.compute_now()\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {QT!r}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"Qt modules loaded by engine/state: {done.stdout.strip()}"


def test_lower_layers_never_import_higher_ones():
    """engine/ imports neither state/ nor ui/; state/ does not import ui/; nothing imports cli."""
    offences = [f"{name} imports {m}" for name in sorted(GRAPH) for m in sorted(GRAPH[name])
                if (_in(name, "rnnviz.engine") and not _in(m, "rnnviz.engine"))
                or (_in(name, "rnnviz.state") and _in(m, "rnnviz.ui"))
                or (m in ("rnnviz.cli", "rnnviz.__main__") and name != "rnnviz.__main__")]
    assert not offences, "layer order broken: " + "; ".join(offences)


def _ui_layer(module: str) -> int | None:
    for rank, (_, prefixes) in enumerate(UI_LAYERS):
        if any(_in(module, p) for p in prefixes):
            return rank
    return None


def test_every_ui_module_has_a_layer():
    unplaced = [m for m in sorted(MODULES) if _in(m, "rnnviz.ui") and m != "rnnviz.ui"
                and _ui_layer(m) is None]
    assert not unplaced, f"ui modules in no layer of UI_LAYERS: {unplaced}"


def test_ui_layers_import_only_downwards():
    """widgets <- views <- docks/actions <- main window <- app (actions get the window passed in)."""
    offences = []
    for name in sorted(GRAPH):
        here = _ui_layer(name)
        for m in sorted(GRAPH[name]):
            there = _ui_layer(m)
            if here is not None and there is not None and there > here:
                offences.append(f"{name} ({UI_LAYERS[here][0]}) imports {m} ({UI_LAYERS[there][0]})")
    assert not offences, "ui layers imported upwards: " + "; ".join(offences)


def test_views_never_import_the_engine():
    """Views draw from state (the session's result and state.display), never call the engine."""
    offences = [f"{name} imports {m}" for name in sorted(IMPORTS) if _in(name, "rnnviz.ui.views")
                for m in sorted(IMPORTS[name]) if _in(m, "rnnviz.engine")]
    assert not offences, "views importing the engine: " + "; ".join(offences)
