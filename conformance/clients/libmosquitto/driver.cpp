// Client driver (docs/client-drivers.md) for libmosquitto (Debian's libmosquitto-dev), MQTT 3.1.1
// and 5.0. The network loop is a thread of its own calling mosquitto_loop(), with the library in
// threaded mode (what mosquitto_loop_start() sets up) but without its automatic reconnection: a
// later `connect` connects the same handle again, so the Session State the library keeps (its
// in-flight messages) carries over.
#include "driver_io.hpp"

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <thread>

namespace {

using namespace mqttspec_driver;

struct driver {
  arguments args;
  mosquitto* m = nullptr;
  bool clean = true;
  std::mutex lock;  // held by the loop thread while it runs the library
  std::atomic<bool> running{true}, wanted{false}, disconnecting{false};
  std::mutex connect_mutex;
  std::condition_variable connect_cv;
  std::optional<std::string> connect_result;
  std::thread loop_thread;
};

driver* self = nullptr;

void settle(std::string line) {
  std::lock_guard l(self->connect_mutex);
  if (!self->connect_result) self->connect_result = std::move(line);
  self->connect_cv.notify_all();
}

void on_connect(mosquitto*, void*, int rc, int flags, const mosquitto_property*) {
  if (rc == 0) return settle("connected session-present=" + std::to_string(flags & 1));
  self->wanted = false;
  settle("connect-failed reason=" + std::to_string(rc));
}

void on_disconnect(mosquitto*, void*, int rc, const mosquitto_property*) {
  if (self->disconnecting) return;
  {
    std::lock_guard l(self->connect_mutex);
    if (!self->connect_result) {
      self->connect_result = "connect-failed detail=closed";
      self->connect_cv.notify_all();
      self->wanted = false;
      return;
    }
  }
  if (self->wanted.exchange(false)) emit("connection-lost reason=" + std::to_string(rc));
}

void on_message(mosquitto*, void*, const mosquitto_message* msg, const mosquitto_property*) {
  emit("message topic=" + encode(msg->topic ? msg->topic : "") + " qos=" + std::to_string(msg->qos) +
       " retain=" + (msg->retain ? "1" : "0") + " payload=" + hex(msg->payload, static_cast<std::size_t>(msg->payloadlen)));
}

void on_subscribe(mosquitto*, void*, int, int count, const int* granted, const mosquitto_property*) {
  std::string codes;
  for (int i = 0; i < count; ++i) {
    if (i) codes += ',';
    codes += std::to_string(granted[i]);
  }
  emit("subscribed codes=" + codes);
}

void on_unsubscribe(mosquitto*, void*, int, const mosquitto_property*) { emit("unsubscribed"); }

void loop() {
  while (self->running) {
    bool ran = false;
    {
      std::lock_guard l(self->lock);
      if (self->m && self->wanted) {
        ran = true;
        const int rc = mosquitto_loop(self->m, 50, 1);
        if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN && self->wanted && !self->disconnecting) {
          // The callback has said it; a loss it did not see (say, a refused read) still ends the wait.
          on_disconnect(self->m, nullptr, rc, nullptr);
        }
        if (rc == MOSQ_ERR_NO_CONN) self->wanted = false;
      }
    }
    if (!ran) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

void do_connect(const action& a) {
  const bool clean = a.num("clean", 1) == 1;
  const std::string client_id = a.has("client-id") ? a.opt("client-id") : self->args.client_id;
  if (self->m == nullptr) {
    self->m = mosquitto_new(client_id.empty() ? nullptr : client_id.c_str(), clean, nullptr);
    if (self->m == nullptr) return emit("error mosquitto_new " + encode(std::strerror(errno)));
    self->clean = clean;
    mosquitto_int_option(self->m, MOSQ_OPT_PROTOCOL_VERSION, self->args.v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
    mosquitto_threaded_set(self->m, true);
    mosquitto_connect_v5_callback_set(self->m, on_connect);
    mosquitto_disconnect_v5_callback_set(self->m, on_disconnect);
    mosquitto_message_v5_callback_set(self->m, on_message);
    mosquitto_subscribe_v5_callback_set(self->m, on_subscribe);
    mosquitto_unsubscribe_v5_callback_set(self->m, on_unsubscribe);
  } else if (clean != self->clean) {
    return emit("unsupported connect clean (libmosquitto fixes the clean session flag per mosquitto_new)");
  }
  if (a.has("auth-method")) return emit("unsupported connect auth-method (libmosquitto has no AUTH exchange for clients)");
  if (a.num("keep-alive", 60) != 0 && a.num("keep-alive", 60) < 5)
    return emit("unsupported connect keep-alive=" + std::to_string(a.num("keep-alive", 60)) + " (libmosquitto refuses a Keep Alive below 5 s)");
  if (a.has("username") || a.has("password")) {
    const auto u = a.opt("username"), p = a.opt("password");
    const int rc = mosquitto_username_pw_set(self->m, a.has("username") ? u.c_str() : nullptr, a.has("password") ? p.c_str() : nullptr);
    if (rc != MOSQ_ERR_SUCCESS) return emit("error username_pw_set " + encode(mosquitto_strerror(rc)));
  }
  if (a.has("will-topic")) {
    const auto topic = a.opt("will-topic"), payload = a.opt("will-payload");
    const int rc = mosquitto_will_set_v5(self->m, topic.c_str(), static_cast<int>(payload.size()), payload.data(),
                                         static_cast<int>(a.num("will-qos", 0)), a.num("will-retain", 0) == 1, nullptr);
    if (rc != MOSQ_ERR_SUCCESS) return emit("error will_set " + encode(mosquitto_strerror(rc)));
  }
  mosquitto_property* props = nullptr;
  if (self->args.v5) {
    if (a.has("session-expiry"))
      mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, static_cast<uint32_t>(a.num("session-expiry", 0)));
    if (a.has("receive-maximum"))
      mosquitto_property_add_int16(&props, MQTT_PROP_RECEIVE_MAXIMUM, static_cast<uint16_t>(a.num("receive-maximum", 0)));
    if (a.has("topic-alias-maximum"))
      mosquitto_property_add_int16(&props, MQTT_PROP_TOPIC_ALIAS_MAXIMUM, static_cast<uint16_t>(a.num("topic-alias-maximum", 0)));
    if (a.has("maximum-packet-size"))
      mosquitto_property_add_int32(&props, MQTT_PROP_MAXIMUM_PACKET_SIZE, static_cast<uint32_t>(a.num("maximum-packet-size", 0)));
  }
  {
    std::lock_guard l(self->connect_mutex);
    self->connect_result.reset();
  }
  self->disconnecting = false;
  int rc;
  {
    std::lock_guard l(self->lock);
    // Every connect goes through mosquitto_connect_bind_v5(), which keeps the handle's messages
    // (what mosquitto_reconnect() does too) and takes this action's Keep Alive and properties.
    rc = mosquitto_connect_bind_v5(self->m, self->args.host.c_str(), self->args.port,
                                   static_cast<int>(a.num("keep-alive", 60)), nullptr, props);
    if (rc == MOSQ_ERR_SUCCESS) self->wanted = true;
  }
  mosquitto_property_free_all(&props);
  if (rc != MOSQ_ERR_SUCCESS) return emit("connect-failed detail=" + encode(mosquitto_strerror(rc)));
  std::unique_lock l(self->connect_mutex);
  if (!self->connect_cv.wait_for(l, std::chrono::seconds(10), [] { return self->connect_result.has_value(); }))
    return emit("connect-failed detail=no%20CONNACK");
  emit(*self->connect_result);
}

void do_publish(const action& a) {
  if (a.args.size() < 3) return emit("error publish wants TOPIC QOS PAYLOAD");
  if (has_nul(a.args[0])) return emit("unsupported publish topic with U+0000 (the C API takes NUL-terminated strings)");
  mosquitto_property* props = nullptr;
  if (self->args.v5) {
    if (a.has("topic-alias")) mosquitto_property_add_int16(&props, MQTT_PROP_TOPIC_ALIAS, static_cast<uint16_t>(a.num("topic-alias", 0)));
    if (a.has("response-topic")) mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, a.opt("response-topic").c_str());
    if (a.has("content-type")) mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, a.opt("content-type").c_str());
    if (a.has("message-expiry"))
      mosquitto_property_add_int32(&props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, static_cast<uint32_t>(a.num("message-expiry", 0)));
  }
  const int rc = mosquitto_publish_v5(self->m, nullptr, a.args[0].c_str(), static_cast<int>(a.args[2].size()), a.args[2].data(),
                                      std::atoi(a.args[1].c_str()), a.num("retain", 0) == 1, props);
  mosquitto_property_free_all(&props);
  if (rc != MOSQ_ERR_SUCCESS) emit("error publish " + encode(mosquitto_strerror(rc)));
}

