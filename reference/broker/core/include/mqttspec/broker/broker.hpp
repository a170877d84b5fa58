#pragma once
// The broker without I/O: every connection's session machine, the MQTT Sessions that outlive
// connections, routing, QoS flows both ways, retained messages, wills and expiry. The network
// shell feeds it bytes, closes and time, and carries out the actions it queues; the fuzzers drive
// it the same way. Deterministic: same inputs, same actions.
#include "mqttspec/broker/enhanced_auth.hpp"
#include "mqttspec/broker/retained_store.hpp"
#include "mqttspec/broker/session_state.hpp"
#include "mqttspec/broker/storage.hpp"
#include "mqttspec/broker/subscription_tree.hpp"
#include "mqttspec/session/server_session.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace mqttspec::broker {

using millis = session::millis;
using connection_id = std::uint64_t;

struct config {
  session::server_limits limits;                 // inbound Maximum Packet Size, Topic Alias Maximum, CONNECT timeout
  std::uint16_t receive_maximum = 100;            // inbound QoS 2 in flight per connection (5.0 CONNACK)
  codec::qos maximum_qos = codec::qos::exactly_once;
  bool retain_available = true;
  // Limits (docs/broker-limits.md). A full queue (messages or bytes) makes room for a QoS 1/2
  // message by dropping its oldest QoS 0 message; otherwise the new message is dropped. Both are counted.
  std::size_t max_queued_messages = 10'000;       // per Session
  std::size_t max_queued_bytes = 0;               // per Session (message_bytes); 0: no limit
  std::size_t max_topic_levels = 0;               // Topic Names and Filters, as written; 0: no limit
  std::size_t max_topic_length = 0;               // bytes; 0: no limit (the protocol's is 65535)
  std::size_t max_subscriptions = 0;              // per Session; 0: no limit
  std::size_t max_retained_messages = 0;          // in total; 0: no limit
  std::size_t max_retained_bytes = 0;             // in total (message_bytes); 0: no limit
  std::uint32_t session_expiry_cap = 0xFFFF'FFFF; // seconds; caps what clients ask for
  std::optional<std::uint16_t> server_keep_alive; // overrides the clients' Keep Alive (5.0)
  bool allow_anonymous = true;
  // Checks a user name and password; nullptr accepts everyone who may connect.
  std::function<bool(std::string_view user, std::optional<codec::bytes_view> password)> authenticate;
  // Enhanced authentication (5.0): a CONNECT naming one of these methods is authenticated by it
  // instead of by `authenticate`; any other method is refused with 0x8C (v5:MQTT-4.12.0-1).
  auth_methods enhanced_auth;

  // Other behaviours the spec allows, so that the conformance suite can be checked against them.
  // Defaults: the reference behaviour.
  bool retained_before_suback = false;  // matching retained PUBLISHes go out before the SUBACK (§3.8.4)
  // Outbound QoS 1/2 messages in flight per Session, 1..65535, under the client's Receive Maximum
  // too (5.0 §4.9, v5:MQTT-4.9.0-1; 3.1.1 §4.6 allows a window of 1). 65535: no limit of ours.
  std::uint16_t send_quota = 65535;
  // The highest QoS a SUBACK grants (§3.8.4), unlike maximum_qos not announced and not a limit on
  // what clients may publish.
  codec::qos max_granted_qos = codec::qos::exactly_once;
  millis resend_delay = 0;  // a resumed Session's resends and queued messages wait this long after the CONNACK
  // 5.0: close with the specific reason code a case has instead of 0x81/0x82 (§4.13.1); the
  // session machines get it as session::server_options::specific_reason_codes.
  bool specific_reason_codes = false;

  // Emit storage effects (take_storage) for a shell that persists durable Sessions and retained
  // messages (storage.hpp). Off: none are made, and nothing else changes.
  bool storage_effects = false;
  // Hand authentication work (`authenticate`, each step of an enhanced-authentication exchange) to
  // the shell as an auth_job (take_auth_jobs) rather than doing it inside the call that received
  // the packet: it may be slow (PBKDF2), and the shell can run it on another thread. Both must then
  // be safe to call from any thread (one exchange is never called by two at once). The connection
  // reads nothing more until the result is back (auth_done); the outcome is the same as without.
  bool defer_authentication = false;
};

