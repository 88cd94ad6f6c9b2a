#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/*_fuzz.cpp) with clang under ASan + UBSan in
# build-fuzz/ and runs each for a time budget. Each target is compiled from the project sources it
# needs into its own folder, so that CTest may run several at once.
#
# Seeds: tests/fuzz/corpus/<target>/ (small hand-made files), plus the first lines of the real
# files in ZOO_FUZZ_DATA (default ../shared/data, skipped when absent; copied at run time, never
# committed), plus for safetensors every *.safetensors under the folders in ZOO_FUZZ_SEEDS (e.g.
# pretrained/). What a run finds is kept in build-fuzz/corpus/<target>/ for the next run.
#
# Usage: scripts/fuzz.sh [seconds per target, default 60] [target regex, default all]
#                        [extra libFuzzer flags, e.g. -runs=1000000]
# Targets: safetensors sts_pairs text_corpus wordpiece hand_formats coco voc yolo detection_csv
#          config torch_save json_text zip_records meta_json hf_settings
# Exit status: 0 when nothing was found, 1 when a target crashed, hung, leaked or ran out of
# memory (the input is in build-fuzz/<target>/ as crash-*, timeout-*, leak-* or oom-*), 77 when
# clang is missing (CTest's skip code, tests/CMakeLists.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
filter=.
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then filter=$1; shift; fi
for tool in clang++-14 clang++; do command -v "$tool" >/dev/null && { cxx=$tool; break; }; done
if [ -z "${cxx:-}" ]; then
  echo "fuzz: clang++ not found (apt install clang-14 libclang-rt-14-dev)" >&2
  exit 77
fi
launcher=$(command -v ccache || true)
data=${ZOO_FUZZ_DATA:-../shared/data}
out=build-fuzz
mkdir -p "$out"

# Each target: the project sources it compiles, then the libraries it links.
declare -A sources libs
sources[safetensors]="io/safetensors_format.cpp io/json_text.cpp"
sources[sts_pairs]="data/sts_pairs.cpp data/text_lines.cpp data/utf8.cpp io/user_file.cpp io/json_text.cpp"
sources[text_corpus]="data/text_corpus.cpp data/text_lines.cpp data/utf8.cpp data/wordpiece.cpp data/vocab.cpp io/user_file.cpp io/json_text.cpp"
libs[text_corpus]="-licuuc"
sources[wordpiece]="data/wordpiece.cpp data/vocab.cpp data/utf8.cpp io/user_file.cpp"
libs[wordpiece]="-licuuc"
sources[hand_formats]="data/hand_formats.cpp data/text_lines.cpp data/utf8.cpp data/image_file.cpp io/user_file.cpp io/json_text.cpp"
libs[hand_formats]="-lopencv_imgcodecs -lopencv_imgproc -lopencv_core"
for t in coco voc yolo detection_csv; do
  sources[$t]="data/detection_formats.cpp data/detection_coco.cpp data/detection_voc.cpp data/detection_yolo.cpp data/detection_csv.cpp data/text_lines.cpp data/utf8.cpp data/image_file.cpp io/user_file.cpp io/json_text.cpp"
  libs[$t]="-ltinyxml2 -lopencv_imgcodecs -lopencv_imgproc -lopencv_core"
done
sources[config]="train/config.cpp io/json_file.cpp io/json_text.cpp io/user_file.cpp io/atomic_file.cpp data/utf8.cpp"
# LibTorch is not instrumented; the reader is, and LibTorch's allocations go through ASan's malloc.
sources[torch_save]="io/torch_save_read.cpp io/zip_records.cpp io/user_file.cpp io/json_text.cpp"
libs[torch_save]="-ltorch -ltorch_cpu -lc10"
sources[json_text]="io/json_text.cpp"
sources[zip_records]="io/zip_records.cpp io/user_file.cpp io/json_text.cpp"
sources[meta_json]="infer/export_dir.cpp infer/memory_reuse.cpp io/json_text.cpp io/user_file.cpp io/zip_records.cpp"
libs[meta_json]="-ltorch -ltorch_cpu -lc10"
# A published checkpoint's settings (tokenizer_config.json, modules.json, pooling, sentence_bert):
# hf_checkpoint.cpp and what it links, but not the trainer (the target defines run_has_checkpoint).
sources[hf_settings]="train/hf_checkpoint.cpp io/formats/hf_bert.cpp models/bert.cpp train/config.cpp io/json_file.cpp
  io/json_text.cpp io/user_file.cpp io/atomic_file.cpp io/safetensors.cpp io/safetensors_format.cpp io/torch_save_read.cpp
  io/torch_save_write.cpp io/weight_files.cpp io/zip_records.cpp data/vocab.cpp data/wordpiece.cpp data/utf8.cpp"
