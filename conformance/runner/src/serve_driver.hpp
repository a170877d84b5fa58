#pragma once
// A client driver process (docs/client-drivers.md): started with the host, port, client id and
// protocol version; it reads actions on stdin, one per line, and reports what the application
// saw on stdout, one event per line. Its stdout and stderr are read on the scenario's io_context.
#include "client_connection.hpp"
#include "mqttspec/conformance/client_role.hpp"

#include <asio.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace mqttspec::conformance {

// One line the driver printed: "message topic=a%2Fb qos=1 retain=0 payload=6869" -> kind
// "message" and its fields (values still percent-encoded, as printed).
struct app_event {
  std::string kind;
  std::map<std::string, std::string, std::less<>> fields;
  std::string line;
  steady::time_point at;
};
app_event parse_app_event(std::string_view line);

// "a%2Fb" -> "a/b"; a '%' not followed by two hex digits stays as it is.
std::string percent_decode(std::string_view text);

class driver_process {
 public:
  driver_process(asio::io_context& io, std::string name, wire_logger& log);
  ~driver_process();
  driver_process(const driver_process&) = delete;
  driver_process& operator=(const driver_process&) = delete;

  // Starts argv; error text when it could not be started.
  std::optional<std::string> start(const std::vector<std::string>& argv);
  void act(const std::string& line);  // one action line to stdin

  std::vector<app_event>& events() { return events_; }
  std::map<std::string, std::size_t, std::less<>> cursors;  // per event kind: the next unread

  // Lines starting "unsupported": the library cannot do what the scenario asked.
  const std::optional<std::string>& unsupported() const { return unsupported_; }
  bool output_closed() const { return stdout_closed_; }
  // Closes stdin, then SIGTERM and after `grace` SIGKILL to the driver's process group; returns
  // how it ended ("exit status 0", "killed by signal 11") for the log.
  std::string stop(std::chrono::milliseconds grace);
  // Set once it ended by itself with a signal other than our own (a crash).
  const std::optional<std::string>& crash() const { return crash_; }
  // Set when it had ended by itself, with a non-zero exit status, before stop() (a broken driver).
  const std::optional<std::string>& failure() const { return failure_; }

 private:
  void read_stdout();
  void read_stderr();
  void on_line(std::string line);

  std::string name_;
  wire_logger& log_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  asio::posix::stream_descriptor out_, err_;
  std::array<char, 4096> out_buf_{}, err_buf_{};
  std::string out_partial_, err_partial_;
  std::size_t err_logged_ = 0;
  bool stdout_closed_ = false;
  bool stopped_ = false;
  std::vector<app_event> events_;
  std::optional<std::string> unsupported_;
  std::optional<std::string> crash_;
  std::optional<std::string> failure_;
};

}  // namespace mqttspec::conformance
