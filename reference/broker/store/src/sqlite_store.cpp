// The broker's durable state in SQLite (see sqlite_store.hpp for why and the sync modes).
#include "mqttspec/broker/sqlite_store.hpp"

#include "mqttspec/codec/decode.hpp"
#include "mqttspec/codec/encode.hpp"
#include "mqttspec/codec/topic.hpp"
#include "mqttspec/codec/wire.hpp"

#include <sqlite3.h>

#include <charconv>
#include <map>

namespace mqttspec::broker {

namespace {

// 'MQTS': PRAGMA application_id of our files, so that another program's SQLite file is refused.
constexpr std::int32_t application_id = 0x4d515453;

constexpr const char* schema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE sessions(
  client_id TEXT PRIMARY KEY, version INTEGER NOT NULL, expiry_interval INTEGER NOT NULL,
  connected INTEGER NOT NULL, expires_at INTEGER, will_delay INTEGER NOT NULL, will_due INTEGER,
  will_topic TEXT, will_payload BLOB, will_qos INTEGER, will_retain INTEGER, will_props BLOB);
CREATE TABLE subscriptions(
  client_id TEXT NOT NULL, filter TEXT NOT NULL, max_qos INTEGER NOT NULL, no_local INTEGER NOT NULL,
  retain_as_published INTEGER NOT NULL, retain_handling INTEGER NOT NULL, identifier INTEGER,
  PRIMARY KEY(client_id, filter));
CREATE TABLE messages(
  client_id TEXT NOT NULL, seq INTEGER NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL,
  subscription_ids TEXT NOT NULL, received_at INTEGER NOT NULL, stage INTEGER, packet_id INTEGER NOT NULL,
  topic TEXT NOT NULL, payload BLOB NOT NULL, msg_qos INTEGER NOT NULL, msg_retain INTEGER NOT NULL, props BLOB,
  PRIMARY KEY(client_id, seq));
CREATE TABLE inbound_qos2(client_id TEXT NOT NULL, packet_id INTEGER NOT NULL, PRIMARY KEY(client_id, packet_id));
CREATE TABLE retained(
  topic TEXT PRIMARY KEY, stored_at INTEGER NOT NULL, payload BLOB NOT NULL, qos INTEGER NOT NULL,
  retain INTEGER NOT NULL, props BLOB);
)sql";

// A prepared statement, reset after each use.
class statement {
 public:
  statement() = default;
  statement(sqlite3* db, const char* sql) { sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr); }
  ~statement() { sqlite3_finalize(s_); }
  statement(statement&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  statement& operator=(statement&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  explicit operator bool() const noexcept { return s_ != nullptr; }
  sqlite3_stmt* get() const noexcept { return s_; }

  statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  statement& bind(int i, std::string_view text) {
    sqlite3_bind_text64(s_, i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
  }
  statement& bind_blob(int i, std::string_view data) {
    sqlite3_bind_blob64(s_, i, data.empty() ? "" : data.data(), data.size(), SQLITE_TRANSIENT);
    return *this;
  }
  statement& bind_null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  template <class T>
  statement& bind_opt(int i, const std::optional<T>& v) {
    return v ? bind(i, static_cast<std::int64_t>(*v)) : bind_null(i);
  }
  // Runs a statement that returns no rows; SQLITE_DONE on success.
  int run() {
    const int rc = sqlite3_step(s_);
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    return rc;
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// One row being read, with the checks that turn a damaged value into an error message.
class row {
 public:
  row(sqlite3_stmt* s, std::string& error) : s_(s), error_(error) {}
  bool null(int i) const { return sqlite3_column_type(s_, i) == SQLITE_NULL; }
  std::optional<std::int64_t> integer(int i, std::int64_t min, std::int64_t max, const char* name) {
    if (sqlite3_column_type(s_, i) != SQLITE_INTEGER) return fail(name, "is not an integer");
    const auto v = sqlite3_column_int64(s_, i);
    if (v < min || v > max) return fail(name, "is out of range (" + std::to_string(v) + ")");
    return v;
  }
  std::optional<std::string> text(int i, const char* name) {
    const int type = sqlite3_column_type(s_, i);
    if (type != SQLITE_TEXT && type != SQLITE_BLOB) {
      fail(name, "is not text");
      return std::nullopt;
    }
    const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, i));
    std::string v(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(s_, i)));
    if (type == SQLITE_TEXT && codec::check_utf8(v)) {
      fail(name, "is not well-formed UTF-8");
      return std::nullopt;
    }
    return v;
  }
  std::optional<std::string> blob(int i, const char* name) {
    const int type = sqlite3_column_type(s_, i);
    if (type != SQLITE_BLOB && type != SQLITE_TEXT) {
      fail(name, "is not binary data");
      return std::nullopt;
    }
    const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, i));
    return std::string(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(s_, i)));
  }
  std::nullopt_t fail(const char* name, const std::string& why) {
    if (error_.empty()) error_ = std::string("column ") + name + " " + why;
    return std::nullopt;
  }
  bool ok() const { return error_.empty(); }

 private:
  sqlite3_stmt* s_;
  std::string& error_;
};

