#include "engine.hpp"

#include "connection.hpp"
#include "format.hpp"
#include "payload.hpp"
#include "proc_stats.hpp"
#include "sequence.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <functional>
#include <ostream>
#include <random>
#include <sstream>

namespace mqttspec::bench {

namespace {

using clock_type = std::chrono::steady_clock;
using codec::protocol_version;

enum class role : std::uint32_t { publisher = 0, subscriber = 1, plain = 2, login = 3 };
constexpr std::uint32_t tag_of(role r, std::size_t index) { return static_cast<std::uint32_t>(index) * 4 + static_cast<std::uint32_t>(r); }
constexpr role role_of(std::uint32_t tag) { return static_cast<role>(tag & 3); }
constexpr std::size_t index_of(std::uint32_t tag) { return tag >> 2; }

// Read buffers: large for message traffic, small for connections that only see CONNACK/PINGRESP.
constexpr std::size_t traffic_read_size = 64 * 1024;
constexpr std::size_t quiet_read_size = 256;
// One fill() writes at most this much before the write is started.
constexpr std::size_t batch_bytes = 64 * 1024;
constexpr unsigned batch_messages = 512;

struct publisher {
  std::shared_ptr<connection> conn;
  std::string client_id;
  std::string topic;
  codec::bytes tmpl;  // one encoded PUBLISH; copies get their stamp and packet id patched in
  std::size_t payload_at = 0, id_at = 0;
  std::uint32_t first_receiver = 0, receivers = 0;
  std::uint64_t sent = 0, quota = UINT64_MAX, acked = 0;
  double rate = 0;  // messages/s of this publisher (fixed-rate mode)
  unsigned inflight = 0, inflight_max = 1;
  std::vector<std::uint8_t> id_used;  // QoS 1/2 packet identifiers in use
  std::uint16_t next_id = 1;
  bool ready = false;
  bool blocked = false;  // waiting in a receiver's blocked list
  unsigned pings = 0;    // PINGRESPs owed (retained: a barrier after the last PUBLISH)
  std::vector<std::uint32_t> retained_topics;  // retained: the topic numbers this publisher writes
  std::size_t retained_next = 0;
};

// Who counts deliveries: a subscriber, or a whole shared-subscription group.
struct receiver {
  std::uint32_t first_publisher = 0, publishers = 0;
  std::vector<sequence_checker> checkers;  // per publisher of the range
  std::int64_t outstanding = 0;            // published to it, not yet seen (by highest number)
  std::vector<std::uint32_t> blocked;      // publishers waiting for it to drain
};

struct subscriber {
  std::shared_ptr<connection> conn;
  std::string client_id;
  std::string filter;
  std::uint32_t receiver = 0;
  unsigned granted = 0;
  bool ready = false;
  bool connected = false;
  std::vector<std::uint64_t> member_high;  // shared: order as this member sees it, per publisher
  std::uint64_t delivered = 0;
};

struct plain_client {
  std::shared_ptr<connection> conn;
  clock_type::time_point started;
  bool done = false;
};

// --logins: one of the clients that log in over and over while the others' messages flow.
struct login_slot {
  std::shared_ptr<connection> conn;
  clock_type::time_point started;
  bool connacked = false;
  bool stopped = false;  // refused or cut off: this slot logs in no more
};

std::string hex32(std::uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

std::string reason_text(codec::reason_code c) {
  std::ostringstream s;
  s << "0x" << std::hex << static_cast<unsigned>(c);
  return s.str();
}


class engine final : public connection_events {
 public:
  engine(const options& o, const run_target& t, std::ostream* progress)
      : o_(o),
        t_(t),
        progress_out_(progress),
        tick_(io_),
        phase_timer_(io_),
        progress_timer_(io_),
        ping_timer_(io_),
        setup_timer_(io_) {
    run_id_ = std::random_device{}();
    base_ = o_.topic_prefix + "/" + hex32(run_id_);
    r_.label = t.label;
    r_.target = t.where.display();
    r_.workload = std::string(to_string(o.kind));
    r_.description = o.describe();
    r_.broker_pid = t.pid;
    r_.broker_embedded = !t.tids.empty();
    filler_.assign(o_.payload, 'x');
  }

  result run() {
    std::error_code ec;
    asio::ip::tcp::resolver resolver(io_);
    endpoints_ = resolver.resolve(t_.where.host, t_.where.port, ec);
    if (ec) {
      r_.error = "cannot resolve " + t_.where.host + ": " + ec.message();
      return r_;
    }
    switch (o_.kind) {
      case workload::connect_storm:
      case workload::idle: start_plain(); break;
      default: start_messaging(); break;
    }
    io_.run();
    say_goodbye();
    return std::move(r_);
  }

  // connection_events
  void opened(connection& c) override;
  void packet(connection& c, const codec::frame& f) override;
  void read_done(connection& c) override;
  void written(connection& c) override;
  void closed(connection& c, const std::string& why) override;

 private:
  enum class phase { setup, running, draining, retained_publish, retained_subscribe, cleanup, holding, done };

  // ---- common
  std::shared_ptr<connection> make(role r, std::size_t index, std::size_t read_size) {
    auto c = std::make_shared<connection>(io_, t_.tls.get(), *this, tag_of(r, index), read_size);
    c->version = o_.version;
    return c;
  }
  std::uint64_t now_ns() {
    if (now_stale_) {
      now_ = clock_type::now();
      now_stale_ = false;
    }
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now_ - start_).count());
  }
  void send_connect(connection& c, const std::string& client_id, bool big_receive) {
    codec::connect p;
    p.version = o_.version;
    p.clean_start = true;
    p.keep_alive = static_cast<std::uint16_t>(std::min(o_.keep_alive, 65535u));
    p.client_id = client_id;
    if (o_.username) p.user_name = *o_.username;
    if (o_.password) p.password = *o_.password;
    if (codec::is_v5(o_.version) && big_receive) p.props.receive_maximum = 65535;
    if (auto e = codec::encode_to(p, o_.version, c.out())) return abort("cannot encode CONNECT: " + e.message());
    c.flush();
  }
  void send_subscribe(subscriber& s) {
    codec::subscribe p;
    p.packet_id = 1;
    p.subscriptions.push_back({s.filter, {static_cast<codec::qos>(o_.effective_sub_qos())}});
    if (auto e = codec::encode_to(p, o_.version, s.conn->out())) return abort("cannot encode SUBSCRIBE: " + e.message());
    s.conn->flush();
  }
  static void put_ack(codec::bytes& out, std::uint8_t first, std::uint16_t id) {
    codec::wire_writer w(out);
    w.u8(first);
    w.u8(2);
    w.u16(id);
  }
  // A CONNACK: nullopt when accepted (and its properties applied by the caller), else why not.
  std::optional<codec::connack> accept_connack(const codec::frame& f, std::string& why) {
    auto d = codec::decode(f, o_.version);
    if (!d) {
      why = "malformed CONNACK: " + d.error().message();
      return std::nullopt;
    }
    auto* ack = std::get_if<codec::connack>(&*d);
    if (!ack) {
      why = "expected CONNACK, got " + std::string(codec::to_string(codec::type_of(*d)));
      return std::nullopt;
    }
    if (ack->code != codec::reason_code::success) {
      why = "CONNACK refused the connection (" + reason_text(ack->code) + ")";
      return std::nullopt;
    }
    if (ack->props.server_keep_alive) keep_alive_ = std::min<unsigned>(keep_alive_, *ack->props.server_keep_alive);
    return *ack;
  }
  void abort(const std::string& why) {
    if (r_.error.empty()) r_.error = why;
    finish();
  }
  void snapshot_start() {
    start_ = clock_type::now();
    now_ = start_;
    gen_cpu0_ = thread_cpu_seconds();
    broker_cpu0_ = broker_cpu();
  }
  std::optional<double> broker_cpu() const {
    if (t_.pid) return process_cpu_seconds(*t_.pid);
    if (!t_.tids.empty()) return tasks_cpu_seconds(t_.tids);
    return std::nullopt;
  }
  std::optional<std::uint64_t> broker_rss() const {
    if (t_.pid) return resident_bytes(*t_.pid);
    if (!t_.tids.empty()) return resident_bytes(static_cast<int>(getpid()));
    return std::nullopt;
  }
  double since_start() const { return std::chrono::duration<double>(clock_type::now() - start_).count(); }

