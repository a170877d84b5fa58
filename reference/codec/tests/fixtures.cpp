#include "fixtures.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace mqttspec::codec::test {

using namespace std::literals;

bytes unhex(std::string_view hex) {
  bytes out;
  int high = -1;
  for (char c : hex) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else if (c == ' ' || c == '\n') continue;
    if (v < 0) {
      std::fprintf(stderr, "bad hex fixture: %.*s\n", static_cast<int>(hex.size()), hex.data());
      std::abort();
    }
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<char>(high << 4 | v));
      high = -1;
    }
  }
  if (high >= 0) {
    std::fprintf(stderr, "odd hex fixture: %.*s\n", static_cast<int>(hex.size()), hex.data());
    std::abort();
  }
  return out;
}

std::string hexdump(bytes_view b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

bytes vbi(std::uint32_t v) {
  bytes out;
  do {
    auto digit = static_cast<unsigned char>(v % 128);
    v /= 128;
    if (v > 0) digit |= 0x80;
    out.push_back(static_cast<char>(digit));
  } while (v > 0);
  return out;
}

std::string_view tag(protocol_version v) {
  switch (v) {
    case protocol_version::v3_1: return "v3_1";
    case protocol_version::v3_1_1: return "v3_1_1";
    case protocol_version::v5: return "v5";
  }
  return "v_unknown";
}

namespace {

constexpr auto v31 = protocol_version::v3_1;
constexpr auto v311 = protocol_version::v3_1_1;
constexpr auto v5 = protocol_version::v5;
using rc = reason_code;

// Payloads long enough to need a two-byte Remaining Length (128 = 80 01).
const std::string& long_payload_v5() {
  static const std::string s(124, 'a');
  return s;
}
const std::string& long_payload_v311() {
  static const std::string s(125, 'b');
  return s;
}
std::string repeat_hex(std::string_view byte, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) (out += byte) += ' ';
  return out;
}

std::vector<fixture> make_fixtures() {
  std::vector<fixture> f;

  // ---------------------------------------------------------------- MQTT 3.1 (protocol "MQIsdp")
  f.push_back({"v31_connect", v31,
               // MQIsdp, level 3, Clean Session, keep alive 30, client id "abc"
               "10 11 00 06 4d 51 49 73 64 70 03 02 00 1e 00 03 61 62 63",
               connect{.version = v31, .clean_start = true, .keep_alive = 30, .client_id = "abc"}});
  f.push_back({"v31_connect_user_password", v31,
               // user name + password flags, no clean session
               "10 17 00 06 4d 51 49 73 64 70 03 c0 00 0a 00 01 63 00 02 75 31 00 02 70 31",
               connect{.version = v31, .clean_start = false, .keep_alive = 10, .client_id = "c",
                       .user_name = "u1", .password = "p1"}});
  f.push_back({"v31_connack", v31, "20 02 00 00", connack{}});
  f.push_back({"v31_suback", v31, "90 04 00 05 00 02",
               suback{.packet_id = 5, .codes = {rc::success, rc::granted_qos_2}}});

  // ---------------------------------------------------------------- MQTT 3.1.1
  // A real capture (Paho client): "MQTT" level 4, Clean Session, keep alive 60, 18-byte client id.
  f.push_back({"v311_connect_paho_capture", v311,
               "10 1e 00 04 4d 51 54 54 04 02 00 3c 00 12 70 61 68 6f 31 31 31 35 37 37 32 31 39 34 33 36 30 33",
               connect{.version = v311, .clean_start = true, .keep_alive = 60, .client_id = "paho11157721943603"}});
  // Flags ee: user name, password, will retain, will QoS 1, will, clean session. The password
  // is binary data and holds a 00 byte.
  f.push_back({"v311_connect_will_user_password", v311,
               "10 20 00 04 4d 51 54 54 04 ee 00 0a 00 02 63 31 00 03 77 2f 74 00 03 62 79 65"
               " 00 01 75 00 03 70 00 77",
               connect{.version = v311, .clean_start = true, .keep_alive = 10, .client_id = "c1",
                       .will = will_message{.qos_level = qos::at_least_once, .retain = true, .topic = "w/t",
                                            .payload = "bye"},
                       .user_name = "u", .password = "p\0w"sv}});
  // Flags 16: will QoS 2, will, clean session; empty client id and empty will message.
  f.push_back({"v311_connect_empty_client_id_will_qos2", v311,
               "10 11 00 04 4d 51 54 54 04 16 00 00 00 00 00 01 74 00 00",
               connect{.version = v311, .clean_start = true, .keep_alive = 0, .client_id = "",
                       .will = will_message{.qos_level = qos::exactly_once, .topic = "t", .payload = ""}}});
  // Flags 00: a persistent session; user name only (flags 80) is legal without a password.
  f.push_back({"v311_connect_persistent_user_only", v311,
               "10 14 00 04 4d 51 54 54 04 80 ff ff 00 03 64 65 76 00 03 62 6f 62",
               connect{.version = v311, .clean_start = false, .keep_alive = 65535, .client_id = "dev",
                       .user_name = "bob"}});
  // CONNACK return codes 0..5 map to their 5.0 equivalents.
  f.push_back({"v311_connack_accepted", v311, "20 02 00 00", connack{}});
  f.push_back({"v311_connack_session_present", v311, "20 02 01 00", connack{.session_present = true}});
  f.push_back({"v311_connack_bad_protocol_version", v311, "20 02 00 01",
               connack{.code = rc::unsupported_protocol_version}});
  f.push_back({"v311_connack_identifier_rejected", v311, "20 02 00 02",
               connack{.code = rc::client_identifier_not_valid}});
  f.push_back({"v311_connack_server_unavailable", v311, "20 02 00 03", connack{.code = rc::server_unavailable}});
  f.push_back({"v311_connack_bad_user_name_or_password", v311, "20 02 00 04",
               connack{.code = rc::bad_user_name_or_password}});
  f.push_back({"v311_connack_not_authorized", v311, "20 02 00 05", connack{.code = rc::not_authorized}});
  f.push_back({"v311_publish_qos0", v311, "30 0a 00 03 61 2f 62 68 65 6c 6c 6f",
               publish{.topic = "a/b", .payload = "hello"}});
  f.push_back({"v311_publish_qos0_retain_empty", v311, "31 05 00 03 61 2f 62",
               publish{.retain = true, .topic = "a/b", .payload = ""}});
  f.push_back({"v311_publish_qos1", v311, "32 0a 00 03 61 2f 62 00 07 68 69 21",
               publish{.qos_level = qos::at_least_once, .topic = "a/b", .packet_id = 7, .payload = "hi!"}});
  // 3d: DUP, QoS 2, RETAIN; binary payload 00 ff.
  f.push_back({"v311_publish_qos2_dup_retain", v311, "3d 07 00 01 78 ff ff 00 ff",
               publish{.dup = true, .qos_level = qos::exactly_once, .retain = true, .topic = "x",
                       .packet_id = 0xffff, .payload = "\x00\xff"sv}});
  // U+FEFF at the start of a topic is an ordinary character and is kept (MQTT-1.5.3-3).
  f.push_back({"v311_publish_zwnbsp_topic", v311, "30 06 00 04 ef bb bf 61",
               publish{.topic = "\xef\xbb\xbf" "a", .payload = ""}});
  f.push_back({"v311_publish_two_byte_length", v311,
               "30 80 01 00 01 74 " + repeat_hex("62", 125),
               publish{.topic = "t", .payload = long_payload_v311()}});
  f.push_back({"v311_puback", v311, "40 02 00 01", puback{.packet_id = 1}});
  f.push_back({"v311_pubrec", v311, "50 02 12 34", pubrec{.packet_id = 0x1234}});
  f.push_back({"v311_pubrel", v311, "62 02 00 02", pubrel{.packet_id = 2}});
  f.push_back({"v311_pubcomp", v311, "70 02 ff ff", pubcomp{.packet_id = 0xffff}});
  f.push_back({"v311_subscribe", v311,
               "82 12 00 0a 00 03 61 2f 2b 00 00 01 23 01 00 03 73 2f 23 02",
               subscribe{.packet_id = 10,
                         .subscriptions = {{"a/+", {.max_qos = qos::at_most_once}},
                                           {"#", {.max_qos = qos::at_least_once}},
                                           {"s/#", {.max_qos = qos::exactly_once}}}}});
  // 3.1.1 has no shared subscriptions: "$share//a" is an ordinary filter there.
  f.push_back({"v311_subscribe_share_is_ordinary", v311, "82 0e 00 0b 00 09 24 73 68 61 72 65 2f 2f 61 01",
               subscribe{.packet_id = 11, .subscriptions = {{"$share//a", {.max_qos = qos::at_least_once}}}}});
  f.push_back({"v311_suback", v311, "90 06 00 0a 00 01 02 80",
               suback{.packet_id = 10, .codes = {rc::success, rc::granted_qos_1, rc::granted_qos_2,
                                                 rc::unspecified_error}}});
  f.push_back({"v311_unsubscribe", v311, "a2 0b 00 0b 00 03 61 2f 2b 00 02 2f 23",
               unsubscribe{.packet_id = 11, .filters = {"a/+", "/#"}}});
  f.push_back({"v311_unsuback", v311, "b0 02 00 0b", unsuback{.packet_id = 11}});
  f.push_back({"v311_pingreq", v311, "c0 00", pingreq{}});
  f.push_back({"v311_pingresp", v311, "d0 00", pingresp{}});
  f.push_back({"v311_disconnect", v311, "e0 00", disconnect{}});

  // ---------------------------------------------------------------- MQTT 5.0
  f.push_back({"v5_connect_minimal", v5, "10 0e 00 04 4d 51 54 54 05 02 00 3c 00 00 01 61",
               connect{.version = v5, .clean_start = true, .keep_alive = 60, .client_id = "a"}});
  // Flags d4: user name, password, will QoS 2, will; Clean Start 0. Connect properties and Will
  // Properties cover every property each may carry, in identifier order; two User Properties with
  // the same name keep their order.
  f.push_back({"v5_connect_will_properties_user_password", v5,
               "10 71"
               " 00 04 4d 51 54 54 05 d4 01 2c"
               " 2c"                          // property length 44
               " 11 00 00 00 78"              // session expiry interval 120
               " 15 00 02 6d 31"              // authentication method "m1"
               " 16 00 02 01 02"              // authentication data 01 02
               " 17 00"                       // request problem information 0
               " 19 01"                       // request response information 1
               " 21 00 14"                    // receive maximum 20
               " 22 00 0a"                    // topic alias maximum 10
               " 26 00 01 6b 00 01 76"        // user property k=v
               " 26 00 01 6b 00 01 77"        // user property k=w
               " 27 00 00 04 00"              // maximum packet size 1024
               " 00 03 63 69 64"              // client id "cid"
               " 21"                          // will property length 33
               " 01 01"                       // payload format indicator 1
               " 02 00 00 00 3c"              // message expiry interval 60
               " 03 00 03 74 2f 70"           // content type "t/p"
               " 08 00 01 72"                 // response topic "r"
               " 09 00 01 ab"                 // correlation data ab
               " 18 00 00 00 05"              // will delay interval 5
               " 26 00 01 61 00 01 62"        // user property a=b
               " 00 01 77"                    // will topic "w"
               " 00 04 67 6f 6e 65"           // will payload "gone"
               " 00 04 75 73 65 72"           // user name "user"
               " 00 02 70 77",                // password "pw"
               connect{.version = v5, .clean_start = false, .keep_alive = 300,
                       .props = {.session_expiry_interval = 120, .authentication_method = "m1",
                                 .authentication_data = "\x01\x02"sv, .request_problem_information = 0,
                                 .request_response_information = 1, .receive_maximum = 20,
                                 .topic_alias_maximum = 10, .user_properties = {{"k", "v"}, {"k", "w"}},
                                 .maximum_packet_size = 1024},
                       .client_id = "cid",
                       .will = will_message{.qos_level = qos::exactly_once, .retain = false,
                                            .props = {.payload_format_indicator = 1,
                                                      .message_expiry_interval = 60, .content_type = "t/p",
                                                      .response_topic = "r", .correlation_data = "\xab"sv,
                                                      .will_delay_interval = 5,
                                                      .user_properties = {{"a", "b"}}},
                                            .topic = "w", .payload = "gone"},
                       .user_name = "user", .password = "pw"}});
  // 5.0 allows a password without a user name (flags 42).
  f.push_back({"v5_connect_password_without_user_name", v5,
               "10 10 00 04 4d 51 54 54 05 42 00 00 00 00 00 00 01 78",
               connect{.version = v5, .clean_start = true, .keep_alive = 0, .client_id = "", .password = "x"}});
  // Will with retain and QoS 1 but empty Will Properties (flags 2e).
  f.push_back({"v5_connect_will_retain_no_will_properties", v5,
               "10 17 00 04 4d 51 54 54 05 2e 00 05 00 00 01 63 00 00 03 61 2f 62 00 01 21",
               connect{.version = v5, .clean_start = true, .keep_alive = 5, .client_id = "c",
                       .will = will_message{.qos_level = qos::at_least_once, .retain = true, .topic = "a/b",
                                            .payload = "!"}}});
  f.push_back({"v5_connack_minimal", v5, "20 03 00 00 00", connack{}});
  f.push_back({"v5_connack_every_connack_property", v5,
               "20 3a 01 00 37"
               " 11 ff ff ff ff"              // session expiry interval
               " 12 00 06 61 75 74 6f 2d 31"  // assigned client identifier "auto-1"
               " 13 00 1e"                    // server keep alive 30
               " 1a 00 02 72 69"              // response information "ri"
               " 1f 00 02 6f 6b"              // reason string "ok"
               " 21 00 64"                    // receive maximum 100
               " 22 00 05"                    // topic alias maximum 5
               " 24 01"                       // maximum qos 1
               " 25 00"                       // retain available 0
               " 26 00 01 78 00 01 79"        // user property x=y
               " 27 00 01 00 00"              // maximum packet size 65536
               " 28 00"                       // wildcard subscription available 0
               " 29 01"                       // subscription identifier available 1
               " 2a 00",                      // shared subscription available 0
               connack{.session_present = true, .code = rc::success,
                       .props = {.session_expiry_interval = 0xffffffff, .assigned_client_identifier = "auto-1",
                                 .server_keep_alive = 30, .response_information = "ri", .reason_string = "ok",
                                 .receive_maximum = 100, .topic_alias_maximum = 5, .maximum_qos = 1,
                                 .retain_available = 0, .user_properties = {{"x", "y"}},
                                 .maximum_packet_size = 65536, .wildcard_subscription_available = 0,
                                 .subscription_identifier_available = 1, .shared_subscription_available = 0}}});
  f.push_back({"v5_connack_auth", v5, "20 0f 00 00 0c 15 00 03 61 62 63 16 00 03 01 02 03",
               connack{.props = {.authentication_method = "abc", .authentication_data = "\x01\x02\x03"sv}}});
  f.push_back({"v5_connack_use_another_server", v5,
               "20 10 00 9c 0d 1c 00 0a 6f 74 68 65 72 3a 31 38 38 33",
               connack{.code = rc::use_another_server, .props = {.server_reference = "other:1883"}}});
  f.push_back({"v5_publish_qos0", v5, "30 08 00 03 61 2f 62 00 68 69", publish{.topic = "a/b", .payload = "hi"}});
  f.push_back({"v5_publish_qos0_retain_empty", v5, "31 06 00 03 61 2f 62 00",
               publish{.retain = true, .topic = "a/b", .payload = ""}});
  f.push_back({"v5_publish_qos1_every_publish_property", v5,
               "32 48 00 03 74 2f 31 01 02"
               " 3c"                               // property length 60
               " 01 01"                            // payload format indicator 1
               " 02 00 00 0e 10"                   // message expiry interval 3600
               " 03 00 0a 74 65 78 74 2f 70 6c 61 69 6e"  // content type "text/plain"
               " 08 00 05 72 65 70 6c 79"          // response topic "reply"
               " 09 00 02 00 01"                   // correlation data 00 01
               " 0b 01"                            // subscription identifier 1
               " 0b 80 01"                         // subscription identifier 128
               " 0b ff ff ff 7f"                   // subscription identifier 268435455
               " 23 00 04"                         // topic alias 4
               " 26 00 01 61 00 01 31"             // user property a=1
               " 26 00 01 61 00 01 32"             // user property a=2
               " 64 61 74 61",                     // payload "data"
               publish{.qos_level = qos::at_least_once, .topic = "t/1", .packet_id = 0x0102,
                       .props = {.payload_format_indicator = 1, .message_expiry_interval = 3600,
                                 .content_type = "text/plain", .response_topic = "reply",
                                 .correlation_data = "\x00\x01"sv,
                                 .subscription_identifiers = {1, 128, 268435455}, .topic_alias = 4,
                                 .user_properties = {{"a", "1"}, {"a", "2"}}},
                       .payload = "data"}});
  f.push_back({"v5_publish_qos0_properties", v5, "30 0b 00 01 74 05 02 00 00 00 00 70 6c",
               publish{.topic = "t", .props = {.message_expiry_interval = 0}, .payload = "pl"}});
  f.push_back({"v5_publish_qos1_no_properties", v5, "32 09 00 03 61 2f 62 00 0a 00 78",
               publish{.qos_level = qos::at_least_once, .topic = "a/b", .packet_id = 10, .payload = "x"}});
  f.push_back({"v5_publish_qos2_no_properties", v5, "34 08 00 01 74 ff fe 00 79 7a",
               publish{.qos_level = qos::exactly_once, .topic = "t", .packet_id = 0xfffe, .payload = "yz"}});
  // Empty topic with a Topic Alias: legal in 5.0.
  f.push_back({"v5_publish_qos2_dup_retain_alias_only", v5, "3d 08 00 00 00 09 03 23 00 01",
               publish{.dup = true, .qos_level = qos::exactly_once, .retain = true, .topic = "",
                       .packet_id = 9, .props = {.topic_alias = 1}, .payload = ""}});
  f.push_back({"v5_publish_zwnbsp_topic", v5, "30 07 00 04 61 ef bb bf 00",
               publish{.topic = "a\xef\xbb\xbf", .payload = ""}});
  f.push_back({"v5_publish_two_byte_length", v5, "30 80 01 00 01 74 00 " + repeat_hex("61", 124),
               publish{.topic = "t", .payload = long_payload_v5()}});
  // Acks: Reason Code and Property Length may be left out (Remaining Length 2 means Success).
  f.push_back({"v5_puback_short", v5, "40 02 00 01", puback{.packet_id = 1}});
  f.push_back({"v5_puback_reason_only", v5, "40 03 00 02 10",
               puback{.packet_id = 2, .code = rc::no_matching_subscribers}});
  f.push_back({"v5_puback_success_spelled_out", v5, "40 04 00 03 00 00", puback{.packet_id = 3}, false});
  f.push_back({"v5_puback_reason_and_properties", v5,
               "40 10 00 04 87 0c 1f 00 02 6e 6f 26 00 01 6b 00 01 76",
               puback{.packet_id = 4, .code = rc::not_authorized,
                      .props = {.reason_string = "no", .user_properties = {{"k", "v"}}}}});
  f.push_back({"v5_pubrec_short", v5, "50 02 00 05", pubrec{.packet_id = 5}});
  f.push_back({"v5_pubrec_in_use", v5, "50 03 00 05 91", pubrec{.packet_id = 5, .code = rc::packet_identifier_in_use}});
  f.push_back({"v5_pubrec_quota", v5, "50 09 00 05 97 05 1f 00 02 71 21",
               pubrec{.packet_id = 5, .code = rc::quota_exceeded, .props = {.reason_string = "q!"}}});
  f.push_back({"v5_pubrel_short", v5, "62 02 00 07", pubrel{.packet_id = 7}});
  f.push_back({"v5_pubrel_not_found", v5, "62 03 00 06 92", pubrel{.packet_id = 6, .code = rc::packet_identifier_not_found}});
  f.push_back({"v5_pubrel_properties", v5, "62 0b 00 06 00 07 26 00 01 6b 00 01 76",
               pubrel{.packet_id = 6, .props = {.user_properties = {{"k", "v"}}}}});
  f.push_back({"v5_pubcomp_short", v5, "70 02 00 08", pubcomp{.packet_id = 8}});
  f.push_back({"v5_pubcomp_success_with_reason_string", v5, "70 09 00 08 00 05 1f 00 02 6f 6b",
               pubcomp{.packet_id = 8, .props = {.reason_string = "ok"}}});
  f.push_back({"v5_pubcomp_not_found", v5, "70 03 00 08 92", pubcomp{.packet_id = 8, .code = rc::packet_identifier_not_found}});
  // Options 2d: QoS 1, No Local, Retain As Published, Retain Handling 2; 12: QoS 2, Retain
  // Handling 1; 00: everything off.
  f.push_back({"v5_subscribe_all_option_bits", v5,
               "82 25 00 01"
               " 09 0b 05 26 00 01 6b 00 01 76"             // subscription identifier 5, user property k=v
               " 00 03 61 2f 62 2d"                         // "a/b"
               " 00 0c 24 73 68 61 72 65 2f 67 2f 63 2f 23 12"  // "$share/g/c/#"
               " 00 01 2b 00",                              // "+"
               subscribe{.packet_id = 1,
                         .props = {.subscription_identifiers = {5}, .user_properties = {{"k", "v"}}},
                         .subscriptions = {
                             {"a/b", {.max_qos = qos::at_least_once, .no_local = true, .retain_as_published = true,
                                      .handling = retain_handling::do_not_send}},
                             {"$share/g/c/#", {.max_qos = qos::exactly_once, .handling = retain_handling::send_if_new}},
                             {"+", {}}}}});
  f.push_back({"v5_subscribe_large_subscription_identifier", v5,
               "82 0e 00 02 05 0b ff ff ff 7f 00 03 2f 2f 23 01",
               subscribe{.packet_id = 2, .props = {.subscription_identifiers = {268435455}},
                         .subscriptions = {{"//#", {.max_qos = qos::at_least_once}}}}});
  f.push_back({"v5_suback_every_subscribe_reason", v5,
               "90 13 00 01 04 1f 00 01 72 00 01 02 80 83 87 8f 91 97 9e a1 a2",
               suback{.packet_id = 1, .props = {.reason_string = "r"},
                      .codes = {rc::success, rc::granted_qos_1, rc::granted_qos_2, rc::unspecified_error,
                                rc::implementation_specific_error, rc::not_authorized, rc::topic_filter_invalid,
                                rc::packet_identifier_in_use, rc::quota_exceeded,
                                rc::shared_subscriptions_not_supported,
                                rc::subscription_identifiers_not_supported,
                                rc::wildcard_subscriptions_not_supported}}});
  f.push_back({"v5_suback_no_properties", v5, "90 04 00 02 00 01",
               suback{.packet_id = 2, .codes = {rc::granted_qos_1}}});
  f.push_back({"v5_unsubscribe", v5,
               "a2 1d 00 03 07 26 00 01 6b 00 01 76 00 03 61 2f 62 00 0c 24 73 68 61 72 65 2f 67 2f 63 2f 23",
               unsubscribe{.packet_id = 3, .props = {.user_properties = {{"k", "v"}}},
                           .filters = {"a/b", "$share/g/c/#"}}});
  f.push_back({"v5_unsuback_every_unsubscribe_reason", v5, "b0 0a 00 03 00 00 11 80 83 87 8f 91",
               unsuback{.packet_id = 3,
                        .codes = {rc::success, rc::no_subscription_existed, rc::unspecified_error,
                                  rc::implementation_specific_error, rc::not_authorized, rc::topic_filter_invalid,
                                  rc::packet_identifier_in_use}}});
  f.push_back({"v5_unsuback_reason_string", v5, "b0 09 00 04 05 1f 00 02 6e 6f 11",
               unsuback{.packet_id = 4, .props = {.reason_string = "no"}, .codes = {rc::no_subscription_existed}}});
  f.push_back({"v5_pingreq", v5, "c0 00", pingreq{}});
  f.push_back({"v5_pingresp", v5, "d0 00", pingresp{}});
  // Remaining Length 0 means Normal disconnection without properties.
  f.push_back({"v5_disconnect_empty", v5, "e0 00", disconnect{}});
  f.push_back({"v5_disconnect_success_spelled_out", v5, "e0 02 00 00", disconnect{}, false});
  f.push_back({"v5_disconnect_reason_only", v5, "e0 01 04", disconnect{.code = rc::disconnect_with_will_message}});
  f.push_back({"v5_disconnect_reason_and_properties", v5,
               "e0 19 9c 17"
               " 11 00 00 00 0a"          // session expiry interval 10
               " 1c 00 02 73 32"          // server reference "s2"
               " 1f 00 03 62 79 65"       // reason string "bye"
               " 26 00 01 6b 00 01 76",   // user property k=v
               disconnect{.code = rc::use_another_server,
                          .props = {.session_expiry_interval = 10, .server_reference = "s2",
                                    .reason_string = "bye", .user_properties = {{"k", "v"}}}}});
  f.push_back({"v5_auth_empty", v5, "f0 00", auth{}});
  f.push_back({"v5_auth_continue", v5, "f0 0f 18 0d 15 00 04 53 43 52 4d 16 00 03 01 02 03",
               auth{.code = rc::continue_authentication,
                    .props = {.authentication_method = "SCRM", .authentication_data = "\x01\x02\x03"sv}}});
  f.push_back({"v5_auth_reauthenticate", v5, "f0 11 19 0f 15 00 03 61 62 63 1f 00 01 72 26 00 00 00 00",
               auth{.code = rc::re_authenticate,
                    .props = {.authentication_method = "abc", .reason_string = "r", .user_properties = {{"", ""}}}}});
  return f;
}

}  // namespace

