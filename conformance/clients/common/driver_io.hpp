#pragma once
// The client-driver contract's text side (docs/client-drivers.md), shared by the drivers of the C
// libraries: arguments, action lines (percent-encoded words, "-" for empty, key=value options),
// event lines on stdout (one writer at a time: the libraries call back from their own threads).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqttspec_driver {

struct arguments {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string client_id;
  bool v5 = true;
};

inline arguments parse_arguments(int argc, char** argv) {
  arguments a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view k = argv[i];
    if (k == "--host") a.host = argv[i + 1];
    else if (k == "--port") a.port = std::atoi(argv[i + 1]);
    else if (k == "--client-id") a.client_id = argv[i + 1];
    else if (k == "--version") a.v5 = std::string_view(argv[i + 1]) != "3.1.1";
  }
  return a;
}

inline std::mutex& out_mutex() {
  static std::mutex m;
  return m;
}

inline void emit(const std::string& line) {
  std::lock_guard lock(out_mutex());
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline std::string decode(std::string_view w) {
  std::string out;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (w[i] == '%' && i + 2 < w.size() && hex_digit(w[i + 1]) >= 0 && hex_digit(w[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(w[i + 1]) * 16 + hex_digit(w[i + 2]));
      i += 2;
    } else {
      out += w[i];
    }
  }
  return out;
}

inline std::string encode(std::string_view bytes) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    if (c > 0x20 && c < 0x7F && c != '%' && c != '=') out += static_cast<char>(c);
    else (out += '%') += std::string{digits[c >> 4], digits[c & 15]};
  }
  return out;
}

inline std::string hex(const void* data, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) out += std::string{digits[p[i] >> 4], digits[p[i] & 15]};
  return out;
}

struct action {
  std::string verb;
  std::vector<std::string> args;
  std::map<std::string, std::string, std::less<>> opts;
  bool has(std::string_view k) const { return opts.count(k) > 0; }
  std::string opt(std::string_view k, std::string fallback = {}) const {
    auto it = opts.find(k);
    return it == opts.end() ? fallback : it->second;
  }
  long num(std::string_view k, long fallback) const {
    auto it = opts.find(k);
    return it == opts.end() ? fallback : std::strtol(it->second.c_str(), nullptr, 10);
  }
};

inline std::size_t positional(std::string_view verb) {
  if (verb == "publish") return 3;
  if (verb == "subscribe") return 2;
  if (verb == "unsubscribe" || verb == "wait") return 1;
  return 0;
}

inline action parse_action(std::string_view line) {
  action a;
  std::size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && line[at] == ' ') ++at;
    if (at >= line.size()) break;
    auto end = line.find(' ', at);
    if (end == std::string_view::npos) end = line.size();
    const auto w = line.substr(at, end - at);
    const auto eq = w.find('=');
    if (a.verb.empty()) a.verb = std::string(w);
    else if (a.args.size() < positional(a.verb) || eq == std::string_view::npos) a.args.push_back(w == "-" ? std::string{} : decode(w));
    else a.opts[std::string(w.substr(0, eq))] = decode(w.substr(eq + 1));
    at = end;
  }
  return a;
}

// The next action line from stdin; nullopt at its end.
inline std::optional<std::string> read_line() {
  std::string line;
  int c;
  while ((c = std::getchar()) != EOF) {
    if (c == '\n') {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    line += static_cast<char>(c);
  }
  if (!line.empty()) return line;
  return std::nullopt;
}

}  // namespace mqttspec_driver
