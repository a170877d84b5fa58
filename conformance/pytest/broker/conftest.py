"""Fixtures for testing mqttspec-broker with real MQTT clients (mosquitto_pub/_sub, paho-mqtt).

The broker under test is $MQTTSPEC_BUILD/reference/broker/app/mqttspec-broker (MQTTSPEC_BUILD
defaults to /work/main/build/test). Each test gets a broker of its own on a free port, and every
broker must exit cleanly (status 0) within a few seconds of SIGTERM.

Helpers are handed out by fixtures rather than imported, so this directory works whatever import
mode or parent conftest pytest runs with. Every wait has a deadline.
"""

import hashlib
import os
import pathlib
import re
import selectors
import signal
import subprocess
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

BUILD = pathlib.Path(os.environ.get("MQTTSPEC_BUILD", "/work/main/build/test"))
BROKER = BUILD / "reference" / "broker" / "app" / "mqttspec-broker"

START_TIMEOUT = 15.0  # an ASan build starts slowly on a busy machine
STOP_TIMEOUT = 5.0
WAIT = 5.0  # how long to wait for anything that must happen


class LineReader:
    """Reads lines from a pipe with a deadline, without ever blocking past it."""

    def __init__(self, pipe):
        self.fd = pipe.fileno()
        self.buffer = b""
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.fd, selectors.EVENT_READ)
        self.eof = False

    def readline(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            if self.eof:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if self.selector.select(left):
                chunk = os.read(self.fd, 4096)
                if not chunk:
                    self.eof = True
                self.buffer += chunk
        if not self.buffer:
            return None
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode(errors="replace")


class Broker:
    """One mqttspec-broker process on a free loopback port."""

    def __init__(self, args, log_path):
        if not BROKER.exists():
            pytest.fail(f"broker not built: {BROKER} (set MQTTSPEC_BUILD to the build directory)")
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [str(BROKER), "--port", "0", *args], stdout=subprocess.PIPE, stderr=self.log
        )
        line = LineReader(self.proc.stdout).readline(START_TIMEOUT)
        match = re.search(r"listening on ([0-9.]+):(\d+)", line or "")
        if not match:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)
            pytest.fail(f"broker did not report its port; stdout: {line!r}; log:\n{self.log_text()}")
        self.host = match.group(1)
        self.port = int(match.group(2))
        self.returncode = None

    def log_text(self):
        self.log.flush()
        return pathlib.Path(self.log_path).read_text(errors="replace")

    def stop(self):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        if self.returncode is not None or self.proc.poll() is not None:
            self.returncode = self.proc.returncode if self.returncode is None else self.returncode
            return self.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)
            self.returncode = None
        self.proc.stdout.close()
        self.log.close()
        return self.returncode


@pytest.fixture
def start_broker(tmp_path):
    """Factory: start_broker(*flags) -> Broker. Each one is stopped with SIGTERM afterwards and
    must exit with status 0 within STOP_TIMEOUT seconds."""
    brokers = []

    def start(*args):
        b = Broker(list(args), tmp_path / f"broker{len(brokers)}.log")
        brokers.append(b)
        return b

    yield start
    for b in brokers:
        rc = b.stop()
        assert rc == 0, f"broker exit status {rc} after SIGTERM; log:\n{b.log_text()}"


@pytest.fixture
def broker(start_broker):
    return start_broker()


@pytest.fixture(scope="session")
def hash_password():
    """hash_password(user, password) -> a password file line from `mqttspec-broker --hash-password`
    (memoised: deriving 100,000 PBKDF2 rounds is slow in a sanitizer build)."""
    lines = {}

    def make(user, password):
        if (user, password) not in lines:
            done = subprocess.run([str(BROKER), "--hash-password", user], input=password + "\n",
                                  capture_output=True, text=True, timeout=30)
            assert done.returncode == 0, done.stderr
            lines[(user, password)] = done.stdout.strip()
        return lines[(user, password)]

    return make


