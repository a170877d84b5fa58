"""The runner against targets that are no working broker, and runs cut short.

Each version is probed before its scenarios play (version_probe.hpp): a target that fails the
probe gets every scenario of that version reported, unplayed, as `error` (or `unsupported` when it
refused the protocol version), so a dead or hostile target ends the run fast with exit status 2
and complete reports. Ctrl-C, SIGTERM and --max-run-seconds stop a run early: what ran keeps its
verdict, the rest are errors "not run (...)".

The hostile targets are tiny TCP servers in a thread of this process."""
import html.parser
import json
import random
import signal
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import MQTTSPEC, free_port

# A hostile run must end well inside this; the subprocess timeout only catches a hang.
BOUND_S = 60


@pytest.fixture(autouse=True)
def built():
    if not MQTTSPEC.exists():
        pytest.skip(f"{MQTTSPEC} is not built")


class FakeTarget:
    """Listens on a free loopback port; each connection runs behave(conn, stop) in its own thread."""

    def __init__(self, behave):
        self.behave = behave
        self.stop = threading.Event()
        self.port = free_port()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(64)
        self.sock.settimeout(0.2)  # so the accept loop sees stop
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(None)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            try:
                self.behave(conn, self.stop)
            except OSError:
                pass  # the runner closed first

    def close(self):
        self.stop.set()
        self.sock.close()


def read_packet(conn):
    """The next MQTT packet as (first byte, body), or None when the peer closed."""
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    head = exactly(1)
    length, shift = 0, 0
    while head:
        b = exactly(1)
        if not b:
            return None
        length |= (b[0] & 0x7F) << shift
        shift += 7
        if not b[0] & 0x80:
            body = exactly(length)
            return None if body is None else (head[0], body)
    return None


def protocol_level(connect):
    """The Protocol Level byte of a CONNECT body (after the protocol name "MQTT")."""
    return connect[1][6] if connect and connect[0] == 0x10 and len(connect[1]) > 6 else None


def packet(first_byte, body):
    length, vbi = len(body), b""
    while True:
        byte, length = length & 0x7F, length >> 7
        vbi += bytes([byte | (0x80 if length else 0)])
        if not length:
            return bytes([first_byte]) + vbi + body


# --- The hostile targets -------------------------------------------------------------------------

def silent(conn, stop):
    """Accepts TCP and never sends."""
    while conn.recv(4096):
        pass


def garbage(conn, stop):
    """Answers everything with random bytes (seeded: the same run every time)."""
    rng = random.Random(1883)
    while conn.recv(4096):
        conn.sendall(bytes(rng.randrange(256) for _ in range(64)))


def instant_close(conn, stop):
    """Closes as soon as it accepted."""


def huge_length(conn, stop):
    """A fixed header that claims a 256 MB packet, then a byte now and then."""
    conn.recv(4096)
    conn.sendall(b"\x20\xff\xff\xff\x7f")
    while not stop.wait(0.5):
        conn.sendall(b"\x00")


def drip(conn, stop):
    """A valid CONNACK for the CONNECT's version and PINGRESPs after it, one byte per second."""
    stream = b"\x20\x03\x00\x00\x00" if protocol_level(read_packet(conn)) == 5 else b"\x20\x02\x00\x00"
    for b in stream + b"\xd0\x00" * 100:
        if stop.wait(1.0):
            return
        conn.sendall(bytes([b]))


HOSTILE = {
    # target: what the probe's error says it observed
    "silent": (silent, "nothing within"),
    "garbage": (garbage, "no whole packet within"),
    "instant-close": (instant_close, "the connection"),
    "huge-length": (huge_length, "larger than the Maximum Packet Size"),
    "drip": (drip, "no whole packet within"),
    "refused": (None, "refused"),
}


def run(target, report_dir, *args):
    """mqttspec run --version all against `target` (None: the embedded broker); (process, seconds)."""
    cmd = [str(MQTTSPEC), "run", "--version", "all", "--report-dir", str(report_dir), *args]
    if target:
        cmd += ["--target", target]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=2 * BOUND_S)
    return proc, time.monotonic() - start


def reports(report_dir):
    """The results of results.json, once junit.xml, results.json and report.html all parsed."""
    results = json.loads((report_dir / "results.json").read_text())["results"]
    cases = list(ET.parse(report_dir / "junit.xml").getroot().iter("testcase"))
    assert len(cases) == len(results) > 0
    page = html.parser.HTMLParser()
    page.feed((report_dir / "report.html").read_text())
    page.close()
    return results


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_target_ends_fast_with_every_scenario_an_error(tmp_path, name):
    behave, observation = HOSTILE[name]
    fake = FakeTarget(behave) if behave else None
    port = fake.port if fake else free_port()  # refused: nothing listens there
    try:
        proc, seconds = run(f"127.0.0.1:{port}", tmp_path)
    finally:
        if fake:
            fake.close()
    output = proc.stdout + proc.stderr
    assert seconds < BOUND_S, output
    assert proc.returncode == 2, output
    results = reports(tmp_path)
    assert {r["verdict"] for r in results} == {"error"}, output
    assert all(r["message"].startswith("not played: the MQTT ") for r in results), output
    notes = json.loads((tmp_path / "results.json").read_text())["notes"]
    assert len(notes) == 2 and all(observation in n for n in notes), notes
    assert observation in proc.stderr