std::optional<std::int64_t> time_of(const std::optional<std::uint64_t>& t) {
  if (!t) return std::nullopt;
  return static_cast<std::int64_t>(*t);
}

// A message's properties, as the property section of a PUBLISH encoded under 5.0 (NULL: none):
// the codec's one encoding of them, and its decoder checks them on the way back.
std::optional<codec::bytes> encode_props(const codec::properties& props) {
  if (props.empty()) return std::nullopt;
  codec::publish p;
  p.topic = "-";
  p.props = props;
  auto wire = codec::encode(p, codec::protocol_version::v5);
  if (!wire) return std::nullopt;  // cannot happen for a message the codec decoded
  return std::move(*wire);
}

// Binds a message as five columns from `first`: topic, payload, QoS, RETAIN, properties.
void bind_message(statement& s, int first, const message& m) {
  s.bind(first, m.publish.topic)
      .bind_blob(first + 1, m.publish.payload)
      .bind(first + 2, static_cast<std::int64_t>(m.publish.qos_level))
      .bind(first + 3, m.publish.retain ? 1 : 0);
  if (auto props = encode_props(m.publish.props)) s.bind_blob(first + 4, *props);
  else s.bind_null(first + 4);
}

// Reads the five columns of bind_message back into an owned, checked message.
std::optional<message> read_message(row& r, int first) {
  auto topic = r.text(first, "topic");
  auto payload = r.blob(first + 1, "payload");
  auto q = r.integer(first + 2, 0, 2, "qos");
  auto retain = r.integer(first + 3, 0, 1, "retain");
  if (!topic || !payload || !q || !retain) return std::nullopt;
  if (codec::check_topic_name(*topic)) return r.fail("topic", "is not a valid Topic Name");
  codec::publish p;
  std::optional<codec::packet> props_packet;
  std::string props_bytes;
  if (!r.null(first + 4)) {
    auto b = r.blob(first + 4, "props");
    if (!b) return std::nullopt;
    props_bytes = std::move(*b);
    auto decoded = codec::decode(codec::bytes_view(props_bytes), codec::protocol_version::v5);
    if (!decoded || !std::holds_alternative<codec::publish>(*decoded))
      return r.fail("props", "does not hold valid 5.0 PUBLISH properties" +
                                 (decoded ? std::string() : " (" + decoded.error().message() + ")"));
    props_packet = std::move(*decoded);
    p.props = std::get<codec::publish>(*props_packet).props;
  }
  p.topic = *topic;
  p.payload = *payload;
  p.qos_level = static_cast<codec::qos>(*q);
  p.retain = *retain != 0;
  return make_message(p);  // owns copies of every view
}

std::string join(const std::vector<std::uint32_t>& ids) {
  std::string out;
  for (auto id : ids) {
    if (!out.empty()) out += ',';
    out += std::to_string(id);
  }
  return out;
}

std::optional<std::vector<std::uint32_t>> split(std::string_view text) {
  std::vector<std::uint32_t> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto part = text.substr(0, comma);
    std::uint32_t v = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec != std::errc{} || end != part.data() + part.size() || v == 0 || v > 268'435'455) return std::nullopt;
    out.push_back(v);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (comma != std::string_view::npos && text.empty()) return std::nullopt;
  }
  return out;
}

}  // namespace

