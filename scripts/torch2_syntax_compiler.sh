#!/usr/bin/env bash
# The compiler and linker launcher of scripts/check_torch2_api.sh: runs the real command ("$@")
# with LibTorch 2's headers ($ZOO_TORCH2_INCLUDE) in place of this machine's LibTorch 1.13, for
# a syntax check only. The precompiled header is compiled for real (the checks use it); an
# object file becomes an empty placeholder and a program one that does nothing, so that the
# build goes on.
set -euo pipefail
inc=${ZOO_TORCH2_INCLUDE:?set by scripts/check_torch2_api.sh}
args=() out="" link=1 header=0
while [ $# -gt 0 ]; do
  case $1 in
    # LibTorch's include directories (Debian's: /usr/include and its csrc/api/include) become 2's.
    /usr/include/torch/csrc/api/include) args+=("$inc/torch/csrc/api/include") ;;
    -o) out=$2; args+=("$1" "$2"); shift ;;
    -c) link=0; args+=("$1") ;;
    c++-header) header=1; args+=("$1") ;;
    *) args+=("$1") ;;
  esac
  shift
done
# /usr/include itself is the compiler's own system directory (CMake never passes it): 2's copy
# goes first, as a system directory like the one it replaces.
compiler=${args[0]}
rest=("${args[@]:1}")
if [ "$link" = 1 ] && [ "$header" = 0 ]; then  # a link step: nothing to check
  # A program that lists no tests, for gtest_discover_tests, which runs every test program.
  [ -z "$out" ] || { printf '#!/bin/sh\nexit 0\n' >"$out" && chmod +x "$out"; }
  exit 0
fi
if [ "$header" = 1 ]; then  # the precompiled header, for real
  exec "$compiler" -isystem "$inc" "${rest[@]}"
fi
# A translation unit checked before with the same command, whose every file (its dependency
# list, headers included) still has the same contents, is not checked again: what ccache does
# for a compile, which it cannot do for a check that writes no output.
stamps=${ZOO_TORCH2_STAMPS:-}
depfile=""
for ((i = 0; i < ${#rest[@]}; i++)); do [ "${rest[i]}" != -MF ] || depfile=${rest[i + 1]}; done
key=""
if [ -n "$stamps" ] && [ -n "$depfile" ]; then
  key=$stamps/$(printf '%s\n' "$PWD" "$inc" "$compiler" "${rest[@]}" | sha256sum | cut -c1-32)
  if [ -f "$key.sums" ] && sha256sum --quiet --check "$key.sums" >/dev/null 2>&1; then
    cp "$key.d" "$depfile"
    : >"$out"
    exit 0
  fi
fi
"$compiler" -isystem "$inc" -fsyntax-only "${rest[@]}"  # writes no object file (its -MD list, yes)
: >"$out"
if [ -n "$key" ]; then  # the files it read: the dependency list's words that are files
  mkdir -p "$stamps"
  sed 's/\\$//; s/^[^:]*: //' "$depfile" | tr ' ' '\n' | grep -v '^$' | sort -u | xargs sha256sum >"$key.sums.tmp"
  cp "$depfile" "$key.d"
  mv "$key.sums.tmp" "$key.sums"
fi
