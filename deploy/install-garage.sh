#!/usr/bin/env bash
# Build Garage (an S3-compatible object store, used only as a test server for `[storage] url`)
# once per machine into ~/.cache/loket-tools/garage. It is a program on crates.io, so
# `cargo install` is the ordinary way to get it here; a cold build takes about 8 minutes on
# an idle 2-core machine (an hour when the cores are shared with other builds); a re-run with
# the binary present takes no time.
#
# The tests find the binary at $LOKET_GARAGE_BIN, else ~/.cache/loket-tools/garage/bin/garage,
# else `garage` on PATH.
set -euo pipefail

version="2.5.0"
root="$HOME/.cache/loket-tools/garage"
bin="$root/bin/garage"

if [[ -x "$bin" ]] && "$bin" --version 2>/dev/null | grep -q "[:v]$version\b"; then
  echo "install-garage: garage $version already in $bin" >&2
  exit 0
fi

echo "install-garage: building garage $version into $root (once per machine, ~8 min)" >&2
start=$SECONDS
# A separate target dir keeps the build out of the project's own target/ and cache.
CARGO_TARGET_DIR="$root/build" cargo install garage --locked --version "$version" --root "$root" \
  </dev/null
rm -rf "$root/build"
echo "install-garage: built in $((SECONDS - start)) s" >&2
