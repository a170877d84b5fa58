"""mqttspec-broker with paho-mqtt clients (Debian's python3-paho-mqtt 1.6), MQTTv311 and MQTTv5.

Fixtures (conftest.py): `broker` / `start_broker` run the broker; `paho(broker, version, ...)`
makes a client driven by its own loop() with deadlines (no thread).
"""

import socket

import pytest
from paho.mqtt.packettypes import PacketTypes

VERSIONS = [pytest.param(3, id="v311"), pytest.param(5, id="v5")]
QOS = [pytest.param(q, id=f"qos{q}") for q in (0, 1, 2)]

SUCCESS = 0
WAIT = 5.0
# CONNACK refusals: 3.1.1 return codes and their 5.0 reason codes.
BAD_USER_NAME_OR_PASSWORD = {3: 4, 5: 0x86}
NOT_AUTHORIZED = {3: 5, 5: 0x87}


def online(paho, broker, version, client_id="", session_present=0, **kwargs):
    c = paho(broker, version, client_id, **kwargs)
    assert c.connect() == (session_present, SUCCESS)
    return c


# v3.1.1:MQTT-4.3.1-1, v3.1.1:MQTT-4.3.2-2, v3.1.1:MQTT-4.3.3-2, v3.1.1:MQTT-3.3.1-9,
# v5:MQTT-4.3.1-1, v5:MQTT-4.3.2-4, v5:MQTT-4.3.3-8, v5:MQTT-4.3.3-11, v5:MQTT-3.3.1-12
@pytest.mark.parametrize("qos", QOS)
@pytest.mark.parametrize("version", VERSIONS)
def test_round_trip(broker, paho, version, qos):
    """Publish at each QoS to a QoS 2 subscription; both QoS flows complete, the message arrives
    once, at the publisher's QoS, with RETAIN 0."""
    sub = online(paho, broker, version, "sub")
    assert sub.subscribe("rt/+", 2) == [2]
    pub = online(paho, broker, version, "pub")
    pub.publish("rt/x", b"round trip", qos=qos)  # returns once PUBACK / PUBCOMP is in
    [msg] = sub.receive(1)
    assert (msg.topic, msg.payload, msg.qos, msg.retain, msg.dup) == ("rt/x", b"round trip", qos, False, False)
    # A second one, so that the first flow's identifiers were really released on both sides.
    pub.publish("rt/x", b"again", qos=qos)
    second = sub.receive(2)[1]
    assert (second.topic, second.payload, second.qos) == ("rt/x", b"again", qos)


# v3.1.1:MQTT-3.3.1-5, v3.1.1:MQTT-3.3.1-8, v3.1.1:MQTT-3.3.1-10, v3.1.1:MQTT-3.3.1-11,
# v5:MQTT-3.3.1-5, v5:MQTT-3.3.1-6, v5:MQTT-3.3.1-7, v5:MQTT-3.3.1-9
@pytest.mark.parametrize("version", VERSIONS)
def test_retained_message_and_its_removal(broker, paho, version):
    pub = online(paho, broker, version, "pub")
    pub.publish("ret/a", b"kept", qos=1, retain=True)
    late = online(paho, broker, version, "late")
    late.subscribe("ret/#", 1)
    [msg] = late.receive(1)
    assert (msg.topic, msg.payload, msg.qos, msg.retain) == ("ret/a", b"kept", 1, True)

    pub.publish("ret/a", b"", qos=1, retain=True)  # removes it
    later = online(paho, broker, version, "later")
    later.subscribe("ret/#", 1)
    # Retained messages follow the SUBACK at once; a message to ourselves comes after them.
    later.publish("ret/marker", b"after any retained", qos=1)
    [first] = later.receive(1)
    assert (first.topic, first.retain) == ("ret/marker", False), "the removed retained message was delivered"


# v3.1.1:MQTT-3.1.2-8, v3.1.1:MQTT-3.1.2-16, v5:MQTT-3.1.2-8, v5:MQTT-3.1.2-14
@pytest.mark.parametrize("version", VERSIONS)
def test_will_on_abnormal_close(broker, paho, version):
    watcher = online(paho, broker, version, "watcher")
    watcher.subscribe("will/#", 1)
    doomed = online(paho, broker, version, "doomed",
                    will={"topic": "will/doomed", "payload": b"lost", "qos": 1, "retain": False})
    doomed.kill_socket()
    [msg] = watcher.receive(1)
    assert (msg.topic, msg.payload, msg.qos, msg.retain) == ("will/doomed", b"lost", 1, False)


# v3.1.1:MQTT-3.1.2-10, v3.1.1:MQTT-3.14.4-3, v5:MQTT-3.1.2-10, v5:MQTT-3.14.4-3
@pytest.mark.parametrize("version", VERSIONS)
def test_no_will_after_disconnect(broker, paho, version):
    watcher = online(paho, broker, version, "watcher")
    watcher.subscribe("will/#", 1)
    polite = online(paho, broker, version, "polite",
                    will={"topic": "will/polite", "payload": b"lost", "qos": 1, "retain": False})
    polite.disconnect()
    # Published after the broker handled the DISCONNECT: a Will would have come first.
    other = online(paho, broker, version, "other")
    other.publish("will/polite", b"marker", qos=1)
    [msg] = watcher.receive(1)
    assert msg.payload == b"marker"


