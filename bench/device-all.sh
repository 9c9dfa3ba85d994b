#!/usr/bin/env bash
# Issue #16's many-core measurements in one device call of ~8 minutes, for a task whose whole
# device time (15 minutes, the machine's start included) fits one such call:
#   scaling-<machine>-targets.json/.svg  1 and 16 threads, update-only, every skew: the
#       shared tables, partitioned (copied and resident feeds) and fully replicated Wasm
#       actors, two rounds (#16's per-thread and 16-thread targets)
#   server-<machine>-a8g8.json/.svg      the node (8 actors, 8 generators) against Redis
#       with and without I/O threads, one round
# Here first: npm run build && bench/scaling/package-device.sh && bench/server-device/package.sh
# (both leave .devnode/node.xz); there, from the repository root with .devbench, .devserver
# and .devnode carried: OUT=... bench/device-all.sh MACHINE
# With more device time, bench/scaling/device-run.sh (the whole sweep) and
# bench/server-device/run.sh (both splits, two rounds) measure more, one call each.
set -euo pipefail

machine="${1:?usage: bench/device-all.sh MACHINE}"
: "${OUT:?set OUT to the folder where the results go}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export NODE
NODE="$("$root/bench/unpack-node.sh")"

failed=0
# The scaling runs stop starting groups after 250 s (low priority first), leaving the server
# run ~3 minutes of a 600-s call.
"$NODE" "${DEVBENCH:-$root/.devbench}/bench/scaling/main.js" --profile device --threads 1,16 \
  --workload update --systems shared-locked,shared-hogwild,annakv-partitioned-wasm,annakv-partitioned-wasm-resident,annakv-full-wasm \
  --rounds 2 --seconds 2 --deadline-s 250 --machine "$machine-targets" --out-dir "$OUT" || failed=1
SPLITS=a8g8 "$root/bench/server-device/run.sh" "$machine" --rounds 1 || failed=1
exit "$failed"
