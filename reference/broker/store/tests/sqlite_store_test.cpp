// The SQLite store: every record round-trips, updates and deletes land, a broker killed without
// closing keeps what it committed, damaged, truncated, foreign, newer and locked files give an
// error naming the file (never a crash), and a restart through the file counts the downtime.
#include "mqttspec/broker/sqlite_store.hpp"

#include "broker_harness.hpp"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace mqttspec::broker {
namespace {

namespace fs = std::filesystem;
using codec::qos;

class sqlite_store_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::path(::testing::TempDir()) /
          ("mqttspec-store-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    path = (dir / "broker.db").string();
  }
  void TearDown() override { fs::remove_all(dir); }

  std::unique_ptr<sqlite_store> open(sync_mode mode = sync_mode::always) {
    std::string error;
    auto s = sqlite_store::open(path, mode, error);
    EXPECT_TRUE(s) << error;
    return s;
  }
  std::string open_error() {
    std::string error;
    auto s = sqlite_store::open(path, sync_mode::always, error);
    if (!s) return error;
    storage::snapshot snap;
    auto e = s->load(snap);
    return e ? *e : std::string();
  }
  // Runs SQL on the file with the sqlite3 library directly, as a hand (or a bug) could.
  void tamper(const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* msg = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &msg), SQLITE_OK) << (msg ? msg : "");
    sqlite3_free(msg);
    sqlite3_close(db);
  }

  fs::path dir;
  std::string path;
};

message sample_message(std::string_view topic, std::string_view payload, qos q, bool retain = false) {
  codec::publish p;
  p.topic = topic;
  p.payload = payload;
  p.qos_level = q;
  p.retain = retain;
  p.packet_id = 9;
  p.props.message_expiry_interval = 120;
  p.props.content_type = "text/plain";
  p.props.correlation_data = std::string_view("\0\1\2", 3);
  p.props.user_properties = {{"k", "v"}, {"k", "w"}};
  return make_message(p);
}

// Every kind of record, with the fields that matter.
std::vector<storage::effect> every_record() {
  storage::session_record s;
  s.client_id = "dev-1";
  s.version = codec::protocol_version::v5;
  s.expiry_interval = 3600;
  s.connected = false;
  s.expires_at = 1'700'000'123'456;
  s.will = sample_message("will/dev-1", "gone", qos::at_least_once, true);
  s.will_delay = 30;
  s.will_due = 1'700'000'050'000;
  storage::session_record s2;
  s2.client_id = "old";
  s2.version = codec::protocol_version::v3_1_1;
  s2.expiry_interval = 0xFFFF'FFFF;
  s2.connected = true;

  storage::subscription_record sub{"dev-1", "a/+/#", {qos::exactly_once, true, true, codec::retain_handling::send_if_new}, 42};
  storage::subscription_record shared{"dev-1", "$share/g/jobs", {qos::at_least_once, false, false, {}}, std::nullopt};

  storage::message_record queued;
  queued.client_id = "dev-1";
  queued.item.msg = sample_message("a/b/c", std::string("bin\0ary", 7), qos::exactly_once);
  queued.item.qos_level = qos::at_least_once;
  queued.item.retain = true;
  queued.item.subscription_ids = {42, 7};
  queued.item.received_at = 1'700'000'000'001;
  queued.item.seq = 3;
  storage::message_record flying = queued;
  flying.item.seq = 2;
  flying.item.qos_level = qos::exactly_once;
  flying.item.subscription_ids = {};
  flying.stage = inflight::stage::awaiting_pubcomp;
  flying.packet_id = 65535;

  std::vector<storage::effect> out;
  out.push_back(storage::put_session{s});
  out.push_back(storage::put_session{s2});
  out.push_back(storage::put_subscription{sub});
  out.push_back(storage::put_subscription{shared});
  out.push_back(storage::put_message{queued});
  out.push_back(storage::put_message{flying});
  out.push_back(storage::put_inbound{{"dev-1", 17}});
  out.push_back(storage::put_retained{{sample_message("r/1", "kept", qos::at_least_once, true), 1'700'000'000'002}});
  return out;
}

void expect_same_message(const message& a, const message& b) {
  auto pa = a.publish, pb = b.publish;
  pa.packet_id = pb.packet_id = 0;  // the publisher's identifier is not kept
  EXPECT_EQ(pa, pb);
}

