#!/usr/bin/python3
"""Client driver (docs/client-drivers.md) for Eclipse Paho MQTT Python (Debian's python3-paho-mqtt).

Actions come on stdin, one per line; what the application sees goes to stdout, one event per
line. The network loop runs in a thread of its own that calls client.loop() and never reconnects
by itself (loop_start() would), so every connection is one the scenario asked for. Like
loop_start() it registers that thread with the client, so that packets the application queues are
written by the loop thread, never by two threads at once."""
import argparse
import sys
import threading
import time
import urllib.parse

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

POSITIONAL = {"publish": 3, "subscribe": 2, "unsubscribe": 1, "wait": 1}
CONNECT_TIMEOUT_S = 10

out_lock = threading.Lock()


def emit(line):
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def enc(data):
    """Percent-encodes bytes or text for an event line."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    return urllib.parse.quote_from_bytes(data, safe="/+#$!*()',;:@&~-._")


def dec(word):
    return urllib.parse.unquote_to_bytes(word)


def parse(line):
    words = line.split(" ")
    verb, rest = words[0], [w for w in words[1:] if w]
    args, opts = [], {}
    for w in rest:
        if len(args) < POSITIONAL.get(verb, 0) or "=" not in w:
            args.append(b"" if w == "-" else dec(w))
        else:
            k, v = w.split("=", 1)
            opts[k] = dec(v)
    return verb, args, opts


def text(b):
    return b.decode("utf-8", "surrogateescape")


class Driver:
    def __init__(self, host, port, client_id, version):
        self.host, self.port, self.default_id = host, port, client_id
        self.v5 = version in ("5", "5.0")
        self.client = None
        self.clean = None
        self.connected = threading.Event()
        self.connect_result = None
        self.running = True
        self.wanted = False  # a connection is wanted (the loop thread runs the client)
        self.disconnecting = False
        self.lock = threading.Lock()  # held by the loop thread while it runs the client
        self.loop_thread = threading.Thread(target=self.loop, daemon=True)
        self.loop_thread.start()

    # ---- the network loop, without reconnection
    def loop(self):
        while self.running:
            c = self.client
            ran = False
            with self.lock:
                if c is not None and self.wanted and c.socket() is not None:
                    ran = True
                    try:
                        rc = c.loop(timeout=0.05)
                    except Exception as e:  # the library raised in its own loop
                        emit("error " + enc(f"loop raised {type(e).__name__}: {e}"))
                        rc = mqtt.MQTT_ERR_CONN_LOST
                    if rc != mqtt.MQTT_ERR_SUCCESS and c.socket() is None:
                        self.lost(rc)
            if not ran:
                time.sleep(0.02)

    def lost(self, rc):
        if self.disconnecting:
            self.wanted = False
        elif self.wanted:
            self.wanted = False
            if self.connect_result is None:
                self.connect_result = "connect-failed"
                self.connected.set()
            else:
                emit(f"connection-lost rc={rc}")

    # ---- callbacks
    def on_connect(self, client, userdata, flags, rc, properties=None):
        code = rc.value if hasattr(rc, "value") else int(rc)
        if code == 0:
            self.connect_result = f"connected session-present={flags.get('session present', 0)}"
        else:
            self.connect_result = f"connect-failed reason={code}"
            self.wanted = False
        self.connected.set()

    def on_disconnect(self, client, userdata, rc, properties=None):
        code = rc.value if hasattr(rc, "value") else int(rc)
        if self.disconnecting:
            self.wanted = False
        elif self.wanted and self.connect_result is not None and self.connected.is_set():
            self.wanted = False
            emit(f"connection-lost reason={code}")

    def on_message(self, client, userdata, msg):
        emit(f"message topic={enc(msg._topic)} qos={msg.qos} retain={int(msg.retain)} payload={bytes(msg.payload).hex()}")

    def on_subscribe(self, client, userdata, mid, granted, properties=None):
        codes = ",".join(str(g.value if hasattr(g, "value") else g) for g in granted)
        emit(f"subscribed codes={codes}")

    def on_unsubscribe(self, client, userdata, mid, *rest):
        emit("unsubscribed")

    # ---- actions
    def make_client(self, client_id, clean):
        if self.v5:
            c = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv5)
        else:
            c = mqtt.Client(client_id=client_id, clean_session=clean, protocol=mqtt.MQTTv311)
        c.on_connect = self.on_connect
        c.on_disconnect = self.on_disconnect
        c.on_message = self.on_message
        c.on_subscribe = self.on_subscribe
        c.on_unsubscribe = self.on_unsubscribe
        # What loop_start() does: the loop thread writes what the application queues.
        c._thread = self.loop_thread
        return c

    def connect(self, opts):
        clean = opts.get("clean", b"1") == b"1"
        client_id = text(opts["client-id"]) if "client-id" in opts else self.default_id
        if self.client is None:
            self.client = self.make_client(client_id, clean)
            self.clean = clean
        elif not self.v5 and clean != self.clean:
            # paho fixes CleanSession when the Client object is made.
            return emit("unsupported connect clean (paho fixes CleanSession per client object in 3.1.1)")
        c = self.client
        if "username" in opts or "password" in opts:
            c.username_pw_set(text(opts["username"]) if "username" in opts else None,
                              opts.get("password"))
        if "will-topic" in opts:
            props = Properties(PacketTypes.WILLMESSAGE) if self.v5 else None
            c.will_set(text(opts["will-topic"]), opts.get("will-payload", b""), int(opts.get("will-qos", b"0")),
                       opts.get("will-retain", b"0") == b"1", properties=props)
        props = None
        if self.v5:
            props = Properties(PacketTypes.CONNECT)
            for key, name in (("session-expiry", "SessionExpiryInterval"), ("receive-maximum", "ReceiveMaximum"),
                              ("topic-alias-maximum", "TopicAliasMaximum"), ("maximum-packet-size", "MaximumPacketSize")):
                if key in opts:
                    setattr(props, name, int(opts[key]))
            if "auth-method" in opts:
                return emit("unsupported connect auth-method (paho-mqtt 1.6 does not answer AUTH packets)")
        keep_alive = int(opts.get("keep-alive", b"60"))
        self.connected.clear()
        self.connect_result = None
        self.wanted = False
        self.disconnecting = False
        with self.lock:
            try:
                if self.v5:
                    c.connect(self.host, self.port, keepalive=keep_alive, clean_start=clean, properties=props)
                else:
                    c.connect(self.host, self.port, keepalive=keep_alive)
            except Exception as e:
                return emit("connect-failed detail=" + enc(f"{type(e).__name__}: {e}"))
            self.wanted = True
        if not self.connected.wait(CONNECT_TIMEOUT_S):
            return emit("connect-failed detail=no%20CONNACK")
        emit(self.connect_result)

    def publish(self, args, opts):
        if len(args) < 3:
            return emit("error publish wants TOPIC QOS PAYLOAD")
        topic, qos, payload = args[0], int(args[1]), args[2]
        props = None
        if self.v5:
            props = Properties(PacketTypes.PUBLISH)
            if "topic-alias" in opts:
                props.TopicAlias = int(opts["topic-alias"])
            if "response-topic" in opts:
                props.ResponseTopic = text(opts["response-topic"])
            if "content-type" in opts:
                props.ContentType = text(opts["content-type"])
            if "message-expiry" in opts:
                props.MessageExpiryInterval = int(opts["message-expiry"])
        try:
            info = self.client.publish(text(topic), payload, qos, opts.get("retain", b"0") == b"1", properties=props)
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                emit(f"error publish rc={info.rc}")
        except Exception as e:
            emit("error " + enc(f"{type(e).__name__}: {e}"))

    def subscribe(self, args, opts):
        if len(args) < 2:
            return emit("error subscribe wants FILTER QOS")
        try:
            if self.v5:
                options = SubscribeOptions(qos=int(args[1]), noLocal=opts.get("no-local", b"0") == b"1",
                                           retainAsPublished=opts.get("retain-as-published", b"0") == b"1",
                                           retainHandling=int(opts.get("retain-handling", b"0")))
                rc, _ = self.client.subscribe(text(args[0]), options=options)
            else:
                rc, _ = self.client.subscribe(text(args[0]), int(args[1]))
            if rc != mqtt.MQTT_ERR_SUCCESS:
                emit(f"error subscribe rc={rc}")
        except Exception as e:
            emit("error " + enc(f"{type(e).__name__}: {e}"))

    def unsubscribe(self, args, opts):
        try:
            rc, _ = self.client.unsubscribe(text(args[0]))
            if rc != mqtt.MQTT_ERR_SUCCESS:
                emit(f"error unsubscribe rc={rc}")
        except Exception as e:
            emit("error " + enc(f"{type(e).__name__}: {e}"))

    def disconnect(self, opts):
        self.disconnecting = True
        try:
            if self.v5 and "reason" in opts:
                from paho.mqtt.reasoncodes import ReasonCodes
                self.client.disconnect(reasoncode=ReasonCodes(PacketTypes.DISCONNECT, identifier=int(opts["reason"])))
            else:
                self.client.disconnect()
            # disconnect() only queues the packet: the loop thread writes it and closes.
            end = time.monotonic() + 1
            while self.client.socket() is not None and time.monotonic() < end:
                time.sleep(0.01)
        except Exception as e:
            return emit("error " + enc(f"{type(e).__name__}: {e}"))
        self.wanted = False
        emit("disconnected")

    def perform(self, line):
        try:
            return self.act(line)
        except Exception as e:  # what the library raised for this action is the application's error
            emit("error " + enc(f"{type(e).__name__}: {e}"))
            return True

    def act(self, line):
        verb, args, opts = parse(line)
        if verb == "connect":
            return self.connect(opts)
        if verb == "exit":
            return False
        if verb == "wait":
            time.sleep(int(args[0]) / 1000 if args else 0)
            return True
        if self.client is None and verb in ("publish", "subscribe", "unsubscribe", "disconnect"):
            emit("error not connected yet")
            return True
        if verb == "publish":
            self.publish(args, opts)
        elif verb == "subscribe":
            self.subscribe(args, opts)
        elif verb == "unsubscribe":
            self.unsubscribe(args, opts)
        elif verb == "disconnect":
            self.disconnect(opts)
        else:
            emit(f"unsupported {verb}")
        return True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--client-id", default="")
    p.add_argument("--version", default="5.0")
    a = p.parse_args()
    d = Driver(a.host, a.port, a.client_id, a.version)
    emit("ready")
    for line in sys.stdin:
        line = line.rstrip("\r\n")
        if line and d.perform(line) is False:
            break
    d.running = False


if __name__ == "__main__":
    main()
