"""Kill tests of mqttspec-broker --persistence: the broker is killed with SIGKILL at random moments
while publishers and subscribers with persistent sessions exchange QoS 1 and 2 messages, and
restarted on the same file, several times. At the end every message the broker acknowledged
(PUBACK, PUBREC) has reached every persistent subscriber: QoS 2 exactly once, QoS 1 at least
once, each topic's messages in the order they were published (§4.6); and every reconnection
found its session (Session Present 1).

The clients are small raw MQTT 3.1.1 / 5.0 clients written here, so that their side of the
protocol is exactly what the spec asks of a client across reconnections: unacknowledged PUBLISHes
resent with DUP and their identifiers, PUBREL resent, and a QoS 2 receiver that keeps the
identifiers it answered with PUBREC until the PUBREL (so a resent PUBLISH is not a new message).

MQTTSPEC_KILL_SEED=N replays one run's kill moments; the counts are printed (pytest -s).
"""

import os
import pathlib
import random
import re
import selectors
import signal
import socket
import struct
import subprocess
import threading
import time
from collections import OrderedDict

import pytest

BUILD = pathlib.Path(os.environ.get("MQTTSPEC_BUILD", "/work/main/build/test"))
BROKER = BUILD / "reference" / "broker" / "app" / "mqttspec-broker"
START_TIMEOUT = 15.0


