#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build step: the in-process libFuzzer targets, built by the project's
# own fuzz/oss-fuzz-build.sh from what the environment contract gives ($CXX $CXXFLAGS
# $LIB_FUZZING_ENGINE into $OUT; objects under $WORK). Each target lands in $OUT with its seed
# corpus (corpus/ and corpus/regressions/, zipped), dictionary and .options.
src=${MQTTSPEC_SRC:-$SRC/mqttspec}
# nlohmann/json from the Dockerfile's clone, ahead of any older copy the image has.
if [[ -d $SRC/nlohmann-json/single_include ]]; then
  export CXXFLAGS="${CXXFLAGS:-} -I$SRC/nlohmann-json/single_include"
fi
bash "$src/fuzz/oss-fuzz-build.sh"
