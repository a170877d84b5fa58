#include "mqttspec/conformance/engine.hpp"

#include "client_connection.hpp"
#include "mqttspec/auth/scram.hpp"
#include "mqttspec/conformance/predicates.hpp"
#include "mqttspec/conformance/variables.hpp"

#include <algorithm>
#include <map>
#include <random>

namespace mqttspec::conformance {
namespace {

using namespace std::chrono_literals;

codec::protocol_version codec_version(suite_version v) {
  return v == suite_version::v5 ? codec::protocol_version::v5 : codec::protocol_version::v3_1_1;
}

// Why a step did not go as the scenario wanted.
struct step_problem {
  bool harness = false;  // the harness could not do it (not a finding about the broker)
  std::string expected;
  std::string observed;
  bool unsupported = false;  // the broker made a legal choice the scenario cannot test (e.g. a lower granted QoS)
};

class scenario_run {
 public:
  scenario_run(const scenario& s, const engine_options& o, const capability_set& caps, std::size_t index)
      : s_(s), o_(o), version_(codec_version(s.version)), log_(version_), work_(asio::make_work_guard(io_)) {
    vars_["prefix"] = make_prefix(o.run_token, index);
    for (const auto& [k, v] : caps.values) vars_["cap." + k] = v;
    if (o.enhanced_auth) {
      vars_["auth.method"] = o.enhanced_auth->method;
      vars_["auth.user"] = o.enhanced_auth->user;
      // One client-first per scenario: a re-authentication reuses it, the server's nonce makes each exchange new.
      vars_["scram.client-first"] = auth::scram::make_client_first(o.enhanced_auth->user, auth::scram::random_nonce());
    }
  }

  ~scenario_run() {
    for (auto& [name, c] : clients_) c->close();
  }

  scenario_result run() {
    scenario_result r;
    r.sc = &s_;
    const auto start = steady::now();
    std::error_code ec;
    endpoints_ = asio::ip::tcp::resolver(io_).resolve(o_.broker.host, o_.broker.port, ec);
    std::optional<step_problem> problem;
    const step* failed = nullptr;
    if (ec) {
      problem = step_problem{true, "resolve " + o_.broker.display(), ec.message()};
    } else {
      for (const auto& st : s_.steps) {
        problem = run_step(st);
        if (problem) {
          failed = &st;
          break;
        }
      }
      if (!problem) problem = run_control(failed);
      // Cleanup always runs; its problems are logged, they do not change the verdict.
      for (const auto& st : s_.cleanup) {
        if (auto p = run_step(st)) log_.event("cleanup", "cleanup step failed: " + p->expected + " / " + p->observed);
      }
    }
    // Bytes from the broker that did not decode are findings even when no step looked at them.
    for (auto& [name, c] : clients_history_)
      for (const auto& e : c->events())
        if (e.what == incoming::kind::malformed) {
          r.findings.push_back(name + ": broker sent a malformed packet: " + e.error.message());
          // The failure is about the rule the broker's bytes broke, whatever the scenario tested.
          if (r.broken.empty()) r.broken = e.error.statement;
        } else if (!e.finding.empty())
          r.findings.push_back(name + ": " + e.finding);

    // A TLS failure (say, the broker refused our certificate) is about the setup, not the broker's MQTT.
    if (problem && !problem->harness)
      for (auto& [name, c] : clients_history_)
        for (const auto& e : c->events())
          if (e.tls_failure) problem = step_problem{true, "a working TLS session on " + name, e.note};
    if (problem && problem->unsupported) {
      r.v = verdict::unsupported;
      r.message = problem->observed;
    } else if (problem) {
      r.v = problem->harness ? verdict::error : verdict_for_failure(s_.lvl);
      r.expected = problem->expected;
      r.observed = problem->observed;
      r.step_line = failed ? failed->line : 0;
      r.message = problem->harness ? "harness error: " + problem->expected + ": " + problem->observed
                                   : "expected " + problem->expected + "; observed " + problem->observed;
    }
    if (!r.findings.empty() && r.v != verdict::error && r.v != verdict::unsupported) {
      r.v = verdict::fail;
      if (r.message.empty()) r.message = r.findings.front();
    }
    r.log = std::move(log_.entries());
    r.duration_ms = std::chrono::duration<double, std::milli>(steady::now() - start).count();
    return r;
  }