// What the shell must do, in order.
struct transmit_to {
  connection_id id;
  codec::bytes data;
  // A QoS 0 PUBLISH: the shell may drop it (and count it) rather than queue it for a client that
  // does not read (§4.3.1: at most once).
  bool droppable = false;
};
struct close_connection {
  connection_id id;
  std::string why;
};
using action = std::variant<transmit_to, close_connection>;

// Authentication work for the shell to run, once, on any thread (config::defer_authentication):
// `work` uses nothing of the core's. Its result goes back to broker::auth_done.
struct auth_job {
  connection_id id;
  std::function<auth_step()> work;
};

struct broker_stats {
  std::uint64_t messages_received = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_dropped = 0;  // queue full, expired, or too large for the client
  std::uint64_t qos0_dropped = 0;      // of messages_dropped: QoS 0 ones dropped for a full queue
  std::uint64_t protocol_violations = 0;
  std::uint64_t refused_by_limits = 0; // PUBLISHes and subscriptions refused by a topic or subscription limit
  std::uint64_t retained_refused = 0;  // RETAIN=1 messages not retained: the retained limits were reached (still routed)
};

class broker {
  enum class auth_wait : std::uint8_t { none, password, exchange_step };

 public:
  explicit broker(config c = {});
  ~broker();
  broker(const broker&) = delete;
  broker& operator=(const broker&) = delete;

  connection_id open(millis now);                                   // a transport was accepted
  void receive(connection_id id, codec::bytes_view data, millis now);  // bytes arrived
  void transport_closed(connection_id id, millis now);              // the peer or the network closed it
  std::optional<millis> deadline() const;                           // when on_timer is next due
  void on_timer(millis now);
  // Ends every connection (server shutting down; 5.0 clients get DISCONNECT 0x8B).
  void shutdown(millis now);

  std::vector<action> take_actions();
  bool has_actions() const noexcept { return !actions_.empty(); }

  // config::defer_authentication: the work queued so far, and the result of a job's work. A result
  // for a connection that has closed meanwhile is dropped.
  std::vector<auth_job> take_auth_jobs() { return std::exchange(auth_jobs_, {}); }
  bool has_auth_jobs() const noexcept { return !auth_jobs_.empty(); }
  void auth_done(connection_id id, auth_step result, millis now);

  // Durability (config::storage_effects). The effects of every call so far, in order: the shell
  // must have written them before it carries out the actions queued with or after them.
  std::vector<storage::effect> take_storage();
  bool has_storage() const noexcept { return !storage_.empty(); }
  // Rebuilds the state a previous run stored, on a broker that has no connection or Session yet.
  // Sessions that still had a connection count as closed at snapshot::last_alive (or `now`): their
  // Wills start then, and so does their expiry. Then whatever is due by `now` happens (Wills go
  // out, expired Sessions end, expired queued and retained messages are dropped), each with its
  // storage effects.
  storage::restore_report restore(storage::snapshot snap, millis now);

  // Introspection for tests and logs.
  const broker_stats& stats() const noexcept { return stats_; }
  std::size_t connection_count() const noexcept { return connections_.size(); }
  const session_state* find_session(std::string_view client_id) const;
  std::size_t session_count() const noexcept { return sessions_.size(); }
  const retained_store& retained() const noexcept { return retained_; }
  const subscription_tree& subscriptions() const noexcept { return subscriptions_; }
  const config& settings() const noexcept { return config_; }

 private:
  struct connection {
    connection_id id;
    session::server_session machine;
    std::string client_id;  // set once CONNECT is accepted
    std::string violated;   // the statement a broker-detected violation broke (for the close's log line)
    std::string auth_method;                       // the CONNECT's Authentication Method, if any
    // Set while an authentication is in progress; shared with the auth_job of a step that is out.
    std::shared_ptr<auth_exchange> exchange;
    // The CONNECT awaiting the end of its authentication. On the heap: inline it would take ~950
    // bytes of every connection, idle ones included.
    std::unique_ptr<codec::owned_packet> connecting;
    // An auth_job out (config::defer_authentication), and the input that came behind it meanwhile.
    auth_wait waiting = auth_wait::none;
    std::vector<session::event> held;
  };

