"""The rnnviz command: open the window (demo, preset or session file), list presets, export images.

Qt is imported only when a window or an export needs it, so `rnnviz --help` and
`rnnviz presets` work on a machine without Qt's system libraries.
"""
from __future__ import annotations

import os

# One BLAS thread, set before anything imports numpy. The engine runs in one background thread
# while the Qt thread draws, on a 2-core machine; measured (benchmarks/, separate processes, this
# machine shared and loaded): OpenBLAS with 2 threads took 2-4x LONGER than with 1 (forward +
# backward at (64,512,64,32,200) 1246 vs 534 ms; Jacobian curve n_s=256, T=500 4717 vs 1147 ms)
# and up to 19x longer with the other core busy ((16,128,16,16,100): 186-232 vs 10-37 ms), as
# its threads spin waiting for a core. An explicit setting in the environment still wins.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import re  # noqa: E402
import stat  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

VIEWS = ("inputs", "states", "gradients", "softmax", "flow", "spectrum", "connectivity",
         "gates")
WHOLE = "window"                      # --view window: the whole layout (the default)
FORMATS = (".png", ".svg")
SIZE_LIMITS = (64, 8000)              # pixels, each side
EXIT_USAGE = 2

EXAMPLES = """\
examples:
  rnnviz                               open the built-in default demo
  rnnviz --preset vanishing            open a preset (list them with: rnnviz presets)
  rnnviz lecture3.json                 open a saved session file
  rnnviz --weights model.safetensors   open a trained nn.LSTM / nn.GRU / nn.RNN's weights
  rnnviz presets                       list the presets, one line each
  rnnviz export --out demo.png         the default demo's whole window as a PNG (no display needed)
  rnnviz export --preset exploding --view flow --out flow.svg
  rnnviz export --session lecture3.json --view states --t 10 --size 1600x900 --theme dark --out s.png

keys in the window: F1 lists every shortcut; F5 toggles presentation mode.
"""

EXPORT_EXAMPLES = """\
views: states (hidden states s_t), gradients (dL/ds_t), softmax (y_t), flow (gradient flow),
       spectrum (eigenvalues of W), connectivity (input connectivity), gates (a gated cell's gate
       heatmaps), window (the whole layout, the default)
examples:
  rnnviz export --out demo.png
  rnnviz export --preset vanishing --view flow --out vanishing-flow.svg
  rnnviz export --session lecture3.json --view states --t 10 --size 1600x900 --out states.png
The export never needs a display: it renders offscreen in a print style (larger fonts, thicker
lines) on a white (--theme light) or dark (--theme dark) background.
"""


class UserError(Exception):
    """A mistake in the command line or its files: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one line instead of usage + message."""

    def error(self, message: str):
        if len(message) > 300:          # it quotes the argument, which may be 5,000 digits long
            message = f"{message[:200]}…{message[-60:]}"
        raise UserError(f"{message} (see '{self.prog} --help')")


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("rnnviz")
    except Exception:               # noqa: BLE001 - running from a bare checkout
        return "unknown"


def window_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rnnviz", formatter_class=argparse.RawDescriptionHelpFormatter,
                description="rnnviz: watch a recurrent network (vanilla, LSTM or GRU) run forward, "
                            "its gradient flow back through time (BPTT), and train it, live.\n\n"
                            "commands:\n"
                            "  rnnviz [FILE.json | --preset NAME]   open the window\n"
                            "  rnnviz presets                       list the presets\n"
                            "  rnnviz export ...                    save images without a window "
                            "(rnnviz export --help)\n"
                            "  rnnviz train ...                     train a preset or session headless "
                            "(rnnviz train --help)",
                epilog=EXAMPLES)
    p.add_argument("file", nargs="?", metavar="FILE.json",
                   help="a session file to open (saved with File > Save)")
    p.add_argument("--preset", metavar="NAME",
                   help="open a preset instead of the default demo (see: rnnviz presets)")
    p.add_argument("--weights", metavar="FILE",
                   help="open the weights of a trained nn.RNN, nn.LSTM or nn.GRU plus a Linear "
                        "readout: a PyTorch state_dict as .npz, .safetensors or .pt (.pt needs "
                        "PyTorch installed); the cell and sizes come from the file")
    p.add_argument("--recurrent", metavar="PREFIX", help="with --weights: which recurrent layer, "
                   "where the file holds several (e.g. 'encoder.rnn.')")
    p.add_argument("--readout", metavar="PREFIX", help="with --weights: which Linear reads it "
                   "out, where several fit (e.g. 'fc.'); '-' draws one instead")
    p.add_argument("--float64", action="store_true", help="with --weights: compute in float64 "
                   "(default: the file's precision, float32 for most checkpoints)")
    p.add_argument("--version", action="version", version=f"rnnviz {_version()}")
    return p


