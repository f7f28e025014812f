#include "http1/head_syntax.hpp"

#include <cstring>

namespace ruvicorn::http1 {

namespace {

// request-target bytes: visible ASCII (RFC 3986 has no raw non-ASCII; clients percent-encode).
inline bool target_char(unsigned char c) { return c > 0x20 && c < 0x7f; }

HttpError bad(std::string_view why) { return HttpError{400, why, true}; }

}  // namespace

bool is_known_method(std::string_view m) {
  // llhttp 9 HTTP_METHOD_MAP (PRI and the RTSP-only methods excluded: llhttp rejects them with an
  // HTTP version).
  switch (m.size()) {
    case 3:
      return m == "GET" || m == "PUT" || m == "ACL";
    case 4:
      return m == "POST" || m == "HEAD" || m == "COPY" || m == "LOCK" || m == "MOVE" ||
             m == "BIND" || m == "LINK";
    case 5:
      return m == "PATCH" || m == "TRACE" || m == "MKCOL" || m == "MERGE" || m == "PURGE" ||
             m == "QUERY";
    case 6:
      return m == "DELETE" || m == "SEARCH" || m == "UNLOCK" || m == "REBIND" || m == "UNBIND" ||
             m == "REPORT" || m == "NOTIFY" || m == "UNLINK" || m == "SOURCE";
    case 7:
      return m == "OPTIONS" || m == "CONNECT";
    case 8:
      return m == "PROPFIND" || m == "CHECKOUT" || m == "M-SEARCH";
    case 9:
      return m == "PROPPATCH" || m == "SUBSCRIBE";
    case 10:
      return m == "MKACTIVITY" || m == "MKCALENDAR";
    case 11:
      return m == "UNSUBSCRIBE";
    default:
      return false;
  }
}

ParseStatus HeadScan::scan(std::string_view data, HttpError& error) {
  // Every decision below depends only on bytes inside a window that is entirely present, so the
  // outcome is the same however the head was split across reads (and errors come as early as the
  // limits allow: a slow client cannot grow a line or the head past them).
  const char* p = data.data();
  const std::size_t n = data.size();
  const std::size_t head_cap = limits_.max_head_size;
  if (pos_ > n) reset();  // not the head we were scanning: start over
  for (;;) {
    if (lines_ > limits_.max_header_count) {
      // Only the blank line may follow the last allowed header field.
      if (n < line_start_ + 1 || (p[line_start_] == '\r' && n < line_start_ + 2))
        return ParseStatus::kIncomplete;
      if (p[line_start_] != '\r' || p[line_start_ + 1] != '\n') {
        error = HttpError{431, "too many header fields", true};
        return ParseStatus::kError;
      }
    }
    // A line of at most `limit` bytes ends with CRLF within limit + 2 bytes; the head ends within
    // max_head_size bytes.
    const std::size_t limit = lines_ == 0 ? limits_.max_request_line : limits_.max_header_field_size;
    const bool line_bounded = limit != 0 && limit < head_cap && line_start_ + limit + 2 <= head_cap;
    const std::size_t window = line_bounded ? line_start_ + limit + 2 : head_cap;
    const std::size_t to = n < window ? n : window;
    const void* hit = pos_ < to ? std::memchr(p + pos_, '\n', to - pos_) : nullptr;
    if (hit == nullptr) {
      if (to > pos_) pos_ = to;
      if (n < window) return ParseStatus::kIncomplete;
      if (!line_bounded) error = HttpError{431, "request head too large", true};
      else if (lines_ == 0) error = HttpError{414, "request line too long", true};
      else error = HttpError{431, "header field too large", true};
      return ParseStatus::kError;
    }
    const std::size_t lf = static_cast<std::size_t>(static_cast<const char*>(hit) - p);
    if (lf == line_start_ || p[lf - 1] != '\r') {
      error = bad("bare LF line ending (CRLF required)");
      return ParseStatus::kError;
    }
    const std::size_t len = lf - 1 - line_start_;
    if (lines_ == 0) {
      if (len == 0) {
        error = bad("empty request line");
        return ParseStatus::kError;
      }
      request_line_len_ = len;
    } else if (len == 0) {
      pos_ = lf + 1;
      return ParseStatus::kComplete;
    }
    ++lines_;
    line_start_ = pos_ = lf + 1;
  }
}

bool head_conforms(std::string_view data, const RequestHead& head, const Limits& limits) {
  const char* p = data.data();
  const std::size_t end = head.head_length;
  if (end > data.size() || end > limits.max_head_size) return false;
  if (head.header_count > limits.max_header_count) return false;
  // Request line: exactly "M SP T SP HTTP/1.x CRLF" from the first byte.
  if (head.method.data() != p || head.method.empty()) return false;
  if (head.target.data() != p + head.method.size() + 1 || head.target.empty()) return false;
  const std::size_t line = head.method.size() + head.target.size() + 10;  // without CRLF
  if (line + 2 > end || p[line] != '\r' || p[line + 1] != '\n') return false;
  if (limits.max_request_line != 0 && line > limits.max_request_line) return false;
  if (head.http_minor != 0 && head.http_minor != 1) return false;
  if (!is_known_method(head.method)) return false;
  for (unsigned char c : head.target)
    if (!target_char(c)) return false;
  // Header lines follow one another, each ends in CRLF within its limit; then the final CRLF.
  std::size_t start = line + 2;
  for (std::size_t i = 0; i <= head.header_count; ++i) {
    if (i < head.header_count && head.headers[i].name.data() != p + start) return false;
    const std::size_t next = i + 1 < head.header_count
                                 ? static_cast<std::size_t>(head.headers[i + 1].name.data() - p)
                                 : end - 2;
    if (i == head.header_count) return start == end - 2 && p[start] == '\r' && p[start + 1] == '\n';
    if (head.headers[i].name.empty() || next < start + 3 || next > end - 2) return false;
    if (p[next - 2] != '\r' || p[next - 1] != '\n') return false;
    if (limits.max_header_field_size != 0 && next - 2 - start > limits.max_header_field_size)
      return false;
    start = next;
  }
  return false;
}

bool parse_head_strict(std::string_view data, Header* storage, std::size_t capacity,
                       RequestHead& head, HttpError& error) {
  const char* p = data.data();
  const std::size_t n = data.size();
  std::size_t i = 0;
  auto crlf_at = [&](std::size_t k) { return k + 1 < n && p[k] == '\r' && p[k + 1] == '\n'; };

  // method
  while (i < n && kTokenChar[static_cast<unsigned char>(p[i])]) ++i;
  if (i == n) {
    error = bad("incomplete request line");
    return false;
  }
  if (p[i] != ' ' || i == 0) {
    error = bad(i == 0 ? "malformed request line" : "invalid character in method");
    return false;
  }
  head.method = std::string_view(p, i);
  ++i;
  // target
  std::size_t t = i;
  while (i < n && target_char(static_cast<unsigned char>(p[i]))) ++i;
  if (i == t) {
    error = bad(i < n && p[i] == ' ' ? "more than one space in request line"
                                     : "missing request target");
    return false;
  }
  if (i == n || p[i] != ' ') {
    error = bad(i < n && (p[i] == '\r' || p[i] == '\n') ? "missing HTTP version"
                                                        : "invalid character in request target");
    return false;
  }
  head.target = std::string_view(p + t, i - t);
  ++i;
  // version
  auto digit = [&](std::size_t k) { return k < n && p[k] >= '0' && p[k] <= '9'; };
  if (n - i < 8 || std::memcmp(p + i, "HTTP/", 5) != 0 || !digit(i + 5) || p[i + 6] != '.' ||
      !digit(i + 7) || !crlf_at(i + 8)) {
    error = bad(i < n && p[i] == ' ' ? "more than one space in request line"
                                     : "malformed HTTP version");
    return false;
  }
  if (p[i + 5] != '1' || (p[i + 7] != '0' && p[i + 7] != '1')) {
    error = HttpError{505, "only HTTP/1.0 and HTTP/1.1 are supported", true};
    return false;
  }
  head.http_minor = p[i + 7] - '0';
  if (!is_known_method(head.method)) {
    error = HttpError{501, "unknown method", true};
    return false;
  }
  i += 10;

  // header lines
  std::size_t count = 0;
  for (;;) {
    if (i >= n) {
      error = bad("incomplete request head");
      return false;
    }
    if (crlf_at(i)) {
      i += 2;
      break;
    }
    if (p[i] == ' ' || p[i] == '\t') {
      error = bad("obs-fold (header line folding) is not allowed");
      return false;
    }
    std::size_t name_start = i;
    while (i < n && kTokenChar[static_cast<unsigned char>(p[i])]) ++i;
    if (i == n) {
      error = bad("incomplete request head");
      return false;
    }
    if (p[i] != ':') {
      if (p[i] == ' ' || p[i] == '\t') {
        std::size_t k = i;
        while (k < n && (p[k] == ' ' || p[k] == '\t')) ++k;
        error = bad(k < n && p[k] == ':' ? "whitespace before colon in header name"
                                         : "invalid character in header name");
      } else if (p[i] == '\r' || p[i] == '\n') {
        error = bad("header line without colon");
      } else {
        error = bad("invalid character in header name");
      }
      return false;
    }
    if (i == name_start) {
      error = bad("empty header name");
      return false;
    }
    std::string_view name(p + name_start, i - name_start);
    ++i;
    while (i < n && (p[i] == ' ' || p[i] == '\t')) ++i;
    std::size_t v = i;
    while (i < n && is_field_vchar(static_cast<unsigned char>(p[i]))) ++i;
    if (i == n) {
      error = bad("incomplete request head");
      return false;
    }
    if (!crlf_at(i)) {
      error = bad(p[i] == '\r' ? "bare CR in header value" : "invalid character in header value");
      return false;
    }
    std::size_t e = i;
    while (e > v && (p[e - 1] == ' ' || p[e - 1] == '\t')) --e;
    if (count == capacity) {
      error = HttpError{431, "too many header fields", true};
      return false;
    }
    storage[count++] = Header{name, std::string_view(p + v, e - v)};
    i += 2;
  }
  head.headers = storage;
  head.header_count = count;
  head.head_length = i;
  return true;
}

}  // namespace ruvicorn::http1
