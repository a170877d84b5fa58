// Target `topic`: Topic Name / Topic Filter validation, topic_matches and the subscription_tree,
// each checked against a deliberately naive model written here from §4.7 and §4.8.2 (split into
// levels, compare level by level; a map of who subscribed to what).
// Input: a sequence of operations; strings are NUL-terminated (or end at the input's end).
#include "fuzz_common.hpp"
#include "mqttspec/broker/subscription_tree.hpp"
#include "mqttspec/broker/topic_match.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

namespace {

using namespace mqttspec::codec;
using mqttspec::fuzz::input_reader;

std::vector<std::string_view> levels(std::string_view s) {
  std::vector<std::string_view> out;
  for (;;) {
    auto slash = s.find('/');
    out.push_back(s.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    s.remove_prefix(slash + 1);
  }
}

bool naive_name_ok(std::string_view n) {
  return !n.empty() && n.find_first_of("+#") == std::string_view::npos;
}

bool naive_plain_filter_ok(std::string_view f) {
  if (f.empty()) return false;
  auto ls = levels(f);
  for (std::size_t i = 0; i < ls.size(); ++i) {
    if (ls[i].find('#') != std::string_view::npos && (ls[i] != "#" || i + 1 != ls.size())) return false;
    if (ls[i].find('+') != std::string_view::npos && ls[i] != "+") return false;
  }
  return true;
}

// nullopt: not shared. Otherwise {share name, filter} (which may be invalid).
std::optional<std::pair<std::string_view, std::string_view>> naive_shared(std::string_view f) {
  constexpr std::string_view prefix = "$share/";
  if (f.substr(0, prefix.size()) != prefix) return std::nullopt;
  f.remove_prefix(prefix.size());
  auto slash = f.find('/');
  if (slash == std::string_view::npos) return std::pair{f, std::string_view{}};
  return std::pair{f.substr(0, slash), f.substr(slash + 1)};
}

bool naive_filter_ok(std::string_view f, protocol_version v) {
  if (is_v5(v)) {
    if (auto s = naive_shared(f)) {
      if (s->first.empty() || s->first.find_first_of("+#") != std::string_view::npos) return false;
      return naive_plain_filter_ok(s->second);
    }
  }
  return naive_plain_filter_ok(f);
}

bool naive_match(std::string_view filter, std::string_view name) {
  auto fl = levels(filter), nl = levels(name);
  if (!name.empty() && name[0] == '$' && (fl[0] == "+" || fl[0] == "#")) return false;
  for (std::size_t i = 0; i < fl.size(); ++i) {
    if (fl[i] == "#") return true;  // this level and all below, including none ("a/#" ~ "a")
    if (i >= nl.size()) return false;
    if (fl[i] != "+" && fl[i] != nl[i]) return false;
  }
  return fl.size() == nl.size();
}

std::string_view next_string(input_reader& in, std::string_view& pool) {
  (void)in;
  auto nul = pool.find('\0');
  auto s = pool.substr(0, nul);
  pool.remove_prefix(nul == std::string_view::npos ? pool.size() : nul + 1);
  return s;
}

struct model_sub {
  protocol_version version;
  qos max_qos;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;  // long inputs only slow the naive model down
  input_reader in(data, size);
  // Layout: a header of up to 32 operation bytes, then the string pool.
  const std::size_t nops = in.u8() % 32;
  const std::string_view ops = in.take(nops);
  std::string_view pool = in.rest();
  input_reader op(ops);

  mqttspec::broker::subscription_tree tree;
  std::map<std::string, std::map<std::string, model_sub>, std::less<>> model;  // client -> filter

  while (!op.empty()) {
    const auto code = op.u8();
    const protocol_version v = mqttspec::fuzz::pick_version(code >> 4);
    const std::string client = "c" + std::to_string(code >> 2 & 3);
    switch (code & 3) {
      case 0: {  // validate a name and a filter, and match them
        auto name = next_string(op, pool);
        auto filter = next_string(op, pool);
        const bool name_ok = !check_topic_name(name);
        const bool filter_ok = !check_topic_filter(filter, v);
        MQTTSPEC_FUZZ_CHECK(name_ok == naive_name_ok(name), "check_topic_name disagrees on \"" + std::string(name) + "\"");
        MQTTSPEC_FUZZ_CHECK(filter_ok == naive_filter_ok(filter, v),
                            "check_topic_filter disagrees on \"" + std::string(filter) + "\" in " + std::string(to_string(v)));
        if (auto p = check_topic_filter(filter, v)) MQTTSPEC_FUZZ_CHECK(p->offset <= filter.size(), "offset past filter");
        if (is_v5(v) && filter_ok) {
          auto s = parse_shared(filter);
          auto ns = naive_shared(filter);
          MQTTSPEC_FUZZ_CHECK(s.has_value() == ns.has_value(), "parse_shared disagrees");
          if (s) MQTTSPEC_FUZZ_CHECK(s->share_name == ns->first && s->filter == ns->second, "parse_shared split differs");
        }
        if (name_ok && naive_plain_filter_ok(filter)) {
          MQTTSPEC_FUZZ_CHECK(mqttspec::broker::topic_matches(filter, name) == naive_match(filter, name),
                              "topic_matches(\"" + std::string(filter) + "\", \"" + std::string(name) + "\") disagrees");
        }
        break;
      }
      case 1: {  // subscribe
        auto filter = next_string(op, pool);
        if (!naive_filter_ok(filter, v)) break;  // the tree's precondition
        const auto q = static_cast<qos>(op.u8() % 3);
        auto r = tree.subscribe(client, filter, subscription_options{.max_qos = q}, std::nullopt, v);
        auto& subs = model[client];
        const bool existed = subs.count(std::string(filter)) != 0;
        MQTTSPEC_FUZZ_CHECK((r == mqttspec::broker::subscribe_result::replaced) == existed, "subscribe result differs");
        subs[std::string(filter)] = {v, q};
        break;
      }
      case 2: {  // unsubscribe
        auto filter = next_string(op, pool);
        auto it = model.find(client);
        const bool had = it != model.end() && it->second.erase(std::string(filter)) != 0;
        MQTTSPEC_FUZZ_CHECK(tree.unsubscribe(client, filter) == had, "unsubscribe result differs");
        break;
      }
      default: {  // match a name against everyone
        auto name = next_string(op, pool);
        if (!naive_name_ok(name)) break;
        // Expected: per client the highest QoS among matching ordinary filters; per shared
        // (share name, filter) group the set of members.
        std::map<std::string, qos> plain;
        std::map<std::string, std::set<std::string>> groups;  // full "$share/..." filter -> members
        for (const auto& [cl, subs] : model) {
          for (const auto& [f, s] : subs) {
            auto sh = is_v5(s.version) ? naive_shared(f) : std::nullopt;
            if (sh) {
              if (naive_match(sh->second, name)) groups[f].insert(cl);
            } else if (naive_match(f, name)) {
              auto& q = plain.try_emplace(cl, s.max_qos).first->second;
              q = std::max(q, s.max_qos);
            }
          }
        }
        auto got = tree.match(name);
        std::map<std::string, qos> got_plain;
        std::map<std::string, int> got_groups;
        for (const auto& d : got) {
          if (d.shared) {
            ++got_groups[std::string(d.shared_filter)];
            auto g = groups.find(std::string(d.shared_filter));
            MQTTSPEC_FUZZ_CHECK(g != groups.end() && g->second.count(std::string(d.client_id)),
                                "shared delivery to a non-member or for a non-matching group");
          } else {
            MQTTSPEC_FUZZ_CHECK(got_plain.emplace(std::string(d.client_id), d.max_qos).second,
                                "two ordinary deliveries to one session");
          }
        }
        MQTTSPEC_FUZZ_CHECK(got_plain == plain, "ordinary deliveries for \"" + std::string(name) + "\" differ from the model");
        MQTTSPEC_FUZZ_CHECK(got_groups.size() == groups.size(), "shared groups for \"" + std::string(name) + "\" differ");
        for (const auto& [g, n] : got_groups) MQTTSPEC_FUZZ_CHECK(n == 1, "shared group delivered more than once");
        break;
      }
    }
  }
  std::size_t total = 0;
  for (const auto& [cl, subs] : model) {
    total += subs.size();
    MQTTSPEC_FUZZ_CHECK(tree.count(cl) == subs.size(), "subscription count of a client differs");
  }
  MQTTSPEC_FUZZ_CHECK(tree.size() == total, "subscription total differs");
  return 0;
}
