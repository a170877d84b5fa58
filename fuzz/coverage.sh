#!/usr/bin/env bash
# Source-based line coverage (llvm-cov) of the codec, the session machine, the broker core, the
# WebSocket layer and the runner's matcher reached by replaying corpus/<target>/ and
# corpus/regressions/<target>/ through every target: one line per library. A replay build with
# clang's -fprofile-instr-generate in build/fuzz-cov.
#   fuzz/coverage.sh [--corpus DIR] [--html DIR]
#   --corpus  replay DIR/<target>/ and DIR/regressions/<target>/ instead of corpus/ (to compare
#             a candidate corpus, e.g. a re-minimized one, with the committed one)
set -euo pipefail
cd "$(dirname "$0")/.."
html=""
corpus=corpus
while (($#)); do
  case "$1" in
    --html) html=$2; shift 2 ;;
    --corpus) corpus=${2%/}; shift 2 ;;
    *) echo "usage: fuzz/coverage.sh [--corpus DIR] [--html DIR]" >&2; exit 2 ;;
  esac
done

build=build/fuzz-cov
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DMQTTSPEC_FUZZ=replay \
  -DMQTTSPEC_TESTS=OFF -DCMAKE_CXX_FLAGS="-fprofile-instr-generate -fcoverage-mapping" \
  -DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate" \
  -DMQTTSPEC_PARTS="reference/codec;reference/session;reference/broker/core;reference/transport;conformance/runner;fuzz" >/dev/null
cmake --build "$build" -j"${MQTTSPEC_JOBS:-1}" >/dev/null

prof=$build/profiles
rm -rf "$prof" && mkdir -p "$prof"
bins=()
# The *_structured targets are left out: they replay their base target's corpus through the same
# LLVMFuzzerTestOneInput, plus two mutants of each input made by a generator seeded once per
# process, so what they add depends on the whole corpus (its files and order), not on its inputs:
# removing one redundant seed moved the session's lines by 19. Without them the figure is a
# function of the corpus alone.
for t in decode properties topic broker websocket runner; do
  exe=$build/fuzz/$t
  [[ -x $exe ]] || continue
  c=$t
  # Seeds first, regressions separately: an open bug aborting on its reproducer must not lose
  # the coverage of the rest (the profile is written at exit, so not on abort).
  LLVM_PROFILE_FILE="$prof/$t.profraw" "$exe" "$corpus/$c" >/dev/null 2>&1 || echo "note: $t failed on $corpus/$c" >&2
  for r in "$corpus"/regressions/"$t"/*; do
    [[ -f $r ]] || continue
    LLVM_PROFILE_FILE="$prof/$t-$(basename "$r").profraw" "$exe" "$r" >/dev/null 2>&1 ||
      echo "note: $t fails on $r (open bug)" >&2
  done
  bins+=("$exe")
done
llvm-profdata merge -sparse "$prof"/*.profraw -o "$prof/all.profdata"

objects=("${bins[0]}")
for b in "${bins[@]:1}"; do objects+=(-object "$b"); done

echo "== coverage of replaying $corpus/ (lines, functions, regions)"
R=conformance/runner/src T=reference/transport/src
# label, then the sources it counts when not all of its directory: the sans-I/O WebSocket code of the
# transport (not its Asio/TLS streams) and the runner's matcher (not its sockets and reports).
for lib in "reference/codec/src" "reference/session/src" "reference/broker/core/src" \
           "transport-websocket $T/websocket_errc.cpp $T/websocket_frame.cpp $T/websocket_handshake.cpp $T/websocket_endpoint.cpp" \
           "runner-matcher $R/predicates.cpp $R/packet_builder.cpp $R/variables.cpp"; do
  read -r label paths <<<"$lib"
  [[ -n $paths ]] || paths=$label
  read -ra files <<<"$paths"
  # llvm-cov warns of "N functions have mismatched data": the fuzz targets' own functions of one
  # name and different bodies (LLVMFuzzerTestOneInput, the custom mutators, replay_main's helpers);
  # the libraries are compiled once, so their counts are all used. The warning is dropped.
  line=$(llvm-cov report "${objects[@]}" -instr-profile="$prof/all.profdata" "${files[@]/#/$PWD/}" 2> >(grep -v 'functions have mismatched data' >&2) | tail -1)
  # TOTAL regions missed cover functions missed executed lines missed cover ...
  read -r _ _ _ rcov _ _ fcov lines lmissed lcov _ <<<"$line"
  printf '%-28s lines %-8s (%s/%s)  functions %-8s regions %s\n' "$label" "$lcov" "$((lines - lmissed))" "$lines" "$fcov" "$rcov"
done
if [[ -n $html ]]; then
  llvm-cov show "${objects[@]}" -instr-profile="$prof/all.profdata" -format=html -output-dir="$html" \
    "$PWD/reference/codec/src" "$PWD/reference/session/src" "$PWD/reference/broker/core/src" \
    "$PWD/reference/transport/src" "$PWD/conformance/runner/src"
  echo "html: $html/index.html"
fi
