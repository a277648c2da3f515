#!/bin/sh
# Install the Debian packages recon needs to build, test and run, only those
# missing.  Runs apt-get as root, or through sudo when available.
set -eu
pkgs="gcc make pkg-config libsqlite3-dev libcsv-dev libssl-dev libinih-dev
libcmocka-dev sqlite3 tzdata openssl python3 time"
missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
if [ -n "$missing" ]; then
	echo "installing:$missing" >&2
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends $missing
fi

# promtool (from Debian's prometheus package) checks metrics.prom in the tests.
# Only the binary is taken from the package, unpacked into build/tools/, so that
# no Prometheus server is installed or started.
root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -x "$root/build/tools/promtool" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && { apt-get download prometheus >/dev/null 2>&1 ||
		{ $sudo apt-get update -qq && apt-get download prometheus >/dev/null; }; })
	dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
	mkdir -p "$root/build/tools"
	cp "$tmp/x/usr/bin/promtool" "$root/build/tools/promtool"
fi