  // Opening connections, `concurrency` (and, for connect-storm with a rate, rate/s) at a time.
  void open_next();
  void opened_one(bool ok);
  void start_pinging();

  // ---- messaging workloads
  void start_messaging();
  void subscribers_ready();
  void publishers_ready();
  void fill(std::uint32_t p);
  void on_publish(subscriber& s, const codec::frame& f);
  void on_publisher_packet(publisher& pub, std::uint32_t p, const codec::frame& f);
  void end_publishing();
  void watch_stall();
  void check_drained();
  void start_progress();
  void finish();
  void compute_messaging_results();

  // ---- retained
  void fill_retained(std::uint32_t p);
  void retained_barrier_done();
  void start_cleanup();

  // ---- --logins
  void start_login(std::size_t i);
  void login_packet(std::size_t i, const codec::frame& f);
  void login_failed(std::size_t i, const std::string& why);

  // ---- connect-storm, idle
  void start_plain();
  void plain_connack(plain_client& pc, const codec::frame& f);
  void plain_all_done();

  void say_goodbye();

  const options& o_;
  const run_target& t_;
  std::ostream* progress_out_;
  // One thread only: no locking inside Asio's scheduler and reactor.
  asio::io_context io_{ASIO_CONCURRENCY_HINT_UNSAFE};
  asio::ip::tcp::resolver::results_type endpoints_;
  asio::steady_timer tick_, phase_timer_, progress_timer_, ping_timer_, setup_timer_;
  result r_;
  phase phase_ = phase::setup;
  std::uint32_t run_id_ = 0;
  std::string base_;
  std::string filler_;
  unsigned keep_alive_ = 65535;

  std::vector<publisher> pubs_;
  std::vector<subscriber> subs_;
  std::vector<receiver> receivers_;
  std::vector<plain_client> plain_;
  std::vector<login_slot> logins_;
  std::vector<std::uint32_t> wake_scratch_;
  std::vector<std::shared_ptr<connection>> dirty_, flushing_;  // read_done(): to flush
  bool flush_posted_ = false;

  // opening
  std::deque<std::shared_ptr<connection>> to_open_;
  std::size_t opening_ = 0, opened_ok_ = 0, opened_failed_ = 0, open_needed_ = 0, open_started_ = 0;
  std::function<void()> all_open_;
  clock_type::time_point open_start_;

