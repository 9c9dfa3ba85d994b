#!/usr/bin/env bash
# Prints the node binary a device run uses: $NODE if set (a local check), else the one
# bench/pack-node.sh left in .devnode/node.xz, unpacked beside it (the device has no Node.js).
set -euo pipefail

if [[ -n "${NODE:-}" ]]; then
  echo "$NODE"
  exit 0
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
xz -dc "$root/.devnode/node.xz" > "$root/.devnode/node"
chmod +x "$root/.devnode/node"
echo "$root/.devnode/node"
