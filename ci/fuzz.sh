#!/usr/bin/env bash
# Builds the fuzz targets with clang + libFuzzer + ASan/UBSan and runs each for a while.
#   ci/fuzz.sh [--time SECONDS] [--targets "decode broker ..."] [--merge] [--coverage] [--no-sanitize]
#   --time     seconds per target (default 15: the smoke run of the test command)
#   --no-sanitize  libFuzzer alone, without ASan+UBSan (build/fuzz-nosan): several times the
#              executions per second, for long campaigns; replay what it finds in the sanitized build
#   --merge    write the corpus each run grew back into corpus/<target>/, minimized with -merge=1
#   --coverage afterwards, the llvm-cov line coverage per library of replaying corpus/ (fuzz/coverage.sh)
# Runs never touch corpus/ otherwise: new inputs go to a scratch directory under reports/fuzz/.
# Crashes, leaks, timeouts and OOMs, with minimized reproducers, land in reports/fuzz/<target>/;
# the exit status is non-zero when there was any.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

time_per_target=15
targets=""
merge=0
coverage=0
sanitize=ON
while (($#)); do
  case "$1" in
    --time) time_per_target=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --merge) merge=1; shift ;;
    --coverage) coverage=1; shift ;;
    --no-sanitize) sanitize=OFF; shift ;;
    *) echo "usage: ci/fuzz.sh [--time SECONDS] [--targets LIST] [--merge] [--coverage] [--no-sanitize]" >&2; exit 2 ;;
  esac
done

bash ci/setup.sh

build=build/fuzz
[[ $sanitize == ON ]] || build=build/fuzz-nosan
parts=${MQTTSPEC_FUZZ_PARTS:-"reference/codec;reference/session;reference/broker/core;reference/transport;reference/broker/net;conformance/runner;fuzz"}
echo "== build ($build: clang, libFuzzer$([[ $sanitize == ON ]] && echo ', ASan+UBSan'))"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DMQTTSPEC_FUZZ=libfuzzer -DMQTTSPEC_SANITIZE=$sanitize -DMQTTSPEC_WERROR=ON -DMQTTSPEC_TESTS=OFF \
  -DMQTTSPEC_PARTS="$parts" >/dev/null
all_targets="decode decode_structured properties topic broker broker_structured runner websocket"
[[ -n "$targets" ]] || targets=$all_targets

# Only the fuzz targets asked for (and what they link): the rest of the tree is not needed here.
known=$(ninja -C "$build" -t targets all | sed -n 's/^\(mqttspec_fuzz_[a-z_]*\): .*/\1/p')
build_targets=()
for t in $targets; do
  grep -qx "mqttspec_fuzz_$t" <<<"$known" && build_targets+=("mqttspec_fuzz_$t")
done
((${#build_targets[@]})) && cmake --build "$build" -j"${MQTTSPEC_JOBS:-1}" --target "${build_targets[@]}"

# The seed corpus a target replays: the structured variants share their base target's.
corpus_of() {
  case "$1" in
    decode_structured) echo decode ;;
    broker_structured) echo broker ;;
    *) echo "$1" ;;
  esac
}

# A target's own dictionary when it has one (fuzz/<target>.dict), else the MQTT one.
dict_of() {
  if [[ -f fuzz/$1.dict ]]; then echo "fuzz/$1.dict"; else echo fuzz/mqtt.dict; fi
}

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

