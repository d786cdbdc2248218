#!/usr/bin/env bash
# The iOS app's Swift check (opt-in: it needs Swift, e.g. Debian trixie's swiftlang in a chroot, ~3 GB):
# every source parses, and AppConfig.swift, unchanged, builds as a SwiftPM target on Linux and decodes
# and loads a config written by `effmod package` (AppConfig.load() and labels() through Bundle.module).
# Usage: check.sh APP_DIR   (APP_DIR: an `effmod package --app ios` output, e.g. effmod-app-ios)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
app=$(cd "$1" && pwd)
sources="$app/EffmodDemo.swiftpm/Sources"
for f in "$sources"/*.swift; do swiftc -frontend -parse "$f"; done
echo "parsed: $(ls "$sources"/*.swift | wc -l) Swift files"
pkg=$(mktemp -d)
trap 'rm -rf "$pkg"' EXIT
mkdir -p "$pkg/Sources/AppConfigCheck"
cp "$sources/AppConfig.swift" "$pkg/Sources/AppConfigCheck/"
cp "$here/main.swift" "$pkg/Sources/AppConfigCheck/"
cp -r "$sources/Bundle" "$pkg/Sources/AppConfigCheck/Bundle"
cat > "$pkg/Package.swift" <<'SWIFT'
// swift-tools-version:5.9
import PackageDescription
let package = Package(name: "AppConfigCheck", targets: [
    .executableTarget(name: "AppConfigCheck", resources: [.copy("Bundle")]),
])
SWIFT
(cd "$pkg" && swift build -c debug >&2 && "$(swift build --show-bin-path)/AppConfigCheck")
