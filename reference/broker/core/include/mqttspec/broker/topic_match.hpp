#pragma once
// Does a Topic Filter match a Topic Name (§4.7)?
#include <string_view>

namespace mqttspec::broker {

// True when `name` matches `filter`:
//  - levels are separated by '/' and may be empty ("a//b", "/a" and "a/" are all distinct);
//  - '+' matches exactly one level; '#' matches its level and every level below, and also the
//    parent ("sport/#" matches "sport");
//  - a filter whose first level is '+' or '#' never matches a name beginning with '$'
//    (v5:MQTT-4.7.2-1, v3.1.1:MQTT-4.7.2-1);
//  - everything else compares byte for byte: no case folding, no Unicode normalization
//    (v5:MQTT-4.7.3-4, v3.1.1:MQTT-4.7.3-4).
// Preconditions: `filter` passed codec::check_topic_filter and `name` codec::check_topic_name.
// `filter` is an ordinary filter: for a shared subscription pass the part after
// "$share/<ShareName>/" (codec::parse_shared); "$share/..." itself is compared literally.
// An empty filter or name matches nothing.
bool topic_matches(std::string_view filter, std::string_view name) noexcept;

}  // namespace mqttspec::broker
