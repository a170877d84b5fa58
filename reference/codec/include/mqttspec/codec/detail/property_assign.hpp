#pragma once
// Decoder side of the property table: stores one decoded value into its struct field.
#include "mqttspec/codec/errc.hpp"
#include "mqttspec/codec/property.hpp"

namespace mqttspec::codec::detail {

// Stores `v` (already read with the wire type of its id, strings already UTF-8 checked).
// Returns errc{} when stored, else the broken rule: duplicate_property, invalid_property_value or
// topic_alias_zero. `in_publish` allows several Subscription Identifiers. (A plain errc, not an
// optional: g++ returns optional<errc> through memory, a store-forwarding stall on every property.)
errc assign_property(properties& p, const property_value& v, bool in_publish);

}  // namespace mqttspec::codec::detail
