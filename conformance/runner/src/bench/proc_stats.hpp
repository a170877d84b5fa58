#pragma once
// What Linux's /proc tells about a local broker: CPU time (/proc/PID/stat, or one thread's
// /proc/self/task/TID/stat for the embedded broker), resident memory (/proc/PID/status), and
// which process listens on a local TCP port (/proc/net/tcp*, then the processes' fds).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mqttspec::bench {

// User + system CPU seconds of a process or a task; nullopt when unreadable.
std::optional<double> cpu_seconds(const std::string& stat_path);
std::optional<double> process_cpu_seconds(int pid);
// The sum over these tasks of this process (the embedded broker's threads).
std::optional<double> tasks_cpu_seconds(const std::vector<int>& tids);
// CPU seconds of the calling thread (the generator).
double thread_cpu_seconds();

// VmRSS of a process in bytes; nullopt when unreadable.
std::optional<std::uint64_t> resident_bytes(int pid);

// The thread ids of this process.
std::vector<int> own_tasks();

// The process (not this one) listening on TCP `port` on a local address; nullopt when none or
// not ours to see.
std::optional<int> pid_listening_on(std::uint16_t port);

// Whether a host name means this machine.
bool is_local_host(const std::string& host);

}  // namespace mqttspec::bench