void do_subscribe(const action& a) {
  if (a.args.size() < 2) return emit("error subscribe wants FILTER QOS");
  if (has_nul(a.args[0])) return emit("unsupported subscribe filter with U+0000 (the C API takes NUL-terminated strings)");
  int options = 0;
  if (a.num("no-local", 0) == 1) options |= MQTT_SUB_OPT_NO_LOCAL;
  if (a.num("retain-as-published", 0) == 1) options |= MQTT_SUB_OPT_RETAIN_AS_PUBLISHED;
  const long rh = a.num("retain-handling", 0);
  if (rh == 1) options |= MQTT_SUB_OPT_SEND_RETAIN_NEW;
  if (rh == 2) options |= MQTT_SUB_OPT_SEND_RETAIN_NEVER;
  const int rc = mosquitto_subscribe_v5(self->m, nullptr, a.args[0].c_str(), std::atoi(a.args[1].c_str()), options, nullptr);
  if (rc != MOSQ_ERR_SUCCESS) emit("error subscribe " + encode(mosquitto_strerror(rc)));
}

void do_unsubscribe(const action& a) {
  if (a.args.empty()) return emit("error unsubscribe wants FILTER");
  const int rc = mosquitto_unsubscribe_v5(self->m, nullptr, a.args[0].c_str(), nullptr);
  if (rc != MOSQ_ERR_SUCCESS) emit("error unsubscribe " + encode(mosquitto_strerror(rc)));
}

