"""mqttspec-broker under faults: storms of connections opening and closing, half-open
connections, clients vanishing mid-packet, and floods from one client while another measures its
own latency. The broker stays up, its file descriptors return to their baseline (and its memory
close to it), and the other clients are not disturbed.
"""

import os
import pathlib
import re
import selectors
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

BUILD = pathlib.Path(os.environ.get("MQTTSPEC_BUILD", "/work/main/build/test"))
BROKER = BUILD / "reference" / "broker" / "app" / "mqttspec-broker"


class Broker:
    def __init__(self, tmp_path, *args):
        if not BROKER.exists():
            pytest.fail(f"broker not built: {BROKER} (set MQTTSPEC_BUILD to the build directory)")
        self.log_path = tmp_path / "broker.log"
        with open(self.log_path, "wb") as err:
            self.proc = subprocess.Popen([str(BROKER), "--port", "0", *args], stdout=subprocess.PIPE, stderr=err)
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        out = b""
        deadline = time.monotonic() + 15
        while b"\n" not in out and time.monotonic() < deadline:
            if sel.select(max(0.0, deadline - time.monotonic())):
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                out += chunk
        sel.close()
        m = re.search(rb"listening on [0-9.]+:(\d+)", out)
        if not m:
            self.proc.kill()
            pytest.fail(f"broker did not start: {out!r}")
        self.port = int(m.group(1))

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def rss_kib(self):
        for line in pathlib.Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def sanitized(self):
        return "asan" in pathlib.Path(f"/proc/{self.proc.pid}/maps").read_text()

    def alive(self):
        return self.proc.poll() is None

    def wait_fds(self, baseline, timeout=10):
        deadline = time.monotonic() + timeout
        while self.fds() > baseline and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.fds()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            rc = None
        self.proc.stdout.close()
        return rc


@pytest.fixture
def start_broker(tmp_path):
    brokers = []

    def start(*args):
        b = Broker(tmp_path, *args)
        brokers.append(b)
        return b

    yield start
    for b in brokers:
        if b.alive():
            assert b.stop() == 0, b.log_path.read_text(errors="replace")


def connect_packet(client_id, version=4):
    cid = client_id.encode()
    body = b"\x00\x04MQTT" + bytes([version, 0x02]) + b"\x00\x00"
    if version == 5:
        body += b"\x00"
    body += struct.pack("!H", len(cid)) + cid
    return bytes([0x10, len(body)]) + body


def read_exactly(sock, n, timeout=5):
    sock.settimeout(timeout)
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


