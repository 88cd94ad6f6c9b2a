#!/usr/bin/env bash
# Installs what zoo needs on Debian bookworm (idempotent), then checks that LibTorch's BLAS
# is OpenBLAS: with Debian's reference BLAS a 512x512 matmul is ~35x slower here.
set -euo pipefail

packages=(
  g++ cmake ccache make
  libtorch-dev libopencv-dev libcxxopts-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libgloo-dev libopenblas0-openmp libicu-dev libtinyxml2-dev
  libprotobuf-dev protobuf-compiler libonnx-dev
  python3-torch python3-torchvision
  clang-14 libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# LibTorch on Debian links libblas.so.3 through the alternatives system; make sure it points
# at OpenBLAS (the OpenMP build) and not at the reference implementation.
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
case "$blas" in
  *openblas*) ;;
  *)
    alt=$(update-alternatives --list libblas.so.3-x86_64-linux-gnu 2>/dev/null | grep openblas | head -1 || true)
    if [ -n "$alt" ]; then
      SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
      $SUDO update-alternatives --set libblas.so.3-x86_64-linux-gnu "$alt" >/dev/null
      blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)
    fi
    ;;
esac
case "$blas" in
  *openblas*) echo "setup: BLAS is $blas" ;;
  *) echo "setup: error: libblas.so.3 resolves to '$blas', not OpenBLAS; install libopenblas0-openmp and run" \
          "'update-alternatives --config libblas.so.3-x86_64-linux-gnu'" >&2; exit 1 ;;
esac
