#!/usr/bin/env bash
# Packages the scaling benchmark for a machine with no Node.js and no npm:
#   .devbench/  the benchmark and the src/ modules it imports, compiled to plain JavaScript,
#               build/annakv.wasm where the compiled wasm-store looks for it, and the one
#               runtime package it loads (@assemblyscript/loader)
#   .devnode/node.xz  this machine's node binary, xz-compressed
# Both are git-ignored. On the device (from the repository root, any cwd works for the bench):
#   xz -dc .devnode/node.xz > .devnode/node && chmod +x .devnode/node && \
#     .devnode/node .devbench/bench/scaling/main.js --profile device --machine NAME --out-dir "$OUT"
#
# Usage: bench/scaling/package-device.sh [--no-node] [DEST]   (DEST defaults to .devbench)
# --no-node skips the node binary (the test suite packages the bench alone).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
with_node=1
if [[ "${1:-}" == "--no-node" ]]; then
  with_node=0
  shift
fi
dest="$(realpath -m "${1:-$root/.devbench}")"

if [[ ! -f "$root/build/annakv.wasm" ]]; then
  echo "build/annakv.wasm is missing: run npm run build:wasm first" >&2
  exit 1
fi

rm -rf "$dest"
"$root/node_modules/.bin/tsc" -p "$root/bench/scaling/tsconfig.device.json" --outDir "$dest"
# src/core/wasm-store.ts reads ../../build/annakv.wasm relative to itself.
mkdir -p "$dest/build"
cp "$root/build/annakv.wasm" "$dest/build/annakv.wasm"
# The only package the compiled bench requires at run time (checked by running it from
# another directory, where no node_modules above it could stand in).
mkdir -p "$dest/node_modules/@assemblyscript"
cp -R "$root/node_modules/@assemblyscript/loader" "$dest/node_modules/@assemblyscript/loader"

if [[ "$with_node" == 1 ]]; then "$root/bench/pack-node.sh"; fi
echo "bench: $(du -sb "$dest" | cut -f1) bytes in $dest"