  // The differential half of a rejection: once the steps passed, the same broker must accept the
  // corrected input on fresh connections, or the rejection proves nothing (a server that closes
  // every connection would pass). A control that fails makes the verdict `error`, never `pass`.
  std::optional<step_problem> run_control(const step*& failed) {
    static const std::vector<step> default_control = [] {
      std::vector<step> c(4);
      c[0].kind = step_kind::connect;
      c[0].attrs = {{"client", "control"}};
      c[1].kind = step_kind::send;
      c[1].attrs = {{"client", "control"}, {"type", "pingreq"}};
      c[2].kind = step_kind::expect;
      c[2].attrs = {{"client", "control"}, {"type", "pingresp"}};
      c[3].kind = step_kind::disconnect;
      c[3].attrs = {{"client", "control"}};
      return c;
    }();
    const bool given = !s_.control.empty();
    if (!given && !expects_close(s_.steps)) return std::nullopt;
    const auto& steps = given ? s_.control : default_control;
    log_.event("control", given ? "control: the corrected input on fresh connections"
                                : "default control: a valid CONNECT and PINGREQ on a fresh connection");
    for (const auto& st : steps) {
      auto p = run_step(st);
      if (!p) continue;
      failed = &st;
      if (p->unsupported) return p;
      return step_problem{true, "the target to accept the valid control (" + p->expected + ")",
                          "target refused the valid control: " + p->observed};
    }
    return std::nullopt;
  }

  static bool expects_close(const std::vector<step>& steps) {
    for (const auto& st : steps) {
      if (st.kind == step_kind::expect_close) return true;
      for (const auto& o : st.options)
        if (expects_close(o.steps)) return true;
    }
    return false;
  }



 private:
  // Runs the io_context until `ready()` holds or the deadline passes.
  template <class Pred>
  bool wait_until(Pred ready, steady::time_point deadline) {
    while (!ready()) {
      if (steady::now() >= deadline) return false;
      io_.run_one_until(deadline);
    }
    return true;
  }

  std::chrono::milliseconds timeout_of(const attributes& a, std::string_view key = "timeout-ms") const {
    if (auto it = a.find(key); it != a.end())
      if (auto n = parse_number(it->second, 600000)) return std::chrono::milliseconds(*n);
    return o_.timeout;
  }

  // Expands variables of a step's attributes; an unknown variable is a scenario bug (harness).
  std::optional<step_problem> expand_all(const attributes& in, attributes& out) {
    for (const auto& [k, v] : in) {
      auto e = expand(v, vars_);
      if (!e.unknown.empty()) return step_problem{true, "variable ${" + e.unknown + "}", "not defined"};
      out[k] = std::move(e.text);
    }
    return std::nullopt;
  }
  std::optional<step_problem> expand_list(const std::vector<attributes>& in, std::vector<attributes>& out) {
    for (const auto& a : in) {
      out.emplace_back();
      if (auto p = expand_all(a, out.back())) return p;
    }
    return std::nullopt;
  }

  void send(client_connection& c, codec::bytes_view bytes) { c.send(bytes, steady::now() + o_.timeout); }

  client_connection* find(const std::string& name) {
    auto it = clients_.find(name);
    return it == clients_.end() ? nullptr : it->second.get();
  }

  std::optional<step_problem> open(const std::string& name, std::chrono::milliseconds timeout, bool auto_ack = true) {
    if (auto* old = find(name)) old->close();
    auto c = std::make_shared<client_connection>(io_, name, version_, log_, o_.tls.get());
    c->auto_ack = auto_ack;
    clients_[name] = c;
    clients_history_.emplace_back(name, c);
    c->start_connect(endpoints_, o_.broker, o_.tls_verify);
    if (!wait_until([&] { return c->connect_done(); }, steady::now() + timeout))
      return step_problem{true, connection_kind() + o_.broker.display(), "no answer within " + std::to_string(timeout.count()) + " ms"};
    if (!c->connect_error().empty())
      return step_problem{true, connection_kind() + o_.broker.display(), c->connect_error()};
    return std::nullopt;
  }