@pytest.fixture
def password_file(tmp_path, hash_password):
    """A password file with alice ("s3cret pass", made by --hash-password) and bob ("bob's", made
    here from the documented format user:pbkdf2-sha256:iterations:salt hex:hash hex, with few
    rounds). Returns (path, users) with users = {name: password}."""
    salt = bytes(range(16))
    bob = hashlib.pbkdf2_hmac("sha256", "bob's".encode(), salt, 1000).hex()
    path = tmp_path / "passwords"
    path.write_text(
        "# comment lines are allowed\n"
        + hash_password("alice", "s3cret pass") + "\n"
        + f"bob:pbkdf2-sha256:1000:{salt.hex()}:{bob}\n"
    )
    return path, {"alice": "s3cret pass", "bob": "bob's"}


# --- mosquitto clients -----------------------------------------------------------------------

MOSQUITTO_VERSION = {3: "mqttv311", 5: "mqttv5"}
MESSAGE_FORMAT = "MSG|%t|%q|%r|%P|%p"  # topic, QoS, retain, user properties, payload


def parse_messages(output):
    """(topic, qos, retain, user_properties, payload) per message line of MESSAGE_FORMAT."""
    out = []
    for line in output.splitlines():
        if line.startswith("MSG|"):
            _, topic, qos, retain, props, payload = line.split("|", 5)
            out.append((topic, int(qos), int(retain), props, payload))
    return out


class MosquittoSub:
    """mosquitto_sub in the background; returns once its SUBACK has arrived."""

    def __init__(self, broker, version, topic, qos=2, count=1, extra=()):
        # stdbuf: line-buffered stdout, so that the debug line of the SUBACK arrives when it happens.
        self.args = [
            "stdbuf", "-oL", "mosquitto_sub", "-d", "-h", broker.host, "-p", str(broker.port),
            "-V", MOSQUITTO_VERSION[version], "-t", topic, "-q", str(qos),
            "-C", str(count), "-W", "10", "-F", MESSAGE_FORMAT, *extra,
        ]
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.reader = LineReader(self.proc.stdout)
        self.lines = []
        deadline = time.monotonic() + WAIT
        while True:
            line = self.reader.readline(max(0.0, deadline - time.monotonic()))
            if line is None:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
                pytest.fail(f"no SUBACK for {' '.join(self.args)}; output:\n" + "\n".join(self.lines))
            self.lines.append(line)
            if "received SUBACK" in line:
                break

    def messages(self, timeout=15.0):
        """Waits for the client to exit (after its message count) and returns what it printed."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.reader.readline(max(0.0, deadline - time.monotonic()))
            if line is None:
                break
            self.lines.append(line)
        try:
            rc = self.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)
            pytest.fail(f"mosquitto_sub did not finish; output:\n" + "\n".join(self.lines))
        output = "\n".join(self.lines)
        assert rc == 0, f"mosquitto_sub exit status {rc}; output:\n{output}"
        return parse_messages(output)

    def kill(self):
        """SIGKILL: the client's TCP connection ends without DISCONNECT."""
        self.proc.kill()
        self.proc.wait(STOP_TIMEOUT)


def mosquitto_pub(broker, version, topic, message=None, qos=0, extra=(), check=True):
    args = [
        "mosquitto_pub", "-h", broker.host, "-p", str(broker.port), "-V", MOSQUITTO_VERSION[version],
        "-t", topic, "-q", str(qos), *extra,
    ]
    args += ["-n"] if message is None else ["-m", message]
    done = subprocess.run(args, capture_output=True, text=True, timeout=15)
    if check:
        assert done.returncode == 0, f"{' '.join(args)} failed ({done.returncode}): {done.stderr}"
    return done


@pytest.fixture
def mosquitto():
    """mosquitto.sub(broker, version, topic, ...) and mosquitto.pub(broker, version, topic, ...)."""

    class Tools:
        sub = MosquittoSub
        pub = staticmethod(mosquitto_pub)

    return Tools


# --- paho-mqtt -------------------------------------------------------------------------------


