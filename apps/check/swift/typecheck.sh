#!/usr/bin/env bash
# Type-checks every Swift source of the iOS app against the stubs in apps/check/swift/stubs (CoreGraphics,
# UIKit, Core ML, SwiftUI, PhotosUI: the documented signatures the app uses), with the Swift toolchain
# that apps/check/swift/install.sh unpacked. SwiftPM's generated `Bundle.module` is stood in for too.
# Usage: typecheck.sh ROOT SOURCES_DIR   (ROOT: the toolchain root; SOURCES_DIR: the app's Sources folder)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$1
sources=$(cd "$2" && pwd)
# the stubs use parameter packs (Swift 5.9); an older Swift would fail on them, not on the app
version=$("$here/swiftc" "$root" -version 2>&1 | grep -oE 'Swift version [0-9]+\.[0-9]+' | head -n1 | grep -oE '[0-9.]+$' || true)
if [ -z "$version" ] || [ "$(printf '%s\n5.9\n' "$version" | sort -V | head -n1)" != "5.9" ]; then
  echo "typecheck.sh: Swift ${version:-not runnable} in $root; the check needs 5.9 or newer: rm -rf $root && bash $here/install.sh" >&2
  exit 3
fi
job=$(mktemp -d "$root/work/check.XXXXXX")
trap 'rm -rf "$job"' EXIT
inside=/work/$(basename "$job")
mkdir -p "$job/modules" "$job/app"
cp "$here"/stubs/*.swift "$job/"
cp "$sources"/*.swift "$job/app/"
cat > "$job/app/BundleModule.swift" <<'SWIFT'
import Foundation
// What SwiftPM generates for a target with resources.
extension Bundle { static var module: Bundle { Bundle.main } }
SWIFT
for m in CoreGraphics UIKit CoreML SwiftUI PhotosUI; do
  "$here/swiftc" "$root" -swift-version 5 -module-cache-path /work/module-cache -parse-as-library -emit-module -module-name "$m" -I "$inside/modules" \
    -o "$inside/modules/$m.swiftmodule" "$inside/$m.swift" 2>&1 | grep -v 'libc not found' >&2 || true
  [ -f "$job/modules/$m.swiftmodule" ] || { echo "typecheck.sh: stub module $m did not build" >&2; exit 2; }
done
files=()
for f in "$job"/app/*.swift; do files+=("$inside/app/$(basename "$f")"); done
"$here/swiftc" "$root" -swift-version 5 -module-cache-path /work/module-cache -typecheck -module-name AppModule -I "$inside/modules" "${files[@]}" \
  2> >(grep -v 'libc not found' >&2)
echo "type-checked: $(ls "$sources"/*.swift | wc -l) Swift files"
