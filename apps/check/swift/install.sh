#!/usr/bin/env bash
# Swift toolchain of the iOS app check, cached in $EFFMOD_TOOLS/swift (default ~/.cache/effmod/tools):
# Debian trixie's swiftlang (Swift 6.0) and libc6-dev (the C headers Foundation's modules need), unpacked
# by mmdebstrap without installing anything on this system (about 40 s and 2.5 GB). Prints the root.
# Running it needs /proc inside the root: apps/check/swift/swiftc mounts one in a private namespace.
set -euo pipefail
TOOLS=${EFFMOD_TOOLS:-$HOME/.cache/effmod/tools}
root="$TOOLS/swift"
if [ ! -f "$root/.effmod-swift-ready" ]; then  # written last: a killed set-up starts over
  command -v mmdebstrap >/dev/null || { echo "apps/check/swift/install.sh: needs mmdebstrap (apt-get install mmdebstrap)" >&2; exit 1; }
  rm -rf "$root.tmp"
  mmdebstrap --quiet --variant=extract --architectures=amd64 --include=swiftlang,libc6-dev trixie "$root.tmp" >&2
  for d in bin lib lib64 sbin; do [ -e "$root.tmp/usr/$d" ] && ln -sfn "usr/$d" "$root.tmp/$d"; done
  mkdir -p "$root.tmp/proc" "$root.tmp/work"
  touch "$root.tmp/.effmod-swift-ready"
  rm -rf "$root" && mv "$root.tmp" "$root"
fi
echo "$root"