  std::string connection_kind() const {
    if (o_.broker.ws_path) return "WebSocket connection to ";
    return o_.tls ? "TLS connection to " : "TCP connection to ";
  }

  // The next unread event of a client, waiting until the deadline; nullptr when none came.
  incoming* next_event(client_connection& c, steady::time_point deadline) {
    if (!wait_until([&] { return c.cursor < c.events().size(); }, deadline)) return nullptr;
    return &c.events()[c.cursor++];
  }

  static std::string describe(const incoming& e) {
    switch (e.what) {
      case incoming::kind::packet: return codec::to_string(e.pkt.value);
      case incoming::kind::malformed: return "a malformed packet (" + e.error.message() + ")";
      case incoming::kind::closed: return "the connection " + e.note;
    }
    return "?";
  }

  std::optional<step_problem> run_step(const step& st) {
    attributes a;
    std::vector<attributes> topics, props;
    if (auto p = expand_all(st.attrs, a)) return p;
    if (auto p = expand_list(st.topics, topics)) return p;
    if (auto p = expand_list(st.properties, props)) return p;
    const std::string client = a.count("client") ? a["client"] : std::string{};
    const bool needs_client = st.kind == step_kind::send || st.kind == step_kind::expect ||
                              st.kind == step_kind::expect_close || st.kind == step_kind::expect_nothing ||
                              st.kind == step_kind::drop || st.kind == step_kind::disconnect;
    client_connection* c = needs_client ? find(client) : nullptr;
    if (needs_client && !c)
      return step_problem{true, "line " + std::to_string(st.line) + ": client " + client, "was never opened"};

    switch (st.kind) {
      case step_kind::open: {
        if (auto p = open(client, timeout_of(a), auto_ack_of(a))) return p;
        auto want = a.find("ws-subprotocol");
        if (want == a.end()) return std::nullopt;
        const auto& got = find(client)->subprotocol();
        if (!find(client)->is_websocket()) return step_problem{true, "ws-subprotocol", "needs a WebSocket connection"};
        if (got == want->second) return std::nullopt;
        return step_problem{false, "the handshake response selects subprotocol \"" + want->second + "\"",
                            got ? "\"" + *got + "\"" : "no Sec-WebSocket-Protocol header"};
      }
      case step_kind::connect: return do_connect(client, a, props);
      case step_kind::send: {
        auto bytes = build_send(a, topics, props, version_);
        if (!bytes) return step_problem{true, "line " + std::to_string(st.line) + ": packet to send", bytes.error().message};
        auto framing = ws_framing_of(a);  // the ws-* attributes: how the bytes go into WebSocket frames
        if (framing && !framing->plain() && !c->is_websocket()) framing = std::string("needs a WebSocket connection");
        if (!framing) return step_problem{true, "line " + std::to_string(st.line) + ": ws-* attributes", framing.error()};
        c->send(*bytes, steady::now() + o_.timeout, *framing);
        return std::nullopt;
      }
      case step_kind::expect: return do_expect(*c, a, props);
      case step_kind::expect_close: return do_expect_close(*c, a);
      case step_kind::expect_nothing: {
        const auto ms = timeout_of(a, "ms");
        if (auto* e = next_event(*c, steady::now() + ms))
          return step_problem{false, "nothing on " + client + " for " + std::to_string(ms.count()) + " ms", describe(*e)};
        return std::nullopt;
      }
      case step_kind::drop:
        log_.event(client, "dropped by the tester (no DISCONNECT)");
        c->close();
        return std::nullopt;
      case step_kind::disconnect: {
        auto bytes = build_send({{"type", "disconnect"}, {"reason", a.count("reason") ? a["reason"] : "0"}}, {}, props,
                                version_);
        if (!bytes) return step_problem{true, "DISCONNECT", bytes.error().message};
        send(*c, *bytes);
        c->close();
        log_.event(client, "closed by the tester after DISCONNECT");
        return std::nullopt;
      }
      case step_kind::any_of: return do_any_of(st);
      case step_kind::expect_all: return do_expect_all(st);
      case step_kind::clear_retained: return clear_retained(a["topic"]);
      case step_kind::end_session: return end_session(a["client-id"]);
    }
    return std::nullopt;
  }

