#!/usr/bin/env bash
# Renew the screenshots in docs/: the default demo and `vanishing`, at 1280x800 and 1920x1080,
# in the normal layout and in presentation mode (F5), in a real X window (Xvfb) through
# ../shared/tools/screenshot. Each shot starts from fresh settings (no saved layout).
#   bash scripts/screenshots.sh [SCREENSHOT_TOOL]
set -eu
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOL="${1:-$ROOT/../shared/tools/screenshot}"
OUT="$ROOT/docs/screenshots"
mkdir -p "$OUT"
for preset in demo vanishing; do
  for size in 1280x800 1920x1080; do
    for mode in normal presentation; do
      name="$preset-$size"; keys=""
      if [ "$mode" = presentation ]; then name="$name-presentation"; keys="F5"; fi
      settings="$(mktemp -d)"
      args=(); [ "$preset" = demo ] || args=(--preset "$preset")
      SCREENSHOT_KEYS="$keys" RNNVIZ_SETTINGS_DIR="$settings" \
        "$TOOL" "$OUT/$name.png" --size "$size" --wait 8 -- "$ROOT/.venv/bin/rnnviz" "${args[@]}"
      rm -rf "$settings"
    done
  done
done
cp "$OUT/demo-1920x1080.png" "$ROOT/docs/screenshot.png"
