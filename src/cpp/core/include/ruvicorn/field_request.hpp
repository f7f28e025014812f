// A request head as HTTP/2 and HTTP/3 deliver it: the pseudo-header fields taken apart and the
// regular fields, validated by the same rules (RFC 9113 8.1-8.3; RFC 9114 4.1-4.3 repeat them).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ruvicorn/header.hpp"

namespace ruvicorn {

// All views are valid only during the event that carries the request: they point into the
// received frames or the field decoder's arena.
struct FieldRequest {
  std::string_view method;     // :method
  std::string_view scheme;     // :scheme ("" for CONNECT)
  std::string_view authority;  // :authority ("" when absent)
  std::string_view path;       // :path up to '?' (raw, not percent-decoded)
  std::string_view query;      // after '?', without it
  std::string_view protocol;   // :protocol of an extended CONNECT (RFC 8441, RFC 9220), else ""
  // Regular fields in received order: names lower-case (both versions require it), pseudo-fields
  // removed, cookie crumbs joined into one "cookie" field with "; " (RFC 9113 8.2.3, RFC 9114
  // 4.2.1), and a "host" field from :authority first when the request has no host field.
  const Header* headers = nullptr;
  std::size_t header_count = 0;
  bool has_content_length = false;
  std::uint64_t content_length = 0;
  bool expect_continue = false;  // "expect: 100-continue"
};

}  // namespace ruvicorn