failed=0
summary=()
for t in $targets; do
  exe=$build/fuzz/$t
  if [[ ! -x $exe ]]; then
    echo "== $t: not built, skipped"
    summary+=("$(printf '%-18s %s' "$t" "not built")")
    continue
  fi
  c=$(corpus_of "$t")
  out=reports/fuzz/$t
  rm -rf "$out"
  mkdir -p "$out/corpus" corpus/"$c" corpus/regressions/"$t"
  echo "== $t: ${time_per_target}s"
  set +e
  # The scratch corpus comes first: libFuzzer writes new inputs only to the first directory.
  # -entropic_scale_per_exec_time=1: the entropic schedule favours inputs with many rare features,
  # which in these targets are the long ones (hit-count buckets of loops over frames, operations,
  # bytes): a 4 KB decode input costs ~1-2 ms under ASan, a 60-byte one ~30 us, so by default most
  # of the time went to the few longest seeds. Scaling each input's energy by its execution time
  # keeps every seed and max_len (no coverage is given up) and runs the cheap ones more: 2-4x the
  # executions per second after load (decode 8.6k -> 29.7k, broker 1.3k -> 4.0k, runner 3.9k ->
  # 14.7k, ASan, 20 s each, alternating). It makes runs with a fixed -seed non-deterministic, which
  # these timed runs never were.
  # -entropic_feature_frequency_threshold=32 (default 255): a feature counts as rare until it was
  # seen that often, and for every feature of every run libFuzzer searches the list of rare ones
  # linearly (InputCorpus::UpdateFeatureFrequency: a third of the broker's time, with ~24k
  # features). Rare below 32 sightings keeps that list short: after-load exec/s broker +25-50%,
  # broker_structured +44%, runner +60%, decode within noise, with the same cov/ft growth.
  "$exe" "$out/corpus" "corpus/$c" "corpus/regressions/$t" \
    -max_total_time="$time_per_target" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -entropic_scale_per_exec_time=1 -entropic_feature_frequency_threshold=32 \
    -dict="$(dict_of "$t")" -artifact_prefix="$out/" -print_final_stats=1 \
    >"$out/fuzz.log" 2>&1
  rc=$?
  set -e
  last=$(grep -E '^#[0-9]+' "$out/fuzz.log" | tail -1 || true)
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$out/fuzz.log")
  eps=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$out/fuzz.log")
  # Executions per second after the seed corpus was loaded (loading runs every seed with the
  # costliest bookkeeping, seconds for the big corpora): runs and time past the INITED line, whose
  # exec/s gives its time (0 means under a second).
  steady=$(awk -v total="$time_per_target" '
    /\tINITED / { for (i = 1; i <= NF; i++) if ($i == "exec/s:") r = $(i + 1); n0 = substr($1, 2); t0 = r > 0 ? n0 / r : 0 }
    /\tDONE / { n1 = substr($1, 2) }
    END { if (n1 && total > t0) printf "%d", (n1 - n0) / (total - t0); else print "?" }' "$out/fuzz.log")
  files=$(find "$out/corpus" "corpus/$c" -type f | wc -l)
  kb=$(du -ck "$out/corpus" "corpus/$c" | tail -1 | cut -f1)
  artifacts=$(find "$out" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  verdict=clean
  if [[ $rc -ne 0 || -n "$artifacts" ]]; then
    verdict="FAILED (exit $rc)"
    failed=1
    grep -E 'ERROR: |fuzz oracle failed|SUMMARY' "$out/fuzz.log" | head -5 || true
    for a in $artifacts; do
      # A smaller reproducer next to the original, for the report and corpus/regressions/<target>/.
      "$exe" -minimize_crash=1 -max_total_time=60 -runs=20000 -exact_artifact_path="$a.min" "$a" \
        >"$a.minimize.log" 2>&1 || true
      echo "   reproducer: $a${a:+ (minimized: $a.min)}"
    done
  fi
  summary+=("$(printf '%-18s exec/s %-7s after load %-7s cov %-6s ft %-6s runs %-9s corpus %s files, %s KB  %s' \
    "$t" "${eps:-?}" "$steady" "${cov:-?}" "${ft:-?}" "${execs:-?}" "$files" "$kb" "$verdict")")

  if ((merge)) && [[ $verdict == clean ]]; then
    tmp=$(mktemp -d)
    "$exe" -merge=1 "$tmp" "corpus/$c" "$out/corpus" >"$out/merge.log" 2>&1
    rm -rf "corpus/$c" && mkdir -p "corpus/$c" && cp "$tmp"/* "corpus/$c"/ 2>/dev/null || true
    rm -rf "$tmp"
    echo "   merged: corpus/$c now $(ls "corpus/$c" | wc -l) files"
  fi
done

echo
echo "== fuzz summary (${time_per_target}s per target)"
printf '%s\n' "${summary[@]}"

if ((coverage)); then
  bash fuzz/coverage.sh
fi
exit $failed