TEST_F(sqlite_store_test, every_record_round_trips) {
  const auto effects = every_record();
  {
    auto s = open();
    ASSERT_TRUE(s);
    ASSERT_FALSE(s->write(effects, 1'700'000'000'500));
  }
  auto s = open();
  ASSERT_TRUE(s);
  storage::snapshot snap;
  ASSERT_FALSE(s->load(snap));
  EXPECT_EQ(snap.last_alive, 1'700'000'000'500u);

  ASSERT_EQ(snap.sessions.size(), 2u);
  const auto& in = std::get<storage::put_session>(effects[0]).session;
  const auto& got = snap.sessions[0];  // ordered by client id: "dev-1" < "old"
  EXPECT_EQ(got.client_id, "dev-1");
  EXPECT_EQ(got.version, in.version);
  EXPECT_EQ(got.expiry_interval, in.expiry_interval);
  EXPECT_EQ(got.connected, in.connected);
  EXPECT_EQ(got.expires_at, in.expires_at);
  EXPECT_EQ(got.will_delay, in.will_delay);
  EXPECT_EQ(got.will_due, in.will_due);
  ASSERT_TRUE(got.will);
  expect_same_message(*got.will, *in.will);
  EXPECT_EQ(snap.sessions[1].client_id, "old");
  EXPECT_EQ(snap.sessions[1].version, codec::protocol_version::v3_1_1);
  EXPECT_TRUE(snap.sessions[1].connected);
  EXPECT_FALSE(snap.sessions[1].will);
  EXPECT_FALSE(snap.sessions[1].expires_at);

  ASSERT_EQ(snap.subscriptions.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& want = std::get<storage::put_subscription>(effects[2 + i]).subscription;
    EXPECT_EQ(snap.subscriptions[i].client_id, want.client_id);
    EXPECT_EQ(snap.subscriptions[i].filter, want.filter);
    EXPECT_EQ(snap.subscriptions[i].options, want.options);
    EXPECT_EQ(snap.subscriptions[i].identifier, want.identifier);
  }

  ASSERT_EQ(snap.messages.size(), 2u);  // in seq order
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& want = std::get<storage::put_message>(effects[5 - i]).message;
    const auto& m = snap.messages[i];
    EXPECT_EQ(m.client_id, want.client_id);
    EXPECT_EQ(m.item.seq, want.item.seq);
    EXPECT_EQ(m.item.qos_level, want.item.qos_level);
    EXPECT_EQ(m.item.retain, want.item.retain);
    EXPECT_EQ(m.item.subscription_ids, want.item.subscription_ids);
    EXPECT_EQ(m.item.received_at, want.item.received_at);
    EXPECT_EQ(m.stage, want.stage);
    EXPECT_EQ(m.packet_id, want.packet_id);
    expect_same_message(m.item.msg, want.item.msg);
  }
  ASSERT_EQ(snap.inbound.size(), 1u);
  EXPECT_EQ(snap.inbound[0].client_id, "dev-1");
  EXPECT_EQ(snap.inbound[0].packet_id, 17);
  ASSERT_EQ(snap.retained.size(), 1u);
  EXPECT_EQ(snap.retained[0].stored_at, 1'700'000'000'002u);
  expect_same_message(snap.retained[0].msg, std::get<storage::put_retained>(effects[7]).retained.msg);
}

TEST_F(sqlite_store_test, updates_and_deletes) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_FALSE(s->write(every_record(), 1));
  std::vector<storage::effect> more;
  more.push_back(storage::update_message{"dev-1", 3, 12, inflight::stage::awaiting_puback});
  more.push_back(storage::delete_message{"dev-1", 2});
  more.push_back(storage::delete_subscription{"dev-1", "a/+/#"});
  more.push_back(storage::delete_inbound{"dev-1", 17});
  more.push_back(storage::delete_retained{"r/1"});
  ASSERT_FALSE(s->write(more, 2));
  storage::snapshot snap;
  ASSERT_FALSE(s->load(snap));
  ASSERT_EQ(snap.messages.size(), 1u);
  EXPECT_EQ(snap.messages[0].stage, inflight::stage::awaiting_puback);
  EXPECT_EQ(snap.messages[0].packet_id, 12);
  ASSERT_EQ(snap.subscriptions.size(), 1u);
  EXPECT_EQ(snap.subscriptions[0].filter, "$share/g/jobs");
  EXPECT_TRUE(snap.inbound.empty());
  EXPECT_TRUE(snap.retained.empty());

  // Deleting a Session deletes everything that belongs to it.
  std::vector<storage::effect> gone;
  gone.push_back(storage::delete_session{"dev-1"});
  ASSERT_FALSE(s->write(gone, 3));
  ASSERT_FALSE(s->load(snap));
  ASSERT_EQ(snap.sessions.size(), 1u);
  EXPECT_EQ(snap.sessions[0].client_id, "old");
  EXPECT_TRUE(snap.subscriptions.empty());
  EXPECT_TRUE(snap.messages.empty());
}