# v3.1.1:MQTT-3.1.2-4, v3.1.1:MQTT-3.1.2-5, v3.1.1:MQTT-3.2.2-2, v3.1.1:MQTT-3.2.2-3,
# v5:MQTT-3.1.2-5, v5:MQTT-3.1.2-6, v5:MQTT-3.1.2-23, v5:MQTT-3.2.2-3
@pytest.mark.parametrize("version", VERSIONS)
def test_persistent_session_receives_messages_queued_while_offline(broker, paho, version):
    persistent = {"clean": False, "session_expiry": 60 if version == 5 else None}
    first = online(paho, broker, version, "keeper", session_present=0, **persistent)
    first.subscribe("offline/#", 2)
    first.disconnect()

    pub = online(paho, broker, version, "pub")
    pub.publish("offline/1", b"queued at 1", qos=1)
    pub.publish("offline/2", b"queued at 2", qos=2)
    pub.publish("offline/0", b"maybe at 0", qos=0)  # QoS 0 may or may not be kept

    back = online(paho, broker, version, "keeper", session_present=1, **persistent)
    pub.publish("offline/3", b"live again", qos=1)
    back.wait(lambda: {m.topic for m in back.messages} >= {"offline/1", "offline/2", "offline/3"},
              "the queued and the live messages")
    # (paho hands a QoS 2 message over only at PUBREL, so arrival order is not compared here.)
    got = sorted((m.topic, m.payload, m.qos) for m in back.messages if m.topic != "offline/0")
    assert got == [("offline/1", b"queued at 1", 1), ("offline/2", b"queued at 2", 2), ("offline/3", b"live again", 1)]


# v5:MQTT-3.3.2-17, v5:MQTT-3.3.2-18, v5:MQTT-3.3.2-4, v5:MQTT-3.3.2-15, v5:MQTT-3.3.2-16, v5:MQTT-3.3.2-20
def test_properties_forwarded_with_user_properties_in_order(broker, paho, properties):
    sub = online(paho, broker, 5, "sub")
    sub.subscribe("props", 1)
    pub = online(paho, broker, 5, "pub")
    user = [("z", "1"), ("a", "2"), ("z", "0"), ("m", "")]
    pub.publish("props", b"{}", qos=1, properties=properties(
        PacketTypes.PUBLISH, UserProperty=user, ContentType="application/json", ResponseTopic="reply/to",
        CorrelationData=b"\x00\x01", PayloadFormatIndicator=1))
    [msg] = sub.receive(1)
    p = msg.properties
    assert p.UserProperty == user
    assert (p.ContentType, p.ResponseTopic, p.CorrelationData, p.PayloadFormatIndicator) == (
        "application/json", "reply/to", b"\x00\x01", 1)


# v3.1.1:MQTT-3.2.2-4, v3.1.1:MQTT-3.2.2-5, v5:MQTT-3.1.4-2, v5:MQTT-3.2.2-6, v5:MQTT-3.2.2-7
@pytest.mark.parametrize("version", VERSIONS)
def test_password_file(start_broker, paho, password_file, version):
    path, users = password_file
    broker = start_broker("--password-file", str(path), "--allow-anonymous", "false")
    good = paho(broker, version, "good", user="alice", password=users["alice"])
    assert good.connect() == (0, SUCCESS)
    bad = paho(broker, version, "bad", user="alice", password="not it")
    assert bad.connect() == (0, BAD_USER_NAME_OR_PASSWORD[version])
    nobody = paho(broker, version, "nobody")
    assert nobody.connect() == (0, NOT_AUTHORIZED[version])
    # The admitted client works.
    good.subscribe("auth", 1)
    good.publish("auth", b"in", qos=1)
    assert good.receive(1)[0].payload == b"in"


def test_sigterm_says_goodbye_to_v5_clients(start_broker):
    """On SIGTERM the broker sends DISCONNECT 0x8B (Server shutting down), closes, and exits with 0.
    A raw socket, because paho 1.6 ignores a DISCONNECT whose Remaining Length is 1."""
    broker = start_broker()
    with socket.create_connection((broker.host, broker.port), timeout=WAIT) as s:
        # 5.0 CONNECT, Clean Start, Keep Alive 0, no properties, client id "bye".
        s.sendall(bytes.fromhex("10 10 00 04 4d 51 54 54 05 02 00 00 00 00 03 62 79 65"))
        connack = read_packet(s)
        # CONNACK, Session Present 0, Success (then the broker's capability properties)
        assert (connack[0], connack[2], connack[3]) == (0x20, 0, 0), connack.hex(" ")
        assert broker.stop() == 0
        assert read_packet(s) == bytes.fromhex("e0 01 8b")  # DISCONNECT, Server shutting down
        assert s.recv(1) == b"", "the connection stays open"


def read_packet(sock):
    """One whole MQTT packet (fixed header included); the socket's timeout bounds each read."""

    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            assert chunk, f"connection closed after {data.hex(' ')!r}"
            data += chunk
        return data

    header = exactly(1)
    length, shift = 0, 0
    while True:
        b = exactly(1)
        header += b
        length |= (b[0] & 0x7F) << shift
        shift += 7
        if not b[0] & 0x80:
            break
    return header + exactly(length)