  void run(connection_id id, std::vector<session::event> events, millis now);
  void take_input(connection_id id, std::vector<session::event> events, millis now);
  void read_buffered(connection_id id, millis now);
  void handle(connection_id id, connection& c, const codec::owned_packet& p, millis now);
  void on_connect(connection_id id, connection& c, const codec::owned_packet& p, millis now);
  // `password_ok`: the verdict of a deferred password check, once it is back.
  void accept_connect(connection_id id, connection& c, const codec::owned_packet& p, std::string_view auth_data,
                      millis now, std::optional<bool> password_ok = std::nullopt);
  void on_auth(connection& c, const codec::auth& a, millis now);
  void auth_continue(connection& c, std::string_view data, millis now);
  void auth_step_taken(connection& c, auth_step step, millis now);
  void on_publish(connection& c, session_state& s, const codec::owned_packet& p, millis now);
  void on_subscribe(connection& c, session_state& s, const codec::subscribe& sub, millis now);
  void on_unsubscribe(connection& c, session_state& s, const codec::unsubscribe& u, millis now);
  void on_disconnect(connection& c, session_state& s, const codec::disconnect& d, millis now);
  void on_closed(connection_id id, const session::close& why, millis now);

  void send(connection& c, const codec::packet& p, millis now);
  void refuse_connect(connection& c, codec::reason_code code, millis now);
  void violation(connection& c, codec::reason_code code, std::string_view statement, millis now);
  // 0x82, or `specific` under config::specific_reason_codes (5.0 §4.13.1), for the violations the
  // core detects; the session machine picks its own closes' codes (session::server_options).
  codec::reason_code protocol_error_or(codec::reason_code specific) const;
  void route(const message& m, std::optional<std::string_view> publisher, millis now);
  void deliver(session_state& s, outgoing item, millis now);
  void pump(session_state& s, millis now);
  bool transmit_publish(session_state& s, inflight& f, bool resend, millis now);
  void resume(session_state& s, bool session_present, millis now);
  void publish_will(session_state& s, millis now);
  void detach(session_state& s, millis now);  // its connection is gone (Will, expiry)
  void retain(const message& m, millis now);  // a RETAIN=1 message for the retained store
  void enqueue(session_state& s, outgoing item);
  bool topic_within_limits(std::string_view topic) const noexcept;
  // Storage effects (persistence.cpp).
  bool tracked(const session_state& s) const noexcept { return config_.storage_effects && s.stored; }
  void persist(session_state& s);  // the Session's own fields; all of it when it becomes durable
  void emit(storage::effect e) { storage_.push_back(std::move(e)); }
  void emit_message(const session_state& s, const outgoing& item, const inflight* f);
  void emit_sent(const session_state& s, const inflight& f);
  void emit_done(const session_state& s, const outgoing& item);
  void end_session(const std::string& client_id, millis now);
  std::string assign_client_id();

  config config_;
  std::map<connection_id, connection> connections_;
  std::map<std::string, session_state, std::less<>> sessions_;
  subscription_tree subscriptions_;
  retained_store retained_;
  std::size_t retained_bytes_ = 0;  // message_bytes of every retained message
  std::vector<action> actions_;
  std::vector<storage::effect> storage_;
  std::vector<auth_job> auth_jobs_;
  broker_stats stats_;
  connection_id next_connection_ = 1;
  std::uint64_t next_assigned_id_ = 1;
  // No later than the earliest deadline of any connection or Session: lowered whenever one is
  // set or may have moved earlier, recomputed by a full scan only in on_timer. deadline() is asked
  // after every input, and scanning 10,000 connections each time made connecting quadratic.
  std::optional<millis> next_deadline_;
  void note_deadline(std::optional<millis> t) noexcept {
    if (t && (!next_deadline_ || *t < *next_deadline_)) next_deadline_ = t;
  }
  void note_connection_deadline(connection_id id);
  std::optional<millis> earliest_deadline() const;  // the full scan
};

}  // namespace mqttspec::broker
