"""A tiny MQTT application: watches room temperatures and raises retained alerts.

It subscribes to ``home/+/temperature``; a reading above the threshold publishes a retained
``hot:<value>`` on ``home/<room>/alert`` (QoS 1), and a reading at or below it clears the alert
(an empty retained message). Works with paho-mqtt 1.6 and 2.x.
"""
import threading

import paho.mqtt.client as mqtt


def make_client(client_id, protocol=mqtt.MQTTv5, transport="tcp"):
    if hasattr(mqtt, "CallbackAPIVersion"):  # paho-mqtt 2.x
        return mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id=client_id, protocol=protocol,
                           transport=transport)
    return mqtt.Client(client_id=client_id, protocol=protocol, transport=transport)


class Thermostat:
    def __init__(self, host, port, threshold=25.0, client_id="thermostat"):
        self.threshold = threshold
        self.granted_qos = None
        self.readings = 0
        self._subscribed = threading.Event()
        self._handled = threading.Condition()
        self.client = make_client(client_id)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            self.stop()
            raise TimeoutError("no SUBACK from the broker")

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        client.subscribe("home/+/temperature", qos=2)

    def _on_subscribe(self, client, userdata, mid, granted, properties=None):
        self.granted_qos = int(getattr(granted[0], "value", granted[0]))
        self._subscribed.set()

    def _on_message(self, client, userdata, msg):
        room = msg.topic.split("/")[1]
        try:
            value = float(msg.payload.decode())
        except ValueError:
            return
        if value > self.threshold:
            client.publish(f"home/{room}/alert", f"hot:{value}", qos=1, retain=True)
        else:
            client.publish(f"home/{room}/alert", b"", qos=1, retain=True)
        with self._handled:
            self.readings += 1
            self._handled.notify_all()

    def wait_readings(self, count, timeout=10):
        with self._handled:
            return self._handled.wait_for(lambda: self.readings >= count, timeout)

    def stop(self):
        self.client.disconnect()
        self.client.loop_stop()