struct sqlite_store::impl {
  std::string path;
  sync_mode mode = sync_mode::always;
  sqlite3* db = nullptr;
  statement put_session, del_session, del_session_subs, del_session_messages, del_session_inbound, put_subscription,
      del_subscription, put_message, update_message, del_message, put_inbound, del_inbound, put_retained,
      del_retained, put_alive;

  ~impl() {
    // Statements first: sqlite3_close refuses while any is alive.
    for (auto* s : {&put_session, &del_session, &del_session_subs, &del_session_messages, &del_session_inbound,
                    &put_subscription, &del_subscription, &put_message, &update_message, &del_message, &put_inbound,
                    &del_inbound, &put_retained, &del_retained, &put_alive})
      *s = statement{};
    if (db) sqlite3_close(db);
  }

  std::string fail(const std::string& what) const { return path + ": " + what + " (SQLite: " + sqlite3_errmsg(db) + ")"; }

  std::optional<std::string> exec(const char* sql, const char* what) {
    char* msg = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) == SQLITE_OK) return std::nullopt;
    std::string error = path + ": " + what + " (SQLite: " + (msg ? msg : sqlite3_errmsg(db)) + ")";
    sqlite3_free(msg);
    return error;
  }

  // The first column of the first row of `sql`, as text; nullopt and `error` set on failure.
  std::optional<std::string> query_text(const char* sql, std::string& error) {
    sqlite3_stmt* s = nullptr;
    std::optional<std::string> out;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(s, 0);
      out = t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
    } else {
      error = sqlite3_errmsg(db);
    }
    sqlite3_finalize(s);
    return out;
  }

  std::optional<std::string> prepare() {
    struct {
      statement* s;
      const char* sql;
    } all[] = {
        {&put_session, "INSERT OR REPLACE INTO sessions VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)"},
        {&del_session, "DELETE FROM sessions WHERE client_id=?1"},
        {&del_session_subs, "DELETE FROM subscriptions WHERE client_id=?1"},
        {&del_session_messages, "DELETE FROM messages WHERE client_id=?1"},
        {&del_session_inbound, "DELETE FROM inbound_qos2 WHERE client_id=?1"},
        {&put_subscription, "INSERT OR REPLACE INTO subscriptions VALUES(?1,?2,?3,?4,?5,?6,?7)"},
        {&del_subscription, "DELETE FROM subscriptions WHERE client_id=?1 AND filter=?2"},
        {&put_message, "INSERT OR REPLACE INTO messages VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"},
        {&update_message, "UPDATE messages SET packet_id=?3, stage=?4 WHERE client_id=?1 AND seq=?2"},
        {&del_message, "DELETE FROM messages WHERE client_id=?1 AND seq=?2"},
        {&put_inbound, "INSERT OR IGNORE INTO inbound_qos2 VALUES(?1,?2)"},
        {&del_inbound, "DELETE FROM inbound_qos2 WHERE client_id=?1 AND packet_id=?2"},
        {&put_retained, "INSERT OR REPLACE INTO retained VALUES(?1,?2,?3,?4,?5,?6)"},
        {&del_retained, "DELETE FROM retained WHERE topic=?1"},
        {&put_alive, "INSERT OR REPLACE INTO meta VALUES('last_alive',?1)"},
    };
    for (auto& [s, sql] : all) {
      *s = statement(db, sql);
      if (!*s) return fail("cannot prepare its statements; is it a mqttspec-broker persistence file?");
    }
    return std::nullopt;
  }

  int apply(const storage::effect& e) {
    return std::visit(
        [&](const auto& x) -> int {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, storage::put_session>) {
            const auto& r = x.session;
            auto& s = put_session;
            s.bind(1, r.client_id)
                .bind(2, static_cast<std::int64_t>(r.version))
                .bind(3, static_cast<std::int64_t>(r.expiry_interval))
                .bind(4, r.connected ? 1 : 0)
                .bind_opt(5, time_of(r.expires_at))
                .bind(6, static_cast<std::int64_t>(r.will_delay))
                .bind_opt(7, time_of(r.will_due));
            if (r.will) bind_message(s, 8, *r.will);
            return s.run();
          } else if constexpr (std::is_same_v<T, storage::delete_session>) {
            for (auto* s : {&del_session, &del_session_subs, &del_session_messages, &del_session_inbound}) {
              const int rc = s->bind(1, x.client_id).run();
              if (rc != SQLITE_DONE) return rc;
            }
            return SQLITE_DONE;
          } else if constexpr (std::is_same_v<T, storage::put_subscription>) {
            const auto& r = x.subscription;
            return put_subscription.bind(1, r.client_id)
                .bind(2, r.filter)
                .bind(3, static_cast<std::int64_t>(r.options.max_qos))
                .bind(4, r.options.no_local ? 1 : 0)
                .bind(5, r.options.retain_as_published ? 1 : 0)
                .bind(6, static_cast<std::int64_t>(r.options.handling))
                .bind_opt(7, r.identifier)
                .run();
          } else if constexpr (std::is_same_v<T, storage::delete_subscription>) {
            return del_subscription.bind(1, x.client_id).bind(2, x.filter).run();
          } else if constexpr (std::is_same_v<T, storage::put_message>) {
            const auto& r = x.message;
            auto& s = put_message;
            s.bind(1, r.client_id)
                .bind(2, static_cast<std::int64_t>(r.item.seq))
                .bind(3, static_cast<std::int64_t>(r.item.qos_level))
                .bind(4, r.item.retain ? 1 : 0)
                .bind(5, join(r.item.subscription_ids))
                .bind(6, static_cast<std::int64_t>(r.item.received_at))
                .bind_opt(7, r.stage ? std::optional<std::int64_t>(static_cast<std::int64_t>(*r.stage)) : std::nullopt)
                .bind(8, r.packet_id);
            bind_message(s, 9, r.item.msg);
            return s.run();
          } else if constexpr (std::is_same_v<T, storage::update_message>) {
            return update_message.bind(1, x.client_id)
                .bind(2, static_cast<std::int64_t>(x.seq))
                .bind(3, x.packet_id)
                .bind(4, static_cast<std::int64_t>(x.stage))
                .run();
          } else if constexpr (std::is_same_v<T, storage::delete_message>) {
            return del_message.bind(1, x.client_id).bind(2, static_cast<std::int64_t>(x.seq)).run();
          } else if constexpr (std::is_same_v<T, storage::put_inbound>) {
            return put_inbound.bind(1, x.inbound.client_id).bind(2, x.inbound.packet_id).run();
          } else if constexpr (std::is_same_v<T, storage::delete_inbound>) {
            return del_inbound.bind(1, x.client_id).bind(2, x.packet_id).run();
          } else if constexpr (std::is_same_v<T, storage::put_retained>) {
            const auto& m = x.retained.msg;
            auto& s = put_retained;
            s.bind(1, m.publish.topic).bind(2, static_cast<std::int64_t>(x.retained.stored_at)).bind_blob(3, m.publish.payload);
            s.bind(4, static_cast<std::int64_t>(m.publish.qos_level)).bind(5, m.publish.retain ? 1 : 0);
            if (auto props = encode_props(m.publish.props)) s.bind_blob(6, *props);
            else s.bind_null(6);
            return s.run();
          } else {
            static_assert(std::is_same_v<T, storage::delete_retained>);
            return del_retained.bind(1, x.topic).run();
          }
        },
        e);
  }

  // Reads every row of `sql`, calling f(row) for each; an error names the table and the row.
  template <class F>
  std::optional<std::string> each(const char* table, const char* sql, F&& f) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) return fail(std::string("cannot read table ") + table);
    std::optional<std::string> result;
    std::size_t n = 0;
    for (;;) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        result = fail(std::string("cannot read table ") + table);
        break;
      }
      ++n;
      std::string error;
      row r(s, error);
      f(r);
      if (!error.empty()) {
        result = path + ": table " + table + ", row " + std::to_string(n) + ": " + error +
                 "; the file is damaged or was not written by mqttspec-broker";
        break;
      }
    }
    sqlite3_finalize(s);
    return result;
  }
};

