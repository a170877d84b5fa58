#include "mqttspec/netfuzz/net_fuzz.hpp"

#include "findings.hpp"
#include "seeds.hpp"
#include "wire_client.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

namespace mqttspec::netfuzz {
namespace {

using namespace codec;

// Whether `data` is a sequence of whole frames: only then is a PINGREQ behind it read as one.
bool whole_frames(bytes_view data) {
  while (!data.empty()) {
    auto f = parse_frame(data);
    if (!f) return false;
    data.remove_prefix(f->bytes.size());
  }
  return true;
}

struct play_result {
  bool answered = false;  // PINGRESP came back on the case's connection
  std::optional<violation> problem;
};

// What the workers of one run share.
struct shared_run {
  shared_run(const net_fuzz_options& o, std::ostream& l) : options(o), log(l) {}
  const net_fuzz_options& options;
  std::ostream& log;
  std::mutex mutex;  // guards log, findings and the report directory
  std::vector<finding> findings;
  std::atomic<std::uint64_t> next_case{0};
  std::atomic<std::uint64_t> cases{0}, connections{0};
  std::atomic<std::uint64_t> answered{0}, closed{0}, timeouts{0}, partial{0};  // how cases ended
  std::atomic<bool> stop{false};
};

class fuzzer {
 public:
  fuzzer(shared_run& run, unsigned index) : o_(run.options), run_(run), index_(index) {}

  bool resolve() {
    asio::error_code ec;
    asio::ip::tcp::resolver r(io_);
    endpoints_ = r.resolve(o_.host, o_.port, ec);
    return !ec;
  }

  // A new connection that CONNECTs validly and gets PINGRESP: the liveness probe, and how every
  // session connection starts. nullptr when the broker does not answer in time.
  std::unique_ptr<wire_client> fresh_alive(protocol_version v, const std::string& client_id) {
    auto c = std::make_unique<wire_client>(io_, v);
    ++run_.connections;
    if (!c->connect(endpoints_)) return nullptr;
    if (!c->send(connect_bytes(v, client_id) + pingreq_bytes())) return nullptr;
    if (c->read_until(packet_type::pingresp, clock::now() + o_.liveness_timeout) != wire_client::outcome::matched)
      return nullptr;
    c->packets().clear();
    return c;
  }

  // Sends one case on `c` followed by PINGREQ and waits for PINGRESP.
  play_result play(wire_client& c, const net_case& k, std::chrono::milliseconds timeout) {
    // Acks owed to the session's broker go out with its next case; a fresh connection owes none.
    bytes all = k.fresh_connection ? bytes{} : std::exchange(pending_acks_, {});
    for (const auto& f : k.frames) all += f;
    const bool whole = whole_frames(all);
    if (whole) all += pingreq_bytes();
    c.packets().clear();
    if (k.fresh_connection) {
      // The broker answers in the version of the CONNECT it reads: the first frame of the stream,
      // which mutations may have made longer or shorter than the CONNECT the case began with. An
      // unreadable or unsupported version may be refused in 3.1.1 or 5.0 form.
      std::optional<protocol_version> v;
      if (auto f = parse_frame(all); f && f->type_bits() == 1)
        if (auto peeked = peek_connect_version(f.value())) v = peeked.value();
      c.checker().set_version(v ? *v : protocol_version::v3_1_1);
      if (!v) c.checker().accept_either_connack();
    }
    if (!c.send(all)) return {false, c.checker().problem()};
    // A case that ends inside a frame leaves the broker legitimately waiting for the rest.
    if (!whole) {
      ++run_.partial;
      return {false, c.checker().problem()};
    }
    const auto r = c.read_until(packet_type::pingresp, clock::now() + timeout);
    ++(r == wire_client::outcome::matched ? run_.answered : r == wire_client::outcome::closed ? run_.closed : run_.timeouts);
    answer(c);
    return {r == wire_client::outcome::matched, c.checker().problem()};
  }

  // Acknowledges what the broker delivered, so the session's flow control stays open.
  void answer(wire_client& c) {
    const auto v = c.checker().version();
    for (const auto& p : c.packets()) {
      if (const auto* pub = std::get_if<publish>(&p.value)) {
        if (pub->qos_level == qos::at_least_once) (void)encode_to(puback{.packet_id = pub->packet_id}, v, pending_acks_);
        if (pub->qos_level == qos::exactly_once) (void)encode_to(pubrec{.packet_id = pub->packet_id}, v, pending_acks_);
      } else if (const auto* rel = std::get_if<pubrel>(&p.value)) {
        (void)encode_to(pubcomp{.packet_id = rel->packet_id}, v, pending_acks_);
      }
    }
  }

