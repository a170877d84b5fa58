#include "mqttspec/netfuzz/net_fuzz.hpp"

#include "findings.hpp"
#include "generator.hpp"
#include "minimize.hpp"
#include "monitor.hpp"
#include "player.hpp"

#include <asio/ssl.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <thread>

namespace mqttspec::netfuzz {

using namespace std::chrono_literals;

std::string net_target::display() const {
  std::string s;
  if (ws_path) {
    const auto h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    s = std::string(tls ? "wss://" : "ws://") + h + ":" + port + *ws_path;
  } else {
    s = host + ":" + port;
    if (tls) s += " over TLS";
  }
  return s;
}

namespace {

using endpoints_t = asio::ip::tcp::resolver::results_type;

std::optional<endpoints_t> resolve(asio::io_context& io, const net_target& t) {
  asio::error_code ec;
  asio::ip::tcp::resolver r(io);
  auto eps = r.resolve(t.host, t.port, ec);
  if (ec) return std::nullopt;
  return eps;
}

std::string now_iso() {
  char buf[32];
  const auto t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// What a replay has to show again.
struct identity {
  std::string kind;       // conformance, crash, hang, liveness
  std::string statement;  // conformance
  std::string rule;       // conformance (empty: any rule under the statement)
  std::string signature;  // crash: exit status, signal or sanitizer summary (empty: any)
};

// How a broker process ended, as one comparable string.
std::string crash_signature(const std::optional<exit_status>& st, const std::optional<std::string>& sanitizer) {
  if (sanitizer) return *sanitizer;
  return st ? st->describe() : "unknown";
}

// Replays scripts, on the running broker or each time on a fresh broker process.
class replayer {
 public:
  replayer(const net_fuzz_options& o, std::filesystem::path broker_log) : o_(o), broker_log_(std::move(broker_log)) {}

  struct outcome {
    bool reproduced = false;
    bool unreachable = false;  // the broker could not be started or reached
    std::string how;
    play_result last;
    std::string broker_output;
  };

  // Plays `before` then `s`, each under a fresh token. With `fresh_process` (needs broker_cmd)
  // a new broker is started for it and stopped afterwards; else `target` is used as it is.
  outcome once(const identity& id, const std::vector<script>& before, const script& s, bool fresh_process,
               const net_target& target) {
    outcome out;
    net_target t = target;
    std::unique_ptr<broker_process> broker;
    if (fresh_process) {
      broker = std::make_unique<broker_process>(o_.broker_cmd, broker_log_);
      std::string error;
      if (!broker->start(error)) {
        out.unreachable = true;
        out.how = error;
        return out;
      }
      t.port = std::to_string(broker->port());
    }
    asio::io_context io;
    auto eps = resolve(io, t);
    if (!eps) {
      out.unreachable = true;
      out.how = "cannot resolve " + t.host;
      return out;
    }
    play_options po;
    po.reply_timeout = o_.reply_timeout;
    const bool liveness_kind = id.kind == "hang" || id.kind == "liveness";
    if (liveness_kind) po.reply_timeout = std::min<std::chrono::milliseconds>(o_.reply_timeout, 1000ms);
    for (const auto& b : before) (void)play(io, t, *eps, with_token(b, make_token(rng_())), po);
    out.last = play(io, t, *eps, with_token(s, make_token(rng_())), po);
    const auto& r = out.last;
    if (id.kind == "conformance") {
      out.reproduced = r.found && r.found->statement == id.statement && (id.rule.empty() || r.found->rule == id.rule);
      out.how = r.found ? r.found->statement + ": " + r.found->observation : "no finding";
    } else if (id.kind == "crash") {
      if (broker) {
        // Death may follow the last packet by a little (a sanitizer writing its report).
        std::optional<exit_status> st;
        std::optional<std::string> san;
        auto died = [&] {
          st = broker->poll();
          san = broker->sanitizer_report();
          return st || san;
        };
        // A moment for the death to show; then a broker that still answers has survived the case.
        for (int k = 0; k < 5 && !died(); ++k) std::this_thread::sleep_for(20ms);
        if (!st && !san && !probe(io, t, *eps, s.version, "nfprobe0000", 500ms))
          for (int k = 0; k < 75 && !died(); ++k) std::this_thread::sleep_for(20ms);
        died();
        if (st || san) {
          const auto sig = crash_signature(st, san);
          out.reproduced = id.signature.empty() || sig == id.signature;
          out.how = "the broker died: " + sig;
          out.broker_output = broker->output_tail(4096);
        } else {
          out.how = "the broker lived on";
        }
      } else {
        out.reproduced = !probe(io, t, *eps, s.version, "nfprobe0000", o_.liveness_window);
        out.how = out.reproduced ? "the broker no longer answers" : "the broker answers";
      }
    } else {
      // hang, liveness: a fresh client gets no answer, and (with a process) the process lives.
      const auto window = broker ? std::min<std::chrono::milliseconds>(o_.liveness_window, 2500ms) : o_.liveness_window;
      const bool answers = probe(io, t, *eps, s.version, "nfprobe0000", window);
      const bool dead = broker && broker->poll().has_value();
      out.reproduced = !answers && !dead;
      out.how = answers ? "the broker answers" : dead ? "the broker died (a crash, not a hang)" : "the broker does not answer";
      if (broker) out.broker_output = broker->output_tail(4096);
      // A hung broker does not act on SIGTERM: no grace.
      if (broker && !answers) broker->stop(50ms);
    }
    if (broker) broker->stop(500ms);
    return out;
  }

 private:
  const net_fuzz_options& o_;
  std::filesystem::path broker_log_;
  std::mt19937_64 rng_{std::random_device{}()};
};

class campaign {
 public:
  campaign(const net_fuzz_options& o, std::ostream& log) : o_(o), log_(log), target_(o.target) {}

  int run(net_fuzz_stats* stats) {
    started_at_ = now_iso();
    if (!o_.broker_cmd.empty() && !start_broker()) return 2;
    {
      asio::io_context io;
      auto eps = resolve(io, target_);
      if (!eps) {
        say("netfuzz: cannot resolve " + target_.host + "\n");
        return 2;
      }
      if (!probe(io, target_, *eps, o_.versions.front(), "nfprobestart", o_.liveness_window)) {
        say("netfuzz: the broker at " + target_.display() + " does not answer a CONNECT + PINGREQ\n");
        return 2;
      }
    }
    start_ = clock::now();
    end_ = start_ + o_.duration;
    recent_.resize(o_.workers);
    live_workers_ = o_.workers;
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < o_.workers; ++i) threads.emplace_back([this, i] { worker(i); });
    supervise();
    stop_ = true;
    resume_all();
    for (auto& t : threads) t.join();
    if (broker_) broker_->stop();
    return finish(stats);
  }

 private:
  // ---- output ----
  void say(const std::string& text) {
    std::lock_guard lock(log_mutex_);
    log_ << text << std::flush;
  }

  // ---- the broker process ----
  bool start_broker() {
    ++incarnation_;
    broker_ = std::make_unique<broker_process>(
        o_.broker_cmd, o_.report_dir / "broker" / ("broker-" + std::to_string(incarnation_) + ".log"));
    std::string error;
    if (!broker_->start(error)) {
      say("netfuzz: cannot start the broker (" + o_.broker_cmd + "): " + error + "\n");
      return false;
    }
    {
      std::lock_guard lock(target_mutex_);
      target_.port = std::to_string(broker_->port());
      ++generation_;
    }
    if (!o_.quiet)
      say("netfuzz: broker started (pid " + std::to_string(broker_->pid()) + ", port " + target_.port + ")\n");
    return true;
  }

  // ---- pausing the workers ----
  void pause_all() {
    std::unique_lock lock(pause_mutex_);
    paused_ = true;
    abort_ = true;
    pause_cv_.wait(lock, [&] { return parked_ >= live_workers_; });
  }
  void resume_all() {
    std::lock_guard lock(pause_mutex_);
    paused_ = false;
    abort_ = false;
    pause_cv_.notify_all();
  }
  void park() {
    std::unique_lock lock(pause_mutex_);
    ++parked_;
    pause_cv_.notify_all();
    pause_cv_.wait(lock, [&] { return !paused_ || stop_; });
    --parked_;
  }

  // ---- the cases each worker played last (what led to a crash or hang) ----
  void set_current(unsigned i, std::uint64_t n, const script& s) {
    std::lock_guard lock(recent_mutex_);
    auto& r = recent_[i];
    r.push_front({n, s});
    while (r.size() > 4) r.pop_back();
  }
  void forget_current(unsigned i, std::uint64_t n) {
    std::lock_guard lock(recent_mutex_);
    auto& r = recent_[i];
    if (!r.empty() && r.front().first == n) r.pop_front();
  }
  std::vector<std::pair<std::uint64_t, script>> candidates() {
    std::lock_guard lock(recent_mutex_);
    std::vector<std::pair<std::uint64_t, script>> out;
    // Every worker's current case first, then the ones before, newest first.
    for (std::size_t depth = 0; depth < 4; ++depth)
      for (const auto& r : recent_)
        if (depth < r.size()) out.push_back(r[depth]);
    return out;
  }

  // ---- findings ----
  // Registers an occurrence; true when it is new (the caller then fills and stores it).
  bool occurrence(const std::string& key) {
    std::lock_guard lock(findings_mutex_);
    ++occurrences_;
    auto it = index_.find(key);
    if (it != index_.end()) {
      if (it->second < findings_.size()) ++findings_[it->second].count;
      else ++pending_counts_[key];
      return false;
    }
    index_[key] = std::numeric_limits<std::size_t>::max();  // being judged
    return true;
  }
  void store(finding f, const std::string& key) {
    std::lock_guard lock(findings_mutex_);
    f.count += pending_counts_[key];
    pending_counts_.erase(key);
    const auto n = findings_.size() + 1;
    save_finding(o_.report_dir, n, f);
    index_[key] = findings_.size();
    if (f.stable()) ++reproduced_;
    {
      std::lock_guard l(log_mutex_);
      log_ << "netfuzz: FINDING " << n << " [" << f.kind << "] " << (f.statement.empty() ? "" : f.statement + ": ")
           << f.observation << "\n  replayed " << f.reproduced << "/" << f.replays
           << (f.minimized ? ", minimized " + std::to_string(f.original.steps.size()) + " -> " +
                                 std::to_string(f.minimized->steps.size()) + " steps (replayed " +
                                 std::to_string(f.min_reproduced) + "/" + std::to_string(f.min_replays) + ")"
                           : "")
           << (f.note.empty() ? "" : "; " + f.note) << "\n  saved " << f.best_file().string() << "\n"
           << std::flush;
    }
    findings_.push_back(std::move(f));
    if (findings_.size() >= o_.max_findings) stop_ = true;
  }

  // A conformance finding of a worker: judged on the running broker under fresh tokens.
  void conformance_finding(const play_result& r, const script& s, std::uint64_t n, const net_target& t,
                           unsigned worker) {
    const auto& p = *r.found;
    const auto key = finding_key("conformance", p.statement, p.observation, s.token);
    if (!occurrence(key)) return;
    finding f;
    f.kind = "conformance";
    f.statement = p.statement;
    f.rule = p.rule;
    f.rule_text = p.rule_text;
    f.observation = p.observation;
    f.key = key;
    f.hex = p.hex;
    f.version = r.version;
    f.case_number = n;
    f.original = prefix(s, r.step);
    f.trace = r.trace;
    const identity id{"conformance", p.statement, p.rule, {}};
    // Judged on a fresh broker process when the fuzzer owns the broker (the case must carry all
    // the state it needs), else on the running broker under fresh names; minimized on the
    // running broker (fast), the result judged again like the original.
    const bool fresh = !o_.broker_cmd.empty();
    replayer live(o_, {});
    replayer fresh_rp(o_, o_.report_dir / "broker" / ("verify-" + std::to_string(worker) + ".log"));
    bool interrupted = false;
    auto attempt = [&](replayer& rp, bool fresh_process, const script& c, play_result* out) {
      if (abort_) {  // the broker is being replaced (the end of the run lets judging finish)
        interrupted = true;
        return false;
      }
      auto o = rp.once(id, {}, c, fresh_process, t);
      if (o.last.aborted) interrupted = true;
      if (out) *out = std::move(o.last);
      return o.reproduced && !o.last.aborted;
    };
    judge_finding(
        f, [&](const script& c, play_result* out) { return attempt(fresh ? fresh_rp : live, fresh, c, out); },
        [&](const script& c) { return attempt(live, false, c, nullptr); });
    if (interrupted) f.note = "judging was interrupted by a broker restart";
    store(std::move(f), key);
  }

  // Replays the original `replays` times with `verify`, minimizes it with `quick` (when it
  // reproduced), and replays the minimized case with `verify` too.
  void judge_finding(finding& f, const std::function<bool(const script&, play_result*)>& verify,
                     const std::function<bool(const script&)>& quick) {
    for (unsigned k = 0; k < o_.replays; ++k) {
      ++f.replays;
      if (verify(f.original, nullptr)) ++f.reproduced;
    }
    if (f.reproduced == 0) {
      if (quick(f.original))
        f.note = "reproduces on the running broker only: it depends on state that other cases left there";
      return;
    }
    if (!o_.minimize) return;
    budget b(400, o_.minimize_budget);
    auto small = minimize_script(f.original, quick, b);
    if (small == f.original) return;
    f.minimized = std::move(small);
    for (unsigned k = 0; k < o_.replays; ++k) {
      ++f.min_replays;
      play_result last;
      if (verify(*f.minimized, &last)) {
        ++f.min_reproduced;
        if (f.minimized_trace.empty()) f.minimized_trace = std::move(last.trace);
      }
    }
  }

  // ---- workers ----
  void worker(unsigned i) {
    asio::io_context io;
    net_target t;
    std::uint64_t gen = ~0ull;
    std::optional<endpoints_t> eps;
    generator_options g;
    g.mutation_rate = o_.mutation_rate;
    for (;;) {
      if (stop_) break;
      if (abort_) {
        park();
        continue;
      }
      if (gen != generation_) {
        std::lock_guard lock(target_mutex_);
        t = target_;
        gen = generation_;
        eps = resolve(io, t);
      }
      if (!eps) {
        std::this_thread::sleep_for(100ms);
        gen = ~0ull;
        continue;
      }
      if (o_.duration.count() > 0 && clock::now() >= end_) break;
      const std::uint64_t n = next_case_++;
      if (o_.max_cases && n >= o_.max_cases) break;
      const auto v = o_.versions[n % o_.versions.size()];
      const auto s = generate(v, o_.seed, n, g);
      set_current(i, n, s);
      play_options po;
      po.reply_timeout = o_.reply_timeout;
      po.seed = static_cast<std::uint32_t>(n);
      po.abort = &abort_;
      auto r = play(io, t, *eps, s, po);
      // A case that reached no broker at all (it was down) led to nothing.
      if (r.connections > 0 && r.open_failures == r.connections) forget_current(i, n);
      if (r.aborted) continue;
      ++cases_;
      steps_ += r.steps;
      connections_ += r.connections;
      timeouts_ += r.timeouts;
      if (r.found) conformance_finding(r, s, n, t, i);
      if (r.unanswered() && !abort_ && !stop_) {
        // One quick probe; if even that goes unanswered the supervisor judges liveness.
        if (!probe(io, t, *eps, v, "nfprobe" + std::to_string(i), o_.reply_timeout)) liveness_request_ = gen;
      }
    }
    std::lock_guard lock(pause_mutex_);
    --live_workers_;
    pause_cv_.notify_all();
  }

  // ---- the supervisor (main thread) ----
  void supervise() {
    auto last_progress = clock::now();
    auto last_scan = clock::now();
    for (;;) {
      std::this_thread::sleep_for(20ms);
      {
        std::lock_guard lock(pause_mutex_);
        if (live_workers_ == 0) break;
      }
      if (stop_) break;
      if (broker_) {
        auto st = broker_->poll();
        std::optional<std::string> san;
        if (!st && clock::now() - last_scan > 200ms) {
          san = broker_->sanitizer_report();
          last_scan = clock::now();
        }
        if (st || san) {
          crashed(st, san);
          continue;
        }
      }
      if (const auto g = liveness_request_.exchange(0); g && g == generation_) liveness();
      if (!o_.quiet && clock::now() - last_progress > 5s) {
        last_progress = clock::now();
        const double s = std::chrono::duration<double>(last_progress - start_).count();
        std::lock_guard lock(findings_mutex_);
        say("netfuzz: " + std::to_string(cases_.load()) + " cases (" +
            std::to_string(static_cast<long>(static_cast<double>(cases_) / s)) + "/s), " +
            std::to_string(findings_.size()) + " findings, " + std::to_string(occurrences_) + " occurrences, " +
            std::to_string(restarts_) + " restarts\n");
      }
    }
  }

  // A worker saw a step go unanswered and then a probe too: probes with backoff over the window.
  void liveness() {
    pause_all();
    const auto t0 = clock::now();
    asio::io_context io;
    net_target t;
    {
      std::lock_guard lock(target_mutex_);
      t = target_;
    }
    auto eps = resolve(io, t);
    // Three probes: the first waits a fifth of the window, the last until the window ends.
    const std::array<double, 3> share = {0.2, 0.3, 0.4};
    bool answered = false;
    for (std::size_t k = 0; k < share.size() && eps && !answered; ++k) {
      const auto wait = std::chrono::milliseconds(static_cast<long>(static_cast<double>(o_.liveness_window.count()) * share[k]));
      answered = probe(io, t, *eps, o_.versions.front(), "nfprobelive", wait);
      if (!answered && k + 1 < share.size()) std::this_thread::sleep_for(o_.liveness_window / 20);
      if (broker_ && broker_->poll()) break;
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t0).count();
    if (answered) {
      ++latency_notes_;
      note("latency: a step and a probe went unanswered for " + std::to_string(o_.reply_timeout.count()) +
           " ms, then the broker answered a probe after " + std::to_string(ms) + " ms more");
      resume_all();
      return;
    }
    if (broker_) {
      if (auto st = broker_->poll()) {
        crashed(st, broker_->sanitizer_report(), true);
        return;
      }
      hung(ms);
      return;
    }
    // Not ours to restart: the run ends here.
    finding f;
    f.kind = "liveness";
    f.rule = "liveness";
    f.rule_text = "the broker keeps answering CONNECT and PINGREQ";
    f.observation = "the broker stopped answering: no CONNACK + PINGRESP to 3 probes over " + std::to_string(ms) + " ms";
    f.key = finding_key(f.kind, "", "the broker stopped answering", "");
    attach_candidates(f);
    f.note = "the run ended: the broker stays down and the fuzzer does not own its process (see --broker-cmd)";
    const auto key = f.key;
    if (occurrence(key)) store(std::move(f), key);
    say("netfuzz: the broker stays down; stopping\n");
    stop_ = true;
    resume_all();
  }

  void attach_candidates(finding& f) {
    auto c = candidates();
    if (c.empty()) return;
    f.case_number = c.front().first;
    f.original = c.front().second;
    f.version = f.original.version;
    for (std::size_t k = c.size(); k-- > 1;) f.before.push_back(c[k].second);
  }

  void note(const std::string& text) {
    std::lock_guard lock(findings_mutex_);
    if (notes_.size() < 50) notes_.push_back(text);
    if (!o_.quiet) say("netfuzz: " + text + "\n");
  }

  // The broker process ended or wrote a sanitizer report.
  void crashed(std::optional<exit_status> st, std::optional<std::string> san, bool already_paused = false) {
    if (!already_paused) pause_all();
    if (!st) st = broker_->stop(500ms);  // a report, and the process lives: end it
    if (!san) san = broker_->sanitizer_report();
    const auto sig = crash_signature(st, san);
    const auto output = broker_->output_tail(4096);
    broker_.reset();
    say("netfuzz: the broker died: " + sig + "\n");
    finding f;
    f.kind = "crash";
    f.rule = "crash";
    f.rule_text = "the broker process keeps running (no crash, no sanitizer report)";
    f.observation = san ? "sanitizer report: " + *san : "the broker process died: " + sig;
    f.key = finding_key(f.kind, "", f.observation, "");
    f.broker_output = output;
    if (occurrence(f.key)) {
      culprit(f, identity{"crash", {}, {}, sig});
      const auto key = f.key;
      store(std::move(f), key);
    }
    restart();
  }

  void hung(long long ms) {
    say("netfuzz: the broker process lives but answers nothing for " + std::to_string(ms) + " ms: a hang\n");
    const auto output = broker_->output_tail(4096);
    broker_->stop(1000ms);
    broker_.reset();
    finding f;
    f.kind = "hang";
    f.rule = "hang";
    f.rule_text = "the broker keeps answering CONNECT and PINGREQ";
    f.observation = "the broker process lives but answers no CONNECT + PINGREQ";
    f.key = finding_key(f.kind, "", f.observation, "");
    f.broker_output = output;
    if (occurrence(f.key)) {
      culprit(f, identity{"hang", {}, {}, {}});
      const auto key = f.key;
      store(std::move(f), key);
    }
    restart();
  }

  // Which of the last cases brings it back on a fresh broker: the first that does becomes the
  // finding's case, then it is judged and minimized like any other.
  void culprit(finding& f, const identity& id) {
    auto cands = candidates();
    replayer rp(o_, o_.report_dir / "broker" / "replay.log");
    const net_target t = target_;
    std::optional<std::size_t> hit;
    for (std::size_t k = 0; k < cands.size() && !hit; ++k) {
      auto o = rp.once(id, {}, cands[k].second, true, t);
      if (!o.reproduced) continue;
      hit = k;
      f.trace = std::move(o.last.trace);  // the case's session, on a fresh broker
    }
    if (!hit) {
      attach_candidates(f);
      f.note = "no single case of the last " + std::to_string(cands.size()) +
               " reproduced it on a fresh broker; the case file plays them all, oldest first";
      if (cands.empty()) return;
      ++f.replays;
      auto o = rp.once(id, f.before, f.original, true, t);
      if (o.reproduced) ++f.reproduced;
      f.trace = std::move(o.last.trace);
      return;
    }
    f.case_number = cands[*hit].first;
    f.original = cands[*hit].second;
    f.version = f.original.version;
    auto replay = [&](const script& c, play_result* out) {
      auto o = rp.once(id, {}, c, true, t);
      if (out) *out = std::move(o.last);
      return o.reproduced;
    };
    judge_finding(f, replay, [&](const script& c) { return replay(c, nullptr); });
  }

  void restart() {
    ++restarts_;
    if (restarts_ > 1000 || stop_) {
      stop_ = true;
      resume_all();
      return;
    }
    if (!start_broker()) {
      say("netfuzz: the broker could not be restarted; stopping\n");
      stop_ = true;
    }
    resume_all();
  }

  int finish(net_fuzz_stats* stats) {
    net_fuzz_stats st;
    st.cases = cases_;
    st.steps = steps_;
    st.connections = connections_;
    st.seconds = std::chrono::duration<double>(clock::now() - start_).count();
    st.restarts = restarts_;
    st.latency_notes = latency_notes_;
    std::lock_guard lock(findings_mutex_);
    st.findings = findings_.size();
    st.occurrences = occurrences_;
    st.reproduced = reproduced_;
    campaign_summary c;
    c.target = o_.broker_cmd.empty() ? o_.target.display() : "`" + o_.broker_cmd + "` (" + target_.display() + ")";
    c.rerun_args = o_.rerun_args;
    c.started_at = started_at_;
    c.seconds = st.seconds;
    c.cases = st.cases;
    c.steps = st.steps;
    c.connections = st.connections;
    c.restarts = st.restarts;
    c.latency_notes = st.latency_notes;
    c.notes = notes_;
    c.notes.insert(c.notes.begin(), std::to_string(st.cases) + " cases (" + std::to_string(st.steps) + " steps, " +
                                        std::to_string(st.connections) + " connections) in " +
                                        std::to_string(static_cast<long>(st.seconds)) + " s with " +
                                        std::to_string(o_.workers) + " workers, seed " + std::to_string(o_.seed));
    if (auto e = write_reports(o_.report_dir, c, findings_, o_.statements_dir)) say("netfuzz: " + *e + "\n");
    say("netfuzz: done: " + std::to_string(st.cases) + " cases, " + std::to_string(st.steps) + " steps, " +
        std::to_string(st.connections) + " connections in " + std::to_string(st.seconds) + " s (" +
        std::to_string(timeouts_.load()) + " steps unanswered; " +
        std::to_string(static_cast<long>(static_cast<double>(st.cases) / std::max(st.seconds, 1e-9))) +
        " cases/s, " + std::to_string(o_.workers) + " workers); " + std::to_string(st.findings) +
        " distinct findings (" + std::to_string(st.occurrences) + " occurrences), " + std::to_string(st.reproduced) +
        " replayed every time; " + std::to_string(st.restarts) + " broker restarts, " +
        std::to_string(st.latency_notes) + " latency notes\n" + "netfuzz: reports in " + o_.report_dir.string() +
        "\n");
    if (stats) *stats = st;
    return findings_.empty() ? 0 : 1;
  }

  const net_fuzz_options& o_;
  std::ostream& log_;
  std::mutex log_mutex_;
  std::string started_at_;
  clock::time_point start_, end_;

  std::mutex target_mutex_;
  net_target target_;
  std::atomic<std::uint64_t> generation_{1};  // the broker incarnation (0: none)
  std::unique_ptr<broker_process> broker_;
  unsigned incarnation_ = 0;

  std::mutex pause_mutex_;
  std::condition_variable pause_cv_;
  bool paused_ = false;
  unsigned parked_ = 0, live_workers_ = 0;
  std::atomic<bool> abort_{false}, stop_{false};
  std::atomic<std::uint64_t> liveness_request_{0};  // the broker generation a worker found silent

  std::mutex recent_mutex_;
  std::vector<std::deque<std::pair<std::uint64_t, script>>> recent_;

  std::mutex findings_mutex_;
  std::vector<finding> findings_;
  std::map<std::string, std::size_t> index_;
  std::map<std::string, std::uint64_t> pending_counts_;
  std::uint64_t occurrences_ = 0, reproduced_ = 0;
  std::vector<std::string> notes_;

  std::atomic<std::uint64_t> next_case_{0}, cases_{0}, steps_{0}, connections_{0}, timeouts_{0};
  std::uint64_t restarts_ = 0, latency_notes_ = 0;
};

}  // namespace

int run_net_fuzz(const net_fuzz_options& options, std::ostream& log, net_fuzz_stats* stats) {
  if (options.versions.empty() || (options.duration.count() <= 0 && options.max_cases == 0) || options.workers == 0) {
    log << "netfuzz: needs a version, a worker and a duration or a case count\n";
    return 2;
  }
  campaign c(options, log);
  return c.run(stats);
}

int replay_net_case(const std::filesystem::path& file, const net_fuzz_options& options, std::ostream& log,
                    unsigned repeat) {
  std::string error;
  auto c = load_case(file, error);
  if (!c) {
    log << "netfuzz: " << file.string() << ": " << error << "\n";
    return 2;
  }
  const identity id{c->kind, c->statement, c->rule, {}};
  if ((c->kind == "crash" || c->kind == "hang") && options.broker_cmd.empty())
    log << "netfuzz: note: a " << c->kind << " is best replayed with --broker-cmd (a fresh process each time)\n";
  replayer rp(options, options.report_dir / "broker" / "replay.log");
  unsigned reproduced = 0;
  repeat = std::max(repeat, 1u);
  for (unsigned k = 0; k < repeat; ++k) {
    auto o = rp.once(id, c->before, c->s, !options.broker_cmd.empty(), options.target);
    if (o.unreachable) {
      log << "netfuzz: cannot replay: " << o.how << "\n";
      return 2;
    }
    if (o.reproduced) ++reproduced;
    log << "netfuzz: replay " << k + 1 << "/" << repeat << ": " << (o.reproduced ? "reproduced" : "not reproduced")
        << " (" << o.how << ")\n";
    if (k == 0)
      for (const auto& line : trace_lines(o.last.trace, c->version)) log << "  " << line << "\n";
  }
  log << "netfuzz: reproduced " << reproduced << " of " << repeat << " (" << c->kind
      << (c->statement.empty() ? "" : " " + c->statement) << ")\n";
  return reproduced == repeat ? 1 : reproduced ? 3 : 0;
}

}  // namespace mqttspec::netfuzz
