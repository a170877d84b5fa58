"""Fixtures of the conformance driver: the mqttspec runner, brokers on free loopback ports."""
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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, deadline_s=10.0):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def run_suite(target, report_dir):
    """Plays every scenario against `target` (None: the embedded reference broker)."""
    cmd = [str(MQTTSPEC), "run", "--version", "all", "--jobs", "2", "-q", "--report-dir", str(report_dir)]
    if target:
        cmd += ["--target", target]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    results_file = pathlib.Path(report_dir) / "results.json"
    if proc.returncode == 2 or not results_file.exists():
        pytest.fail(f"mqttspec run could not run against {target or 'the embedded broker'}:\n{proc.stdout}\n{proc.stderr}")
    return {r["id"]: r for r in json.loads(results_file.read_text())["results"]}


class Brokers:
    """Runs the suite once per broker and keeps the verdicts for the per-scenario items."""

    def __init__(self, custom_target):
        self.custom_target = custom_target
        self.cache = {}
        self.tmp = tempfile.TemporaryDirectory(prefix="mqttspec-pytest-")

    def results(self, name):
        if name not in self.cache:
            report_dir = pathlib.Path(self.tmp.name) / name
            if name == "reference":
                self.cache[name] = run_suite(None, report_dir)
            elif name == "mosquitto":
                self.cache[name] = self._with_mosquitto(report_dir)
            else:
                self.cache[name] = run_suite(self.custom_target, report_dir)
        return self.cache[name]

    def _with_mosquitto(self, report_dir):
        port = free_port()
        conf = pathlib.Path(self.tmp.name) / "mosquitto.conf"
        conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
        proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if not wait_for_port(port):
                pytest.fail("mosquitto did not start")
            return run_suite(f"127.0.0.1:{port}", report_dir)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def brokers(request):
    b = Brokers(request.config.getoption("--broker"))
    yield b
    b.tmp.cleanup()