// A broker killed without closing the file: every committed write is there (the WAL journal is
// replayed), in either sync mode.
TEST_F(sqlite_store_test, a_killed_writer_loses_nothing_it_committed) {
  for (auto mode : {sync_mode::always, sync_mode::batch}) {
    fs::remove(path);
    fs::remove(path + "-wal");
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      std::string error;
      auto s = sqlite_store::open(path, mode, error);
      if (!s || s->write(every_record(), 5)) ::_exit(1);
      ::_exit(0);  // no destructor: no checkpoint, no close
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_TRUE(fs::exists(path + "-wal"));
    auto s = open(mode);
    ASSERT_TRUE(s);
    storage::snapshot snap;
    ASSERT_FALSE(s->load(snap));
    EXPECT_EQ(snap.sessions.size(), 2u);
    EXPECT_EQ(snap.messages.size(), 2u);
    EXPECT_EQ(snap.retained.size(), 1u);
  }
}

TEST_F(sqlite_store_test, a_file_that_is_not_a_database) {
  std::ofstream(path) << std::string(8192, 'x');
  const auto error = open_error();
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("not a database"), std::string::npos) << error;
}

TEST_F(sqlite_store_test, a_truncated_file) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    std::vector<storage::effect> many;
    for (std::uint64_t i = 1; i <= 400; ++i) {
      storage::message_record m;
      m.client_id = "dev-1";
      m.item.seq = i;
      m.item.qos_level = qos::at_least_once;
      m.item.msg = sample_message("t", std::string(1000, static_cast<char>('a' + i % 26)), qos::at_least_once);
      many.push_back(storage::put_message{m});
    }
    ASSERT_FALSE(s->write(every_record(), 1));
    ASSERT_FALSE(s->write(many, 2));
  }  // closed cleanly: everything is in the main file
  ASSERT_FALSE(fs::exists(path + "-wal"));
  const auto size = fs::file_size(path);
  ASSERT_GT(size, 100'000u);
  fs::resize_file(path, size / 2);
  const auto error = open_error();
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_FALSE(error.empty());
  // Half a page: the header's page size no longer divides the file.
  fs::resize_file(path, 1000);
  EXPECT_FALSE(open_error().empty());
}

TEST_F(sqlite_store_test, damaged_pages_are_found_at_startup) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    std::vector<storage::effect> many;
    for (std::uint64_t i = 1; i <= 200; ++i) {
      storage::message_record m;
      m.client_id = "dev-1";
      m.item.seq = i;
      m.item.qos_level = qos::at_least_once;
      m.item.msg = sample_message("t", std::string(500, 'p'), qos::at_least_once);
      many.push_back(storage::put_message{m});
    }
    ASSERT_FALSE(s->write(many, 2));
  }
  // Overwrite the middle of the file (b-tree pages) with garbage.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(path) / 2));
    const std::string junk(8192, '\xA5');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  const auto error = open_error();
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_FALSE(error.empty());
}

TEST_F(sqlite_store_test, another_programs_database) {
  tamper("CREATE TABLE notes(x)");
  const auto error = open_error();
  EXPECT_NE(error.find("not a mqttspec-broker persistence file"), std::string::npos) << error;
}

TEST_F(sqlite_store_test, a_newer_format) {
  { ASSERT_TRUE(open()); }
  tamper("PRAGMA user_version=99");
  const auto error = open_error();
  EXPECT_NE(error.find("persistence format 99"), std::string::npos) << error;
}