def refuses_every_version(conn, stop):
    """CONNACK 0x84 to a 5.0 CONNECT, return code 0x01 to a 3.1.1 one."""
    level = protocol_level(read_packet(conn))
    conn.sendall(b"\x20\x03\x00\x84\x00" if level == 5 else b"\x20\x02\x00\x01")


def answers_as_v311_only(conn, stop):
    """A 3.1.1 CONNACK with return code 0x01 to every CONNECT, 5.0 ones included."""
    read_packet(conn)
    conn.sendall(b"\x20\x02\x00\x01")


@pytest.mark.parametrize("behave", [refuses_every_version, answers_as_v311_only])
def test_refused_protocol_versions_are_unsupported(tmp_path, behave):
    fake = FakeTarget(behave)
    try:
        proc, seconds = run(f"127.0.0.1:{fake.port}", tmp_path)
    finally:
        fake.close()
    output = proc.stdout + proc.stderr
    assert seconds < BOUND_S, output
    assert proc.returncode == 2, output  # no version could be played: nothing was judged
    results = reports(tmp_path)
    assert {r["verdict"] for r in results} == {"unsupported"}, output
    for r in results:
        assert f"does not support MQTT {r['version']}" in r["message"], r


def v311_only_broker():
    """Just enough of a 3.1.1 broker for the probe (CONNECT, PINGREQ, SUBSCRIBE and PUBLISH to
    exact topics, DISCONNECT) that answers a 5.0 CONNECT with CONNACK 0x84."""
    subscribers, lock = {}, threading.Lock()

    def serve(conn, stop):
        level = protocol_level(read_packet(conn))
        if level != 4:
            conn.sendall(b"\x20\x03\x00\x84\x00")
            return
        conn.sendall(b"\x20\x02\x00\x00")
        try:
            while p := read_packet(conn):
                kind, body = p[0] >> 4, p[1]
                if kind == 12:  # PINGREQ
                    conn.sendall(b"\xd0\x00")
                elif kind == 8:  # SUBSCRIBE: granted QoS 1 to each filter
                    i, codes = 2, b""
                    while i < len(body):
                        n = int.from_bytes(body[i:i + 2], "big")
                        with lock:
                            subscribers.setdefault(body[i + 2:i + 2 + n], []).append(conn)
                        i, codes = i + 3 + n, codes + b"\x01"
                    conn.sendall(packet(0x90, body[:2] + codes))
                elif kind == 3:  # PUBLISH: PUBACK at QoS 1, delivery at QoS 1 with id 1
                    n = int.from_bytes(body[:2], "big")
                    topic, rest = body[2:2 + n], body[2 + n:]
                    if (p[0] >> 1) & 3:
                        conn.sendall(b"\x40\x02" + rest[:2])
                        rest = rest[2:]
                    with lock:
                        targets = list(subscribers.get(topic, []))
                    for t in targets:
                        t.sendall(packet(0x32, body[:2 + n] + b"\x00\x01" + rest))
                elif kind == 14:  # DISCONNECT
                    return
        finally:
            with lock:
                for conns in subscribers.values():
                    while conn in conns:
                        conns.remove(conn)

    return serve


def test_a_v311_broker_that_refuses_v5_plays_only_v311(tmp_path):
    fake = FakeTarget(v311_only_broker())
    try:
        proc, seconds = run(f"127.0.0.1:{fake.port}", tmp_path, "3.12", "-j", "2")
    finally:
        fake.close()
    output = proc.stdout + proc.stderr
    assert seconds < BOUND_S, output
    results = reports(tmp_path)
    v5 = [r for r in results if r["version"] == "5.0"]
    v311 = [r for r in results if r["version"] == "3.1.1"]
    assert v5 and v311, output
    assert all(r["verdict"] == "unsupported" and "does not support MQTT 5.0" in r["message"] for r in v5), output
    assert not any(r.get("message", "").startswith("not played") for r in v311), output


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_run_writes_the_reports_of_what_ran(tmp_path, sig):
    cmd = [str(MQTTSPEC), "run", "--version", "all", "-q", "--report-dir", str(tmp_path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=BOUND_S)
    assert proc.returncode == 2, out + err
    results = reports(tmp_path)
    not_run = [r for r in results if r.get("message") == "not run (interrupted)"]
    assert not_run and all(r["verdict"] == "error" for r in not_run), out + err
    played = [r for r in results if r not in not_run]
    assert any(r["verdict"] == "pass" for r in played), out + err
    assert "interrupted" in err


def test_max_run_seconds_stops_starting_scenarios(tmp_path):
    proc, seconds = run(None, tmp_path, "-q", "--max-run-seconds", "2")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert seconds < BOUND_S, output
    results = reports(tmp_path)
    not_run = [r for r in results if r.get("message") == "not run (--max-run-seconds 2 reached)"]
    assert not_run and all(r["verdict"] == "error" for r in not_run), output
    assert any(r["verdict"] == "pass" for r in results), output