# --- the broker process -----------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BrokerProcess:
    """mqttspec-broker on a fixed port with a persistence file, killed and restarted at will."""

    def __init__(self, tmp_path, db, args):
        if not BROKER.exists():
            pytest.fail(f"broker not built: {BROKER} (set MQTTSPEC_BUILD to the build directory)")
        self.tmp_path = tmp_path
        self.db = db
        self.args = args
        self.port = free_port()
        self.proc = None
        self.starts = 0
        self.restored = []  # the startup log line of each start

    def start(self):
        log = self.tmp_path / f"broker{self.starts}.log"
        self.log_path = log
        with open(log, "wb") as err:
            self.proc = subprocess.Popen(
                [str(BROKER), "--port", str(self.port), "--persistence", str(self.db), *self.args],
                stdout=subprocess.PIPE, stderr=err)
        self.starts += 1
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + START_TIMEOUT
        out = b""
        while b"\n" not in out:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                break
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                break
            out += chunk
        sel.close()
        if b"listening on" not in out:
            self.proc.kill()
            self.proc.wait(5)
            pytest.fail(f"broker did not start: {out!r}\n{log.read_text(errors='replace')}")
        text = log.read_text(errors="replace")
        m = re.search(r"persistence: .*", text)
        self.restored.append(m.group(0) if m else "")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)
        self.proc.stdout.close()

    def stop(self):
        """SIGTERM; returns the exit status."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            rc = None
        self.proc.stdout.close()
        return rc


# --- a raw MQTT client --------------------------------------------------------------------------


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


class Closed(Exception):
    pass


class Wire:
    """One connection: whole packets out, whole packets in (with a timeout)."""

    def __init__(self, port, version):
        self.version = version
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=1.0)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise Closed(str(e))

    def read(self, timeout):
        """(type, flags, body) or None when nothing complete arrived within `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            parsed = self._parse()
            if parsed:
                return parsed
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError as e:
                raise Closed(str(e))
            if not chunk:
                raise Closed("closed by the broker")
            self.buffer += chunk

    def _parse(self):
        if len(self.buffer) < 2:
            return None
        length, shift, i = 0, 0, 1
        while True:
            if i >= len(self.buffer):
                return None
            b = self.buffer[i]
            length += (b & 0x7F) << shift
            shift += 7
            i += 1
            if not b & 0x80:
                break
        if len(self.buffer) < i + length:
            return None
        first = self.buffer[0]
        body = self.buffer[i:i + length]
        self.buffer = self.buffer[i + length:]
        return first >> 4, first & 0x0F, body

    def connect(self, client_id, clean, expiry=3600):
        v5 = self.version == 5
        flags = 0x02 if clean else 0
        body = string("MQTT") + bytes([self.version, flags]) + struct.pack("!H", 0)
        if v5:
            props = b"\x11" + struct.pack("!I", expiry)
            body += varint(len(props)) + props
        body += string(client_id)
        self.send(packet(0x10, body))
        got = self.read(3.0)
        if got is None or got[0] != 2:
            raise Closed(f"no CONNACK: {got!r}")
        session_present, code = got[2][0] & 1, got[2][1]
        if code != 0:
            raise Closed(f"CONNACK refused: {code:#x}")
        return session_present

    def subscribe(self, pid, topic_filter, qos):
        body = struct.pack("!H", pid) + (b"\x00" if self.version == 5 else b"") + string(topic_filter) + bytes([qos])
        self.send(packet(0x82, body))

    def publish(self, topic, payload, qos, pid, dup=False, retain=False, props=b""):
        body = string(topic) + (struct.pack("!H", pid) if qos else b"")
        if self.version == 5:
            body += varint(len(props)) + props
        self.send(packet(0x30 | (0x08 if dup else 0) | (qos << 1) | (1 if retain else 0), body + payload))

    def ack(self, kind, pid):  # kind: 4 PUBACK, 5 PUBREC, 6 PUBREL, 7 PUBCOMP
        self.send(packet((kind << 4) | (0x02 if kind == 6 else 0), struct.pack("!H", pid)))

    def parse_publish(self, flags, body):
        qos = (flags >> 1) & 3
        n = struct.unpack("!H", body[:2])[0]
        topic = body[2:2 + n].decode()
        rest = body[2 + n:]
        pid = 0
        if qos:
            pid = struct.unpack("!H", rest[:2])[0]
            rest = rest[2:]
        if self.version == 5:
            plen, shift, i = 0, 0, 0
            while True:
                b = rest[i]
                plen += (b & 0x7F) << shift
                shift += 7
                i += 1
                if not b & 0x80:
                    break
            self.last_props = rest[i:i + plen]
            rest = rest[i + plen:]
        return topic, qos, pid, bool(flags & 0x08), rest


class Client(threading.Thread):
    """A client with a persistent session that reconnects whenever the broker goes away."""

    def __init__(self, name, version, broker, stop):
        super().__init__(name=name, daemon=True)
        self.client_id = name
        self.version = version
        self.broker = broker
        self.stop = stop
        self.connections = 0
        self.errors = []  # protocol-level findings (a lost session, a refused ack)
        self.crash = None

    def run(self):
        try:
            while not self.stop.is_set() and not self.finished():
                try:
                    wire = Wire(self.broker.port, self.version)
                except OSError:
                    time.sleep(0.02)  # the broker is down: try again
                    continue
                try:
                    present = wire.connect(self.client_id, clean=False)
                    if self.connections and not present:
                        self.errors.append(f"{self.client_id}: session lost (Session Present 0 on reconnection "
                                           f"{self.connections})")
                    self.connections += 1
                    self.session(wire)
                except Closed:
                    pass
                finally:
                    wire.close()
        except Exception as e:  # reported by the test, not lost in a thread
            self.crash = repr(e)

    def finished(self):
        return False


class Publisher(Client):
    def __init__(self, name, version, broker, stop, topic, qos, count, window, pace):
        super().__init__(name, version, broker, stop)
        self.topic, self.qos, self.count, self.window, self.pace = topic, qos, count, window, pace
        self.next = 0
        self.inflight = OrderedDict()  # pid -> [index, "publish" | "pubrel"], in the order first sent
        self.acknowledged = set()  # indexes the broker acknowledged (PUBACK / PUBREC)
        self.last_pid = 0
        self.resent = 0
        self.pubcomp_not_found = 0

    def finished(self):
        return self.next == self.count and not self.inflight

    def payload(self, i):
        return f"{self.client_id}:{i}".encode()

    def new_pid(self):
        while True:
            self.last_pid = self.last_pid % 65535 + 1
            if self.last_pid not in self.inflight:
                return self.last_pid

    def session(self, wire):
        # Resend what the broker has not acknowledged, in the original order (§4.4).
        for pid, (i, stage) in self.inflight.items():
            self.resent += 1
            if stage == "publish":
                wire.publish(self.topic, self.payload(i), self.qos, pid, dup=True)
            else:
                wire.ack(6, pid)
        last_new = 0.0
        while not self.stop.is_set():
            if len(self.inflight) < self.window and self.next < self.count and time.monotonic() - last_new >= self.pace:
                pid = self.new_pid()
                self.inflight[pid] = [self.next, "publish"]
                wire.publish(self.topic, self.payload(self.next), self.qos, pid)
                self.next += 1
                last_new = time.monotonic()
            if self.finished():
                wire.send(packet(0xE0, b""))  # DISCONNECT: done; the session stays
                return
            got = wire.read(0.005 if self.next < self.count else 0.1)
            if got is None:
                continue
            kind, _, body = got
            if kind in (4, 5, 7):
                pid = struct.unpack("!H", body[:2])[0]
                code = body[2] if self.version == 5 and len(body) > 2 else 0
                if kind == 7 and code == 0x92:
                    # A PUBREL resent after a restart whose PUBCOMP was lost: the broker had finished
                    # the flow (5.0 §4.3.3: PUBCOMP 0x92, Packet Identifier not found).
                    self.pubcomp_not_found += 1
                elif code >= 0x80:
                    self.errors.append(f"{self.client_id}: ack {kind} for {pid} with reason {code:#x}")
                entry = self.inflight.get(pid)
                if entry is None:
                    continue
                if kind == 4 and entry[1] == "publish":
                    self.acknowledged.add(entry[0])
                    del self.inflight[pid]
                elif kind == 5 and entry[1] == "publish":
                    self.acknowledged.add(entry[0])
                    entry[1] = "pubrel"
                    wire.ack(6, pid)
                elif kind == 7 and entry[1] == "pubrel":
                    del self.inflight[pid]


class Subscriber(Client):
    def __init__(self, name, version, broker, stop, topic_filter, qos):
        super().__init__(name, version, broker, stop)
        self.filter, self.qos = topic_filter, qos
        self.subscribed = False
        self.received = []  # (topic, payload, qos, dup) of each application delivery
        self.awaiting_pubrel = set()  # QoS 2 identifiers answered with PUBREC, PUBREL not yet in
        self.lock = threading.Lock()

    def session(self, wire):
        if not self.subscribed:
            wire.subscribe(1, self.filter, self.qos)
        while not self.stop.is_set():
            got = wire.read(0.1)
            if got is None:
                continue
            kind, flags, body = got
            if kind == 9:  # SUBACK
                granted = body[-1]
                if granted != self.qos:
                    self.errors.append(f"{self.client_id}: granted {granted:#x}")
                self.subscribed = True
            elif kind == 3:
                topic, qos, pid, dup, payload = wire.parse_publish(flags, body)
                if qos == 2:
                    # A PUBLISH whose identifier awaits its PUBREL is the same message again.
                    if pid not in self.awaiting_pubrel:
                        self.awaiting_pubrel.add(pid)
                        self.deliver(topic, payload, qos, dup)
                    wire.ack(5, pid)
                else:
                    self.deliver(topic, payload, qos, dup)
                    if qos == 1:
                        wire.ack(4, pid)
            elif kind == 6:  # PUBREL
                pid = struct.unpack("!H", body[:2])[0]
                self.awaiting_pubrel.discard(pid)
                wire.ack(7, pid)
        wire.send(packet(0xE0, b""))

    def deliver(self, topic, payload, qos, dup):
        with self.lock:
            self.received.append((topic, payload.decode(), qos, dup))


# --- the test -----------------------------------------------------------------------------------


def analyse(subscribers, publishers):
    """Per subscriber and topic: missing messages, duplicates, order. Returns (problems, counts)."""
    problems = []
    deliveries = duplicates = qos2_deliveries = 0
    for s in subscribers:
        with s.lock:
            received = list(s.received)
        deliveries += len(received)
        for p in publishers:
            indexes = [int(payload.split(":")[1]) for topic, payload, _, _ in received if topic == p.topic]
            want = set(p.acknowledged)
            got = set(indexes)
            missing = sorted(want - got)
            if missing:
                problems.append(f"{s.client_id} never got {len(missing)} acknowledged messages of {p.topic}: "
                                f"{missing[:10]}")
            extra = sorted(got - set(range(p.count)))
            if extra:
                problems.append(f"{s.client_id} got messages of {p.topic} never published: {extra[:10]}")
            dup = len(indexes) - len(got)
            duplicates += dup
            exactly_once = min(p.qos, s.qos) == 2
            if exactly_once:
                qos2_deliveries += len(indexes)
                if dup:
                    problems.append(f"{s.client_id} got {dup} duplicates of QoS 2 messages of {p.topic}")
            # §4.6: each new message of a topic comes after every earlier one (resends may repeat one).
            seen, firsts = set(), []
            for i in indexes:
                if i not in seen:
                    seen.add(i)
                    firsts.append(i)
            if firsts != sorted(firsts):
                wrong = next(k for k in range(1, len(firsts)) if firsts[k] < firsts[k - 1])
                problems.append(f"{s.client_id}: {p.topic} message {firsts[wrong]} arrived after {firsts[wrong - 1]}")
    return problems, {"deliveries": deliveries, "duplicates": duplicates, "qos2_deliveries": qos2_deliveries}


@pytest.mark.parametrize("sync", ["always", "batch"])
def test_kill_and_restart_loses_no_acknowledged_message(tmp_path, sync):
    seed = int(os.environ.get("MQTTSPEC_KILL_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    kills_wanted = 5
    broker = BrokerProcess(tmp_path, tmp_path / "broker.db", ["--sync", sync])
    broker.start()
    stop_subscribers, stop_publishers = threading.Event(), threading.Event()
    # Subscribers first, all subscribed before anything is published.
    subscribers = [
        Subscriber("sub-v5-q2", 5, broker, stop_subscribers, "k/#", 2),
        Subscriber("sub-v311-q2", 4, broker, stop_subscribers, "k/#", 2),
        Subscriber("sub-v5-q1", 5, broker, stop_subscribers, "k/#", 1),
    ]
    for s in subscribers:
        s.start()
    deadline = time.monotonic() + 10
    while not all(s.subscribed for s in subscribers):
        assert time.monotonic() < deadline, "subscribers did not subscribe"
        time.sleep(0.01)
    count, window, pace = 120, 8, 0.02
    publishers = [
        Publisher("pub-v5-q1", 5, broker, stop_publishers, "k/a", 1, count, window, pace),
        Publisher("pub-v311-q2", 4, broker, stop_publishers, "k/b", 2, count, window, pace),
        Publisher("pub-v5-q2", 5, broker, stop_publishers, "k/c", 2, count, window, pace),
        Publisher("pub-v311-q1", 4, broker, stop_publishers, "k/d", 1, count, window, pace),
    ]
    started = time.monotonic()
    for p in publishers:
        p.start()

    # Kill at random moments while the publishers are still publishing.
    kills = 0
    acknowledged_at_kills = []
    while kills < kills_wanted:
        time.sleep(rng.uniform(0.15, 0.6))
        if all(p.finished() for p in publishers):
            break
        broker.kill()
        kills += 1
        acknowledged_at_kills.append(sum(len(p.acknowledged) for p in publishers))
        time.sleep(rng.uniform(0.0, 0.2))  # down for a moment: clients fail to connect
        broker.start()

    # Every publisher completes, then every subscriber gets everything.
    deadline = time.monotonic() + 40
    while not all(p.finished() for p in publishers) and time.monotonic() < deadline:
        time.sleep(0.05)
    total = sum(p.count for p in publishers)
    while time.monotonic() < deadline:
        problems, _ = analyse(subscribers, publishers)
        if not problems and all(p.finished() for p in publishers):
            break
        time.sleep(0.1)
    time.sleep(0.3)  # let late resends arrive: duplicates must show up in the counts
    stop_publishers.set()
    stop_subscribers.set()
    for c in publishers + subscribers:
        c.join(5)
    rc = broker.stop()
    elapsed = time.monotonic() - started

    problems, counts = analyse(subscribers, publishers)
    for c in publishers + subscribers:
        problems += c.errors
        if c.crash:
            problems.append(f"{c.client_id} crashed: {c.crash}")
    acknowledged = sum(len(p.acknowledged) for p in publishers)
    summary = (f"sync={sync} seed={seed}: {kills} kills (acknowledged at each: {acknowledged_at_kills}), "
               f"{total} messages published ({acknowledged} acknowledged, "
               f"{sum(p.resent for p in publishers)} PUBLISH/PUBREL resent after reconnections, "
               f"{sum(p.pubcomp_not_found for p in publishers)} PUBCOMP 0x92), "
               f"{len(subscribers)} persistent subscribers, {counts['deliveries']} deliveries "
               f"(expected {total * len(subscribers)} at least), {counts['qos2_deliveries']} at QoS 2, "
               f"{counts['duplicates']} duplicates (QoS 1 only), reconnections: "
               f"{', '.join(f'{c.client_id}={c.connections - 1}' for c in subscribers + publishers)}; "
               f"{elapsed:.1f} s")
    print("\n" + summary)
    for line in broker.restored[1:]:
        print("  restart: " + line)
    assert kills >= 3, f"only {kills} kills happened before the publishers finished: {summary}"
    assert acknowledged == total, summary
    assert not problems, summary + "\n" + "\n".join(problems[:20])
    assert rc == 0, f"exit status {rc} after SIGTERM:\n{broker.log_path.read_text(errors='replace')}"
    assert counts["deliveries"] >= total * len(subscribers)


def run_broker_expecting_failure(db):
    done = subprocess.run([str(BROKER), "--port", "0", "--persistence", str(db)], capture_output=True, text=True,
                          timeout=30)
    return done.returncode, done.stdout, done.stderr


def test_a_damaged_file_is_a_clear_error(tmp_path):
    """A file that is not a database, or a truncated one, stops the broker at startup with exit
    status 2 and a message naming the file, before it listens."""
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(bytes(random.Random(1).randrange(256) for _ in range(8192)))
    rc, out, err = run_broker_expecting_failure(garbage)
    assert rc == 2 and "listening" not in out, (rc, out, err)
    assert str(garbage) in err and "not a usable persistence file" in err, err

    # A real file, closed cleanly (everything in the main file), then cut in half.
    db = tmp_path / "broker.db"
    broker = BrokerProcess(tmp_path, db, [])
    broker.start()
    wire = Wire(broker.port, 5)
    wire.connect("filler", clean=True)
    for i in range(300):
        wire.publish(f"fill/{i}", b"x" * 1000, 1, i + 1, retain=True)
        got = wire.read(5)
        assert got and got[0] == 4, got
    wire.close()
    assert broker.stop() == 0
    assert not pathlib.Path(str(db) + "-wal").exists()
    size = db.stat().st_size
    assert size > 300_000
    with open(db, "r+b") as f:
        f.truncate(size // 2)
    rc, out, err = run_broker_expecting_failure(db)
    assert rc == 2 and "listening" not in out, (rc, out, err)
    assert str(db) in err and ("damaged" in err or "malformed" in err), err


def test_expiry_counts_the_time_the_broker_was_down(tmp_path):
    """Session Expiry and Message Expiry are absolute times in the file: a broker killed and
    restarted 3 s later has ended a 2 s session and shortened a message's remaining lifetime."""
    broker = BrokerProcess(tmp_path, tmp_path / "broker.db", [])
    broker.start()
    for client_id, expiry in (("short", 2), ("long", 600)):
        w = Wire(broker.port, 5)
        w.connect(client_id, clean=True, expiry=expiry)
        w.subscribe(1, "e/#", 1)
        got = w.read(5)
        assert got and got[0] == 9, got
        w.send(packet(0xE0, b""))
        w.close()
    pub = Wire(broker.port, 5)
    pub.connect("pub", clean=True, expiry=0)
    pub.publish("e/1", b"lives 60 s", 1, 1, props=b"\x02" + struct.pack("!I", 60))
    got = pub.read(5)
    assert got and got[0] == 4, got
    pub.close()
    broker.kill()
    time.sleep(3.2)
    broker.start()
    assert "expired while down: 1 sessions" in broker.restored[-1], broker.restored[-1]
    short = Wire(broker.port, 5)
    assert short.connect("short", clean=False, expiry=2) == 0  # its 2 s ran out while the broker was down
    short.close()
    long = Wire(broker.port, 5)
    assert long.connect("long", clean=False, expiry=600) == 1
    got = long.read(5)
    assert got and got[0] == 3, got
    topic, qos, pid, dup, payload = long.parse_publish(got[1], got[2])
    assert (topic, payload) == ("e/1", b"lives 60 s")
    assert long.last_props[:1] == b"\x02"
    remaining = struct.unpack("!I", long.last_props[1:5])[0]
    assert 50 <= remaining <= 57, remaining  # 60 less at least the 3 s the broker was down
    long.ack(4, pid)
    long.close()
    assert broker.stop() == 0
