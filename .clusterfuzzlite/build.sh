#!/bin/bash -eu
# Builds slabfuzz's fuzz targets for OSS-Fuzz and ClusterFuzzLite.
#
# Honours the variables those builders set: $CC $CXX $CFLAGS $CXXFLAGS (the
# sanitizer and coverage flags), $LIB_FUZZING_ENGINE (what supplies main),
# $OUT (where everything goes), $SRC (the checkout's parent; the checkout is
# the directory above this script, or $SRC/slabfuzz), and $WORK (scratch; a
# temporary directory when unset). Into $OUT, for every target CMake lists in
# fuzzers/targets.txt:
#   <target>                    the fuzzer
#   <target>_seed_corpus.zip    corpus/<target without _fuzzer>/, when it exists
#   <target>.dict               the dictionary the target is registered with
#   <target>.options            libFuzzer options (and the dictionary)
# SLABFUZZ_TARGETS="a b" limits the build to those targets (the test uses it).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -f $here/../fuzzers/CMakeLists.txt ]]; then
  root=$(cd "$here/.." && pwd)
else
  root=${SRC:?SRC is not set and build.sh is not inside a slabfuzz checkout}/slabfuzz
fi
: "${CC:?} ${CXX:?} ${OUT:?} ${LIB_FUZZING_ENGINE:?}"
CFLAGS=${CFLAGS:-} CXXFLAGS=${CXXFLAGS:-}
work=${WORK:-$(mktemp -d)}
build=$work/slabfuzz-build
mkdir -p "$OUT" "$build"

generator=(-G "Unix Makefiles")
command -v ninja >/dev/null && generator=(-G Ninja)
# No CMAKE_BUILD_TYPE: the builder's flags are the whole story. Checking
# level 1 keeps the harness's own invariant checks, as the fuzz preset does.
cmake -S "$root" -B "$build" "${generator[@]}" \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DSLABFUZZ_FUZZ_ENGINE=external -DSLABFUZZ_FUZZ_LINK="$LIB_FUZZING_ENGINE" \
  -DSLABFUZZ_CHECKING=1 -DSLABFUZZ_BUILD_TESTS=OFF -DSLABFUZZ_BUILD_BENCH=OFF \
  -DSLABFUZZ_BUILD_TOOLS=OFF >/dev/null

declare -A dicts=()
targets=()
while read -r name dict; do
  [[ -n $name ]] || continue
  if [[ -n ${SLABFUZZ_TARGETS:-} && " $SLABFUZZ_TARGETS " != *" $name "* ]]; then continue; fi
  targets+=("$name")
  dicts[$name]=$dict
done <"$build/fuzzers/targets.txt"
((${#targets[@]})) || { echo "build.sh: no fuzz targets selected" >&2; exit 1; }

cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"

for t in "${targets[@]}"; do
  cp "$build/fuzzers/$t" "$OUT/$t"
  seeds=$root/corpus/${t%_fuzzer}
  rm -f "$OUT/${t}_seed_corpus.zip"
  if [[ -d $seeds ]] && [[ -n $(ls -A "$seeds") ]]; then
    (cd "$seeds" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
  fi
  {
    echo "[libfuzzer]"
    echo "rss_limit_mb = 2560"
    echo "timeout = 25"
    if [[ ${dicts[$t]} != - ]]; then
      cp "$root/fuzzers/${dicts[$t]}" "$OUT/$t.dict"
      echo "dict = $t.dict"
    fi
  } >"$OUT/$t.options"
done
echo "build.sh: ${targets[*]} -> $OUT"
