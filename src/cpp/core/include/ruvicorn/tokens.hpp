// HTTP syntax helpers shared by every protocol version (RFC 9110 5): token characters,
// case-insensitive comparison, comma-separated lists, field values. The one copy of each.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ruvicorn {

extern const bool kTokenChar[256];  // tchar (RFC 9110 5.6.2)

inline bool is_tchar(char c) { return kTokenChar[static_cast<unsigned char>(c)]; }

inline bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// ASCII case-insensitive equality; fastest when `b` is a lower-case literal.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

inline bool is_ows(char c) { return c == ' ' || c == '\t'; }

inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Calls fn(element) for each element of a comma-separated list (RFC 9110 5.6.1), trimmed, empty
// elements skipped. Stops and returns false as soon as fn does.
template <typename Fn>
bool for_each_element(std::string_view list, Fn&& fn) {
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view item = trim_ows(list.substr(0, comma));
    if (!item.empty() && !fn(item)) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

// Does a comma-separated list hold `token` (case-insensitive)?
inline bool list_has(std::string_view list, std::string_view token) {
  return !for_each_element(list, [&](std::string_view item) { return !iequals(item, token); });
}

// 1*DIGIT without sign, spaces or overflow (Content-Length, RFC 9110 8.6).
inline bool parse_decimal(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;  // 19 digits always fit in 64 bits
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = v;
  return true;
}

// Splits a request target (origin-form, or what remains of an absolute-form) or an HTTP/2 :path at
// its first '?' into the raw path and the query without the '?'. An empty path becomes "/".
inline void split_target(std::string_view target, std::string_view& path, std::string_view& query) {
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) {
    path = target;
    query = {};
  } else {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  if (path.empty()) path = "/";
}

// field-value bytes a receiver accepts: HTAB, SP, VCHAR, obs-text (RFC 9110 5.5).
inline bool is_field_vchar(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

// What a sender must never emit in a field value: CR, LF or NUL (RFC 9110 5.5; RFC 9113 8.2.1).
inline bool field_value_safe(std::string_view v) {
  for (unsigned char c : v)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

}  // namespace ruvicorn
