"""File > Import weights… and Export weights…: a trained nn.RNN / nn.LSTM / nn.GRU state_dict
(.npz, .safetensors, .pt) in and out, through state/weights_io.py.

Where the file holds several recurrent layers or readouts a dialog asks which; before importing,
a dialog offers the precision (the file's, or float64) and, for an nn.RNN, its nonlinearity (a
state_dict does not store it). Problems are shown in a message box; the session stays as it was.
"""
from __future__ import annotations

from pathlib import Path

from PySide6 import QtGui, QtWidgets

from rnnviz.state import weights_formats, weights_io
from rnnviz.ui.actions.file import can_ask

IMPORT_FILTER = ("PyTorch state_dict (*.safetensors *.npz *.pt *.pth);;safetensors (*.safetensors);;"
                 "NumPy archive (*.npz);;PyTorch (*.pt *.pth);;All files (*)")
EXPORT_FILTERS = {"safetensors (*.safetensors)": ".safetensors", "NumPy archive (*.npz)": ".npz",
                  "PyTorch (*.pt)": ".pt"}


class ImportOptions(QtWidgets.QDialog):
    """What was found in the file; the precision and (nn.RNN) the nonlinearity to use."""

    def __init__(self, imported: weights_io.Imported, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Import weights")
        form = QtWidgets.QFormLayout(self)
        p = imported.params
        readout = imported.readout.describe() if imported.readout else "none (drawn)"
        form.addRow("Found", QtWidgets.QLabel(
            f"{imported.layer.describe()}, readout {readout}: n_y = {p.n_y}"))
        self.dtype = QtWidgets.QComboBox()
        self.dtype.addItem(f"{imported.file_dtype} (the file's)", None)
        if imported.file_dtype != "float64":
            self.dtype.addItem("float64 (exact products of the file's values)", "float64")
        form.addRow("Precision", self.dtype)
        self.activation = None
        if imported.cell == "vanilla":
            self.activation = QtWidgets.QComboBox()
            self.activation.addItems(["tanh", "relu"])
            self.activation.setToolTip("nn.RNN(nonlinearity=...): not stored in a state_dict")
            form.addRow("Nonlinearity", self.activation)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok
                                             | QtWidgets.QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def choice(self) -> tuple[str | None, str | None]:
        """(dtype or None for the file's, activation or None)."""
        return self.dtype.currentData(), (self.activation.currentText() if self.activation else None)


class WeightActions:
    """The two File menu entries, bound to one window and its session."""

    def __init__(self, window):
        self.window = window
        self.session = window.session
        self.actions: dict[str, QtGui.QAction] = {}

    def error(self, title: str, text: str) -> None:
        if can_ask():
            QtWidgets.QMessageBox.warning(self.window, f"rnnviz: {title}", text)
        self.window.status.error(text)

    def _ask_candidate(self, exc: weights_io.Ambiguous) -> str | None:
        items = [c.describe() for c in exc.candidates]
        text, ok = QtWidgets.QInputDialog.getItem(
            self.window, "Import weights", f"The file holds several {exc.kind}s. Which one?",
            items, 0, False)
        return exc.candidates[items.index(text)].prefix if ok else None

    def import_path(self, path, *, recurrent: str | None = None, readout: str | None = None,
                    dtype: str | None = None, activation: str | None = None) -> bool:
        """Import a weight file into the session (what File > Import weights… does after its
        file dialog); False, with a message and the session unchanged, when it cannot be used."""
        name = Path(path).name
        for _ in range(3):                  # at most: ask for the layer, then the readout
            try:
                imported = weights_io.load(path, recurrent=recurrent, readout=readout, dtype=dtype)
                break
            except weights_io.Ambiguous as exc:
                chosen = self._ask_candidate(exc) if can_ask() else None
                if chosen is None:
                    if not can_ask():
                        self.error("cannot import the weights", f"{name}: {exc}")
                    return False
                if exc.kind == "recurrent layer":
                    recurrent = chosen
                else:
                    readout = chosen
            except weights_io.WeightsError as exc:
                self.error("cannot import the weights", f"{name} cannot be used:\n\n{exc}\n\n"
                                                        "The current session is unchanged.")
                return False
        else:
            return False
        if can_ask():
            dialog = ImportOptions(imported, self.window)
            if dialog.exec() != QtWidgets.QDialog.Accepted:
                return False
            chosen_dtype, activation = dialog.choice()
            if chosen_dtype is not None and chosen_dtype != imported.params.dtype.name:
                imported = weights_io.load(path, recurrent=imported.layer.prefix,
                                           readout=imported.readout.prefix if imported.readout
                                           else weights_io.NO_READOUT, dtype=chosen_dtype)
        file_actions = getattr(self.window, "file_actions", None)
        if file_actions is not None and not file_actions.maybe_save():
            return False
        problems = self.session.load_weights(imported, activation)
        if problems:
            self.error("cannot import the weights", "; ".join(p.message for p in problems))
            return False
        if file_actions is not None:
            file_actions.update_title()
        self.window.status.showMessage(f"imported {imported.layer.describe()} from {name}", 10000)
        return True

    def export_path(self, path) -> bool:
        """Export the session's weights as a state_dict file (the ending picks the format)."""
        try:
            written = weights_io.save(path, self.session.params)
        except weights_io.WeightsError as exc:
            self.error("cannot export the weights", str(exc))
            return False
        self.window.status.showMessage(f"weights exported to {written}", 8000)
        return True

    # ----- the menu entries --------------------------------------------------------------------
    def import_weights(self) -> None:
        name, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, "Import weights", "",
                                                        IMPORT_FILTER)
        if name:
            self.import_path(name)

    def export_weights(self) -> None:
        filters = list(EXPORT_FILTERS)
        if not weights_formats.torch_available():
            filters.remove("PyTorch (*.pt)")
        start = f"{self.session.config.cell}-weights.safetensors"
        name, chosen = QtWidgets.QFileDialog.getSaveFileName(self.window, "Export weights", start,
                                                             ";;".join(filters))
        if not name:
            return
        path = Path(name)
        if path.suffix.lower() not in weights_formats.SUFFIXES:
            path = path.with_name(path.name + EXPORT_FILTERS.get(chosen, ".safetensors"))
        self.export_path(path)

    def build_menu(self, menu: QtWidgets.QMenu) -> None:
        """Insert Import weights… and Export weights… before the share-code entries."""
        entries = (("import_weights", "&Import weights…", self.import_weights,
                    "Open the weights of a trained nn.RNN, nn.LSTM or nn.GRU (+ Linear readout): a "
                    "PyTorch state_dict as .safetensors, .npz or .pt"),
                   ("export_weights", "Export &weights…", self.export_weights,
                    "Save the network's weights as a PyTorch state_dict (rnn.*, fc.*)"))
        before = next((a for a in menu.actions() if a.objectName() == "copy_setup"), None)
        for key, text, slot, tip in entries:
            action = QtGui.QAction(text, self.window)
            action.setObjectName(key)
            action.setStatusTip(tip)
            action.setToolTip(tip)
            action.triggered.connect(lambda *_, s=slot: s())
            menu.insertAction(before, action)
            self.actions[key] = action
        menu.insertSeparator(before)


def install(window) -> WeightActions:
    """Add the weight entries to a MainWindow's File menu (after file.install)."""
    actions = WeightActions(window)
    actions.build_menu(window.menus["file"])
    window.weight_actions = actions
    return actions
