#include "mqttspec/broker/message.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace mqttspec::broker {
namespace {

// A publish with every view-typed field set, and its expected contents (views of literals).
codec::publish full_publish() {
  codec::publish p;
  p.dup = true;
  p.qos_level = codec::qos::exactly_once;
  p.retain = true;
  p.packet_id = 0x1234;
  p.topic = "sensors/kitchen/temperature";
  p.payload = std::string_view("\x00\x01binary\xff payload", 17);
  auto& q = p.props;
  q.payload_format_indicator = 1;
  q.message_expiry_interval = 3600;
  q.content_type = "application/json";
  q.response_topic = "replies/kitchen";
  q.correlation_data = std::string_view("\x00corr\x00", 6);
  q.subscription_identifiers = {7, 9};
  q.session_expiry_interval = 10;
  q.assigned_client_identifier = "assigned-id";
  q.server_keep_alive = 30;
  q.authentication_method = "SCRAM-SHA-1";
  q.authentication_data = "auth-bytes";
  q.request_problem_information = 0;
  q.will_delay_interval = 5;
  q.request_response_information = 1;
  q.response_information = "response-info";
  q.server_reference = "other.example:1883";
  q.reason_string = "a reason";
  q.receive_maximum = 20;
  q.topic_alias_maximum = 10;
  q.topic_alias = 3;
  q.maximum_qos = 1;
  q.retain_available = 1;
  q.user_properties = {{"k1", "v1"}, {"", ""}, {"k1", "again"}, {"\xc3\xa9t\xc3\xa9", "summer"}};
  q.maximum_packet_size = 1000;
  q.wildcard_subscription_available = 1;
  q.subscription_identifier_available = 1;
  q.shared_subscription_available = 0;
  return p;
}

// Rewrites every view of `p` to point into one heap buffer: the "frame" the publish was decoded
// from. Returns that buffer; the caller destroys it to prove the message does not depend on it.
std::unique_ptr<std::string> rebase_into_frame(codec::publish& p) {
  auto frame = std::make_unique<std::string>();
  frame->reserve(4096);  // no reallocation while appending: earlier views stay valid
  const auto move = [&](std::string_view& v) {
    const std::size_t at = frame->size();
    frame->append(v);
    v = std::string_view(frame->data() + at, v.size());
  };
  move(p.topic);
  move(p.payload);
  auto& q = p.props;
  for (auto* o : {&q.content_type, &q.response_topic, &q.correlation_data, &q.assigned_client_identifier,
                  &q.authentication_method, &q.authentication_data, &q.response_information, &q.server_reference,
                  &q.reason_string}) {
    if (*o) move(**o);
  }
  for (auto& [k, v] : q.user_properties) {
    move(k);
    move(v);
  }
  return frame;
}

bool inside(std::string_view v, const codec::bytes& storage) {
  const auto lo = std::less_equal<const char*>();
  return lo(storage.data(), v.data()) && lo(v.data() + v.size(), storage.data() + storage.size());
}

TEST(message, make_message_copies_every_view_into_one_buffer) {
  const codec::publish expected = full_publish();
  codec::publish source = expected;
  auto frame = rebase_into_frame(source);
  ASSERT_EQ(source, expected);

  const message m = make_message(source);
  // The source frame is overwritten, then freed: under ASan any view still pointing into it is
  // a use-after-free, and without ASan the comparison below sees the 'X's.
  std::fill(frame->begin(), frame->end(), 'X');
  frame.reset();

  ASSERT_NE(m.storage, nullptr);
  EXPECT_EQ(m.publish, expected);
  EXPECT_EQ(m.publish.props.user_properties.size(), 4u);  // order and duplicates kept
  EXPECT_EQ(m.publish.props.user_properties[2].second, "again");

  // Every string and binary view, as the codec enumerates them, lies inside the one buffer; and
  // the buffer is exactly their total size.
  std::size_t total = m.publish.topic.size() + m.publish.payload.size();
  EXPECT_TRUE(inside(m.publish.topic, *m.storage));
  EXPECT_TRUE(inside(m.publish.payload, *m.storage));
  int views = 0;
  codec::for_each_property(m.publish.props, [&](const codec::property_value& v) {
    const auto* info = codec::find_property(static_cast<std::uint8_t>(v.id));
    ASSERT_NE(info, nullptr);
    if (info->type == codec::property_type::utf8_string || info->type == codec::property_type::binary_data ||
        info->type == codec::property_type::utf8_string_pair) {
      ++views;
      EXPECT_TRUE(inside(v.text, *m.storage)) << info->name;
      total += v.text.size();
      if (info->type == codec::property_type::utf8_string_pair) {
        EXPECT_TRUE(inside(v.pair_value, *m.storage)) << info->name;
        total += v.pair_value.size();
      }
    }
  });
  EXPECT_EQ(views, 9 + 4);  // nine string/binary properties, four user properties
  EXPECT_EQ(m.storage->size(), total);
}

TEST(message, copies_share_the_storage_and_outlive_the_original) {
  codec::publish p;
  std::string topic = "a/b";
  std::string payload = "hello";
  p.topic = topic;
  p.payload = payload;
  std::optional<message> original = make_message(p);
  topic.assign("zzz");
  payload.assign("wrong!!");
  const message copy = *original;
  EXPECT_EQ(copy.storage.get(), original->storage.get());
  EXPECT_EQ(copy.publish.topic.data(), original->publish.topic.data());
  original.reset();
  EXPECT_EQ(copy.publish.topic, "a/b");
  EXPECT_EQ(copy.publish.payload, "hello");
  EXPECT_EQ(copy.storage.use_count(), 1);
}

TEST(message, empty_and_absent_views_are_kept_apart) {
  codec::publish p;
  p.topic = "t";
  p.props.content_type = "";  // present but empty
  p.props.user_properties = {{"", ""}};
  const message m = make_message(p);
  EXPECT_EQ(m.publish.topic, "t");
  EXPECT_TRUE(m.publish.payload.empty());
  ASSERT_TRUE(m.publish.props.content_type.has_value());
  EXPECT_TRUE(m.publish.props.content_type->empty());
  EXPECT_FALSE(m.publish.props.response_topic.has_value());
  EXPECT_FALSE(m.publish.props.correlation_data.has_value());
  EXPECT_EQ(m.publish.props.user_properties.size(), 1u);
  EXPECT_EQ(m.storage->size(), 1u);
  EXPECT_EQ(m.publish, p);
}

TEST(message, make_message_of_an_empty_publish) {
  const message m = make_message(codec::publish{});
  ASSERT_NE(m.storage, nullptr);
  EXPECT_TRUE(m.storage->empty());
  EXPECT_EQ(m.publish, codec::publish{});
}

TEST(message, expiry_is_computed_from_the_time_passed_in) {
  codec::publish p;
  p.topic = "t";
  EXPECT_FALSE(is_expired(p, 0, 1'000'000'000));  // no Message Expiry Interval: never
  EXPECT_EQ(remaining_expiry_interval(p, 0, 5000), std::nullopt);

  p.props.message_expiry_interval = 10;
  const std::uint64_t t0 = 1'700'000'000'000;
  struct {
    std::uint64_t waited_ms;
    bool expired;
    std::uint32_t remaining;
  } const rows[] = {
      {0, false, 10}, {999, false, 10}, {1000, false, 9}, {9999, false, 1}, {10000, true, 0}, {99999, true, 0},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.waited_ms);
    // v5:MQTT-3.3.2-5
    EXPECT_EQ(is_expired(p, t0, t0 + r.waited_ms), r.expired);
    // v5:MQTT-3.3.2-6
    EXPECT_EQ(remaining_expiry_interval(p, t0, t0 + r.waited_ms), r.remaining);
  }
  // A clock that went backwards counts as no wait.
  EXPECT_FALSE(is_expired(p, t0, t0 - 5000));
  EXPECT_EQ(remaining_expiry_interval(p, t0, t0 - 5000), 10u);

  p.props.message_expiry_interval = 0xFFFFFFFF;  // the largest interval does not overflow
  EXPECT_FALSE(is_expired(p, 0, std::uint64_t{0xFFFFFFFE} * 1000));
  EXPECT_TRUE(is_expired(p, 0, std::uint64_t{0xFFFFFFFF} * 1000));
  EXPECT_EQ(remaining_expiry_interval(p, 0, 1500), 0xFFFFFFFEu);

  p.props.message_expiry_interval = 0;  // zero: expired at once
  EXPECT_TRUE(is_expired(p, t0, t0));
  EXPECT_EQ(remaining_expiry_interval(p, t0, t0), 0u);
}

}  // namespace
}  // namespace mqttspec::broker
