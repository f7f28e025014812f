// A decoded field list -> a validated request (RFC 9113 8.1-8.3 for HTTP/2; RFC 9114 4.1-4.3 for
// HTTP/3, which repeats the same rules). Anything malformed returns a reason and the stream is
// reset (HTTP/2 PROTOCOL_ERROR, HTTP/3 H3_MESSAGE_ERROR); nothing malformed reaches the owner.
#include "util/request_fields.hpp"

#include "ruvicorn/tokens.hpp"

namespace ruvicorn {

namespace {

// 8.2.1: names are tokens in lower case.
bool lower_case_token(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!is_tchar(c) || (c >= 'A' && c <= 'Z')) return false;
  return true;
}

// 8.2.1: no NUL, CR or LF; no leading or trailing whitespace.
bool valid_value(std::string_view value) {
  if (!field_value_safe(value)) return false;
  return value.empty() || (!is_ows(value.front()) && !is_ows(value.back()));
}

// 8.2.2: fields that only make sense on one HTTP/1.1 hop.
bool connection_specific(std::string_view name) {
  switch (name.size()) {
    case 7: return name == "upgrade";
    case 10: return name == "connection" || name == "keep-alive";
    case 16: return name == "proxy-connection";
    case 17: return name == "transfer-encoding";
    default: return false;
  }
}

// A regular field shared by requests and trailers: name, value and 8.2.2.
std::string_view check_regular(std::string_view name, std::string_view value) {
  if (!lower_case_token(name)) return "field name not a lower-case token";
  if (!valid_value(value)) return "invalid field value";
  if (connection_specific(name)) return "connection-specific field";
  if (name == "te" && !iequals(value, "trailers")) return "te other than trailers";
  return {};
}

struct Pseudo {
  std::string_view value;
  bool present = false;
};

}  // namespace

std::string_view validate_request(const std::vector<Header>& fields, bool connect_protocol,
                                  FieldRequest& out, std::vector<Header>& headers,
                                  std::string& arena) {
  headers.clear();
  Pseudo method, scheme, authority, path, protocol;
  bool regular_seen = false;
  std::size_t cookies = 0, cookie_at = 0, cookie_bytes = 0;
  Pseudo host;
  out.has_content_length = false;
  out.content_length = 0;
  out.expect_continue = false;

  for (const Header& field : fields) {
    const std::string_view name = field.name;
    const std::string_view value = field.value;
    if (!name.empty() && name[0] == ':') {
      // 8.3: pseudo-fields come first, once each, and only those defined for requests.
      if (regular_seen) return "pseudo-header field after a regular field";
      Pseudo* slot = nullptr;
      if (name == ":method") slot = &method;
      else if (name == ":path") slot = &path;
      else if (name == ":scheme") slot = &scheme;
      else if (name == ":authority") slot = &authority;
      else if (name == ":protocol") slot = &protocol;
      else return "unknown or response pseudo-header field";
      if (slot->present) return "duplicate pseudo-header field";
      if (!valid_value(value)) return "invalid pseudo-header value";
      slot->present = true;
      slot->value = value;
      continue;
    }
    regular_seen = true;
    if (std::string_view bad = check_regular(name, value); !bad.empty()) return bad;
    if (name == "cookie") {
      // 8.2.3: crumbs are joined below, at the place of the first one.
      if (cookies++ == 0) cookie_at = headers.size();
      cookie_bytes += value.size();
      continue;
    }
    if (name == "host") {
      if (host.present) return "more than one host field";
      host.present = true;
      host.value = value;
    } else if (name == "content-length") {
      std::uint64_t length = 0;
      if (!parse_decimal(value, length)) return "invalid content-length";
      if (out.has_content_length && length != out.content_length)
        return "conflicting content-length";
      out.has_content_length = true;
      out.content_length = length;
    } else if (name == "expect") {
      if (iequals(value, "100-continue")) out.expect_continue = true;
    }
    headers.push_back(field);
  }

  // 8.3.1 and 8.5 (CONNECT), RFC 8441 4 (extended CONNECT).
  if (!method.present) return "missing :method";
  if (!is_token(method.value)) return "invalid :method";
  if (method.value == "CONNECT") {
    if (protocol.present) {
      if (!connect_protocol) return ":protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL";
      if (!scheme.present || !path.present || !authority.present)
        return "extended CONNECT without :scheme, :path or :authority";
    } else {
      if (!authority.present || authority.value.empty()) return "CONNECT without :authority";
      if (scheme.present || path.present) return "CONNECT with :scheme or :path";
    }
  } else {
    if (protocol.present) return ":protocol on a request other than CONNECT";
    if (!scheme.present || !path.present) return "missing :scheme or :path";
  }
  if (scheme.present && !is_token(scheme.value)) return "invalid :scheme";
  if (path.present) {
    if (path.value.empty()) return "empty :path";
    if (path.value[0] != '/' && !(path.value == "*" && method.value == "OPTIONS"))
      return "invalid :path";
  }
  // 8.3.1: a host field must name what :authority names.
  if (authority.present && host.present && !iequals(authority.value, host.value))
    return "host and :authority differ";

  if (cookies == 1) {
    for (const Header& field : fields)
      if (field.name == "cookie") {
        headers.insert(headers.begin() + static_cast<std::ptrdiff_t>(cookie_at), field);
        break;
      }
  } else if (cookies > 1) {
    // The one copy a request may need: the crumbs joined with "; " in the per-request arena,
    // sized first so that the view taken afterwards stays valid.
    arena.clear();
    arena.reserve(cookie_bytes + 2 * (cookies - 1));
    for (const Header& field : fields) {
      if (field.name != "cookie") continue;
      if (!arena.empty()) arena.append("; ");
      arena.append(field.value.data(), field.value.size());
    }
    headers.insert(headers.begin() + static_cast<std::ptrdiff_t>(cookie_at),
                   Header{"cookie", arena});
  }
  if (!host.present && authority.present && !authority.value.empty())
    headers.insert(headers.begin(), Header{"host", authority.value});

  out.method = method.value;
  out.scheme = scheme.value;
  out.authority = authority.value;
  out.protocol = protocol.value;
  out.path = {};
  out.query = {};
  if (path.present) split_target(path.value, out.path, out.query);
  out.headers = headers.data();
  out.header_count = headers.size();
  return {};
}

std::string_view validate_trailers(const std::vector<Header>& fields) {
  for (const Header& field : fields) {
    // 8.1: trailers carry no pseudo-fields.
    if (!field.name.empty() && field.name[0] == ':') return "pseudo-header field in trailers";
    if (std::string_view bad = check_regular(field.name, field.value); !bad.empty()) return bad;
  }
  return {};
}

}  // namespace ruvicorn
