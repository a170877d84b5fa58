#include "player.hpp"

#include "generator.hpp"

#include <cstdio>

namespace mqttspec::netfuzz {

using namespace codec;

namespace {

const bytes ping("\xc0\x00", 2);

struct slot {
  std::shared_ptr<connection> c;
  std::optional<judge> j;
  std::vector<owned_packet> packets;
  bytes acks;  // owed to the broker, sent before the next step
  bool auto_ack = true;
  bool close_noted = false;
};

class player {
 public:
  player(asio::io_context& io, const net_target& t, const asio::ip::tcp::resolver::results_type& eps, const script& s,
         const play_options& o)
      : io_(io), t_(t), eps_(eps), s_(s), o_(o), slots_(connection_count(s)), start_(clock::now()) {}

  play_result run() {
    r_.version = s_.version;
    for (std::size_t k = 0; k < s_.steps.size(); ++k) {
      if (!play_step(s_.steps[k], k)) return cleanup();
    }
    // Late deliveries: a last PINGREQ on every connection still open.
    flush_acks();
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      auto& sl = slots_[i];
      if (aborting()) return finish();
      if (!sl.c || !sl.c->is_open() || !sl.j || !sl.j->sent_whole_frames()) continue;
      transmit(static_cast<std::uint8_t>(i), sl, ping);
      await(static_cast<std::uint8_t>(i), sl);
      if (found()) return cleanup();
    }
    for (std::size_t k = 0; k < s_.cleanup.size(); ++k)
      if (!play_step(s_.cleanup[k], s_.steps.size() + k)) return cleanup();
    return finish();
  }

 private:
  // False when the play is to stop here: a finding, an unanswered step, an abort.
  bool play_step(const step& st, std::size_t index) {
    if (aborting()) return false;
    r_.step = index;
    ++r_.steps;
    flush_acks();
    auto& sl = slots_[st.conn];
    switch (st.op) {
      case step_op::open: open(st, sl); break;
      case step_op::close:
        if (sl.c && sl.c->is_open()) {
          note(st.conn, "client closes the connection");
          sl.c->close();
        }
        break;
      case step_op::send: send(st, sl); break;
    }
    feed_all();
    // A step left unanswered: the broker may be down or hung, and every later step would wait
    // as long; the caller finds out which.
    return !found() && !r_.timeouts;
  }

  // After a finding the script's cleanup still runs, unjudged and unrecorded, so that what the
  // case left (retained messages, sessions) does not reach later cases. Not after an unanswered
  // step or an abort.
  play_result cleanup() {
    if (!found() || r_.timeouts || aborting()) return finish();
    judging_ = false;
    const auto step = r_.step;
    const auto steps = r_.steps;
    for (const auto& st : s_.cleanup)
      if (!play_step(st, 0) && (aborting() || r_.timeouts)) break;
    r_.step = step;
    r_.steps = steps;
    r_.timeouts = 0;
    return finish();
  }

  double now_ms() const { return std::chrono::duration<double, std::milli>(clock::now() - start_).count(); }
  void note(std::uint8_t conn, std::string text) {
    if (o_.record && judging_) r_.trace.push_back(trace_entry{now_ms(), conn, trace_entry::dir::event, {}, std::move(text)});
  }

  void open(const step& st, slot& sl) {
    if (sl.c) sl.c->close();
    sl = slot{};
    sl.auto_ack = st.auto_ack;
    sl.c = connection::make(io_, t_, o_.seed * 31u + st.conn + static_cast<std::uint32_t>(r_.step));
    sl.j.emplace(s_.version);
    ++r_.connections;
    if (!sl.c->open(eps_, clock::now() + o_.reply_timeout)) {
      ++r_.open_failures;
      note(st.conn, "could not connect: " + sl.c->error());
      return;
    }
    note(st.conn, "connected");
  }

  void transmit(std::uint8_t conn, slot& sl, bytes_view data) {
    sl.j->sent(data);
    if (o_.record && judging_) {
      // One trace line per frame; unframed bytes as they are.
      bytes_view rest = data;
      while (!rest.empty()) {
        auto f = parse_frame(rest);
        const auto n = f ? f->bytes.size() : rest.size();
        r_.trace.push_back(trace_entry{now_ms(), conn, trace_entry::dir::send, bytes(rest.substr(0, n)), {}});
        rest.remove_prefix(n);
      }
    }
    if (!sl.c->send(data, clock::now() + o_.reply_timeout)) note(conn, "not sent: " + sl.c->error());
  }

  void send(const step& st, slot& sl) {
    if (!sl.c || !sl.c->is_open() || !sl.j) {
      note(st.conn, "step skipped: the connection is closed");
      return;
    }
    bytes data = st.data;
    // The PINGREQ behind the step tells when the broker has handled it; after bytes that end
    // inside a frame the broker is legitimately waiting for the rest, so no PINGREQ then.
    const bool whole = sl.j->whole_after(data);
    if (whole) data += ping;
    transmit(st.conn, sl, data);
    if (whole) {
      await(st.conn, sl);
      return;
    }
    // No PINGREQ can tell when the broker has read these bytes: give it a moment, so that what
    // they cause (a delivery elsewhere, a close) comes in the same order in a replay.
    run_until(io_, clock::now() + o_.settle, [&] {
      feed_all();
      return (judging_ && found()) || !sl.c->is_open() || aborting();
    });
  }

