#include "mqttspec/conformance/verdict.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace mqttspec::conformance {

std::string_view to_string(verdict v) noexcept {
  switch (v) {
    case verdict::pass: return "pass";
    case verdict::fail: return "fail";
    case verdict::non_strict: return "non-strict";
    case verdict::informational: return "informational";
    case verdict::unsupported: return "unsupported";
    case verdict::error: return "error";
  }
  return "?";
}

verdict verdict_for_failure(level l) noexcept {
  switch (l) {
    case level::must: return verdict::fail;
    case level::should: return verdict::non_strict;
    case level::may: return verdict::informational;
  }
  return verdict::fail;
}

bool is_failure(verdict v, bool strict) noexcept {
  return v == verdict::fail || v == verdict::error || (strict && v == verdict::non_strict);
}

std::string to_text(const wire_entry& e) {
  char t[32];
  std::snprintf(t, sizeof t, "%9.3f ms", e.t_ms);
  std::string arrow = e.direction == "send" ? " -> " : e.direction == "recv" ? " <- " : " .. ";
  std::string s = std::string(t) + "  " + e.client + arrow;
  if (!e.packet.is_null()) s += e.packet.dump();
  // Appended piece by piece: `"literal" + std::string&&` draws a false -Wrestrict from GCC 12.
  if (!e.hex.empty()) {
    if (!e.packet.is_null()) s += ' ';
    s += "hex ";
    s += e.hex;
  }
  if (!e.note.empty()) {
    if (s.back() != ' ') s += "  ";
    s += '[';
    s += e.note;
    s += ']';
  }
  return s;
}

std::string wire_log_text(const scenario_result& r) {
  std::string s;
  for (const auto& e : r.log) s += to_text(e) + "\n";
  return s;
}

std::string failed_statement(const scenario_result& r) {
  if (!r.broken.empty()) return r.broken;
  return r.sc && !r.sc->statements.empty() ? r.sc->statements.front() : std::string{};
}

namespace {

bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool base36(char c) { return digit(c) || (c >= 'a' && c <= 'z'); }
bool hex(char c) { return digit(c) || (c >= 'a' && c <= 'f'); }

// A left-to-right rewrite of an observation; each rule reads at the cursor and either consumes
// what it recognises (writing a placeholder) or leaves the cursor alone.
class normalizer {
 public:
  explicit normalizer(std::string_view s) : s_(s) {}

  std::string run() {
    while (i_ < s_.size()) {
      if (quoted_after("client_id=\"", "<client-id>") || quoted_after("Assigned Client Identifier=\"", "<client-id>") ||
          payload() || prefix() || packet_id() || number_before(" ms") || digits_after("at byte ", "<n>") ||
          hex_run())
        continue;
      out_ += s_[i_++];
    }
    return std::move(out_);
  }

 private:
  bool at(std::string_view lit) const { return s_.substr(i_, lit.size()) == lit; }
  bool word_start() const { return i_ == 0 || !alnum(s_[i_ - 1]); }
  std::size_t span(std::size_t from, bool (*in)(char)) const {
    std::size_t j = from;
    while (j < s_.size() && in(s_[j])) ++j;
    return j - from;
  }

  // key="text" (codec quoting: backslash escapes) -> key"<placeholder>".
  bool quoted_after(std::string_view key, std::string_view placeholder) {
    if (!at(key)) return false;
    out_ += key;
    i_ += key.size();
    skip_quoted_rest();
    out_ += placeholder;
    out_ += '"';
    return true;
  }
  void skip_quoted_rest() {  // the cursor is just after the opening quote
    while (i_ < s_.size() && s_[i_] != '"') i_ += s_[i_] == '\\' ? 2 : 1;
    i_ = std::min(i_ + 1, s_.size());
  }

  // payload=N bytes, optionally followed by "text" or [hex ...] (codec::to_string of a PUBLISH or will).
  bool payload() {
    if (!at("payload=") || span(i_ + 8, digit) == 0) return false;
    i_ += 8;
    i_ += span(i_, digit);
    if (at(" bytes")) i_ += 6;
    if (at(" \"")) {
      i_ += 2;
      skip_quoted_rest();
    } else if (at(" [")) {
      const auto end = s_.find(']', i_);
      i_ = end == std::string_view::npos ? s_.size() : end + 1;
    }
    out_ += "payload=<payload>";
    return true;
  }

  // The run's topic prefix: "ms", the 4-character run token and the 3-digit scenario index
  // (make_prefix in engine.cpp); it also starts the client ids the runner makes.
  bool prefix() {
    if (!word_start() || !at("ms") || span(i_ + 2, base36) < 7) return false;
    i_ += 9;
    out_ += "<prefix>";
    return true;
  }

  // id=17, with what a check of it expected: "id=17, expected 3", "id-not: got 17, expected none of 3 4".
  bool packet_id() {
    if (!word_start()) return false;
    for (std::string_view key : {"id=", "id-not: got "}) {
      if (!at(key) || span(i_ + key.size(), digit) == 0) continue;
      i_ += key.size();
      i_ += span(i_, digit);
      out_ += key;
      out_ += "<id>";
      for (std::string_view then : {", expected none of ", ", expected "}) {
        if (!at(then) || span(i_ + then.size(), digit) == 0) continue;
        i_ += then.size();
        i_ += span(i_, [](char c) { return digit(c) || c == ' ' || c == '|'; });
        out_ += then;
        out_ += "<id>";
        break;
      }
      return true;
    }
    return false;
  }

  // "2000 ms" -> "<n> ms": timeouts and measured delays.
  bool number_before(std::string_view unit) {
    if (!word_start()) return false;
    const auto n = span(i_, digit);
    if (n == 0 || s_.substr(i_ + n, unit.size()) != unit) return false;
    const auto after = i_ + n + unit.size();
    if (after < s_.size() && alnum(s_[after])) return false;
    i_ += n;
    out_ += "<n>";
    return true;
  }

  bool digits_after(std::string_view key, std::string_view placeholder) {
    if (!at(key) || span(i_ + key.size(), digit) == 0) return false;
    i_ += key.size();
    i_ += span(i_, digit);
    out_ += key;
    out_ += placeholder;
    return true;
  }

  // Raw bytes as one hex word ("payload 68656c6c6f, expected ..."): 4 bytes or more.
  bool hex_run() {
    if (!word_start()) return false;
    const auto n = span(i_, hex);
    if (n < 8 || n % 2 || (i_ + n < s_.size() && alnum(s_[i_ + n]))) return false;
    i_ += n;
    out_ += "<hex>";
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::string out_;
};

}  // namespace

std::string normalize_observation(std::string_view observed) { return normalizer(observed).run(); }

}  // namespace mqttspec::conformance