class PahoClient:
    """A paho-mqtt client driven by its own loop() calls (no thread), waiting with deadlines."""

    def __init__(self, broker, version, client_id="", clean=True, session_expiry=None, will=None,
                 user=None, password=None, keepalive=60):
        self.broker = broker
        self.version = version
        self.clean = clean
        self.session_expiry = session_expiry
        self.keepalive = keepalive
        if version == 5:
            self.client = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv5)
        else:
            self.client = mqtt.Client(client_id=client_id, clean_session=clean, protocol=mqtt.MQTTv311)
        if will:
            self.client.will_set(**will)
        if user is not None:
            self.client.username_pw_set(user, password)
        self.connack = None  # (session_present, reason code as int)
        self.disconnected = None  # reason code as int
        self.subacks = {}
        self.completed = set()  # mids whose publish flow finished
        self.messages = []
        c = self.client
        c.on_connect = self._on_connect
        c.on_subscribe = self._on_subscribe
        c.on_publish = lambda client, userdata, mid: self.completed.add(mid)
        c.on_message = lambda client, userdata, msg: self.messages.append(msg)
        c.on_disconnect = self._on_disconnect

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        self.connack = (flags.get("session present", 0), int(getattr(rc, "value", rc)))

    def _on_subscribe(self, client, userdata, mid, granted, properties=None):
        self.subacks[mid] = [int(getattr(g, "value", g)) for g in granted]

    def _on_disconnect(self, client, userdata, rc, properties=None):
        self.disconnected = int(getattr(rc, "value", rc))

    def wait(self, condition, what, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            rc = self.client.loop(timeout=0.05)
            if rc != mqtt.MQTT_ERR_SUCCESS and not condition():
                raise AssertionError(f"connection lost (paho rc={rc}) while waiting for {what}")

    def connect(self):
        """Returns (session_present, reason code)."""
        if self.version == 5:
            props = Properties(PacketTypes.CONNECT)
            if self.session_expiry is not None:
                props.SessionExpiryInterval = self.session_expiry
            self.client.connect(self.broker.host, self.broker.port, self.keepalive, clean_start=self.clean,
                                properties=props)
        else:
            self.client.connect(self.broker.host, self.broker.port, self.keepalive)
        self.wait(lambda: self.connack is not None or self.disconnected is not None, "CONNACK")
        return self.connack

    def subscribe(self, topic, qos):
        result, mid = self.client.subscribe(topic, qos)
        assert result == mqtt.MQTT_ERR_SUCCESS
        self.wait(lambda: mid in self.subacks, f"SUBACK for {topic}")
        return self.subacks[mid]

    def publish(self, topic, payload, qos=0, retain=False, properties=None):
        """Publishes and waits until the QoS flow is complete (sent, PUBACK, or PUBCOMP)."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS
        self.wait(lambda: info.mid in self.completed, f"completion of publish to {topic} at QoS {qos}")

    def receive(self, count=1, timeout=WAIT):
        self.wait(lambda: len(self.messages) >= count, f"{count} message(s)", timeout)
        return self.messages[:count]

    def disconnect(self):
        self.client.disconnect()
        self.wait(lambda: self.disconnected is not None, "the end of the connection")

    def kill_socket(self):
        """Closes the TCP connection under paho: no DISCONNECT is sent."""
        sock = self.client.socket()
        sock.close()


@pytest.fixture
def paho():
    """paho(broker, version, client_id=..., ...) -> PahoClient (not yet connected)."""
    clients = []

    def make(*args, **kwargs):
        c = PahoClient(*args, **kwargs)
        clients.append(c)
        return c

    yield make
    for c in clients:
        sock = c.client.socket()
        if sock:
            sock.close()


@pytest.fixture
def properties():
    """properties(PacketTypes.PUBLISH, UserProperty=[...], ...) -> paho Properties."""

    def make(packet_type, **values):
        p = Properties(packet_type)
        for name, value in values.items():
            setattr(p, name, value)
        return p

    return make