const std::vector<fixture>& fixtures() {
  static const std::vector<fixture> all = make_fixtures();
  return all;
}

// ------------------------------------------------------------------- the 5.0 property table

const std::vector<spec_property>& spec_properties() {
  using t = packet_type;
  using ty = property_type;
  constexpr std::uint32_t acks = bit(t::puback) | bit(t::pubrec) | bit(t::pubrel) | bit(t::pubcomp);
  constexpr std::uint32_t message = bit(t::publish) | will_bit;
  static const std::vector<spec_property> table = {
      {property_id::payload_format_indicator, "Payload Format Indicator", ty::byte, message},
      {property_id::message_expiry_interval, "Message Expiry Interval", ty::four_byte_integer, message},
      {property_id::content_type, "Content Type", ty::utf8_string, message},
      {property_id::response_topic, "Response Topic", ty::utf8_string, message},
      {property_id::correlation_data, "Correlation Data", ty::binary_data, message},
      {property_id::subscription_identifier, "Subscription Identifier", ty::variable_byte_integer,
       bit(t::publish) | bit(t::subscribe)},
      {property_id::session_expiry_interval, "Session Expiry Interval", ty::four_byte_integer,
       bit(t::connect) | bit(t::connack) | bit(t::disconnect)},
      {property_id::assigned_client_identifier, "Assigned Client Identifier", ty::utf8_string, bit(t::connack)},
      {property_id::server_keep_alive, "Server Keep Alive", ty::two_byte_integer, bit(t::connack)},
      {property_id::authentication_method, "Authentication Method", ty::utf8_string,
       bit(t::connect) | bit(t::connack) | bit(t::auth)},
      {property_id::authentication_data, "Authentication Data", ty::binary_data,
       bit(t::connect) | bit(t::connack) | bit(t::auth)},
      {property_id::request_problem_information, "Request Problem Information", ty::byte, bit(t::connect)},
      {property_id::will_delay_interval, "Will Delay Interval", ty::four_byte_integer, will_bit},
      {property_id::request_response_information, "Request Response Information", ty::byte, bit(t::connect)},
      {property_id::response_information, "Response Information", ty::utf8_string, bit(t::connack)},
      {property_id::server_reference, "Server Reference", ty::utf8_string, bit(t::connack) | bit(t::disconnect)},
      {property_id::reason_string, "Reason String", ty::utf8_string,
       bit(t::connack) | acks | bit(t::suback) | bit(t::unsuback) | bit(t::disconnect) | bit(t::auth)},
      {property_id::receive_maximum, "Receive Maximum", ty::two_byte_integer, bit(t::connect) | bit(t::connack)},
      {property_id::topic_alias_maximum, "Topic Alias Maximum", ty::two_byte_integer,
       bit(t::connect) | bit(t::connack)},
      {property_id::topic_alias, "Topic Alias", ty::two_byte_integer, bit(t::publish)},
      {property_id::maximum_qos, "Maximum QoS", ty::byte, bit(t::connack)},
      {property_id::retain_available, "Retain Available", ty::byte, bit(t::connack)},
      {property_id::user_property, "User Property", ty::utf8_string_pair,
       bit(t::connect) | bit(t::connack) | message | acks | bit(t::subscribe) | bit(t::suback) |
           bit(t::unsubscribe) | bit(t::unsuback) | bit(t::disconnect) | bit(t::auth)},
      {property_id::maximum_packet_size, "Maximum Packet Size", ty::four_byte_integer,
       bit(t::connect) | bit(t::connack)},
      {property_id::wildcard_subscription_available, "Wildcard Subscription Available", ty::byte, bit(t::connack)},
      {property_id::subscription_identifier_available, "Subscription Identifier Available", ty::byte,
       bit(t::connack)},
      {property_id::shared_subscription_available, "Shared Subscription Available", ty::byte, bit(t::connack)},
  };
  return table;
}

