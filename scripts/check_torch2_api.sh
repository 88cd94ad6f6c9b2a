#!/usr/bin/env bash
# Compiles every zoo translation unit (libraries, programs, tests) against LibTorch 2.6's headers,
# syntax only, with the build's own flags (-Werror included) and its precompiled header: a
# LibTorch call that 2.6 removed or marks deprecated fails here, in CI, in a few minutes, rather
# than in scripts/check_platforms.sh trixie (root, a Debian 13 root, ~23 minutes, by hand).
#
# The headers are Debian 13's libtorch-dev (2.4 MB), fetched once with apt from the Debian
# mirror this machine's apt is configured with, into $ZOO_TORCH2_HEADERS. The build in
# build-torch2-api/ runs through scripts/torch2_syntax_compiler.sh, which swaps LibTorch 1.13's
# include directories for 2.6's and only checks syntax (object files and programs are empty
# placeholders), so nothing links and nothing runs.
# Usage: scripts/check_torch2_api.sh        Settings: ZOO_TORCH2_HEADERS (/var/cache/zoo-torch2-headers)
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${ZOO_TORCH2_HEADERS:-/var/cache/zoo-torch2-headers}
build=build-torch2-api
jobs=${ZOO_JOBS:-$(nproc)}

if [ ! -f "$cache/.done" ]; then
  # A private apt setup that knows only Debian 13, on the mirror and keyring this machine's
  # Debian sources use (deb822 .sources or one-line sources.list).
  mirror=$(scripts/debian_mirror.sh)
  apt_dir=$(mktemp -d)
  trap 'rm -rf "$apt_dir"' EXIT
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache::Archives=$apt_dir/archives"
            -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  echo "check_torch2_api: fetching Debian 13's libtorch-dev headers into $cache"
  apt-get "${apt_opts[@]}" -qq update
  (cd "$apt_dir" && apt-get "${apt_opts[@]}" -qq download libtorch-dev 2>/dev/null)
  rm -rf "$cache" && mkdir -p "$cache"
  dpkg-deb -x "$apt_dir"/libtorch-dev_*.deb "$cache"
  dpkg-deb -f "$apt_dir"/libtorch-dev_*.deb Version >"$cache/.version"
  touch "$cache/.done"
fi
version=$(cat "$cache/.version")
grep -q '^#define TORCH_VERSION_MAJOR 2' "$cache/usr/include/torch/csrc/api/include/torch/version.h" ||
  { echo "check_torch2_api: $cache holds no LibTorch 2 headers" >&2; exit 1; }

start=$SECONDS
export ZOO_TORCH2_INCLUDE=$cache/usr/include
export ZOO_TORCH2_STAMPS=$cache/checked  # translation units unchanged since they last passed
launcher=$PWD/scripts/torch2_syntax_compiler.sh
# The build lock of scripts/build.sh: two builds at once on 2 cores only slow each other down.
exec 9>"/tmp/zoo-build-$(id -u).lock"
flock 9
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" \
  -DCMAKE_CXX_LINKER_LAUNCHER="$launcher" >/dev/null
if cmake --build "$build" -j "$jobs" >"$build/check.log" 2>&1; then
  echo "check_torch2_api: LibTorch $version headers: every translation unit compiles with -Werror ($((SECONDS - start)) s)"
else
  grep -E 'error|Error' "$build/check.log" | head -20 >&2
  echo "check_torch2_api: FAILED against LibTorch $version headers ($build/check.log)" >&2
  exit 1
fi