TEST_F(sqlite_store_test, one_broker_per_file) {
  auto first = open();
  ASSERT_TRUE(first);
  std::string error;
  EXPECT_FALSE(sqlite_store::open(path, sync_mode::always, error));
  EXPECT_NE(error.find("in use"), std::string::npos) << error;
}

TEST_F(sqlite_store_test, values_that_make_no_sense_are_named) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    ASSERT_FALSE(s->write(every_record(), 1));
  }
  const struct {
    const char* sql;
    const char* expected;
  } cases[] = {
      {"UPDATE messages SET qos=7 WHERE seq=3", "table messages, row 2: column qos is out of range (7)"},
      {"UPDATE messages SET stage=0 WHERE seq=2", "table messages, row 1: column stage does not fit"},
      {"UPDATE messages SET topic='a/#' WHERE seq=3", "column topic is not a valid Topic Name"},
      {"UPDATE messages SET props=x'00ff' WHERE seq=3", "column props does not hold valid 5.0 PUBLISH properties"},
      {"UPDATE messages SET subscription_ids='1,,2' WHERE seq=3", "column subscription_ids"},
      {"UPDATE subscriptions SET filter='a/#/b' WHERE identifier=42", "column filter is not a valid Topic Filter"},
      {"UPDATE sessions SET version=9 WHERE client_id='old'", "table sessions, row 2: column version is out of range"},
      {"UPDATE sessions SET will_topic=NULL WHERE client_id='dev-1'", "column will_due is set without a Will"},
      {"UPDATE retained SET payload=x''", "table retained, row 1: column payload is empty"},
      {"UPDATE inbound_qos2 SET packet_id=0", "column packet_id is out of range"},
  };
  const auto pristine = dir / "pristine.db";
  fs::copy_file(path, pristine);
  for (const auto& c : cases) {
    fs::copy_file(pristine, path, fs::copy_options::overwrite_existing);
    tamper(c.sql);
    const auto error = open_error();
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.sql << "\n" << error;
    EXPECT_NE(error.find(path), std::string::npos) << error;
  }
}

// Through the file: a broker core writes, "dies", and a new one restores later; the Session's
// expiry and the messages' expiry count the downtime.
TEST_F(sqlite_store_test, restart_through_the_file_counts_the_downtime) {
  using testing::connect;
  using testing::harness;
  config cfg;
  cfg.storage_effects = true;
  const millis t0 = 1'700'000'000'000;
  {
    auto s = open();
    ASSERT_TRUE(s);
    harness h(cfg);
    h.now = t0;
    for (std::string_view id : {"short", "long"}) {
      auto c = harness::connect_packet(id, codec::protocol_version::v5, false);
      c.props.session_expiry_interval = id == "short" ? 10 : 100;
      connect(h, std::string(id), c);
      testing::subscribe(h, std::string(id), "t", qos::at_least_once);
      h.drop(std::string(id));
    }
    connect(h, "pub", harness::connect_packet("pub", codec::protocol_version::v5));
    auto p = testing::make_publish("t", "m", qos::at_least_once, 1);
    p.props.message_expiry_interval = 60;
    h.send("pub", p);
    ASSERT_FALSE(s->write(h.core.take_storage(), h.now));
  }
  auto s = open();
  ASSERT_TRUE(s);
  storage::snapshot snap;
  ASSERT_FALSE(s->load(snap));
  harness h(cfg);
  h.now = t0 + 30'000;  // down for 30 s
  const auto report = h.core.restore(std::move(snap), h.now);
  EXPECT_EQ(report.sessions, 2u);
  EXPECT_EQ(report.expired_sessions, 1u);
  ASSERT_FALSE(s->write(h.core.take_storage(), h.now));
  auto c = harness::connect_packet("long", codec::protocol_version::v5, false);
  c.props.session_expiry_interval = 100;
  EXPECT_TRUE(connect(h, "long", c).session_present);
  auto got = h.take("long");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(std::get<codec::publish>(got[0].value).props.message_expiry_interval, 30u);
  c.client_id = "short";
  EXPECT_FALSE(connect(h, "short", c).session_present);
  storage::snapshot after;
  ASSERT_FALSE(s->write(h.core.take_storage(), h.now));
  ASSERT_FALSE(s->load(after));
  EXPECT_EQ(after.sessions.size(), 2u);  // "short" is a new Session now
}

}  // namespace
}  // namespace mqttspec::broker