  // Until the PINGRESP of the last PINGREQ sent on the connection, a close, or the timeout.
  void await(std::uint8_t conn, slot& sl) {
    const auto want = sl.j->pings_sent();
    const bool quiet = sl.j->silence_allowed();
    const auto wait = quiet ? std::min<std::chrono::milliseconds>(o_.reply_timeout, std::chrono::milliseconds(50))
                            : o_.reply_timeout;
    const bool ok = run_until(io_, clock::now() + wait, [&] {
      feed_all();
      return (judging_ && found()) || sl.j->pingresps() >= want || !sl.c->is_open() || aborting();
    });
    if (!ok && sl.c->is_open() && !aborting() && !quiet) {
      ++r_.timeouts;
      note(conn, "no PINGRESP within " + std::to_string(o_.reply_timeout.count()) + " ms");
    }
  }

  void feed_all() {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      auto& sl = slots_[i];
      if (!sl.c || !sl.j) continue;
      if (sl.c->has_input()) {
        const auto data = sl.c->take();
        const auto before = sl.packets.size();
        sl.j->received(data, sl.packets);
        for (auto k = before; k < sl.packets.size(); ++k) {
          const auto& p = sl.packets[k];
          if (o_.record && judging_)
            r_.trace.push_back(trace_entry{now_ms(), static_cast<std::uint8_t>(i), trace_entry::dir::recv, *p.storage, {}});
          if (sl.auto_ack) owe_ack(sl, p.value);
        }
        if (sl.j->found() && !r_.found)
          note(static_cast<std::uint8_t>(i), "finding " + sl.j->found()->statement + ": " + sl.j->found()->observation +
                                                 " (hex " + sl.j->found()->hex + ")");
        sl.packets.clear();
      }
      if (sl.c->peer_closed() && !sl.close_noted) {
        sl.close_noted = true;
        note(static_cast<std::uint8_t>(i), sl.c->error());
      }
      if (sl.j->found() && !r_.found) {
        r_.found = sl.j->found();
        r_.conn = static_cast<std::uint8_t>(i);
        r_.version = sl.j->version();
      }
    }
  }

  void owe_ack(slot& sl, const packet& p) {
    const auto v = sl.j->version();
    if (const auto* pub = std::get_if<publish>(&p)) {
      if (pub->qos_level == qos::at_least_once) (void)encode_to(puback{.packet_id = pub->packet_id}, v, sl.acks);
      if (pub->qos_level == qos::exactly_once) (void)encode_to(pubrec{.packet_id = pub->packet_id}, v, sl.acks);
    } else if (const auto* rel = std::get_if<pubrel>(&p)) {
      (void)encode_to(pubcomp{.packet_id = rel->packet_id}, v, sl.acks);
    }
  }

  void flush_acks() {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      auto& sl = slots_[i];
      if (sl.acks.empty()) continue;
      auto acks = std::exchange(sl.acks, {});
      // Only on a stream of whole frames, where the acks cannot land inside a mutated frame.
      if (sl.c && sl.c->is_open() && sl.j && sl.j->sent_whole_frames()) transmit(static_cast<std::uint8_t>(i), sl, acks);
    }
  }

  bool found() const { return r_.found.has_value(); }
  bool judging_ = true;  // false while the cleanup runs after a finding
  bool aborting() {
    if (o_.abort && o_.abort->load()) r_.aborted = true;
    return r_.aborted;
  }

  play_result finish() {
    for (auto& sl : slots_)
      if (sl.c) sl.c->close();
    return std::move(r_);
  }

  asio::io_context& io_;
  const net_target& t_;
  const asio::ip::tcp::resolver::results_type& eps_;
  const script& s_;
  const play_options& o_;
  std::vector<slot> slots_;
  clock::time_point start_;
  play_result r_;
};

}  // namespace

play_result play(asio::io_context& io, const net_target& target, const asio::ip::tcp::resolver::results_type& endpoints,
                 const script& s, const play_options& o) {
  return player(io, target, endpoints, s, o).run();
}

bool probe(asio::io_context& io, const net_target& target, const asio::ip::tcp::resolver::results_type& endpoints,
           protocol_version v, const std::string& client_id, std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  auto c = connection::make(io, target, 7);
  if (!c->open(endpoints, deadline)) return false;
  judge j(v);
  const bytes hello = probe_connect(v, client_id) + ping;
  j.sent(hello);
  if (!c->send(hello, deadline)) {
    c->close();
    return false;
  }
  std::vector<owned_packet> packets;
  const bool ok = run_until(io, deadline, [&] {
    if (c->has_input()) j.received(c->take(), packets);
    return j.pingresps() > 0 || !c->is_open();
  });
  c->close();
  return ok && j.accepted() && j.pingresps() > 0;
}

std::vector<std::string> trace_lines(const std::vector<trace_entry>& trace, protocol_version v) {
  std::vector<std::string> out;
  for (const auto& e : trace) {
    char t[32];
    std::snprintf(t, sizeof t, "%9.3f ms", e.t_ms);
    std::string line = std::string(t) + "  c" + std::to_string(e.conn);
    line += e.d == trace_entry::dir::send ? " -> " : e.d == trace_entry::dir::recv ? " <- " : " .. ";
    if (!e.data.empty()) {
      auto d = decode(bytes_view(e.data), v);
      line += d ? to_string(d.value()) + " " : std::string();
      line += "hex " + to_hex(bytes_view(e.data).substr(0, 512), " ") + (e.data.size() > 512 ? " ..." : "");
    }
    if (!e.note.empty()) line += (e.data.empty() ? "" : "  ") + std::string("[") + e.note + "]";
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace mqttspec::netfuzz