libs[hf_settings]="-ltorch -ltorch_cpu -lc10 -licuuc"
targets=(safetensors sts_pairs text_corpus wordpiece hand_formats coco voc yolo detection_csv config torch_save json_text
         zip_records meta_json hf_settings)

flags=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
       -I. -isystem /usr/include/opencv4 -isystem /usr/include/torch/csrc/api/include -D_GLIBCXX_USE_CXX11_ABI=1)

# Compiles $1 into $2 unless $2 is newer than $1 and every header it included (its .d file).
compile() {
  local src=$1 obj=$2
  if [ -f "$obj" ] && [ -f "$obj.d" ]; then
    # shellcheck disable=SC2046
    if [ -z "$(find $(sed -e 's/^[^:]*://' -e 's/\\$//' "$obj.d") -newer "$obj" 2>/dev/null | head -1)" ]; then
      return
    fi
  fi
  $launcher "$cxx" "${flags[@]}" -fsanitize=fuzzer-no-link -MMD -MF "$obj.d" -c "$src" -o "$obj"
}

# Every target is compiled with the same flags, so a source is compiled once, into build-fuzz/obj/,
# for all of them (the detection sources serve four targets, user_file.cpp ten): without a compiler
# cache, as in CI, that is most of the fuzz stage's time. CTest runs two targets at once, hence
# the lock around the compiles. One folder per compiler and system: the same tree built in the
# Debian 13 root (scripts/check_platforms.sh) has another clang, libstdc++ and LibTorch, whose
# headers are older than objects made outside it.
obj_dir=$out/obj/$( (echo "${flags[*]}"; "$cxx" --version | head -1; cat /etc/debian_version 2>/dev/null) | cksum | cut -d' ' -f1)
build() {
  local target=$1 objs=()
  mkdir -p "$obj_dir" "$out/$target"
  exec 8>"$obj_dir/.lock"
  flock 8
  for src in ${sources[$target]} "tests/fuzz/${target}_fuzz.cpp"; do
    local obj="$obj_dir/$(echo "${src%.cpp}" | tr / _).o"
    compile "$src" "$obj"
    objs+=("$obj")
  done
  exec 8>&-
  local dir=$out/$target
  # shellcheck disable=SC2086
  "$cxx" "${flags[@]}" -fsanitize=fuzzer "${objs[@]}" ${libs[$target]:-} -o "$dir/fuzz_$target"
}

# The first lines of real files as seeds: small seeds keep the fuzzer fast, and mutations of
# real rows reach deeper than random bytes.
seed_head() {  # corpus lines file...
  local corpus=$1 lines=$2
  shift 2
  for f in "$@"; do
    [ -f "$f" ] && head -n "$lines" "$f" >"$corpus/real_$(basename "$(dirname "$f")")_$(basename "$f")"
  done
  return 0
}

