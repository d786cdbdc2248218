#!/usr/bin/env bash
# The iOS app's Swift check, with the toolchain apps/check/swift/install.sh unpacks (Debian trixie's Swift):
# 1. every source of the packaged app type-checks against the stubs in stubs/ (typecheck.sh);
# 2. AppConfig.swift, unchanged, builds as a SwiftPM target on Linux and decodes and loads the packaged
#    config and labels through Bundle.module; its summary is printed as one JSON line.
# Usage: check.sh APP_DIR   (APP_DIR: an `effmod package --app ios` output, e.g. effmod-app-ios)
# Needs root (or CAP_SYS_ADMIN): the toolchain runs in a chroot with a private /proc (see swiftc).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
app=$(cd "$1" && pwd)
root=${EFFMOD_SWIFT_ROOT:-$(bash "$here/install.sh")}
sources="$app/EffmodDemo.swiftpm/Sources"
bash "$here/typecheck.sh" "$root" "$sources" >&2

pkg=$(mktemp -d "$root/work/appconfig.XXXXXX")
trap 'rm -rf "$pkg"' EXIT
mkdir -p "$pkg/Sources/AppConfigCheck"
cp "$sources/AppConfig.swift" "$here/main.swift" "$pkg/Sources/AppConfigCheck/"
cp -r "$sources/Bundle" "$pkg/Sources/AppConfigCheck/Bundle"
cat > "$pkg/Package.swift" <<'SWIFT'
// swift-tools-version:5.9
import PackageDescription
let package = Package(name: "AppConfigCheck", targets: [
    .executableTarget(name: "AppConfigCheck", resources: [.copy("Bundle")]),
])
SWIFT
inside=/work/$(basename "$pkg")
run() {
  HOME=/work LD_LIBRARY_PATH=/usr/libexec/swift/lib/swift/linux:/usr/libexec/swift/lib \
    unshare --mount --pid --fork --mount-proc="$root/proc" chroot "$root" "$@"
}
run /usr/bin/swift-build --package-path "$inside" -c debug 2>&1 | grep -v 'libc not found' >&2
run "$inside/.build/debug/AppConfigCheck"
