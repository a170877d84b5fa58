"""mqttspec-broker's limits (docs/broker-limits.md) end to end, and a slow consumer under load: the
broker's memory stays bounded, what is dropped is QoS 0 first and is counted, and a subscriber that
keeps up is not slowed down.

Raw MQTT 5.0 clients written here, so that the test controls exactly what is read and when.
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

    def rss_kib(self):
        for line in pathlib.Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def sanitized(self):
        return "asan" in pathlib.Path(f"/proc/{self.proc.pid}/maps").read_text()

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

    def log(self):
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def start_broker(tmp_path):
    brokers = []

    def start(*args):
        b = Broker(tmp_path, *args)
        brokers.append(b)
        return b

    yield start
    for b in brokers:
        if b.proc.poll() is None:
            assert b.stop() == 0, b.log()


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("!H", len(b)) + b


def packet(first, body):
    return bytes([first]) + varint(len(body)) + body


class Client:
    """A raw MQTT 5.0 (or 3.1.1) client."""

    def __init__(self, port, client_id, version=5, receive_maximum=None, rcvbuf=None):
        self.version = version
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(5)
        self.sock.connect(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        body = string("MQTT") + bytes([version, 0x02]) + struct.pack("!H", 0)
        if version == 5:
            props = (b"\x21" + struct.pack("!H", receive_maximum)) if receive_maximum else b""
            body += varint(len(props)) + props
        self.send(packet(0x10, body + string(client_id)))
        kind, _, ack = self.read(5)
        assert kind == 2 and ack[1] == 0, ack

    def send(self, data):
        self.sock.sendall(data)

    def read(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buffer) >= 2:
                length, shift, i = 0, 0, 1
                while i < len(self.buffer):
                    b = self.buffer[i]
                    length += (b & 0x7F) << shift
                    shift += 7
                    i += 1
                    if not b & 0x80:
                        break
                else:
                    i = None
                if i is not None and len(self.buffer) >= i + length and not self.buffer[i - 1] & 0x80:
                    first, body = self.buffer[0], self.buffer[i:i + length]
                    self.buffer = self.buffer[i + length:]
                    return first >> 4, first & 0x0F, body
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                return None
            if not chunk:
                return (None, None, b"")  # closed by the broker
            self.buffer += chunk

    def subscribe(self, topic_filter, qos, pid=1):
        v5 = b"\x00" if self.version == 5 else b""
        self.send(packet(0x82, struct.pack("!H", pid) + v5 + string(topic_filter) + bytes([qos])))
        kind, _, body = self.read(5)
        assert kind == 9, kind
        return body[-1]

    def publish(self, topic, payload, qos=0, pid=0, retain=False):
        body = string(topic) + (struct.pack("!H", pid) if qos else b"") + (b"\x00" if self.version == 5 else b"")
        self.send(packet(0x30 | (qos << 1) | (1 if retain else 0), body + payload))

    def publish_publish(self, flags, body):
        n = struct.unpack("!H", body[:2])[0]
        topic = body[2:2 + n].decode()
        rest = body[2 + n:]
        qos = (flags >> 1) & 3
        pid = 0
        if qos:
            pid = struct.unpack("!H", rest[:2])[0]
            rest = rest[2:]
        if self.version == 5:
            rest = rest[1 + rest[0]:] if rest[0] < 0x80 else rest  # property length: 0 here
        return topic, qos, pid, rest

    def close(self):
        self.sock.close()


def test_topic_subscription_and_retained_limits(start_broker):
    """Each limit refuses with the 5.0 reason code docs/broker-limits.md gives."""
    b = start_broker("--max-topic-levels", "3", "--max-topic-length", "20", "--max-subscriptions", "2",
                     "--max-retained-messages", "1")
    c = Client(b.port, "limited")
    assert c.subscribe("a/b/c/d", 1) == 0x8F  # Topic Filter invalid: 4 levels
    assert c.subscribe("x" * 21, 1, pid=2) == 0x8F
    assert c.subscribe("a/+", 1, pid=3) == 1
    assert c.subscribe("r/#", 1, pid=4) == 1
    assert c.subscribe("c", 1, pid=5) == 0x97  # Quota exceeded: a third subscription
    c.publish("a/b/c/d", b"deep", qos=1, pid=7)
    kind, _, body = c.read(5)
    assert (kind, body[2]) == (4, 0x90)  # PUBACK: Topic Name invalid
    c.publish("r/1", b"kept", qos=1, pid=8, retain=True)
    c.publish("r/2", b"not kept", qos=1, pid=9, retain=True)
    got = {}
    deadline = time.monotonic() + 5
    while len(got) < 4 and time.monotonic() < deadline:  # two PUBACKs, two deliveries
        kind, flags, body = c.read(5)
        got[(kind, struct.unpack("!H", body[:2])[0] if kind == 4 else c.publish_publish(flags, body)[0])] = True
    assert set(got) == {(4, 8), (4, 9), (3, "r/1"), (3, "r/2")}, got  # both routed
    late = Client(b.port, "late")
    late.subscribe("r/#", 0)
    kind, flags, body = late.read(2)
    assert kind == 3 and late.publish_publish(flags, body)[0] == "r/1"
    assert late.read(0.5) is None  # r/2 was not retained
    c.close()
    late.close()
    assert b.stop() == 0
    assert "4 refused by topic or subscription limits, 1 not retained" in b.log(), b.log()


def test_slow_consumer_is_bounded_and_does_not_slow_others(start_broker):
    """One subscriber never reads. The broker keeps at most its queue limit and write backlog for
    it, drops QoS 0 first and counts it, and a subscriber that reads gets every QoS 1 message in
    time while 100+ MB go the slow one's way."""
    backlog = 1 << 20
    b = start_broker("--max-write-backlog", str(backlog), "--max-queued-messages", "500",
                     "--max-queued-bytes", str(4 << 20))
    slow = Client(b.port, "slow", receive_maximum=10, rcvbuf=4096)
    assert slow.subscribe("load/#", 1) == 1  # and never reads again

    fast = Client(b.port, "fast")
    assert fast.subscribe("load/#", 1) == 1
    latencies, qos0_seen = [], [0]
    done = threading.Event()

    def read_fast():
        while not done.is_set():
            got = fast.read(0.2)
            if got is None:
                continue
            kind, flags, body = got
            if kind != 3:
                continue
            topic, qos, pid, payload = fast.publish_publish(flags, body)
            sent = struct.unpack("!d", payload[:8])[0]
            if qos == 1:
                latencies.append(time.monotonic() - sent)
                fast.send(packet(0x40, struct.pack("!H", pid)))
            else:
                qos0_seen[0] += 1

    reader = threading.Thread(target=read_fast, daemon=True)
    reader.start()
    rss_before = b.rss_kib()
    sanitized = b.sanitized()
    rss_peak = [rss_before]
    sampling = threading.Event()

    def sample():
        while not sampling.is_set():
            rss_peak[0] = max(rss_peak[0], b.rss_kib())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    pub = Client(b.port, "pub")
    # 64 MiB to each subscriber at 16 MiB/s: what a reader keeps up with, 64 times the slow one's room.
    count, size, window, rate = 8000, 8192, 64, 2000
    filler = b"x" * (size - 8)
    inflight = set()
    started = time.monotonic()
    for i in range(count):
        ahead = started + i / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        qos = i % 2
        pid = (i // 2) % 60000 + 1
        pub.publish("load/x", struct.pack("!d", time.monotonic()) + filler, qos=qos, pid=pid)
        if qos:
            inflight.add(pid)
        while len(inflight) >= window or (i == count - 1 and inflight):
            got = pub.read(10)
            assert got is not None, "the publisher was not acknowledged"
            if got[0] == 4:
                inflight.discard(struct.unpack("!H", got[2][:2])[0])
    published = time.monotonic() - started
    deadline = time.monotonic() + 20
    while len(latencies) < count // 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    done.set()
    sampling.set()
    reader.join(5)
    sampler.join(5)
    growth_mib = (rss_peak[0] - rss_before) / 1024
    sent_mib = count * size / (1 << 20)
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else None
    for c in (slow, fast, pub):
        c.close()
    assert b.stop() == 0
    log = b.log()
    m = re.search(r"stats: .* (\d+) dropped \((\d+) QoS 0 for full queues\), (\d+) QoS 0 not queued", log)
    assert m, log
    dropped, qos0_queue, qos0_backlog = (int(x) for x in m.groups())
    print(f"\nslow consumer: {count} messages of {size} B ({sent_mib:.0f} MiB to each subscriber) in {published:.1f} s; "
          f"fast subscriber got {len(latencies)} QoS 1 (p99 latency {p99:.3f} s) and {qos0_seen[0]} QoS 0; "
          f"broker dropped {dropped} ({qos0_queue} QoS 0 at the full queue, {qos0_backlog} QoS 0 at the write "
          f"backlog); RSS peak growth {growth_mib:.1f} MiB")
    assert len(latencies) == count // 2, "the subscriber that reads lost QoS 1 messages"
    assert p99 < 2.0, f"p99 latency {p99:.3f} s for the subscriber that reads"
    assert qos0_seen[0] >= 0.9 * (count // 2), "the subscriber that reads lost QoS 0 messages too"
    assert qos0_queue + qos0_backlog > 0, "nothing was dropped for the slow consumer"
    assert dropped - qos0_queue <= count // 2  # QoS 1 drops: only the slow consumer's, counted
    assert published < count / rate + 10, "the publisher was slowed down"
    if not sanitized:  # ASan keeps freed memory in quarantine: RSS says nothing there
        assert growth_mib < 64, f"RSS grew {growth_mib:.1f} MiB while {sent_mib:.0f} MiB went to the slow consumer"
