#!/bin/bash
# Install what the build, the node and the tests need (Debian bookworm).
# Idempotent and quick when everything is present: packages are only
# installed when dpkg does not know them yet.
set -euo pipefail

cd "$(dirname "$0")/.."

packages=(
    # build
    build-essential pkg-config
    nginx nginx-dev libpcre2-dev libssl-dev zlib1g-dev
    libjansson-dev libhiredis-dev libsrtp2-dev
    # run
    openssl curl procps iproute2
    # tests
    perl libtest-base-perl libtext-diff-perl libio-socket-ssl-perl
    python3 valgrind
    # benchmarks: nchan, the broadcast server make bench compares with
    libnginx-mod-nchan
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    if [ "$status" != "install ok installed" ]; then
        missing+=("$p")
    fi
done

# Node.js for the third-party clients (discord.js): Debian's, unless a
# node and npm are there already (another packaging of Node.js)
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
    missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        > /dev/null
fi

# npm packages, pinned by t/js/package-lock.json
if [ ! -d t/js/node_modules/discord.js ] \
    || [ t/js/package-lock.json -nt t/js/node_modules/.package-lock.json ]
then
    echo "deps: npm ci in t/js"
    npm ci --prefix t/js --no-audit --no-fund --loglevel=error > /dev/null
fi

exit 0
