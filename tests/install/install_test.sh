#!/usr/bin/env bash
# ctest `install`: installs the build tree into a scratch root (DESTDIR, prefix /usr), runs the
# installed tools from a directory where no source tree is in reach, and builds and runs a consumer
# project (tests/install/consumer) with find_package(mqttspec) against the installed package.
#   install_test.sh --build DIR --source DIR [--compiler CXX] [--generator G] [--make-program P]
#                   [--sanitize ON|OFF] [--keep]
# With --installed ROOT instead of --build, the same checks run on a tree installed already under
# ROOT/usr (ci/package.sh: the .deb unpacked by dpkg-deb -x).
set -euo pipefail

build="" installed="" source="" compiler="" generator="" make_program="" sanitize=OFF keep=0
while (($#)); do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --installed) installed=$2; shift 2 ;;
    --source) source=$2; shift 2 ;;
    --compiler) compiler=$2; shift 2 ;;
    --generator) generator=$2; shift 2 ;;
    --make-program) make_program=$2; shift 2 ;;
    --sanitize) sanitize=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "install_test: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n "$source" && ( -n "$build" || -n "$installed" ) ]] ||
  { echo "install_test: --source and --build (or --installed) are required" >&2; exit 2; }
source=$(cd "$source" && pwd)

# Outside the build and source trees, so the installed runner cannot fall back to either.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mqttspec-install-test.XXXXXX")
if ((keep)); then echo "install_test: keeping $scratch"; else trap 'rm -rf "$scratch"' EXIT; fi
prefix=/usr

fail() { echo "install_test: FAIL: $*" >&2; exit 1; }
step() { echo "== $* ($SECONDS s)"; }

if [[ -n "$installed" ]]; then
  root=$(cd "$installed" && pwd)
else
  root=$scratch/root
  step "cmake --install (DESTDIR=$root, prefix $prefix)"
  DESTDIR=$root cmake --install "$build" --prefix "$prefix" >"$scratch/install.log" ||
    { cat "$scratch/install.log"; fail "cmake --install"; }
fi
inst=$root$prefix

step "installed files"
libdir=$(cd "$inst" && dirname "$(find . -path '*/cmake/mqttspec/mqttspecConfig.cmake' | head -1)")
[[ "$libdir" == . ]] && fail "no mqttspecConfig.cmake installed"
for f in bin/mqttspec bin/mqttspec-broker \
         share/mqttspec/scenarios/v3.1.1/connect.xml share/mqttspec/scenarios/v5.0/connect.xml \
         share/mqttspec/statements/mqtt-3.1.1-statements.tsv share/mqttspec/statements/mqtt-5.0-statements.tsv \
         share/mqttspec/statements/not-testable.tsv share/mqttspec/junit.xsd \
         share/man/man1/mqttspec.1 share/man/man1/mqttspec-broker.1 \
         include/mqttspec/codec/decode.hpp include/mqttspec/broker/embedded.hpp include/mqttspec/transport/stream.hpp \
         "$libdir/mqttspecConfig.cmake" "$libdir/mqttspecConfigVersion.cmake" "$libdir/mqttspecTargets.cmake"; do
  [[ -e "$inst/$f" ]] || fail "missing $prefix/$f"
done
[[ $(find "$inst/share/mqttspec/scenarios" -name '*.xml' | wc -l) == $(find "$source/conformance/scenarios" -name '*.xml' | wc -l) ]] ||
  fail "not every scenario file was installed"
grep -q '^\.TH MQTTSPEC 1' "$inst/share/man/man1/mqttspec.1" || fail "mqttspec.1 is not a man page"
grep -q 'SUBCOMMAND\|RUN' "$inst/share/man/man1/mqttspec.1" || fail "mqttspec.1 lacks the subcommands"
grep -q -- '--port' "$inst/share/man/man1/mqttspec-broker.1" || fail "mqttspec-broker.1 lacks the options"
if grep -rq "$source" "$inst/$libdir" "$inst/share/mqttspec"; then fail "installed package files name the source tree"; fi

away=$scratch/elsewhere
mkdir -p "$away"
cd "$away"

