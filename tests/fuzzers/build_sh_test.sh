#!/usr/bin/env bash
# .clusterfuzzlite/build.sh as OSS-Fuzz runs it: the builder's variables set
# here (clang, ASan, libFuzzer), two cheap targets (SLABFUZZ_TARGETS), then
# a check of what lands in $OUT: each fuzzer runs, its seed corpus zip holds
# corpus/<name>/, the dictionary it is registered with is there and named in
# its .options. Also: a missing variable is a clear error.
# Usage: build_sh_test.sh SOURCE_DIR
set -uo pipefail
root=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

if out=$(env -u OUT CC=clang CXX=clang++ LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
           "$root/.clusterfuzzlite/build.sh" 2>&1); then
  fail "build.sh without \$OUT succeeded"
elif ! grep -q "OUT" <<<"$out"; then
  fail "build.sh without \$OUT did not name it: $out"
fi

flags="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize=fuzzer-no-link"
if ! CC=clang CXX=clang++ CFLAGS="$flags" CXXFLAGS="$flags" \
     LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT="$tmp/out" WORK="$tmp/work" SRC="$tmp" \
     SLABFUZZ_TARGETS="decode_fuzzer wat_fuzzer" \
     "$root/.clusterfuzzlite/build.sh" >"$tmp/build.log" 2>&1; then
  tail -30 "$tmp/build.log"
  fail "build.sh failed"
  exit 1
fi

for t in decode_fuzzer wat_fuzzer; do
  [[ -x $tmp/out/$t ]] || fail "$t is not in \$OUT"
  zip=$tmp/out/${t}_seed_corpus.zip
  seeds=$root/corpus/${t%_fuzzer}
  if [[ ! -f $zip ]]; then
    fail "${t}_seed_corpus.zip is missing"
  else
    mkdir -p "$tmp/seeds/$t"
    (cd "$tmp/seeds/$t" && unzip -q "$zip")
    want=$(find "$seeds" -type f | wc -l) got=$(find "$tmp/seeds/$t" -type f | wc -l)
    ((want == got)) || fail "$t: seed zip holds $got files, corpus/${t%_fuzzer} $want"
    # The fuzzer runs over its seeds (and a few hundred mutations) cleanly.
    "$tmp/out/$t" -runs=300 -seed=1 "$tmp/seeds/$t" >"$tmp/$t.log" 2>&1 ||
      { tail -20 "$tmp/$t.log"; fail "$t did not run cleanly over its seeds"; }
  fi
  [[ -f $tmp/out/$t.options ]] || fail "$t.options is missing"
done
cmp -s "$tmp/out/decode_fuzzer.dict" "$root/fuzzers/wasm.dict" ||
  fail "decode_fuzzer.dict is not fuzzers/wasm.dict"
grep -qx "dict = decode_fuzzer.dict" "$tmp/out/decode_fuzzer.options" ||
  fail "decode_fuzzer.options does not name its dictionary"
[[ ! -e $tmp/out/wat_fuzzer.dict ]] || fail "wat_fuzzer got a dictionary it was not given"
grep -q "dict" "$tmp/out/wat_fuzzer.options" && fail "wat_fuzzer.options names a dictionary"

((failed == 0)) && echo "build.sh: targets, seed corpora, dictionaries and options as expected"
((failed == 0))
