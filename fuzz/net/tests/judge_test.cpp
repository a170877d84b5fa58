// The oracle, fed by hand-written bytes (hex from the specification's layouts), so the codec does
// not judge itself.
#include "judge.hpp"

#include <gtest/gtest.h>

namespace mqttspec::netfuzz {
namespace {

using codec::protocol_version;

codec::bytes hex(std::string_view h) { return codec::from_hex(h).value(); }

const char* connect5 = "10 0e 00 04 4d 51 54 54 05 02 00 3c 00 00 01 63";  // v5, clean start, client "c"
const char* connect311 = "10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 63";
const char* connack5 = "20 03 00 00 00";
const char* connack311 = "20 02 00 00";
const char* pingreq = "c0 00";
const char* pingresp = "d0 00";

struct fixture {
  explicit fixture(protocol_version v) : j(v) {}
  fixture& sent(std::string_view h) {
    j.sent(hex(h));
    return *this;
  }
  fixture& got(std::string_view h) {
    j.received(hex(h), packets);
    return *this;
  }
  std::string statement() const { return j.found() ? j.found()->statement : ""; }
  std::string rule() const { return j.found() ? j.found()->rule : ""; }
  judge j;
  std::vector<codec::owned_packet> packets;
};

TEST(Judge, AConformingExchangeHasNoProblem) {
  fixture f(protocol_version::v5);
  f.sent(connect5).sent(pingreq).got(connack5).got(pingresp);
  EXPECT_FALSE(f.j.found());
  EXPECT_TRUE(f.j.accepted());
  EXPECT_EQ(f.j.pingresps(), 1u);
  EXPECT_EQ(f.packets.size(), 2u);
}

TEST(Judge, PingrespBeforeConnackBreaksConnackFirst) {
  fixture f(protocol_version::v3_1_1);
  f.sent(connect311).sent(pingreq).got(pingresp);
  EXPECT_EQ(f.statement(), "v3.1.1:MQTT-3.2.0-1");
  EXPECT_EQ(f.rule(), "first-connack");
}

// The broker cannot know the version of a CONNECT whose level it does not support: its refusal
// may come in either form, and nothing but CONNACK-or-close is judged.
TEST(Judge, AnUnreadableConnectIsAnsweredInEitherForm) {
  const char* level9 = "10 0e 00 04 4d 51 54 54 09 02 00 3c 00 00 01 63";
  for (const char* refusal : {"20 02 00 01", "20 03 00 84 00"}) {
    fixture f(protocol_version::v3_1_1);
    f.sent(level9).got(refusal);
    EXPECT_FALSE(f.j.found()) << refusal << ": " << f.j.found()->observation;
    EXPECT_TRUE(f.j.refused());
  }
  // Not a CONNACK in any form, still the first packet: that question does apply.
  fixture f(protocol_version::v3_1_1);
  f.sent(level9).got(pingresp);
  EXPECT_EQ(f.rule(), "first-connack");
}

TEST(Judge, AcceptingAnUnreadableConnectIsAFinding) {
  fixture f(protocol_version::v5);
  f.sent("10 0e 00 04 4d 51 54 54 09 02 00 3c 00 00 01 63").got(connack311);
  EXPECT_EQ(f.rule(), "accepted-invalid");
  EXPECT_EQ(f.statement(), "v5:MQTT-3.1.2-2");
}

TEST(Judge, ADisconnectToA311ClientBreaksTheDirectionTable) {
  fixture f(protocol_version::v3_1_1);
  f.sent(connect311).got(connack311).got("e0 01 8e");
  EXPECT_EQ(f.statement(), "v3.1.1:2.2.1");
  EXPECT_EQ(f.rule(), "direction");
  // In 5.0 a Server may send DISCONNECT.
  fixture g(protocol_version::v5);
  g.sent(connect5).got(connack5).got("e0 01 8e");
  EXPECT_FALSE(g.j.found());
  EXPECT_TRUE(g.j.disconnected());
  g.got(pingresp);
  EXPECT_EQ(g.statement(), "v5:MQTT-3.14.4-1");
}

TEST(Judge, PacketsAfterARefusingConnackBreakTheCloseRule) {
  fixture f(protocol_version::v3_1_1);
  f.sent(connect311).sent(pingreq).got("20 02 00 05").got(pingresp);
  EXPECT_EQ(f.statement(), "v3.1.1:MQTT-3.2.2-5");
  fixture g(protocol_version::v5);
  g.sent(connect5).sent(pingreq).got("20 03 00 87 00").got(pingresp);
  EXPECT_EQ(g.statement(), "v5:MQTT-3.2.2-7");
}

TEST(Judge, InvalidServerPacketsNameTheCodecsStatement) {
  fixture f(protocol_version::v5);
  // PUBLISH QoS 0 to "a/#": a wildcard in a Topic Name.
  f.sent(connect5).got(connack5).got("30 06 00 03 61 2f 23 00");
  EXPECT_EQ(f.statement(), "v5:MQTT-3.3.2-2");
  EXPECT_EQ(f.rule(), "decode");
  // A rule without a number is named by its section.
  fixture g(protocol_version::v5);
  g.sent(connect5).got(connack5).got("d0 01 00");  // PINGRESP with a byte left over
  EXPECT_EQ(g.statement(), "v5:3.13");
}

TEST(Judge, AnsweringThePingreqAfterAnInvalidPacketIsAcceptingIt) {
  fixture f(protocol_version::v5);
  f.sent(connect5).got(connack5);
  // SUBSCRIBE with fixed-header flags 0 instead of 2.
  f.sent("80 06 00 01 00 01 61 00").sent(pingreq).got(pingresp);
  EXPECT_EQ(f.rule(), "accepted-invalid");
  EXPECT_EQ(f.statement(), "v5:MQTT-3.8.1-1");
  EXPECT_EQ(f.j.found()->hex, "8006000100016100");
}

TEST(Judge, ARefusalByReasonCodeIsNotAcceptance) {
  fixture f(protocol_version::v5);
  f.sent(connect5).got(connack5);
  // SUBSCRIBE to "a/#/b" (misplaced '#'), answered with SUBACK 0x8F, then PINGRESP.
  f.sent("82 0a 00 01 00 00 05 61 2f 23 2f 62 00").sent(pingreq).got("90 04 00 01 00 8f").got(pingresp);
  EXPECT_FALSE(f.j.found()) << f.j.found()->observation;
}

// The CONNACK that answers the first CONNECT does not accept a second one sent behind it.
TEST(Judge, TheFirstConnacksIsNotAnAnswerToASecondConnect) {
  fixture f(protocol_version::v3_1_1);
  f.sent(connect311).sent("10 00").sent(pingreq).got(connack311);
  EXPECT_FALSE(f.j.found()) << f.j.found()->observation;
  f.got(pingresp);
  EXPECT_EQ(f.statement(), "v3.1.1:MQTT-3.1.0-2");
}

TEST(Judge, AcknowledgementsEchoAnOutstandingPacketIdentifier) {
  fixture f(protocol_version::v5);
  f.sent(connect5).got(connack5).sent("82 0b 00 07 00 00 01 61 00 00 01 62 00");
  f.got("90 05 00 08 00 00 00");
  EXPECT_EQ(f.statement(), "v5:MQTT-3.8.4-2");
  fixture g(protocol_version::v5);
  g.sent(connect5).got(connack5).sent("82 0b 00 07 00 00 01 61 00 00 01 62 00");
  g.got("90 04 00 07 00 00");  // one code for two filters
  EXPECT_EQ(g.statement(), "v5:MQTT-3.8.4-6");
  fixture h(protocol_version::v3_1_1);
  h.sent(connect311).got(connack311).got("40 02 00 09");
  EXPECT_EQ(h.statement(), "v3.1.1:MQTT-2.3.1-6");
  fixture ok(protocol_version::v5);
  ok.sent(connect5).got(connack5).sent("32 07 00 01 74 00 01 00 78").got("40 02 00 01");
  EXPECT_FALSE(ok.j.found());
}

// After a step that ends inside a frame the broker may frame the stream differently (mosquitto
// skips a 0x00 first byte and reads the PUBLISH behind it): its answers are not judged then.
TEST(Judge, AnswersAreNotJudgedAfterAStepEndedInsideAFrame) {
  fixture f(protocol_version::v5);
  f.sent(connect5).got(connack5).sent("00").sent("34 07 00 01 74 00 01 00 78").got("50 02 00 01");
  EXPECT_FALSE(f.j.found()) << f.j.found()->observation;
  f.got("d0 01 00");  // decoding still applies
  EXPECT_EQ(f.rule(), "decode");
}

TEST(Judge, SessionPresentOnACleanStartIsAFinding) {
  fixture f(protocol_version::v3_1_1);
  f.sent(connect311).got("20 02 01 00");
  EXPECT_EQ(f.statement(), "v3.1.1:MQTT-3.2.2-1");
}

TEST(Judge, TheBrokerHonoursTheClientsReceiveMaximum) {
  const char* connect_rm1 = "10 11 00 04 4d 51 54 54 05 02 00 3c 03 21 00 01 00 01 63";
  fixture f(protocol_version::v5);
  f.sent(connect_rm1).got(connack5).got("32 07 00 01 74 00 01 00 78").got("32 07 00 01 74 00 02 00 78");
  EXPECT_EQ(f.statement(), "v5:MQTT-3.3.4-9");
  fixture g(protocol_version::v5);
  g.sent(connect_rm1).got(connack5).got("32 07 00 01 74 00 01 00 78").sent("40 02 00 01");
  g.got("32 07 00 01 74 00 02 00 78");
  EXPECT_FALSE(g.j.found());
}

// A client's PUBACK for an identifier not yet in flight may cross the broker's PUBLISH with that
// identifier: the broker may count it (the reference broker does), so it frees a slot.
TEST(Judge, AnAckThatCrossesAPublishMayFreeItsSlot) {
  const char* connect_rm1 = "10 11 00 04 4d 51 54 54 05 02 00 3c 03 21 00 01 00 01 63";
  fixture f(protocol_version::v5);
  f.sent(connect_rm1).got(connack5).sent("40 02 00 02");  // PUBACK 2, before any PUBLISH 2
  f.got("32 07 00 01 74 00 01 00 78").sent("40 02 00 01");
  f.got("32 07 00 01 74 00 02 00 78").got("32 07 00 01 74 00 03 00 78");
  EXPECT_FALSE(f.j.found()) << f.j.found()->observation;
  f.got("32 07 00 01 74 00 04 00 78");  // 3 and 4 in flight: one too many
  EXPECT_EQ(f.statement(), "v5:MQTT-3.3.4-9");
}

TEST(Judge, TheBrokerHonoursTheClientsTopicAliasMaximumAndPacketSize) {
  fixture f(protocol_version::v5);
  f.sent(connect5).got(connack5).got("30 08 00 01 74 03 23 00 01 78");  // alias 1, none allowed
  EXPECT_EQ(f.statement(), "v5:MQTT-3.1.2-27");
  fixture g(protocol_version::v5);
  g.sent("10 13 00 04 4d 51 54 54 05 02 00 3c 05 27 00 00 00 14 00 01 63").got(connack5);  // max 20 bytes
  g.got("30 14 00 01 74 00 78 78 78 78 78 78 78 78 78 78 78 78 78 78 78 78");
  EXPECT_EQ(g.statement(), "v5:MQTT-3.1.2-24");
}

// With a Maximum Packet Size smaller than its CONNACK the broker may stay silent, or drop the
// CONNACK and answer the PINGREQ.
TEST(Judge, ATinyMaximumPacketSizeAllowsSilence) {
  fixture f(protocol_version::v5);
  f.sent("10 13 00 04 4d 51 54 54 05 02 00 3c 05 27 00 00 00 02 00 01 63").sent(pingreq);
  EXPECT_TRUE(f.j.silence_allowed());
  f.got(pingresp);
  EXPECT_FALSE(f.j.found()) << f.j.found()->observation;
  fixture g(protocol_version::v5);
  g.sent(connect5);
  EXPECT_FALSE(g.j.silence_allowed());
}

TEST(Judge, WholeFramesTellWhetherAPingreqMayFollow) {
  judge j(protocol_version::v5);
  EXPECT_TRUE(j.whole_after(hex(connect5)));
  EXPECT_FALSE(j.whole_after(hex("10 0e 00 04")));
  j.sent(hex("10 0e 00 04"));
  EXPECT_FALSE(j.sent_whole_frames());
  EXPECT_TRUE(j.whole_after(hex("4d 51 54 54 05 02 00 3c 00 00 01 63")));
}

}  // namespace
}  // namespace mqttspec::netfuzz
