#!/usr/bin/env bash
# Builds zoo and runs its CTest suite on the platforms beyond the everyday one (Debian 12,
# LibTorch 1.13), one summary line per configuration (docs/platforms.md):
#   trixie  a Debian 13 root made with debootstrap: LibTorch 2.6, OpenCV 4.10, GCC 14 and
#           python3-torch 2.6 (the Python parity tests and the export checks run against it);
#   cuda    PyPI's CUDA torch wheel, which carries LibTorch's headers, libraries and CMake files,
#           built with -DZOO_WITH_NCCL=ON; no GPU here, so the CPU suite runs (CUDA tests skip).
# Idempotent: the root and the venv are cached outside the repository and reused; builds go to
# build-trixie/ and build-cuda/ (git-ignored) and are incremental. Needs root (debootstrap,
# chroot, mount) and the network on the first run.
# Usage: scripts/check_platforms.sh [trixie] [cuda]      (default: both)
# Settings: ZOO_TRIXIE_ROOT (/var/cache/zoo-trixie), ZOO_CUDA_VENV (/var/cache/zoo-venv-cuda),
#   ZOO_CUDA_TORCH (the wheel's version, 2.15.0: its CUDA 13.2 has the major of the local nvcc,
#   13.0), ZOO_DEBIAN_MIRROR.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
trixie_root=${ZOO_TRIXIE_ROOT:-/var/cache/zoo-trixie}
cuda_venv=${ZOO_CUDA_VENV:-/var/cache/zoo-venv-cuda}
cuda_torch=${ZOO_CUDA_TORCH:-2.15.0}
mirror=$(scripts/debian_mirror.sh)  # this machine's apt archive, or ZOO_DEBIAN_MIRROR
lock=/tmp/zoo-build-$(id -u).lock  # the one scripts/build.sh takes: 2 cores, one build at a time
jobs=${ZOO_JOBS:-$(nproc)}
summaries=()

