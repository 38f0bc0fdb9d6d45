#!/usr/bin/env bash
# Create .venv-bench/ at the repository root: the benchmark environment with PyTorch as the peer.
# torch is never a dependency of rnnviz; this venv holds the pinned numpy, torch==2.13.0 (CPU
# build) and rnnviz itself, editable and without its Qt dependencies (the benchmarks need only
# the engine). Re-running does nothing when the venv is already complete.
# Usage: bash benchmarks/setup-torch-env.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-bench"
TORCH_VERSION="2.13.0"

say() { printf 'setup-torch-env: %s\n' "$*" >&2; }

PY=""
for candidate in python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    PY="$(command -v "$candidate")"; break
  fi
done
[ -n "$PY" ] || { say "needs Python 3.11 or newer"; exit 1; }

if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV with $("$PY" --version)"
  "$PY" -m venv "$VENV"
fi
NUMPY_PIN="$(grep -E '^numpy==' "$ROOT/scripts/constraints.txt")"
if ! "$VENV/bin/python" -c "import torch, numpy, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION' or numpy.__version__ != '${NUMPY_PIN#numpy==}')" 2>/dev/null; then
  say "installing $NUMPY_PIN and torch==$TORCH_VERSION into $VENV"
  # pip (not uv/poetry) finds the CPU build of torch that lies on this machine's disk
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$NUMPY_PIN" "torch==$TORCH_VERSION"
fi
if ! (cd / && "$VENV/bin/python" -c "import rnnviz.engine" 2>/dev/null); then
  say "installing rnnviz (editable, without its Qt dependencies)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e "$ROOT" \
    || "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e "$ROOT"
fi
(cd / && "$VENV/bin/python" -c "import numpy, torch, rnnviz.engine; print('numpy', numpy.__version__, '| torch', torch.__version__, '| rnnviz', rnnviz.engine.__file__)")