def apply_weights(session, path: str, recurrent=None, readout=None, float64=False) -> None:
    """Import a weight file into the session (as File > Import weights does); UserError naming
    the problem, with the candidates where the file holds several layers or readouts."""
    from rnnviz.state import weights_io
    try:
        imported = weights_io.load(path, recurrent=recurrent, readout=readout,
                                   dtype="float64" if float64 else None)
    except weights_io.Ambiguous as exc:
        flag = "--recurrent" if exc.kind == "recurrent layer" else "--readout"
        raise UserError(f"cannot open {shown(path)}: {exc.args[0].rsplit('. Pick', 1)[0]}. "
                        f"Pick one with {flag} PREFIX") from None
    except weights_io.WeightsError as exc:
        raise UserError(f"cannot open {shown(path)}: {exc}") from None
    problems = session.load_weights(imported)
    if problems:
        raise UserError(f"cannot open {shown(path)}: {problems[0].message}")
    for text in imported.messages:
        print(f"rnnviz: {text}", file=sys.stderr)


def presets_parser() -> argparse.ArgumentParser:
    return _Parser(prog="rnnviz presets", description="List the presets, one line each: "
                   "the name to use with --preset, then what it shows.")


def export_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rnnviz export", formatter_class=argparse.RawDescriptionHelpFormatter,
                description="Save a plot or the whole window as a PNG or SVG image, without a "
                            "display. The default demo is used unless --preset or --session "
                            "names another set-up.", epilog=EXPORT_EXAMPLES)
    source = p.add_mutually_exclusive_group()
    source.add_argument("--preset", metavar="NAME", help="a preset (see: rnnviz presets)")
    source.add_argument("--session", metavar="FILE", help="a session file")
    p.add_argument("--out", required=True, metavar="FILE.png|FILE.svg",
                   help="the image to write; its ending chooses the format")
    p.add_argument("--view", choices=VIEWS + (WHOLE,), default=WHOLE, metavar="NAME",
                   help=f"which plot: {', '.join(VIEWS)} or {WHOLE} (default: {WHOLE})")
    p.add_argument("--t", type=parse_step, metavar="STEP",
                   help="the selected time step, 1..T as shown in the window "
                        "(default: the preset's or session's)")
    p.add_argument("--size", metavar="WxH",
                   help="image size in pixels (default: 1280x800 for a plot, 1920x1080 for "
                        "the window)")
    p.add_argument("--theme", choices=("light", "dark"), default="light",
                   help="white (light, the default) or dark background")
    return p


# ----- helpers (Qt-free) -----------------------------------------------------------------------
def display_available(environ=None) -> bool:
    """Whether Qt can open a window here (instead of aborting with exit code 134)."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return True
    platform = env.get("QT_QPA_PLATFORM", "").strip()
    x11, wayland = bool(env.get("DISPLAY")), bool(env.get("WAYLAND_DISPLAY"))
    if not platform:
        return x11 or wayland
    if platform.startswith("xcb"):
        return x11
    if platform.startswith("wayland"):
        return wayland
    return True                     # offscreen, minimal, vnc, eglfs, linuxfb: no display needed


NO_DISPLAY = ("cannot open the window: no display found (DISPLAY and WAYLAND_DISPLAY are unset). "
              "To make images without a display use 'rnnviz export --out demo.png' "
              "(see 'rnnviz export --help').")


def shown(text, limit: int = 60) -> str:
    """A user's argument or path for a message, cut in the middle when long."""
    text = str(text)
    if len(text) > limit:
        text = f"{text[:limit // 2]}…{text[-(limit // 4):]} ({len(text):,} characters)"
    return text


def parse_size(text: str) -> tuple[int, int]:
    """(width, height) from 'WxH'; UserError naming the problem."""
    match = re.fullmatch(r"\s*(\d{1,9})\s*[xX×]\s*(\d{1,9})\s*", text or "")
    if not match:
        raise UserError(f"--size must look like 1600x900 (width x height in pixels, each "
                        f"{SIZE_LIMITS[0]} to {SIZE_LIMITS[1]}), not '{shown(text)}'")
    w, h = int(match.group(1)), int(match.group(2))
    lo, hi = SIZE_LIMITS
    if not (lo <= w <= hi and lo <= h <= hi):
        raise UserError(f"--size {w}x{h} is out of range: each side must be {lo} to {hi} pixels")
    return w, h


