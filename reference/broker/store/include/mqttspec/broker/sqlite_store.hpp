#pragma once
// mqttspec_broker_store: the broker's durable state in one SQLite file (WAL journal), the
// storage::backend behind `mqttspec-broker --persistence FILE`.
//
// Why SQLite: every write is a transaction, so the effects of one turn of the broker land whole or
// not at all, whatever moment the process dies at; its WAL journal makes a commit one sequential
// append (and one fsync in `always` mode); it checks a file before trusting it (a damaged or
// foreign file is an error message, never a crash: LMDB maps the file into memory and a corrupt
// page can fault the process); and the file can be inspected with the sqlite3 command.
//
// Sync modes. Both commit the effects of a turn before any packet of that turn leaves the
// broker, so an acknowledged QoS 1/2 message survives the broker being killed.
//  - always: each commit is on disk (fsync) before it returns (SQLite synchronous=FULL): it also
//    survives a power loss or an operating system crash.
//  - batch: commits reach the operating system only; the journal is written to disk by tick()
//    (about once a second) and at checkpoints (synchronous=NORMAL): a power loss or OS crash
//    can lose about the last second of acknowledged messages, a broker crash loses nothing.
#include "mqttspec/broker/storage.hpp"

#include <memory>
#include <string>

namespace mqttspec::broker {

enum class sync_mode : std::uint8_t { always, batch };

class sqlite_store final : public storage::backend {
 public:
  // Opens (or creates) the file and takes it for this process alone. nullptr and `error` set when
  // it cannot: in use by another broker, not a SQLite file, not ours, a newer format, damaged.
  static std::unique_ptr<sqlite_store> open(const std::string& path, sync_mode mode, std::string& error);
  ~sqlite_store() override;
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  std::optional<std::string> load(storage::snapshot& out) override;
  std::optional<std::string> write(std::span<const storage::effect> effects, std::uint64_t now) override;
  std::optional<std::string> tick(std::uint64_t now) override;
  std::string describe() const override;

  static constexpr int format_version = 1;  // PRAGMA user_version of the files this code writes

 private:
  struct impl;
  explicit sqlite_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace mqttspec::broker
