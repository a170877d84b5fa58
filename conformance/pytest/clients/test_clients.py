"""Client conformance: every shipped client driver played against `mqttspec serve` (docs/client-drivers.md).

Each library plays every client scenario once (both versions, one `mqttspec serve` run per library);
each verdict becomes a pytest item. The reference client (`mqttspec client-driver`) must pass
everything. A third-party library's verdicts must equal its expectations file,
<library>-<version>.tsv beside this file: pass unless listed, and every listed deviation carries its
reason in the spec's words. The file is chosen by the installed version, so an upgrade without a
reviewed file fails loudly instead of passing by accident.

Libraries: paho-mqtt for Python (apt python3-paho-mqtt), MQTT.js (npm `mqtt`, pinned by
conformance/clients/mqttjs/package-lock.json and installed by ci/setup.sh), libmosquitto (apt
libmosquitto-dev) and Eclipse Paho C (apt libpaho-mqtt-dev), whose C drivers CMake builds next to
mqttspec."""
import functools
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[2]
BUILD = pathlib.Path(os.environ.get("MQTTSPEC_BUILD", REPO / "build" / "test"))
MQTTSPEC = BUILD / "conformance" / "runner" / "mqttspec"
CLIENTS = REPO / "conformance" / "clients"
DRIVERS = BUILD / "conformance" / "clients"
NODE = shutil.which("node") or shutil.which("nodejs")
PYTHON = "/usr/bin/python3"  # Debian's interpreter, the one python3-paho-mqtt installs into
VERDICTS = {"pass", "fail", "non-strict", "informational", "unsupported", "error"}


@functools.lru_cache(maxsize=None)
def dpkg_version(package):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout:
        return None
    return out.stdout.split("-")[0].split("+")[0]


@functools.lru_cache(maxsize=None)
def paho_python_version():
    out = subprocess.run([PYTHON, "-c", "import paho.mqtt; print(paho.mqtt.__version__)"], capture_output=True, text=True)
    return out.stdout.strip() or None


def mqttjs_version():
    manifest = CLIENTS / "mqttjs" / "node_modules" / "mqtt" / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else None


class Library:
    def __init__(self, name, driver, version, missing):
        self.name = name
        self.driver = driver    # argv, None for the reference client
        self.version = version  # callable -> installed version, None when absent
        self.missing = missing  # what installs it

    def expectations_file(self):
        return None if self.driver is None else HERE / f"{self.name}-{self.version()}.tsv"


LIBRARIES = [
    Library("reference", None, lambda: "built", "the mqttspec build"),
    Library("paho-mqtt", [PYTHON, str(CLIENTS / "paho-python" / "driver.py")], paho_python_version,
            "apt python3-paho-mqtt (ci/setup.sh)"),
    Library("mqtt.js", [NODE or "node", str(CLIENTS / "mqttjs" / "driver.js")],
            lambda: mqttjs_version() if NODE else None, "npm ci in conformance/clients/mqttjs (ci/setup.sh)"),
    Library("libmosquitto", [str(DRIVERS / "mqttspec-driver-libmosquitto")],
            lambda: dpkg_version("libmosquitto-dev") if (DRIVERS / "mqttspec-driver-libmosquitto").exists() else None,
            "apt libmosquitto-dev (ci/setup.sh), then the build"),
    Library("paho-c", [str(DRIVERS / "mqttspec-driver-paho-c")],
            lambda: dpkg_version("libpaho-mqtt-dev") if (DRIVERS / "mqttspec-driver-paho-c").exists() else None,
            "apt libpaho-mqtt-dev (ci/setup.sh), then the build"),
]
BY_NAME = {lib.name: lib for lib in LIBRARIES}


@functools.lru_cache(maxsize=None)
def scenario_ids():
    if not MQTTSPEC.exists():
        return []
    out = subprocess.run([str(MQTTSPEC), "list", "--role", "client"], capture_output=True, text=True, timeout=60)
    return tuple(line.split()[0] for line in out.stdout.splitlines() if line.startswith(("v3.1.1.", "v5.")))


@functools.lru_cache(maxsize=None)
def expectations(path):
    """scenario id -> (acceptable verdicts, reason)."""
    table = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        scenario, verdicts, reason = line.split("\t")
        table[scenario] = (set(verdicts.split("|")), reason)
    return table


