#!/usr/bin/env bash
# The compiler and linker launcher of scripts/check_torch2_api.sh: runs the real command ("$@")
# with LibTorch 2's headers ($ZOO_TORCH2_INCLUDE) in place of this machine's LibTorch 1.13, for
# a syntax check only. The precompiled header is compiled for real (the checks use it); an
# object file or a program becomes an empty placeholder, so that the build goes on.
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
  [ -n "$out" ] && : >"$out"
  exit 0
fi
if [ "$header" = 1 ]; then  # the precompiled header, for real
  exec "$compiler" -isystem "$inc" "${rest[@]}"
fi
"$compiler" -isystem "$inc" -fsyntax-only "${rest[@]}"  # writes no object file (its -MD list, yes)
: >"$out"
