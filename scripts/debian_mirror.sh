#!/usr/bin/env bash
# Prints the Debian archive this machine's apt is configured with (the first non-security URI of
# /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list), for the scripts that fetch
# Debian 13 packages (check_platforms.sh, check_torch2_api.sh). ZOO_DEBIAN_MIRROR overrides it.
set -euo pipefail
if [ -n "${ZOO_DEBIAN_MIRROR:-}" ]; then echo "$ZOO_DEBIAN_MIRROR"; exit 0; fi
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
         grep -v -- -security | head -1 || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) {print $i; exit}}' \
                               /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || { echo "debian_mirror: no Debian archive in this machine's apt sources (set ZOO_DEBIAN_MIRROR)" >&2; exit 1; }
echo "$mirror"