  std::optional<step_problem> do_connect(const std::string& client, attributes& a, const std::vector<attributes>& props) {
    auto* c = find(client);
    if (!c || !c->is_open()) {
      if (auto p = open(client, o_.timeout)) return p;
      c = find(client);
    }
    c->auto_ack = auto_ack_of(a);
    auto bytes = build_connect(a, props, version_, vars_["prefix"] + client, o_.cred);
    if (!bytes) return step_problem{true, "CONNECT", bytes.error().message};
    send(*c, *bytes);
    const std::string mode = a.count("expect") ? a["expect"] : "success";
    if (mode == "none") return std::nullopt;
    attributes want{{"type", "connack"}};
    want["reason"] = a.count("reason") ? a["reason"] : "0";
    if (a.count("session-present")) want["session-present"] = a["session-present"];
    if (a.count("timeout-ms")) want["timeout-ms"] = a["timeout-ms"];
    if (a.count("eventual")) want["eventual"] = a["eventual"];
    if (auto p = do_expect(*c, want, {})) return p;
    // ${CLIENT.keep-alive}: the Keep Alive in force, the broker's Server Keep Alive if it sent one (v5:MQTT-3.2.2-21).
    vars_[client + ".keep-alive"] = a.count("keep-alive") ? a["keep-alive"] : std::to_string(default_keep_alive);
    if (c->cursor > 0)
      if (const auto* ack = std::get_if<codec::connack>(&c->events()[c->cursor - 1].pkt.value); ack && ack->props.server_keep_alive)
        vars_[client + ".keep-alive"] = std::to_string(*ack->props.server_keep_alive);
    const auto keep_alive = parse_number(vars_[client + ".keep-alive"], 65535).value_or(0);
    if (keep_alive > 0 && parse_bool(a.count("auto-ping") ? a["auto-ping"] : "1").value_or(true))
      c->keep_alive(std::chrono::milliseconds(keep_alive * 500));
    return std::nullopt;
  }

  static bool auto_ack_of(const attributes& a) {
    auto it = a.find("auto-ack");
    return it == a.end() || parse_bool(it->second).value_or(true);
  }
  static bool eventual(const attributes& a) {
    auto it = a.find("eventual");
    return it != a.end() && parse_bool(it->second).value_or(false);
  }

  // How long an expectation waits: its timeout-ms, or for behaviour without a deadline in the
  // spec (eventual="1") the run's --eventual-timeout-ms.
  std::chrono::milliseconds wait_of(const attributes& a) const {
    return eventual(a) ? std::max(o_.eventual_timeout, timeout_of(a)) : timeout_of(a);
  }

  std::optional<step_problem> do_expect(client_connection& c, const attributes& a, const std::vector<attributes>& props) {
    const auto expected = describe_expectation(a, props) + " on " + c.name();
    const auto start = steady::now();
    const auto ms = wait_of(a);
    auto* e = next_event(c, start + ms);
    if (!e) return step_problem{false, expected, "nothing within " + std::to_string(ms.count()) + " ms"};
    if (e->what != incoming::kind::packet) return step_problem{false, expected, describe(*e)};
    if (auto why = match(e->pkt, a, props, version_))
      return step_problem{false, expected, describe(*e) + " (" + *why + ")"};
    note_latency(c, a, start, *e);
    return accepted(*e, a, expected);
  }

  // An eventual expectation met after the ordinary timeout passes; the latency goes in the log.
  void note_latency(const client_connection& c, const attributes& a, steady::time_point start, const incoming& e) {
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(e.at - start);
    if (eventual(a) && took > timeout_of(a))
      log_.event(c.name(), "arrived after " + std::to_string(took.count()) +
                               " ms: later than --timeout-ms, within the eventual ceiling (the spec sets no deadline)");
  }