class Probe:
    """A well-behaved 3.1.1 client that measures round trips of QoS 1 messages to itself."""

    def __init__(self, port, client_id="probe"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(connect_packet(client_id))
        assert read_exactly(self.sock, 4)[:2] == b"\x20\x02"
        topic = f"probe/{client_id}".encode()
        self.topic = topic
        self.sock.sendall(bytes([0x82, 5 + len(topic)]) + b"\x00\x01" + struct.pack("!H", len(topic)) + topic + b"\x01")
        assert read_exactly(self.sock, 5)[0] == 0x90
        self.pid = 0

    def round_trip(self):
        """Publishes at QoS 1 to its own subscription; seconds until both PUBACK and the delivery came."""
        self.pid = self.pid % 60000 + 1
        body = struct.pack("!H", len(self.topic)) + self.topic + struct.pack("!H", self.pid) + b"ping"
        start = time.monotonic()
        self.sock.sendall(bytes([0x32, len(body)]) + body)
        got_ack = got_msg = False
        buffer = b""
        while not (got_ack and got_msg):
            self.sock.settimeout(5)
            chunk = self.sock.recv(4096)
            assert chunk, "the probe was disconnected"
            buffer += chunk
            while len(buffer) >= 2 and len(buffer) >= 2 + buffer[1]:
                first, length = buffer[0], buffer[1]
                packet, buffer = buffer[:2 + length], buffer[2 + length:]
                if first == 0x40:
                    got_ack = True
                elif first >> 4 == 3:
                    got_msg = True
                    pid = packet[2 + 2 + len(self.topic):][:2]
                    self.sock.sendall(b"\x40\x02" + pid)
        return time.monotonic() - start

    def close(self):
        self.sock.close()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def test_connection_storms_return_to_baseline(start_broker):
    """10,000 connections in storms of 500 at once, each CONNECTed and then closed (half of them
    with DISCONNECT, half abruptly): the broker answers every one, then its file descriptors return
    to the baseline and its memory close to it."""
    b = start_broker()
    probe = Probe(b.port)
    probe.round_trip()
    fds_before, rss_before = b.fds(), b.rss_kib()
    sanitized = b.sanitized()
    total, storm = 10_000, 500
    answered = 0
    started = time.monotonic()
    for round_ in range(total // storm):
        socks = []
        for i in range(storm):
            s = socket.create_connection(("127.0.0.1", b.port), timeout=10)
            s.sendall(connect_packet(f"storm-{round_}-{i}"))
            socks.append(s)
        for i, s in enumerate(socks):
            if read_exactly(s, 4, timeout=10)[:2] == b"\x20\x02":
                answered += 1
            if i % 2:
                s.sendall(b"\xe0\x00")
            else:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
            s.close()
    elapsed = time.monotonic() - started
    fds_after = b.wait_fds(fds_before)
    latency = probe.round_trip()
    rss_growth = (b.rss_kib() - rss_before) / 1024
    print(f"\nstorms: {total} connections in {elapsed:.1f} s, {answered} CONNACKs; fds {fds_before} -> {fds_after}; "
          f"RSS {rss_growth:+.1f} MiB; probe round trip after: {latency * 1000:.1f} ms")
    assert answered == total
    assert fds_after == fds_before
    if not sanitized:
        assert rss_growth < 32, f"RSS grew {rss_growth:.1f} MiB"
    probe.close()


def test_half_open_and_vanishing_clients(start_broker):
    """Connections that never send anything are closed after --connect-timeout-ms; clients that
    vanish mid-packet (half a CONNECT, half a PUBLISH, a huge length claimed) cost nothing once
    gone; the broker serves a well-behaved client all along."""
    b = start_broker("--connect-timeout-ms", "300")
    probe = Probe(b.port)
    fds_before = b.fds()
    silent = [socket.create_connection(("127.0.0.1", b.port), timeout=5) for _ in range(300)]
    partial = [
        connect_packet("half")[:7],                                   # half a CONNECT
        connect_packet("cut") + b"\x30\x0a\x00\x03a/b",               # a PUBLISH cut short
        connect_packet("huge") + b"\x30\xff\xff\xff\x7f" + b"x" * 64,  # 256 MB claimed, 64 bytes sent
        b"\x10\xff\xff\xff\x7f\x00",                                  # a CONNECT claiming 256 MB
    ]
    for i in range(400):
        s = socket.create_connection(("127.0.0.1", b.port), timeout=5)
        s.sendall(partial[i % len(partial)])
        if i % 2:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    latencies = [probe.round_trip() for _ in range(20)]
    # The silent ones are closed by the broker (EOF), not by us.
    closed_by_broker = 0
    for s in silent:
        try:
            s.settimeout(5)
            if s.recv(1) == b"":
                closed_by_broker += 1
        except OSError:
            closed_by_broker += 1
        s.close()
    fds_after = b.wait_fds(fds_before)
    print(f"\nhalf-open: {closed_by_broker}/300 closed by the broker; fds {fds_before} -> {fds_after}; "
          f"probe p95 {percentile(latencies, 0.95) * 1000:.1f} ms")
    assert closed_by_broker == 300
    assert fds_after == fds_before
    assert b.alive()
    probe.round_trip()
    probe.close()


def test_a_flooding_client_does_not_disturb_the_others(start_broker):
    """While one client floods QoS 0 PUBLISHes, others send garbage over and over, and one drips
    a 256 MB claim a byte at a time, a well-behaved client's round trips stay fast."""
    b = start_broker()
    probe = Probe(b.port)
    quiet = [probe.round_trip() for _ in range(50)]
    stop = threading.Event()
    counts = {"flood": 0, "garbage": 0}

    def flood():
        s = socket.create_connection(("127.0.0.1", b.port), timeout=5)
        s.sendall(connect_packet("flooder"))
        read_exactly(s, 4)
        body = b"\x00\x07flood/x" + b"f" * 1000
        one = bytes([0x30]) + bytes([(len(body) & 0x7F) | 0x80, len(body) >> 7]) + body
        burst = one * 64
        s.settimeout(0.5)
        while not stop.is_set():
            try:
                s.sendall(burst)
                counts["flood"] += 64
            except OSError:
                break
        s.close()

    def garbage():
        while not stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", b.port), timeout=5)
                s.sendall(b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x00\x00\x00" + os.urandom(200))
                s.settimeout(0.2)
                while s.recv(4096):
                    pass
                counts["garbage"] += 1
            except OSError:
                pass
            finally:
                s.close()

    def drip():
        s = socket.create_connection(("127.0.0.1", b.port), timeout=5)
        s.sendall(connect_packet("dripper") + b"\x30\xff\xff\xff\x7f")
        try:
            while not stop.is_set():
                s.sendall(b"x")
                time.sleep(0.01)
        except OSError:
            pass
        s.close()

    attackers = [threading.Thread(target=f, daemon=True) for f in (flood, garbage, drip)]
    for t in attackers:
        t.start()
    time.sleep(0.3)
    loud = []
    until = time.monotonic() + 2.0  # two seconds of round trips under attack
    while time.monotonic() < until:
        loud.append(probe.round_trip())
    stop.set()
    for t in attackers:
        t.join(5)
    print(f"\nflood: {counts['flood']} QoS 0 PUBLISHes of 1 KB and {counts['garbage']} garbage connections during "
          f"{len(loud)} probe round trips; probe p99 {percentile(quiet, 0.99) * 1000:.1f} ms quiet, "
          f"{percentile(loud, 0.99) * 1000:.1f} ms under attack")
    assert b.alive()
    assert counts["flood"] > 0 and counts["garbage"] > 0
    assert percentile(loud, 0.99) < 0.5, "the flood slowed a well-behaved client down"
    probe.close()
