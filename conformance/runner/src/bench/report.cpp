#include "report.hpp"

#include "format.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <ostream>
#include <sstream>

namespace mqttspec::bench {

namespace {

using json = nlohmann::ordered_json;

bool is_plain(const result& r) { return r.workload == "connect-storm" || r.workload == "idle"; }

json quantiles(const histogram& h, double scale) {
  json j;
  j["count"] = h.count();
  auto v = [&](std::uint64_t x) { return std::round(static_cast<double>(x) / scale * 1000.0) / 1000.0; };
  j["min"] = v(h.min());
  j["p50"] = v(h.quantile(0.50));
  j["p90"] = v(h.quantile(0.90));
  j["p99"] = v(h.quantile(0.99));
  j["p99_9"] = v(h.quantile(0.999));
  j["max"] = v(h.max());
  j["mean"] = std::round(h.mean() / scale * 1000.0) / 1000.0;
  return j;
}

template <class T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

// One row of the table: a name, a value per result, how to print it, whether a ratio means anything.
struct row {
  std::string name;
  std::function<std::optional<double>(const result&)> value;
  enum class fmt { count, rate, micros, millis, seconds, bytes, text } how = fmt::count;
  bool ratio = false;
  std::function<std::string(const result&)> text{};
};

std::string commas(double v, int decimals = 0) { return with_commas(v, decimals); }

std::string format(row::fmt how, double v) {
  switch (how) {
    case row::fmt::count: return commas(v);
    case row::fmt::rate: return commas(v) + "/s";
    case row::fmt::micros: return commas(v, v < 100 ? 1 : 0) + " us";
    case row::fmt::millis: return commas(v, v < 100 ? 2 : 0) + " ms";
    case row::fmt::seconds: return commas(v, 2) + " s";
    case row::fmt::bytes: return commas(v) + " B";
    case row::fmt::text: return {};
  }
  return {};
}

std::vector<row> rows_for(const result& first) {
  std::vector<row> rows;
  using f = row::fmt;
  auto d = [](auto v) { return std::optional<double>(static_cast<double>(v)); };
  rows.push_back({"target", nullptr, f::text, false, [](const result& r) {
                    std::string s = r.label;
                    if (r.broker_pid) s += " (pid " + std::to_string(*r.broker_pid) + ")";
                    return s;
                  }});
  if (is_plain(first)) {
    rows.push_back({"connections", [d](const result& r) { return d(r.connections); }, f::count});
    rows.push_back({"failures", [d](const result& r) { return d(r.connect_failures); }, f::count});
    rows.push_back({"connects/s", [](const result& r) { return std::optional<double>(r.connect_rate); }, f::rate, true});
    for (const auto& [name, quant] : {std::pair{"CONNACK p50", 0.5}, {"CONNACK p90", 0.9}, {"CONNACK p99", 0.99}, {"CONNACK p99.9", 0.999}})
      rows.push_back({name, [q = quant](const result& r) { return std::optional<double>(static_cast<double>(r.connack.quantile(q)) / 1e6); },
                      f::millis, true});
    rows.push_back({"CONNACK max", [](const result& r) { return std::optional<double>(static_cast<double>(r.connack.max()) / 1e6); },
                    f::millis, true});
    if (first.workload == "idle") {
      rows.push_back({"broker RSS before", [](const result& r) -> std::optional<double> {
                        return r.rss_before ? std::optional<double>(static_cast<double>(*r.rss_before)) : std::nullopt;
                      }, f::bytes});
      rows.push_back({"broker RSS after", [](const result& r) -> std::optional<double> {
                        return r.rss_after ? std::optional<double>(static_cast<double>(*r.rss_after)) : std::nullopt;
                      }, f::bytes});
      rows.push_back({"memory/connection", [](const result& r) { return r.memory_per_connection(); }, f::bytes, true});
    }
  } else {
    rows.push_back({"sent", [d](const result& r) { return d(r.sent); }, f::count});
    rows.push_back({"sent rate", [](const result& r) { return std::optional<double>(r.sent_rate); }, f::rate, true});
    rows.push_back({"delivered", [d](const result& r) { return d(r.delivered); }, f::count});
    rows.push_back({"delivered rate", [](const result& r) { return std::optional<double>(r.delivered_rate); }, f::rate, true});
    rows.push_back({"expected", [d](const result& r) { return d(r.expected); }, f::count});
    rows.push_back({"lost", [d](const result& r) { return d(r.lost); }, f::count});
    rows.push_back({"duplicates", [d](const result& r) { return d(r.duplicates); }, f::count});
    rows.push_back({"out of order", [d](const result& r) { return d(r.reordered); }, f::count});
    for (const auto& [name, quant] : {std::pair{"latency p50", 0.5}, {"latency p90", 0.9}, {"latency p99", 0.99}, {"latency p99.9", 0.999}})
      rows.push_back({name, [q = quant](const result& r) { return std::optional<double>(static_cast<double>(r.latency.quantile(q)) / 1e3); },
                      f::micros, true});
    rows.push_back({"latency max", [](const result& r) { return std::optional<double>(static_cast<double>(r.latency.max()) / 1e3); },
                    f::micros, true});
    if (first.logins || first.login_failures) {
      rows.push_back({"logins", [d](const result& r) { return d(r.logins); }, f::count});
      rows.push_back({"login failures", [d](const result& r) { return d(r.login_failures); }, f::count});
      rows.push_back({"logins/s", [](const result& r) { return std::optional<double>(r.login_rate); }, f::rate, true});
      rows.push_back({"login p50", [](const result& r) { return std::optional<double>(static_cast<double>(r.login.quantile(0.5)) / 1e6); },
                      f::millis, true});
      rows.push_back({"login p99", [](const result& r) { return std::optional<double>(static_cast<double>(r.login.quantile(0.99)) / 1e6); },
                      f::millis, true});
    }
  }
  const std::string unit = is_plain(first) ? "connection" : "delivery";
  rows.push_back({"broker CPU", [](const result& r) { return r.broker_cpu; }, f::seconds});
  rows.push_back({"broker CPU/" + unit, [](const result& r) -> std::optional<double> {
                    auto v = r.broker_cpu_per_million();
                    return v ? std::optional<double>(*v) : std::nullopt;  // us per unit = s per million
                  }, f::micros, true});
  rows.push_back({"generator CPU", [](const result& r) { return std::optional<double>(r.generator_cpu); }, f::seconds});
  rows.push_back({"generator CPU/" + unit, [](const result& r) { return std::optional<double>(r.generator_cpu_per_million()); },
                  f::micros, true});
  rows.push_back({"verdict", nullptr, f::text, false, [](const result& r) {
                    if (!r.error.empty()) return std::string("ERROR");
                    return r.violations.empty() ? std::string("ok") : std::string("VIOLATIONS");
                  }});
  return rows;
}

std::string ratio_text(double a, double b) {
  if (b == 0 || std::isnan(a) || std::isnan(b)) return "-";
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << a / b << "x";
  return s.str();
}

// The cells: [row][column], the ratio column last when there are two results.
std::vector<std::vector<std::string>> cells(const std::vector<result>& results, std::vector<std::string>& names) {
  std::vector<std::vector<std::string>> out;
  for (const auto& rw : rows_for(results.front())) {
    names.push_back(rw.name);
    std::vector<std::string> line;
    std::vector<std::optional<double>> vals;
    for (const auto& r : results) {
      if (rw.text) {
        line.push_back(rw.text(r));
        vals.emplace_back();
        continue;
      }
      auto v = rw.value(r);
      vals.push_back(v);
      line.push_back(v ? format(rw.how, *v) : "-");
    }
    if (results.size() == 2) line.push_back(rw.ratio && vals[0] && vals[1] ? ratio_text(*vals[0], *vals[1]) : "");
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace

json to_json(const result& r) {
  json j;
  j["label"] = r.label;
  j["target"] = r.target;
  j["workload"] = r.workload;
  j["description"] = r.description;
  j["ok"] = r.error.empty() && r.violations.empty();
  if (!r.error.empty()) j["error"] = r.error;
  j["violations"] = r.violations;
  j["notes"] = r.notes;
  j["elapsed_s"] = r.elapsed;
  if (is_plain(r)) {
    j["connections"] = r.connections;
    j["connect_failures"] = r.connect_failures;
    j["connects_per_s"] = r.connect_rate;
    j["connack_ms"] = quantiles(r.connack, 1e6);
  } else {
    j["qos"] = r.qos;
    j["sent"] = r.sent;
    j["sent_per_s"] = r.sent_rate;
    j["acknowledged"] = r.acknowledged;
    j["refused"] = r.refused;
    j["delivered"] = r.delivered;
    j["delivered_per_s"] = r.delivered_rate;
    j["delivery_span_s"] = r.delivery_span;
    j["expected"] = r.expected;
    j["lost"] = r.lost;
    j["duplicates"] = r.duplicates;
    j["out_of_order"] = r.reordered;
    j["foreign"] = r.foreign;
    j["latency_us"] = quantiles(r.latency, 1e3);
    if (r.logins || r.login_failures) {
      j["logins"] = r.logins;
      j["login_failures"] = r.login_failures;
      j["logins_per_s"] = r.login_rate;
      j["login_ms"] = quantiles(r.login, 1e6);
    }
  }
  json b;
  b["pid"] = opt(r.broker_pid);
  b["embedded"] = r.broker_embedded;
  b["cpu_s"] = opt(r.broker_cpu);
  b["cpu_s_per_million"] = opt(r.broker_cpu_per_million());
  if (r.workload == "idle") {
    b["rss_before"] = opt(r.rss_before);
    b["rss_after"] = opt(r.rss_after);
    b["memory_per_connection"] = opt(r.memory_per_connection());
  }
  j["broker"] = b;
  json g;
  g["cpu_s"] = r.generator_cpu;
  g["cpu_s_per_million"] = r.generator_cpu_per_million();
  j["generator"] = g;
  return j;
}

json to_json(const std::vector<result>& results) {
  if (results.size() == 1) return to_json(results.front());
  json j;
  j["a"] = to_json(results[0]);
  j["b"] = to_json(results[1]);
  json ratios;
  const auto& a = results[0];
  const auto& b = results[1];
  auto put = [&](const char* name, std::optional<double> x, std::optional<double> y) {
    ratios[name] = x && y && *y != 0 ? json(*x / *y) : json(nullptr);
  };
  if (is_plain(a)) {
    put("connects_per_s", a.connect_rate, b.connect_rate);
    put("connack_p50", static_cast<double>(a.connack.quantile(0.5)), static_cast<double>(b.connack.quantile(0.5)));
    put("connack_p99", static_cast<double>(a.connack.quantile(0.99)), static_cast<double>(b.connack.quantile(0.99)));
    put("memory_per_connection", a.memory_per_connection(), b.memory_per_connection());
  } else {
    put("sent_per_s", a.sent_rate, b.sent_rate);
    put("delivered_per_s", a.delivered_rate, b.delivered_rate);
    put("latency_p50", static_cast<double>(a.latency.quantile(0.5)), static_cast<double>(b.latency.quantile(0.5)));
    put("latency_p99", static_cast<double>(a.latency.quantile(0.99)), static_cast<double>(b.latency.quantile(0.99)));
    put("latency_p99_9", static_cast<double>(a.latency.quantile(0.999)), static_cast<double>(b.latency.quantile(0.999)));
    put("latency_max", static_cast<double>(a.latency.max()), static_cast<double>(b.latency.max()));
  }
  put("broker_cpu_per_million", a.broker_cpu_per_million(), b.broker_cpu_per_million());
  j["ratios"] = ratios;
  return j;
}

void print_table(std::ostream& out, const std::vector<result>& results) {
  if (results.empty()) return;
  std::vector<std::string> names;
  auto c = cells(results, names);
  std::size_t w0 = 0;
  for (auto& n : names) w0 = std::max(w0, n.size());
  std::vector<std::size_t> w(c.front().size(), 0);
  std::vector<std::string> head;
  for (std::size_t i = 0; i < results.size(); ++i) head.push_back(results.size() == 2 ? (i == 0 ? "A" : "B") : "");
  if (results.size() == 2) head.push_back("A/B");
  for (std::size_t i = 0; i < w.size(); ++i) {
    w[i] = head[i].size();
    for (auto& line : c) w[i] = std::max(w[i], line[i].size());
  }
  out << results.front().description << "\n";
  if (results.size() == 2) {
    out << std::left << std::setw(static_cast<int>(w0)) << "" ;
    for (std::size_t i = 0; i < w.size(); ++i) out << "  " << std::right << std::setw(static_cast<int>(w[i])) << head[i];
    out << "\n";
  }
  for (std::size_t r = 0; r < c.size(); ++r) {
    out << std::left << std::setw(static_cast<int>(w0)) << names[r];
    for (std::size_t i = 0; i < w.size(); ++i) out << "  " << std::right << std::setw(static_cast<int>(w[i])) << c[r][i];
    out << "\n";
  }
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    const std::string who = results.size() == 2 ? (i == 0 ? "A: " : "B: ") : "";
    if (!r.error.empty()) out << who << "error: " << r.error << "\n";
    for (auto& v : r.violations) out << who << "VIOLATION: " << v << "\n";
    for (auto& n : r.notes) out << who << "note: " << n << "\n";
  }
}

void print_markdown(std::ostream& out, const std::vector<result>& results) {
  if (results.empty()) return;
  std::vector<std::string> names;
  auto c = cells(results, names);
  out << "**" << results.front().description << "**\n\n| |";
  for (std::size_t i = 0; i < results.size(); ++i) out << " " << results[i].label << " |";
  if (results.size() == 2) out << " ratio |";
  out << "\n|---|";
  for (std::size_t i = 0; i < c.front().size(); ++i) out << "---:|";
  out << "\n";
  for (std::size_t r = 1; r < c.size(); ++r) {  // row 0 (target) is the header
    out << "| " << names[r] << " |";
    for (auto& cell : c[r]) out << " " << cell << " |";
    out << "\n";
  }
  for (const auto& r : results) {
    if (!r.error.empty()) out << "\n- " << r.label << ": error: " << r.error;
    for (auto& v : r.violations) out << "\n- " << r.label << ": violation: " << v;
    for (auto& n : r.notes) out << "\n- " << r.label << ": " << n;
  }
  out << "\n";
}

int exit_status(const std::vector<result>& results) {
  int status = 0;
  for (const auto& r : results) {
    if (!r.error.empty()) return 2;
    if (!r.violations.empty()) status = 1;
  }
  return status;
}

}  // namespace mqttspec::bench
