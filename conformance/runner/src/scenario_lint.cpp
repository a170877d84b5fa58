#include "mqttspec/conformance/scenario_lint.hpp"

#include "mqttspec/conformance/variables.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace mqttspec::conformance {
namespace {

std::string attr(const step& st, const std::string& name) {
  auto it = st.attrs.find(name);
  return it == st.attrs.end() ? std::string{} : it->second;
}

// The smallest packet a 5.0 broker may advertise and still be given our ordinary traffic.
constexpr unsigned long small_packet_limit = 256;

// A lower bound of what a <send> puts on the wire, from what is known at load time.
unsigned long size_estimate(const step& st) {
  unsigned long n = attr(st, "topic").size() + attr(st, "filter").size();
  const auto payload = attr(st, "payload").size() + attr(st, "payload-hex").size() / 2;
  const auto repeat = parse_number(attr(st, "payload-repeat"), 0xFFFFFFFFul).value_or(1);
  n += payload * repeat;
  for (const auto& p : st.properties) n += p.count("value") ? p.at("value").size() : 0;
  for (const auto& t : st.topics) n += t.count("filter") ? t.at("filter").size() : 0;
  if (auto length = parse_number(attr(st, "length"), 268435455)) n = std::max(n, *length);
  return n;
}

bool sizes_from_broker(const scenario& s, const step& st) {
  for (const auto& r : s.requires_caps)
    if (r.starts_with("maximum-packet-size")) return true;
  return std::any_of(st.attrs.begin(), st.attrs.end(),
                     [](const auto& a) { return a.second.find("${cap.maximum-packet-size}") != std::string::npos; });
}

class linter {
 public:
  explicit linter(const scenario& s) : s_(s) {}

  std::vector<lint_problem> run() {
    walk(s_.steps);
    last_.clear();
    walk(s_.control);
    return std::move(problems_);
  }

 private:
  void walk(const std::vector<step>& steps) {
    for (const auto& st : steps) {
      const auto client = attr(st, "client");
      switch (st.kind) {
        case step_kind::expect: expect(st, client); break;
        case step_kind::expect_all:
          for (const auto& g : st.group) last_[attr(g, "client")] = "expect-all";
          break;
        case step_kind::expect_close:
        case step_kind::expect_nothing: last_[client] = to_string(st.kind); break;
        case step_kind::any_of: last_.clear(); break;
        case step_kind::open:
        case step_kind::connect:
          auto_ack_[client] = parse_bool(attr(st, "auto-ack")).value_or(true);
          last_.clear();
          break;
        case step_kind::send: send(st, client); break;
        default: last_.clear(); break;
      }
    }
  }

  void expect(const step& st, const std::string& client) {
    const auto type = attr(st, "type");
    auto it = last_.find(client);
    if (it != last_.end() && std::set<std::string>{it->second, type} == std::set<std::string>{"suback", "publish"})
      problems_.push_back({st.line, "client " + client + ": the " + it->second + " and the " + type +
                                        " after it may come in either order (the Server may send matching PUBLISH "
                                        "packets before the SUBACK, §3.8.4): put both in one <expect-all>"});
    last_[client] = type;
  }

  void send(const step& st, const std::string& client) {
    last_.clear();
    const auto type = attr(st, "type");
    if ((type == "puback" || type == "pubrec" || type == "pubcomp") && auto_ack_[client])
      problems_.push_back({st.line, "client " + client + " acknowledges deliveries by itself (auto-ack); give its "
                                        "<connect> auto-ack=\"0\" to send " + type + " yourself"});
    if (s_.version == suite_version::v5 && size_estimate(st) > small_packet_limit && !sizes_from_broker(s_, st))
      problems_.push_back({st.line, "a packet of more than " + std::to_string(small_packet_limit) +
                                        " bytes may exceed the Maximum Packet Size the broker advertises: require "
                                        "\"maximum-packet-size>=N\" or size it from ${cap.maximum-packet-size}"});
  }

  const scenario& s_;
  std::map<std::string, std::string> last_;  // client -> the last expectation since anything was sent
  std::map<std::string, bool> auto_ack_;
  std::vector<lint_problem> problems_;
};

}  // namespace

std::vector<lint_problem> lint(const scenario& s) { return linter(s).run(); }

}  // namespace mqttspec::conformance