  // Plays a case on a connection of its own (CONNECT included); then probes liveness.
  play_result replay(const net_case& k, bool& alive) {
    play_result r;
    auto c = std::make_unique<wire_client>(io_, k.version);
    if (c->connect(endpoints_)) {
      r = play(*c, k, o_.reply_timeout);
      c->close();
    }
    pending_acks_.clear();
    auto probe = fresh_alive(k.version, client_id("probe"));
    alive = probe != nullptr;
    if (probe) probe->close();
    return r;
  }

  std::string client_id(const std::string& what) const {
    return "mqttspec-nf-" + std::to_string(o_.seed % 100000) + "-" + std::to_string(index_) + what;
  }

  // The same case as a standalone one: on a fresh connection, after the session's CONNECT.
  net_case standalone(const net_case& k) const {
    if (k.fresh_connection) return k;
    net_case s = k;
    s.fresh_connection = true;
    s.frames.insert(s.frames.begin(), connect_bytes(k.version, client_id("replay")));
    return s;
  }

  // Drops frames while the violation still reproduces (conformance findings only: a broker
  // that died cannot be asked again).
  void minimize(finding& f) {
    if (!o_.minimize) return;
    int budget = 24;
    for (std::size_t i = 0; i < f.what.frames.size() && f.what.frames.size() > 1 && budget > 0;) {
      net_case smaller = f.what;
      smaller.frames.erase(smaller.frames.begin() + static_cast<std::ptrdiff_t>(i));
      bool alive = true;
      --budget;
      auto r = replay(smaller, alive);
      if (alive && r.problem && r.problem->statement == f.statement) {
        f.what = std::move(smaller);
        f.reply_hex = r.problem->hex;
      } else {
        ++i;
      }
    }
  }

  void report(finding f) {
    {
      // One report per distinct problem: the same statement broken again is the same bug.
      std::lock_guard lock(run_.mutex);
      for (const auto& known : run_.findings)
        if (known.kind == f.kind && known.statement == f.statement && (f.statement.empty() ? known.detail == f.detail : true))
          return;
    }
    if (f.kind == "conformance") {
      bool alive = true;
      auto r = replay(f.what, alive);
      if (r.problem) minimize(f);
      else f.detail += " (not reproduced on a fresh connection: depends on the session's earlier cases)";
    }
    std::lock_guard lock(run_.mutex);
    if (run_.findings.size() >= o_.max_findings) return;
    auto path = save_finding(o_.report_dir, f);
    run_.log << "netfuzz: FINDING " << f.kind << (f.statement.empty() ? "" : " " + f.statement) << ": " << f.detail
             << "\n  saved " << path.string() << "\n";
    run_.findings.push_back(std::move(f));
    if (run_.findings.size() >= o_.max_findings) run_.stop = true;
  }

  // Plays cases until the shared limits are reached. Case n is generated from (seed, n) alone, so
  // whichever worker plays it, it is the same case in every run.
  void work(clock::time_point end) {
    const std::string prefix = "mqttspec-netfuzz/" + std::to_string(o_.seed % 100000);
    std::unique_ptr<wire_client> session;
    std::uint64_t session_serial = 0;
    for (;;) {
      if (run_.stop) break;
      if (o_.duration.count() > 0 && clock::now() >= end) break;
      const std::uint64_t n = run_.next_case++;
      if (o_.max_cases && n >= o_.max_cases) break;

      std::mt19937 rng(static_cast<std::uint32_t>(o_.seed * 0x9E3779B97F4A7C15ull + n));
      const auto v = o_.versions[(n / 64) % o_.versions.size()];
      const bool fresh = rng() % 4 == 0;
      net_case k = make_case(v, fresh, client_id("c"), prefix, rng);
      ++run_.cases;

      play_result r;
      if (fresh) {
        wire_client c(io_, v);
        ++run_.connections;
        if (c.connect(endpoints_)) r = play(c, k, o_.reply_timeout);
        pending_acks_.clear();
        c.close();
      } else {
        if (session && session->checker().version() != v) session.reset();
        if (!session) session = fresh_alive(v, client_id("s" + std::to_string(session_serial++)));
        if (!session) {
          report(finding{"liveness", "", "the broker does not accept a CONNECT and answer PINGREQ", "", n, standalone(k)});
          run_.stop = true;
          break;
        }
        r = play(*session, k, o_.reply_timeout);
        if (!r.answered || r.problem) {
          session.reset();
          pending_acks_.clear();
        }
      }

      if (r.problem)
        report(finding{"conformance", r.problem->statement, r.problem->detail, r.problem->hex, n, fresh ? k : standalone(k)});

      if (!r.answered) {
        // Liveness: a fresh client must still get in; it then carries the next session cases.
        auto probe = fresh_alive(v, client_id("s" + std::to_string(session_serial++)));
        if (!probe) {
          report(finding{"liveness", "", "after this case a fresh client got no CONNACK + PINGRESP within " +
                                             std::to_string(o_.liveness_timeout.count()) + " ms",
                         "", n, fresh ? k : standalone(k)});
          run_.stop = true;
          break;
        }
        session = std::move(probe);
      }
    }
  }

