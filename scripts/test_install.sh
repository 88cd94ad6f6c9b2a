#!/usr/bin/env bash
# Installs a built zoo into a fresh temporary prefix and builds every program outside zoo that
# uses it through find_package(zoo) against that prefix: each CMake project under examples/*/
# and tests/install/consumer/, which it also runs and whose output it checks. Every failure,
# including a missing piece of the installed tree, fails the script (exit 1).
# CTest runs it as InstalledPackage.ConsumerBuildsAgainstInstalledPrefix (label slow). It takes
# no build lock itself: it may run under a caller that holds one (run by hand, wrap it in
# `flock /tmp/zoo-build-$(id -u).lock`). Compiling a consumer that includes LibTorch takes
# ~15-25 s per project without a ccache hit.
# Usage: scripts/test_install.sh [BUILD_DIR]   (default: $ZOO_BUILD_DIR, else build)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build_dir=${1:-${ZOO_BUILD_DIR:-build}}
build_dir=$(cd "$build_dir" 2>/dev/null && pwd) || { echo "test_install: FAIL: no build directory ${1:-${ZOO_BUILD_DIR:-build}}" >&2; exit 1; }
[ -f "$build_dir/cmake_install.cmake" ] || { echo "test_install: FAIL: $build_dir is not a configured zoo build" >&2; exit 1; }
jobs=${ZOO_JOBS:-$(nproc)}
start=$SECONDS

tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
log=$tmp/log

fail() {
  echo "test_install: FAIL: $1" >&2
  [ -s "$log" ] && tail -n 40 "$log" >&2
  exit 1
}

cmake --install "$build_dir" --prefix "$prefix" > "$log" 2>&1 || fail "cmake --install $build_dir"

# The installed tree: package files, every library, the headers of each layer.
for f in lib/cmake/zoo/zooConfig.cmake lib/cmake/zoo/zooConfigVersion.cmake lib/cmake/zoo/zooTargets.cmake \
         include/zoo/data/wordpiece.h include/zoo/models/bert.h include/zoo/train/trainer.h bin/zoo; do
  [ -e "$prefix/$f" ] || fail "installed tree lacks $f"
done
for lib in safetensors_format io text data models losses train; do
  [ -f "$prefix/lib/libzoo_$lib.a" ] || fail "installed tree lacks lib/libzoo_$lib.a"
done
n_headers=$(find "$prefix/include/zoo" -name '*.h' | wc -l)
n_libs=$(find "$prefix/lib" -maxdepth 1 -name 'libzoo_*.a' | wc -l)

# ccache (when present) with the temporary directory as its base_dir: the random path would
# otherwise make every run a cache miss.
launcher=()
if command -v ccache > /dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=$tmp
fi

# Where the build found its dependencies, a consumer must find the same ones: a build against
# PyPI's torch wheel (CMAKE_PREFIX_PATH=<wheel>/torch, the CUDA toolkit) would otherwise have its
# consumers find Debian's LibTorch. What the build was given is passed on.
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build_dir/CMakeCache.txt"; }
build_prefix_path=$(cache_value CMAKE_PREFIX_PATH)
prefix_path=$prefix${build_prefix_path:+;$build_prefix_path}
dependency_args=()
for var in CUDAToolkit_ROOT CMAKE_CUDA_COMPILER; do
  value=$(cache_value $var)
  [ -z "$value" ] || dependency_args+=("-D$var=$value")
done

