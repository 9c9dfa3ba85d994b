#!/usr/bin/env bash
# Writes this machine's node binary, xz-compressed, to .devnode/node.xz: the device machines
# have no Node.js (their run scripts unpack it first thing). Used by the device packagers.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$root/.devnode"
xz -T0 -6 -c "$(command -v node)" > "$root/.devnode/node.xz"
echo "node $(node --version): $(du -b "$root/.devnode/node.xz" | cut -f1) bytes in .devnode/node.xz"
