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
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