def parse_step(text: str) -> int:
    """--t's value: a whole number (argparse type); a short message otherwise."""
    if not re.fullmatch(r"\s*[-+]?\d{1,9}\s*", text):
        raise argparse.ArgumentTypeError(f"must be a step number, not '{shown(text)}'")
    return int(text)


def check_out(out: Path) -> None:
    """UserError unless --out names a file that could be written: its folder exists, and its
    name and path fit the system's limits (NAME_MAX, PATH_MAX)."""
    if out.suffix.lower() not in FORMATS:
        raise UserError(f"--out must end in .png or .svg (the format), not '{shown(out.name)}'")
    folder = out.parent if str(out.parent) else Path(".")
    try:
        st = os.stat(folder)
    except (FileNotFoundError, NotADirectoryError):
        raise UserError(f"cannot write {shown(out)}: the folder {shown(folder)} does not exist") \
            from None
    except OSError as exc:
        raise UserError(f"cannot write {shown(out)}: {exc.strerror or exc}") \
            from None
    if not stat.S_ISDIR(st.st_mode):
        raise UserError(f"cannot write {shown(out)}: {shown(folder)} is not a folder")
    try:
        name_max = os.pathconf(folder, "PC_NAME_MAX")
        path_max = os.pathconf(folder, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):
        name_max, path_max = 255, 4096
    name_bytes = len(os.fsencode(out.name))
    if name_bytes > name_max:
        raise UserError(f"cannot write {shown(out)}: the file name is too long ({name_bytes} "
                        f"bytes; at most {name_max} here)")
    if len(os.fsencode(os.path.abspath(out))) >= path_max:
        raise UserError(f"cannot write {shown(out)}: the path is too long (at most {path_max} "
                        f"bytes here)")


def quiet_qt_size_hint_warnings() -> None:
    """Drop Qt's "This plugin does not support propagateSizeHints()" lines from an export.

    The offscreen platform plugin does not implement QPlatformWindow::propagateSizeHints(),
    whose default prints that warning whenever a top-level window's size limits change (the
    export's window and its docks, as they are shown and closed). Every other Qt message
    still goes to stderr as Qt's default handler writes it."""
    from PySide6 import QtCore

    def handler(mode, context, message):
        if "does not support propagateSizeHints" in message:
            return
        category = getattr(context, "category", None)
        prefix = f"{category}: " if category and category != "default" else ""
        sys.stderr.write(f"{prefix}{message}\n")
    global _QT_HANDLER
    _QT_HANDLER = handler               # kept alive for as long as Qt may call it
    QtCore.qInstallMessageHandler(handler)


_QT_HANDLER = None


class ExportProgress:
    """What a long export is doing, on stderr: each step's name, the gradient flow's percentage
    (every FLOW_STEP), with the seconds elapsed. Quiet for the first QUIET_S seconds, so a quick
    export prints nothing but "wrote"; then a step that runs on is announced by a ticker thread
    (the steps themselves run in NumPy, seconds to minutes each at the largest sizes)."""

    QUIET_S = 5.0
    FLOW_STEP = 0.05
    TICK_S = 0.25

    def __init__(self, stream=None, quiet_s: float | None = None):
        import threading
        import time
        self._clock = time.monotonic
        self.stream = stream if stream is not None else sys.stderr
        self.quiet_s = self.QUIET_S if quiet_s is None else quiet_s
        self.start = self._clock()
        self.lines: list[str] = []          # what was printed
        self._pending: str | None = None    # the step running, not printed yet
        self._flow_shown = -1.0
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="rnnviz-progress", daemon=True)
        self._ticker.start()

    def stage(self, text: str) -> None:
        """A step starts."""
        with self._lock:
            self._pending = text
            self._flush()

    def flow(self, fraction: float) -> None:
        """The gradient flow is `fraction` (0..1) done."""
        if fraction < 1.0 and fraction - self._flow_shown < self.FLOW_STEP:
            return
        self._flow_shown = fraction
        self.stage(f"gradient flow {100 * fraction:.0f} %")

    def close(self) -> None:
        """Stop the ticker (nothing more is printed)."""
        self._done.set()
        self._ticker.join(1.0)

    def _flush(self) -> None:
        elapsed = self._clock() - self.start
        if self._pending is None or elapsed < self.quiet_s or self._done.is_set():
            return
        line = f"rnnviz export: {self._pending} ({elapsed:.0f} s)"
        self._pending = None
        self.lines.append(line)
        try:
            print(line, file=self.stream, flush=True)
        except (OSError, ValueError):       # stderr closed: progress is not worth failing for
            pass

    def _tick(self) -> None:
        while not self._done.wait(self.TICK_S):
            with self._lock:
                self._flush()


