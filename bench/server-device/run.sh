#!/usr/bin/env bash
# annakv against Redis on the 16-core device machine (issue #16), one command of at most
# ~8 minutes: run from the repository root with .devserver and .devnode carried
# (bench/server-device/package.sh makes them here). Writes into $OUT:
#   server-<machine>-a8g8.json/.svg   annakv with 8 actors, 8 generator processes
#   server-<machine>-a12g4.json/.svg  annakv with 12 actors, 4 generator processes
# each against one redis-server as it comes and with 4 I/O threads, redis-benchmark with as
# many threads as there are generators. The split of the 16 cores between the node (one
# thread an actor, and its main thread) and the load is in each file's name and config.
# Usage: bench/server-device/run.sh MACHINE [extra flags for both runs, e.g. --rounds 1]
# SPLITS="a8g8" runs only that split (bench/device-all.sh does). NODE=path runs another node
# binary instead of unpacking .devnode/node.xz, and DEVSERVER=dir another package than
# .devserver (a local check; the test suite uses both).
set -euo pipefail

machine="${1:?usage: bench/server-device/run.sh MACHINE [flags]}"
shift
out="${OUT:?set OUT to the folder where the results go}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
node="$("$root/bench/unpack-node.sh")"
unpacked="$(mktemp -d)"
trap 'rm -rf "$unpacked"' EXIT
xz -dc "${DEVSERVER:-$root/.devserver}/package.tar.xz" | tar -C "$unpacked" -xf -
if [[ -d "$unpacked/redis" ]]; then export PATH="$unpacked/redis/path:$PATH"; fi
# The node holds a socket per client and actor each way (12 actors x 400 clients x 2).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "cores: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg), open files: $(ulimit -n)"

# 400 requests in flight over 400 connections (redis-benchmark -c 400), 2 rounds of 3 s
# phases, no echo floor (its client is one process) and no Zipf mixes: by estimate 2-3
# minutes a run on 16 cores (not yet timed on the device). Each phase's generators are new
# clients, to which every actor opens a reply connection: 2.5 s of warm-up covers those
# 4 800 handshakes (on 2 cores, 4 actors x 400 clients after 0.3 s ran at a quarter of
# their rate after 4 s).
common=(--concurrency 400 --connections 400 --redis-io-threads 1,4 --rounds 2 --warmup-ms 2500
  --duration-ms 3000 --no-floors --no-mixes --out-dir "$out")
# SPLITS="aNgM ...": N actors and M generator processes a run. A failed run does not cost
# the others their turn on the machine.
failed=0
for split in ${SPLITS:-a8g8 a12g4}; do
  if [[ ! "$split" =~ ^a([0-9]+)g([0-9]+)$ ]]; then
    echo "SPLITS takes aNgM items (N actors, M generators), got $split" >&2
    exit 2
  fi
  "$node" "$unpacked/bench/server.js" "${common[@]}" --setups "wasm:${BASH_REMATCH[1]}" \
    --generators "${BASH_REMATCH[2]}" --machine "$machine-$split" "$@" || failed=1
done
exit "$failed"
