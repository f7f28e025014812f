// What every protocol version's response writer shares: the Date text, the built-in Server/Date
// fields and which configured or application fields replace them, the statuses that carry no
// content, and the text body of the server's own error responses.
#pragma once
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ruvicorn/error.hpp"
#include "ruvicorn/response.hpp"
#include "ruvicorn/tokens.hpp"

namespace ruvicorn {

// The IMF-fixdate of the current second (RFC 9110 6.6.1); one DateCache per thread.
std::string_view http_date_now();

// 1xx, 204 and 304 responses never carry content (RFC 9110 6.4.1).
inline bool status_forbids_body(int status) {
  return status < 200 || status == 204 || status == 304;
}

// Calls fn(name, value) for the built-in Server, Date and Alt-Svc fields (lower-case names) that
// neither the configured default headers (`defaults`) nor the application (`app`) replaced.
template <typename Fn>
void for_each_builtin_field(const ResponseConfig& config, BuiltinOverrides defaults,
                            BuiltinOverrides app, Fn&& fn) {
  if (config.server_header && !defaults.server && !app.server) fn("server", config.server_name);
  if (config.date_header && !defaults.date && !app.date) fn("date", http_date_now());
  if (!config.alt_svc.empty() && !defaults.alt_svc && !app.alt_svc) fn("alt-svc", config.alt_svc);
}

// The decimal digits of `v`, written into `buf`.
inline std::string_view decimal(std::uint64_t v, char (&buf)[24]) {
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string_view(buf, static_cast<std::size_t>(r.ptr - buf));
}

// The text body of an error response: "Bad Request: <detail>".
std::size_t error_body_size(const HttpError& error);
void append_error_body(const HttpError& error, std::string& out);

}  // namespace ruvicorn
