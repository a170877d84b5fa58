#!/usr/bin/env bash
# OSS-Fuzz / ClusterFuzzLite build script: compiles the in-process targets with nothing but
# $CXX $CXXFLAGS $LIB_FUZZING_ENGINE into $OUT, each with <target>_seed_corpus.zip, <target>.dict
# and <target>.options. Local check:
#   CXX=clang++ CXXFLAGS="-fsanitize=address,fuzzer-no-link -g" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
#   OUT=/tmp/out bash fuzz/oss-fuzz-build.sh
# `runner` takes the runner's expectation matcher alone (header-only nlohmann-json from the
# distribution: `apt-get install nlohmann-json3-dev` in the project's OSS-Fuzz Dockerfile).
# `websocket` takes the sans-I/O WebSocket sources alone and links libcrypto (the accept key's
# SHA-1): `apt-get install libssl-dev` there too.
set -euo pipefail
SRC_ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${CXX:?}" "${OUT:?}" "${LIB_FUZZING_ENGINE:?}"
CXXFLAGS=${CXXFLAGS:-}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$OUT" "$WORK/obj"

includes=(-I"$SRC_ROOT/reference/codec/include" -I"$SRC_ROOT/reference/session/include"
          -I"$SRC_ROOT/reference/broker/core/include" -I"$SRC_ROOT/fuzz")
flags=(-std=c++20 -Wno-missing-field-initializers)

objs=()
for src in "$SRC_ROOT"/reference/codec/src/*.cpp "$SRC_ROOT"/reference/session/src/*.cpp \
           "$SRC_ROOT"/reference/broker/core/src/*.cpp "$SRC_ROOT"/fuzz/mutator.cpp; do
  rel=${src#"$SRC_ROOT"/}
  obj=$WORK/obj/${rel//\//_}.o
  # shellcheck disable=SC2086
  $CXX $CXXFLAGS "${flags[@]}" "${includes[@]}" -c "$src" -o "$obj"
  objs+=("$obj")
done

# target name, sources, seed corpus directory
build_target() {
  local name=$1 corpus=$2
  shift 2
  # shellcheck disable=SC2086
  $CXX $CXXFLAGS "${flags[@]}" "${includes[@]}" "$@" "${objs[@]}" $LIB_FUZZING_ENGINE -o "$OUT/$name"
  local dict=$SRC_ROOT/fuzz/$name.dict
  [[ -f $dict ]] || dict=$SRC_ROOT/fuzz/mqtt.dict
  cp "$dict" "$OUT/$name.dict"
  printf '[libfuzzer]\nmax_len = 4096\ndict = %s.dict\n' "$name" >"$OUT/$name.options"
  python3 - "$OUT/${name}_seed_corpus.zip" "$SRC_ROOT/corpus/$corpus" "$SRC_ROOT/corpus/regressions/$name" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for d in sys.argv[2:]:
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                z.write(os.path.join(d, f), os.path.basename(d) + "_" + f)
PY
}

F=$SRC_ROOT/fuzz
build_target decode decode "$F/decode_target.cpp"
build_target decode_structured decode "$F/decode_target.cpp" "$F/decode_structured.cpp"
build_target properties properties "$F/properties_target.cpp"
build_target topic topic "$F/topic_target.cpp"
build_target broker broker "$F/broker_target.cpp"
build_target broker_structured broker "$F/broker_target.cpp" "$F/broker_structured.cpp"
R=$SRC_ROOT/conformance/runner/src
build_target runner runner -I"$SRC_ROOT/conformance/runner/include" "$F/runner_target.cpp" \
  "$R/predicates.cpp" "$R/packet_builder.cpp" "$R/variables.cpp"
T=$SRC_ROOT/reference/transport/src
build_target websocket websocket -I"$SRC_ROOT/reference/transport/include" "$F/websocket_target.cpp" \
  "$T/websocket_errc.cpp" "$T/websocket_frame.cpp" "$T/websocket_handshake.cpp" "$T/websocket_endpoint.cpp" -lcrypto
echo "oss-fuzz-build: targets in $OUT"