  clock_type::time_point start_, now_, publish_end_, last_delivery_, last_progress_;
  bool now_stale_ = true;
  double gen_cpu0_ = 0;
  std::optional<double> broker_cpu0_;
  std::uint64_t delivered_ = 0, sent_total_ = 0, acked_total_ = 0, member_reorders_ = 0;
  std::uint64_t last_sent_shown_ = 0, last_delivered_shown_ = 0;
  unsigned barrier_left_ = 0;
  unsigned min_granted_ = 2;
  bool finished_ = false;
  bool results_done_ = false;
  std::string first_failure_;
};

// ---------------------------------------------------------------- opening connections

void engine::open_next() {
  while (opening_ < o_.concurrency && !to_open_.empty()) {
    if (o_.kind == workload::connect_storm && o_.rate > 0) {
      const double elapsed = std::chrono::duration<double>(clock_type::now() - open_start_).count();
      if (static_cast<double>(open_started_) >= elapsed * o_.rate) {
        tick_.expires_after(std::chrono::milliseconds(1));
        tick_.async_wait([this](const std::error_code& ec) {
          if (!ec && !finished_) open_next();
        });
        return;
      }
    }
    auto c = std::move(to_open_.front());
    to_open_.pop_front();
    ++opening_;
    ++open_started_;
    if (role_of(c->tag()) == role::plain) plain_[index_of(c->tag())].started = clock_type::now();
    c->start(endpoints_, t_.where, t_.verify);
  }
}

void engine::opened_one(bool ok) {
  --opening_;
  ok ? ++opened_ok_ : ++opened_failed_;
  open_next();
  if (opened_ok_ + opened_failed_ == open_needed_ && all_open_) {
    auto next = std::move(all_open_);
    all_open_ = nullptr;
    setup_timer_.cancel();
    next();
  }
}

void engine::opened(connection& c) {
  const auto i = index_of(c.tag());
  switch (role_of(c.tag())) {
    case role::publisher: return send_connect(c, pubs_[i].client_id, false);
    case role::subscriber: return send_connect(c, subs_[i].client_id, true);
    case role::plain: return send_connect(c, "mqb-" + hex32(run_id_) + "-c" + std::to_string(i), false);
    case role::login: return send_connect(c, "mqb-" + hex32(run_id_) + "-l" + std::to_string(i), false);
  }
}

void engine::start_pinging() {
  if (keep_alive_ == 0 || o_.keep_alive == 0) return;
  const unsigned ka = std::min(keep_alive_, o_.keep_alive);
  ping_timer_.expires_after(std::chrono::milliseconds(std::max(500u, ka * 500u)));
  ping_timer_.async_wait([this](const std::error_code& ec) {
    if (ec || finished_) return;
    // Subscribers at QoS 0 and idle connections send nothing by themselves.
    auto ping = [](connection& c) {
      if (!c.is_open()) return;
      c.out().append("\xC0\x00", 2);
      c.flush();
    };
    for (auto& s : subs_)
      if (s.conn) ping(*s.conn);
    for (auto& pc : plain_)
      if (pc.conn && !pc.done) ping(*pc.conn);
    start_pinging();
  });
}

// ---------------------------------------------------------------- messaging workloads

void engine::start_messaging() {
  const unsigned np = o_.effective_publishers(), ns = o_.effective_subscribers();
  const auto id = hex32(run_id_);
  pubs_.resize(np);
  subs_.resize(ns);
  for (unsigned p = 0; p < np; ++p) {
    pubs_[p].client_id = "mqb-" + id + "-p" + std::to_string(p);
    pubs_[p].conn = make(role::publisher, p, traffic_read_size);
  }
  for (unsigned s = 0; s < ns; ++s) {
    subs_[s].client_id = "mqb-" + id + "-s" + std::to_string(s);
    subs_[s].conn = make(role::subscriber, s, traffic_read_size);
  }
  // Topics and who receives what.
  auto all_to_all = [&](const std::string& filter) {
    receivers_.resize(ns);
    for (unsigned s = 0; s < ns; ++s) {
      subs_[s].filter = filter;
      subs_[s].receiver = s;
      receivers_[s].first_publisher = 0;
      receivers_[s].publishers = np;
    }
    for (auto& p : pubs_) {
      p.first_receiver = 0;
      p.receivers = ns;
    }
  };
  switch (o_.kind) {
    case workload::fan_in:
      for (unsigned p = 0; p < np; ++p) pubs_[p].topic = base_ + "/in/" + std::to_string(p);
      all_to_all(base_ + "/in/+");
      break;
    case workload::fan_out:
      for (auto& p : pubs_) p.topic = base_ + "/out";
      all_to_all(base_ + "/out");
      break;
    case workload::pairs:
      receivers_.resize(np);
      for (unsigned p = 0; p < np; ++p) {
        pubs_[p].topic = base_ + "/pair/" + std::to_string(p);
        pubs_[p].first_receiver = p;
        pubs_[p].receivers = 1;
        subs_[p].filter = pubs_[p].topic;
        subs_[p].receiver = p;
        receivers_[p].first_publisher = p;
        receivers_[p].publishers = 1;
      }
      break;
    case workload::shared:
      receivers_.resize(1);
      receivers_[0].publishers = np;
      for (unsigned p = 0; p < np; ++p) {
        pubs_[p].topic = base_ + "/sh/" + std::to_string(p);
        pubs_[p].first_receiver = 0;
        pubs_[p].receivers = 1;
      }
      for (auto& s : subs_) {
        s.filter = "$share/mqb" + id + "/" + base_ + "/sh/+";
        s.receiver = 0;
        s.member_high.assign(np, 0);
      }
      break;
    case workload::retained:
      receivers_.resize(ns);
      for (unsigned s = 0; s < ns; ++s) {
        subs_[s].filter = base_ + "/ret/#";
        subs_[s].receiver = s;
        receivers_[s].publishers = 1;
      }
      for (unsigned k = 0; k < o_.topics; ++k) pubs_[k % np].retained_topics.push_back(k);
      break;
    default: break;
  }
  for (auto& r : receivers_) r.checkers.resize(r.publishers);
  // Count mode: the messages shared out; fixed rate: the rate shared out.
  for (unsigned p = 0; p < np; ++p) {
    if (o_.count) pubs_[p].quota = o_.count / np + (p < o_.count % np ? 1 : 0);
    if (o_.rate > 0) pubs_[p].rate = o_.rate / np;
  }
  // One encoded PUBLISH per publisher; messages are copies with the stamp and id patched in.
  for (auto& p : pubs_) {
    if (p.topic.empty()) continue;
    codec::publish pk;
    pk.qos_level = static_cast<codec::qos>(o_.qos);
    pk.topic = p.topic;
    pk.packet_id = o_.qos ? 1 : 0;
    pk.payload = filler_;
    if (auto e = codec::encode_to(pk, o_.version, p.tmpl)) {
      r_.error = "cannot encode PUBLISH: " + e.message();
      return;
    }
    auto f = codec::parse_frame(p.tmpl);
    p.payload_at = p.tmpl.size() - o_.payload;
    p.id_at = f ? f->header_size + 2 + p.topic.size() : 0;
  }
  for (auto& p : pubs_)
    if (o_.qos) p.id_used.assign(65536, 0);

  // Subscribers first (the retained workload subscribes later, all at once), then publishers.
  for (auto& s : subs_) to_open_.push_back(s.conn);
  open_needed_ = ns;
  opened_ok_ = opened_failed_ = 0;
  all_open_ = [this] { subscribers_ready(); };
  const auto setup_limit = std::chrono::milliseconds(10000 + 5 * (np + ns));
  setup_timer_.expires_after(setup_limit);
  setup_timer_.async_wait([this](const std::error_code& ec) {
    if (ec || finished_ || !all_open_) return;
    abort("setup did not finish in time: " + std::to_string(opened_ok_) + " of " + std::to_string(open_needed_) +
          " connections ready");
  });
  if (o_.kind == workload::retained) {
    // Publish first: the publishers open now, the subscribers after the messages are stored.
    to_open_.clear();
    for (auto& p : pubs_) to_open_.push_back(p.conn);
    open_needed_ = np;
    all_open_ = [this] { publishers_ready(); };
  }
  open_next();
}

void engine::subscribers_ready() {
  if (o_.kind == workload::retained) {
    // All connected: subscribe at once and time the retained deliveries from here.
    phase_ = phase::retained_subscribe;
    snapshot_start();
    last_progress_ = start_;
    for (auto& s : subs_) send_subscribe(s);
    start_progress();
    phase_timer_.expires_after(std::chrono::milliseconds(20));
    phase_timer_.async_wait([this](const std::error_code& ec) {
      if (!ec) check_drained();
    });
    return;
  }
  to_open_.clear();
  for (auto& p : pubs_) to_open_.push_back(p.conn);
  open_needed_ = static_cast<std::size_t>(pubs_.size());
  opened_ok_ = opened_failed_ = 0;
  all_open_ = [this] { publishers_ready(); };
  open_next();
}

void engine::publishers_ready() {
  if (o_.kind == workload::retained && phase_ == phase::setup) {
    phase_ = phase::retained_publish;
    start_ = clock_type::now();  // the retained publishing is timed from here
    barrier_left_ = static_cast<unsigned>(pubs_.size());
    for (std::uint32_t p = 0; p < pubs_.size(); ++p) fill_retained(p);
    return;
  }
  phase_ = phase::running;
  snapshot_start();
  last_progress_ = start_;
  start_pinging();
  start_progress();
  logins_.resize(o_.logins);
  for (std::size_t i = 0; i < logins_.size(); ++i) start_login(i);
  if (o_.count == 0) {
    phase_timer_.expires_after(std::chrono::nanoseconds(static_cast<std::int64_t>(o_.duration * 1e9)));
    phase_timer_.async_wait([this](const std::error_code& ec) {
      if (!ec && phase_ == phase::running) end_publishing();
    });
  } else {
    watch_stall();
  }
  if (o_.rate > 0) {
    // Fixed rate: a 1 ms tick releases what is due.
    struct ticker {
      engine* e;
      void operator()(const std::error_code& ec) const {
        if (ec || e->phase_ != phase::running) return;
        for (std::uint32_t p = 0; p < e->pubs_.size(); ++p) e->fill(p);
        e->tick_.expires_after(std::chrono::milliseconds(1));
        e->tick_.async_wait(*this);
      }
    };
    tick_.expires_after(std::chrono::milliseconds(1));
    tick_.async_wait(ticker{this});
  }
  for (std::uint32_t p = 0; p < pubs_.size(); ++p) fill(p);
}

void engine::fill(std::uint32_t p) {
  auto& pub = pubs_[p];
  if (phase_ != phase::running || !pub.ready || pub.conn->writing() || !pub.conn->is_open()) return;
  auto& out = pub.conn->out();
  std::uint64_t due = pub.quota;
  if (pub.rate > 0) {
    const auto elapsed = std::chrono::duration<double>(clock_type::now() - start_).count();
    due = std::min(due, static_cast<std::uint64_t>(elapsed * pub.rate) + 1);
  }
  std::uint64_t now = 0;
  bool have_now = false;
  unsigned n = 0;
  while (n < batch_messages && out.size() < batch_bytes && pub.sent < due) {
    if (o_.qos && pub.inflight >= pub.inflight_max) break;
    bool room = true;
    for (std::uint32_t r = pub.first_receiver; r < pub.first_receiver + pub.receivers; ++r) {
      if (receivers_[r].outstanding >= static_cast<std::int64_t>(o_.effective_window())) {
        if (!pub.blocked) {
          pub.blocked = true;
          receivers_[r].blocked.push_back(p);
        }
        room = false;
        break;
      }
    }
    if (!room) break;
    stamp st{run_id_, p, pub.sent, 0};
    if (pub.rate > 0) {
      // The time the message was due, not when it got out: a late message counts its lateness.
      st.sent_ns = static_cast<std::uint64_t>(static_cast<double>(pub.sent) / pub.rate * 1e9);
    } else {
      if (!have_now) {
        now_stale_ = true;
        now = now_ns();
        have_now = true;
      }
      st.sent_ns = now;
    }
    const std::size_t at = out.size();
    out.append(pub.tmpl);
    write_stamp(out.data() + at + pub.payload_at, st);
    if (o_.qos) {
      // A free packet identifier (ids of unacknowledged messages are skipped).
      while (pub.id_used[pub.next_id]) pub.next_id = static_cast<std::uint16_t>(pub.next_id == 65535 ? 1 : pub.next_id + 1);
      const std::uint16_t id = pub.next_id;
      pub.id_used[id] = 1;
      pub.next_id = static_cast<std::uint16_t>(id == 65535 ? 1 : id + 1);
      out[at + pub.id_at] = static_cast<char>(id >> 8);
      out[at + pub.id_at + 1] = static_cast<char>(id & 0xFF);
      ++pub.inflight;
    }
    ++pub.sent;
    ++sent_total_;
    for (std::uint32_t r = pub.first_receiver; r < pub.first_receiver + pub.receivers; ++r) ++receivers_[r].outstanding;
    ++n;
  }
  if (n) pub.conn->flush();
  if (o_.count && sent_total_ >= o_.count && phase_ == phase::running) end_publishing();
}

void engine::on_publish(subscriber& s, const codec::frame& f) {
  auto d = codec::decode(f, o_.version);
  if (!d) return abort("malformed PUBLISH from the broker: " + d.error().message());
  const auto& pk = std::get<codec::publish>(*d);
  if (pk.qos_level == codec::qos::at_least_once) put_ack(s.conn->out(), 0x40, pk.packet_id);
  if (pk.qos_level == codec::qos::exactly_once) put_ack(s.conn->out(), 0x50, pk.packet_id);
  if (phase_ == phase::cleanup || phase_ == phase::done) return;
  ++delivered_;
  ++s.delivered;
  const auto now = now_ns();
  last_delivery_ = now_;
  last_progress_ = now_;
  const auto st = read_stamp(pk.payload);
  auto& rc = receivers_[s.receiver];
  if (!st || st->run != run_id_ || st->publisher < rc.first_publisher ||
      st->publisher >= rc.first_publisher + rc.publishers) {
    ++r_.foreign;
    return;
  }
  const std::uint32_t slot = st->publisher - rc.first_publisher;
  auto& checker = rc.checkers[slot];
  const auto high_before = checker.high();
  if (checker.on(st->seq) == sequence_checker::verdict::duplicate) return;
  if (o_.kind != workload::retained && now >= st->sent_ns) r_.latency.record(now - st->sent_ns);
  if (o_.kind == workload::retained) r_.latency.record(now);  // since the SUBSCRIBE went out
  if (!s.member_high.empty()) {
    if (st->seq < s.member_high[slot]) ++member_reorders_;
    else s.member_high[slot] = st->seq + 1;
  }
  if (checker.high() > high_before) {
    rc.outstanding -= static_cast<std::int64_t>(checker.high() - high_before);
    if (rc.outstanding <= static_cast<std::int64_t>(o_.effective_window() / 2) && !rc.blocked.empty()) {
      wake_scratch_.clear();
      wake_scratch_.swap(rc.blocked);
      for (auto p : wake_scratch_) {
        pubs_[p].blocked = false;
        fill(p);
      }
    }
  }
}

void engine::on_publisher_packet(publisher& pub, std::uint32_t p, const codec::frame& f) {
  const auto type = static_cast<codec::packet_type>(f.type_bits());
  const auto body = f.body();
  auto ack_id = [&]() -> std::uint16_t {
    return body.size() >= 2 ? static_cast<std::uint16_t>((static_cast<std::uint8_t>(body[0]) << 8) | static_cast<std::uint8_t>(body[1])) : 0;
  };
  const bool failed = body.size() >= 3 && static_cast<std::uint8_t>(body[2]) >= 0x80;
  auto release = [&](std::uint16_t id) {
    if (pub.id_used.empty() || !pub.id_used[id]) return;
    pub.id_used[id] = 0;
    --pub.inflight;
    if (failed) ++r_.refused;
    else ++pub.acked, ++acked_total_;
    last_progress_ = clock_type::now();
  };
  switch (type) {
    case codec::packet_type::puback: release(ack_id()); break;
    case codec::packet_type::pubrec:
      if (failed) release(ack_id());
      else put_ack(pub.conn->out(), 0x62, ack_id());
      break;
    case codec::packet_type::pubcomp: release(ack_id()); break;
    case codec::packet_type::pingresp:
      if (pub.pings > 0 && --pub.pings == 0 && barrier_left_ > 0 && --barrier_left_ == 0) retained_barrier_done();
      break;
    case codec::packet_type::publish: {  // not subscribed; acknowledge and ignore
      auto d = codec::decode(f, o_.version);
      if (d) {
        const auto& pk = std::get<codec::publish>(*d);
        if (pk.qos_level == codec::qos::at_least_once) put_ack(pub.conn->out(), 0x40, pk.packet_id);
        if (pk.qos_level == codec::qos::exactly_once) put_ack(pub.conn->out(), 0x50, pk.packet_id);
      }
      break;
    }
    case codec::packet_type::pubrel: put_ack(pub.conn->out(), 0x70, ack_id()); break;
    case codec::packet_type::disconnect: return abort("the broker sent DISCONNECT to publisher " + std::to_string(p));
    default: break;
  }
  if (o_.kind == workload::retained && phase_ == phase::retained_publish) fill_retained(p);
}

void engine::packet(connection& c, const codec::frame& f) {
  const auto i = index_of(c.tag());
  const auto type = static_cast<codec::packet_type>(f.type_bits());
  std::string why;
  switch (role_of(c.tag())) {
    case role::publisher: {
      auto& pub = pubs_[i];
      if (!pub.ready) {
        auto ack = accept_connack(f, why);
        if (!ack) return abort("publisher " + std::to_string(i) + ": " + why);
        pub.inflight_max = o_.inflight;
        if (ack->props.receive_maximum) pub.inflight_max = std::min<unsigned>(pub.inflight_max, *ack->props.receive_maximum);
        if (ack->props.maximum_qos && *ack->props.maximum_qos < o_.qos)
          return abort("the broker's Maximum QoS is " + std::to_string(*ack->props.maximum_qos));
        if (ack->props.maximum_packet_size && pub.tmpl.size() > *ack->props.maximum_packet_size)
          return abort("a PUBLISH of " + std::to_string(pub.tmpl.size()) + " bytes exceeds the broker's Maximum Packet Size " +
                       std::to_string(*ack->props.maximum_packet_size));
        if (o_.kind == workload::retained && ack->props.retain_available && *ack->props.retain_available == 0)
          return abort("the broker does not support retained messages (Retain Available 0)");
        pub.ready = true;
        return opened_one(true);
      }
      return on_publisher_packet(pub, static_cast<std::uint32_t>(i), f);
    }
    case role::subscriber: {
      auto& s = subs_[i];
      if (!s.connected) {
        auto ack = accept_connack(f, why);
        if (!ack) return abort("subscriber " + std::to_string(i) + ": " + why);
        if (o_.kind == workload::shared && ack->props.shared_subscription_available &&
            *ack->props.shared_subscription_available == 0)
          return abort("the broker does not support shared subscriptions (Shared Subscription Available 0)");
        s.connected = true;
        if (o_.kind == workload::retained) {
          s.ready = true;
          return opened_one(true);
        }
        return send_subscribe(s);
      }
      switch (type) {
        case codec::packet_type::publish: return on_publish(s, f);
        case codec::packet_type::pubrel: {
          const auto b = f.body();
          if (b.size() < 2) return abort("malformed PUBREL from the broker");
          return put_ack(s.conn->out(), 0x70, static_cast<std::uint16_t>((static_cast<std::uint8_t>(b[0]) << 8) |
                                                                          static_cast<std::uint8_t>(b[1])));
        }
        case codec::packet_type::suback: {
          auto d = codec::decode(f, o_.version);
          if (!d) return abort("malformed SUBACK: " + d.error().message());
          const auto& ack = std::get<codec::suback>(*d);
          if (ack.codes.empty() || static_cast<unsigned>(ack.codes[0]) >= 0x80)
            return abort("subscription " + s.filter + " refused (" +
                         (ack.codes.empty() ? std::string("no code") : reason_text(ack.codes[0])) + ")");
          s.granted = static_cast<unsigned>(ack.codes[0]);
          if (s.ready) return;  // retained: ready since its CONNACK
          s.ready = true;
          return opened_one(true);
        }
        case codec::packet_type::disconnect: return abort("the broker sent DISCONNECT to subscriber " + std::to_string(i));
        default: return;
      }
    }
    case role::login:
      if (logins_[i].conn.get() == &c) login_packet(i, f);  // not a slot's earlier connection
      return;
    case role::plain: {
      auto& pc = plain_[i];
      if (type == codec::packet_type::connack && !pc.done) return plain_connack(pc, f);
      if (type == codec::packet_type::disconnect && !pc.done) {
        pc.done = true;
        if (first_failure_.empty()) first_failure_ = "DISCONNECT from the broker";
        ++r_.connect_failures;
        c.close();
      }
      return;
    }
  }
}

// Writes wait until every read that is ready has been handled (a posted handler runs after them),
// so that acknowledgements and new messages of one round leave in one write per connection.
void engine::read_done(connection& c) {
  now_stale_ = true;
  if (c.dirty) return;
  c.dirty = true;
  dirty_.push_back(c.shared_from_this());
  if (flush_posted_) return;
  flush_posted_ = true;
  asio::post(io_, [this] {
    flush_posted_ = false;
    flushing_.swap(dirty_);
    for (auto& d : flushing_) {
      d->dirty = false;
      if (role_of(d->tag()) == role::publisher) fill(static_cast<std::uint32_t>(index_of(d->tag())));
      d->flush();
    }
    flushing_.clear();
  });
}

void engine::written(connection& c) {
  const auto i = index_of(c.tag());
  switch (role_of(c.tag())) {
    case role::publisher:
      if (phase_ == phase::retained_publish) return fill_retained(static_cast<std::uint32_t>(i));
      return fill(static_cast<std::uint32_t>(i));
    case role::plain:
      if (o_.kind == workload::connect_storm && plain_[i].done && c.out().empty()) {
        c.close();
        plain_[i].conn.reset();
      }
      return;
    case role::login:
      if (logins_[i].conn.get() == &c && logins_[i].connacked && c.out().empty()) {
        // The DISCONNECT is out: the next login of this slot (posted: not inside this connection's handler).
        c.close();
        asio::post(io_, [this, i] { start_login(i); });
      }
      return;
    default: return;
  }
}

void engine::closed(connection& c, const std::string& why) {
  if (finished_) return;
  const auto i = index_of(c.tag());
  switch (role_of(c.tag())) {
    case role::publisher:
      return abort("publisher " + std::to_string(i) + ": " + why);
    case role::subscriber:
      return abort("subscriber " + std::to_string(i) + ": " + why);
    case role::login:
      if (logins_[i].conn.get() == &c) login_failed(i, why);
      return;
    case role::plain: {
      auto& pc = plain_[i];
      if (pc.done) return;
      pc.done = true;
      ++r_.connect_failures;
      if (first_failure_.empty()) first_failure_ = why;
      if (phase_ == phase::holding) return;  // counted; the hold goes on
      return opened_one(false);
    }
  }
}

// With --count there is no duration to end a run whose broker stopped acknowledging (a QoS 2
// PUBLISH it dropped without a PUBREC holds its packet identifier forever): give up after a while
// without any acknowledgement or delivery.
void engine::watch_stall() {
  phase_timer_.expires_after(std::chrono::milliseconds(200));
  phase_timer_.async_wait([this](const std::error_code& ec) {
    if (ec || phase_ != phase::running) return;
    const double limit = std::max(5.0, o_.drain_timeout);
    if (std::chrono::duration<double>(clock_type::now() - last_progress_).count() > limit) {
      r_.notes.push_back("publishing stalled: no acknowledgement or delivery for " + std::to_string(static_cast<int>(limit)) +
                         " s; stopped before --count");
      return end_publishing();
    }
    watch_stall();
  });
}

void engine::end_publishing() {
  phase_ = phase::draining;
  publish_end_ = clock_type::now();
  tick_.cancel();
  phase_timer_.cancel();
  phase_timer_.expires_after(std::chrono::milliseconds(10));
  phase_timer_.async_wait([this](const std::error_code& ec) {
    if (!ec) check_drained();
  });
}

// Draining (and the retained deliveries): done when everything due arrived and every message was
// acknowledged, when nothing moved for a while, or at the drain timeout.
void engine::check_drained() {
  if (finished_) return;
  bool complete = true;
  if (o_.kind == workload::retained) {
    for (auto& rc : receivers_)
      if (rc.checkers[0].unique() < o_.topics) complete = false;
  } else {
    for (auto& p : pubs_)
      if (p.inflight) complete = false;
    for (auto& rc : receivers_)
      if (rc.outstanding > 0) complete = false;
  }
  const auto now = clock_type::now();
  const auto from = o_.kind == workload::retained ? start_ : publish_end_;
  const double waited = std::chrono::duration<double>(now - from).count();
  const double quiet = std::chrono::duration<double>(now - last_progress_).count();
  const double limit = o_.kind == workload::retained ? std::max(o_.drain_timeout, 10.0) : o_.drain_timeout;
  if (complete || waited > limit || quiet > std::min(2.0, std::max(o_.drain_timeout, 0.1))) {
    if (!complete) r_.notes.push_back("stopped waiting for the last deliveries after " + std::to_string(waited).substr(0, 4) + " s");
    if (o_.kind == workload::retained) return start_cleanup();
    return finish();
  }
  phase_timer_.expires_after(std::chrono::milliseconds(10));
  phase_timer_.async_wait([this](const std::error_code& ec) {
    if (!ec) check_drained();
  });
}

void engine::start_progress() {
  if (!progress_out_) return;
  progress_timer_.expires_after(std::chrono::seconds(1));
  progress_timer_.async_wait([this](const std::error_code& ec) {
    if (ec || finished_) return;
    std::ostringstream line;
    line << "\r  " << std::fixed;
    line.precision(1);
    line << since_start() << " s";
    if (o_.kind == workload::connect_storm || o_.kind == workload::idle) {
      line << "  connected " << with_commas(opened_ok_) << ", failed " << with_commas(opened_failed_);
    } else {
      line << "  sent " << with_commas(sent_total_) << " (" << with_commas(sent_total_ - last_sent_shown_) << "/s)"
           << "  delivered " << with_commas(delivered_) << " (" << with_commas(delivered_ - last_delivered_shown_) << "/s)";
      if (r_.latency.count())
        line << "  p99 " << static_cast<double>(r_.latency.quantile(0.99)) / 1e3 << " us";
      if (!logins_.empty()) line << "  logins " << with_commas(r_.logins);
    }
    line << "   ";
    last_sent_shown_ = sent_total_;
    last_delivered_shown_ = delivered_;
    *progress_out_ << line.str() << std::flush;
    start_progress();
  });
}

void engine::finish() {
  if (finished_) return;
  finished_ = true;
  const auto end = clock_type::now();
  if (phase_ == phase::running || phase_ == phase::setup || phase_ == phase::retained_subscribe) publish_end_ = end;
  // retained: measured from the SUBSCRIBEs on (an abort before them measures nothing).
  const bool measured = start_ != clock_type::time_point{} &&
                        (o_.kind != workload::retained || phase_ == phase::retained_subscribe);
  if (!results_done_ && measured) {
    r_.generator_cpu = thread_cpu_seconds() - gen_cpu0_;
    if (auto b = broker_cpu(); b && broker_cpu0_) r_.broker_cpu = *b - *broker_cpu0_;
    if (o_.kind == workload::connect_storm || o_.kind == workload::idle) {
      r_.connections = opened_ok_;
      r_.elapsed = std::chrono::duration<double>(publish_end_ - start_).count();
      if (o_.kind == workload::idle) r_.rss_after = broker_rss();
      if (r_.elapsed > 0) r_.connect_rate = static_cast<double>(opened_ok_) / r_.elapsed;
      if (!first_failure_.empty()) r_.notes.push_back("first connection failure: " + first_failure_);
    } else {
      compute_messaging_results();
    }
  }
  if (progress_out_) *progress_out_ << "\r" << std::string(100, ' ') << "\r" << std::flush;
  tick_.cancel();
  phase_timer_.cancel();
  progress_timer_.cancel();
  ping_timer_.cancel();
  setup_timer_.cancel();
  phase_ = phase::done;
  io_.stop();
}

void engine::compute_messaging_results() {
  min_granted_ = 2;
  for (auto& s : subs_) min_granted_ = std::min(min_granted_, s.granted);
  r_.qos = std::min(o_.qos, min_granted_);
  if (min_granted_ < o_.effective_sub_qos())
    r_.notes.push_back("the broker granted QoS " + std::to_string(min_granted_) + " of the " +
                       std::to_string(o_.effective_sub_qos()) + " asked");
  if (o_.kind == workload::retained) {
    r_.sent = 0;
    for (auto& p : pubs_) r_.sent += p.retained_next;
    r_.elapsed = std::chrono::duration<double>(publish_end_ - start_).count();  // see retained_barrier_done
  } else {
    r_.sent = sent_total_;
    r_.elapsed = std::chrono::duration<double>(publish_end_ - start_).count();
  }
  r_.acknowledged = acked_total_;
  r_.delivered = delivered_;
  if (r_.elapsed > 0) r_.login_rate = static_cast<double>(r_.logins) / r_.elapsed;
  if (!first_failure_.empty()) r_.notes.push_back("first login failure: " + first_failure_);
  r_.delivery_span = delivered_ ? std::chrono::duration<double>(last_delivery_ - start_).count() : 0;
  for (auto& rc : receivers_) {
    for (std::uint32_t k = 0; k < rc.publishers; ++k) {
      const auto& ch = rc.checkers[k];
      const std::uint64_t due = o_.kind == workload::retained ? o_.topics : pubs_[rc.first_publisher + k].sent;
      r_.expected += due;
      r_.lost += ch.lost(due);
      r_.duplicates += ch.duplicates();
      if (o_.kind != workload::retained && o_.kind != workload::shared) r_.reordered += ch.out_of_order();
    }
  }
  if (o_.kind == workload::shared) r_.reordered = member_reorders_;
  if (o_.kind != workload::retained && r_.elapsed > 0) r_.sent_rate = static_cast<double>(r_.sent) / r_.elapsed;
  if (r_.delivery_span > 0) r_.delivered_rate = static_cast<double>(r_.delivered) / r_.delivery_span;

  const unsigned q = r_.qos;
  if (!r_.error.empty()) {
    // Cut short: what was in flight is missing, which judges nothing.
    if (r_.lost) r_.notes.push_back("the run did not complete: " + with_commas(r_.lost) + " messages not delivered (not judged)");
    return;
  }
  if (q >= 1 && r_.lost) r_.violations.push_back(with_commas(r_.lost) + " messages lost at QoS " + std::to_string(q));
  if (q == 2 && r_.duplicates) r_.violations.push_back(with_commas(r_.duplicates) + " duplicates at QoS 2");
  if (q == 1 && r_.duplicates)
    r_.violations.push_back(with_commas(r_.duplicates) + " duplicates at QoS 1 on connections that never reconnected");
  if (q >= 1 && r_.reordered && o_.kind != workload::shared && o_.kind != workload::retained)
    r_.violations.push_back(with_commas(r_.reordered) + " messages out of order (per publisher, QoS " + std::to_string(q) + ")");
  if (q == 0 && r_.lost) r_.notes.push_back("QoS 0: " + with_commas(r_.lost) + " messages dropped (allowed at QoS 0)");
  if (o_.kind == workload::shared && r_.reordered)
    r_.notes.push_back("shared: order is counted per member; a shared subscription need not keep it");
  if (r_.refused) r_.notes.push_back(with_commas(r_.refused) + " PUBLISH refused by a failure reason code");
  if (r_.foreign) r_.notes.push_back(with_commas(r_.foreign) + " deliveries not from this run's publishers");
}

// ---------------------------------------------------------------- retained

void engine::fill_retained(std::uint32_t p) {
  auto& pub = pubs_[p];
  if (phase_ != phase::retained_publish || pub.conn->writing() || pub.pings) return;
  auto& out = pub.conn->out();
  unsigned n = 0;
  while (n < batch_messages && out.size() < batch_bytes && pub.retained_next < pub.retained_topics.size()) {
    if (o_.qos && pub.inflight >= pub.inflight_max) break;
    const auto k = pub.retained_topics[pub.retained_next];
    codec::publish pk;
    pk.qos_level = static_cast<codec::qos>(o_.qos);
    pk.retain = true;
    const std::string topic = base_ + "/ret/" + std::to_string(k);
    pk.topic = topic;
    pk.payload = filler_;
    std::uint16_t id = 0;
    if (o_.qos) {
      while (pub.id_used[pub.next_id]) pub.next_id = static_cast<std::uint16_t>(pub.next_id == 65535 ? 1 : pub.next_id + 1);
      id = pub.next_id;
      pub.id_used[id] = 1;
      pub.next_id = static_cast<std::uint16_t>(id == 65535 ? 1 : id + 1);
      ++pub.inflight;
      pk.packet_id = id;
    }
    if (auto e = codec::encode_to(pk, o_.version, out)) return abort("cannot encode PUBLISH: " + e.message());
    write_stamp(out.data() + out.size() - o_.payload, stamp{run_id_, 0, k, 0});
    ++pub.retained_next;
    ++n;
  }
  if (pub.retained_next == pub.retained_topics.size() && pub.inflight == 0 && pub.pings == 0 && !pub.conn->writing()) {
    // Everything sent and acknowledged: a PINGRESP shows the broker handled all of it.
    pub.pings = 1;
    out.append("\xC0\x00", 2);
  }
  pub.conn->flush();
}

void engine::retained_barrier_done() {
  if (phase_ == phase::cleanup) {
    phase_ = phase::done;
    return finish();
  }
  // Stored: now the subscribers connect (all of them), then subscribe at once.
  const double publish_time = std::chrono::duration<double>(clock_type::now() - start_).count();
  r_.sent_rate = publish_time > 0 ? static_cast<double>(o_.topics) / publish_time : 0;
  r_.notes.push_back("retained: " + std::to_string(o_.topics) + " messages stored in " + std::to_string(publish_time).substr(0, 5) +
                     " s; latency is the time from SUBSCRIBE to each delivery");
  phase_ = phase::setup;
  to_open_.clear();
  for (auto& s : subs_) to_open_.push_back(s.conn);
  open_needed_ = subs_.size();
  opened_ok_ = opened_failed_ = 0;
  all_open_ = [this] { subscribers_ready(); };
  open_next();
}

void engine::start_cleanup() {
  // Measurements end here; the empty retained messages that delete the topics are not timed.
  publish_end_ = clock_type::now();
  r_.generator_cpu = thread_cpu_seconds() - gen_cpu0_;
  if (auto b = broker_cpu(); b && broker_cpu0_) r_.broker_cpu = *b - *broker_cpu0_;
  const auto sent_rate = r_.sent_rate;
  compute_messaging_results();
  r_.sent_rate = sent_rate;
  results_done_ = true;  // finish() keeps these
  phase_ = phase::cleanup;
  barrier_left_ = 0;
  for (auto& pub : pubs_)
    if (pub.conn->is_open()) ++barrier_left_;
  if (barrier_left_ == 0) return finish();
  for (auto& pub : pubs_) {
    if (!pub.conn->is_open()) continue;
    for (auto k : pub.retained_topics) {
      codec::publish pk;
      pk.retain = true;
      const std::string topic = base_ + "/ret/" + std::to_string(k);
      pk.topic = topic;
      (void)codec::encode_to(pk, o_.version, pub.conn->out());
    }
    pub.pings = 1;
    pub.conn->out().append("\xC0\x00", 2);
    pub.conn->flush();
  }
  phase_timer_.expires_after(std::chrono::seconds(5));
  phase_timer_.async_wait([this](const std::error_code& ec) {
    if (ec) return;
    r_.notes.push_back("the retained topics were not confirmed deleted");
    finish();
  });
}

// ---------------------------------------------------------------- --logins

// A new connection in slot i, while publishing lasts; each one logs in (CONNECT with --username and
// --password), then says DISCONNECT and makes room for the next.
void engine::start_login(std::size_t i) {
  auto& l = logins_[i];
  l.conn.reset();
  l.connacked = false;
  if (finished_ || l.stopped || phase_ != phase::running) return;
  l.conn = make(role::login, i, quiet_read_size);
  l.started = clock_type::now();
  l.conn->start(endpoints_, t_.where, t_.verify);
}

void engine::login_packet(std::size_t i, const codec::frame& f) {
  auto& l = logins_[i];
  if (l.connacked) return;  // anything after the CONNACK (a DISCONNECT while ours leaves) is ignored
  std::string why;
  if (!accept_connack(f, why)) return login_failed(i, why);
  l.connacked = true;
  ++r_.logins;
  r_.login.record(static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - l.started).count()));
  (void)codec::encode_to(codec::disconnect{}, o_.version, l.conn->out());
  l.conn->flush();
}

