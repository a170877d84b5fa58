"""mqttspec-broker with the mosquitto command line clients, in MQTT 3.1.1 and 5.0 mode.

Fixtures (conftest.py): `broker` / `start_broker` run the broker; `mosquitto.sub` starts a
mosquitto_sub and returns once it is subscribed; `mosquitto.pub` runs a mosquitto_pub to
completion. Received messages come back as (topic, qos, retain, user properties, payload).
"""

import pytest

VERSIONS = [pytest.param(3, id="v311"), pytest.param(5, id="v5")]
QOS = [pytest.param(q, id=f"qos{q}") for q in (0, 1, 2)]


# v3.1.1:MQTT-4.3.1-1, v3.1.1:MQTT-4.3.2-2, v3.1.1:MQTT-4.3.3-2, v3.1.1:MQTT-3.3.1-9,
# v5:MQTT-4.3.1-1, v5:MQTT-4.3.2-4, v5:MQTT-4.3.3-8, v5:MQTT-4.3.3-11, v5:MQTT-3.3.1-12
@pytest.mark.parametrize("qos", QOS)
@pytest.mark.parametrize("version", VERSIONS)
def test_round_trip(broker, mosquitto, version, qos):
    """A message published at each QoS reaches a QoS 2 subscriber at that QoS, with RETAIN 0."""
    sub = mosquitto.sub(broker, version, "rt/#", qos=2)
    mosquitto.pub(broker, version, "rt/x", f"hello at {qos}", qos=qos)
    assert sub.messages() == [("rt/x", qos, 0, "", f"hello at {qos}")]


# v3.1.1:MQTT-3.8.4-6, v5:MQTT-3.8.4-8
@pytest.mark.parametrize("version", VERSIONS)
def test_delivery_at_the_granted_qos(broker, mosquitto, version):
    """A QoS 2 message reaches a QoS 1 subscription at QoS 1."""
    sub = mosquitto.sub(broker, version, "low", qos=1)
    mosquitto.pub(broker, version, "low", "downgraded", qos=2)
    assert sub.messages() == [("low", 1, 0, "", "downgraded")]


# v3.1.1:MQTT-3.3.1-5, v3.1.1:MQTT-3.3.1-6, v3.1.1:MQTT-3.3.1-8, v3.1.1:MQTT-3.3.1-10,
# v5:MQTT-3.3.1-5, v5:MQTT-3.3.1-6, v5:MQTT-3.3.1-9
@pytest.mark.parametrize("version", VERSIONS)
def test_retained_message(broker, mosquitto, version):
    """A retained message is stored and handed to a later subscriber with RETAIN 1; an empty
    retained message replaces it, and is not stored itself."""
    mosquitto.pub(broker, version, "ret/a", "kept", qos=1, extra=["-r"])
    mosquitto.pub(broker, version, "ret/b", "replaced", qos=1, extra=["-r"])
    mosquitto.pub(broker, version, "ret/b", "latest", qos=1, extra=["-r"])
    late = mosquitto.sub(broker, version, "ret/+", qos=1, count=2)
    assert sorted(late.messages()) == [("ret/a", 1, 1, "", "kept"), ("ret/b", 1, 1, "", "latest")]

    mosquitto.pub(broker, version, "ret/a", None, qos=1, extra=["-r"])  # -n: empty payload
    # --retained-only stops at the first live message: everything retained comes before it.
    later = mosquitto.sub(broker, version, "ret/+", qos=1, count=10, extra=["--retained-only"])
    mosquitto.pub(broker, version, "ret/c", "live", qos=1)
    assert later.messages() == [("ret/b", 1, 1, "", "latest")]


# v3.1.1:MQTT-3.1.2-8, v5:MQTT-3.1.2-8, v3.1.1:MQTT-3.1.2-16, v5:MQTT-3.1.2-14
@pytest.mark.parametrize("version", VERSIONS)
def test_will_after_the_client_is_killed(broker, mosquitto, version):
    """A client killed with SIGKILL sent no DISCONNECT: its Will is published."""
    watcher = mosquitto.sub(broker, version, "will/#", qos=1)
    doomed = mosquitto.sub(broker, version, "anything", extra=[
        "--will-topic", "will/doomed", "--will-payload", "it died", "--will-qos", "1", "-i", "doomed"])
    doomed.kill()
    assert watcher.messages() == [("will/doomed", 1, 0, "", "it died")]


# v3.1.1:MQTT-3.1.2-4, v3.1.1:MQTT-3.1.2-5, v5:MQTT-3.1.2-5, v5:MQTT-3.1.2-23
@pytest.mark.parametrize("version", VERSIONS)
def test_persistent_session_gets_messages_queued_while_offline(broker, mosquitto, version):
    """Subscribe with a persistent session (-c; 5.0 also a session expiry), go away, and receive
    on return what was published at QoS 1 and 2 meanwhile."""
    persistent = ["-c", "-i", "keeper"] + (["-x", "60"] if version == 5 else [])
    first = mosquitto.sub(broker, version, "offline/#", qos=2, extra=persistent + ["-E"])
    assert first.messages() == []  # -E: left right after the SUBACK, with DISCONNECT
    mosquitto.pub(broker, version, "offline/1", "queued 1", qos=1)
    mosquitto.pub(broker, version, "offline/2", "queued 2", qos=2)
    back = mosquitto.sub(broker, version, "offline/#", qos=2, count=2, extra=persistent)
    assert back.messages() == [("offline/1", 1, 0, "", "queued 1"), ("offline/2", 2, 0, "", "queued 2")]


# v5:MQTT-3.3.2-17, v5:MQTT-3.3.2-18
def test_user_properties_are_forwarded_in_order(broker, mosquitto):
    sub = mosquitto.sub(broker, 5, "props", qos=1)
    user_props = []
    for key, value in [("z", "1"), ("a", "2"), ("z", "0"), ("m", "3")]:
        user_props += ["-D", "publish", "user-property", key, value]
    mosquitto.pub(broker, 5, "props", "with properties", qos=1, extra=user_props)
    assert sub.messages() == [("props", 1, 0, "z:1 a:2 z:0 m:3", "with properties")]


# v3.1.1:MQTT-3.2.2-5, v5:MQTT-3.1.4-2, v5:MQTT-3.2.2-7
@pytest.mark.parametrize("version", VERSIONS)
def test_password_file(start_broker, mosquitto, password_file, version):
    """Users of the password file get in with their password only; anonymous clients not at all."""
    path, users = password_file
    broker = start_broker("--password-file", str(path), "--allow-anonymous", "false")

    def login(user, password=None):
        return ["-u", user, "-P", password if password is not None else users[user]]

    sub = mosquitto.sub(broker, version, "auth", qos=1, extra=login("bob"))
    mosquitto.pub(broker, version, "auth", "admitted", qos=1, extra=login("alice"))
    assert sub.messages() == [("auth", 1, 0, "", "admitted")]

    wrong = mosquitto.pub(broker, version, "auth", "refused", qos=1, extra=login("alice", "s3cret"), check=False)
    assert wrong.returncode != 0
    assert "bad user name or password" in wrong.stderr.lower()
    anonymous = mosquitto.pub(broker, version, "auth", "refused", qos=1, check=False)
    assert anonymous.returncode != 0
    assert "not authori" in anonymous.stderr.lower()  # "not authorised" (3.1.1), "Not authorized" (5.0)