# "T tests: P passed, F failed, S skipped" from a ctest log (skipped tests count as passed in
# ctest's own percentage line).
ctest_counts() {
  local log=$1 total failed skipped
  total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
  failed=$(sed -n 's/.* \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -1)
  skipped=$(grep -c '(Skipped)$' "$log" || true)
  echo "${total:-?} tests: $(( ${total:-0} - ${failed:-0} - skipped )) passed, ${failed:-?} failed, $skipped skipped"
}

# ---- Debian 13 (trixie) in a chroot ----

trixie_packages=(
  g++ cmake ccache make pkg-config git ca-certificates
  libtorch-dev libopencv-dev libcxxopts-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libgloo-dev libopenblas0-openmp libicu-dev libtinyxml2-dev
  libprotobuf-dev protobuf-compiler libonnx-dev  # TensorBoard events and ONNX export
  python3-torch python3-torchvision python3-safetensors python3-venv python3-pip
  clang libclang-rt-dev  # tests/fuzz: scripts/fuzz.sh takes whichever clang++ there is
)
mounts=()
unmount_all() {
  local i
  for (( i=${#mounts[@]}-1; i>=0; i-- )); do umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" || true; done
  mounts=()
}
bind() {  # bind SOURCE TARGET-INSIDE-ROOT [ro]
  mkdir -p "$trixie_root$2"
  mount --bind "$1" "$trixie_root$2"
  mounts+=("$trixie_root$2")
  # Private: where / is a shared mount (systemd's default), the build-py mount below the source
  # tree's would otherwise propagate back to the host's tree.
  mount --make-private "$trixie_root$2"
  [ "${3:-}" != ro ] || mount -o remount,bind,ro "$trixie_root$2"
}
in_root() {
  chroot "$trixie_root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive bash -c "$1"
}

check_trixie() {
  local log=$repo/build-trixie/check.log start build_s versions
  if [ ! -f "$trixie_root/.zoo-debootstrap-done" ]; then
    command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
    echo "check_platforms: debootstrap trixie into $trixie_root"
    debootstrap --variant=minbase trixie "$trixie_root" "$mirror" >/dev/null
    touch "$trixie_root/.zoo-debootstrap-done"
  fi
  trap unmount_all EXIT
  bind /proc /proc
  bind /dev /dev
  bind /dev/pts /dev/pts  # apt logs through a pseudo-terminal
  # The host's /tmp, so that scripts/build.sh inside takes the same build lock as outside.
  bind /tmp /tmp
  # The source tree at the same path; build-py/ (the Python reference venv, made for the host's
  # Python) is hidden behind the root's own folder; the shared data sets read-only.
  bind "$repo" "$repo"
  mkdir -p "$repo/build-py" "$trixie_root/var/cache/zoo-build-py"
  bind "$trixie_root/var/cache/zoo-build-py" "$repo/build-py"
  [ ! -d "$repo/../shared" ] || bind "$(cd "$repo/../shared" && pwd)" "$(cd "$repo/.." && pwd)/shared" ro
  cp /etc/resolv.conf "$trixie_root/etc/resolv.conf"
  if [ "$(cat "$trixie_root/.zoo-packages" 2>/dev/null)" != "${trixie_packages[*]}" ]; then
    echo "check_platforms: installing trixie packages"
    in_root "apt-get update -qq && apt-get install -y -qq --no-install-recommends ${trixie_packages[*]} >/dev/null"
    printf '%s' "${trixie_packages[*]}" > "$trixie_root/.zoo-packages"
  fi
  mkdir -p build-trixie
  start=$(date +%s)
  if ! in_root "cd '$repo' && ZOO_BUILD_DIR=build-trixie ZOO_JOBS=$jobs scripts/build.sh" > build-trixie/build.log 2>&1; then
    grep -m 20 -E 'error|Error' build-trixie/build.log >&2 || tail -20 build-trixie/build.log >&2
    summaries+=("trixie: BUILD FAILED (build-trixie/build.log)")
    unmount_all; trap - EXIT
    return 1
  fi
  build_s=$(( $(date +%s) - start ))
  versions=$(in_root "dpkg-query -W -f='\${Package} \${Version}, ' libtorch-dev libopencv-dev g++ python3-torch")
  flock "$lock" chroot "$trixie_root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    bash -c "cd '$repo' && ctest --test-dir build-trixie --output-on-failure --timeout 600 -j $jobs" > "$log" 2>&1 || true
  # Exports written by this build load in Python torch 2.6 (torch.load's weights_only=True default).
  local py_check=ok
  if ! flock "$lock" chroot "$trixie_root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
      bash -c "cd '$repo' && tests/python/check_exports.sh build-trixie" > build-trixie/python_check.log 2>&1; then
    py_check="FAILED (build-trixie/python_check.log)"
  fi
  unmount_all; trap - EXIT
  summaries+=("trixie: ${versions%, }: build ${build_s} s, $(ctest_counts "$log") (build-trixie/check.log); Python export check: $py_check")
  grep -q ' 0 tests failed' "$log" && [ "$py_check" = ok ]
}

# ---- LibTorch from PyPI's CUDA torch wheel ----

check_cuda() {
  local log=$repo/build-cuda/check.log start build_s site
  if ! "$cuda_venv/bin/python" -c "import sys, torch; sys.exit(torch.__version__.split('+')[0] != '$cuda_torch')" 2>/dev/null; then
    echo "check_platforms: installing torch==$cuda_torch (CUDA, several GB) into $cuda_venv"
    rm -rf "$cuda_venv"
    python3 -m venv "$cuda_venv"
    "$cuda_venv/bin/pip" install -q --disable-pip-version-check "torch==$cuda_torch"
  fi
  site=$("$cuda_venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  # The wheel's torch/ as a CMake prefix, not only Torch_DIR: TorchConfig.cmake finds libtorch.so
  # and libc10.so with find_library(... PATHS <wheel>/lib), which searches the system's
  # directories first, and there Debian's LibTorch 1.13 would be linked against 2.x headers.
  # nccl.h from the nvidia-nccl wheel torch depends on: the NCCL its libtorch_cuda.so loads.
  # Torch's CMake files look for the CUDA toolkit (nvcc and cudart) under /usr/local/cuda.
  # Debian's protoc: the wheel's torch/bin/protoc, found first through the prefix, has no
  # well-known types (google/protobuf/struct.proto), which TensorBoard's events import.
  mkdir -p build-cuda
  start=$(date +%s)
  if ! ZOO_BUILD_DIR=build-cuda ZOO_JOBS=$jobs ZOO_CMAKE_ARGS="-DCMAKE_PREFIX_PATH=$site/torch -DZOO_WITH_NCCL=ON \
       -DZOO_NCCL_INCLUDE_DIR=$site/nvidia/nccl/include -DCUDAToolkit_ROOT=${CUDA_HOME:-/usr/local/cuda} \
       -DCMAKE_CUDA_COMPILER=${CUDA_HOME:-/usr/local/cuda}/bin/nvcc -DProtobuf_PROTOC_EXECUTABLE=/usr/bin/protoc" \
       scripts/build.sh > build-cuda/build.log 2>&1; then
    grep -m 20 -E 'error|Error' build-cuda/build.log >&2 || tail -20 build-cuda/build.log >&2
    summaries+=("cuda: BUILD FAILED (build-cuda/build.log)")
    return 1
  fi
  build_s=$(( $(date +%s) - start ))
  flock "$lock" ctest --test-dir build-cuda --output-on-failure --timeout 600 -j "$jobs" > "$log" 2>&1 || true
  local torch_version nvcc_version
  torch_version=$("$cuda_venv/bin/python" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)' 2>/dev/null)
  nvcc_version=$("${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')
  summaries+=("cuda: torch $torch_version, nvcc $nvcc_version, NCCL on: build ${build_s} s, $(ctest_counts "$log") on CPU (build-cuda/check.log)")
  grep -q ' 0 tests failed' "$log"
}

configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(trixie cuda)
status=0
for c in "${configs[@]}"; do
  case "$c" in
    trixie) check_trixie || status=1 ;;
    cuda) check_cuda || status=1 ;;
    *) echo "usage: $0 [trixie] [cuda]" >&2; exit 2 ;;
  esac
done
for s in "${summaries[@]}"; do echo "check_platforms: $s"; done
exit $status