// A refused or broken login stops its slot: retrying at once would only spin.
void engine::login_failed(std::size_t i, const std::string& why) {
  auto& l = logins_[i];
  if (l.stopped) return;
  l.stopped = true;
  ++r_.login_failures;
  if (first_failure_.empty()) first_failure_ = why;
  if (l.conn) l.conn->close();
}

// ---------------------------------------------------------------- connect-storm, idle

void engine::start_plain() {
  plain_.resize(o_.connections);
  for (std::size_t i = 0; i < plain_.size(); ++i) {
    plain_[i].conn = make(role::plain, i, quiet_read_size);
    to_open_.push_back(plain_[i].conn);
  }
  open_needed_ = plain_.size();
  all_open_ = [this] { plain_all_done(); };
  if (o_.kind == workload::idle) {
    // Settle, then read the broker's memory before the first connection.
    r_.rss_before = broker_rss();
  }
  snapshot_start();
  open_start_ = start_;
  start_progress();
  start_pinging();
  const auto setup_limit = std::chrono::milliseconds(30000 + 10 * o_.connections);
  setup_timer_.expires_after(setup_limit);
  setup_timer_.async_wait([this](const std::error_code& ec) {
    if (ec || finished_ || !all_open_) return;
    abort("connections did not finish in time: " + std::to_string(opened_ok_) + " connected, " +
          std::to_string(opened_failed_) + " failed, of " + std::to_string(open_needed_));
  });
  open_next();
}

