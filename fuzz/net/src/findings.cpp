#include "findings.hpp"

#include "judge.hpp"
#include "mqttspec/conformance/packet_json.hpp"
#include "mqttspec/conformance/reports.hpp"
#include "mqttspec/conformance/verdict.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <deque>
#include <fstream>
#include <sstream>

namespace mqttspec::netfuzz {

using namespace codec;
using json = nlohmann::ordered_json;

namespace {

std::string replace_token(std::string s, const std::string& token) {
  if (token.empty()) return s;
  for (auto at = s.find(token); at != std::string::npos; at = s.find(token, at)) s.replace(at, token.size(), "<token>");
  return s;
}

std::string version_name(protocol_version v) { return std::string(to_string(v)); }

std::optional<protocol_version> parse_version(const std::string& s) {
  if (s == "5.0" || s == "5") return protocol_version::v5;
  if (s == "3.1.1" || s == "4") return protocol_version::v3_1_1;
  if (s == "3.1" || s == "3") return protocol_version::v3_1;
  return std::nullopt;
}

const char* op_name(step_op op) {
  switch (op) {
    case step_op::open: return "open";
    case step_op::close: return "close";
    case step_op::send: return "send";
  }
  return "?";
}

json steps_json(const std::vector<step>& list, protocol_version v) {
  json steps = json::array();
  for (const auto& st : list) {
    json j{{"conn", st.conn}, {"op", op_name(st.op)}};
    if (st.op == step_op::open) j["auto_ack"] = st.auto_ack;
    if (st.op == step_op::send) {
      j["hex"] = to_hex(st.data, " ");
      if (st.mutated) j["mutated"] = true;
      // What the frames are, for a reader (ignored when loading).
      json packets = json::array();
      bytes_view rest = st.data;
      while (!rest.empty()) {
        auto f = parse_frame(rest);
        if (!f) {
          packets.push_back("unframed bytes: " + to_hex(rest.substr(0, 64), " "));
          break;
        }
        auto d = decode(f.value(), v);
        packets.push_back(d ? to_string(d.value()) : "invalid: " + d.error().message());
        rest.remove_prefix(f->bytes.size());
      }
      j["packets"] = std::move(packets);
    }
    steps.push_back(std::move(j));
  }
  return steps;
}

json script_json(const script& s) {
  json j{{"version", version_name(s.version)}, {"token", s.token}, {"steps", steps_json(s.steps, s.version)}};
  if (!s.cleanup.empty()) j["cleanup"] = steps_json(s.cleanup, s.version);
  return j;
}

bool steps_from(const json& list, std::vector<step>& out, std::string& error) {
  for (const auto& st : list) {
    step x;
    const auto op = st.at("op").get<std::string>();
    x.op = op == "open" ? step_op::open : op == "close" ? step_op::close : step_op::send;
    if (op != "open" && op != "close" && op != "send") {
      error = "unknown step " + op;
      return false;
    }
    const int conn = st.value("conn", 0);
    if (conn < 0 || conn > 15) {
      error = "connection number out of range";
      return false;
    }
    x.conn = static_cast<std::uint8_t>(conn);
    x.auto_ack = st.value("auto_ack", true);
    x.mutated = st.value("mutated", false);
    if (x.op == step_op::send) {
      auto b = from_hex(st.value("hex", std::string()));
      if (!b) {
        error = "bad hex in a send step";
        return false;
      }
      x.data = std::move(*b);
    }
    out.push_back(std::move(x));
  }
  return true;
}

std::optional<script> script_from(const json& j, std::string& error) {
  script s;
  auto v = parse_version(j.value("version", std::string("5.0")));
  if (!v) {
    error = "unknown version";
    return std::nullopt;
  }
  s.version = *v;
  s.token = j.value("token", std::string());
  if (!s.token.empty() && s.token.size() != token_length) {
    error = "token of the wrong length";
    return std::nullopt;
  }
  if (!steps_from(j.at("steps"), s.steps, error)) return std::nullopt;
  if (j.contains("cleanup") && !steps_from(j["cleanup"], s.cleanup, error)) return std::nullopt;
  if (s.steps.empty()) {
    error = "no steps";
    return std::nullopt;
  }
  return s;
}

// The line-based case files of the first network fuzzer: one fresh connection.
std::optional<saved_case> load_old(std::istream& in, std::string& error) {
  saved_case c;
  c.kind = "conformance";
  c.s.steps.push_back(open_step(0));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.find(' ');
    const auto key = line.substr(0, space);
    const auto value = space == std::string::npos ? std::string() : line.substr(space + 1);
    if (key == "version") {
      const int v = std::atoi(value.c_str());
      if (v < 3 || v > 5) {
        error = "bad version";
        return std::nullopt;
      }
      c.version = c.s.version = static_cast<protocol_version>(v);
    } else if (key == "kind") c.kind = value;
    else if (key == "statement") c.statement = value;
    else if (key == "detail") c.observation = value;
    else if (key == "send") {
      auto b = from_hex(value);
      if (!b) {
        error = "bad hex";
        return std::nullopt;
      }
      c.s.steps.push_back(send_step(0, std::move(*b)));
    }
  }
  if (c.s.steps.size() < 2) {
    error = "no send lines";
    return std::nullopt;
  }
  return c;
}

void write_case(const std::filesystem::path& file, const finding& f, const script& s,
                const std::vector<trace_entry>& trace, bool minimized, unsigned replays, unsigned reproduced) {
  json j;
  j["format"] = "mqttspec-netfuzz-case 1";
  j["replay"] = "mqttspec fuzz --replay " + file.string();
  j["kind"] = f.kind;
  j["statement"] = f.statement;
  j["rule"] = f.rule;
  j["rule_text"] = f.rule_text;
  j["observation"] = f.observation;
  j["version"] = version_name(f.version);
  j["case"] = f.case_number;
  j["count"] = f.count;
  j["replayed"] = std::to_string(reproduced) + "/" + std::to_string(replays);
  j["minimized"] = minimized;
  if (minimized) j["minimized_from"] = f.file.filename().string();
  if (!f.note.empty()) j["note"] = f.note;
  j["script"] = script_json(s);
  if (!f.before.empty()) {
    j["before"] = json::array();
    for (const auto& b : f.before) j["before"].push_back(script_json(b));
  }
  j["trace"] = trace_lines(trace, f.version);
  if (!f.broker_output.empty()) j["broker_output"] = f.broker_output;
  std::ofstream out(file, std::ios::binary);
  out << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

std::string file_name(std::size_t index, const finding& f, const char* ext) {
  char n[16];
  std::snprintf(n, sizeof n, "%04zu", index);
  std::string tail = f.statement.empty() ? "" : "-" + f.statement;
  for (auto& ch : tail)
    if (ch == ':' || ch == '/' || ch == ' ') ch = '_';
  return f.kind + "-" + n + tail + ext;
}

// ---- reports ----

conformance::wire_entry wire(const trace_entry& e, protocol_version v) {
  conformance::wire_entry w;
  w.t_ms = e.t_ms;
  // Not `"c" + std::to_string(...)`: that form draws a false -Wrestrict from GCC 12 here.
  std::string client = std::to_string(e.conn);
  client.insert(client.begin(), 'c');
  w.client = std::move(client);
  w.direction = e.d == trace_entry::dir::send ? "send" : e.d == trace_entry::dir::recv ? "recv" : "event";
  if (!e.data.empty()) {
    auto d = decode(bytes_view(e.data), v);
    if (d) w.packet = conformance::to_json(d.value());
    else w.hex = to_hex(bytes_view(e.data).substr(0, 1024), " ");
  }
  w.note = e.note;
  return w;
}

conformance::suite_version suite_of(protocol_version v) {
  return is_v5(v) ? conformance::suite_version::v5 : conformance::suite_version::v3_1_1;
}

std::string now_iso() {
  char buf[32];
  const auto t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::string finding_key(const std::string& kind, const std::string& statement, const std::string& observation,
                        const std::string& token) {
  // The conformance reports' normalization (identifiers, offsets, payloads, ...), then every
  // number left: counts and limits ("4 PUBLISHes ... Receive Maximum 3") vary with the case.
  const auto normalized = conformance::normalize_observation(replace_token(observation, token));
  std::string key = kind + "|" + statement + "|";
  for (std::size_t i = 0; i < normalized.size();) {
    if (normalized[i] >= '0' && normalized[i] <= '9') {
      while (i < normalized.size() && normalized[i] >= '0' && normalized[i] <= '9') ++i;
      key += "<n>";
    } else {
      key += normalized[i++];
    }
  }
  return key;
}

void save_finding(const std::filesystem::path& dir, std::size_t index, finding& f) {
  std::filesystem::create_directories(dir);
  f.file = dir / file_name(index, f, ".case");
  write_case(f.file, f, f.original, f.trace, false, f.replays, f.reproduced);
  if (f.minimized) {
    f.minimized_file = dir / file_name(index, f, ".min.case");
    write_case(f.minimized_file, f, *f.minimized, f.minimized_trace, true, f.min_replays, f.min_reproduced);
  }
}

std::optional<saved_case> load_case(const std::filesystem::path& file, std::string& error) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    error = "cannot read " + file.string();
    return std::nullopt;
  }
  const int first = in.peek();
  if (first != '{') return load_old(in, error);
  json j;
  try {
    j = json::parse(in);
    saved_case c;
    c.kind = j.value("kind", std::string("conformance"));
    c.statement = j.value("statement", std::string());
    c.rule = j.value("rule", std::string());
    c.observation = j.value("observation", std::string());
    auto s = script_from(j.at("script"), error);
    if (!s) return std::nullopt;
    c.s = std::move(*s);
    c.version = c.s.version;
    if (j.contains("before"))
      for (const auto& b : j["before"]) {
        auto bs = script_from(b, error);
        if (!bs) return std::nullopt;
        c.before.push_back(std::move(*bs));
      }
    return c;
  } catch (const std::exception& e) {
    error = std::string("not a case file: ") + e.what();
    return std::nullopt;
  }
}

std::optional<std::string> write_reports(const std::filesystem::path& dir, const campaign_summary& c,
                                         const std::vector<finding>& findings,
                                         const std::filesystem::path& statements_dir) {
  conformance::catalog cat;
  if (!statements_dir.empty()) (void)conformance::catalog::load(statements_dir, cat);

  // Each distinct finding is one case of the report, like a failed scenario.
  std::deque<conformance::scenario> scenarios;
  conformance::run_summary s;
  s.target = "network fuzzing of " + c.target;
  s.rerun_args = c.rerun_args;
  s.rerun_prefix = "mqttspec fuzz --replay";
  s.statement_matrix = false;
  s.started_at = c.started_at.empty() ? now_iso() : c.started_at;
  s.wall_ms = c.seconds * 1000;
  s.notes = c.notes;
  for (const auto& f : findings) {
    auto& sc = scenarios.emplace_back();
    sc.id = f.best_file().string();
    const auto* st = f.statement.empty() ? nullptr : cat.find(f.statement);
    sc.title = st ? st->summary : f.rule_text;
    sc.requirement = f.rule_text.empty() ? sc.title : f.rule_text;
    if (!f.statement.empty()) sc.statements = {f.statement};
    sc.version = suite_of(f.version);
    sc.section = f.kind;
    sc.file = f.best_file().string();
    conformance::scenario_result r;
    r.sc = &sc;
    r.v = conformance::verdict::fail;
    r.expected = f.rule_text;
    r.observed = f.observation;
    r.broken = f.statement.empty() ? f.kind : f.statement;
    r.message = f.observation + " (seen " + std::to_string(f.count) + (f.count == 1 ? " time" : " times") +
                "; replayed " + std::to_string(f.reproduced) + "/" + std::to_string(f.replays) +
                (f.minimized ? "; minimized from " + std::to_string(f.original.steps.size()) + " to " +
                                   std::to_string(f.minimized->steps.size()) + " steps"
                             : "") +
                (f.note.empty() ? "" : "; " + f.note) + ")";
    // How often and how reliably: shown with each case in report.html and junit.xml.
    r.findings.push_back("seen " + std::to_string(f.count) + (f.count == 1 ? " time" : " times") +
                         " in the campaign; replayed " + std::to_string(f.reproduced) + "/" +
                         std::to_string(f.replays) +
                         (f.minimized ? "; minimized " + std::to_string(f.original.steps.size()) + " -> " +
                                            std::to_string(f.minimized->steps.size()) + " steps, replayed " +
                                            std::to_string(f.min_reproduced) + "/" + std::to_string(f.min_replays)
                                      : ""));
    if (!f.hex.empty()) r.findings.push_back("bytes: " + f.hex);
    if (!f.broker_output.empty()) r.findings.push_back("broker output: " + f.broker_output);
    const auto& trace = f.best_file() == f.minimized_file ? f.minimized_trace : f.trace;
    for (const auto& e : trace) r.log.push_back(wire(e, f.version));
    s.results.push_back(std::move(r));
  }

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "cannot create " + dir.string() + ": " + ec.message();
  auto write = [&](const char* name, auto&& fn) -> std::optional<std::string> {
    std::ofstream out(dir / name, std::ios::binary);
    if (!out) return "cannot write " + (dir / name).string();
    fn(out);
    out.close();
    if (!out) return "error writing " + (dir / name).string();
    return std::nullopt;
  };
  if (auto e = write("junit.xml", [&](std::ostream& o) { conformance::write_junit(s, o); })) return e;
  if (auto e = write("results.json", [&](std::ostream& o) { conformance::write_json(s, cat, o); })) return e;
  if (auto e = write("report.html", [&](std::ostream& o) { conformance::write_html(s, cat, o); })) return e;

  json j;
  j["tool"] = "mqttspec fuzz";
  j["target"] = c.target;
  j["started_at"] = s.started_at;
  j["seconds"] = c.seconds;
  j["cases"] = c.cases;
  j["steps"] = c.steps;
  j["connections"] = c.connections;
  j["cases_per_second"] = c.seconds > 0 ? static_cast<double>(c.cases) / c.seconds : 0.0;
  j["restarts"] = c.restarts;
  j["latency_notes"] = c.latency_notes;
  j["notes"] = c.notes;
  j["findings"] = json::array();
  for (const auto& f : findings) {
    json x{{"kind", f.kind},
           {"statement", f.statement},
           {"rule", f.rule},
           {"observation", f.observation},
           {"version", version_name(f.version)},
           {"count", f.count},
           {"replays", f.replays},
           {"reproduced", f.reproduced},
           {"steps", f.original.steps.size()},
           {"file", f.file.string()}};
    if (f.minimized) {
      x["minimized_steps"] = f.minimized->steps.size();
      x["minimized_file"] = f.minimized_file.string();
      x["minimized_replays"] = f.min_replays;
      x["minimized_reproduced"] = f.min_reproduced;
    }
    if (!f.note.empty()) x["note"] = f.note;
    j["findings"].push_back(std::move(x));
  }
  if (auto e = write("netfuzz.json", [&](std::ostream& o) { o << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n"; }))
    return e;
  return std::nullopt;
}

}  // namespace mqttspec::netfuzz