const std::vector<place>& places() {
  using t = packet_type;
  static const std::vector<place> all = {
      {"connect", bit(t::connect), t::connect},       {"connack", bit(t::connack), t::connack},
      {"publish", bit(t::publish), t::publish},       {"puback", bit(t::puback), t::puback},
      {"pubrec", bit(t::pubrec), t::pubrec},          {"pubrel", bit(t::pubrel), t::pubrel},
      {"pubcomp", bit(t::pubcomp), t::pubcomp},       {"subscribe", bit(t::subscribe), t::subscribe},
      {"suback", bit(t::suback), t::suback},          {"unsubscribe", bit(t::unsubscribe), t::unsubscribe},
      {"unsuback", bit(t::unsuback), t::unsuback},    {"disconnect", bit(t::disconnect), t::disconnect},
      {"auth", bit(t::auth), t::auth},                {"will", will_bit, t::connect},
  };
  return all;
}

built_frame frame_with_properties(const place& where, bytes_view props) {
  const bytes len = vbi(static_cast<std::uint32_t>(props.size()));
  bytes before;  // variable header up to the Property Length
  bytes after;   // what follows the properties
  std::uint8_t first = 0;
  const bytes connect_header = unhex("00 04 4d 51 54 54 05");
  switch (where.type) {
    case packet_type::connect:
      first = 0x10;
      if (where.mask == will_bit) {
        // flags 06: will (QoS 0), clean start; no connect properties; client id "a"
        before = connect_header + unhex("06 00 00 00 00 01 61");
        after = unhex("00 01 74 00 00");  // will topic "t", empty will payload
      } else {
        before = connect_header + unhex("02 00 00");
        after = unhex("00 01 61");
      }
      break;
    case packet_type::connack: first = 0x20; before = unhex("00 00"); break;
    case packet_type::publish: first = 0x30; before = unhex("00 01 74"); break;
    case packet_type::puback: first = 0x40; before = unhex("00 01 00"); break;
    case packet_type::pubrec: first = 0x50; before = unhex("00 01 00"); break;
    case packet_type::pubrel: first = 0x62; before = unhex("00 01 00"); break;
    case packet_type::pubcomp: first = 0x70; before = unhex("00 01 00"); break;
    case packet_type::subscribe: first = 0x82; before = unhex("00 01"); after = unhex("00 01 61 00"); break;
    case packet_type::suback: first = 0x90; before = unhex("00 01"); after = unhex("00"); break;
    case packet_type::unsubscribe: first = 0xa2; before = unhex("00 01"); after = unhex("00 01 61"); break;
    case packet_type::unsuback: first = 0xb0; before = unhex("00 01"); after = unhex("00"); break;
    case packet_type::disconnect: first = 0xe0; before = unhex("00"); break;
    case packet_type::auth: first = 0xf0; before = unhex("00"); break;
    default: std::abort();
  }
  const bytes body = before + len + bytes(props) + after;
  bytes frame(1, static_cast<char>(first));
  frame += vbi(static_cast<std::uint32_t>(body.size()));
  const std::size_t props_at = frame.size() + before.size() + len.size();
  frame += body;
  return {frame, props_at};
}