  // What a matched packet defines for later steps: captures, SCRAM answers; a SUBACK that granted
  // less than the scenario needs makes it unsupported (the Server may grant a lower QoS, §3.8.4).
  std::optional<step_problem> accepted(const incoming& e, const attributes& a, const std::string& expected) {
    if (auto cap = a.find("capture-id"); cap != a.end()) {
      std::visit([&](const auto& x) {
        if constexpr (requires { x.packet_id; }) vars_[cap->second] = std::to_string(x.packet_id);
      }, e.pkt.value);
    }
    if (const auto* ack = std::get_if<codec::suback>(&e.pkt.value)) {
      const auto granted = ack->codes.empty() ? 0u : static_cast<unsigned>(ack->codes.front());
      if (auto cap = a.find("capture-granted"); cap != a.end()) vars_[cap->second] = std::to_string(granted);
      if (auto need = a.find("min-granted"); need != a.end() && granted < 0x80 &&
                                             granted < parse_number(need->second, 2).value_or(0))
        return step_problem{false, expected, "the broker granted QoS " + std::to_string(granted) +
                                                 " where the scenario needs at least " + need->second +
                                                 " (a legal choice, §3.8.4)", true};
    }
    if (a.count("scram")) return scram_answer(e, a, expected);
    return std::nullopt;
  }

  // <expect-all>: each expectation is met by one packet, in any order; on every client involved,
  // nothing else may come until all of its expectations are met.
  std::optional<step_problem> do_expect_all(const step& st) {
    struct want {
      client_connection* c;
      attributes a;
      std::vector<attributes> props;
      std::string expected;
      bool met = false;
    };
    std::vector<want> wants;
    auto deadline = steady::now();
    const auto start = deadline;
    std::string all;
    for (const auto& g : st.group) {
      want w;
      if (auto p = expand_all(g.attrs, w.a)) return p;
      if (auto p = expand_list(g.properties, w.props)) return p;
      w.c = find(w.a["client"]);
      if (!w.c) return step_problem{true, "line " + std::to_string(g.line) + ": client " + w.a["client"], "was never opened"};
      w.expected = describe_expectation(w.a, w.props) + " on " + w.c->name();
      all += (all.empty() ? "" : ", ") + w.expected;
      deadline = std::max(deadline, start + wait_of(w.a));
      wants.push_back(std::move(w));
    }
    const auto expected = "in any order: " + all;
    for (;;) {
      bool progress = false;
      for (auto& w : wants) {
        if (w.met || w.c->cursor >= w.c->events().size()) continue;
        auto& e = w.c->events()[w.c->cursor++];
        progress = true;
        if (e.what != incoming::kind::packet) return step_problem{false, expected, describe(e)};
        auto it = std::find_if(wants.begin(), wants.end(), [&](const want& x) {
          return !x.met && x.c == w.c && !match(e.pkt, x.a, x.props, version_);
        });
        if (it == wants.end()) return step_problem{false, expected, describe(e) + " (matches none of them)"};
        it->met = true;
        note_latency(*it->c, it->a, start, e);
        if (auto p = accepted(e, it->a, it->expected)) return p;
      }
      if (std::all_of(wants.begin(), wants.end(), [](const want& w) { return w.met; })) return std::nullopt;
      if (progress) continue;
      const bool arrived = wait_until([&] {
        return std::any_of(wants.begin(), wants.end(), [&](const want& w) {
          return !w.met && w.c->cursor < w.c->events().size();
        });
      }, deadline);
      if (!arrived) {
        std::string missing;
        for (const auto& w : wants)
          if (!w.met) missing += (missing.empty() ? "" : ", ") + w.expected;
        return step_problem{false, expected, "nothing more within " +
                                                 std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - start).count()) +
                                                 " ms; still missing: " + missing};
      }
    }
  }

