#!/usr/bin/env bash
# Toolchain of the Android app check, cached in $EFFMOD_TOOLS (default ~/.cache/effmod/tools); prints that
# folder. kotlinc: npm's kotlin-compiler (JetBrains' distribution, runs on the installed JDK 17+).
# android.jar (API 23) and Android's org.json: Debian's libandroid-23-java (sid) and libandroid-json-java,
# fetched with `apt-get download` under a private apt configuration (its own lists and cache in a temp
# folder, the mirror read from this system's sources), so the system's apt sources stay as they are.
set -euo pipefail
TOOLS=${EFFMOD_TOOLS:-$HOME/.cache/effmod/tools}
KOTLIN_VERSION=2.1.0
mkdir -p "$TOOLS"

if [ ! -x "$TOOLS/kotlin/node_modules/kotlin-compiler/bin/kotlinc" ]; then
  rm -rf "$TOOLS/kotlin.tmp" && mkdir -p "$TOOLS/kotlin.tmp"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/kotlin.tmp" "kotlin-compiler@$KOTLIN_VERSION" >&2
  rm -rf "$TOOLS/kotlin" && mv "$TOOLS/kotlin.tmp" "$TOOLS/kotlin"
fi

if [ ! -f "$TOOLS/android/android.jar" ] || [ ! -f "$TOOLS/android/json.jar" ]; then
  work=$(mktemp -d) && chmod 755 "$work"  # apt downloads as _apt where it can
  trap 'rm -rf "$work"' EXIT
  mirror=$(grep -rhoE '^(URIs:|deb) *https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/ /etc/apt/sources.list 2>/dev/null \
           | grep -oE 'https?://[^ ]+' | head -n1 || true)
  [ -n "$mirror" ] || { echo "apps/check/install.sh: no Debian mirror in /etc/apt sources" >&2; exit 1; }
  printf 'deb %s sid main\n' "$mirror" > "$work/sources.list"
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  o=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Debug::NoLocking=1)
  apt-get "${o[@]}" -qq update >&2
  (cd "$work" && apt-get "${o[@]}" -qq download libandroid-23-java libandroid-json-java >&2 2>/dev/null)
  for f in "$work"/*.deb; do dpkg -x "$f" "$work/root"; done
  rm -rf "$TOOLS/android.tmp" && mkdir -p "$TOOLS/android.tmp"
  cp "$work/root/usr/lib/android-sdk/platforms/android-23/android.jar" "$TOOLS/android.tmp/android.jar"
  cp "$(ls "$work"/root/usr/share/java/com.android.json-android-*.jar | head -n1)" "$TOOLS/android.tmp/json.jar"
  rm -rf "$TOOLS/android" && mv "$TOOLS/android.tmp" "$TOOLS/android"
fi
echo "$TOOLS"
