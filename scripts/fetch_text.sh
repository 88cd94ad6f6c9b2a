#!/usr/bin/env bash
# Fetches extra English training text for the masked LM into corpora/ (git-ignored):
#   corpora/enwiki_sample.txt  106 Wikipedia articles (~547k words: Anarchism, Autism, Albedo, ...),
#     the shortened 2016 English Wikipedia dump that gensim's wheel ships as test data
#     (gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2;
#     gensim: LGPL-2.1; the article text: CC BY-SA 3.0, Wikipedia contributors). Markup is removed
#     with mwparserfromhell (MIT) by scripts/wiki_to_text.py; articles whose title is one of
#     WikiText-2 valid's are left out, so held-out validation articles never reach training.
#   corpora/stsb_train_sentences.txt  the STS-B training pairs' sentences, one per line (when
#     ../shared/data/stsb is present; CC BY-SA 4.0 scores, sentences under their sources' terms).
# Only pip's downloader is used (pinned wheels, checked by SHA-256); nothing is installed.
# mwparserfromhell's wheel is for CPython 3.11 (Debian bookworm's /usr/bin/python3).
# Idempotent: a file already in place is kept.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/corpora"
wikitext_valid=${WIKITEXT_VALID:-$root/../shared/data/wikitext2/valid.txt}
stsb_train=${STSB_TRAIN:-$root/../shared/data/stsb/original/sts-train.csv}
mkdir -p "$dest"

pip=()
for py in python3 /usr/bin/python3; do
  if "$py" -m pip --version >/dev/null 2>&1; then pip=("$py" -m pip); break; fi
done

if [ ! -f "$dest/enwiki_sample.txt" ]; then
  [ ${#pip[@]} -gt 0 ] || { echo "fetch_text: error: no python3 with pip found" >&2; exit 1; }
  [ -f "$wikitext_valid" ] || { echo "fetch_text: error: $wikitext_valid not found (its titles are kept out)" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  gensim=gensim-4.4.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl
  mwparser=mwparserfromhell-0.7.2-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl
  "${pip[@]}" download --quiet --no-deps --disable-pip-version-check --only-binary :all: \
    --platform manylinux_2_28_x86_64 --python-version 3.11 gensim==4.4.0 mwparserfromhell==0.7.2 -d "$tmp"
  sha256sum -c --quiet <<SUMS
91a7fa5e814e7b1bad4b2dffa8d62c1e55410d5cbdf930714c1997ffb4404db8  $tmp/$gensim
b31789c4d255c027d3075b935a5020efde547dbfbc57ea20abb16d842c52411a  $tmp/$mwparser
SUMS
  dump=gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2
  /usr/bin/python3 - "$tmp" "$tmp/$gensim" "$dump" "$tmp/$mwparser" <<'PY'
import sys, zipfile
tmp, gensim, dump, mwparser = sys.argv[1:]
zipfile.ZipFile(gensim).extract(dump, tmp)
zipfile.ZipFile(mwparser).extractall(tmp + "/mwparser")
PY
  /usr/bin/python3 "$root/scripts/wiki_to_text.py" "$tmp/mwparser" "$tmp/$dump" "$wikitext_valid" "$dest/enwiki_sample.txt"
fi

if [ ! -f "$dest/stsb_train_sentences.txt" ] && [ -f "$stsb_train" ]; then
  # Tab-separated, no quoting (data/sts_pairs.h): sentences are fields 6 and 7.
  cut -f6,7 "$stsb_train" | tr '\t' '\n' > "$dest/stsb_train_sentences.txt.partial"
  mv "$dest/stsb_train_sentences.txt.partial" "$dest/stsb_train_sentences.txt"
fi
ls -l "$dest"