packet empty_packet_at(const place& where) {
  switch (where.type) {
    case packet_type::connect:
      if (where.mask == will_bit)
        return connect{.version = protocol_version::v5, .client_id = "a", .will = will_message{.topic = "t", .payload = ""}};
      return connect{.version = protocol_version::v5, .client_id = "a"};
    case packet_type::connack: return connack{};
    case packet_type::publish: return publish{.topic = "t", .payload = ""};
    case packet_type::puback: return puback{.packet_id = 1};
    case packet_type::pubrec: return pubrec{.packet_id = 1};
    case packet_type::pubrel: return pubrel{.packet_id = 1};
    case packet_type::pubcomp: return pubcomp{.packet_id = 1};
    case packet_type::subscribe: return subscribe{.packet_id = 1, .subscriptions = {{"a", {}}}};
    case packet_type::suback: return suback{.packet_id = 1, .codes = {reason_code::success}};
    case packet_type::unsubscribe: return unsubscribe{.packet_id = 1, .filters = {"a"}};
    case packet_type::unsuback: return unsuback{.packet_id = 1, .codes = {reason_code::success}};
    case packet_type::disconnect: return disconnect{};
    case packet_type::auth: return auth{};
    default: std::abort();
  }
}

properties& properties_at(packet& p, const place& where) {
  return std::visit(
      [&](auto& x) -> properties& {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, connect>) {
          if (where.mask == will_bit) {
            if (!x.will) std::abort();
            return x.will->props;
          }
          return x.props;
        } else if constexpr (std::is_same_v<T, pingreq> || std::is_same_v<T, pingresp>) {
          std::abort();
        } else {
          return x.props;
        }
      },
      p);
}