sqlite_store::sqlite_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
sqlite_store::~sqlite_store() {
  if (impl_ && impl_->db) {
    // A clean close: the journal is folded into the file (and removed).
    sqlite3_exec(impl_->db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  }
}

std::unique_ptr<sqlite_store> sqlite_store::open(const std::string& path, sync_mode mode, std::string& error) {
  auto p = std::make_unique<impl>();
  p->path = path;
  p->mode = mode;
  if (sqlite3_open_v2(path.c_str(), &p->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    error = p->db ? p->fail("cannot open the persistence file") : path + ": cannot open the persistence file";
    return nullptr;
  }
  sqlite3_extended_result_codes(p->db, 1);
  // One broker per file: the lock is held from the first transaction until the process ends.
  if (auto e = p->exec("PRAGMA locking_mode=EXCLUSIVE", "cannot lock the persistence file")) {
    error = *e;
    return nullptr;
  }
  std::string why;
  const auto journal = p->query_text("PRAGMA journal_mode=WAL", why);
  if (!journal) {
    error = path + ": not a usable persistence file (SQLite: " + why + ")";
    if (why.find("malformed") != std::string::npos)
      error = path + ": the persistence file is damaged (SQLite: " + why + "); move it away to start empty, or restore a copy";
    if (why.find("locked") != std::string::npos || why.find("busy") != std::string::npos)
      error = path + ": the persistence file is in use by another process (SQLite: " + why + ")";
    return nullptr;
  }
  if (*journal != "wal") {
    error = path + ": cannot switch the persistence file to WAL journaling (journal_mode is " + *journal + ")";
    return nullptr;
  }
  const char* sync = mode == sync_mode::always ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
  if (auto e = p->exec(sync, "cannot set the sync mode")) {
    error = *e;
    return nullptr;
  }
  if (auto e = p->exec("BEGIN IMMEDIATE", "cannot take the persistence file (in use by another process?)")) {
    error = *e;
    return nullptr;
  }
  // Checked before it is trusted: a damaged file is refused with what SQLite found.
  const auto check = p->query_text("PRAGMA quick_check(5)", why);
  if (!check || *check != "ok") {
    error = path + ": the persistence file is damaged (SQLite quick_check: " + (check ? *check : why) +
            "); move it away to start empty, or restore a copy";
    return nullptr;
  }
  const auto app = p->query_text("PRAGMA application_id", why);
  const auto version = p->query_text("PRAGMA user_version", why);
  const auto tables = p->query_text("SELECT count(*) FROM sqlite_schema", why);
  if (!app || !version || !tables) {
    error = path + ": cannot read the persistence file (SQLite: " + why + ")";
    return nullptr;
  }
  if (*tables == "0" && *app == "0") {
    // A new file.
    const std::string init = std::string(schema) + "PRAGMA application_id=" + std::to_string(application_id) +
                             ";PRAGMA user_version=" + std::to_string(format_version) + ";";
    if (auto e = p->exec(init.c_str(), "cannot create the persistence file's tables")) {
      error = *e;
      return nullptr;
    }
  } else if (*app != std::to_string(application_id)) {
    error = path + ": not a mqttspec-broker persistence file (another program's SQLite database)";
    return nullptr;
  } else if (*version != std::to_string(format_version)) {
    error = path + ": persistence format " + *version + ", this broker reads format " +
            std::to_string(format_version);
    return nullptr;
  }
  if (auto e = p->exec("COMMIT", "cannot write the persistence file")) {
    error = *e;
    return nullptr;
  }
  if (auto e = p->prepare()) {
    error = *e;
    return nullptr;
  }
  return std::unique_ptr<sqlite_store>(new sqlite_store(std::move(p)));
}

std::optional<std::string> sqlite_store::load(storage::snapshot& out) {
  auto& p = *impl_;
  out = {};
  std::map<std::string, codec::protocol_version, std::less<>> versions;
  auto e = p.each("sessions",
                  "SELECT client_id, version, expiry_interval, connected, expires_at, will_delay, will_due, will_topic, "
                  "will_payload, will_qos, will_retain, will_props FROM sessions ORDER BY client_id",
                  [&](row& r) {
                    storage::session_record s;
                    auto id = r.text(0, "client_id");
                    auto v = r.integer(1, 3, 5, "version");
                    auto expiry = r.integer(2, 1, 0xFFFF'FFFF, "expiry_interval");
                    auto connected = r.integer(3, 0, 1, "connected");
                    auto delay = r.integer(5, 0, 0xFFFF'FFFF, "will_delay");
                    if (!id || !v || !expiry || !connected || !delay) return;
                    if (id->empty()) return void(r.fail("client_id", "is empty"));
                    s.client_id = std::move(*id);
                    s.version = static_cast<codec::protocol_version>(*v);
                    s.expiry_interval = static_cast<std::uint32_t>(*expiry);
                    s.connected = *connected != 0;
                    s.will_delay = static_cast<std::uint32_t>(*delay);
                    if (!r.null(4)) {
                      auto t = r.integer(4, 0, INT64_MAX, "expires_at");
                      if (!t) return;
                      s.expires_at = static_cast<std::uint64_t>(*t);
                    }
                    if (!r.null(6)) {
                      auto t = r.integer(6, 0, INT64_MAX, "will_due");
                      if (!t) return;
                      s.will_due = static_cast<std::uint64_t>(*t);
                    }
                    if (!r.null(7)) {
                      s.will = read_message(r, 7);
                      if (!s.will) return;
                    } else if (s.will_due) {
                      return void(r.fail("will_due", "is set without a Will"));
                    }
                    versions[s.client_id] = s.version;
                    out.sessions.push_back(std::move(s));
                  });
  if (e) return e;
  e = p.each("subscriptions",
             "SELECT client_id, filter, max_qos, no_local, retain_as_published, retain_handling, identifier "
             "FROM subscriptions ORDER BY rowid",
             [&](row& r) {
               storage::subscription_record s;
               auto id = r.text(0, "client_id");
               auto filter = r.text(1, "filter");
               auto q = r.integer(2, 0, 2, "max_qos");
               auto nl = r.integer(3, 0, 1, "no_local");
               auto rap = r.integer(4, 0, 1, "retain_as_published");
               auto rh = r.integer(5, 0, 2, "retain_handling");
               if (!id || !filter || !q || !nl || !rap || !rh) return;
               auto v = versions.find(*id);
               if (codec::check_topic_filter(*filter, v == versions.end() ? codec::protocol_version::v5 : v->second))
                 return void(r.fail("filter", "is not a valid Topic Filter"));
               if (!r.null(6)) {
                 auto sid = r.integer(6, 1, 268'435'455, "identifier");
                 if (!sid) return;
                 s.identifier = static_cast<std::uint32_t>(*sid);
               }
               s.client_id = std::move(*id);
               s.filter = std::move(*filter);
               s.options.max_qos = static_cast<codec::qos>(*q);
               s.options.no_local = *nl != 0;
               s.options.retain_as_published = *rap != 0;
               s.options.handling = static_cast<codec::retain_handling>(*rh);
               out.subscriptions.push_back(std::move(s));
             });
  if (e) return e;
  e = p.each("messages",
             "SELECT client_id, seq, qos, retain, subscription_ids, received_at, stage, packet_id, topic, payload, "
             "msg_qos, msg_retain, props FROM messages ORDER BY client_id, seq",
             [&](row& r) {
               storage::message_record m;
               auto id = r.text(0, "client_id");
               auto seq = r.integer(1, 1, INT64_MAX, "seq");
               auto q = r.integer(2, 0, 2, "qos");
               auto retain = r.integer(3, 0, 1, "retain");
               auto ids_text = r.text(4, "subscription_ids");
               auto received = r.integer(5, 0, INT64_MAX, "received_at");
               auto pid = r.integer(7, 0, 65535, "packet_id");
               if (!id || !seq || !q || !retain || !ids_text || !received || !pid) return;
               auto ids = split(*ids_text);
               if (!ids) return void(r.fail("subscription_ids", "is not a list of Subscription Identifiers"));
               if (!r.null(6)) {
                 auto stage = r.integer(6, 0, 2, "stage");
                 if (!stage) return;
                 m.stage = static_cast<inflight::stage>(*stage);
                 const bool qos1_stage = *m.stage == inflight::stage::awaiting_puback;
                 if (qos1_stage != (*q == 1) || *q == 0) return void(r.fail("stage", "does not fit the message's QoS"));
                 if (*pid == 0) return void(r.fail("packet_id", "is 0 for a message in flight"));
               }
               auto msg = read_message(r, 8);
               if (!msg) return;
               m.client_id = std::move(*id);
               m.packet_id = static_cast<std::uint16_t>(*pid);
               m.item.msg = std::move(*msg);
               m.item.seq = static_cast<std::uint64_t>(*seq);
               m.item.qos_level = static_cast<codec::qos>(*q);
               m.item.retain = *retain != 0;
               m.item.subscription_ids = std::move(*ids);
               m.item.received_at = static_cast<std::uint64_t>(*received);
               out.messages.push_back(std::move(m));
             });
  if (e) return e;
  e = p.each("inbound_qos2", "SELECT client_id, packet_id FROM inbound_qos2 ORDER BY client_id, packet_id", [&](row& r) {
    auto id = r.text(0, "client_id");
    auto pid = r.integer(1, 1, 65535, "packet_id");
    if (id && pid) out.inbound.push_back({std::move(*id), static_cast<std::uint16_t>(*pid)});
  });
  if (e) return e;
  e = p.each("retained", "SELECT topic, payload, qos, retain, props, stored_at FROM retained ORDER BY topic", [&](row& r) {
    auto msg = read_message(r, 0);
    auto stored = r.integer(5, 0, INT64_MAX, "stored_at");
    if (!msg || !stored) return;
    if (msg->publish.payload.empty()) return void(r.fail("payload", "is empty"));
    out.retained.push_back({std::move(*msg), static_cast<std::uint64_t>(*stored)});
  });
  if (e) return e;
  return p.each("meta", "SELECT key, value FROM meta", [&](row& r) {
    auto key = r.text(0, "key");
    if (key && *key == "last_alive") {
      if (auto v = r.integer(1, 0, INT64_MAX, "value")) out.last_alive = static_cast<std::uint64_t>(*v);
    }
  });
}

std::optional<std::string> sqlite_store::write(std::span<const storage::effect> effects, std::uint64_t now) {
  auto& p = *impl_;
  if (auto e = p.exec("BEGIN", "cannot write")) return e;
  for (const auto& effect : effects) {
    if (p.apply(effect) != SQLITE_DONE) {
      auto error = p.fail("cannot write");
      sqlite3_exec(p.db, "ROLLBACK", nullptr, nullptr, nullptr);
      return error;
    }
  }
  if (p.put_alive.bind(1, static_cast<std::int64_t>(now)).run() != SQLITE_DONE) {
    auto error = p.fail("cannot write");
    sqlite3_exec(p.db, "ROLLBACK", nullptr, nullptr, nullptr);
    return error;
  }
  if (auto e = p.exec("COMMIT", "cannot commit")) {
    sqlite3_exec(p.db, "ROLLBACK", nullptr, nullptr, nullptr);
    return e;
  }
  return std::nullopt;
}

std::optional<std::string> sqlite_store::tick(std::uint64_t now) {
  auto& p = *impl_;
  if (p.put_alive.bind(1, static_cast<std::int64_t>(now)).run() != SQLITE_DONE) return p.fail("cannot write");
  if (p.mode == sync_mode::batch) {
    // Syncs the journal to disk, then copies what it can into the file.
    if (auto e = p.exec("PRAGMA wal_checkpoint(PASSIVE)", "cannot flush to disk")) return e;
  }
  return std::nullopt;
}

std::string sqlite_store::describe() const {
  return impl_->path + " (SQLite " + sqlite3_libversion() + ", WAL, sync " +
         (impl_->mode == sync_mode::always ? "always" : "batch") + ")";
}

}  // namespace mqttspec::broker