void engine::plain_connack(plain_client& pc, const codec::frame& f) {
  std::string why;
  auto ack = accept_connack(f, why);
  if (!ack) {
    pc.done = true;
    ++r_.connect_failures;
    if (first_failure_.empty()) first_failure_ = why;
    pc.conn->close();
    return opened_one(false);
  }
  const auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - pc.started).count();
  r_.connack.record(static_cast<std::uint64_t>(took));
  if (o_.kind == workload::connect_storm) {
    pc.done = true;
    codec::disconnect d;
    (void)codec::encode_to(d, o_.version, pc.conn->out());
    pc.conn->flush();
  }
  opened_one(true);
}

void engine::plain_all_done() {
  publish_end_ = clock_type::now();  // the end of connecting
  if (o_.kind == workload::connect_storm) return finish();
  // idle: hold, then read the memory.
  phase_ = phase::holding;
  phase_timer_.expires_after(std::chrono::nanoseconds(static_cast<std::int64_t>(std::max(o_.duration, 0.2) * 1e9)));
  phase_timer_.async_wait([this](const std::error_code& ec) {
    if (!ec) finish();
  });
}

// DISCONNECT to every connection still open, a moment to send it, then close everything.
void engine::say_goodbye() {
  io_.restart();
  finished_ = true;
  codec::bytes bye;
  (void)codec::encode_to(codec::disconnect{}, o_.version, bye);
  std::vector<std::shared_ptr<connection>> all;
  for (auto& p : pubs_)
    if (p.conn) all.push_back(p.conn);
  for (auto& s : subs_)
    if (s.conn) all.push_back(s.conn);
  for (auto& pc : plain_)
    if (pc.conn && !pc.done) all.push_back(pc.conn);
  for (auto& l : logins_)
    if (l.conn) all.push_back(l.conn);
  for (auto& c : all) {
    if (!c->is_open()) continue;
    c->out().append(bye);
    c->flush();
  }
  io_.run_for(std::chrono::milliseconds(200));
  for (auto& c : all) c->close();
  io_.restart();
  io_.run_for(std::chrono::milliseconds(10));
}

}  // namespace

result run_workload(const options& o, const run_target& t, std::ostream* progress) {
  engine e(o, t, progress);
  return e.run();
}

}  // namespace mqttspec::bench
