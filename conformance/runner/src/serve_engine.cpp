// The Server's side of a client scenario (docs/client-drivers.md): steps mirror the broker engine's
// with the roles reversed. The runner listens, a driver process per scenario client makes the
// library under test connect and act, and every packet the client sends is decoded under the
// version's rules and watched by the client's monitor (serve_monitor.hpp).
#include "mqttspec/conformance/engine.hpp"
#include "mqttspec/conformance/predicates.hpp"
#include "mqttspec/conformance/variables.hpp"
#include "serve_connection.hpp"
#include "serve_engine.hpp"

#include <algorithm>
#include <map>
#include <memory>

namespace mqttspec::conformance {
namespace {

codec::protocol_version codec_version(suite_version v) {
  return v == suite_version::v5 ? codec::protocol_version::v5 : codec::protocol_version::v3_1_1;
}

struct step_problem {
  bool harness = false;
  std::string expected;
  std::string observed;
  bool unsupported = false;
};

// One scenario client: its driver, its monitor and its connections (the last one is current).
struct peer {
  std::unique_ptr<driver_process> driver;
  std::unique_ptr<client_monitor> monitor;
  std::shared_ptr<server_connection> conn;
  bool auto_ack = true;
  bool auto_ping = true;
};

class serve_run {
 public:
  serve_run(const scenario& s, const serve_options& o, std::size_t index)
      : s_(s), o_(o), version_(codec_version(s.version)), log_(version_), acceptor_(io_) {
    vars_["prefix"] = make_prefix(o.run_token, index);
  }

  ~serve_run() {
    for (auto& [name, p] : peers_)
      if (p.conn) p.conn->close();
    std::error_code ignored;
    acceptor_.close(ignored);
  }