def load_session(preset: str | None = None, path: str | None = None):
    """A Session on the default demo, a preset or a session file; UserError when it cannot be.

    A file's problems (missing, not a regular file, too large, not a session) are
    sessionfile.load's, the same checks and messages as File > Open."""
    from rnnviz.state.session import Session
    from rnnviz.state.sessionfile import SessionFileError
    if preset is not None and path is not None:
        raise UserError("give either a preset or a session file, not both")
    session = Session.demo() if preset is None and path is None else Session()
    if preset is not None:
        try:
            session.load_preset(preset)
        except KeyError as exc:
            raise UserError(str(exc.args[0]) + " (see 'rnnviz presets')") from None
    if path is not None:
        try:
            session.load_file(path)
        except SessionFileError as exc:
            raise UserError(f"cannot open {shown(path)}: {exc}") from None
    return session


# ----- commands --------------------------------------------------------------------------------
def cmd_presets(argv: list[str]) -> int:
    presets_parser().parse_args(argv)
    from rnnviz.state import presets
    items = presets.list_presets()
    width = max(len(p.name) for p in items)
    for p in items:
        print(f"{p.name:<{width}}  {p.title}: {p.summary}")
    return 0


def cmd_window(argv: list[str]) -> int:
    args = window_parser().parse_args(argv)
    if args.weights is None and (args.recurrent or args.readout or args.float64):
        raise UserError("--recurrent, --readout and --float64 go with --weights FILE")
    session = load_session(args.preset, args.file)
    if args.weights is not None:
        apply_weights(session, args.weights, args.recurrent, args.readout, args.float64)
    if not display_available():
        raise UserError(NO_DISPLAY)
    if args.preset is None and args.file is None and args.weights is None:
        from rnnviz.ui.actions.file import startup_session
        session, note = startup_session(session)
        if note:
            print(f"rnnviz: {note}", file=sys.stderr)
    from rnnviz.ui.app import run_window
    return run_window(session)


def cmd_export(argv: list[str]) -> int:
    args = export_parser().parse_args(argv)
    out = Path(args.out)
    check_out(out)
    size = parse_size(args.size) if args.size else None
    session = load_session(args.preset, args.session)
    if args.t is not None:
        T = session.config.T
        if not 1 <= args.t <= T:
            raise UserError(f"--t must be a step from 1 to {T} (T = {T}), not {args.t}")
        session.set_timestep(args.t - 1)
    os.environ["QT_QPA_PLATFORM"] = "offscreen"      # never a window, never a display needed
    quiet_qt_size_hint_warnings()
    from rnnviz.ui.actions.export import ExportError
    from rnnviz.ui.app import export_session
    progress = ExportProgress()
    try:
        written = export_session(session, out, view=args.view, size=size, theme=args.theme,
                                 progress=progress)
    except ExportError as exc:
        raise UserError(str(exc)) from None
    finally:
        progress.close()
    print(f"wrote {written}")
    return 0


def cmd_train(argv: list[str]) -> int:
    from rnnviz import cli_train
    args = cli_train.train_parser(_Parser).parse_args(argv)
    session = load_session(args.preset, args.session)
    try:
        return cli_train.run(args, session, UserError)
    except KeyboardInterrupt:
        print("\nrnnviz: training interrupted", file=sys.stderr)
        return 130


COMMANDS = {"presets": cmd_presets, "export": cmd_export, "train": cmd_train}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rnnviz` console script and `python -m rnnviz`."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = COMMANDS.get(argv[0]) if argv else None
    try:
        if command is not None:
            return command(argv[1:])
        return cmd_window(argv)
    except UserError as exc:
        print(f"rnnviz: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:          # the system refused a path the checks above let through
        name = f"{shown(exc.filename)}: " if exc.filename else ""
        print(f"rnnviz: {name}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":      # pragma: no cover
    sys.exit(main())
