# Sourced by scripts/run-app and scripts/run-tests: makes this checkout ready to run on a fresh
# Debian/Ubuntu machine. Installs, only when missing: the Qt system libraries (apt-get), a venv
# in .venv with the pinned packages (scripts/constraints.txt), and rnnviz itself (editable).
# Re-running is cheap: each step checks first and does nothing when all is in place.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

say() { printf 'rnnviz setup: %s\n' "$*" >&2; }

# --- Qt system libraries -----------------------------------------------------------------
# Checked by shared-object name (package names differ between Debian and Ubuntu releases).
# soname:package, for offscreen rendering (tests, export) ...
QT_LIBS="libglib-2.0.so.0:libglib2.0-0 libGL.so.1:libgl1 libEGL.so.1:libegl1
libfontconfig.so.1:libfontconfig1 libxkbcommon.so.0:libxkbcommon0 libdbus-1.so.3:libdbus-1-3"
# ... and, in addition, for a real window on an X display.
XCB_LIBS="libxcb-cursor.so.0:libxcb-cursor0 libxcb-icccm.so.4:libxcb-icccm4
libxcb-image.so.0:libxcb-image0 libxcb-keysyms.so.1:libxcb-keysyms1
libxcb-render-util.so.0:libxcb-render-util0 libxcb-shape.so.0:libxcb-shape0
libxkbcommon-x11.so.0:libxkbcommon-x11-0"

missing_packages() {  # $1: list of soname:package
  local have; have="$(ldconfig -p 2>/dev/null || true)"
  for pair in $1; do
    grep -q "${pair%%:*}" <<<"$have" || printf '%s ' "${pair#*:}"
  done
}

apt_install() {  # $@: Debian package names
  [ $# -gt 0 ] || return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      say "missing system packages: $*"
      say "install them as root:  apt-get install -y $*"; exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing system packages (Debian names): $*; this is not a Debian/Ubuntu system, install their equivalents by hand"
    exit 1
  fi
  say "installing system packages: $*"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_system_libs() {  # $1 = "gui" also installs what a real X window needs
  local need; need="$(missing_packages "$QT_LIBS")"
  [ "${1:-}" = gui ] && need="$need$(missing_packages "$XCB_LIBS")"
  # Without a font, Qt renders every label as empty boxes and says nothing.
  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need="$need fonts-dejavu-core"
  # shellcheck disable=SC2086
  apt_install $need
}

# --- Python and the venv -------------------------------------------------------------------
find_python() {
  for py in python3.13 python3.12 python3.11 python3; do
    if command -v "$py" >/dev/null 2>&1 &&
       "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$py"; return 0
    fi
  done
  return 1
}

ensure_venv() {
  local py
  if ! py="$(find_python)"; then
    apt_install python3 python3-venv
    py="$(find_python)" || { say "rnnviz needs Python 3.11 or newer; none found"; exit 1; }
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV with $("$py" --version)"
    if ! "$py" -m venv "$VENV" >/dev/null 2>&1; then
      rm -rf "$VENV"
      apt_install "python3-venv"
      [ "$(basename "$py")" = python3 ] || apt_install "$(basename "$py")-venv" || true
      "$py" -m venv "$VENV"
    fi
  fi
  # Reinstall only when the pins or the project's metadata changed.
  local stamp
  stamp="$(cat "$ROOT/pyproject.toml" "$ROOT/scripts/constraints.txt" | sha256sum | cut -c1-16)"
  if [ "$(cat "$VENV/.rnnviz-stamp" 2>/dev/null)" != "$stamp" ]; then
    say "installing pinned packages into $VENV"
    # pip's own output goes to a log, shown only when the install fails (quiet unless wrong).
    local log="$VENV/rnnviz-install.log"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >"$log" 2>&1 || true
    if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        -c "$ROOT/scripts/constraints.txt" -e "$ROOT[test]" >>"$log" 2>&1; then
      cat "$log" >&2
      say "installing the packages failed (pip's messages above, also in $log)"
      exit 1
    fi
    echo "$stamp" >"$VENV/.rnnviz-stamp"
  fi
}