  scenario_result run() {
    scenario_result r;
    r.sc = &s_;
    const auto start = steady::now();
    std::optional<step_problem> problem = listen();
    const step* failed = nullptr;
    if (!problem) {
      for (const auto& st : s_.steps) {
        problem = run_step(st);
        if (problem) {
          failed = &st;
          break;
        }
      }
      if (!problem) problem = run_control(failed);
    }
    // Let what is on its way arrive (a packet right after the last step), then end the drivers.
    settle();
    for (auto& name : order_) {
      auto& p = peers_.at(name);
      if (!p.driver) continue;
      p.driver->stop(std::chrono::milliseconds(300));
      if (p.driver->crash()) r.findings.push_back(name + ": the client's process died: " + *p.driver->crash());
      // A driver that gave up by itself (say, an exception it did not catch) is a harness problem.
      if (p.driver->failure() && problem && !problem->unsupported)
        problem = step_problem{true, "the client driver of " + name + " to run the scenario",
                               "it ended by itself (" + *p.driver->failure() + "); see its stderr in the wire log"};
    }
    for (auto& [name, c] : history_)
      for (const auto& e : c->events())
        if (e.what == incoming::kind::malformed) {
          r.findings.push_back(name + ": client sent a malformed packet: " + e.error.message());
          if (r.broken.empty()) r.broken = e.error.statement;
        }
    for (auto& name : order_) {
      const auto& p = peers_.at(name);
      for (const auto& f : p.monitor->findings()) {
        r.findings.push_back(name + ": " + f.text + (f.statement.empty() ? "" : " (" + f.statement + ")"));
        if (r.broken.empty()) r.broken = f.statement;
      }
    }
    // A driver that cannot do what the scenario asks makes it unsupported, whatever happened after.
    for (auto& name : order_) {
      const auto& p = peers_.at(name);
      if (p.driver && p.driver->unsupported() && problem) {
        problem = step_problem{false, "", "the client library cannot do it: " + *p.driver->unsupported(), true};
        r.findings.clear();
        r.broken.clear();
        break;
      }
    }
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

 private:
  std::optional<step_problem> listen() {
    std::error_code ec;
    const auto address = asio::ip::make_address(o_.host, ec);
    if (ec) return step_problem{true, "listen on " + o_.host, ec.message()};
    const asio::ip::tcp::endpoint ep(address, static_cast<unsigned short>(o_.port));
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return step_problem{true, "listen on " + o_.host + ":" + std::to_string(o_.port), ec.message()};
    port_ = acceptor_.local_endpoint().port();
    log_.event("server", "listening on " + o_.host + ":" + std::to_string(port_));
    accept();
    return std::nullopt;
  }

  void accept() {
    acceptor_.async_accept([this](const std::error_code& ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      std::error_code ignored;
      const auto remote = socket.remote_endpoint(ignored);
      log_.event("server", "accepted a connection from port " + std::to_string(remote.port()));
      accepted_.push_back(std::move(socket));
      accept();
    });
  }

  // Runs the io_context until `ready()` holds or the deadline passes.
  template <class Pred>
  bool wait_until(Pred ready, steady::time_point deadline) {
    while (!ready()) {
      if (steady::now() >= deadline) return false;
      io_.run_one_until(deadline);
    }
    return true;
  }

  void settle() {
    const auto until = steady::now() + std::chrono::milliseconds(50);
    while (steady::now() < until) io_.run_one_until(until);
  }

  std::chrono::milliseconds timeout_of(const attributes& a, std::string_view key = "timeout-ms") const {
    if (auto it = a.find(key); it != a.end())
      if (auto n = parse_number(it->second, 600000)) return std::chrono::milliseconds(*n);
    return o_.timeout;
  }
  static bool eventual(const attributes& a) {
    auto it = a.find("eventual");
    return it != a.end() && parse_bool(it->second).value_or(false);
  }
  std::chrono::milliseconds wait_of(const attributes& a) const {
    return eventual(a) ? std::max(o_.eventual_timeout, timeout_of(a)) : timeout_of(a);
  }

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

  // The scenario client `name`, its driver started on first use.
  std::optional<step_problem> ensure_peer(const std::string& name) {
    if (peers_.count(name)) return std::nullopt;
    auto& p = peers_[name];
    order_.push_back(name);
    p.monitor = std::make_unique<client_monitor>(version_);
    p.driver = std::make_unique<driver_process>(io_, name, log_);
    auto argv = o_.driver;
    const auto client_id = vars_["prefix"] + name;
    vars_[name + ".client-id"] = client_id;
    argv.insert(argv.end(), {"--host", o_.host, "--port", std::to_string(port_), "--client-id", client_id, "--version",
                             std::string(display_name(s_.version))});
    if (auto e = p.driver->start(argv)) return step_problem{true, "the client driver to start", *e};
    // Its start-up (an interpreter, a library to load) is no part of any step's deadline: the
    // driver says `ready` when it takes actions.
    const auto ms = std::max(o_.eventual_timeout, std::chrono::milliseconds(10000));
    const auto ready = [&] {
      for (const auto& e : p.driver->events())
        if (e.kind == "ready") return true;
      return p.driver->unsupported().has_value() || p.driver->output_closed();
    };
    if (!wait_until(ready, steady::now() + ms))
      return step_problem{true, "the client driver of " + name + " to say ready", "nothing within " + std::to_string(ms.count()) + " ms"};
    return std::nullopt;
  }

  // Why waiting on this client is pointless: its driver said it cannot, or ended.
  std::optional<step_problem> driver_gone(peer& p) {
    if (p.driver->unsupported())
      return step_problem{false, "", "the client library cannot do it: " + *p.driver->unsupported(), true};
    return std::nullopt;
  }

  // The client's next connection (accepted in arrival order) becomes its current one.
  std::optional<step_problem> claim(const std::string& name, std::chrono::milliseconds timeout) {
    auto& p = peers_.at(name);
    if (auto& back = returned_[name]; !back.empty()) {
      p.conn = back.front();
      back.pop_front();
      p.conn->cursor = 0;
      return std::nullopt;
    }
    const bool arrived = wait_until([&] { return !accepted_.empty() || p.driver->unsupported() || p.driver->output_closed(); },
                                    steady::now() + timeout);
    if (accepted_.empty()) {
      if (auto gone = driver_gone(p)) return gone;
      return step_problem{false, "a connection from client " + name,
                          arrived ? "none: the driver ended" : "none within " + std::to_string(timeout.count()) + " ms"};
    }
    auto socket = std::move(accepted_.front());
    accepted_.pop_front();
    if (p.conn) p.conn->close();
    p.conn = std::make_shared<server_connection>(io_, std::move(socket), name, version_, log_, *p.monitor);
    p.conn->auto_ack = p.auto_ack;
    p.conn->auto_ping = p.auto_ping;
    history_.emplace_back(name, p.conn);
    p.conn->start();
    return std::nullopt;
  }

  // The connection an expectation reads: the current one, or the next one when the current one is
  // closed and read to its end (a client that reconnects).
  std::optional<step_problem> reading_connection(const std::string& name, std::chrono::milliseconds timeout) {
    auto& p = peers_.at(name);
    if (p.conn && !(p.conn->drained() && !p.conn->is_open())) return std::nullopt;
    return claim(name, timeout);
  }

  incoming* next_event(server_connection& c, steady::time_point deadline) {
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

  static bool flag(const attributes& a, std::string_view key, bool fallback) {
    auto it = a.find(key);
    return it == a.end() ? fallback : parse_bool(it->second).value_or(fallback);
  }

  std::optional<step_problem> run_step(const step& st) {
    attributes a;
    std::vector<attributes> topics, props;
    if (auto p = expand_all(st.attrs, a)) return p;
    if (auto p = expand_list(st.topics, topics)) return p;
    if (auto p = expand_list(st.properties, props)) return p;
    const std::string client = a.count("client") ? a["client"] : std::string{};
    if (!client.empty())
      if (auto p = ensure_peer(client)) return p;
    const auto line = "line " + std::to_string(st.line);

    switch (st.kind) {
      case step_kind::open: {
        auto& p = peers_.at(client);
        p.auto_ack = flag(a, "auto-ack", true);
        p.auto_ping = flag(a, "auto-ping", true);
        return claim(client, timeout_of(a));
      }
      case step_kind::connect: return do_connect(client, a, props);
      case step_kind::send: {
        auto& p = peers_.at(client);
        if (a.count("do")) {
          p.driver->act(a["do"]);
          return std::nullopt;
        }
        if (!p.conn) return step_problem{true, line + ": client " + client, "has no connection to send on"};
        if (!codec::is_v5(version_) && a["type"] == "disconnect")
          return step_problem{true, line + ": DISCONNECT", "a 3.1.1 Server sends no DISCONNECT"};
        auto bytes = build_server_send(a, topics, props, version_);
        if (!bytes) return step_problem{true, line + ": packet to send", bytes.error().message};
        p.conn->send(*bytes, steady::now() + o_.timeout);
        return std::nullopt;
      }
      case step_kind::expect:
        if (a.count("event")) return do_expect_app(client, a);
        return do_expect(client, a, topics, props);
      case step_kind::expect_close: return do_expect_close(client, a);
      case step_kind::expect_nothing: return do_expect_nothing(client, a);
      case step_kind::drop: {
        auto& p = peers_.at(client);
        if (!p.conn) return step_problem{true, line + ": client " + client, "has no connection to drop"};
        log_.event(client, "dropped by the server (no DISCONNECT)");
        p.conn->close();
        return std::nullopt;
      }
      case step_kind::disconnect: {
        auto& p = peers_.at(client);
        if (!p.conn) return step_problem{true, line + ": client " + client, "has no connection"};
        if (!codec::is_v5(version_)) return step_problem{true, line + ": <disconnect>", "a 3.1.1 Server sends no DISCONNECT: use <drop>"};
        auto bytes = build_send({{"type", "disconnect"}, {"reason", a.count("reason") ? a["reason"] : "0"}}, {}, props, version_);
        if (!bytes) return step_problem{true, "DISCONNECT", bytes.error().message};
        p.conn->send(*bytes, steady::now() + o_.timeout);
        p.conn->close();
        log_.event(client, "closed by the server after DISCONNECT");
        return std::nullopt;
      }
      case step_kind::any_of: return do_any_of(st);
      case step_kind::expect_all: return do_expect_all(st);
      case step_kind::clear_retained:
      case step_kind::end_session: return step_problem{true, line, "not a step of client scenarios"};
    }
    return std::nullopt;
  }

  // <connect>: the client's CONNECT (on a new connection when it has none open), answered with a CONNACK.
  std::optional<step_problem> do_connect(const std::string& client, attributes& a, const std::vector<attributes>& props) {
    auto& p = peers_.at(client);
    p.auto_ack = flag(a, "auto-ack", true);
    p.auto_ping = flag(a, "auto-ping", true);
    if (!p.conn || !p.conn->is_open() || p.conn->peer_closed()) {
      if (auto e = claim(client, wait_of(a))) return e;
    } else {
      p.conn->auto_ack = p.auto_ack;
      p.conn->auto_ping = p.auto_ping;
    }
    attributes want = a;
    want["type"] = "connect";
    for (const char* k : {"reason", "session-present", "client", "auto-ack", "auto-ping"}) want.erase(k);
    if (auto e = do_expect(client, want, {}, {})) return e;
    const auto* c = std::get_if<codec::connect>(&p.conn->events()[p.conn->cursor - 1].pkt.value);
    vars_[client + ".keep-alive"] = std::to_string(c->keep_alive);
    vars_[client + ".client-id"] = std::string(c->client_id);
    attributes ack{{"type", "connack"}, {"reason", a.count("reason") ? a["reason"] : "0"}};
    if (a.count("session-present")) ack["session-present"] = a["session-present"];
    for (const auto& pr : props) {
      if (pr.count("name") && pr.at("name") == "server_keep_alive") vars_[client + ".keep-alive"] = pr.at("value");
      if (pr.count("name") && pr.at("name") == "assigned_client_identifier") vars_[client + ".client-id"] = pr.at("value");
    }
    auto bytes = build_server_send(ack, {}, props, version_);
    if (!bytes) return step_problem{true, "CONNACK", bytes.error().message};
    p.conn->send(*bytes, steady::now() + o_.timeout);
    const auto rc = parse_number(ack["reason"], 255).value_or(0);
    if (rc != 0 && (!codec::is_v5(version_) || rc >= 0x80)) {
      p.conn->close();  // a refusing CONNACK ends the connection
      log_.event(client, "closed by the server after the refusing CONNACK");
    }
    return std::nullopt;
  }

  std::optional<step_problem> do_expect(const std::string& client, const attributes& a, const std::vector<attributes>& topics,
                                        const std::vector<attributes>& props) {
    auto& p = peers_.at(client);
    const auto expected = describe_expectation(a, props) + " from " + client;
    const auto start = steady::now();
    const auto ms = wait_of(a);
    if (auto e = reading_connection(client, ms)) {
      if (e->unsupported || e->harness) return e;
      return step_problem{false, expected, e->observed};
    }
    auto* e = next_event(*p.conn, start + ms);
    if (!e) {
      if (auto gone = driver_gone(p)) return gone;
      return step_problem{false, expected, "nothing within " + std::to_string(ms.count()) + " ms"};
    }
    if (e->what != incoming::kind::packet) return step_problem{false, expected, describe(*e)};
    if (auto why = match_client_packet(e->pkt, a, topics, props, version_))
      return step_problem{false, expected, describe(*e) + " (" + *why + ")"};
    note_latency(client, a, start, e->at);
    accepted(e->pkt.value, a);
    return std::nullopt;
  }

  void note_latency(const std::string& client, const attributes& a, steady::time_point start, steady::time_point at) {
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(at - start);
    if (eventual(a) && took > timeout_of(a))
      log_.event(client, "arrived after " + std::to_string(took.count()) +
                             " ms: later than --timeout-ms, within the eventual ceiling (the spec sets no deadline)");
  }

  void accepted(const codec::packet& pkt, const attributes& a) {
    if (auto cap = a.find("capture-id"); cap != a.end()) {
      std::visit([&](const auto& x) {
        if constexpr (requires { x.packet_id; }) vars_[cap->second] = std::to_string(x.packet_id);
      }, pkt);
    }
    if (auto cap = a.find("capture-client-id"); cap != a.end())
      if (const auto* c = std::get_if<codec::connect>(&pkt)) vars_[cap->second] = std::string(c->client_id);
  }

  app_event* next_app_event(peer& p, const std::string& kind, steady::time_point deadline) {
    auto& events = p.driver->events();
    auto& cursor = p.driver->cursors[kind];
    const auto find_next = [&] {
      while (cursor < events.size() && events[cursor].kind != kind) ++cursor;
      return cursor < events.size();
    };
    if (!wait_until([&] { return find_next() || p.driver->unsupported() || p.driver->output_closed(); }, deadline))
      return nullptr;
    if (!find_next()) return nullptr;
    return &events[cursor++];
  }

  std::optional<step_problem> do_expect_app(const std::string& client, const attributes& a) {
    auto& p = peers_.at(client);
    const auto kind = a.at("event");
    std::string expected = "the application of " + client + " reports \"" + kind;
    for (const auto& [k, v] : a)
      if (k != "client" && k != "event" && k != "timeout-ms" && k != "eventual") expected += " " + k + "=" + v;
    expected += "\"";
    const auto start = steady::now();
    const auto ms = wait_of(a);
    auto* e = next_app_event(p, kind, start + ms);
    if (!e) {
      if (auto gone = driver_gone(p)) return gone;
      return step_problem{false, expected, p.driver->output_closed() ? "the driver ended first"
                                                                       : "no such event within " + std::to_string(ms.count()) + " ms"};
    }
    if (auto why = match_app_event(*e, a)) return step_problem{false, expected, "\"" + e->line + "\" (" + *why + ")"};
    note_latency(client, a, start, e->at);
    return std::nullopt;
  }

  std::optional<step_problem> do_expect_nothing(const std::string& client, const attributes& a) {
    auto& p = peers_.at(client);
    const auto ms = timeout_of(a, "ms");
    const auto deadline = steady::now() + ms;
    if (a.count("event")) {
      const auto kind = a.at("event");
      if (auto* e = next_app_event(p, kind, deadline))
        return step_problem{false, "no \"" + kind + "\" from the application of " + client + " for " + std::to_string(ms.count()) + " ms",
                            "\"" + e->line + "\""};
      if (auto gone = driver_gone(p)) return gone;
      const auto rest = deadline - steady::now();
      if (rest.count() > 0) wait_until([] { return false; }, deadline);
      return std::nullopt;
    }
    if (!p.conn) {
      wait_until([&] { return !accepted_.empty(); }, deadline);
      if (!accepted_.empty()) return step_problem{false, "nothing from " + client + " for " + std::to_string(ms.count()) + " ms", "a new connection"};
      return std::nullopt;
    }
    if (auto* e = next_event(*p.conn, deadline))
      return step_problem{false, "nothing from " + client + " for " + std::to_string(ms.count()) + " ms", describe(*e)};
    return std::nullopt;
  }

  // The client closes its connection, optionally after a DISCONNECT with one of `reasons`.
  std::optional<step_problem> do_expect_close(const std::string& client, const attributes& a) {
    auto& p = peers_.at(client);
    const auto start = steady::now();
    const auto ms = timeout_of(a);
    std::optional<std::vector<std::string>> reasons;
    if (a.count("reasons")) reasons = split_list(a.at("reasons"));
    const bool require_reason = flag(a, "require-reason", false);
    if (flag(a, "no-reason", false)) reasons.emplace();
    std::string expected = "the client " + client + " closes the connection";
    if (reasons && reasons->empty()) expected += " without a DISCONNECT first";
    else if (reasons) expected += std::string(require_reason ? " after" : ", optionally after") + " DISCONNECT with reason " + a.at("reasons");
    if (a.count("min-ms")) expected += ", not before " + a.at("min-ms") + " ms";
    if (!p.conn) return step_problem{false, expected, "no connection"};
    bool reason_seen = false;
    for (;;) {
      auto* e = next_event(*p.conn, start + ms);
      if (!e) return step_problem{false, expected, "still open after " + std::to_string(ms.count()) + " ms"};
      if (e->what == incoming::kind::malformed) return step_problem{false, expected, describe(*e)};
      if (e->what == incoming::kind::closed) {
        const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(e->at - start);
        if (a.count("min-ms") && after.count() < static_cast<long>(parse_number(a.at("min-ms"), 600000).value_or(0)))
          return step_problem{false, expected, "closed after only " + std::to_string(after.count()) + " ms"};
        if (require_reason && !reason_seen) return step_problem{false, expected, "closed without a DISCONNECT"};
        return std::nullopt;
      }
      if (reason_seen) return step_problem{false, expected, describe(*e) + " after the DISCONNECT, before the close"};
      if (codec::type_of(e->pkt.value) != codec::packet_type::disconnect) return step_problem{false, expected, describe(*e)};
      if (reasons) {
        const auto code = wire_reason(e->pkt.value, version_);
        bool ok = false;
        for (const auto& r : *reasons) ok = ok || parse_number(r, 255) == code;
        if (!ok) return step_problem{false, expected, describe(*e)};
      }
      if (auto why = check_size(e->pkt, a)) return step_problem{false, expected, describe(*e) + " (" + *why + ")"};
      reason_seen = true;
    }
  }

  std::optional<step_problem> do_any_of(const step& st) {
    struct saved_state {
      std::shared_ptr<server_connection> conn;
      std::size_t cursor = 0;
      std::map<std::string, std::size_t, std::less<>> app;
    };
    std::map<std::string, saved_state> saved;
    const auto save = [&] {
      saved.clear();
      for (auto& [name, p] : peers_)
        saved[name] = {p.conn, p.conn ? p.conn->cursor : 0, p.driver->cursors};
    };
    const auto restore = [&] {
      for (auto& [name, p] : peers_) {
        auto it = saved.find(name);
        if (it == saved.end()) continue;
        // A connection claimed by the failed option is claimed again first by the next one.
        if (p.conn != it->second.conn && p.conn) {
          log_.event(name, "any-of: the next option reads the new connection again");
          returned_[name].push_front(p.conn);
        }
        p.conn = it->second.conn;
        if (p.conn) p.conn->cursor = it->second.cursor;
        p.driver->cursors = it->second.app;
      }
    };
    save();
    std::string expected, observed;
    for (const auto& option : st.options) {
      std::optional<step_problem> problem;
      for (const auto& inner : option.steps) {
        problem = run_step(inner);
        if (problem) break;
      }
      if (!problem && !option.unsupported.empty())
        return step_problem{false, "", "the client made a legal choice under which the statement cannot be observed: " +
                                           option.unsupported, true};
      if (!problem) return std::nullopt;
      if (problem->harness || problem->unsupported) return problem;
      expected += (expected.empty() ? "" : " | OR | ") + problem->expected;
      observed = problem->observed;
      restore();
    }
    return step_problem{false, "one of: " + expected, observed};
  }

  // <expect-all>: packets of the clients and events of their applications, in any order.
  std::optional<step_problem> do_expect_all(const step& st) {
    struct want {
      std::string client;
      attributes a;
      std::vector<attributes> topics, props;
      std::string expected;
      bool met = false;
      bool app() const { return a.count("event") > 0; }
    };
    std::vector<want> wants;
    const auto start = steady::now();
    auto deadline = start;
    std::string all;
    for (const auto& g : st.group) {
      want w;
      if (auto p = expand_all(g.attrs, w.a)) return p;
      if (auto p = expand_list(g.topics, w.topics)) return p;
      if (auto p = expand_list(g.properties, w.props)) return p;
      w.client = w.a["client"];
      if (auto p = ensure_peer(w.client)) return p;
      w.expected = w.app() ? "application event " + w.a["event"] + " of " + w.client
                           : describe_expectation(w.a, w.props) + " from " + w.client;
      all += (all.empty() ? "" : ", ") + w.expected;
      deadline = std::max(deadline, start + wait_of(w.a));
      wants.push_back(std::move(w));
    }
    for (auto& w : wants)
      if (!w.app())
        if (auto e = reading_connection(w.client, wait_of(w.a))) return e;
    const auto expected = "in any order: " + all;
    for (;;) {
      bool progress = false;
      for (auto& w : wants) {
        if (w.met) continue;
        auto& p = peers_.at(w.client);
        if (w.app()) {
          auto* e = next_app_event(p, w.a["event"], steady::now());
          if (!e) continue;
          progress = true;
          auto it = std::find_if(wants.begin(), wants.end(), [&](const want& x) {
            return !x.met && x.app() && x.client == w.client && !match_app_event(*e, x.a);
          });
          if (it == wants.end()) return step_problem{false, expected, "\"" + e->line + "\" (matches none of them)"};
          it->met = true;
          continue;
        }
        auto& c = *p.conn;
        if (c.cursor >= c.events().size()) continue;
        auto& e = c.events()[c.cursor++];
        progress = true;
        if (e.what != incoming::kind::packet) return step_problem{false, expected, describe(e)};
        auto it = std::find_if(wants.begin(), wants.end(), [&](const want& x) {
          return !x.met && !x.app() && x.client == w.client && !match_client_packet(e.pkt, x.a, x.topics, x.props, version_);
        });
        if (it == wants.end()) return step_problem{false, expected, describe(e) + " (matches none of them)"};
        it->met = true;
        accepted(e.pkt.value, it->a);
      }
      if (std::all_of(wants.begin(), wants.end(), [](const want& w) { return w.met; })) return std::nullopt;
      if (progress) continue;
      const bool arrived = wait_until([&] {
        return std::any_of(wants.begin(), wants.end(), [&](const want& w) {
          if (w.met) return false;
          auto& p = peers_.at(w.client);
          if (w.app()) {
            const auto& ev = p.driver->events();
            auto cur = p.driver->cursors[w.a.at("event")];
            while (cur < ev.size() && ev[cur].kind != w.a.at("event")) ++cur;
            return cur < ev.size() || p.driver->unsupported().has_value();
          }
          return p.conn->cursor < p.conn->events().size();
        });
      }, deadline);
      for (auto& w : wants)
        if (auto gone = driver_gone(peers_.at(w.client))) return gone;
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

  // The differential half of a "the client closes" verdict: a fresh client given the corrected
  // input keeps its connection. Without a <control>, the default one: it connects and is accepted.
  std::optional<step_problem> run_control(const step*& failed) {
    static const std::vector<step> default_control = [] {
      std::vector<step> c(3);
      c[0].kind = step_kind::send;
      c[0].attrs = {{"client", "control"}, {"do", "connect"}};
      c[1].kind = step_kind::connect;
      c[1].attrs = {{"client", "control"}};
      c[2].kind = step_kind::expect;
      c[2].attrs = {{"client", "control"}, {"event", "connected"}};
      return c;
    }();
    const bool given = !s_.control.empty();
    if (!given && !expects_close(s_.steps)) return std::nullopt;
    const auto& steps = given ? s_.control : default_control;
    // The clients of the steps are done: they must not reconnect into the control's way.
    for (auto& name : order_) {
      auto& p = peers_.at(name);
      p.driver->stop(std::chrono::milliseconds(300));
      if (p.conn) p.conn->close();
    }
    settle();
    for (auto& socket : accepted_) {
      std::error_code ignored;
      socket.close(ignored);
    }
    accepted_.clear();
    log_.event("control", given ? "control: the corrected input, to a fresh client"
                                : "default control: a fresh client connects and is accepted");
    for (const auto& st : steps) {
      auto p = run_step(st);
      if (!p) continue;
      failed = &st;
      if (p->unsupported) return p;
      return step_problem{true, "the client to accept the valid control (" + p->expected + ")",
                          "the client refused the valid control: " + p->observed};
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

  const scenario& s_;
  const serve_options& o_;
  codec::protocol_version version_;
  asio::io_context io_;
  wire_logger log_;
  asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::deque<asio::ip::tcp::socket> accepted_;
  // Per client: connections an <any-of> option claimed and gave back, claimed again first.
  std::map<std::string, std::deque<std::shared_ptr<server_connection>>> returned_;
  std::map<std::string, peer> peers_;
  std::vector<std::string> order_;
  std::vector<std::pair<std::string, std::shared_ptr<server_connection>>> history_;
  variables vars_;
};

}  // namespace

scenario_result serve_scenario(const scenario& s, const serve_options& o, std::size_t index) {
  serve_run run(s, o, index);
  return run.run();
}

}  // namespace mqttspec::conformance
