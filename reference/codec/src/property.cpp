#include "mqttspec/codec/property.hpp"

namespace mqttspec::codec {

std::span<const property_info> property_table() noexcept { return detail::table_rows::rows; }

bool properties::empty() const noexcept {
  bool any = false;
  for_each_property(*this, [&](const property_value&) { any = true; });
  return !any;
}

}  // namespace mqttspec::codec
