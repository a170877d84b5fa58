#include "mqttspec/broker/topic_match.hpp"

#include "mqttspec/broker/detail/topic_levels.hpp"

namespace mqttspec::broker {

bool topic_matches(std::string_view filter, std::string_view name) noexcept {
  using namespace detail;
  if (filter.empty() || name.empty()) return false;
  level_reader f(filter);
  level_reader n(name);
  bool first = true;
  for (;;) {
    const std::string_view fl = f.next();
    // v5:MQTT-4.7.2-1, v3.1.1:MQTT-4.7.2-1
    if (first && is_wildcard(fl) && wildcard_blocked_at_first_level(name)) return false;
    first = false;
    if (is_multi_level_wildcard(fl)) return true;  // this level and below, or none (the parent)
    if (n.done()) return false;                      // the filter has levels left, the name has not
    const std::string_view nl = n.next();
    if (!is_single_level_wildcard(fl) && fl != nl) return false;
    if (f.done()) return n.done();
  }
}

}  // namespace mqttspec::broker