seed() {
  local target=$1 corpus=$2
  cp -n tests/fuzz/corpus/"$target"/* "$corpus/" 2>/dev/null || true
  case $target in
    safetensors)
      for dir in ${ZOO_FUZZ_SEEDS:-}; do
        find "$dir" -name '*.safetensors' -size -200M -exec cp -n {} "$corpus/" \; 2>/dev/null || true
      done ;;
    sts_pairs) seed_head "$corpus" 30 "$data"/stsb/original/sts-dev.csv "$data"/stsb/multi_mt_en/stsb-en-dev.csv ;;
    text_corpus) seed_head "$corpus" 40 "$data"/wikitext2/valid.txt "$data"/tinyshakespeare/input.txt ;;
    wordpiece) seed_head "$corpus" 20 "$data"/wikitext2/valid.txt ;;
    hand_formats)
      seed_head "$corpus" 4 "$data"/hand_realworld_ge2019/annotations.csv
      # The manifest is one JSON document: its first two samples, still valid JSON.
      [ -f "$data"/hand_realworld_ge2019/annotations.json ] && command -v python3 >/dev/null &&
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["samples"]=d["samples"][:2]; print(json.dumps(d))' \
          "$data"/hand_realworld_ge2019/annotations.json >"$corpus/real_annotations.json" || true ;;
    voc)  # the images the fuzz target provides are a.jpg and b.jpg
      for f in $(ls "$data"/raccoon/annotations/*.xml 2>/dev/null | head -5); do
        sed 's#<filename>[^<]*</filename>#<filename>a.jpg</filename>#' "$f" >"$corpus/real_$(basename "$f")"
      done ;;
    yolo)
      for f in $(ls "$data"/coco128/labels/train2017/*.txt 2>/dev/null | head -10); do
        cp -n "$f" "$corpus/real_$(basename "$f")"
      done ;;
    detection_csv)
      [ -f "$data"/raccoon/train_labels.csv ] &&
        head -n 6 "$data"/raccoon/train_labels.csv | sed -E 's#^raccoon-[0-9]+\.jpg#a.jpg#' >"$corpus/real_raccoon.csv"
      [ -f "$data"/coco128/boxes_train2017.csv ] &&
        head -n 6 "$data"/coco128/boxes_train2017.csv | sed -E 's#^images/train2017/[0-9]+\.jpg#a.jpg#' >"$corpus/real_coco128.csv"
      true ;;
    config) cp -n apps/configs/*.json "$corpus/" ;;
    json_text|meta_json|hf_settings)  # a depth bomb and a size bomb (one 100 kB string), made here, not committed
      printf '%*s' 100000 '' | tr ' ' '[' >"$corpus/bomb_depth.json"
      { printf '{"vocab": "'; head -c 100000 /dev/zero | tr '\0' 'x'; printf '"}'; } >"$corpus/bomb_size.json"
      if [ "$target" = hf_settings ]; then  # the bombs as modules.json and as 1_Pooling/config.json too
        { printf '{}\f'; cat "$corpus/bomb_depth.json"; } >"$corpus/bomb_depth_modules.txt"
        { printf '{}\f[]\f'; cat "$corpus/bomb_size.json"; } >"$corpus/bomb_size_pooling.txt"
      fi ;;
    zip_records)  # torch.save's layout, a deflated record (a zip bomb: 10 MB of zeros) and a zip in a zip
      [ -x /usr/bin/python3 ] && /usr/bin/python3 -c '
import io, sys, zipfile, torch
torch.save({"w": torch.arange(6.)}, sys.argv[1] + "/whole_file.pt")
with zipfile.ZipFile(sys.argv[1] + "/bomb_size.pt", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("archive/data.pkl", bytes(10_000_000))
inner = open(sys.argv[1] + "/bomb_size.pt", "rb").read()
with zipfile.ZipFile(sys.argv[1] + "/bomb_depth.pt", "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data/0", inner)' "$corpus" 2>/dev/null || true ;;
    torch_save)  # a whole small checkpoint, written by Debian's torch (not committed: a weight file)
      [ -x /usr/bin/python3 ] && /usr/bin/python3 -c \
        'import sys, torch; torch.save({"w": torch.arange(6.).reshape(2, 3), "n": torch.tensor([7])}, sys.argv[1])' \
        "$corpus/whole_file.pt" 2>/dev/null || true ;;
  esac
}

status=0
for target in "${targets[@]}"; do
  [[ $target =~ $filter ]] || continue
  build "$target"
  dir=$out/$target
  corpus=$dir/corpus
  rm -rf "$dir/tmp"  # scratch folders of runs that crashed (no atexit)
  mkdir -p "$corpus" "$dir/tmp"
  seed "$target" "$corpus"
  echo "fuzz: $target for ${seconds}s"
  rm -f "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*
  # -rss_limit_mb: LibTorch alone takes ~300 MB; an input may not make a loader take GBs.
  TMPDIR=$dir/tmp LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp "$dir/fuzz_$target" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$dir/" -print_final_stats=1 "$@" >"$dir/log" 2>&1 || true
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY|Done" "$dir/log" || true
  # libFuzzer writes crash-*/leak-*/timeout-*/oom-* files when it finds something. (Not `ls a* b*`:
  # it fails when any one pattern matches nothing.)
  found=$(compgen -G "$dir/crash-*"; compgen -G "$dir/leak-*"; compgen -G "$dir/timeout-*"; compgen -G "$dir/oom-*") || true
  if [ -n "$found" ]; then
    grep -v -E '^(INFO|#|\s+NEW_FUNC)' "$dir/log" | tail -n 40 >&2
    echo "fuzz: $target found a failing input (log: $dir/log):" $found >&2
    status=1
  fi
done
exit $status
