#!/usr/bin/env bash
# Packages the server benchmark (annakv against Redis, bench/server.ts) for a machine with no
# Node.js, no npm and no Redis, as one archive, DEST/package.tar.xz (DEST defaults to
# .devserver, git-ignored), holding:
#   bench/, src/     the benchmark and the modules it imports, compiled to plain JavaScript
#   dist/, proto/, build/annakv.wasm   the node it starts (`npm run build` output)
#   node_modules/    the production dependencies (zeromq's prebuilt addons for linux-x64 only)
#   redis/           redis-server, redis-benchmark and redis-cli with every shared library
#                    they load, glibc's loader included, run through redis/path/ wrappers
# and, unless --no-node, this machine's node binary in .devnode/node.xz (bench/pack-node.sh).
# bench/server-device/run.sh unpacks and runs it.
#
# Usage: bench/server-device/package.sh [--no-node] [--no-redis] [DEST]
# --no-redis packages no Redis (the benchmark then records annakv alone).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
with_node=1
with_redis=1
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --no-node) with_node=0 ;;
    --no-redis) with_redis=0 ;;
    *) echo "unknown flag $1 (usage: package.sh [--no-node] [--no-redis] [DEST])" >&2; exit 2 ;;
  esac
  shift
done
dest="$(realpath -m "${1:-$root/.devserver}")"

for built in build/annakv.wasm dist/cli/main.js; do
  if [[ ! -f "$root/$built" ]]; then
    echo "$built is missing: run npm run build first" >&2
    exit 1
  fi
done

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
"$root/node_modules/.bin/tsc" -p "$root/bench/server-device/tsconfig.json" --outDir "$stage"
cp -R "$root/dist" "$root/proto" "$root/package.json" "$stage/"
mkdir -p "$stage/build"
cp "$root/build/annakv.wasm" "$stage/build/"

# The production dependency tree, as npm resolved it here; zeromq ships prebuilt addons for
# every platform (34 MB): only linux-x64's are kept.
(cd "$root" && npm ls --omit=dev --parseable --all 2>/dev/null | tail -n +2 | sed "s|^$root/||") > "$stage/.packages"
tar -C "$root" -cf - --exclude='node_modules/zeromq/build/darwin' --exclude='node_modules/zeromq/build/win32' \
  --exclude='node_modules/zeromq/build/linux/arm64' --exclude='node_modules/@types' -T "$stage/.packages" |
  tar -C "$stage" -xf -
rm "$stage/.packages"

if [[ "$with_redis" == 1 ]]; then
  mkdir -p "$stage/redis/bin" "$stage/redis/lib" "$stage/redis/path"
  for tool in redis-server redis-benchmark redis-cli; do
    binary="$(command -v "$tool" || true)"
    if [[ -z "$binary" ]]; then
      echo "$tool not found (apt-get install -y redis-server redis-tools), or package with --no-redis" >&2
      exit 1
    fi
    # redis-server is a symlink to redis-check-rdb, which picks its role by its name.
    cp -L "$binary" "$stage/redis/bin/$tool"
    ldd "$binary" | awk '/=> \// { print $3 } /^[ \t]*\/lib/ { print $1 }' | while read -r library; do
      cp -L "$library" "$stage/redis/lib/"
    done
    # The carried loader and libraries, whatever the device's own glibc is.
    cat > "$stage/redis/path/$tool" <<WRAPPER
#!/bin/sh
here="\$(cd "\$(dirname "\$0")/.." && pwd)"
exec "\$here/lib/ld-linux-x86-64.so.2" --library-path "\$here/lib" --argv0 $tool "\$here/bin/$tool" "\$@"
WRAPPER
    chmod +x "$stage/redis/path/$tool"
  done
  "$stage/redis/path/redis-server" --version
fi

mkdir -p "$dest"
# XZ_OPT=-0 packs faster (the test suite's package).
tar -C "$stage" -cf - . | XZ_OPT="${XZ_OPT:--6}" xz -T0 > "$dest/package.tar.xz"
echo "server bench: $(du -b "$dest/package.tar.xz" | cut -f1) bytes in $dest/package.tar.xz"
if [[ "$with_node" == 1 ]]; then "$root/bench/pack-node.sh"; fi
