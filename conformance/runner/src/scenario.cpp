#include "mqttspec/conformance/scenario.hpp"

namespace mqttspec::conformance {

std::string_view to_string(level l) noexcept {
  switch (l) {
    case level::must: return "MUST";
    case level::should: return "SHOULD";
    case level::may: return "MAY";
  }
  return "?";
}

std::string_view to_string(step_kind k) noexcept {
  switch (k) {
    case step_kind::open: return "open";
    case step_kind::connect: return "connect";
    case step_kind::send: return "send";
    case step_kind::expect: return "expect";
    case step_kind::expect_close: return "expect-close";
    case step_kind::expect_nothing: return "expect-nothing";
    case step_kind::drop: return "drop";
    case step_kind::disconnect: return "disconnect";
    case step_kind::any_of: return "any-of";
    case step_kind::expect_all: return "expect-all";
    case step_kind::clear_retained: return "clear-retained";
    case step_kind::end_session: return "end-session";
  }
  return "?";
}

}  // namespace mqttspec::conformance
