"""Fixtures of the conformance driver: the mqttspec runner, brokers on free loopback ports."""
import contextlib
import json
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
BUILD = pathlib.Path(os.environ.get("MQTTSPEC_BUILD", REPO / "build" / "test"))
MQTTSPEC = BUILD / "conformance" / "runner" / "mqttspec"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
BROKER = BUILD / "reference" / "broker" / "app" / "mqttspec-broker"


_handed_out = set()


def free_port():
    """A loopback port nobody listens on, never one this run handed out before: a test that asks
    twice before its broker binds (a TCP and a WebSocket listener) must get two different ports."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def wait_for_port(port, deadline_s=10.0):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@contextlib.contextmanager
def serving(cmd, port, name):
    """Runs a broker process that listens on `port` until the block ends."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_for_port(port, 20.0):
            pytest.fail(f"{name} did not start: {cmd}")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def mosquitto(config_dir, *extra_lines):
    """mosquitto on a free loopback port, anonymous clients allowed, plus the given config lines."""
    port = free_port()
    conf = pathlib.Path(config_dir) / f"mosquitto-{port}.conf"
    conf.write_text("\n".join([f"listener {port} 127.0.0.1", "allow_anonymous true", *extra_lines]) + "\n")
    return serving([MOSQUITTO, "-c", str(conf)], port, "mosquitto")


# Every reference_broker offers SCRAM-SHA-256 to this user; runs that pass SCRAM_RUN_ARGS play the
# enhanced-authentication scenarios against it (without them those are unsupported).
SCRAM_USER, SCRAM_PASSWORD = "mqttspec", "mqttspec-scram-password"
SCRAM_RUN_ARGS = ["--auth-method", "SCRAM-SHA-256", "--username", SCRAM_USER, "--password", SCRAM_PASSWORD]


def reference_broker(*args):
    """mqttspec-broker on a free loopback port with the given options (and the SCRAM user)."""
    port = free_port()
    cmd = [str(BROKER), "--port", str(port), "--scram-user", f"{SCRAM_USER}:{SCRAM_PASSWORD}", *args]
    return serving(cmd, port, "mqttspec-broker")


def run_suite(target, report_dir):
    """Plays every scenario against `target` (None: the embedded reference broker)."""
    # Every broker here answers at once when it answers at all: 15 s is ceiling enough for eventual behaviour
    # (the default 30 s would only slow down the failures pinned in the expectations files).
    cmd = [str(MQTTSPEC), "run", "--version", "all", "--jobs", "2", "-q", "--eventual-timeout-ms", "15000",
           "--report-dir", str(report_dir)]
    if target:
        cmd += ["--target", target]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    results_file = pathlib.Path(report_dir) / "results.json"
    # Exit status 2 also means some verdict is `error`: the items judge those; only a missing report is fatal.
    if not results_file.exists():
        pytest.fail(f"mqttspec run could not run against {target or 'the embedded broker'}:\n{proc.stdout}\n{proc.stderr}")
    return {r["id"]: r for r in json.loads(results_file.read_text())["results"]}


class Brokers:
    """Runs the suite once per broker and keeps the verdicts for the per-scenario items."""

    def __init__(self, custom_target):
        self.custom_target = custom_target
        self.cache = {}
        self.tmp = tempfile.TemporaryDirectory(prefix="mqttspec-pytest-")

    def report_dir(self, name):
        return pathlib.Path(self.tmp.name) / name

    def results(self, name):
        if name not in self.cache:
            report_dir = self.report_dir(name)
            if name == "reference":
                self.cache[name] = run_suite(None, report_dir)
            elif name == "mosquitto":
                self.cache[name] = self._with_mosquitto(report_dir)
            else:
                self.cache[name] = run_suite(self.custom_target, report_dir)
        return self.cache[name]

    def _with_mosquitto(self, report_dir):
        with mosquitto(self.tmp.name) as target:
            return run_suite(target, report_dir)


@pytest.fixture(scope="session")
def brokers(request):
    b = Brokers(request.config.getoption("--broker"))
    yield b
    b.tmp.cleanup()
