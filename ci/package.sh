#!/usr/bin/env bash
# Builds the Debian package: a Release build installed under /usr, packed by cpack (DEB generator,
# Depends from dpkg-shlibdeps). Then checks it: the file list (dpkg-deb -c), the control fields,
# and the tools and CMake package unpacked into a scratch root (dpkg-deb -x), run by
# tests/install/install_test.sh as if installed. The .deb is left in the build directory.
#   ci/package.sh [BUILD_DIR]       default build/package; MQTTSPEC_JOBS sets the build's -j
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${1:-build/package}

bash ci/setup.sh

echo "== build ($build: Release, prefix /usr)"
# The tools and the libraries of the CMake package; fuzz brings the network fuzzer (mqttspec fuzz).
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DMQTTSPEC_TESTS=OFF -DMQTTSPEC_BENCHMARKS=OFF -DMQTTSPEC_FUZZ=off \
  -DMQTTSPEC_PARTS="reference/codec;reference/session;reference/broker/core;reference/auth;reference/transport;reference/broker/net;reference/broker/app;conformance/runner;fuzz" \
  >/dev/null
cmake --build "$build" -j"${MQTTSPEC_JOBS:-$(nproc)}"

echo "== cpack -G DEB"
rm -f "$build"/mqttspec_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
debs=("$build"/mqttspec_*.deb)
[[ ${#debs[@]} == 1 && -f "${debs[0]}" ]] || { echo "package: cpack made no mqttspec_*.deb" >&2; exit 1; }
deb=${debs[0]}
echo "   $deb ($(du -h "$deb" | cut -f1))"

echo "== dpkg-deb -c / -f"
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/mqttspec ./usr/bin/mqttspec-broker \
         ./usr/share/mqttspec/scenarios/v3.1.1/connect.xml ./usr/share/mqttspec/scenarios/v5.0/connect.xml \
         ./usr/share/mqttspec/statements/mqtt-5.0-statements.tsv ./usr/share/mqttspec/junit.xsd \
         ./usr/share/man/man1/mqttspec.1 ./usr/share/man/man1/mqttspec-broker.1 \
         ./usr/include/mqttspec/codec/decode.hpp ./usr/include/mqttspec/broker/embedded.hpp \
         /cmake/mqttspec/mqttspecConfig.cmake /cmake/mqttspec/mqttspecConfigVersion.cmake; do
  grep -q -- "$f\$" <<<"$contents" || { echo "package: $f is not in $deb" >&2; exit 1; }
done
echo "   $(grep -c '^-' <<<"$contents") files, $(grep -c '/share/mqttspec/scenarios/.*\.xml$' <<<"$contents") scenario files"
depends=$(dpkg-deb -f "$deb" Depends)
echo "   Package: $(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version) ($(dpkg-deb -f "$deb" Architecture))"
echo "   Depends: $depends"
for lib in libssl3 libpugixml1v5 libstdc++6; do
  grep -q "$lib" <<<"$depends" || { echo "package: Depends lacks $lib" >&2; exit 1; }
done

echo "== the unpacked package, run as installed"
unpacked=$(mktemp -d "${TMPDIR:-/tmp}/mqttspec-deb.XXXXXX")
trap 'rm -rf "$unpacked"' EXIT
dpkg-deb -x "$deb" "$unpacked"
bash tests/install/install_test.sh --installed "$unpacked" --source "$root" --generator Ninja
echo "package: ok: $deb"
