#include "proc_stats.hpp"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace mqttspec::bench {

namespace fs = std::filesystem;

std::optional<double> cpu_seconds(const std::string& stat_path) {
  std::ifstream in(stat_path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count from the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 1));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After comm: state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15).
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  if (!fields) return std::nullopt;
  static const long ticks = sysconf(_SC_CLK_TCK);
  return static_cast<double>(utime + stime) / static_cast<double>(ticks > 0 ? ticks : 100);
}

std::optional<double> process_cpu_seconds(int pid) { return cpu_seconds("/proc/" + std::to_string(pid) + "/stat"); }

std::optional<double> tasks_cpu_seconds(const std::vector<int>& tids) {
  double sum = 0;
  for (int t : tids) {
    auto s = cpu_seconds("/proc/self/task/" + std::to_string(t) + "/stat");
    if (!s) return std::nullopt;
    sum += *s;
  }
  return sum;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::optional<std::uint64_t> resident_bytes(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream v(line.substr(6));
      std::uint64_t kib = 0;
      if (v >> kib) return kib * 1024;
    }
  }
  return std::nullopt;
}

std::vector<int> own_tasks() {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/self/task", ec)) {
    try {
      out.push_back(std::stoi(e.path().filename().string()));
    } catch (const std::exception&) {
    }
  }
  return out;
}

std::optional<int> pid_listening_on(std::uint16_t port) {
  // Sockets in state 0A (LISTEN) on the port: their inodes.
  std::vector<std::string> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      if (!(f >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode)) continue;
      const auto colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;
      if (std::stoul(local.substr(colon + 1), nullptr, 16) == port) inodes.push_back("socket:[" + inode + "]");
    }
  }
  if (inodes.empty()) return std::nullopt;
  const int self = static_cast<int>(getpid());
  std::error_code ec;
  for (const auto& p : fs::directory_iterator("/proc", ec)) {
    const auto name = p.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::stoi(name);
    if (pid == self) continue;
    std::error_code fec;
    for (const auto& fd : fs::directory_iterator(p.path() / "fd", fec)) {
      std::error_code lec;
      const auto target = fs::read_symlink(fd.path(), lec).string();
      if (lec) continue;
      for (const auto& i : inodes)
        if (target == i) return pid;
    }
  }
  return std::nullopt;
}

bool is_local_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

}  // namespace mqttspec::bench