  int replay_file(const std::filesystem::path& file) {
    auto f = load_finding(file);
    if (!f) {
      run_.log << "netfuzz: cannot read case file " << file.string() << "\n";
      return 2;
    }
    if (!resolve()) return 2;
    bool alive = true;
    auto r = replay(f->what, alive);
    if (!alive) {
      run_.log << "netfuzz: reproduced: the broker is no longer alive after the case\n";
      return 1;
    }
    if (r.problem) {
      run_.log << "netfuzz: reproduced: " << (r.problem->statement.empty() ? "" : r.problem->statement + ": ")
           << r.problem->detail << "\n  reply " << r.problem->hex << "\n";
      return 1;
    }
    run_.log << "netfuzz: not reproduced (" << f->kind << " " << f->statement << ")\n";
    return 0;
  }

 private:
  const net_fuzz_options& o_;
  shared_run& run_;
  unsigned index_;
  asio::io_context io_;
  asio::ip::tcp::resolver::results_type endpoints_;
  bytes pending_acks_;
};

}  // namespace

int run_net_fuzz(const net_fuzz_options& options, std::ostream& log, net_fuzz_stats* stats) {
  if (options.versions.empty() || (options.duration.count() <= 0 && options.max_cases == 0) || options.workers == 0) {
    log << "netfuzz: needs a version, a worker and a duration or a case count\n";
    return 2;
  }
  shared_run run{options, log};
  {
    fuzzer probe(run, 0);
    if (!probe.resolve()) {
      log << "netfuzz: cannot resolve " << options.host << ":" << options.port << "\n";
      return 2;
    }
  }
  const auto start = clock::now();
  const auto end = start + options.duration;
  std::vector<std::thread> threads;
  std::atomic<unsigned> unreachable{0};
  for (unsigned i = 0; i < options.workers; ++i) {
    threads.emplace_back([&, i] {
      fuzzer f(run, i);
      if (!f.resolve()) {
        ++unreachable;
        return;
      }
      f.work(end);
    });
  }
  // Progress while the workers run.
  auto last = start;
  while (run.next_case < (options.max_cases ? options.max_cases : ~0ull) && !run.stop &&
         (options.duration.count() <= 0 || clock::now() < end)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (clock::now() - last > std::chrono::seconds(5)) {
      last = clock::now();
      std::lock_guard lock(run.mutex);
      const double s = std::chrono::duration<double>(last - start).count();
      log << "netfuzz: " << run.cases << " cases, " << run.connections << " connections, "
          << static_cast<long>(static_cast<double>(run.cases) / s) << " cases/s\n";
    }
  }
  for (auto& t : threads) t.join();
  net_fuzz_stats st;
  st.cases = run.cases;
  st.connections = run.connections;
  st.findings = run.findings.size();
  st.seconds = std::chrono::duration<double>(clock::now() - start).count();
  log << "netfuzz: done: " << st.cases << " cases, " << st.connections << " connections in " << st.seconds << " s ("
      << static_cast<long>(static_cast<double>(st.cases) / std::max(st.seconds, 1e-9)) << " cases/s, "
      << options.workers << " workers), " << st.findings << " findings\n"
      << "netfuzz: cases answered " << run.answered << ", closed by the broker " << run.closed << ", timed out "
      << run.timeouts << ", ended inside a frame " << run.partial << "\n";
  write_junit(options.report_dir / "junit.xml", options.host + ":" + options.port, run.findings, st.cases, st.seconds);
  if (stats) *stats = st;
  if (run.findings.empty() && st.cases == 0) return 2;
  return run.findings.empty() ? 0 : 1;
}

int replay_net_case(const std::filesystem::path& file, const net_fuzz_options& options, std::ostream& log) {
  shared_run run{options, log};
  fuzzer f(run, 0);
  return f.replay_file(file);
}

}  // namespace mqttspec::netfuzz
