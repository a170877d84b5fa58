#pragma once
// The broker process the fuzzer owns (--broker-cmd): started under /bin/sh with "{port}" replaced
// by a free loopback port, in a process group of its own, its stdout and stderr captured in a
// file; dies with the fuzzer (PR_SET_PDEATHSIG). It tells exits and signals apart, finds sanitizer
// reports (AddressSanitizer, UndefinedBehaviorSanitizer, LeakSanitizer, ...) in the output, and
// stops the broker with SIGTERM, then SIGKILL.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace mqttspec::netfuzz {

// How the process ended.
struct exit_status {
  bool signaled = false;
  int value = 0;  // exit code, or the signal number
  std::string describe() const;  // "exit status 1", "signal 11 (SIGSEGV)"
};

// A free TCP port on 127.0.0.1 (bound and released: another process may take it meanwhile).
std::uint16_t free_port();

// The first sanitizer report in `text` ("SUMMARY: AddressSanitizer: heap-buffer-overflow ..." or
// the first "runtime error:" line), with addresses and process ids removed; nullopt when none.
std::optional<std::string> sanitizer_summary(const std::string& text);

class broker_process {
 public:
  // `command` may contain "{port}"; output goes to `log_file`.
  broker_process(std::string command, std::filesystem::path log_file);
  ~broker_process();
  broker_process(const broker_process&) = delete;
  broker_process& operator=(const broker_process&) = delete;

  // Starts it and waits until its port accepts TCP connections (tries a few ports when the
  // process exits at once, e.g. because the port was taken). False with `error` when it cannot.
  bool start(std::string& error, std::chrono::milliseconds ready_timeout = std::chrono::seconds(10));
  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !ended_; }

  // Non-blocking: the exit status once the process has ended.
  std::optional<exit_status> poll();
  // A sanitizer report the process wrote since it started.
  std::optional<std::string> sanitizer_report();
  // The last `max` bytes of its output.
  std::string output_tail(std::size_t max = 8192) const;
  const std::filesystem::path& log_file() const { return log_; }

  // SIGTERM to its process group, SIGKILL after `grace`. Returns how it ended.
  std::optional<exit_status> stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

 private:
  bool spawn(std::string& error);
  std::string output() const;

  std::string command_;
  std::filesystem::path log_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  bool ended_ = false;
  std::optional<exit_status> status_;
  std::uintmax_t scan_offset_ = 0;  // of the output, scanned for sanitizer reports
  std::optional<std::string> sanitizer_;
};

}  // namespace mqttspec::netfuzz
