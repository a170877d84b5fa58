#include "monitor.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

namespace mqttspec::netfuzz {

namespace {

std::string signal_name(int s) {
  switch (s) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGPIPE: return "SIGPIPE";
    case SIGTRAP: return "SIGTRAP";
    default: return "signal " + std::to_string(s);
  }
}

exit_status status_of(int w) {
  exit_status s;
  if (WIFSIGNALED(w)) {
    s.signaled = true;
    s.value = WTERMSIG(w);
  } else if (WIFEXITED(w)) {
    s.value = WEXITSTATUS(w);
    // A shell that ran the broker as a child reports its death by signal N as 128 + N.
    if (s.value > 128 && s.value < 128 + 32) {
      s.signaled = true;
      s.value -= 128;
    }
  }
  return s;
}

bool accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Shell metacharacters: a command with none of them is exec'ed by the shell, so its pid is ours.
bool simple_command(const std::string& c) { return c.find_first_of(";&|<>()`$\n*?") == std::string::npos; }

constexpr std::size_t log_cap = 8u << 20;  // the output file is cut back to empty beyond this

}  // namespace

std::string exit_status::describe() const {
  return signaled ? "signal " + std::to_string(value) + " (" + signal_name(value) + ")"
                  : "exit status " + std::to_string(value);
}

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

std::optional<std::string> sanitizer_summary(const std::string& text) {
  static const std::array<const char*, 6> markers = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                                     "WARNING: ThreadSanitizer", "ERROR: MemorySanitizer",
                                                     "runtime error:", "ERROR: UndefinedBehaviorSanitizer"};
  std::size_t at = std::string::npos;
  for (const char* m : markers) at = std::min(at, text.find(m));
  if (at == std::string::npos) return std::nullopt;
  const auto line_start = text.rfind('\n', at);
  const auto begin = line_start == std::string::npos ? 0 : line_start + 1;
  std::string line = text.substr(begin, text.find('\n', at) - begin);
  const auto summary = text.find("SUMMARY: ", at);
  if (summary != std::string::npos) line = text.substr(summary, text.find('\n', summary) - summary);
  // Addresses, thread and process ids differ from run to run.
  line = std::regex_replace(line, std::regex("0x[0-9a-fA-F]+"), "0x?");
  line = std::regex_replace(line, std::regex("==[0-9]+=="), "");
  line = std::regex_replace(line, std::regex("\\(pid=[0-9]+\\)"), "");
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  while (!line.empty() && line.front() == ' ') line.erase(0, 1);
  return line;
}

broker_process::broker_process(std::string command, std::filesystem::path log_file)
    : command_(std::move(command)), log_(std::move(log_file)) {}

broker_process::~broker_process() { stop(std::chrono::milliseconds(500)); }

bool broker_process::spawn(std::string& error) {
  std::string cmd = command_;
  for (auto at = cmd.find("{port}"); at != std::string::npos; at = cmd.find("{port}", at))
    cmd.replace(at, 6, std::to_string(port_));
  if (simple_command(cmd)) cmd = "exec " + cmd;
  std::error_code ec;
  std::filesystem::create_directories(log_.parent_path(), ec);
  const int out = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) {
    error = "cannot write " + log_.string() + ": " + std::strerror(errno);
    return false;
  }
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();
  const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
  const pid_t pid = ::fork();
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    ::close(out);
    if (in >= 0) ::close(in);
    return false;
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    if (in >= 0) ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    // Nothing else of ours (the fuzzer's client sockets above all) may live on in the broker.
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
#endif
      for (int fd = 3; fd < 65536; ++fd) ::close(fd);
    ::execv("/bin/sh", const_cast<char* const*>(argv));
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  ::close(out);
  if (in >= 0) ::close(in);
  pid_ = pid;
  ended_ = false;
  status_.reset();
  scan_offset_ = 0;
  sanitizer_.reset();
  return true;
}

bool broker_process::start(std::string& error, std::chrono::milliseconds ready_timeout) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    stop(std::chrono::milliseconds(500));
    port_ = free_port();
    if (!port_) {
      error = "no free port";
      return false;
    }
    if (!spawn(error)) return false;
    const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (accepts(port_)) return true;
      if (poll()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!poll()) {
      error = "the broker did not accept connections on port " + std::to_string(port_) + " within " +
              std::to_string(ready_timeout.count()) + " ms";
      stop();
      return false;
    }
    error = "the broker ended at once (" + status_->describe() + "): " + output_tail(400);
  }
  return false;
}

std::optional<exit_status> broker_process::poll() {
  if (pid_ <= 0) return status_;
  if (ended_) return status_;
  int w = 0;
  const pid_t r = ::waitpid(pid_, &w, WNOHANG);
  if (r == pid_) {
    ended_ = true;
    status_ = status_of(w);
  }
  return status_;
}

std::string broker_process::output() const {
  std::ifstream in(log_, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<std::string> broker_process::sanitizer_report() {
  if (sanitizer_) return sanitizer_;
  std::error_code ec;
  const auto size = std::filesystem::file_size(log_, ec);
  if (ec) return std::nullopt;
  if (size < scan_offset_) scan_offset_ = 0;  // cut back meanwhile
  if (size == scan_offset_) return std::nullopt;
  std::ifstream in(log_, std::ios::binary);
  const auto from = scan_offset_ > 256 ? scan_offset_ - 256 : 0;  // a marker split between reads
  in.seekg(static_cast<std::streamoff>(from));
  std::string text(size - from, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  scan_offset_ = from + text.size();
  sanitizer_ = sanitizer_summary(text);
  if (sanitizer_) {
    // Give the report a moment to be complete (its SUMMARY line comes last).
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ifstream again(log_, std::ios::binary);
    again.seekg(static_cast<std::streamoff>(from));
    std::ostringstream rest;
    rest << again.rdbuf();
    sanitizer_ = sanitizer_summary(rest.str());
  } else if (size > log_cap) {
    ::truncate(log_.c_str(), 0);  // O_APPEND: the broker goes on writing at the new end
    scan_offset_ = 0;
  }
  return sanitizer_;
}

std::string broker_process::output_tail(std::size_t max) const {
  auto s = output();
  return s.size() > max ? s.substr(s.size() - max) : s;
}

std::optional<exit_status> broker_process::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return status_;
  if (!poll()) {
    ::kill(-pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (!poll() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!poll()) {
      ::kill(-pid_, SIGKILL);
      int w = 0;
      if (::waitpid(pid_, &w, 0) == pid_) {
        ended_ = true;
        status_ = status_of(w);
      }
    }
  }
  ::kill(-pid_, SIGKILL);  // whatever else the command started in its group
  pid_ = -1;
  return status_;
}

}  // namespace mqttspec::netfuzz
