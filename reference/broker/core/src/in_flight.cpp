#include "mqttspec/broker/in_flight.hpp"

#include <iterator>

namespace mqttspec::broker {

inflight* in_flight_list::find(std::uint16_t packet_id) {
  auto it = index_.find(packet_id);
  return it == index_.end() ? nullptr : &*it->second;
}

bool in_flight_list::push_back(inflight f) {
  if (in_use(f.packet_id)) return false;
  const bool transmitted = f.transmitted;
  entries_.push_back(std::move(f));
  const auto added = std::prev(entries_.end());
  index_.emplace(added->packet_id, added);
  if (transmitted) ++transmitted_;
  else if (resend_ == entries_.end()) resend_ = added;
  return true;
}

void in_flight_list::erase(std::uint16_t packet_id) {
  auto it = index_.find(packet_id);
  if (it == index_.end()) return;
  const auto entry = it->second;
  index_.erase(it);
  if (entry->transmitted) --transmitted_;
  if (entry == resend_) {
    ++resend_;
    skip_transmitted();
  }
  entries_.erase(entry);
}

void in_flight_list::mark_transmitted(inflight& f) {
  if (f.transmitted) return;
  f.transmitted = true;
  ++transmitted_;
  skip_transmitted();
}

void in_flight_list::mark_all_untransmitted() noexcept {
  for (auto& f : entries_) f.transmitted = false;
  transmitted_ = 0;
  resend_ = entries_.begin();
}

// Resends go in order and new entries come after them, so this passes each entry at most once
// per reconnection.
void in_flight_list::skip_transmitted() noexcept {
  while (resend_ != entries_.end() && resend_->transmitted) ++resend_;
}

}  // namespace mqttspec::broker
