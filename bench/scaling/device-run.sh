#!/usr/bin/env bash
# Both of #4's device measurements in one command of at most ~9.5 minutes, on the device
# machine (no Node.js there): run from the repository root with .devbench and .devnode
# carried (bench/scaling/package-device.sh makes them here). Writes into $OUT:
#   scaling-<machine>.json/.svg            the device profile: every system, 1..16 threads
#   scaling-<machine>-selective.json/.svg  partitioned / full / selective Wasm at 16 threads,
#                                          three rounds (the selective-replication target)
# Usage: bench/scaling/device-run.sh MACHINE [extra flags for both runs, e.g. --dry-run]
# NODE=path runs another node binary instead of unpacking .devnode/node.xz, and DEVBENCH=dir
# another package than .devbench (a local check; the test suite uses both).
set -euo pipefail

machine="${1:?usage: bench/scaling/device-run.sh MACHINE [flags]}"
shift
out="${OUT:?set OUT to the folder where the results go}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
node="$("$root/bench/unpack-node.sh")"
bench="${DEVBENCH:-$root/.devbench}/bench/scaling/main.js"

# Deadlines: 350 s for the sweep (it skips its lowest-priority runs past that) and 200 s for
# the rounds, so that both fit a 600 s command with the unpacking and the workers' exits.
"$node" "$bench" --profile device --machine "$machine" --out-dir "$out" --deadline-s 350 "$@"
"$node" "$bench" --profile device --threads 16 --mix-threads 16 \
  --systems annakv-partitioned-wasm,annakv-full-wasm,annakv-selective-wasm --rounds 3 --seconds 2 \
  --deadline-s 200 --machine "$machine-selective" --out-dir "$out" "$@"
