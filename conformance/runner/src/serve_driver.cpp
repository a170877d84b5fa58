#include "serve_driver.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace mqttspec::conformance {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// stderr of a driver goes to the wire log, up to this much per scenario.
constexpr std::size_t stderr_budget = 4096;

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended";
}

}  // namespace

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

app_event parse_app_event(std::string_view line) {
  app_event e;
  e.line = std::string(line);
  e.at = steady::now();
  std::size_t at = 0;
  bool first = true;
  while (at < line.size()) {
    while (at < line.size() && line[at] == ' ') ++at;
    if (at >= line.size()) break;
    auto end = line.find(' ', at);
    if (end == std::string_view::npos) end = line.size();
    const auto word = line.substr(at, end - at);
    if (first) {
      e.kind = std::string(word);
      first = false;
    } else if (auto eq = word.find('='); eq != std::string_view::npos) {
      e.fields[std::string(word.substr(0, eq))] = std::string(word.substr(eq + 1));
    } else {
      e.fields[std::string(word)] = "";
    }
    at = end;
  }
  return e;
}

std::vector<std::string> split_command(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote) {
      if (c == quote) quote = 0;
      else if (c == '\\' && quote == '"' && i + 1 < text.size()) cur += text[++i];
      else cur += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < text.size()) {
      cur += text[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) out.push_back(std::exchange(cur, {}));
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) out.push_back(cur);
  return out;
}

driver_process::driver_process(asio::io_context& io, std::string name, wire_logger& log)
    : name_(std::move(name)), log_(log), out_(io), err_(io) {}

driver_process::~driver_process() { stop(std::chrono::milliseconds(500)); }

std::optional<std::string> driver_process::start(const std::vector<std::string>& argv) {
  if (argv.empty()) return "no driver command";
  // A driver that ended must not take the runner with it when we write to its stdin.
  static const bool sigpipe_ignored = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)sigpipe_ignored;
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return std::string("pipe: ") + std::strerror(errno);
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    for (int fd : {in[0], in[1], out[0], out[1]}) close(fd);
    return std::string("pipe: ") + std::strerror(errno);
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so that stop() also ends what a wrapper script started. Signals the
  // runner ignores (SIGPIPE) are back to their defaults in the driver.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int rc = posix_spawnp(&pid_, args[0], &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    pid_ = -1;
    for (int fd : {in[1], out[0], err[0]}) close(fd);
    return "cannot start " + argv[0] + ": " + std::strerror(rc);
  }
  stdin_fd_ = in[1];
  out_.assign(out[0]);
  err_.assign(err[0]);
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  log_.event(name_, "driver started (pid " + std::to_string(pid_) + "): " + cmd);
  read_stdout();
  read_stderr();
  return std::nullopt;
}

void driver_process::act(const std::string& line) {
  log_.event(name_, "app> " + line);
  if (stdin_fd_ < 0) return;
  const std::string data = line + "\n";
  std::size_t done = 0;
  while (done < data.size()) {
    const auto n = write(stdin_fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      log_.event(name_, "driver does not read its stdin: " + std::string(std::strerror(errno)));
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

void driver_process::on_line(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return;
  log_.event(name_, "app< " + line);
  auto e = parse_app_event(line);
  if (e.kind == "unsupported" && !unsupported_) unsupported_ = line.substr(std::min(line.size(), std::size_t{12}));
  events_.push_back(std::move(e));
}

void driver_process::read_stdout() {
  out_.async_read_some(asio::buffer(out_buf_), [this](const std::error_code& ec, std::size_t n) {
    if (ec) {
      if (!out_partial_.empty()) on_line(std::exchange(out_partial_, {}));
      stdout_closed_ = true;
      if (!stopped_) log_.event(name_, "driver closed its stdout");
      return;
    }
    out_partial_.append(out_buf_.data(), n);
    for (auto nl = out_partial_.find('\n'); nl != std::string::npos; nl = out_partial_.find('\n')) {
      auto line = out_partial_.substr(0, nl);
      out_partial_.erase(0, nl + 1);
      on_line(std::move(line));
    }
    read_stdout();
  });
}

void driver_process::read_stderr() {
  err_.async_read_some(asio::buffer(err_buf_), [this](const std::error_code& ec, std::size_t n) {
    if (ec) {
      if (!err_partial_.empty() && err_logged_ < stderr_budget) log_.event(name_, "driver stderr: " + err_partial_);
      return;
    }
    err_partial_.append(err_buf_.data(), n);
    for (auto nl = err_partial_.find('\n'); nl != std::string::npos; nl = err_partial_.find('\n')) {
      auto line = err_partial_.substr(0, nl);
      err_partial_.erase(0, nl + 1);
      if (err_logged_ < stderr_budget) {
        err_logged_ += line.size();
        log_.event(name_, "driver stderr: " + line);
        if (err_logged_ >= stderr_budget) log_.event(name_, "driver stderr: (more not logged)");
      }
    }
    if (err_partial_.size() > stderr_budget) err_partial_.clear();
    read_stderr();
  });
}

std::string driver_process::stop(std::chrono::milliseconds grace) {
  if (stopped_ || pid_ < 0) return {};
  stopped_ = true;
  if (stdin_fd_ >= 0) {
    close(stdin_fd_);
    stdin_fd_ = -1;
  }
  int status = 0;
  std::string how;
  const bool ended_early = stdout_closed_;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0 && ended_early) {
    // It closed its stdout: give it a moment to be reaped.
    const auto until = steady::now() + std::chrono::milliseconds(200);
    while ((r = waitpid(pid_, &status, WNOHANG)) == 0 && steady::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (r == pid_) {
    how = describe_status(status);
    if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM && WTERMSIG(status) != SIGKILL) crash_ = how;
    if (ended_early && WIFEXITED(status) && WEXITSTATUS(status) != 0) failure_ = how;
  } else {
    kill(-pid_, SIGTERM);
    const auto deadline = steady::now() + grace;
    while ((r = waitpid(pid_, &status, WNOHANG)) == 0 && steady::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (r == 0) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      how = "killed (did not end on SIGTERM)";
    } else {
      how = "ended on SIGTERM (" + describe_status(status) + ")";
    }
  }
  // What is still in the pipes is read, then the descriptors closed.
  std::error_code ignored;
  out_.cancel(ignored);
  err_.cancel(ignored);
  out_.close(ignored);
  err_.close(ignored);
  log_.event(name_, "driver " + how);
  pid_ = -1;
  return how;
}

}  // namespace mqttspec::conformance
