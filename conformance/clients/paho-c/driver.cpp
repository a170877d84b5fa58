// Client driver (docs/client-drivers.md) for Eclipse Paho C (Debian's libpaho-mqtt-dev), through its
// asynchronous API (MQTTAsync, libpaho-mqtt3a), MQTT 3.1.1 and 5.0. Automatic reconnection is off;
// a later `connect` calls MQTTAsync_connect() on the same handle (in-memory persistence), so the
// Session State the library keeps carries over.
#include "driver_io.hpp"

#include <MQTTAsync.h>

#include <chrono>
#include <condition_variable>
#include <thread>

namespace {

using namespace mqttspec_driver;

arguments args;
MQTTAsync client = nullptr;
std::mutex wait_mutex;
std::condition_variable wait_cv;
std::optional<std::string> connect_result;
bool disconnect_done = false;
bool connected = false;
bool disconnecting = false;
bool transport_failure = false;  // the last connect failed without a CONNACK

void settle(std::string line) {
  std::lock_guard l(wait_mutex);
  if (!connect_result) connect_result = std::move(line);
  wait_cv.notify_all();
}

// ---- connect outcome
void on_connect5(void*, MQTTAsync_successData5* r) {
  connected = true;
  settle("connected session-present=" + std::to_string(r ? r->alt.connect.sessionPresent : 0));
}
void on_connect_failure5(void*, MQTTAsync_failureData5* r) {
  // A refusing CONNACK comes with its reason in `code` (positive); a transport failure has a
  // negative library code.
  transport_failure = r == nullptr || r->code < 0;
  const int reason = r == nullptr ? 0 : r->code > 0 ? r->code : static_cast<int>(r->reasonCode);
  settle("connect-failed reason=" + std::to_string(reason) + (r && r->message ? " detail=" + encode(r->message) : std::string{}));
}
void on_connect(void*, MQTTAsync_successData* r) {
  connected = true;
  settle("connected session-present=" + std::to_string(r ? r->alt.connect.sessionPresent : 0));
}
void on_connect_failure(void*, MQTTAsync_failureData* r) {
  transport_failure = r == nullptr || r->code < 0;
  settle("connect-failed reason=" + std::to_string(r ? r->code : 0) + (r && r->message ? " detail=" + encode(r->message) : std::string{}));
}

// ---- the connection and messages
void connection_lost(void*, char* cause) {
  const bool was = connected;
  connected = false;
  {
    std::lock_guard l(wait_mutex);
    if (!connect_result) {
      connect_result = "connect-failed detail=closed";
      wait_cv.notify_all();
      return;
    }
  }
  if (was && !disconnecting) emit(std::string("connection-lost") + (cause ? " detail=" + encode(cause) : ""));
}

void server_disconnected(void*, MQTTProperties*, enum MQTTReasonCodes code) {
  const bool was = connected;
  connected = false;
  if (was && !disconnecting) emit("connection-lost reason=" + std::to_string(static_cast<int>(code)));
}

int message_arrived(void*, char* topic, int topic_len, MQTTAsync_message* m) {
  const std::string t(topic, topic_len > 0 ? static_cast<std::size_t>(topic_len) : std::strlen(topic));
  emit("message topic=" + encode(t) + " qos=" + std::to_string(m->qos) + " retain=" + (m->retained ? "1" : "0") +
       " payload=" + hex(m->payload, static_cast<std::size_t>(m->payloadlen)));
  MQTTAsync_freeMessage(&m);
  MQTTAsync_free(topic);
  return 1;
}

void on_subscribed5(void*, MQTTAsync_successData5*) { emit("subscribed"); }
void on_subscribed(void*, MQTTAsync_successData*) { emit("subscribed"); }
void on_unsubscribed5(void*, MQTTAsync_successData5*) { emit("unsubscribed"); }
void on_unsubscribed(void*, MQTTAsync_successData*) { emit("unsubscribed"); }
void on_failed5(void*, MQTTAsync_failureData5* r) {
  emit("error " + encode(r && r->message ? r->message : "request failed") + " reason=" + std::to_string(r ? static_cast<int>(r->reasonCode) : 0));
}
void on_failed(void*, MQTTAsync_failureData* r) { emit("error " + encode(r && r->message ? r->message : "request failed")); }

void on_disconnected5(void*, MQTTAsync_successData5*) {
  std::lock_guard l(wait_mutex);
  disconnect_done = true;
  wait_cv.notify_all();
}
void on_disconnected(void*, MQTTAsync_successData*) { on_disconnected5(nullptr, nullptr); }

void add_int(MQTTProperties& props, MQTTPropertyCodes id, long value) {
  MQTTProperty p{};
  p.identifier = id;
  switch (MQTTProperty_getType(id)) {
    case MQTTPROPERTY_TYPE_BYTE: p.value.byte = static_cast<unsigned char>(value); break;
    case MQTTPROPERTY_TYPE_TWO_BYTE_INTEGER: p.value.integer2 = static_cast<unsigned short>(value); break;
    default: p.value.integer4 = static_cast<unsigned int>(value);
  }
  MQTTProperties_add(&props, &p);
}

void add_string(MQTTProperties& props, MQTTPropertyCodes id, const std::string& value) {
  MQTTProperty p{};
  p.identifier = id;
  p.value.data.data = const_cast<char*>(value.c_str());
  p.value.data.len = static_cast<int>(value.size());
  MQTTProperties_add(&props, &p);
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

void do_connect(const action& a) {
  const std::string client_id = a.has("client-id") ? a.opt("client-id") : args.client_id;
  if (client == nullptr) {
    MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
    create.MQTTVersion = args.v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    const std::string uri = "tcp://" + args.host + ":" + std::to_string(args.port);
    const int rc = MQTTAsync_createWithOptions(&client, uri.c_str(), client_id.c_str(), MQTTCLIENT_PERSISTENCE_NONE,
                                               nullptr, &create);
    if (rc != MQTTASYNC_SUCCESS) {
      client = nullptr;
      return emit("error MQTTAsync_create " + std::to_string(rc));
    }
    MQTTAsync_setCallbacks(client, nullptr, connection_lost, message_arrived, nullptr);
    if (args.v5) MQTTAsync_setDisconnected(client, nullptr, server_disconnected);
  }
  if (a.has("auth-method")) return emit("unsupported connect auth-method (Paho C has no AUTH exchange)");
  MQTTAsync_connectOptions c = MQTTAsync_connectOptions_initializer;
  if (args.v5) {
    MQTTAsync_connectOptions c5 = MQTTAsync_connectOptions_initializer5;
    c = c5;
  }
  const bool clean = a.num("clean", 1) == 1;
  c.keepAliveInterval = static_cast<int>(a.num("keep-alive", 60));
  if (args.v5) c.cleanstart = clean;
  else c.cleansession = clean;
  c.automaticReconnect = 0;
  c.MQTTVersion = args.v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;  // no fallback to 3.1
  c.connectTimeout = 10;
  const auto username = a.opt("username"), password = a.opt("password");
  if (a.has("username")) c.username = username.c_str();
  if (a.has("password")) {
    c.binarypwd.data = password.data();
    c.binarypwd.len = static_cast<int>(password.size());
  }
  MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
  const auto will_topic = a.opt("will-topic"), will_payload = a.opt("will-payload");
  if (a.has("will-topic")) {
    will.topicName = will_topic.c_str();
    will.message = nullptr;
    will.payload.data = will_payload.data();
    will.payload.len = static_cast<int>(will_payload.size());
    will.qos = static_cast<int>(a.num("will-qos", 0));
    will.retained = static_cast<int>(a.num("will-retain", 0));
    c.will = &will;
  }
  MQTTProperties props = MQTTProperties_initializer;
  MQTTProperties will_props = MQTTProperties_initializer;
  if (args.v5) {
    if (a.has("session-expiry")) add_int(props, MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL, a.num("session-expiry", 0));
    if (a.has("receive-maximum")) add_int(props, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM, a.num("receive-maximum", 0));
    if (a.has("topic-alias-maximum")) add_int(props, MQTTPROPERTY_CODE_TOPIC_ALIAS_MAXIMUM, a.num("topic-alias-maximum", 0));
    if (a.has("maximum-packet-size")) add_int(props, MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE, a.num("maximum-packet-size", 0));
    c.connectProperties = &props;
    if (a.has("will-topic")) c.willProperties = &will_props;
    c.onSuccess5 = on_connect5;
    c.onFailure5 = on_connect_failure5;
  } else {
    c.onSuccess = on_connect;
    c.onFailure = on_connect_failure;
  }
  {
    std::lock_guard l(wait_mutex);
    connect_result.reset();
  }
  disconnecting = false;
  // Right after a lost connection Paho C's own thread may still be tearing the socket down; a
  // connect issued then fails with "socket error". An application retries: so does the driver,
  // for failures without a CONNACK, within the 10 s a connect action may take.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    {
      std::lock_guard l(wait_mutex);
      connect_result.reset();
      transport_failure = false;
    }
    const int rc = MQTTAsync_connect(client, &c);
    if (rc != MQTTASYNC_SUCCESS) {
      MQTTProperties_free(&props);
      MQTTProperties_free(&will_props);
      return emit("connect-failed detail=MQTTAsync_connect%20" + std::to_string(rc));
    }
    std::unique_lock l(wait_mutex);
    if (!wait_cv.wait_until(l, deadline, [] { return connect_result.has_value(); })) break;
    if (!transport_failure) break;
    l.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  MQTTProperties_free(&props);
  MQTTProperties_free(&will_props);
  std::lock_guard l(wait_mutex);
  emit(connect_result ? *connect_result : std::string("connect-failed detail=no%20CONNACK"));
}

MQTTAsync_responseOptions response_options(bool subscribe_done) {
  MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;
  if (args.v5) {
    r.onSuccess5 = subscribe_done ? on_subscribed5 : nullptr;
    r.onFailure5 = on_failed5;
  } else {
    r.onSuccess = subscribe_done ? on_subscribed : nullptr;
    r.onFailure = on_failed;
  }
  return r;
}

void do_publish(const action& a) {
  if (a.args.size() < 3) return emit("error publish wants TOPIC QOS PAYLOAD");
  if (has_nul(a.args[0])) return emit("unsupported publish topic with U+0000 (the C API takes NUL-terminated strings)");
  MQTTAsync_message m = MQTTAsync_message_initializer;
  std::string payload = a.args[2];
  m.payload = payload.data();
  m.payloadlen = static_cast<int>(payload.size());
  m.qos = std::atoi(a.args[1].c_str());
  m.retained = static_cast<int>(a.num("retain", 0));
  const auto response_topic = a.opt("response-topic"), content_type = a.opt("content-type");
  if (args.v5) {
    if (a.has("topic-alias")) add_int(m.properties, MQTTPROPERTY_CODE_TOPIC_ALIAS, a.num("topic-alias", 0));
    if (a.has("response-topic")) add_string(m.properties, MQTTPROPERTY_CODE_RESPONSE_TOPIC, response_topic);
    if (a.has("content-type")) add_string(m.properties, MQTTPROPERTY_CODE_CONTENT_TYPE, content_type);
    if (a.has("message-expiry")) add_int(m.properties, MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL, a.num("message-expiry", 0));
  }
  auto r = response_options(false);
  const int rc = MQTTAsync_sendMessage(client, a.args[0].c_str(), &m, &r);
  MQTTProperties_free(&m.properties);
  if (rc != MQTTASYNC_SUCCESS) emit("error MQTTAsync_sendMessage " + std::to_string(rc));
}

void do_subscribe(const action& a) {
  if (a.args.size() < 2) return emit("error subscribe wants FILTER QOS");
  if (has_nul(a.args[0])) return emit("unsupported subscribe filter with U+0000 (the C API takes NUL-terminated strings)");
  auto r = response_options(true);
  if (args.v5) {
    r.subscribeOptions.noLocal = static_cast<unsigned char>(a.num("no-local", 0));
    r.subscribeOptions.retainAsPublished = static_cast<unsigned char>(a.num("retain-as-published", 0));
    r.subscribeOptions.retainHandling = static_cast<unsigned char>(a.num("retain-handling", 0));
  }
  const int rc = MQTTAsync_subscribe(client, a.args[0].c_str(), std::atoi(a.args[1].c_str()), &r);
  if (rc != MQTTASYNC_SUCCESS) emit("error MQTTAsync_subscribe " + std::to_string(rc));
}

void do_unsubscribe(const action& a) {
  if (a.args.empty()) return emit("error unsubscribe wants FILTER");
  auto r = response_options(false);
  if (args.v5) r.onSuccess5 = on_unsubscribed5;
  else r.onSuccess = on_unsubscribed;
  const int rc = MQTTAsync_unsubscribe(client, a.args[0].c_str(), &r);
  if (rc != MQTTASYNC_SUCCESS) emit("error MQTTAsync_unsubscribe " + std::to_string(rc));
}

void do_disconnect(const action& a) {
  disconnecting = true;
  MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
  if (args.v5) {
    MQTTAsync_disconnectOptions d5 = MQTTAsync_disconnectOptions_initializer5;
    d = d5;
    d.reasonCode = static_cast<enum MQTTReasonCodes>(a.num("reason", 0));
    d.onSuccess5 = on_disconnected5;
  } else {
    d.onSuccess = on_disconnected;
  }
  d.timeout = 0;
  {
    std::lock_guard l(wait_mutex);
    disconnect_done = false;
  }
  const int rc = MQTTAsync_disconnect(client, &d);
  if (rc != MQTTASYNC_SUCCESS) return emit("error MQTTAsync_disconnect " + std::to_string(rc));
  std::unique_lock l(wait_mutex);
  wait_cv.wait_for(l, std::chrono::seconds(2), [] { return disconnect_done; });
  connected = false;
  emit("disconnected");
}

}  // namespace

int main(int argc, char** argv) {
  args = parse_arguments(argc, argv);
  emit("ready");
  while (auto line = read_line()) {
    if (line->empty()) continue;
    const auto a = parse_action(*line);
    if (a.verb == "exit") break;
    if (a.verb == "connect") {
      do_connect(a);
      continue;
    }
    if (a.verb == "wait") {
      std::this_thread::sleep_for(std::chrono::milliseconds(a.args.empty() ? 0 : std::atol(a.args[0].c_str())));
      continue;
    }
    if (client == nullptr && (a.verb == "publish" || a.verb == "subscribe" || a.verb == "unsubscribe" || a.verb == "disconnect")) {
      emit("error not connected yet");
      continue;
    }
    if (a.verb == "publish") do_publish(a);
    else if (a.verb == "subscribe") do_subscribe(a);
    else if (a.verb == "unsubscribe") do_unsubscribe(a);
    else if (a.verb == "disconnect") do_disconnect(a);
    else emit("unsupported " + a.verb);
  }
  std::fflush(stdout);
  std::_Exit(0);
}