  // <expect scram="server-first" [scram-password="..."]>: the packet's Authentication Data is the
  // broker's SCRAM challenge; computes our answer (with the run's password unless the step gives a
  // wrong one on purpose) into ${scram.client-final}, and the expected ${scram.server-final}.
  std::optional<step_problem> scram_answer(const incoming& e, const attributes& a, const std::string& expected) {
    if (a.at("scram") != "server-first") return step_problem{true, "scram=\"server-first\"", "scram=\"" + a.at("scram") + "\""};
    if (!o_.enhanced_auth) return step_problem{true, "enhanced-authentication credentials", "none given (--auth-method)"};
    const auto first = auth::scram::parse_client_first(vars_["scram.client-first"]);
    std::optional<std::string_view> data;
    std::visit([&](const auto& x) {
      if constexpr (requires { x.props.authentication_data; }) data = x.props.authentication_data;
    }, e.pkt.value);
    const auto server = auth::scram::parse_server_first(data.value_or(""));
    if (!server) return step_problem{false, expected + " carrying a SCRAM server-first-message", "Authentication Data \"" +
                                     std::string(data.value_or("")) + "\""};
    const auto password = a.count("scram-password") ? a.at("scram-password") : o_.enhanced_auth->password;
    const auto answer = auth::scram::make_client_final(*first, *server, password);
    if (!answer) return step_problem{false, expected + " whose nonce extends ours", "nonce " + server->nonce};
    vars_["scram.client-final"] = answer->message;
    vars_["scram.server-final"] = answer->expected_server_final;
    return std::nullopt;
  }

  std::optional<step_problem> do_expect_close(client_connection& c, const attributes& a) {
    const auto start = steady::now();
    const auto ms = timeout_of(a);
    std::optional<std::vector<std::string>> reasons;
    if (a.count("reasons")) reasons = split_list(a.at("reasons"));
    const bool require_reason = a.count("require-reason") && parse_bool(a.at("require-reason")).value_or(false);
    // no-reason: a plain close, without a DISCONNECT or refusing CONNACK first (e.g. where the broker may not send one).
    if (a.count("no-reason") && parse_bool(a.at("no-reason")).value_or(false)) reasons.emplace();
    std::string expected = "the broker closes the connection of " + c.name();
    if (reasons && reasons->empty()) expected += " without a DISCONNECT or refusing CONNACK first";
    else if (reasons) expected += std::string(require_reason ? " after" : ", optionally after") +
                                  " DISCONNECT/CONNACK with reason " + a.at("reasons");
    if (a.count("min-ms")) expected += ", not before " + a.at("min-ms") + " ms";
    if (a.count("max-size")) expected += ", that packet at most " + a.at("max-size") + " bytes";
    bool reason_seen = false;
    for (;;) {
      auto* e = next_event(c, start + ms);
      if (!e) return step_problem{false, expected, "still open after " + std::to_string(ms.count()) + " ms"};
      if (e->what == incoming::kind::malformed) return step_problem{false, expected, describe(*e)};
      if (e->what == incoming::kind::closed) {
        const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(e->at - start);
        if (a.count("min-ms") && after.count() < static_cast<long>(*parse_number(a.at("min-ms"), 600000)))
          return step_problem{false, expected, "closed after only " + std::to_string(after.count()) + " ms"};
        if (require_reason && !reason_seen) return step_problem{false, expected, "closed without a reason code"};
        return std::nullopt;
      }
      // Nothing follows the DISCONNECT or refusing CONNACK but the close (v5:MQTT-3.14.4-1, v5:MQTT-3.2.2-7).
      if (reason_seen) return step_problem{false, expected, describe(*e) + " after the reason code, before the close"};
      const auto type = codec::type_of(e->pkt.value);
      const auto code = wire_reason(e->pkt.value, version_);
      const bool refusal = type == codec::packet_type::disconnect ||
                           (type == codec::packet_type::connack && code &&
                            (codec::is_v5(version_) ? *code >= 0x80 : *code != 0));
      if (!refusal) return step_problem{false, expected, describe(*e)};
      if (reasons) {
        bool ok = false;
        for (const auto& r : *reasons) ok = ok || parse_number(r, 255) == code;
        if (!ok) return step_problem{false, expected, describe(*e)};
      }
      if (auto why = check_size(e->pkt, a)) return step_problem{false, expected, describe(*e) + " (" + *why + ")"};
      reason_seen = true;
    }
  }

