#!/usr/bin/env bash
# Builds and runs the libFuzzer target over model loading (test/fuzz/fuzz_load.cc).
#
#   FUZZ_SECONDS=120 bash test/fuzz/run.sh        # default 120 s
#   FUZZ_JOBS=1                                   # parallel fuzzing processes (default 1)
#   CXX=clang++-14                                # any clang with libFuzzer (default: clang++ or clang++-14)
#   FUZZ_BUILD_ONLY=1                             # compile the target and stop
#   FUZZ_LINK_OBJECT=path/netlite.cc.o            # link this object of the single file instead of
#   FUZZ_LINK_LIBS="-lopenblas"                   # compiling it (CI: the sanitizer tests' object,
#                                                 # built by clang with fuzzer-no-link coverage)
#
# The single file (amalgamation) and the target are compiled with
# -fsanitize=fuzzer,address,undefined into build-fuzz/. The seed corpus is built from
# the shared ONNX conformance models, mnist-8 and a few small generated models (the
# 5-46 MB real models are left out: -max_len keeps mutations near seed size). New
# crashers land in test/fuzz/crashers/ (committed: test/native/test_fuzz_regressions.cc
# replays them), the growing corpus in build-fuzz/corpus/. Exit code: non-zero on a crash.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
shared="${NETLITE_SHARED:-$root/../shared}"
out="$root/build-fuzz"
seconds="${FUZZ_SECONDS:-120}"
jobs="${FUZZ_JOBS:-1}"
mkdir -p "$out/corpus" "$out/seeds" "$here/crashers"

cxx="${CXX:-}"
if [ -z "$cxx" ]; then
  for c in clang++ clang++-14; do
    if command -v "$c" >/dev/null 2>&1; then cxx="$c"; break; fi
  done
fi
if [ -z "$cxx" ]; then echo "fuzz: no clang++ found (apt-get install clang libfuzzer-14-dev)" >&2; exit 1; fi

# 1. The amalgamation, then the fuzzer binary (rebuilt only when a source changed).
node "$root/tools/amalgamate.js" --out "$out/amalgamation" >/dev/null
bin="$out/fuzz_load"
if [ -n "${FUZZ_LINK_OBJECT:-}" ]; then
  echo "fuzz: linking with $cxx against $FUZZ_LINK_OBJECT"
  # shellcheck disable=SC2086  # FUZZ_LINK_LIBS is a list of linker arguments
  "$cxx" -std=c++17 -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$out/amalgamation" -I"$root/native/include" \
    "$here/fuzz_load.cc" "$FUZZ_LINK_OBJECT" ${FUZZ_LINK_LIBS:-} -lpthread -o "$bin.tmp"
  mv "$bin.tmp" "$bin"
elif [ ! -x "$bin" ] || [ "$out/amalgamation/netlite.cc" -nt "$bin" ] || [ "$here/fuzz_load.cc" -nt "$bin" ]; then
  echo "fuzz: compiling with $cxx (sanitizers: fuzzer,address,undefined)"
  t0=$SECONDS
  "$cxx" -std=c++17 -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$out/amalgamation" -I"$root/native/include" \
    "$here/fuzz_load.cc" "$out/amalgamation/netlite.cc" -lpthread -o "$bin.tmp"
  mv "$bin.tmp" "$bin"
  echo "fuzz: compiled in $((SECONDS - t0)) s"
fi
if [ -n "${FUZZ_BUILD_ONLY:-}" ]; then exit 0; fi

# 2. Seed corpus: small models only (<= 1 MB); bash builtins only, so it is quick on a busy box.
n=0
while IFS= read -r -d '' f; do
  d="${f%/*}"
  cp -f "$f" "$out/seeds/${d##*/}-${f##*/}"
  n=$((n + 1))
done < <(find "$shared/conformance/onnx-node" "$shared/real/mnist-8" "$here/seeds" -maxdepth 2 \
           -name '*.onnx' -size -1025k -print0 2>/dev/null)
# The crashers found before are seeds too, so the fuzzer keeps covering those paths.
for f in "$here"/crashers/*; do
  case "$f" in *.md) continue ;; esac
  [ -f "$f" ] && cp -f "$f" "$out/seeds/crasher-${f##*/}"
done
echo "fuzz: $n seed models; running for ${seconds} s"

# 3. Run. -max_len 64 KB: mnist-8 (26 KB) fits; larger inputs only slow the fuzzer.
#    -rss_limit_mb / -malloc_limit_mb flag an allocation far beyond the file's size;
#    -timeout flags a hang.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# -jobs forks workers that log to fuzz-N.log in the working directory: only when asked.
par=()
[ "$jobs" -gt 1 ] && par=(-fork="$jobs" -ignore_crashes=0)
set +e
(cd "$out" && "$bin" "$out/corpus" "$out/seeds" \
  -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=30 \
  "${par[@]}" -print_final_stats=1 \
  -artifact_prefix="$here/crashers/") 2>&1 | tee "$out/fuzz.log" | grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|ERROR|SUMMARY|stat::|Test unit written|==[0-9]+==" 
rc=${PIPESTATUS[0]}
set -e
echo "fuzz: exit $rc (log: build-fuzz/fuzz.log)"
exit "$rc"
