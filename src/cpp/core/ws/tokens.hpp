// Small HTTP token helpers for the handshake (RFC 9110 5.6): case-insensitive compare, token
// check, and walking comma-separated lists.
#pragma once
#include "http1/head_syntax.hpp"
#include <string_view>

namespace ruvicorn {

inline char ws_lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }

inline bool ws_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ws_lower(a[i]) != ws_lower(b[i])) return false;
  }
  return true;
}

// tchar (RFC 9110 5.6.2): the one table the HTTP parser uses too.
inline bool ws_is_tchar(char c) { return http1::kTokenChar[static_cast<unsigned char>(c)]; }

inline bool ws_is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!ws_is_tchar(c)) return false;
  }
  return true;
}

inline bool ws_is_ows(char c) { return c == ' ' || c == '\t'; }

inline std::string_view ws_trim(std::string_view s) {
  while (!s.empty() && ws_is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws_is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Calls fn(element) for each non-empty element of a comma-separated list (empty elements are
// skipped, RFC 9110 5.6.1); stops and returns false as soon as fn does.
template <typename Fn>
bool ws_for_each_element(std::string_view list, Fn&& fn) {
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view item = ws_trim(list.substr(0, comma));
    if (!item.empty() && !fn(item)) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

// Does a comma-separated list hold `token` (case-insensitive)?
inline bool ws_list_has(std::string_view list, std::string_view token) {
  return !ws_for_each_element(list,
                              [&](std::string_view item) { return !ws_iequals(item, token); });
}

}  // namespace ruvicorn