step "installed mqttspec list (working directory $away)"
"$inst/bin/mqttspec" list --version all >"$scratch/list.out" 2>&1 || { cat "$scratch/list.out"; fail "mqttspec list"; }
footer=$(tail -1 "$scratch/list.out")
echo "   $footer"
[[ "$footer" == *" scenarios in $inst/share/mqttspec/scenarios" ]] || fail "list did not read $inst/share/mqttspec/scenarios: $footer"
count=${footer%% *}
((count > 100)) || fail "only $count scenarios listed"

step "installed mqttspec run (embedded broker)"
scenarios=(v3.1.1.connect.accept v3.1.1.connect.second-connect v5.connect.accept 'v5.publish.qos1*')
rc=0
"$inst/bin/mqttspec" run "${scenarios[@]}" --quiet --report-dir "$scratch/reports" >"$scratch/run.out" 2>&1 || rc=$?
((rc == 0)) || { cat "$scratch/run.out"; fail "mqttspec run exited $rc"; }
tail -3 "$scratch/run.out" | sed 's/^/   /'
[[ -s "$scratch/reports/junit.xml" && -s "$scratch/reports/results.json" ]] || fail "run wrote no junit.xml/results.json"
if command -v xmllint >/dev/null; then
  xmllint --noout --schema "$inst/share/mqttspec/junit.xsd" "$scratch/reports/junit.xml" 2>"$scratch/xmllint.out" ||
    { cat "$scratch/xmllint.out"; fail "junit.xml does not match the installed junit.xsd"; }
fi

step "a copy of the binary without share/ finds nothing (no fallback to the source tree); MQTTSPEC_DATA_DIR wins"
mkdir -p "$scratch/bare/bin"
cp "$inst/bin/mqttspec" "$scratch/bare/bin/"
if "$scratch/bare/bin/mqttspec" list >"$scratch/bare.out" 2>&1; then
  cat "$scratch/bare.out"; fail "a binary without share/mqttspec still found scenarios"
fi
MQTTSPEC_DATA_DIR=$inst/share/mqttspec "$scratch/bare/bin/mqttspec" list v5.connect.accept >"$scratch/env.out" 2>&1 ||
  { cat "$scratch/env.out"; fail "MQTTSPEC_DATA_DIR was not used"; }
grep -q " scenarios in $inst/share/mqttspec/scenarios\$" "$scratch/env.out" || fail "MQTTSPEC_DATA_DIR: $(tail -1 "$scratch/env.out")"

step "installed mqttspec-broker"
"$inst/bin/mqttspec-broker" --help >"$scratch/broker-help.out" 2>&1 || { cat "$scratch/broker-help.out"; fail "mqttspec-broker --help"; }
grep -q -- '--port' "$scratch/broker-help.out" || fail "mqttspec-broker --help"

step "consumer project: find_package(mqttspec) from $prefix, mqttspec::codec + mqttspec::embedded_broker"
cmake_args=(-S "$source/tests/install/consumer" -B "$scratch/consumer" -DCMAKE_PREFIX_PATH="$inst"
            -DCMAKE_FIND_PACKAGE_NO_SYSTEM_PACKAGE_REGISTRY=ON -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON)
[[ -n "$generator" ]] && cmake_args+=(-G "$generator")
[[ -n "$make_program" ]] && cmake_args+=(-DCMAKE_MAKE_PROGRAM="$make_program")
[[ -n "$compiler" ]] && cmake_args+=(-DCMAKE_CXX_COMPILER="$compiler")
cmake "${cmake_args[@]}" >"$scratch/consumer-configure.log" 2>&1 || { cat "$scratch/consumer-configure.log"; fail "consumer configure"; }
grep -q "mqttspec_DIR:PATH=$inst/" "$scratch/consumer/CMakeCache.txt" || fail "the consumer found a mqttspec other than $inst"
cmake --build "$scratch/consumer" -j1 >"$scratch/consumer-build.log" 2>&1 || { cat "$scratch/consumer-build.log"; fail "consumer build"; }
if [[ "$sanitize" == ON ]]; then
  # A sanitized package carries the runtime in its link interface (mqttspec::options).
  grep -q -- '-fsanitize=address' "$scratch/consumer/build.ninja" "$scratch/consumer/CMakeFiles/consumer.dir/link.txt" 2>/dev/null ||
    fail "the sanitized package did not pass its runtime to the consumer's link"
fi
"$scratch/consumer/consumer" || fail "consumer run"

step "done"
