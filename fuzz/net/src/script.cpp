#include "script.hpp"

#include <algorithm>

namespace mqttspec::netfuzz {

std::string make_token(std::uint64_t random) {
  static constexpr char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string t = "nf";
  for (std::size_t i = 2; i < token_length; ++i) {
    t += alphabet[random % 36];
    random /= 36;
  }
  return t;
}

namespace {

void replace_all(codec::bytes& data, const std::string& from, const std::string& to) {
  if (from.empty() || from.size() != to.size()) return;
  for (auto at = data.find(from); at != codec::bytes::npos; at = data.find(from, at + to.size()))
    data.replace(at, from.size(), to);
}

}  // namespace

script with_token(const script& s, const std::string& token) {
  script out = s;
  out.token = token;
  for (auto& st : out.steps) replace_all(st.data, s.token, token);
  for (auto& st : out.cleanup) replace_all(st.data, s.token, token);
  return out;
}

std::size_t connection_count(const script& s) {
  std::size_t n = 0;
  for (const auto& st : s.steps) n = std::max<std::size_t>(n, st.conn + 1u);
  for (const auto& st : s.cleanup) n = std::max<std::size_t>(n, st.conn + 1u);
  return n;
}

script prefix(const script& s, std::size_t last) {
  script out = s;
  if (last + 1 < out.steps.size()) out.steps.resize(last + 1);
  else if (last >= out.steps.size() && last - out.steps.size() + 1 < out.cleanup.size())
    out.cleanup.resize(last - out.steps.size() + 1);
  return out;
}

}  // namespace mqttspec::netfuzz