void do_disconnect(const action& a) {
  self->disconnecting = true;
  const int rc = mosquitto_disconnect_v5(self->m, static_cast<int>(a.num("reason", 0)), nullptr);
  if (rc != MOSQ_ERR_SUCCESS) return emit("error disconnect " + encode(mosquitto_strerror(rc)));
  // The loop thread writes the DISCONNECT and closes; wait for that.
  for (int i = 0; i < 100 && self->wanted; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  self->wanted = false;
  emit("disconnected");
}

}  // namespace

int main(int argc, char** argv) {
  driver d;
  self = &d;
  d.args = parse_arguments(argc, argv);
  mosquitto_lib_init();
  d.loop_thread = std::thread(loop);
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
    if (d.m == nullptr && (a.verb == "publish" || a.verb == "subscribe" || a.verb == "unsubscribe" || a.verb == "disconnect")) {
      emit("error not connected yet");
      continue;
    }
    if (a.verb == "publish") do_publish(a);
    else if (a.verb == "subscribe") do_subscribe(a);
    else if (a.verb == "unsubscribe") do_unsubscribe(a);
    else if (a.verb == "disconnect") do_disconnect(a);
    else emit("unsupported " + a.verb);
  }
  // Out without tearing the library down (its threads may be in a call): the process ends here.
  std::fflush(stdout);
  std::_Exit(0);
}