const properties& properties_at(const packet& p, const place& where) {
  return properties_at(const_cast<packet&>(p), where);
}

property_sample sample_property(property_id id) {
  using i = property_id;
  property_sample s;
  auto& v = s.value;
  switch (id) {
    case i::payload_format_indicator: s.wire = unhex("01 01"); v.payload_format_indicator = 1; break;
    case i::message_expiry_interval: s.wire = unhex("02 01 02 03 04"); v.message_expiry_interval = 0x01020304; break;
    case i::content_type: s.wire = unhex("03 00 04 74 65 78 74"); v.content_type = "text"; break;
    case i::response_topic: s.wire = unhex("08 00 03 72 2f 74"); v.response_topic = "r/t"; break;
    case i::correlation_data: s.wire = unhex("09 00 03 00 ff 01"); v.correlation_data = "\x00\xff\x01"sv; break;
    case i::subscription_identifier: s.wire = unhex("0b 80 80 01"); v.subscription_identifiers = {16384}; break;
    case i::session_expiry_interval: s.wire = unhex("11 00 00 0e 10"); v.session_expiry_interval = 3600; break;
    case i::assigned_client_identifier: s.wire = unhex("12 00 02 69 64"); v.assigned_client_identifier = "id"; break;
    case i::server_keep_alive: s.wire = unhex("13 01 00"); v.server_keep_alive = 256; break;
    case i::authentication_method: s.wire = unhex("15 00 05 50 4c 41 49 4e"); v.authentication_method = "PLAIN"; break;
    case i::authentication_data:
      // Authentication Data needs its Authentication Method beside it (§3.1.2.11.10).
      s.wire = unhex("15 00 01 6d 16 00 02 00 00");
      v.authentication_method = "m";
      v.authentication_data = "\x00\x00"sv;
      break;
    case i::request_problem_information: s.wire = unhex("17 00"); v.request_problem_information = 0; break;
    case i::will_delay_interval: s.wire = unhex("18 ff ff ff ff"); v.will_delay_interval = 0xffffffff; break;
    case i::request_response_information: s.wire = unhex("19 01"); v.request_response_information = 1; break;
    case i::response_information: s.wire = unhex("1a 00 01 2f"); v.response_information = "/"; break;
    case i::server_reference: s.wire = unhex("1c 00 01 73"); v.server_reference = "s"; break;
    case i::reason_string: s.wire = unhex("1f 00 02 c3 a9"); v.reason_string = "\xc3\xa9"; break;
    case i::receive_maximum: s.wire = unhex("21 ff ff"); v.receive_maximum = 65535; break;
    case i::topic_alias_maximum: s.wire = unhex("22 00 00"); v.topic_alias_maximum = 0; break;
    case i::topic_alias: s.wire = unhex("23 ff ff"); v.topic_alias = 65535; break;
    case i::maximum_qos: s.wire = unhex("24 00"); v.maximum_qos = 0; break;
    case i::retain_available: s.wire = unhex("25 01"); v.retain_available = 1; break;
    case i::user_property: s.wire = unhex("26 00 01 6b 00 00"); v.user_properties = {{"k", ""}}; break;
    case i::maximum_packet_size: s.wire = unhex("27 00 00 00 01"); v.maximum_packet_size = 1; break;
    case i::wildcard_subscription_available: s.wire = unhex("28 01"); v.wildcard_subscription_available = 1; break;
    case i::subscription_identifier_available: s.wire = unhex("29 00"); v.subscription_identifier_available = 0; break;
    case i::shared_subscription_available: s.wire = unhex("2a 01"); v.shared_subscription_available = 1; break;
  }
  return s;
}

const std::set<std::string>* statement_catalog() {
#ifdef MQTTSPEC_STATEMENTS_DIR
  static const std::unique_ptr<std::set<std::string>> catalog = []() -> std::unique_ptr<std::set<std::string>> {
    auto ids = std::make_unique<std::set<std::string>>();
    const std::pair<const char*, const char*> files[] = {{"mqtt-3.1.1-statements.tsv", "v3.1.1:"},
                                                         {"mqtt-5.0-statements.tsv", "v5:"}};
    for (const auto& [file, prefix] : files) {
      std::ifstream in(std::string(MQTTSPEC_STATEMENTS_DIR) + "/" + file);
      if (!in) return nullptr;
      std::string line;
      std::getline(in, line);  // header
      while (std::getline(in, line)) {
        const auto tab = line.find('\t');
        if (tab != std::string::npos) ids->insert(prefix + line.substr(0, tab));
      }
    }
    return ids;
  }();
  return catalog.get();
#else
  return nullptr;
#endif
}

}  // namespace mqttspec::codec::test
