"""The thermostat against mqttspec's reference broker (pytest-mqttspec fixtures) with paho-mqtt."""
import queue
import sys
import pathlib

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from thermostat import Thermostat, make_client  # noqa: E402


def subscriber(broker, topic, websocket=False):
    """A paho client subscribed to `topic`; returns (client, queue of (topic, payload, retain))."""
    got = queue.Queue()
    subscribed = queue.Queue()
    c = make_client("", transport="websockets" if websocket else "tcp")
    c.on_message = lambda client, userdata, msg: got.put((msg.topic, msg.payload.decode(), msg.retain))
    c.on_subscribe = lambda *args: subscribed.put(True)
    c.on_connect = lambda client, *args: client.subscribe(topic, qos=1)
    if websocket:
        c.ws_set_options(path="/mqtt")
        c.connect(broker.host, broker.ws_port)
    else:
        c.connect(broker.host, broker.port)
    c.loop_start()
    subscribed.get(timeout=10)
    return c, got


def publish(broker, topic, payload):
    c = make_client("")
    c.connect(broker.host, broker.port)
    c.loop_start()
    c.publish(topic, payload, qos=1).wait_for_publish(10)
    c.disconnect()
    c.loop_stop()


@pytest.fixture
def thermostat(mqttspec_broker):
    t = Thermostat(mqttspec_broker.host, mqttspec_broker.port, threshold=25.0)
    yield t
    t.stop()


def test_hot_room_raises_a_retained_alert(mqttspec_broker, thermostat):
    publish(mqttspec_broker, "home/kitchen/temperature", "30.5")
    assert thermostat.wait_readings(1)
    # A dashboard that connects later still sees the alert: it was retained.
    client, got = subscriber(mqttspec_broker, "home/+/alert")
    try:
        assert got.get(timeout=10) == ("home/kitchen/alert", "hot:30.5", True)
    finally:
        client.disconnect()
        client.loop_stop()


def test_cool_reading_clears_the_alert(mqttspec_broker, thermostat):
    publish(mqttspec_broker, "home/hall/temperature", "40")
    publish(mqttspec_broker, "home/hall/temperature", "20")
    assert thermostat.wait_readings(2)
    client, got = subscriber(mqttspec_broker, "home/hall/alert")
    try:
        with pytest.raises(queue.Empty):
            got.get(timeout=0.5)  # the empty retained message removed the alert
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.mark.mqttspec_broker(ws_port=0)
def test_a_browser_dashboard_sees_alerts_over_websocket(mqttspec_broker, thermostat):
    assert mqttspec_broker.ws_url.startswith("ws://127.0.0.1:")
    publish(mqttspec_broker, "home/cellar/temperature", "26")
    assert thermostat.wait_readings(1)
    client, got = subscriber(mqttspec_broker, "home/+/alert", websocket=True)
    try:
        assert got.get(timeout=10) == ("home/cellar/alert", "hot:26.0", True)
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.mark.mqttspec_broker(max_granted_qos=1)
def test_works_when_the_broker_grants_less_than_asked(mqttspec_broker, thermostat):
    # The spec lets a broker grant a lower QoS than a SUBSCRIBE asks for; the app must cope.
    assert thermostat.granted_qos == 1
    publish(mqttspec_broker, "home/attic/temperature", "31")
    assert thermostat.wait_readings(1)


def test_the_broker_we_rely_on_keeps_the_retain_rules(mqttspec_broker, mqtt_conformance):
    # The app's correctness rests on retained messages: check that part of the spec on the broker.
    run = mqtt_conformance(mqttspec_broker, "v5.retain.*", "v3.1.1.retain.*")
    assert run.verdicts, run.summary()
    assert not run.failures, run.summary()
    assert run.returncode == 0, run.summary()