projects=()
for dir in "$root"/examples/*/; do
  [ -f "$dir/CMakeLists.txt" ] && projects+=("${dir%/}")
done
projects+=("$root/tests/install/consumer")
for project in "${projects[@]}"; do
  name=${project#"$root"/}
  out=$tmp/build-${name//\//-}
  cmake -S "$project" -B "$out" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix_path" "${launcher[@]}" \
    ${dependency_args[@]+"${dependency_args[@]}"} \
    > "$log" 2>&1 || fail "configuring $name against the installed prefix"
  cmake --build "$out" -j "$jobs" > "$log" 2>&1 || fail "building $name against the installed prefix"
done

# The consumer: tokenizer ids for its line, then the shape of a tiny BERT's logits on them.
consumer=$tmp/build-tests-install-consumer/zoo_install_consumer
"$consumer" > "$log" 2>&1 || fail "running the consumer"
expected=$'ids: 5 10 7 8 9 6 1\nlogits: 1 7 11'
[ "$(cat "$log")" = "$expected" ] || fail "consumer printed $(cat "$log") instead of $expected"

# The examples on exports of two tiny runs trained by the installed zoo (generated data, 2 steps).
# Configs are files: zoo reads only regular files (a pipe such as <(...) is refused by name).
echo '{"task": "sts"}' >"$tmp/sts.json"
echo '{"task": "rpn"}' >"$tmp/rpn.json"
"$prefix/bin/zoo" train --config "$tmp/sts.json" --out "$tmp/run-sts" --set model.hidden_size=32 \
  --set model.num_layers=1 --set model.num_heads=2 --set model.intermediate_size=64 --set data.synthetic_pairs=64 \
  --set data.vocab_size=200 --set train.max_steps=2 --set train.eval_every_steps=0 > "$log" 2>&1 ||
  fail "training a tiny sts run with the installed zoo"
"$prefix/bin/zoo" export --run "$tmp/run-sts" > "$log" 2>&1 || fail "exporting the sts run"
# 300 pairs of mixed lengths: two blocks of the example, each run shortest first by the
# predictor; every line comes back once, in input order, after its score.
for i in $(seq 300); do
  printf 'a %sman plays a guitar .\ta man is playing the guitar .\n' "$(printf 'very %.0s' $(seq 0 $((i % 9))))"
done > "$tmp/pairs.tsv"
"$tmp/build-examples-sts_score/sts_score" "$tmp/run-sts/export" < "$tmp/pairs.tsv" > "$log" 2>&1 ||
  fail "running examples/sts_score"
grep -cE '^[0-9.e-]+'$'\t''a ' "$log" | grep -qx 300 && [ "$(cut -f2- "$log")" = "$(cat "$tmp/pairs.tsv")" ] ||
  fail "examples/sts_score printed $(head -3 "$log")"
"$prefix/bin/zoo" train --config "$tmp/rpn.json" --out "$tmp/run-rpn" --set model.base_width=8 \
  --set data.synthetic_train_size=4 --set data.synthetic_val_size=2 --set data.synthetic_image_size=128 \
  --set data.min_size=128 --set data.max_size=128 --set train.batch_size=2 --set train.max_steps=2 \
  --set train.eval_every_steps=0 > "$log" 2>&1 || fail "training a tiny rpn run with the installed zoo"
"$prefix/bin/zoo" export --run "$tmp/run-rpn" > "$log" 2>&1 || fail "exporting the rpn run"
# A 160 x 96 binary PPM of pseudo-random bytes (OpenCV reads PPM; nothing else needed).
{ printf 'P6\n160 96\n255\n'; head -c $((160 * 96 * 3)) /dev/urandom; } > "$tmp/noise.ppm" || fail "writing a test image"
"$tmp/build-examples-proposals/proposals" "$tmp/run-rpn/export" "$tmp/noise.ppm" "$tmp/drawn.png" > "$log" 2>&1 ||
  fail "running examples/proposals"
[ "$(wc -l < "$log")" -eq 10 ] && [ -s "$tmp/drawn.png" ] || fail "examples/proposals printed $(cat "$log")"

echo "test_install: OK: $n_libs libraries and $n_headers headers installed; built ${#projects[@]} project(s) against the prefix (examples: $((${#projects[@]} - 1))), consumer output as expected, examples ran on tiny exports ($((SECONDS - start)) s)"