def serve(args, report_dir, timeout=240):
    cmd = [str(MQTTSPEC), "serve", "--jobs", "4", "-q", "--report-dir", str(report_dir), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


class Runs:
    """One `mqttspec serve` run per library, kept for its per-scenario items. The runs of every
    installed library start together at the first item (most of a run is waiting on timeouts),
    each then read when its items come."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="mqttspec-clients-")
        self.procs = {}
        self.cache = {}

    def report_dir(self, name):
        return pathlib.Path(self.tmp.name) / name.replace(".", "-")

    def start(self, lib):
        if lib.name in self.procs:
            return
        args = [] if lib.driver is None else ["--driver", " ".join(lib.driver)]
        cmd = [str(MQTTSPEC), "serve", "--jobs", "3", "-q", "--report-dir", str(self.report_dir(lib.name)), *args]
        self.procs[lib.name] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def start_all(self):
        for lib in LIBRARIES:
            if lib.version() is not None and (lib.expectations_file() is None or lib.expectations_file().exists()):
                self.start(lib)

    def results(self, lib):
        if lib.name not in self.cache:
            self.start_all()
            self.start(lib)
            proc = self.procs[lib.name]
            try:
                out, err = proc.communicate(timeout=300)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            results_file = self.report_dir(lib.name) / "results.json"
            if not results_file.exists():
                pytest.fail(f"mqttspec serve could not run {lib.name}:\n{out}\n{err}")
            self.cache[lib.name] = (proc.returncode, {r["id"]: r for r in json.loads(results_file.read_text())["results"]})
        return self.cache[lib.name]

    def close(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.tmp.cleanup()


@pytest.fixture(scope="session")
def runs():
    r = Runs()
    yield r
    r.close()


def available(lib):
    if not MQTTSPEC.exists():
        pytest.skip(f"{MQTTSPEC} is not built")
    if lib.version() is None:
        pytest.fail(f"{lib.name} is not installed: {lib.missing}")
    path = lib.expectations_file()
    if path is not None and not path.exists():
        pytest.fail(f"{lib.name} {lib.version()} is installed but {path.name} is missing: review its verdicts "
                    f"(mqttspec serve --driver '{' '.join(lib.driver)}') and write the file")


def explain(result):
    return f"{result['verdict']}: {result.get('message', '')}\nrerun: {result.get('rerun', '')}"


def pytest_generate_tests(metafunc):
    if "scenario" not in metafunc.fixturenames:
        return
    ids = scenario_ids()
    params = [pytest.param(lib.name, s, id=f"{lib.name}:{s}") for lib in LIBRARIES for s in ids]
    if not params:
        params = [pytest.param(None, None, marks=pytest.mark.skip(reason=f"{MQTTSPEC} is not built"))]
    metafunc.parametrize("library,scenario", params)


def test_client_scenario(runs, library, scenario):
    lib = BY_NAME[library]
    available(lib)
    _, results = runs.results(lib)
    result = results.get(scenario)
    assert result is not None, f"{scenario} was not played"
    path = lib.expectations_file()
    acceptable, reason = ({"pass"}, "") if path is None else expectations(path).get(scenario, ({"pass"}, ""))
    assert result["verdict"] in acceptable, (
        f"expected {'|'.join(sorted(acceptable))} ({reason or 'conformant'}), got {explain(result)}")


@pytest.mark.parametrize("library", [lib.name for lib in LIBRARIES if lib.driver is not None])
def test_expectations_name_real_scenarios(library):
    """Every listed deviation names an existing client scenario, gives a reason and real verdicts."""
    lib = BY_NAME[library]
    ids = set(scenario_ids())
    if not ids or lib.version() is None:
        pytest.skip(f"{lib.name} or mqttspec is missing")
    path = lib.expectations_file()
    if not path.exists():
        pytest.skip(f"{path.name} is missing (test_client_scenario says so)")
    for scenario, (verdicts, reason) in expectations(path).items():
        assert scenario in ids, f"{path.name}: unknown scenario {scenario}"
        assert reason.strip(), f"{path.name}: {scenario} has no reason"
        assert verdicts <= VERDICTS, f"{path.name}: {scenario}: unknown verdict in {verdicts}"


def test_reports_of_a_library_with_failures(runs):
    """The reports of a run with failures: JUnit that parses with one testcase per scenario and a
    <failure> per fail, results.json whose failures carry the wire log and a rerun line naming the
    driver, report.html; exit status 1."""
    lib = BY_NAME["paho-mqtt"]
    available(lib)
    status, results = runs.results(lib)
    failed = [r for r in results.values() if r["verdict"] == "fail"]
    assert failed and status == 1
    for r in failed:
        assert r["wire_log"], r["id"]
        assert r["rerun"].startswith(f"mqttspec serve '{r['id']}' --driver "), r["rerun"]
    report_dir = runs.report_dir(lib.name)
    suites = ET.parse(report_dir / "junit.xml").getroot()
    cases = suites.findall(".//testcase")
    assert len(cases) == len(results)
    assert len(suites.findall(".//failure")) == len(failed)
    assert (report_dir / "report.html").stat().st_size > 0


def test_reference_run_exit_status(runs):
    status, results = runs.results(BY_NAME["reference"])
    assert results and status == 0


def fake_driver(tmp_path, body):
    script = tmp_path / "driver.py"
    script.write_text("import sys\n" + body)
    return f"{PYTHON} {script}"


def test_driver_that_cannot_connect_gives_errors(tmp_path):
    """A driver that never connects fails the probe: every scenario of the version is an error, not
    a failure of the library, and the run ends quickly with status 2."""
    if not MQTTSPEC.exists():
        pytest.skip("mqttspec is not built")
    driver = fake_driver(tmp_path, "print('ready', flush=True)\nfor line in sys.stdin:\n    print('connect-failed', flush=True)\n")
    proc = serve(["--driver", driver, "--version", "5.0", "--timeout-ms", "500"], tmp_path / "r", timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    results = json.loads((tmp_path / "r" / "results.json").read_text())["results"]
    assert results and {r["verdict"] for r in results} == {"error"}
    assert "probe" in results[0]["message"]


def test_driver_without_the_version_gives_unsupported(tmp_path):
    """A driver that says `unsupported version` makes the version's scenarios unsupported."""
    if not MQTTSPEC.exists():
        pytest.skip("mqttspec is not built")
    driver = fake_driver(tmp_path, "print('unsupported version', flush=True)\nsys.stdin.read()\n")
    proc = serve(["--driver", driver, "--version", "3.1.1"], tmp_path / "r", timeout=60)
    results = json.loads((tmp_path / "r" / "results.json").read_text())["results"]
    assert results and {r["verdict"] for r in results} == {"unsupported"}, proc.stdout
    assert proc.returncode == 0


def test_client_coverage_names_real_statements():
    """`coverage --role client` loads the client scenarios and the untestable list and leaves no
    client statement uncovered without a reason, except those named here (WebSocket: serve
    listens on TCP only)."""
    if not MQTTSPEC.exists():
        pytest.skip("mqttspec is not built")
    out = subprocess.run([str(MQTTSPEC), "coverage", "--role", "client", "--gaps"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    gaps = [line.split()[0] for line in out.stdout.splitlines() if "UNCOVERED" in line]
    assert set(gaps) <= {"v3.1.1:MQTT-6.0.0-3", "v5:MQTT-6.0.0-3"}, gaps


def test_mqttjs_lockfile_pins_the_tested_release():
    """package.json pins MQTT.js exactly and package-lock.json resolves that same release, so `npm ci`
    installs what mqtt.js-<version>.tsv was written for."""
    folder = CLIENTS / "mqttjs"
    pinned = json.loads((folder / "package.json").read_text())["dependencies"]["mqtt"]
    assert all(part.isdigit() for part in pinned.split(".")), f"mqtt is not pinned exactly: {pinned}"
    lock = json.loads((folder / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/mqtt"]["version"] == pinned
    assert lock["packages"][""]["dependencies"]["mqtt"] == pinned
    assert (HERE / f"mqtt.js-{pinned}.tsv").exists()


def test_fixed_port_plays_one_scenario_at_a_time(tmp_path):
    """--port makes every scenario listen on that port in turn."""
    if not MQTTSPEC.exists():
        pytest.skip("mqttspec is not built")
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = serve(["--port", str(port), "v5.client.connect.*", "--exclude", "*keep-alive*"], tmp_path / "r", timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((tmp_path / "r" / "results.json").read_text())["results"]
    assert results and all(r["verdict"] == "pass" for r in results)
    assert all(f"listening on 127.0.0.1:{port}" in r["wire_log"][0]["note"] for r in results)