  std::optional<step_problem> do_any_of(const step& st) {
    std::map<std::string, std::size_t> saved;
    for (auto& [name, c] : clients_) saved[name] = c->cursor;
    std::string expected, observed;
    for (const auto& option : st.options) {
      std::optional<step_problem> problem;
      for (const auto& inner : option.steps) {
        problem = run_step(inner);
        if (problem) break;
      }
      if (!problem && !option.unsupported.empty())
        return step_problem{false, "", "the broker made a legal choice under which the statement cannot be observed: " +
                                           option.unsupported, true};
      if (!problem) return std::nullopt;
      if (problem->harness) return problem;
      expected += (expected.empty() ? "" : " | OR | ") + problem->expected;
      observed = problem->observed;
      for (auto& [name, c] : clients_) c->cursor = saved.count(name) ? saved[name] : 0;
    }
    return step_problem{false, "one of: " + expected, observed};
  }

  // A throwaway client: connect with a clean session, run `body`, disconnect.
  template <class F>
  std::optional<step_problem> with_temp_client(const std::string& client_id, bool end_session, F&& body) {
    const std::string name = "cleanup";
    attributes a{{"client", name}, {"client-id", client_id}, {"clean", "1"}};
    if (end_session && codec::is_v5(version_)) a["session-expiry"] = "0";
    if (auto p = do_connect(name, a, {})) return p;
    auto* c = find(name);
    if (auto p = body(*c)) return p;
    send(*c, *build_send({{"type", "disconnect"}}, {}, {}, version_));
    c->close();
    return std::nullopt;
  }

  std::optional<step_problem> clear_retained(const std::string& topic) {
    return with_temp_client(vars_["prefix"] + "clr", true, [&](client_connection& c) -> std::optional<step_problem> {
      // QoS 1 so that the PUBACK says the broker has processed the clearing.
      auto bytes = build_send({{"type", "publish"}, {"topic", topic}, {"retain", "1"}, {"qos", "1"}, {"id", "1"}}, {}, {}, version_);
      if (!bytes) return step_problem{true, "clear retained", bytes.error().message};
      send(c, *bytes);
      return do_expect(c, {{"type", "puback"}, {"id", "1"}}, {});
    });
  }

  std::optional<step_problem> end_session(const std::string& client_id) {
    return with_temp_client(client_id, true, [](client_connection&) -> std::optional<step_problem> { return std::nullopt; });
  }

  const scenario& s_;
  const engine_options& o_;
  codec::protocol_version version_;
  asio::io_context io_;
  wire_logger log_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::ip::tcp::resolver::results_type endpoints_;
  std::map<std::string, std::shared_ptr<client_connection>> clients_;
  std::vector<std::pair<std::string, std::shared_ptr<client_connection>>> clients_history_;
  variables vars_;
};

}  // namespace

std::string make_run_token() {
  std::random_device rd;
  static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string t;
  for (int i = 0; i < 4; ++i) t += digits[rd() % 36];
  return t;
}

std::string make_prefix(const std::string& run_token, std::size_t index) {
  static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  // Fixed width (3 base-36 digits) so scenarios know the prefix is exactly 9 characters long.
  std::string n(3, '0');
  for (int i = 2; i >= 0; --i) {
    n[static_cast<std::size_t>(i)] = digits[index % 36];
    index /= 36;
  }
  return "ms" + run_token + n;
}

scenario_result run_scenario(const scenario& s, const engine_options& o, const capability_set& caps, std::size_t index) {
  if (auto missing = missing_capabilities(s, caps); !missing.empty()) {
    scenario_result r;
    r.sc = &s;
    r.v = verdict::unsupported;
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    r.message = missing == std::vector<std::string>{"websocket"}
                    ? "needs MQTT over WebSocket: run with --ws or a ws:// target"
                    : "the broker lacks: " + list + " (" + caps.source + ")";
    return r;
  }
  scenario_run run(s, o, caps, index);
  return run.run();
}

}  // namespace mqttspec::conformance
